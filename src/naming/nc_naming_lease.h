
/*
 * nacre: leases of ephemeral instances, kept by the leader's consensus
 * process.
 *
 * Beats never enter the Raft log.  Workers batch them to their consensus
 * process, followers forward the batches to the leader, and the leader
 * keeps, in memory, when each instance last beat.  It proposes only the
 * transitions: healthy -> unhealthy after the instance's beat timeout,
 * removal after its delete timeout, unhealthy -> healthy on the first
 * beat after.  Each transition names the instance's revision, so one that
 * crossed a registration is declined instead of undoing it.
 *
 * The leader learns the instances from the store: a sweep walks every
 * ephemeral instance in key order and merges it with the leases it had,
 * so registrations, snapshots and restarts need no other path.  A
 * registration counts as a beat.  A new leader starts every lease at its
 * own start: nobody is judged before a full timeout under it.
 */

#ifndef _NC_NAMING_LEASE_H_INCLUDED_
#define _NC_NAMING_LEASE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>


/* propose a store command as the leader: NC_OK, or not now */
typedef nc_int_t (*nc_naming_propose_pt)(const u_char *cmd, size_t len);


typedef struct {
    uint64_t            beats;           /* received, as the leader */
    uint64_t            unknown;         /* of instances it did not know */
    uint64_t            proposed;        /* transitions proposed */
    uint64_t            sweeps;
    size_t              leases;
} nc_naming_lease_stats_t;


void nc_naming_lease_init(nc_log_t *log);

/* a batch of beats, (u16 length, key)...; the leader's alone count */
void nc_naming_lease_beat(const u_char *p, size_t len, nc_msec_t now);

/*
 * Called often (every Raft tick): sweeps every `period` ms, proposes what
 * is due.  leader/term: this node's role; anything else drops the leases.
 */
void nc_naming_lease_tick(nc_store_t *s, nc_flag_t leader, uint64_t term,
    nc_msec_t now, nc_msec_t period, nc_naming_propose_pt propose);

void nc_naming_lease_stats(nc_naming_lease_stats_t *st);


/*
 * The leader's tables of instances (leases here, checks in
 * nc_naming_check.c) are arrays in store key order, whose elements begin
 * with the key: merged with a walk of the store, searched by key.
 */
typedef struct {
    const u_char       *key;
    size_t              len;
} nc_naming_keyed_t;

/* memcmp() order, the shorter first: the store's */
int nc_naming_keycmp(const u_char *a, size_t alen, const u_char *b,
    size_t blen);

/* the element of key in a sorted array of n of size bytes, or NULL */
void *nc_naming_keyed_find(void *base, size_t n, size_t size,
    const u_char *key, size_t len);


#endif /* _NC_NAMING_LEASE_H_INCLUDED_ */
