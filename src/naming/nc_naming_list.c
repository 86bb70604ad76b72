
/*
 * nacre: an instance list as Nacos answers it (its 2.x ServiceInfo), for
 * /instance/list and for UDP pushes.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_naming_list.h>



#define NC_NAMING_CACHE_MS        10000


uint64_t
nc_naming_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


/*
 * Rendered host lists, per process: a service's list of every listed
 * (enabled) instance, as rendered at one revision of its record.  Writes
 * never render (a registration costs the same in a service of 5 or of
 * 5,000 instances); the first read of a revision renders it once, the
 * reads after are a lookup and a copy.  Least recently used first out,
 * within nc_naming_list_max bytes.
 */
typedef struct nc_naming_cached_s  nc_naming_cached_t;

struct nc_naming_cached_s {
    nc_naming_cached_t   *next;              /* in its bucket */
    nc_naming_cached_t   *newer;             /* the LRU list */
    nc_naming_cached_t   *older;
    uint64_t              revision;          /* of the service's record */
    size_t                size;              /* all of it, for the budget */
    size_t                key_len;
    nc_str_t              hosts;             /* after the key */
    u_char                key[];
};


static size_t nc_naming_list_hosts(u_char *buf, nc_store_iter_t *it,
    nc_store_t *st, const nc_store_version_t *v, const u_char *prefix,
    size_t plen, const nc_str_t *clusters, nc_flag_t healthy_only,
    nc_flag_t protect);
static void nc_naming_list_count(nc_store_iter_t *it, nc_store_t *st,
    const nc_store_version_t *v, const u_char *prefix, size_t plen,
    const nc_str_t *clusters, size_t *all, size_t *healthy);
static nc_int_t nc_naming_list_cached(nc_pool_t *pool, nc_store_iter_t *it,
    nc_store_t *st, const nc_store_version_t *v, const nc_store_record_t *svc,
    const u_char *prefix, size_t plen, nc_str_t *hosts);
static nc_naming_cached_t **nc_naming_list_bucket(const u_char *key,
    size_t len);
static void nc_naming_list_evict(nc_naming_cached_t *e);


static size_t               nc_naming_list_max;      /* bytes, 0: off */
static size_t               nc_naming_list_used;
static size_t               nc_naming_list_entries; /* entries */
static size_t               nc_naming_list_nbuckets; /* a power of 2 */
static nc_naming_cached_t **nc_naming_list_buckets;
static nc_naming_cached_t  *nc_naming_list_newest;
static nc_naming_cached_t  *nc_naming_list_oldest;


void
nc_naming_list_cache(size_t max)
{
    while (nc_naming_list_oldest) {
        nc_naming_list_evict(nc_naming_list_oldest);
    }

    nc_naming_list_max = max;
}


/*
 * The list as /instance/list answers it (Nacos 2.x' ServiceInfo).  In the
 * common case (every cluster, nobody filtered out, the protect threshold
 * not reached) the hosts are the service's whole list, rendered once per
 * revision; else they are chosen and rendered here.
 */
nc_int_t
nc_naming_list(nc_pool_t *pool, nc_store_t *st, const nc_store_version_t *v,
    const nc_store_naming_name_t *name, const nc_str_t *grouped,
    const nc_str_t *clusters, nc_uint_t flags, nc_str_t *out)
{
    u_char                           *p, *cl, *end;
    size_t                            len, plen, n_all, n_healthy;
    uint64_t                          modified;
    nc_str_t                          hosts, svc_clusters;
    nc_flag_t                         protect, all_clusters, healthy_only;
    nc_store_iter_t                  *it;
    nc_store_naming_name_t            n;
    const nc_store_record_t          *svc;
    const nc_store_naming_service_t  *h;
    u_char                            key[NC_STORE_MAX_KEY_LEN];

    healthy_only = (flags & NC_NAMING_LIST_HEALTHY_ONLY) != 0;

    len = nc_store_naming_service_key(key, sizeof(key), name);
    svc = len ? nc_store_get(st, v, key, len) : NULL;

    if (svc && (svc->type != NC_STORE_T_NAMING
                || svc->value_len < sizeof(nc_store_naming_service_t)))
    {
        svc = NULL;
    }

    nc_str_set(&hosts, "[]");
    protect = 0;
    modified = nc_naming_now();

    if (svc) {
        h = nc_store_naming_service(svc);
        modified = h->modified;

        nc_store_naming_field(svc, NC_STORE_NAMING_S_CLUSTERS, &svc_clusters);

        /* does the filter keep every cluster the service lists? */
        all_clusters = 1;

        if (clusters->len) {
            p = svc_clusters.data;
            end = p + svc_clusters.len;

            while (p < end) {
                cl = memchr(p, ',', end - p);
                cl = cl ? cl : end;

                if (!nc_naming_in_list(clusters, p, cl - p)) {
                    all_clusters = 0;
                    break;
                }

                p = cl + 1;
            }
        }

        it = nc_palloc(pool, sizeof(nc_store_iter_t));
        if (it == NULL) {
            return NC_ERROR;
        }

        n = *name;
        n.cluster.len = 0;
        n.ip.len = 0;
        plen = nc_store_naming_instance_key(key, sizeof(key), &n);

        if (all_clusters) {
            n_all = h->hosts;
            n_healthy = h->healthy;

        } else {
            nc_naming_list_count(it, st, v, key, plen, clusters, &n_all,
                                 &n_healthy);
        }

        /* Nacos 2.x: the threshold guards services made by the API */
        protect = (h->flags & NC_STORE_NAMING_S_EXPLICIT) && n_all
                  && (double) n_healthy / (double) n_all
                     <= h->protect_threshold;

        if (all_clusters && (!healthy_only || n_healthy == n_all)
            && !protect)
        {
            if (nc_naming_list_cached(pool, it, st, v, svc, key, plen,
                                      &hosts)
                != NC_OK)
            {
                return NC_ERROR;
            }

        } else {
            len = nc_naming_list_hosts(NULL, it, st, v, key, plen, clusters,
                                       healthy_only, protect);

            hosts.data = nc_pnalloc(pool, len);
            if (hosts.data == NULL) {
                return NC_ERROR;
            }

            hosts.len = nc_naming_list_hosts(hosts.data, it, st, v, key, plen,
                                             clusters, healthy_only, protect);
        }
    }

    len = nc_json_escape_len(grouped->data, grouped->len)
          + nc_json_escape_len(clusters->data, clusters->len)
          + name->group.len + hosts.len + 256;

    out->data = nc_pnalloc(pool, len);
    if (out->data == NULL) {
        return NC_ERROR;
    }

    p = nc_cpymem(out->data, "{\"name\":\"", 9);
    p = nc_json_escape(p, grouped->data, grouped->len);
    /* the push's document has no groupName (Nacos' UDP push) */
    if (!(flags & NC_NAMING_LIST_PUSH)) {
        p = nc_cpymem(p, "\",\"groupName\":\"", 15);
        p = nc_cpymem(p, name->group.data, name->group.len);
    }

    p = nc_cpymem(p, "\",\"clusters\":\"", 14);
    p = nc_json_escape(p, clusters->data, clusters->len);
    p = nc_cpymem(p, "\",\"cacheMillis\":", 16);
    p += sprintf((char *) p, "%u", NC_NAMING_CACHE_MS);
    p = nc_cpymem(p, ",\"hosts\":", 9);
    p = nc_cpymem(p, hosts.data, hosts.len);
    /* Nacos 2.x computes no checksum: "" */
    p += sprintf((char *) p, ",\"lastRefTime\":%" PRIu64 ",\"checksum\":\"\""
                 ",\"allIPs\":false,\"reachProtectionThreshold\":", modified);
    p = protect ? nc_cpymem(p, "true", 4) : nc_cpymem(p, "false", 5);
    p = nc_cpymem(p, ",\"valid\":true}", 14);

    out->len = p - out->data;

    return NC_OK;
}


/*
 * The host objects of the service's listed instances under prefix, in key
 * order, as a JSON array: in the clusters asked ("": all), the unhealthy
 * left out when healthy_only, unless the protect threshold is reached
 * (then all of them, reported healthy).  buf NULL: measures, an upper
 * bound; else the length written.
 */
static size_t
nc_naming_list_hosts(u_char *buf, nc_store_iter_t *it, nc_store_t *st,
    const nc_store_version_t *v, const u_char *prefix, size_t plen,
    const nc_str_t *clusters, nc_flag_t healthy_only, nc_flag_t protect)
{
    u_char                   *p;
    size_t                    len, hosts;
    nc_store_naming_name_t    n;
    const nc_store_record_t  *rec;

    p = buf;
    len = 2;                             /* [] */
    hosts = 0;

    if (p) {
        *p++ = '[';
    }

    nc_store_iter_init(it, st, v->root, prefix, plen, NULL, 0);

    while ((rec = nc_store_iter_next(it)) != NULL) {
        if (!(rec->flags & NC_STORE_NAMING_ENABLED)
            || (!protect && healthy_only
                && !(rec->flags & NC_STORE_NAMING_HEALTHY)))
        {
            continue;
        }

        if (clusters->len
            && (nc_store_naming_parse_instance(nc_store_record_key(rec),
                                               rec->key_len, &n)
                != NC_OK
                || !nc_naming_in_list(clusters, n.cluster.data,
                                      n.cluster.len)))
        {
            continue;
        }

        if (p == NULL) {
            /* "false" is the longer: room for either */
            len += nc_store_naming_render_host(NULL, rec, 0) + (hosts++ > 0);
            continue;
        }

        if (p > buf + 1) {
            *p++ = ',';
        }

        p += nc_store_naming_render_host(p, rec,
                 protect || (rec->flags & NC_STORE_NAMING_HEALTHY));
    }

    if (p == NULL) {
        return len;
    }

    *p++ = ']';

    return p - buf;
}


/* the listed instances in the clusters asked, and the healthy of them */
static void
nc_naming_list_count(nc_store_iter_t *it, nc_store_t *st,
    const nc_store_version_t *v, const u_char *prefix, size_t plen,
    const nc_str_t *clusters, size_t *all, size_t *healthy)
{
    nc_store_naming_name_t    n;
    const nc_store_record_t  *rec;

    *all = 0;
    *healthy = 0;

    nc_store_iter_init(it, st, v->root, prefix, plen, NULL, 0);

    while ((rec = nc_store_iter_next(it)) != NULL) {
        if ((rec->flags & NC_STORE_NAMING_ENABLED)
            && nc_store_naming_parse_instance(nc_store_record_key(rec),
                                              rec->key_len, &n)
               == NC_OK
            && nc_naming_in_list(clusters, n.cluster.data, n.cluster.len))
        {
            (*all)++;
            *healthy += (rec->flags & NC_STORE_NAMING_HEALTHY) != 0;
        }
    }
}


/* the service's whole list at svc's revision: from the cache, or rendered */
static nc_int_t
nc_naming_list_cached(nc_pool_t *pool, nc_store_iter_t *it, nc_store_t *st,
    const nc_store_version_t *v, const nc_store_record_t *svc,
    const u_char *prefix, size_t plen, nc_str_t *hosts)
{
    size_t                size, len, i, nb;
    nc_naming_cached_t   *e, **b, **table, *next;
    static const nc_str_t  all = nc_null_string;

    b = nc_naming_list_bucket(nc_store_record_key(svc), svc->key_len);

    for (e = b ? *b : NULL; e; e = e->next) {
        if (e->key_len == svc->key_len
            && nc_memcmp(e->key, nc_store_record_key(svc), e->key_len) == 0)
        {
            break;
        }
    }

    if (e && e->revision == svc->revision) {
        if (e != nc_naming_list_newest) {     /* to the front */
            e->newer->older = e->older;
            if (e->older) {
                e->older->newer = e->newer;
            } else {
                nc_naming_list_oldest = e->newer;
            }

            e->newer = NULL;
            e->older = nc_naming_list_newest;
            nc_naming_list_newest->newer = e;
            nc_naming_list_newest = e;
        }

        *hosts = e->hosts;
        return NC_OK;
    }

    if (e) {
        nc_naming_list_evict(e);
    }

    len = nc_naming_list_hosts(NULL, it, st, v, prefix, plen, &all, 0, 0);
    size = sizeof(nc_naming_cached_t) + svc->key_len + len;

    /* a list too big to keep is rendered for this answer alone */
    if (b == NULL || size > nc_naming_list_max / 8
        || (e = malloc(size)) == NULL)
    {
        hosts->data = nc_pnalloc(pool, len);
        if (hosts->data == NULL) {
            return NC_ERROR;
        }

        hosts->len = nc_naming_list_hosts(hosts->data, it, st, v, prefix, plen,
                                          &all, 0, 0);
        return NC_OK;
    }

    e->revision = svc->revision;
    e->size = size;
    e->key_len = svc->key_len;
    nc_memcpy(e->key, nc_store_record_key(svc), svc->key_len);
    e->hosts.data = e->key + e->key_len;
    e->hosts.len = nc_naming_list_hosts(e->hosts.data, it, st, v, prefix,
                                        plen, &all, 0, 0);

    e->next = *b;
    *b = e;
    e->newer = NULL;
    e->older = nc_naming_list_newest;
    if (nc_naming_list_newest) {
        nc_naming_list_newest->newer = e;
    } else {
        nc_naming_list_oldest = e;
    }
    nc_naming_list_newest = e;

    nc_naming_list_used += size;
    nc_naming_list_entries++;

    while (nc_naming_list_used > nc_naming_list_max) {
        nc_naming_list_evict(nc_naming_list_oldest);  /* never e: <= max/8 */
    }

    *hosts = e->hosts;

    /* a table as long as the entries: rehashed when it is outgrown */
    if (nc_naming_list_entries > nc_naming_list_nbuckets) {
        nb = nc_naming_list_nbuckets * 2;
        table = calloc(nb, sizeof(nc_naming_cached_t *));

        if (table) {
            for (i = 0; i < nc_naming_list_nbuckets; i++) {
                for (e = nc_naming_list_buckets[i]; e; e = next) {
                    next = e->next;
                    b = &table[nc_store_key_hash(e->key, e->key_len)
                               & (nb - 1)];
                    e->next = *b;
                    *b = e;
                }
            }

            free(nc_naming_list_buckets);
            nc_naming_list_buckets = table;
            nc_naming_list_nbuckets = nb;
        }
    }

    return NC_OK;
}


/* the key's bucket; NULL when caching is off (or no memory for a table) */
static nc_naming_cached_t **
nc_naming_list_bucket(const u_char *key, size_t len)
{
    if (nc_naming_list_max == 0) {
        return NULL;
    }

    if (nc_naming_list_buckets == NULL) {
        nc_naming_list_buckets = calloc(64, sizeof(nc_naming_cached_t *));
        if (nc_naming_list_buckets == NULL) {
            return NULL;
        }

        nc_naming_list_nbuckets = 64;
    }

    return &nc_naming_list_buckets[nc_store_key_hash(key, len)
                                   & (nc_naming_list_nbuckets - 1)];
}


static void
nc_naming_list_evict(nc_naming_cached_t *e)
{
    nc_naming_cached_t  **b;

    b = nc_naming_list_bucket(e->key, e->key_len);

    while (*b != e) {
        b = &(*b)->next;
    }

    *b = e->next;

    if (e->newer) {
        e->newer->older = e->older;
    } else {
        nc_naming_list_newest = e->older;
    }

    if (e->older) {
        e->older->newer = e->newer;
    } else {
        nc_naming_list_oldest = e->newer;
    }

    nc_naming_list_used -= e->size;
    nc_naming_list_entries--;

    free(e);
}


/* is the name among the comma-separated list */
nc_flag_t
nc_naming_in_list(const nc_str_t *list, const u_char *p, size_t len)
{
    u_char  *s, *end, *comma;

    s = list->data;
    end = list->data + list->len;

    while (s < end) {
        comma = memchr(s, ',', end - s);
        comma = comma ? comma : end;

        if ((size_t) (comma - s) == len && nc_memcmp(s, p, len) == 0) {
            return 1;
        }

        s = comma + 1;
    }

    return 0;
}
