/*
 * nacre: internal structures of the Raft core, shared by its .c files
 * and the white-box unit tests.
 */

#ifndef _NC_RAFT_INT_H_INCLUDED_
#define _NC_RAFT_INT_H_INCLUDED_


#include <stdlib.h>
#include <string.h>

#include "nc_raft.h"


#define NC_RAFT_PR_PROBE       0
#define NC_RAFT_PR_REPLICATE   1
#define NC_RAFT_PR_SNAPSHOT    2

#define NC_RAFT_BLK_SIZE       (64 * 1024)
#define NC_RAFT_BLK_CACHE      16
#define NC_RAFT_MEM_WINDOW     4096


typedef struct nc_raft_blk_s  nc_raft_blk_t;

struct nc_raft_blk_s {
    nc_raft_blk_t          *next;
    size_t                  size;
    size_t                  used;
    size_t                  refs;
    unsigned char           data[];
};


typedef struct {
    nc_raft_entry_t         e;
    nc_raft_blk_t          *blk;
} nc_raft_ment_t;


typedef struct {
    void                   *data;
    size_t                  n;
    size_t                  cap;
} nc_raft_vec_t;


typedef struct {
    uint64_t                id;
    uint64_t                match;
    uint64_t                next;
    int                     state;
    unsigned                probe_sent:1;
    unsigned                recent_active:1;
    unsigned                learner:1;
    int                     vote;          /* 0 none, 1 granted, -1 no */
    uint64_t                hb_ack;
    uint64_t                snap_index;
    uint64_t                snap_offset;
    unsigned                snap_wait;
    uint64_t               *infl;
    unsigned                infl_start;
    unsigned                infl_count;
} nc_raft_pr_t;


typedef struct {
    nc_raft_msg_t           m;
    size_t                  off;
    int                     after;
} nc_raft_imsg_t;


typedef struct {
    uint64_t                ctx;
    uint64_t                index;
    uint64_t                seq;
    uint64_t                from;
} nc_raft_read_t;


struct nc_raft_s {
    nc_raft_config_t        cf;
    nc_raft_allocator_t     al;
    nc_raft_rand_t          rnd;
    unsigned                bugs;

    uint64_t                id;
    uint64_t                term;
    uint64_t                vote;
    uint64_t                lead;
    int                     role;

    /* in-memory log: [mem_first, last], entries above stable unstable */
    nc_raft_ment_t         *ring;
    size_t                  cap;
    size_t                  head;
    uint64_t                mem_first;
    uint64_t                last;
    uint64_t                stable;
    uint64_t                commit;
    uint64_t                applied;
    uint64_t                compacted;    /* last nc_raft_compacted() */

    nc_raft_blk_t          *blk;
    nc_raft_blk_t          *blk_cache;
    nc_raft_blk_t          *blk_dead;
    unsigned                n_cache;

    /* received snapshot, to hand out in the next ready */
    nc_raft_snapshot_t      psnap;
    unsigned char          *psnap_buf;
    unsigned                has_psnap:1;

    /* incoming chunks */
    unsigned char          *in_buf;
    uint64_t                in_index;
    uint64_t                in_term;
    uint64_t                in_total;
    uint64_t                in_got;
    nc_raft_conf_t          in_conf;

    nc_raft_conf_t          conf;
    nc_raft_pr_t            prs[NC_RAFT_MAX_MEMBERS];
    unsigned                n_prs;
    uint64_t               *infl_pool[NC_RAFT_MAX_MEMBERS];

    unsigned                election_elapsed;
    unsigned                heartbeat_elapsed;
    unsigned                timeout;
    uint64_t                transferee;
    uint64_t                pending_conf;

    uint64_t                hb_seq;
    nc_raft_vec_t           readq;         /* nc_raft_read_t */
    nc_raft_vec_t           reads;         /* nc_raft_read_state_t */

    nc_raft_vec_t           msgs;          /* nc_raft_imsg_t */
    nc_raft_vec_t           msg_ents;      /* nc_raft_entry_t */
    nc_raft_vec_t           out_now;
    nc_raft_vec_t           out_after;
    nc_raft_vec_t           rd_ents;
    nc_raft_vec_t           rd_committed;

    nc_raft_hard_state_t    prev_hs;
    nc_raft_hard_state_t    rd_hs;
    uint64_t                rd_stable;
    uint64_t                rd_applied;
    unsigned                rd_snap:1;
    unsigned                in_ready:1;
};


#endif /* _NC_RAFT_INT_H_INCLUDED_ */
