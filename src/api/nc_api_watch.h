
/*
 * nacre: requests that wait for store keys to change (long-polls).
 *
 * A watch is one request waiting on a few keys.  Each key sits in a hash
 * table by nc_store_key_hash(); when a version is published, the store's
 * change feed names the keys it changed, and exactly the watches on those
 * keys are told (changed()), once per publication, whatever they decide
 * then (answer, or keep waiting).  When the feed cannot say (too many
 * changes at once), every watch is told.  A watch costs its request
 * sizeof(nc_api_watch_t) + 32 bytes a key.
 */

#ifndef _NC_API_WATCH_H_INCLUDED_
#define _NC_API_WATCH_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>


typedef struct nc_api_watch_s  nc_api_watch_t;

typedef struct {
    nc_queue_t              bucket;
    uint64_t                hash;
    nc_api_watch_t         *watch;
} nc_api_watch_key_t;

struct nc_api_watch_s {
    nc_queue_t              queue;          /* all watches, then told */
    void                  (*changed)(nc_api_watch_t *w);
    void                   *data;
    nc_uint_t               nkeys;
    unsigned                active:1;
    unsigned                told:1;
    unsigned                closing:1;      /* the worker is leaving */
    nc_api_watch_key_t     *keys;
};


nc_int_t nc_api_watch_init_worker(nc_cycle_t *cycle);

/* a watch of nkeys keys in r's pool; keys are set with nc_api_watch_key */
nc_api_watch_t *nc_api_watch_create(nc_http_request_t *r, nc_uint_t nkeys);
void nc_api_watch_key(nc_api_watch_t *w, nc_uint_t i, const u_char *key,
    size_t len);

/* start and stop being told; stop before the request's pool goes */
void nc_api_watch_start(nc_api_watch_t *w);
void nc_api_watch_stop(nc_api_watch_t *w);

/* watches active in this worker */
nc_uint_t nc_api_watch_count(void);

/*
 * The worker is shutting down gracefully: every watch is stopped and told
 * once more, with closing set, so that it answers now and its client
 * polls again elsewhere rather than keep the old worker for its whole
 * timeout.
 */
void nc_api_watch_shutdown(void);


#endif /* _NC_API_WATCH_H_INCLUDED_ */
