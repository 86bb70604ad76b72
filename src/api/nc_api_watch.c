
/*
 * nacre: watches on store keys (nc_api_watch.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_consensus.h>
#include <nc_api_watch.h>


#define NC_API_WATCH_BUCKETS  4096           /* a power of two: 64k a worker */


static void nc_api_watch_published(nc_consensus_waiter_t *waiter);
static void nc_api_watch_mark(uint64_t hash, void *data);


static nc_queue_t             *nc_api_watch_buckets;
static nc_queue_t              nc_api_watch_all;
static nc_queue_t              nc_api_watch_told;
static nc_uint_t               nc_api_watch_n;
static uint64_t                nc_api_watch_seen;   /* feed position */
static nc_consensus_waiter_t   nc_api_watch_waiter;


nc_int_t
nc_api_watch_init_worker(nc_cycle_t *cycle)
{
    nc_uint_t                  i;
    const nc_store_version_t  *v;

    nc_api_watch_buckets = malloc(NC_API_WATCH_BUCKETS * sizeof(nc_queue_t));
    if (nc_api_watch_buckets == NULL) {
        return NC_ERROR;
    }

    for (i = 0; i < NC_API_WATCH_BUCKETS; i++) {
        nc_queue_init(&nc_api_watch_buckets[i]);
    }

    nc_queue_init(&nc_api_watch_all);
    nc_queue_init(&nc_api_watch_told);

    v = nc_store_enter(nc_store);
    nc_api_watch_seen = v ? v->changes : 0;
    nc_store_leave(nc_store);

    nc_api_watch_waiter.handler = nc_api_watch_published;
    nc_consensus_wait_applied(&nc_api_watch_waiter);

    return NC_OK;
}


nc_api_watch_t *
nc_api_watch_create(nc_http_request_t *r, nc_uint_t nkeys)
{
    nc_api_watch_t  *w;

    w = nc_pcalloc(r->pool, sizeof(nc_api_watch_t));
    if (w == NULL) {
        return NULL;
    }

    w->keys = nc_pcalloc(r->pool, nkeys * sizeof(nc_api_watch_key_t));
    if (w->keys == NULL && nkeys) {
        return NULL;
    }

    w->nkeys = nkeys;

    return w;
}


void
nc_api_watch_key(nc_api_watch_t *w, nc_uint_t i, const u_char *key,
    size_t len)
{
    w->keys[i].hash = nc_store_key_hash(key, len);
    w->keys[i].watch = w;
}


void
nc_api_watch_start(nc_api_watch_t *w)
{
    nc_uint_t            i;
    nc_api_watch_key_t  *k;

    if (w->active) {
        return;
    }

    for (i = 0; i < w->nkeys; i++) {
        k = &w->keys[i];
        nc_queue_insert_tail(
            &nc_api_watch_buckets[k->hash & (NC_API_WATCH_BUCKETS - 1)],
            &k->bucket);
    }

    nc_queue_insert_tail(&nc_api_watch_all, &w->queue);
    w->active = 1;
    w->told = 0;
    nc_api_watch_n++;
}


void
nc_api_watch_stop(nc_api_watch_t *w)
{
    nc_uint_t  i;

    if (!w->active) {
        return;
    }

    for (i = 0; i < w->nkeys; i++) {
        nc_queue_remove(&w->keys[i].bucket);
    }

    nc_queue_remove(&w->queue);
    w->active = 0;
    nc_api_watch_n--;
}


nc_uint_t
nc_api_watch_count(void)
{
    return nc_api_watch_n;
}


/*
 * A version was published: mark the watches on the keys it changed (they
 * move from "all" to "told"), then tell them one by one.  changed() may
 * stop its watch and end its request.
 */
static void
nc_api_watch_published(nc_consensus_waiter_t *waiter)
{
    nc_int_t                   rc;
    uint64_t                   to;
    nc_queue_t                *q;
    nc_api_watch_t            *w;
    const nc_store_version_t  *v;

    nc_consensus_wait_applied(&nc_api_watch_waiter);

    v = nc_store_enter(nc_store);

    if (v == NULL || v->changes == nc_api_watch_seen) {
        nc_store_leave(nc_store);
        return;
    }

    to = v->changes;
    rc = NC_DECLINED;

    if (nc_api_watch_n) {
        rc = nc_store_changes(nc_store, nc_api_watch_seen, to,
                              nc_api_watch_mark, NULL);
    }

    nc_store_leave(nc_store);

    nc_api_watch_seen = to;

    if (rc == NC_DECLINED) {
        /* the feed lost track (or nobody watches): tell everyone */
        while (!nc_queue_empty(&nc_api_watch_all)) {
            q = nc_queue_head(&nc_api_watch_all);
            w = nc_queue_data(q, nc_api_watch_t, queue);
            nc_queue_remove(q);
            nc_queue_insert_tail(&nc_api_watch_told, q);
            w->told = 1;
        }
    }

    while (!nc_queue_empty(&nc_api_watch_told)) {
        q = nc_queue_head(&nc_api_watch_told);
        w = nc_queue_data(q, nc_api_watch_t, queue);

        /* back among all first: changed() may stop it */
        nc_queue_remove(q);
        nc_queue_insert_tail(&nc_api_watch_all, q);
        w->told = 0;

        w->changed(w);
    }
}


static void
nc_api_watch_mark(uint64_t hash, void *data)
{
    nc_queue_t          *bucket, *q;
    nc_api_watch_key_t  *k;

    bucket = &nc_api_watch_buckets[hash & (NC_API_WATCH_BUCKETS - 1)];

    for (q = nc_queue_head(bucket);
         q != nc_queue_sentinel(bucket);
         q = nc_queue_next(q))
    {
        k = nc_queue_data(q, nc_api_watch_key_t, bucket);

        if (k->hash != hash || k->watch->told) {
            continue;
        }

        nc_queue_remove(&k->watch->queue);
        nc_queue_insert_tail(&nc_api_watch_told, &k->watch->queue);
        k->watch->told = 1;
    }
}


void
nc_api_watch_shutdown(void)
{
    nc_queue_t      *q;
    nc_api_watch_t  *w;

    while (!nc_queue_empty(&nc_api_watch_all)) {
        q = nc_queue_head(&nc_api_watch_all);
        w = nc_queue_data(q, nc_api_watch_t, queue);

        /* stopped first: changed() ends the request, and its memory */
        nc_api_watch_stop(w);

        w->closing = 1;
        w->changed(w);
    }
}
