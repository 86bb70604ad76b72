
/*
 * nacre: the consensus process and the workers' way to it.
 *
 * The master opens a unix stream socket (abstract name, unique to the
 * master) before it forks anything; the consensus process accepts on it
 * and every worker connects to it.  Frames (nc_channel.h):
 *
 *   worker -> consensus
 *     PROPOSE   u64 request id, u64 client id, u64 sequence, command
 *     READ      u64 request id: a linearizable read point (ReadIndex); the
 *               RESULT comes once this node has applied up to it
 *     STATUS    u64 request id, u8 format (NC_CONSENSUS_STATUS_*), the
 *               format's argument if it has one
 *     MEMBER    u64 request id, u8 op (NC_CONSENSUS_MEMBER_*), the peer
 *               address (add, remove) or the node id in hex (remove)
 *     BEAT      (u16 length, instance key)...: ephemeral instances that
 *               beat; no answer (src/naming/nc_naming_lease.h)
 *     SUBSCRIBE (u16 length, subscription)...: clients that asked for
 *               UDP pushes; no answer (src/naming/nc_naming_push.h)
 *
 *   consensus -> worker
 *     RESULT    u64 request id, i64 status, u64 index, u64 revision
 *               sent once the entry is applied and published on this node,
 *               so the worker may answer at once (read-your-writes)
 *     TEXT      u64 request id, i64 status, the STATUS answer (JSON)
 *     APPLIED   u64 applied index: a new version is published; also the
 *               greeting on accept, before which a worker proposes
 *               nothing (the master's listener accepts connections even
 *               when no consensus process runs)
 */

#ifndef _NC_CONSENSUS_H_INCLUDED_
#define _NC_CONSENSUS_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_cycle.h>
#include <nc_raft.h>


#define NC_CONSENSUS_PROPOSE        1
#define NC_CONSENSUS_RESULT         2
#define NC_CONSENSUS_APPLIED        3
#define NC_CONSENSUS_READ           4
#define NC_CONSENSUS_STATUS         5
#define NC_CONSENSUS_TEXT           6
#define NC_CONSENSUS_MEMBER         7
#define NC_CONSENSUS_BEAT           8
#define NC_CONSENSUS_SUBSCRIBE      9

#define NC_CONSENSUS_MEMBER_ADD     1
#define NC_CONSENSUS_MEMBER_REMOVE  2

#define NC_CONSENSUS_STATUS_RAFT    1         /* GET /v1/cluster/raft */
#define NC_CONSENSUS_STATUS_NACOS   2         /* Nacos cluster/nodes data */
#define NC_CONSENSUS_STATUS_SERVERS 3         /* API addresses, CRLF lines */
#define NC_CONSENSUS_STATUS_SUBSCRIBERS 4     /* of a service: its key */
#define NC_CONSENSUS_STATUS_LISTENERS 5       /* nc_config_listeners_text() */
/* with a format: every member's answer, one after the other (those that
 * answer within NC_CONSENSUS_GATHER_WAIT) */
#define NC_CONSENSUS_STATUS_CLUSTER 0x80
#define NC_CONSENSUS_GATHER_WAIT    1000      /* ms */
#define NC_CONSENSUS_MAX_TEXT       (64 * 1024)

#define NC_CONSENSUS_PROPOSE_SIZE   24
#define NC_CONSENSUS_RESULT_SIZE    32

/* a command and its frame header fit in a Raft entry (a config item of
 * 10 MiB and its fields) */
#define NC_CONSENSUS_MAX_COMMAND    (NC_RAFT_MAX_ENTRY_SIZE - 1024)
#define NC_CONSENSUS_MAX_OUT        (64 * 1024 * 1024)


/* --- master ----------------------------------------------------------- */

nc_int_t nc_consensus_listen(nc_cycle_t *cycle);

/* every child but the consensus process drops the listener */
void nc_consensus_close_listener(void);

/* the body of the consensus process (nc_spawn_process) */
void nc_consensus_process_cycle(nc_cycle_t *cycle, void *data);


/* --- workers ---------------------------------------------------------- */

typedef struct nc_consensus_req_s  nc_consensus_req_t;

/* status: NC_OK, NC_DECLINED, NC_ERROR (bad command), NC_STORE_FULL, or
 * NC_BUSY (no consensus: the caller answers 503) */
typedef void (*nc_consensus_done_pt)(void *data, nc_int_t status,
    uint64_t index, uint64_t revision);

nc_int_t nc_consensus_client_init(nc_cycle_t *cycle);

/*
 * Send a command; done() runs once, later, unless the request is
 * cancelled first.  NULL: not sent (no consensus process, or too much
 * queued) and done() will not run.
 */
nc_consensus_req_t *nc_consensus_propose(const u_char *cmd, size_t len,
    nc_consensus_done_pt done, void *data);

/* done() once this node has applied everything committed before the call
 * (index: that point); NC_BUSY without a leader in time */
nc_consensus_req_t *nc_consensus_read(nc_consensus_done_pt done, void *data);

/* the status as JSON text (format NC_CONSENSUS_STATUS_*) */
typedef void (*nc_consensus_text_pt)(void *data, nc_int_t status,
    u_char *text, size_t len);

nc_consensus_req_t *nc_consensus_status(nc_uint_t format,
    nc_consensus_text_pt done, void *data);
/* the same about something: a format's argument (a service's key) */
nc_consensus_req_t *nc_consensus_status_of(nc_uint_t format,
    const u_char *arg, size_t len, nc_consensus_text_pt done, void *data);

/*
 * Add a member (it joins as a learner and is promoted once caught up) or
 * remove one.  done(): NC_OK with the index of the change once applied
 * here; NC_DECLINED: already a member / not a member; NC_ERROR: a bad
 * address; NC_BUSY: no leader, or the new member did not answer in time.
 */
nc_consensus_req_t *nc_consensus_member(nc_uint_t op, const u_char *text,
    size_t len, nc_consensus_done_pt done, void *data);
void nc_consensus_cancel(nc_consensus_req_t *req);

/* a note with no answer (BEAT, SUBSCRIBE): batched, and lost without a
 * consensus process */
void nc_consensus_note(nc_uint_t type, const u_char *p, size_t len);


/* a waiter for the next publication (blocking queries, long-polls) */
typedef struct nc_consensus_waiter_s  nc_consensus_waiter_t;

struct nc_consensus_waiter_s {
    nc_queue_t          queue;
    void              (*handler)(nc_consensus_waiter_t *w);
    void               *data;
    unsigned            waiting:1;
};

/* handler runs once, at the next APPLIED, unless unwaited first */
void nc_consensus_wait_applied(nc_consensus_waiter_t *w);
void nc_consensus_unwait_applied(nc_consensus_waiter_t *w);


#endif /* _NC_CONSENSUS_H_INCLUDED_ */
