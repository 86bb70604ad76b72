/*
 * nacre: the Raft core, a pure state machine in the style of etcd's raft.
 *
 * No I/O, no clock, no threads, no global mutable state: the caller feeds
 * ticks, messages and proposals and receives a ready batch which it
 * acknowledges with nc_raft_advance().  Randomness comes from a PRNG seeded
 * through the configuration, so a run is fully determined by its inputs.
 *
 * Only standard headers are used so that the simulator, the fuzzers and the
 * bench can build the core alone.
 */

#ifndef _NC_RAFT_H_INCLUDED_
#define _NC_RAFT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* the values match NC_OK ... NC_DECLINED of nc_core.h */
#define NC_RAFT_OK                 0
#define NC_RAFT_ERROR             -1
#define NC_RAFT_AGAIN             -2
#define NC_RAFT_BUSY              -3
#define NC_RAFT_DECLINED          -5

#define NC_RAFT_NONE               0          /* no node id */
#define NC_RAFT_MAX_MEMBERS        16
#define NC_RAFT_MAX_ENTRY_SIZE     (12u * 1024 * 1024)
#define NC_RAFT_MAX_MSG_ENTRIES    65536
#define NC_RAFT_MAX_CHUNK_SIZE     (16u * 1024 * 1024)
#define NC_RAFT_CODEC_VERSION      1

/* entry types */
#define NC_RAFT_ENTRY_NORMAL       1
#define NC_RAFT_ENTRY_NOOP         2
#define NC_RAFT_ENTRY_CONF         3

/* message types */
#define NC_RAFT_MSG_APP            1
#define NC_RAFT_MSG_APP_RESP       2
#define NC_RAFT_MSG_VOTE           3
#define NC_RAFT_MSG_VOTE_RESP      4
#define NC_RAFT_MSG_PREVOTE        5
#define NC_RAFT_MSG_PREVOTE_RESP   6
#define NC_RAFT_MSG_HEARTBEAT      7
#define NC_RAFT_MSG_HEARTBEAT_RESP 8
#define NC_RAFT_MSG_SNAP           9
#define NC_RAFT_MSG_SNAP_RESP      10
#define NC_RAFT_MSG_TIMEOUT_NOW    11
#define NC_RAFT_MSG_READ_INDEX     12
#define NC_RAFT_MSG_READ_INDEX_RESP 13
#define NC_RAFT_MSG_MAX            13

/* message flags */
#define NC_RAFT_FLAG_REJECT        0x01
#define NC_RAFT_FLAG_TRANSFER      0x02       /* vote caused by TimeoutNow */
#define NC_RAFT_FLAG_DONE          0x04       /* last snapshot chunk */

/* roles */
#define NC_RAFT_FOLLOWER           0
#define NC_RAFT_PRE_CANDIDATE      1
#define NC_RAFT_CANDIDATE          2
#define NC_RAFT_LEADER             3

/* membership change operations */
#define NC_RAFT_CONF_ADD_LEARNER   1
#define NC_RAFT_CONF_PROMOTE       2
#define NC_RAFT_CONF_REMOVE        3

/*
 * TEST ONLY.  Planted bugs for the simulator's self-test: production code
 * must leave nc_raft_config_t.test_bugs at 0.  Each switch reintroduces a
 * bug that real Raft implementations shipped.
 */
#define NC_RAFT_BUG_COMMIT_PREV_TERM     0x01 /* count replicas of old terms */
#define NC_RAFT_BUG_VOTE_NOT_PERSISTED   0x02 /* grant sent before persist */
#define NC_RAFT_BUG_STALE_TERM_APPEND    0x04 /* accept appends of old terms */
#define NC_RAFT_BUG_CONF_AT_APPEND       0x08 /* apply conf when appended */
#define NC_RAFT_BUG_READ_NO_QUORUM       0x10 /* ReadIndex without heartbeat */
#define NC_RAFT_BUG_COMMIT_PAST_NEW      0x20 /* follower commit past match */


typedef struct {
    uint64_t                term;
    uint64_t                index;
    uint64_t                client_id;    /* 0: no session */
    uint64_t                seq;
    uint32_t                type;
    uint32_t                len;
    const unsigned char    *data;
} nc_raft_entry_t;


typedef struct {
    uint32_t                n_voters;
    uint32_t                n_learners;
    uint64_t                voters[NC_RAFT_MAX_MEMBERS];
    uint64_t                learners[NC_RAFT_MAX_MEMBERS];
} nc_raft_conf_t;


typedef struct {
    uint64_t                index;
    uint64_t                term;
    nc_raft_conf_t          conf;
    size_t                  len;
    const unsigned char    *data;         /* the state machine image */
} nc_raft_snapshot_t;


typedef struct {
    uint64_t                term;
    uint64_t                vote;
    uint64_t                commit;
} nc_raft_hard_state_t;


typedef struct {
    uint32_t                type;
    uint32_t                flags;
    uint64_t                from;
    uint64_t                to;
    uint64_t                term;
    uint64_t                log_term;     /* prev / last log term */
    uint64_t                index;        /* prev / last / match index */
    uint64_t                commit;
    uint64_t                ctx;          /* heartbeat seq, read ctx */
    uint64_t                hint;         /* reject hint index */
    uint64_t                hint_term;    /* term at the hint index */
    uint32_t                n_entries;
    nc_raft_entry_t        *entries;
    /* NC_RAFT_MSG_SNAP */
    nc_raft_snapshot_t      snap;         /* meta; data/len is the chunk */
    uint64_t                snap_offset;
    uint64_t                snap_total;
} nc_raft_msg_t;


typedef struct {
    uint64_t                ctx;
    uint64_t                index;
} nc_raft_read_state_t;


/*
 * Storage of the stable log, provided by the caller: entries and the
 * snapshot it has persisted.  Returned entry data must stay valid until the
 * next nc_raft_advance().  NC_RAFT_AGAIN from snapshot(): not ready yet.
 * term() and entries() return NC_RAFT_DECLINED for a compacted index;
 * term(first_index - 1) gives the term of the snapshot or compaction point.
 */
typedef struct {
    void       *ctx;
    int       (*entries)(void *ctx, uint64_t lo, uint64_t hi,
                         nc_raft_entry_t *out, size_t *n, size_t max_bytes);
    int       (*term)(void *ctx, uint64_t index, uint64_t *term);
    uint64_t  (*first_index)(void *ctx);
    uint64_t  (*last_index)(void *ctx);
    int       (*snapshot)(void *ctx, nc_raft_snapshot_t *snap);
} nc_raft_storage_t;


typedef struct {
    void     *(*alloc)(void *ctx, size_t size);
    void     *(*realloc)(void *ctx, void *p, size_t size);
    void      (*free)(void *ctx, void *p);
    void       *ctx;
} nc_raft_allocator_t;


typedef struct {
    uint64_t                id;
    unsigned                election_tick;      /* default 10 */
    unsigned                heartbeat_tick;     /* default 1 */
    unsigned                max_inflight;       /* messages, default 256 */
    size_t                  max_msg_bytes;      /* default 1 MiB */
    size_t                  max_uncommitted;    /* entries, default 1<<20 */
    size_t                  snap_chunk;         /* default 1 MiB */
    uint64_t                snapshot_entries;   /* want_snapshot threshold */
    unsigned                promote_lag;        /* learner catch-up, 16 */
    unsigned                pre_vote:1;
    unsigned                check_quorum:1;
    uint64_t                seed;
    nc_raft_storage_t       storage;
    nc_raft_hard_state_t    hs;                 /* persisted hard state */
    nc_raft_conf_t          conf;               /* used if no snapshot */
    uint64_t                applied;            /* already applied index */
    const nc_raft_allocator_t  *allocator;      /* NULL: malloc */
    unsigned                test_bugs;          /* TEST ONLY, see above */
} nc_raft_config_t;


typedef struct {
    unsigned                hs_changed:1;
    unsigned                want_snapshot:1;    /* compact the log; not
                                                   asked while a follower
                                                   downloads our snapshot */
    nc_raft_hard_state_t    hs;
    int                     role;
    uint64_t                lead;

    /* append to stable storage, truncating from entries[0].index */
    nc_raft_entry_t        *entries;
    size_t                  n_entries;

    /* persist and restore the state machine from it, then advance */
    nc_raft_snapshot_t     *snapshot;

    /* may be sent before the persist */
    nc_raft_msg_t          *msgs;
    size_t                  n_msgs;

    /* must be sent only once everything above is durable */
    nc_raft_msg_t          *msgs_after;
    size_t                  n_msgs_after;

    /* to apply, in order, after the persist */
    nc_raft_entry_t        *committed;
    size_t                  n_committed;

    nc_raft_read_state_t   *reads;
    size_t                  n_reads;
} nc_raft_ready_t;


typedef struct nc_raft_s  nc_raft_t;


int nc_raft_create(const nc_raft_config_t *cf, nc_raft_t **rp);
void nc_raft_destroy(nc_raft_t *r);

void nc_raft_tick(nc_raft_t *r);
int nc_raft_step(nc_raft_t *r, const nc_raft_msg_t *m);
int nc_raft_campaign(nc_raft_t *r);
int nc_raft_propose(nc_raft_t *r, const nc_raft_entry_t *ents, size_t n,
    uint64_t *last_index);
int nc_raft_propose_conf_change(nc_raft_t *r, int op, uint64_t node,
    uint64_t *index);
int nc_raft_read_index(nc_raft_t *r, uint64_t ctx);
int nc_raft_transfer_leader(nc_raft_t *r, uint64_t to);

int nc_raft_has_ready(nc_raft_t *r);
void nc_raft_ready(nc_raft_t *r, nc_raft_ready_t *rd);
void nc_raft_advance(nc_raft_t *r);

/* the caller has made a snapshot at index and compacted storage */
void nc_raft_compacted(nc_raft_t *r, uint64_t index);

/* a send failed or the peer is unreachable: fall back to probing */
void nc_raft_report_unreachable(nc_raft_t *r, uint64_t id);

int nc_raft_role(nc_raft_t *r);
uint64_t nc_raft_leader(nc_raft_t *r);
uint64_t nc_raft_term(nc_raft_t *r);
uint64_t nc_raft_commit(nc_raft_t *r);
uint64_t nc_raft_applied(nc_raft_t *r);
uint64_t nc_raft_last_index(nc_raft_t *r);
const nc_raft_conf_t *nc_raft_conf(nc_raft_t *r);
uint64_t nc_raft_match(nc_raft_t *r, uint64_t id);
int nc_raft_log_term(nc_raft_t *r, uint64_t index, uint64_t *term);

int nc_raft_conf_is_voter(const nc_raft_conf_t *c, uint64_t id);
int nc_raft_conf_is_learner(const nc_raft_conf_t *c, uint64_t id);

/* conf change entry payload: op, node, resulting configuration */
size_t nc_raft_conf_change_encode(unsigned char *buf, size_t size, int op,
    uint64_t node, const nc_raft_conf_t *conf);
int nc_raft_conf_change_decode(const unsigned char *p, size_t len, int *op,
    uint64_t *node, nc_raft_conf_t *conf);

/* nc_raft_codec.c */
size_t nc_raft_msg_size(const nc_raft_msg_t *m);
size_t nc_raft_msg_encode(const nc_raft_msg_t *m, unsigned char *buf,
    size_t size);
int nc_raft_msg_decode(const unsigned char *p, size_t len, nc_raft_msg_t *m,
    nc_raft_entry_t *ents, size_t max_ents);
size_t nc_raft_entry_encode(const nc_raft_entry_t *e, unsigned char *buf,
    size_t size);
int nc_raft_entry_decode(const unsigned char *p, size_t len,
    nc_raft_entry_t *e, size_t *used);

/* nc_raft_rand.c: splitmix64 / xoshiro256** */
typedef struct {
    uint64_t                s[4];
} nc_raft_rand_t;

void nc_raft_rand_seed(nc_raft_rand_t *rnd, uint64_t seed);
uint64_t nc_raft_rand_next(nc_raft_rand_t *rnd);
uint64_t nc_raft_rand_below(nc_raft_rand_t *rnd, uint64_t n);


#endif /* _NC_RAFT_H_INCLUDED_ */
