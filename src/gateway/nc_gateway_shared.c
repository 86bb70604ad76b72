
/*
 * nacre: the gateway's shared state: a table of slots in memory the
 * master maps before forking, so every worker sees the same words.  A
 * slot is a key (a hash of what it is for, never 0) and a state word; a
 * slot is claimed by compare-and-swap on its key and never given back, so
 * readers need no lock: the table is sized for more routes and instances
 * than a node serves, and when it is full, limits and ejections are not
 * applied (logged once) rather than wrong.
 *
 * A route's counters take a slot each: requests, then answers by class.
 * A bucket's word: the time of its last refill (ms, low 32 bits: a
 * difference of two is right across the wrap) above the tokens it holds,
 * in thousandths.  An instance's word: the failures in a row above the
 * time it is left out until (ms, 48 bits).
 *
 * Upstream addresses have a table of their own, which can be listed: an
 * entry holds the address itself beside its counters (answers by class,
 * failures), claimed like a slot; its address is written once, before
 * "ready" says it may be read.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_gateway_shared.h>

#include <sys/mman.h>


#define NC_GATEWAY_SLOTS       16384             /* a power of 2 */
#define NC_GATEWAY_PROBES      64

#define NC_GATEWAY_BUCKET      1
#define NC_GATEWAY_PEER        2
#define NC_GATEWAY_COUNTER     3             /* .. + NC_GATEWAY_COUNTERS */

#define NC_GATEWAY_UPSTREAMS   4096              /* a power of 2 */


typedef struct {
    _Atomic uint64_t        key;
    _Atomic uint64_t        state;
} nc_gateway_slot_t;


struct nc_gateway_upstream_s {
    _Atomic uint64_t        key;
    _Atomic uint32_t        ready;
    uint32_t                socklen;
    struct sockaddr_in6     sockaddr;          /* or a sockaddr_in */
    _Atomic uint64_t        counts[NC_GATEWAY_UPSTREAM_COUNTERS];
};


static nc_gateway_slot_t      *nc_gateway_slots;
static nc_gateway_upstream_t  *nc_gateway_upstreams;
static nc_flag_t            nc_gateway_full_logged;
static nc_log_t            *nc_gateway_shared_log_p;


nc_int_t
nc_gateway_shared_init(nc_log_t *log)
{
    void  *p;

    p = mmap(NULL, NC_GATEWAY_SLOTS * sizeof(nc_gateway_slot_t),
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        nc_log_error(NC_LOG_EMERG, log, errno, "mmap() of the gateway's "
                     "shared state failed");
        return NC_ERROR;
    }

    nc_gateway_slots = p;

    p = mmap(NULL, NC_GATEWAY_UPSTREAMS * sizeof(nc_gateway_upstream_t),
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        nc_log_error(NC_LOG_EMERG, log, errno, "mmap() of the gateway's "
                     "upstream counters failed");
        return NC_ERROR;
    }

    nc_gateway_upstreams = p;

    return NC_OK;
}


void
nc_gateway_shared_log(nc_log_t *log)
{
    nc_gateway_shared_log_p = log;
}


/* the slot of (kind, key), claimed if need be; NULL when the table is
 * full around it */
static nc_gateway_slot_t *
nc_gateway_slot(nc_uint_t kind, const u_char *key, size_t len)
{
    uint64_t            h, k, expected;
    nc_uint_t           i;
    nc_gateway_slot_t  *s;

    if (nc_gateway_slots == NULL) {
        return NULL;
    }

    h = nc_store_key_hash(key, len) * 31 + kind;
    k = h ? h : 1;

    for (i = 0; i < NC_GATEWAY_PROBES; i++) {
        s = &nc_gateway_slots[(h + i) & (NC_GATEWAY_SLOTS - 1)];

        expected = atomic_load_explicit(&s->key, memory_order_acquire);

        if (expected == k) {
            return s;
        }

        if (expected == 0) {
            if (atomic_compare_exchange_strong(&s->key, &expected, k)
                || expected == k)
            {
                return s;
            }
        }
    }

    if (!nc_gateway_full_logged) {
        nc_gateway_full_logged = 1;
        nc_log_error(NC_LOG_WARN, nc_gateway_shared_log_p, 0, "gateway: the "
                     "shared state is "
                     "full: some rate limits and ejections are not applied");
    }

    return NULL;
}


nc_flag_t
nc_gateway_shared_take(const u_char *key, size_t len, double rate,
    nc_uint_t burst)
{
    double              tokens;
    uint32_t            now, last;
    uint64_t            old, new;
    nc_gateway_slot_t  *s;

    s = nc_gateway_slot(NC_GATEWAY_BUCKET, key, len);
    if (s == NULL) {
        return 1;
    }

    now = (uint32_t) nc_current_msec;
    old = atomic_load_explicit(&s->state, memory_order_relaxed);

    for ( ;; ) {
        last = (uint32_t) (old >> 32);

        if (old == 0) {                  /* a new bucket: full */
            tokens = burst * 1000.0;

        } else {
            tokens = (double) (old & 0xffffffff)
                     + (double) (uint32_t) (now - last) * rate;
            tokens = nc_min(tokens, burst * 1000.0);
        }

        if (tokens < 1000.0) {
            return 0;
        }

        new = ((uint64_t) now << 32) | (uint64_t) (tokens - 1000.0);
        new = new ? new : 1;

        if (atomic_compare_exchange_weak_explicit(&s->state, &old, new,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        {
            return 1;
        }
    }
}


void
nc_gateway_shared_failed(const u_char *key, size_t len, nc_uint_t max_fails,
    nc_msec_t fail_timeout, nc_log_t *log, const nc_str_t *name)
{
    uint64_t            old, new, fails, until;
    nc_gateway_slot_t  *s;

    s = nc_gateway_slot(NC_GATEWAY_PEER, key, len);
    if (s == NULL || max_fails == 0) {
        return;
    }

    old = atomic_load_explicit(&s->state, memory_order_relaxed);

    do {
        fails = nc_min((old >> 48) + 1, 0xffff);
        until = old & 0xffffffffffffULL;

        if (fails >= max_fails) {
            until = (nc_current_msec + fail_timeout) & 0xffffffffffffULL;
        }

        new = (fails << 48) | until;

    } while (!atomic_compare_exchange_weak(&s->state, &old, new));

    if (fails == max_fails) {
        nc_log_error(NC_LOG_WARN, log, 0, "gateway: %.*s failed %u times in "
                     "a row: ejected for %ums", nc_str_fmt(name),
                     (unsigned) fails, (unsigned) fail_timeout);
    }
}


void
nc_gateway_shared_succeeded(const u_char *key, size_t len)
{
    nc_gateway_slot_t  *s;

    s = nc_gateway_slot(NC_GATEWAY_PEER, key, len);

    /* a store only when there is something to forget: no line bouncing */
    if (s && atomic_load_explicit(&s->state, memory_order_relaxed)) {
        atomic_store_explicit(&s->state, 0, memory_order_relaxed);
    }
}


nc_flag_t
nc_gateway_shared_ejected(const u_char *key, size_t len)
{
    uint64_t            state;
    nc_gateway_slot_t  *s;

    s = nc_gateway_slot(NC_GATEWAY_PEER, key, len);
    if (s == NULL) {
        return 0;
    }

    state = atomic_load_explicit(&s->state, memory_order_relaxed);

    return (state & 0xffffffffffffULL) > (nc_current_msec & 0xffffffffffffULL);
}


void
nc_gateway_shared_count(const u_char *key, size_t len, nc_uint_t status)
{
    nc_uint_t           cls;
    nc_gateway_slot_t  *s;

    s = nc_gateway_slot(NC_GATEWAY_COUNTER, key, len);
    if (s) {
        atomic_fetch_add_explicit(&s->state, 1, memory_order_relaxed);
    }

    /* a client gone before any answer counts as a request alone */
    if (status < 100 || status > 599) {
        return;
    }

    cls = status / 100;

    s = nc_gateway_slot(NC_GATEWAY_COUNTER + cls, key, len);
    if (s) {
        atomic_fetch_add_explicit(&s->state, 1, memory_order_relaxed);
    }
}


void
nc_gateway_shared_counts(const u_char *key, size_t len,
    uint64_t counts[NC_GATEWAY_COUNTERS])
{
    nc_uint_t           i;
    nc_gateway_slot_t  *s;

    for (i = 0; i < NC_GATEWAY_COUNTERS; i++) {
        s = nc_gateway_slot(NC_GATEWAY_COUNTER + i, key, len);
        counts[i] = s ? atomic_load_explicit(&s->state, memory_order_relaxed)
                      : 0;
    }
}


nc_gateway_upstream_t *
nc_gateway_shared_upstream(const struct sockaddr *sa, socklen_t len)
{
    uint64_t                h, k, expected;
    nc_uint_t               i;
    nc_gateway_upstream_t  *u;

    if (nc_gateway_upstreams == NULL || len > sizeof(u->sockaddr)) {
        return NULL;
    }

    h = nc_store_key_hash((const u_char *) sa, len);
    k = h ? h : 1;

    for (i = 0; i < NC_GATEWAY_PROBES; i++) {
        u = &nc_gateway_upstreams[(h + i) & (NC_GATEWAY_UPSTREAMS - 1)];

        expected = atomic_load_explicit(&u->key, memory_order_acquire);

        if (expected == 0
            && atomic_compare_exchange_strong(&u->key, &expected, k))
        {
            /* ours: the address, then the word that publishes it */
            nc_memcpy(&u->sockaddr, sa, len);
            u->socklen = len;
            atomic_store_explicit(&u->ready, 1, memory_order_release);
            return u;
        }

        if (expected == k) {
            return u;
        }
    }

    if (!nc_gateway_full_logged) {
        nc_gateway_full_logged = 1;
        nc_log_error(NC_LOG_WARN, nc_gateway_shared_log_p, 0, "gateway: the "
                     "upstream counters are full: new upstreams go "
                     "uncounted");
    }

    return NULL;
}


void
nc_gateway_shared_upstream_count(nc_gateway_upstream_t *u, nc_uint_t status)
{
    nc_uint_t  i;

    if (u == NULL) {
        return;
    }

    /* 1xx .. 5xx in counts[0 .. 4], no answer in counts[5] */
    i = status >= 100 && status <= 599 ? status / 100 - 1 : 5;

    atomic_fetch_add_explicit(&u->counts[i], 1, memory_order_relaxed);
}


nc_int_t
nc_gateway_shared_upstreams(nc_gateway_upstream_pt handler, void *data)
{
    nc_uint_t               i, j;
    nc_gateway_upstream_t  *u;
    uint64_t                counts[NC_GATEWAY_UPSTREAM_COUNTERS];

    for (i = 0; nc_gateway_upstreams && i < NC_GATEWAY_UPSTREAMS; i++) {
        u = &nc_gateway_upstreams[i];

        if (!atomic_load_explicit(&u->ready, memory_order_acquire)) {
            continue;
        }

        for (j = 0; j < NC_GATEWAY_UPSTREAM_COUNTERS; j++) {
            counts[j] = atomic_load_explicit(&u->counts[j],
                                             memory_order_relaxed);
        }

        if (handler((struct sockaddr *) &u->sockaddr, u->socklen, counts,
                    data)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    return NC_OK;
}
