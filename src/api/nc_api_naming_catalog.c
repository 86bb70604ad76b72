
/*
 * nacre: the registry as Nacos' console reads it.
 *
 *   GET /nacos/v1/ns/catalog/services    a page of services with counts
 *   GET /nacos/v1/ns/catalog/service     one service and its clusters
 *   GET /nacos/v1/ns/catalog/instances   a page of one cluster's instances
 *                                        (and v2)
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_json.h>
#include <nc_api.h>
#include <nc_api_config.h>
#include <nc_api_naming.h>
#include <nc_auth.h>


typedef struct {
    nc_api_page_t            pg;
    nc_http_request_t       *request;
    nc_str_t                 name;        /* serviceNameParam: a substring */
    nc_str_t                 group;       /* groupNameParam */
    size_t                   prefix_len;
    nc_flag_t                has_ip;      /* hasIpCount: hide empty ones */
} nc_api_catalog_t;


static nc_int_t nc_api_catalog_services(nc_http_request_t *r);
static nc_int_t nc_api_catalog_service_each(const nc_store_record_t *rec,
    void *data);
static nc_int_t nc_api_catalog_service(nc_http_request_t *r);
static nc_int_t nc_api_catalog_instances(nc_http_request_t *r);
static nc_flag_t nc_api_catalog_contains(const nc_str_t *want,
    const u_char *p, size_t len);


nc_int_t
nc_api_naming_catalog_init_routes(nc_cycle_t *cycle)
{
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                          "/nacos/v1/ns/catalog/services", 0, NC_AUTH_USER,
                          nc_api_catalog_services) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/catalog/service", 0, NC_AUTH_USER,
                             nc_api_catalog_service) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/catalog/instances", 0,
                             NC_AUTH_USER, nc_api_catalog_instances)
           != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v2/ns/catalog/instances", 0,
                             NC_AUTH_USER, nc_api_catalog_instances)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/*
 * {"count":N,"serviceList":[{"name","groupName","clusterCount","ipCount",
 * "healthyInstanceCount","triggerFlag"}]}: the services of a namespace
 * whose name and group contain what is asked, a page of them.
 */
static nc_int_t
nc_api_catalog_services(nc_http_request_t *r)
{
    u_char            *p;
    nc_int_t           rc;
    nc_str_t           ns, v, any;
    nc_api_catalog_t   c;
    u_char             prefix[NC_STORE_MAX_KEY_LEN];

    nc_memzero(&c, sizeof(nc_api_catalog_t));
    c.request = r;

    rc = nc_api_page_init(r, &c.pg, 10, 1000);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "namespaceId", &ns);
    if (ns.len == 0) {
        nc_str_set(&ns, "public");
    }

    if (ns.len > 128 || memchr(ns.data, '/', ns.len)) {
        return nc_api_end(nc_api_naming_illegal(r, NC_API_V1, "namespaceId"));
    }

    any.len = 0;
    rc = nc_auth_permit(r, &ns, &any, "naming", &any, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "serviceNameParam", &c.name);
    nc_api_naming_param(r, "groupNameParam", &c.group);
    nc_api_naming_param(r, "hasIpCount", &v);
    c.has_ip = nc_api_naming_bool(&v, 0);

    p = nc_cpymem(prefix, NC_STORE_NAMING_SERVICE,
                  sizeof(NC_STORE_NAMING_SERVICE) - 1);
    p = nc_cpymem(p, ns.data, ns.len);
    *p++ = '/';
    c.prefix_len = p - prefix;

    nc_api_json_open(&c.pg.json, NULL, '{');
    nc_api_json_open(&c.pg.json, "serviceList", '[');

    rc = nc_api_each(r, prefix, c.prefix_len, nc_api_catalog_service_each, &c);
    if (rc != NC_OK) {
        return rc == NC_BUSY ? NC_HTTP_SERVICE_UNAVAILABLE : rc;
    }

    nc_api_json_close(&c.pg.json, ']');
    nc_api_json_uint(&c.pg.json, "count", c.pg.total);
    nc_api_json_close(&c.pg.json, '}');

    if (c.pg.json.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                c.pg.json.out.pos,
                                nc_buf_size(&c.pg.json.out));
}


static nc_int_t
nc_api_catalog_service_each(const nc_store_record_t *rec, void *data)
{
    u_char                           *k, *at;
    size_t                            klen;
    nc_str_t                          clusters;
    nc_flag_t                         trigger;
    nc_uint_t                         n;
    nc_api_catalog_t                 *c;
    const nc_store_naming_service_t  *h;

    c = data;

    if (rec->type != NC_STORE_T_NAMING
        || rec->value_len < sizeof(nc_store_naming_service_t))
    {
        return NC_OK;
    }

    /* <group>@@<service> */
    k = (u_char *) nc_store_record_key(rec) + c->prefix_len;
    klen = rec->key_len - c->prefix_len;
    at = memmem(k, klen, "@@", 2);

    if (at == NULL
        || !nc_api_catalog_contains(&c->group, k, at - k)
        || !nc_api_catalog_contains(&c->name, at + 2, k + klen - at - 2))
    {
        return NC_OK;
    }

    h = nc_store_naming_service(rec);

    if (c->has_ip && h->instances == 0) {
        return NC_OK;
    }

    if (!nc_api_page_take(&c->pg)) {
        return NC_OK;
    }

    nc_store_naming_field(rec, NC_STORE_NAMING_S_CLUSTERS, &clusters);
    n = clusters.len ? nc_api_count(&clusters, ',') + 1 : 0;

    trigger = (h->flags & NC_STORE_NAMING_S_EXPLICIT) && h->hosts
              && (double) h->healthy / (double) h->hosts
                 <= h->protect_threshold;

    nc_api_json_open(&c->pg.json, NULL, '{');
    nc_api_json_str(&c->pg.json, "name", at + 2, k + klen - at - 2);
    nc_api_json_str(&c->pg.json, "groupName", k, at - k);
    nc_api_json_uint(&c->pg.json, "clusterCount", n);
    nc_api_json_uint(&c->pg.json, "ipCount", h->instances);
    nc_api_json_uint(&c->pg.json, "healthyInstanceCount", h->healthy);
    nc_api_json_str(&c->pg.json, "triggerFlag",
                    (u_char *) (trigger ? "true" : "false"), trigger ? 4 : 5);
    nc_api_json_close(&c->pg.json, '}');

    return c->pg.json.rc;
}


/* blank matches anything; else a substring, as the console searches */
static nc_flag_t
nc_api_catalog_contains(const nc_str_t *want, const u_char *p, size_t len)
{
    return want->len == 0 || memmem(p, len, want->data, want->len) != NULL;
}


/*
 * {"service":{"name","groupName","protectThreshold","selector",
 * "metadata"},"clusters":[{"name","healthChecker","metadata",
 * "useIPPort4Check","defaultPort","defaultCheckPort","serviceName"}]}
 */
static nc_int_t
nc_api_catalog_service(nc_http_request_t *r)
{
    u_char                           *cl, *end, *comma;
    size_t                            klen, plen;
    nc_int_t                          rc;
    nc_str_t                          meta, sel, clusters, checker, cmeta,
                                      cname;
    nc_api_json_t                     j;
    nc_store_iter_t                  *it;
    nc_api_naming_service_t           s;
    const nc_store_record_t          *rec, *crec;
    const nc_store_version_t         *v;
    const nc_store_naming_service_t  *h;
    const nc_store_naming_cluster_t  *ch;
    u_char                            key[NC_STORE_MAX_KEY_LEN];
    u_char                            num[64];

    rc = nc_api_naming_service(r, NC_API_V1, &s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    klen = nc_store_naming_service_key(key, sizeof(key), &s.name);

    v = nc_store_enter(nc_store);
    rec = v && klen ? nc_store_get(nc_store, v, key, klen) : NULL;

    if (rec == NULL || rec->value_len < sizeof(nc_store_naming_service_t)) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, NC_API_V1, NC_HTTP_NOT_FOUND,
                                             NC_API_NAMING_NO_SERVICE,
                                             "service %.*s is not found!",
                                             (int) s.grouped.len,
                                             s.grouped.data));
    }

    h = nc_store_naming_service(rec);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_METADATA, &meta);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_SELECTOR, &sel);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_CLUSTERS, &clusters);

    nc_api_json_init(&j, r->pool);
    nc_api_json_open(&j, NULL, '{');
    nc_api_json_open(&j, "service", '{');
    nc_api_json_str(&j, "name", s.name.service.data, s.name.service.len);
    nc_api_json_str(&j, "groupName", s.name.group.data, s.name.group.len);
    num[nc_store_naming_double(num, h->protect_threshold)] = '\0';
    nc_api_json_raw(&j, "protectThreshold", (char *) num);
    nc_api_json_bytes(&j, "selector", sel.data, sel.len);
    nc_api_json_bytes(&j, "metadata", meta.data, meta.len);
    nc_api_json_close(&j, '}');
    nc_api_json_open(&j, "clusters", '[');

    /* those with settings first, then those only instances name */
    key[2] = 'c';
    key[klen] = NC_STORE_NAMING_SEP;
    plen = klen + 1;

    nc_store_iter_init(it, nc_store, v->root, key, plen, NULL, 0);

    while ((crec = nc_store_iter_next(it)) != NULL) {
        if (crec->value_len < sizeof(nc_store_naming_cluster_t)) {
            continue;
        }

        ch = nc_store_naming_cluster(crec);
        nc_store_naming_field(crec, NC_STORE_NAMING_C_CHECKER, &checker);
        nc_store_naming_field(crec, NC_STORE_NAMING_C_METADATA, &cmeta);

        nc_api_json_open(&j, NULL, '{');
        nc_api_json_str(&j, "name", nc_store_record_key(crec) + plen,
                        crec->key_len - plen);
        nc_api_json_bytes(&j, "healthChecker", checker.data, checker.len);
        if (cmeta.len) {
            nc_api_json_bytes(&j, "metadata", cmeta.data, cmeta.len);
        } else {
            nc_api_json_raw(&j, "metadata", "{}");
        }
        nc_api_json_raw(&j, "useIPPort4Check",
                        ch->flags & NC_STORE_NAMING_C_INSTANCE_PORT
                        ? "true" : "false");
        nc_api_json_raw(&j, "defaultPort", "80");
        nc_api_json_uint(&j, "defaultCheckPort", ch->check_port);
        nc_api_json_str(&j, "serviceName", s.name.service.data,
                        s.name.service.len);
        nc_api_json_close(&j, '}');
    }

    cl = clusters.data;
    end = clusters.data + clusters.len;

    for ( ; cl < end; cl = comma + 1) {
        comma = memchr(cl, ',', end - cl);
        comma = comma ? comma : end;

        cname.data = cl;
        cname.len = comma - cl;
        key[plen - 1] = NC_STORE_NAMING_SEP;
        nc_memcpy(key + plen, cname.data, cname.len);

        if (nc_store_get(nc_store, v, key, plen + cname.len) != NULL) {
            continue;                    /* it has settings: listed */
        }

        nc_api_json_open(&j, NULL, '{');
        nc_api_json_str(&j, "name", cname.data, cname.len);
        nc_api_json_raw(&j, "healthChecker", "{\"type\":\"TCP\"}");
        nc_api_json_raw(&j, "metadata", "{}");
        nc_api_json_raw(&j, "useIPPort4Check", "true");
        nc_api_json_raw(&j, "defaultPort", "80");
        nc_api_json_raw(&j, "defaultCheckPort", "80");
        nc_api_json_str(&j, "serviceName", s.name.service.data,
                        s.name.service.len);
        nc_api_json_close(&j, '}');
    }

    nc_api_json_close(&j, ']');
    nc_api_json_close(&j, '}');

    nc_store_leave(nc_store);

    if (j.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", j.out.pos,
                                nc_buf_size(&j.out));
}


/* {"list":[host...],"count":n}: every instance of a cluster (disabled and
 * unhealthy ones too), a page of them */
static nc_int_t
nc_api_catalog_instances(nc_http_request_t *r)
{
    size_t                     plen;
    nc_int_t                   rc;
    nc_uint_t                  version;
    nc_str_t                   host;
    nc_api_page_t              pg;
    nc_store_iter_t           *it;
    nc_api_naming_service_t    s;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];

    version = nc_api_naming_version(r);

    rc = nc_api_naming_service(r, version, &s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    rc = nc_api_page_init(r, &pg, 20, 1000);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "clusterName", &s.name.cluster);
    s.name.ip.len = 0;

    plen = nc_store_naming_instance_key(prefix, sizeof(prefix), &s.name);

    if (plen == 0) {
        return nc_api_end(nc_api_naming_illegal(r, version, "clusterName"));
    }

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_open(&pg.json, NULL, '{');
    nc_api_json_open(&pg.json, "list", '[');

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);

        while ((rec = nc_store_iter_next(it)) != NULL) {
            if (rec->value_len < sizeof(nc_store_naming_instance_t)
                || !nc_api_page_take(&pg))
            {
                continue;
            }

            nc_store_naming_field(rec, NC_STORE_NAMING_I_HOST, &host);
            nc_api_json_bytes(&pg.json, NULL, host.data, host.len);
        }
    }

    nc_store_leave(nc_store);

    nc_api_json_close(&pg.json, ']');
    nc_api_json_uint(&pg.json, "count", pg.total);
    nc_api_json_close(&pg.json, '}');

    if (pg.json.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_config_ok(r, version, pg.json.out.pos,
                            nc_buf_size(&pg.json.out));
}
