
/*
 * nacre: leases of ephemeral instances (nc_naming_lease.h).
 *
 * The leases are an array sorted by key, the order the store walks in:
 * a sweep merges the two in one pass and a beat finds its lease by
 * binary search.  Keys live in one arena per sweep.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_naming_lease.h>


#define NC_NAMING_LEASE_MAX_PROPOSALS  4096   /* per sweep */
#define NC_NAMING_LEASE_RETRY          5000   /* ms before proposing again */


typedef struct {
    const u_char       *key;             /* in the arena: nc_naming_keyed_t */
    size_t              len;
    nc_msec_t           last_beat;
    uint64_t            beat_index;      /* the registration it saw */
    uint64_t            revision;        /* of the record it saw */
    uint64_t            proposed;        /* revision a transition was for */
    nc_msec_t           proposed_at;
    unsigned            healthy:1;
    unsigned            beat_since:1;    /* a beat since that revision */
    unsigned            recover:1;       /* queued: a beat, unhealthy */
} nc_naming_lease_t;


static nc_int_t nc_naming_lease_sweep(nc_store_t *s, nc_msec_t now,
    nc_naming_propose_pt propose);
static void nc_naming_lease_recover(nc_store_t *s, nc_msec_t now,
    nc_naming_propose_pt propose);
static nc_int_t nc_naming_lease_judge(nc_naming_lease_t *l,
    const nc_store_record_t *rec, nc_msec_t now, nc_pool_t *pool,
    nc_naming_propose_pt propose);
static nc_int_t nc_naming_lease_propose(nc_naming_lease_t *l,
    const nc_store_record_t *rec, nc_uint_t op, nc_msec_t now,
    nc_pool_t *pool, nc_naming_propose_pt propose);
static nc_naming_lease_t *nc_naming_lease_find(const u_char *key,
    size_t len);
static void nc_naming_lease_drop(void);


static nc_log_t           *nc_naming_lease_log;
static nc_naming_lease_t  *nc_leases;
static size_t              nc_nleases;
static u_char             *nc_lease_arena;
static uint64_t            nc_lease_term;        /* 0: not leading */
static nc_msec_t           nc_lease_swept;
static nc_flag_t           nc_lease_recovering;
static nc_store_iter_t    *nc_lease_iter;
static nc_naming_lease_stats_t  nc_lease_stats;


void
nc_naming_lease_init(nc_log_t *log)
{
    nc_naming_lease_log = log;
}


void
nc_naming_lease_beat(const u_char *p, size_t len, nc_msec_t now)
{
    size_t              klen;
    const u_char       *end;
    nc_naming_lease_t  *l;

    if (nc_lease_term == 0) {
        return;                          /* not leading: nobody to judge */
    }

    end = p + len;

    while (end - p >= 2) {
        klen = p[0] | (size_t) p[1] << 8;
        p += 2;

        if ((size_t) (end - p) < klen) {
            break;
        }

        nc_lease_stats.beats++;

        /* unknown: registered after the last sweep, which counts as a
         * beat there */
        l = nc_naming_lease_find(p, klen);

        if (l == NULL) {
            nc_lease_stats.unknown++;

        } else {
            l->last_beat = now;
            l->beat_since = 1;

            if (!l->healthy) {
                l->recover = 1;
                nc_lease_recovering = 1;
            }
        }

        p += klen;
    }
}


void
nc_naming_lease_tick(nc_store_t *s, nc_flag_t leader, uint64_t term,
    nc_msec_t now, nc_msec_t period, nc_naming_propose_pt propose)
{
    size_t  i;

    if (!leader) {
        if (nc_lease_term) {
            nc_naming_lease_drop();
        }

        return;
    }

    if (nc_lease_term != term) {
        /* a new term of ours: every lease starts now */
        nc_lease_term = term;

        for (i = 0; i < nc_nleases; i++) {
            nc_leases[i].last_beat = now;
            nc_leases[i].proposed = 0;
        }

        nc_lease_swept = 0;
    }

    if (nc_lease_recovering) {
        nc_naming_lease_recover(s, now, propose);
    }

    if (nc_lease_swept == 0 || now - nc_lease_swept >= period) {
        if (nc_naming_lease_sweep(s, now, propose) == NC_OK) {
            nc_lease_swept = now ? now : 1;
        }
    }
}


void
nc_naming_lease_stats(nc_naming_lease_stats_t *st)
{
    *st = nc_lease_stats;
    st->leases = nc_nleases;
}


/*
 * Walk the ephemeral instances of the published version, merged with the
 * leases in the same order: new ones start now, gone ones are dropped,
 * each is judged.
 */
static nc_int_t
nc_naming_lease_sweep(nc_store_t *s, nc_msec_t now,
    nc_naming_propose_pt propose)
{
    int                        cmp;
    u_char                    *arena, *a;
    size_t                     n, cap, bytes, i, old;
    nc_int_t                   proposals;
    nc_pool_t                 *pool;
    nc_shm_off_t               off;
    nc_naming_lease_t         *leases, *l, *o;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    off = atomic_load_explicit(&s->hdr->current, memory_order_acquire);
    if (off == 0) {
        return NC_DECLINED;
    }

    v = nc_store_ptr(s, off);

    if (nc_lease_iter == NULL) {
        nc_lease_iter = malloc(sizeof(nc_store_iter_t));
        if (nc_lease_iter == NULL) {
            return NC_ERROR;
        }
    }

    /* measure: how many, how many key bytes */
    n = 0;
    bytes = 0;

    nc_store_iter_init(nc_lease_iter, s, v->root,
                       (u_char *) NC_STORE_NAMING_INSTANCE,
                       sizeof(NC_STORE_NAMING_INSTANCE) - 1, NULL, 0);

    while ((rec = nc_store_iter_next(nc_lease_iter)) != NULL) {
        if (rec->type == NC_STORE_T_NAMING
            && (rec->flags & NC_STORE_NAMING_EPHEMERAL))
        {
            n++;
            bytes += rec->key_len;
        }
    }

    cap = n ? n : 1;
    leases = malloc(cap * sizeof(nc_naming_lease_t));
    arena = malloc(bytes ? bytes : 1);
    pool = nc_create_pool(16 * 1024);

    if (leases == NULL || arena == NULL || pool == NULL) {
        free(leases);
        free(arena);
        if (pool) {
            nc_destroy_pool(pool);
        }
        return NC_ERROR;
    }

    nc_store_iter_init(nc_lease_iter, s, v->root,
                       (u_char *) NC_STORE_NAMING_INSTANCE,
                       sizeof(NC_STORE_NAMING_INSTANCE) - 1, NULL, 0);

    i = 0;
    old = 0;
    a = arena;
    proposals = 0;

    while (i < n && (rec = nc_store_iter_next(nc_lease_iter)) != NULL) {
        if (rec->type != NC_STORE_T_NAMING
            || !(rec->flags & NC_STORE_NAMING_EPHEMERAL)
            || rec->value_len < sizeof(nc_store_naming_instance_t))
        {
            continue;
        }

        l = &leases[i++];
        nc_memzero(l, sizeof(nc_naming_lease_t));

        l->key = a;
        l->len = rec->key_len;
        a = nc_cpymem(a, nc_store_record_key(rec), rec->key_len);

        /* the old lease of this key, if any: both lists are in order */
        o = NULL;

        while (old < nc_nleases) {
            cmp = nc_naming_keycmp(nc_leases[old].key, nc_leases[old].len,
                                   l->key, l->len);

            if (cmp > 0) {
                break;
            }

            if (cmp == 0) {
                o = &nc_leases[old++];
                break;
            }

            old++;
        }

        if (o && o->beat_index == nc_store_naming_instance(rec)->beat_index) {
            l->last_beat = o->last_beat;
            l->beat_index = o->beat_index;
            l->revision = o->revision;
            l->proposed = o->proposed;
            l->proposed_at = o->proposed_at;
            l->beat_since = o->beat_since;

        } else {
            /* new, or registered again: that is its beat */
            l->last_beat = now;
            l->beat_index = nc_store_naming_instance(rec)->beat_index;
        }

        if (proposals < NC_NAMING_LEASE_MAX_PROPOSALS) {
            proposals += nc_naming_lease_judge(l, rec, now, pool, propose);
        }
    }

    free(nc_leases);
    free(nc_lease_arena);
    nc_destroy_pool(pool);

    nc_leases = leases;
    nc_nleases = i;
    nc_lease_arena = arena;
    nc_lease_recovering = 0;
    nc_lease_stats.sweeps++;

    return NC_OK;
}


/* the beats that found an unhealthy instance, at once */
static void
nc_naming_lease_recover(nc_store_t *s, nc_msec_t now,
    nc_naming_propose_pt propose)
{
    size_t                     i;
    nc_pool_t                 *pool;
    nc_shm_off_t               off;
    nc_naming_lease_t         *l;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    nc_lease_recovering = 0;

    off = atomic_load_explicit(&s->hdr->current, memory_order_acquire);
    pool = nc_create_pool(4096);

    if (off == 0 || pool == NULL) {
        if (pool) {
            nc_destroy_pool(pool);
        }
        return;
    }

    v = nc_store_ptr(s, off);

    for (i = 0; i < nc_nleases; i++) {
        l = &nc_leases[i];

        if (!l->recover) {
            continue;
        }

        l->recover = 0;
        rec = nc_store_get(s, v, l->key, l->len);

        if (rec && rec->type == NC_STORE_T_NAMING
            && rec->value_len >= sizeof(nc_store_naming_instance_t))
        {
            (void) nc_naming_lease_judge(l, rec, now, pool, propose);
        }
    }

    nc_destroy_pool(pool);
}


/* what is due for one instance; 1 when something was proposed */
static nc_int_t
nc_naming_lease_judge(nc_naming_lease_t *l, const nc_store_record_t *rec,
    nc_msec_t now, nc_pool_t *pool, nc_naming_propose_pt propose)
{
    nc_msec_t                          elapsed;
    const nc_store_naming_instance_t  *h;

    h = nc_store_naming_instance(rec);

    if (l->revision != rec->revision) {
        /*
         * Changed by someone else: beats before that prove nothing of it.
         * Changed by the transition this lease proposed (from the revision
         * it saw): the beats since the proposal count.
         */
        if (l->proposed != l->revision || l->revision == 0) {
            l->beat_since = 0;
        }

        l->revision = rec->revision;
    }

    l->healthy = (rec->flags & NC_STORE_NAMING_HEALTHY) != 0;

    elapsed = now - l->last_beat;

    if (elapsed > h->delete_timeout) {
        return nc_naming_lease_propose(l, rec, NC_STORE_NAMING_EXPIRE, now,
                                       pool, propose);
    }

    if (elapsed > h->beat_timeout && l->healthy) {
        return nc_naming_lease_propose(l, rec, NC_STORE_NAMING_HEALTH, now,
                                       pool, propose);
    }

    if (elapsed <= h->beat_timeout && !l->healthy && l->beat_since) {
        return nc_naming_lease_propose(l, rec, NC_STORE_NAMING_HEALTH, now,
                                       pool, propose);
    }

    return 0;
}


static nc_int_t
nc_naming_lease_propose(nc_naming_lease_t *l, const nc_store_record_t *rec,
    nc_uint_t op, nc_msec_t now, nc_pool_t *pool,
    nc_naming_propose_pt propose)
{
    u_char                 *cmd;
    size_t                  len;
    struct timespec         ts;
    nc_store_naming_cmd_t   c;

    /* once per revision, unless it got lost (a leader change) */
    if (l->proposed == rec->revision
        && now - l->proposed_at < NC_NAMING_LEASE_RETRY)
    {
        return 0;
    }

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    nc_memzero(&c, sizeof(nc_store_naming_cmd_t));
    c.time = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    c.flags = l->healthy ? 0 : NC_STORE_NAMING_HEALTHY;   /* the flip */

    cmd = nc_store_naming_command(pool, op, l->key, l->len, rec->revision, &c,
                                  &len);

    if (cmd == NULL || propose(cmd, len) != NC_OK) {
        return 0;
    }

    l->proposed = rec->revision;
    l->proposed_at = now;
    l->beat_since = 0;
    nc_lease_stats.proposed++;

    nc_log_debug(nc_naming_lease_log, "lease: %s %.*s",
                 op == NC_STORE_NAMING_EXPIRE ? "expire"
                 : l->healthy ? "unhealthy" : "healthy",
                 (int) l->len, l->key);

    return 1;
}


static nc_naming_lease_t *
nc_naming_lease_find(const u_char *key, size_t len)
{
    return nc_naming_keyed_find(nc_leases, nc_nleases,
                                sizeof(nc_naming_lease_t), key, len);
}


int
nc_naming_keycmp(const u_char *a, size_t alen, const u_char *b, size_t blen)
{
    int  cmp;

    cmp = memcmp(a, b, nc_min(alen, blen));

    if (cmp == 0) {
        cmp = alen < blen ? -1 : alen > blen;
    }

    return cmp;
}


void *
nc_naming_keyed_find(void *base, size_t n, size_t size, const u_char *key,
    size_t len)
{
    int                 cmp;
    size_t              lo, hi, mid;
    nc_naming_keyed_t  *e;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        e = (nc_naming_keyed_t *) ((u_char *) base + mid * size);

        cmp = nc_naming_keycmp(e->key, e->len, key, len);

        if (cmp == 0) {
            return e;
        }

        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


static void
nc_naming_lease_drop(void)
{
    free(nc_leases);
    free(nc_lease_arena);

    nc_leases = NULL;
    nc_lease_arena = NULL;
    nc_nleases = 0;
    nc_lease_term = 0;
    nc_lease_swept = 0;
    nc_lease_recovering = 0;
}
