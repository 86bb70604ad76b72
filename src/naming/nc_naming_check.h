
/*
 * nacre: health checks of persistent instances, run by the leader's
 * consensus process.
 *
 * Persistent instances do not beat: the leader probes them as their
 * cluster's healthChecker says (nc_store_naming.h, nsc/ records) -- TCP:
 * a connect; HTTP: a GET of the path whose status must be the expected
 * code; NONE: nobody, the health is set by hand.  Without settings a
 * cluster is checked by TCP on each instance's port.  check_times results
 * in a row flip an instance's health, proposed as a Raft write that names
 * the revision it judged (a change meanwhile declines it).
 *
 * Each instance is probed every check_interval, at a phase of its own
 * (from its key), so probes spread over the interval instead of starting
 * together; at most check_concurrency run at once, the rest wait their
 * turn.  A new leader starts counting afresh.
 */

#ifndef _NC_NAMING_CHECK_H_INCLUDED_
#define _NC_NAMING_CHECK_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_naming_lease.h>


typedef struct {
    uint64_t            probes;
    uint64_t            failures;
    uint64_t            proposed;
    size_t              targets;
    size_t              running;
} nc_naming_check_stats_t;


void nc_naming_check_init(nc_log_t *log, nc_conf_naming_t *conf);

/* called often (every Raft tick); anything but leading stops the checks */
void nc_naming_check_tick(nc_store_t *s, nc_flag_t leader, uint64_t term,
    nc_msec_t now, nc_naming_propose_pt propose);

void nc_naming_check_stats(nc_naming_check_stats_t *st);


#endif /* _NC_NAMING_CHECK_H_INCLUDED_ */
