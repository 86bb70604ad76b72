
/*
 * nacre: what the gateway's workers on one node share: each route's rate
 * limit (a token bucket) and counters, each instance's failures and
 * ejection, so a
 * limit is the node's, not a worker's, and an instance one worker saw
 * fail is left out by all of them.
 */

#ifndef _NC_GATEWAY_SHARED_H_INCLUDED_
#define _NC_GATEWAY_SHARED_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


/* the master, before the workers: NC_OK or NC_ERROR */
nc_int_t nc_gateway_shared_init(nc_log_t *log);
/* a worker's log, for what these say */
void nc_gateway_shared_log(nc_log_t *log);

/*
 * Take a token from the bucket of key (rate a second, burst at most):
 * 1 when there was one.  A bucket starts full.  Lock-free: one word per
 * bucket, changed by compare-and-swap.
 */
nc_flag_t nc_gateway_shared_take(const u_char *key, size_t len, double rate,
    nc_uint_t burst);

/* an instance's failures in a row, and until when it is left out */
void nc_gateway_shared_failed(const u_char *key, size_t len,
    nc_uint_t max_fails, nc_msec_t fail_timeout, nc_log_t *log,
    const nc_str_t *name);
void nc_gateway_shared_succeeded(const u_char *key, size_t len);
nc_flag_t nc_gateway_shared_ejected(const u_char *key, size_t len);


/*
 * A route's counters since the node started: requests, then answers by
 * class (1xx .. 5xx), in counts[0 .. 5].
 */
#define NC_GATEWAY_COUNTERS  6

void nc_gateway_shared_count(const u_char *key, size_t len,
    nc_uint_t status);
void nc_gateway_shared_counts(const u_char *key, size_t len,
    uint64_t counts[NC_GATEWAY_COUNTERS]);


/*
 * An upstream address's counters since the node started: answers by
 * class (1xx .. 5xx) in counts[0 .. 4], tries that had no answer
 * (refused, reset, timed out) in counts[5].
 */
#define NC_GATEWAY_UPSTREAM_COUNTERS  6

typedef struct nc_gateway_upstream_s  nc_gateway_upstream_t;

typedef nc_int_t (*nc_gateway_upstream_pt)(const struct sockaddr *sa,
    socklen_t len, const uint64_t counts[NC_GATEWAY_UPSTREAM_COUNTERS],
    void *data);

/* the entry of an address, claimed if need be; NULL when full */
nc_gateway_upstream_t *nc_gateway_shared_upstream(const struct sockaddr *sa,
    socklen_t len);
/* an answer (its status), or 0: none */
void nc_gateway_shared_upstream_count(nc_gateway_upstream_t *u,
    nc_uint_t status);
/* every address counted, in no order */
nc_int_t nc_gateway_shared_upstreams(nc_gateway_upstream_pt handler,
    void *data);


#endif /* _NC_GATEWAY_SHARED_H_INCLUDED_ */
