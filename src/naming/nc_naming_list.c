
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

#include <openssl/evp.h>


#define NC_NAMING_CACHE_MS        10000


uint64_t
nc_naming_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


/*
 * The list as /instance/list answers it (Nacos 2.x' ServiceInfo).  In the
 * common case (every cluster, nobody filtered out, the protect threshold
 * not reached) the hosts are the bytes the store rendered; else they are
 * chosen and rendered here.
 */
nc_int_t
nc_naming_list(nc_pool_t *pool, nc_store_t *st, const nc_store_version_t *v,
    const nc_store_naming_name_t *name, const nc_str_t *grouped,
    const nc_str_t *clusters, nc_uint_t flags, nc_str_t *out)
{
    u_char                           *p, *cl, *end;
    size_t                            len, plen, n_all, n_healthy;
    uint64_t                          modified;
    nc_str_t                          hosts, checksum, svc_clusters, one;
    nc_flag_t                         protect, all_clusters, explicit,
                                      healthy_only;
    nc_uint_t                         pass;
    double                            threshold;
    unsigned int                      mdlen;
    nc_store_iter_t                  *it;
    nc_store_naming_name_t            n;
    const nc_store_record_t          *svc, *rec;
    const nc_store_naming_service_t  *h;
    u_char                            key[NC_STORE_MAX_KEY_LEN];
    u_char                            md5[16], hex[33];

    healthy_only = (flags & NC_NAMING_LIST_HEALTHY_ONLY) != 0;

    len = nc_store_naming_service_key(key, sizeof(key), name);
    svc = len ? nc_store_get(st, v, key, len) : NULL;

    if (svc && (svc->type != NC_STORE_T_NAMING
                || svc->value_len < sizeof(nc_store_naming_service_t)))
    {
        svc = NULL;
    }

    hosts.len = 0;
    checksum.len = 0;
    protect = 0;
    modified = nc_naming_now();

    if (svc) {
        h = nc_store_naming_service(svc);
        modified = h->modified;
        explicit = (h->flags & NC_STORE_NAMING_S_EXPLICIT) != 0;
        threshold = h->protect_threshold;

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

        n_all = h->hosts;
        n_healthy = h->healthy;

        if (all_clusters && (!healthy_only || n_healthy == n_all)
            && !(explicit && n_all
                 && (double) n_healthy / (double) n_all <= threshold))
        {
            nc_store_naming_field(svc, NC_STORE_NAMING_S_HOSTS, &hosts);
            nc_store_naming_field(svc, NC_STORE_NAMING_S_CHECKSUM, &checksum);

        } else {
            /* choose: twice over the instances, counting then writing */
            it = nc_palloc(pool, sizeof(nc_store_iter_t));
            if (it == NULL) {
                return NC_ERROR;
            }

            n = *name;
            n.cluster.len = 0;
            n.ip.len = 0;
            plen = nc_store_naming_instance_key(key, sizeof(key), &n);

            n_all = 0;
            n_healthy = 0;
            len = 2;
            p = NULL;

            for (pass = 0; pass < 3; pass++) {
                if (pass == 2) {
                    hosts.data = nc_pnalloc(pool, len);
                    if (hosts.data == NULL) {
                        return NC_ERROR;
                    }

                    p = hosts.data;
                    *p++ = '[';
                }

                nc_store_iter_init(it, st, v->root, key, plen, NULL, 0);

                while ((rec = nc_store_iter_next(it)) != NULL) {
                    if (!(rec->flags & NC_STORE_NAMING_ENABLED)
                        || nc_store_naming_parse_instance(
                               nc_store_record_key(rec), rec->key_len, &n)
                           != NC_OK
                        || (clusters->len
                            && !nc_naming_in_list(clusters, n.cluster.data,
                                                      n.cluster.len)))
                    {
                        continue;
                    }

                    if (pass == 0) {
                        n_all++;
                        n_healthy += (rec->flags & NC_STORE_NAMING_HEALTHY)
                                     != 0;
                        continue;
                    }

                    if (!protect && healthy_only
                        && !(rec->flags & NC_STORE_NAMING_HEALTHY))
                    {
                        continue;
                    }

                    if (pass == 1) {
                        /* "false" is the longer: room for either */
                        len += nc_store_naming_render_host(NULL, rec, 0) + 1;
                        continue;
                    }

                    if (p > hosts.data + 1) {
                        *p++ = ',';
                    }

                    p += nc_store_naming_render_host(p, rec,
                             protect || (rec->flags & NC_STORE_NAMING_HEALTHY));
                }

                if (pass == 0) {
                    protect = explicit && n_all
                              && (double) n_healthy / (double) n_all
                                 <= threshold;
                }
            }

            *p++ = ']';
            hosts.len = p - hosts.data;

            mdlen = 16;
            if (EVP_Digest(hosts.data, hosts.len, md5, &mdlen, EVP_md5(),
                           NULL) != 1)
            {
                nc_memzero(md5, 16);
            }

            for (pass = 0; pass < 16; pass++) {
                hex[2 * pass] = "0123456789abcdef"[md5[pass] >> 4];
                hex[2 * pass + 1] = "0123456789abcdef"[md5[pass] & 0xf];
            }
            checksum.data = hex;
            checksum.len = 32;
        }
    }

    if (hosts.len == 0) {
        nc_str_set(&hosts, "[]");
    }

    one.len = nc_json_escape_len(grouped->data, grouped->len)
              + nc_json_escape_len(clusters->data, clusters->len)
              + name->group.len + hosts.len + checksum.len + 256;

    out->data = nc_pnalloc(pool, one.len);
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
    p += sprintf((char *) p, ",\"lastRefTime\":%" PRIu64 ",\"checksum\":\"",
                 modified);
    p = nc_cpymem(p, checksum.data, checksum.len);
    p = nc_cpymem(p, "\",\"allIPs\":false,\"reachProtectionThreshold\":", 44);
    p = protect ? nc_cpymem(p, "true", 4) : nc_cpymem(p, "false", 5);
    p = nc_cpymem(p, ",\"valid\":true}", 14);

    out->len = p - out->data;

    return NC_OK;
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
