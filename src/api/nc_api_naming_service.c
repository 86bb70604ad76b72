
/*
 * nacre: the registry's services and the operator's endpoints, Nacos'
 * naming API.
 *
 *   POST|DELETE|PUT|GET  /nacos/v1/ns/service          (and v2)
 *   GET                  /nacos/v1/ns/service/list     (and v2)
 *   GET                  /nacos/v1/ns/operator/metrics (and ops/, v2)
 *   GET|PUT              /nacos/v1/ns/operator/switches
 *   PUT                  /nacos/v1/ns/cluster
 *   PUT                  /nacos/v1/ns/health/instance  (and /health, v2)
 *   GET                  /nacos/v1/ns/health/checkers
 *   GET                  /nacos/v1/ns/health/server
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

#include <jansson.h>


typedef struct {
    nc_api_naming_service_t  s;
    size_t                   key_len;
    u_char                   key[NC_STORE_MAX_KEY_LEN];
} nc_api_naming_svc_t;


/* a walk over services: counts, or a page of names */
typedef struct {
    nc_api_page_t            pg;
    nc_uint_t                services;
    nc_uint_t                instances;
    size_t                   prefix_len;
    nc_flag_t                count_only;
} nc_api_naming_walk_t;


static nc_int_t nc_api_naming_service_handler(nc_http_request_t *r);
static nc_int_t nc_api_naming_service_write(nc_http_request_t *r,
    nc_api_naming_svc_t *sv, nc_uint_t op);
static void nc_api_naming_service_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_naming_service_get(nc_http_request_t *r,
    nc_api_naming_svc_t *sv);
static nc_int_t nc_api_naming_selector(nc_http_request_t *r,
    nc_uint_t version, const nc_str_t *in, nc_str_t *out);
static nc_int_t nc_api_naming_clusters(nc_http_request_t *r,
    const nc_store_version_t *v, nc_api_naming_svc_t *sv,
    const nc_str_t *named, nc_str_t *out);
static nc_int_t nc_api_naming_service_list(nc_http_request_t *r);
static nc_int_t nc_api_naming_walk(const nc_store_record_t *rec, void *data);
static nc_int_t nc_api_naming_metrics(nc_http_request_t *r);
static nc_int_t nc_api_naming_switches(nc_http_request_t *r);
static nc_int_t nc_api_naming_health(nc_http_request_t *r);
static nc_int_t nc_api_naming_cluster(nc_http_request_t *r);
static nc_int_t nc_api_naming_checker(nc_http_request_t *r,
    const nc_str_t *in, nc_str_t *out);
static nc_int_t nc_api_naming_checkers(nc_http_request_t *r);
static nc_int_t nc_api_naming_set_health(nc_http_request_t *r);
static void nc_api_naming_cluster_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static void nc_api_naming_health_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);


nc_int_t
nc_api_naming_service_init_routes(nc_cycle_t *cycle)
{
    nc_uint_t  crud;

    crud = NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_POST | NC_HTTP_PUT
           | NC_HTTP_DELETE;

    if (nc_http_add_route(crud, "/nacos/v1/ns/service", 0, NC_AUTH_USER,
                          nc_api_naming_service_handler) != NC_OK
        || nc_http_add_route(crud, "/nacos/v2/ns/service", 0, NC_AUTH_USER,
                             nc_api_naming_service_handler) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/service/list", 0, NC_AUTH_USER,
                             nc_api_naming_service_list) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v2/ns/service/list", 0, NC_AUTH_USER,
                             nc_api_naming_service_list) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/operator/metrics", 0, NC_AUTH_USER,
                             nc_api_naming_metrics) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/ops/metrics", 0, NC_AUTH_USER,
                             nc_api_naming_metrics) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v2/ns/operator/metrics", 0, NC_AUTH_USER,
                             nc_api_naming_metrics) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_PUT,
                             "/nacos/v1/ns/operator/switches", 0,
                             NC_AUTH_ADMIN, nc_api_naming_switches) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_PUT,
                             "/nacos/v1/ns/ops/switches", 0,
                             NC_AUTH_ADMIN, nc_api_naming_switches) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/health/server", 0, NC_AUTH_ANON,
                             nc_api_naming_health) != NC_OK
        || nc_http_add_route(NC_HTTP_PUT, "/nacos/v1/ns/cluster", 0,
                             NC_AUTH_USER, nc_api_naming_cluster) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/ns/health/checkers", 0, NC_AUTH_USER,
                             nc_api_naming_checkers) != NC_OK
        || nc_http_add_route(NC_HTTP_PUT, "/nacos/v1/ns/health/instance", 0,
                             NC_AUTH_USER, nc_api_naming_set_health)
           != NC_OK
        || nc_http_add_route(NC_HTTP_PUT, "/nacos/v1/ns/health", 0,
                             NC_AUTH_USER, nc_api_naming_set_health)
           != NC_OK
        || nc_http_add_route(NC_HTTP_PUT, "/nacos/v2/ns/health/instance", 0,
                             NC_AUTH_USER, nc_api_naming_set_health)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_api_naming_service_handler(nc_http_request_t *r)
{
    nc_int_t              rc;
    nc_uint_t             op, version;
    nc_api_naming_svc_t  *sv;

    version = nc_api_naming_version(r);

    sv = nc_pcalloc(r->pool, sizeof(nc_api_naming_svc_t));
    if (sv == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, version, &sv->s,
                               r->method & (NC_HTTP_GET | NC_HTTP_HEAD)
                               ? NC_AUTH_READ : NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    sv->key_len = nc_store_naming_service_key(sv->key, sizeof(sv->key),
                                              &sv->s.name);
    if (sv->key_len == 0) {
        return nc_api_end(nc_api_naming_illegal(r, version, "serviceName"));
    }

    switch (r->method) {

    case NC_HTTP_POST:
        op = NC_STORE_NAMING_SERVICE_CREATE;
        break;

    case NC_HTTP_PUT:
        op = NC_STORE_NAMING_SERVICE_UPDATE;
        break;

    case NC_HTTP_DELETE:
        op = NC_STORE_NAMING_SERVICE_DELETE;
        break;

    default:
        return nc_api_naming_service_get(r, sv);
    }

    return nc_api_naming_service_write(r, sv, op);
}


static nc_int_t
nc_api_naming_service_write(nc_http_request_t *r, nc_api_naming_svc_t *sv,
    nc_uint_t op)
{
    char                   *end;
    u_char                 *cmd;
    size_t                  len;
    double                  t;
    nc_int_t                rc;
    nc_str_t                v;
    nc_store_naming_cmd_t   c;
    char                    buf[64];

    nc_memzero(&c, sizeof(nc_store_naming_cmd_t));
    c.time = nc_api_config_now();

    if (op != NC_STORE_NAMING_SERVICE_DELETE) {
        nc_api_naming_param(r, "protectThreshold", &v);

        /* 2.x wants it on an update */
        if (v.len == 0 && op == NC_STORE_NAMING_SERVICE_UPDATE) {
            return nc_api_end(nc_api_naming_missing(r, sv->s.version,
                                                    "protectThreshold"));
        }

        if (v.len) {
            if (v.len >= sizeof(buf)) {
                return nc_api_end(nc_api_naming_illegal(r, sv->s.version,
                                                        "protectThreshold"));
            }

            nc_memcpy(buf, v.data, v.len);
            buf[v.len] = '\0';
            t = strtod(buf, &end);

            if (*end != '\0' || t != t || t > 1e9 || t < -1e9) {
                return nc_api_end(nc_api_naming_illegal(r, sv->s.version,
                                                        "protectThreshold"));
            }

            c.weight = t < 0 ? 0 : t;         /* negative counts as 0 */
        }

        nc_api_naming_param(r, "metadata", &v);

        rc = nc_api_naming_metadata(r, sv->s.version, &v, &c.metadata);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        nc_api_naming_param(r, "selector", &v);

        rc = nc_api_naming_selector(r, sv->s.version, &v, &c.extra);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }
    }

    cmd = nc_store_naming_command(r->pool, op, sv->key, sv->key_len, 0, &c,
                                  &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_naming_service_written, sv);
}


/* {"type":"none"} or {"type":"label","expression":"..."}; "": none given */
static nc_int_t
nc_api_naming_selector(nc_http_request_t *r, nc_uint_t version,
    const nc_str_t *in, nc_str_t *out)
{
    char          *dump;
    json_t        *root, *type, *expr;
    json_error_t   err;

    out->len = 0;

    if (in->len == 0) {
        return NC_OK;
    }

    root = json_loadb((const char *) in->data, in->len, 0, &err);
    type = json_object_get(root, "type");
    expr = json_object_get(root, "expression");

    if (root == NULL || !json_is_object(root) || !json_is_string(type)
        || (strcmp(json_string_value(type), "none") != 0
            && strcmp(json_string_value(type), "label") != 0)
        || (expr && !json_is_string(expr)))
    {
        json_decref(root);
        return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_SELECTOR,
                                  "selector must be {\"type\":\"none\"} or "
                                  "{\"type\":\"label\",\"expression\":...}");
    }

    dump = json_dumps(root, JSON_COMPACT);
    json_decref(root);

    if (dump == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->len = strlen(dump);
    out->data = nc_pnalloc(r->pool, out->len);

    if (out->data) {
        nc_memcpy(out->data, dump, out->len);
    }

    free(dump);

    return out->data ? NC_OK : NC_HTTP_INTERNAL_SERVER_ERROR;
}


static void
nc_api_naming_service_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index)
{
    nc_int_t              rc;
    nc_uint_t             version;
    nc_api_naming_svc_t  *sv;

    sv = data;
    version = sv->s.version;

    switch (status) {

    case NC_OK:
        rc = version == NC_API_V1
             ? nc_http_set_response(r, NC_HTTP_OK, "text/plain;charset=UTF-8",
                                    (u_char *) "ok", 2)
             : nc_api_config_ok(r, version, (u_char *) "\"ok\"", 4);
        break;

    case NC_DECLINED:
        if (r->method == NC_HTTP_POST) {
            rc = nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                    NC_API_NAMING_EXISTS,
                                    "specified service already exists, "
                                    "serviceName : %.*s",
                                    (int) sv->s.grouped.len,
                                    sv->s.grouped.data);
            break;
        }

        rc = nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_NO_SERVICE,
                                "specified service not exist, serviceName : "
                                "%.*s", (int) sv->s.grouped.len,
                                sv->s.grouped.data);
        break;

    case NC_ERROR:
        rc = nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_NOT_DELETED,
                                "Service %.*s is not empty, can't be delete. "
                                "Please unregister instance first",
                                (int) sv->s.grouped.len, sv->s.grouped.data);
        break;

    default:
        rc = nc_api_naming_unavailable(r, version, status);
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}


static nc_int_t
nc_api_naming_service_get(nc_http_request_t *r, nc_api_naming_svc_t *sv)
{
    u_char                           *p;
    nc_str_t                          meta, sel, clusters, name, list;
    const nc_store_record_t          *rec;
    const nc_store_version_t         *v;
    const nc_store_naming_service_t  *h;
    u_char                            num[64];

    v = nc_store_enter(nc_store);
    rec = v ? nc_store_get(nc_store, v, sv->key, sv->key_len) : NULL;

    if (rec == NULL || rec->type != NC_STORE_T_NAMING) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, sv->s.version,
                                             NC_HTTP_BAD_REQUEST,
                                             NC_API_NAMING_NO_SERVICE,
                                             "service not found, namespace: "
                                             "%.*s, serviceName: %.*s",
                                             (int) sv->s.name.ns.len,
                                             sv->s.name.ns.data,
                                             (int) sv->s.grouped.len,
                                             sv->s.grouped.data));
    }

    h = nc_store_naming_service(rec);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_METADATA, &meta);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_SELECTOR, &sel);
    nc_store_naming_field(rec, NC_STORE_NAMING_S_CLUSTERS, &clusters);

    num[nc_store_naming_double(num, h->protect_threshold)] = '\0';

    if (nc_api_naming_clusters(r, v, sv, &clusters, &list) != NC_OK) {
        nc_store_leave(nc_store);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = nc_pnalloc(r->pool, 256 + 3 * sv->s.name.ns.len
                            + 3 * sv->s.name.group.len
                            + 6 * sv->s.name.service.len + meta.len + sel.len
                            + list.len);
    if (p == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* metadata and selector are objects the store keeps whole */
    name.data = p;
    p = nc_cpymem(p, "{\"namespaceId\":\"", 16);
    p = nc_cpymem(p, sv->s.name.ns.data, sv->s.name.ns.len);
    p = nc_cpymem(p, "\",\"groupName\":\"", 15);
    p = nc_cpymem(p, sv->s.name.group.data, sv->s.name.group.len);
    p = nc_cpymem(p, "\",\"name\":\"", 10);
    p = nc_json_escape(p, sv->s.name.service.data, sv->s.name.service.len);
    p = nc_cpymem(p, "\",\"protectThreshold\":", 21);
    p = nc_cpymem(p, num, strlen((char *) num));
    p = nc_cpymem(p, ",\"metadata\":", 12);
    p = nc_cpymem(p, meta.data, meta.len);
    p = nc_cpymem(p, ",\"selector\":", 12);
    p = nc_cpymem(p, sel.data, sel.len);
    p = nc_cpymem(p, ",\"clusters\":", 12);
    p = nc_cpymem(p, list.data, list.len);

    *p++ = '}';
    name.len = p - name.data;

    nc_store_leave(nc_store);

    return nc_api_config_ok(r, sv->s.version, name.data, name.len);
}


/*
 * [{"name","healthChecker","metadata"},...]: the clusters with settings,
 * then those only instances name (checked by TCP, the default).
 */
static nc_int_t
nc_api_naming_clusters(nc_http_request_t *r, const nc_store_version_t *v,
    nc_api_naming_svc_t *sv, const nc_str_t *named, nc_str_t *out)
{
    u_char                   *p, *cl, *end, *comma;
    size_t                    len, plen;
    nc_str_t                  checker, meta, cname;
    nc_uint_t                 pass, i, n;
    nc_array_t               *names;
    nc_str_t                 *name;
    nc_store_iter_t          *it;
    const nc_store_record_t  *rec;
    u_char                    prefix[NC_STORE_MAX_KEY_LEN];

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_ERROR;
    }

    nc_memcpy(prefix, sv->key, sv->key_len);
    prefix[2] = 'c';
    prefix[sv->key_len] = NC_STORE_NAMING_SEP;
    plen = sv->key_len + 1;

    len = 2 + 96 * (named->len + 1);
    p = NULL;
    out->data = NULL;

    names = nc_array_create(r->pool, 4, sizeof(nc_str_t));
    if (names == NULL) {
        return NC_ERROR;
    }

    /* measure, then write */
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            out->data = nc_pnalloc(r->pool, len);
            if (out->data == NULL) {
                return NC_ERROR;
            }

            p = out->data;
            *p++ = '[';
        }

        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);

        while ((rec = nc_store_iter_next(it)) != NULL) {
            if (rec->value_len < sizeof(nc_store_naming_cluster_t)) {
                continue;
            }

            nc_store_naming_field(rec, NC_STORE_NAMING_C_CHECKER, &checker);
            nc_store_naming_field(rec, NC_STORE_NAMING_C_METADATA, &meta);
            cname.data = (u_char *) nc_store_record_key(rec) + plen;
            cname.len = rec->key_len - plen;

            if (pass == 0) {
                len += cname.len + checker.len + meta.len + 64;

                name = nc_array_push(names);
                if (name == NULL) {
                    return NC_ERROR;
                }

                *name = cname;
                continue;
            }

            if (p > out->data + 1) {
                *p++ = ',';
            }

            p = nc_cpymem(p, "{\"name\":\"", 9);
            p = nc_cpymem(p, cname.data, cname.len);
            p = nc_cpymem(p, "\",\"healthChecker\":", 18);
            p = nc_cpymem(p, checker.data, checker.len);
            p = nc_cpymem(p, ",\"metadata\":", 12);
            p = meta.len ? nc_cpymem(p, meta.data, meta.len)
                         : nc_cpymem(p, "{}", 2);
            *p++ = '}';
        }
    }

    /* the clusters only instances name */
    cl = named->data;
    end = named->data + named->len;

    for ( ; cl < end; cl = comma + 1) {
        comma = memchr(cl, ',', end - cl);
        comma = comma ? comma : end;

        name = names->elts;
        n = names->nelts;

        for (i = 0; i < n; i++) {
            if (name[i].len == (size_t) (comma - cl)
                && nc_memcmp(name[i].data, cl, name[i].len) == 0)
            {
                break;
            }
        }

        if (i < n) {
            continue;                    /* it has settings, listed above */
        }

        if (p > out->data + 1) {
            *p++ = ',';
        }

        p = nc_cpymem(p, "{\"name\":\"", 9);
        p = nc_cpymem(p, cl, comma - cl);
        p = nc_cpymem(p, "\",\"healthChecker\":{\"type\":\"TCP\"},"
                         "\"metadata\":{}}", 47);
    }

    *p++ = ']';
    out->len = p - out->data;

    return NC_OK;
}


/* --- listings ------------------------------------------------------------- */


/* the names of a group's services, a page of them: {"count","doms"} (v1),
 * {"count","services"} (v2) */
static nc_int_t
nc_api_naming_service_list(nc_http_request_t *r)
{
    u_char                  *p;
    size_t                   len;
    nc_int_t                 rc;
    nc_str_t                 ns, group, v, any;
    nc_uint_t                version;
    nc_api_naming_walk_t     w;
    u_char                   prefix[NC_STORE_MAX_KEY_LEN];

    version = nc_api_naming_version(r);

    if (version == NC_API_V1) {
        nc_api_naming_param(r, "pageNo", &v);
        if (v.len == 0) {
            return nc_api_end(nc_api_naming_missing(r, version, "pageNo"));
        }

        nc_api_naming_param(r, "pageSize", &v);
        if (v.len == 0) {
            return nc_api_end(nc_api_naming_missing(r, version, "pageSize"));
        }
    }

    nc_memzero(&w, sizeof(nc_api_naming_walk_t));

    rc = nc_api_page_init(r, &w.pg, 20, version == NC_API_V1 ? 100000 : 500);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "namespaceId", &ns);
    if (ns.len == 0) {
        nc_str_set(&ns, "public");
    }

    nc_api_naming_param(r, "groupName", &group);
    if (group.len == 0) {
        nc_str_set(&group, "DEFAULT_GROUP");
    }

    if (ns.len + group.len + 8 > sizeof(prefix)
        || memchr(ns.data, '/', ns.len) || memchr(group.data, '@', group.len)
        || memchr(group.data, '/', group.len))
    {
        return nc_api_end(nc_api_naming_illegal(r, version, "groupName"));
    }

    any.len = 0;
    rc = nc_auth_permit(r, &ns, &group, "naming", &any, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    p = nc_cpymem(prefix, NC_STORE_NAMING_SERVICE,
                  sizeof(NC_STORE_NAMING_SERVICE) - 1);
    p = nc_cpymem(p, ns.data, ns.len);
    *p++ = '/';
    p = nc_cpymem(p, group.data, group.len);
    *p++ = '@';
    *p++ = '@';
    len = p - prefix;
    w.prefix_len = len;

    nc_api_json_open(&w.pg.json, NULL, '{');
    nc_api_json_open(&w.pg.json, version == NC_API_V1 ? "doms" : "services",
                     '[');

    rc = nc_api_each(r, prefix, len, nc_api_naming_walk, &w);
    if (rc != NC_OK) {
        return rc == NC_BUSY ? NC_HTTP_SERVICE_UNAVAILABLE : rc;
    }

    nc_api_json_close(&w.pg.json, ']');
    nc_api_json_uint(&w.pg.json, "count", w.pg.total);
    nc_api_json_close(&w.pg.json, '}');

    if (w.pg.json.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_config_ok(r, version, w.pg.json.out.pos,
                            nc_buf_size(&w.pg.json.out));
}


static nc_int_t
nc_api_naming_walk(const nc_store_record_t *rec, void *data)
{
    nc_api_naming_walk_t  *w;

    w = data;

    if (rec->type != NC_STORE_T_NAMING
        || rec->value_len < sizeof(nc_store_naming_service_t))
    {
        return NC_OK;
    }

    w->services++;
    w->instances += nc_store_naming_service(rec)->instances;

    if (!w->count_only && nc_api_page_take(&w->pg)) {
        nc_api_json_str(&w->pg.json, NULL,
                        nc_store_record_key(rec) + w->prefix_len,
                        rec->key_len - w->prefix_len);
    }

    return w->pg.json.rc;
}


/* --- operator ------------------------------------------------------------- */


/* 2.x: {"status":"UP"}, with onlyStatus=false the counts too */
static nc_int_t
nc_api_naming_metrics(nc_http_request_t *r)
{
    u_char                *p;
    size_t                 len;
    nc_int_t               rc;
    nc_str_t               v;
    nc_uint_t              version;
    nc_api_naming_walk_t   w;

    version = nc_api_naming_version(r);

    nc_api_naming_param(r, "onlyStatus", &v);

    if (nc_api_naming_bool(&v, 1)) {
        return nc_api_config_ok(r, version, (u_char *) "{\"status\":\"UP\"}",
                                sizeof("{\"status\":\"UP\"}") - 1);
    }

    nc_memzero(&w, sizeof(nc_api_naming_walk_t));
    w.count_only = 1;

    rc = nc_api_each(r, (u_char *) NC_STORE_NAMING_SERVICE,
                     sizeof(NC_STORE_NAMING_SERVICE) - 1,
                     nc_api_naming_walk, &w);
    if (rc != NC_OK && rc != NC_BUSY) {
        return rc;
    }

    p = nc_pnalloc(r->pool, 512);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) snprintf((char *) p, 512,
                            "{\"status\":\"%s\",\"serviceCount\":%u,"
                            "\"instanceCount\":%u,\"subscribeCount\":0,"
                            "\"responsibleInstanceCount\":%u,"
                            "\"clientCount\":%u}",
                            rc == NC_BUSY ? "DOWN" : "UP",
                            (unsigned) w.services, (unsigned) w.instances,
                            (unsigned) w.instances, (unsigned) w.instances);

    return nc_api_config_ok(r, version, p, len);
}


/*
 * Nacos' SwitchDomain, as nacre runs it.  The switches are nacre.yaml's
 * (naming:), so a PUT is refused with where to set them.
 */
static nc_int_t
nc_api_naming_switches(nc_http_request_t *r)
{
    u_char  *p;
    size_t   len;

    if (r->method == NC_HTTP_PUT) {
        return nc_api_end(nc_api_naming_fail(r, NC_API_V1,
                                             NC_HTTP_BAD_REQUEST,
                                             NC_API_NAMING_INVALID,
                                             "nacre's switches are set in "
                                             "nacre.yaml (naming:) and apply "
                                             "on reload"));
    }

    p = nc_pnalloc(r->pool, 1024);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) snprintf((char *) p, 1024,
        "{\"name\":\"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00\","
        "\"masters\":null,\"adWeightMap\":{},\"defaultPushCacheMillis\":10000,"
        "\"clientBeatInterval\":%u,\"defaultCacheMillis\":3000,"
        "\"distroThreshold\":0.7,\"healthCheckEnabled\":%s,"
        "\"autoChangeHealthCheckEnabled\":true,\"distroEnabled\":false,"
        "\"enableStandalone\":true,\"pushEnabled\":true,\"checkTimes\":3,"
        "\"httpHealthParams\":{\"max\":5000,\"min\":500,\"factor\":0.85},"
        "\"tcpHealthParams\":{\"max\":5000,\"min\":1000,\"factor\":0.75},"
        "\"mysqlHealthParams\":{\"max\":3000,\"min\":2000,\"factor\":0.65},"
        "\"incrementalList\":[],\"serverStatusSynchronizationPeriodMillis\":"
        "2000,\"serviceStatusSynchronizationPeriodMillis\":5000,"
        "\"disableAddIP\":false,\"sendBeatOnly\":false,"
        "\"lightBeatEnabled\":true,\"limitedUrlMap\":{},"
        "\"distroServerExpiredMillis\":10000,\"pushGoVersion\":\"0.1.0\","
        "\"pushJavaVersion\":\"0.1.0\",\"pushPythonVersion\":\"0.4.3\","
        "\"pushCVersion\":\"1.0.12\",\"pushCSharpVersion\":\"0.9.0\","
        "\"enableAuthentication\":false,\"overriddenServerStatus\":null,"
        "\"defaultInstanceEphemeral\":true,\"healthCheckWhiteList\":[],"
        "\"checksum\":null}",
        (unsigned) nc_api_naming_conf->beat_interval,
        nc_api_naming_conf->health_check ? "true" : "false");

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", p, len);
}


static nc_int_t
nc_api_naming_health(nc_http_request_t *r)
{
    static u_char  body[] = "{\"msg\":\"Hello! I am Nacos-Naming and healthy! "
                            "total services: raft 0, local port:8848\"}";

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", body,
                                sizeof(body) - 1);
}


/* --- clusters and health ---------------------------------------------------- */


/*
 * A cluster's settings: healthChecker (TCP, HTTP with path and expected
 * code, NONE: set by hand), checkPort, useInstancePort4Check, metadata.
 * Nacos wants all but metadata.
 */
static nc_int_t
nc_api_naming_cluster(nc_http_request_t *r)
{
    u_char                   *cmd;
    size_t                    len, klen;
    nc_int_t                  rc, port;
    nc_str_t                  v;
    nc_api_naming_svc_t      *sv;
    nc_store_naming_cmd_t     c;
    static const char        *required[] = {
        "clusterName", "checkPort", "useInstancePort4Check", "healthChecker"
    };
    nc_uint_t                 i;

    sv = nc_pcalloc(r->pool, sizeof(nc_api_naming_svc_t));
    if (sv == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, NC_API_V1, &sv->s, NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    for (i = 0; i < nc_nelems(required); i++) {
        nc_api_naming_param(r, required[i], &v);
        if (v.len == 0) {
            return nc_api_end(nc_api_naming_missing(r, NC_API_V1,
                                                    required[i]));
        }
    }

    nc_memzero(&c, sizeof(nc_store_naming_cmd_t));
    c.time = nc_api_config_now();

    nc_api_naming_param(r, "clusterName", &sv->s.name.cluster);

    if (memchr(sv->s.name.cluster.data, NC_STORE_NAMING_SEP,
               sv->s.name.cluster.len)
        || memchr(sv->s.name.cluster.data, ',', sv->s.name.cluster.len))
    {
        return nc_api_end(nc_api_naming_illegal(r, NC_API_V1, "clusterName"));
    }

    nc_api_naming_param(r, "checkPort", &v);
    port = nc_atoi(v.data, v.len);

    if (port < 0 || port > 65535) {
        return nc_api_end(nc_api_naming_illegal(r, NC_API_V1, "checkPort"));
    }

    c.beat_interval = (uint32_t) port;

    nc_api_naming_param(r, "useInstancePort4Check", &v);
    if (nc_api_naming_bool(&v, 0)) {
        c.what |= NC_STORE_NAMING_W_INSTANCE_PORT;
    }

    nc_api_naming_param(r, "healthChecker", &v);
    rc = nc_api_naming_checker(r, &v, &c.extra);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "metadata", &v);
    rc = nc_api_naming_metadata(r, NC_API_V1, &v, &c.metadata);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    klen = nc_store_naming_cluster_key(sv->key, sizeof(sv->key), &sv->s.name);
    if (klen == 0) {
        return nc_api_end(nc_api_naming_illegal(r, NC_API_V1, "clusterName"));
    }

    cmd = nc_store_naming_command(r->pool, NC_STORE_NAMING_CLUSTER_SET,
                                  sv->key, klen, 0, &c, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_naming_cluster_written, sv);
}


static void
nc_api_naming_cluster_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index)
{
    nc_int_t              rc;
    nc_api_naming_svc_t  *sv;

    sv = data;

    switch (status) {

    case NC_OK:
        rc = nc_http_set_response(r, NC_HTTP_OK, "text/plain;charset=UTF-8",
                                  (u_char *) "ok", 2);
        break;

    case NC_DECLINED:
        rc = nc_api_naming_fail(r, sv->s.version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_NO_SERVICE,
                                "service not found, namespace: %.*s, "
                                "serviceName: %.*s",
                                (int) sv->s.name.ns.len, sv->s.name.ns.data,
                                (int) sv->s.grouped.len, sv->s.grouped.data);
        break;

    case NC_ERROR:
        rc = nc_api_naming_illegal(r, sv->s.version, "clusterName");
        break;

    default:
        rc = nc_api_naming_unavailable(r, sv->s.version, status);
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}


/* Nacos' healthChecker JSON, written back in one form */
static nc_int_t
nc_api_naming_checker(nc_http_request_t *r, const nc_str_t *in,
    nc_str_t *out)
{
    int            n;
    json_t        *root, *type, *path, *headers, *code;
    json_int_t     expected;
    const char    *t;
    json_error_t   err;

    root = json_loadb((const char *) in->data, in->len, 0, &err);
    type = json_object_get(root, "type");
    t = json_is_string(type) ? json_string_value(type) : "";

    if (root == NULL || !json_is_object(root)
        || (strcmp(t, "TCP") != 0 && strcmp(t, "HTTP") != 0
            && strcmp(t, "NONE") != 0))
    {
        json_decref(root);
        return nc_api_naming_fail(r, NC_API_V1, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_INVALID,
                                  "healthChecker: expected {\"type\":\"TCP\"}, "
                                  "{\"type\":\"HTTP\",\"path\":...,"
                                  "\"expectedResponseCode\":...} or "
                                  "{\"type\":\"NONE\"}");
    }

    if (strcmp(t, "HTTP") != 0) {
        out->data = (u_char *) (t[0] == 'T' ? "{\"type\":\"TCP\"}"
                                            : "{\"type\":\"NONE\"}");
        out->len = strlen((char *) out->data);
        json_decref(root);
        return NC_OK;
    }

    path = json_object_get(root, "path");
    headers = json_object_get(root, "headers");
    code = json_object_get(root, "expectedResponseCode");
    expected = json_is_integer(code) ? json_integer_value(code) : 200;

    if ((path && !json_is_string(path)) || (headers && !json_is_string(headers))
        || expected < 100 || expected > 599
        || (path && (json_string_length(path) > 1024
                     || strpbrk(json_string_value(path), "\r\n ")))
        || (headers && json_string_length(headers) > 1024))
    {
        json_decref(root);
        return nc_api_naming_fail(r, NC_API_V1, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_INVALID,
                                  "healthChecker: a bad path, headers or "
                                  "expectedResponseCode");
    }

    out->len = 128 + 6 * (json_is_string(path) ? json_string_length(path) : 0)
               + 6 * (json_is_string(headers) ? json_string_length(headers)
                                               : 0);
    out->data = nc_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        json_decref(root);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = sprintf((char *) out->data, "{\"type\":\"HTTP\",\"path\":\"");
    out->len = n;

    if (json_is_string(path)) {
        out->len = nc_json_escape(out->data + out->len,
                                  (u_char *) json_string_value(path),
                                  json_string_length(path)) - out->data;
    }

    out->len += sprintf((char *) out->data + out->len, "\",\"headers\":\"");

    if (json_is_string(headers)) {
        out->len = nc_json_escape(out->data + out->len,
                                  (u_char *) json_string_value(headers),
                                  json_string_length(headers)) - out->data;
    }

    out->len += sprintf((char *) out->data + out->len,
                        "\",\"expectedResponseCode\":%d}", (int) expected);

    json_decref(root);

    return NC_OK;
}


static nc_int_t
nc_api_naming_checkers(nc_http_request_t *r)
{
    static u_char  body[] = "{\"TCP\":{\"type\":\"TCP\"},\"HTTP\":{\"type\":"
                            "\"HTTP\",\"path\":\"\",\"headers\":\"\","
                            "\"expectedResponseCode\":200},\"NONE\":"
                            "{\"type\":\"NONE\"}}";

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", body,
                                sizeof(body) - 1);
}


/*
 * Health set by hand: only for a persistent instance whose cluster is
 * checked by nobody (NONE); others are the checks' or the beats'.
 */
static nc_int_t
nc_api_naming_set_health(nc_http_request_t *r)
{
    u_char                    *cmd;
    size_t                     len;
    nc_int_t                   rc;
    nc_str_t                   v, checker;
    nc_flag_t                  manual;
    nc_uint_t                  version;
    nc_api_naming_instance_t  *in;
    nc_store_naming_cmd_t      c;
    const nc_store_record_t   *rec, *cl;
    const nc_store_version_t  *sver;
    u_char                     key[NC_STORE_MAX_KEY_LEN];

    version = nc_api_naming_version(r);

    in = nc_pcalloc(r->pool, sizeof(nc_api_naming_instance_t));
    if (in == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_parse(r, version, in, NC_AUTH_WRITE, 0);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "healthy", &v);
    if (v.len == 0) {
        nc_api_naming_param(r, "valid", &v);
    }

    if (v.len == 0) {
        return nc_api_end(nc_api_naming_missing(r, version, "healthy"));
    }

    nc_memzero(&c, sizeof(nc_store_naming_cmd_t));
    c.time = nc_api_config_now();
    c.what = NC_STORE_NAMING_W_HEALTHY;
    c.flags = nc_api_naming_bool(&v, 0) ? NC_STORE_NAMING_HEALTHY : 0;

    len = nc_store_naming_cluster_key(key, sizeof(key), &in->s.name);

    if (len == 0) {
        return nc_api_end(nc_api_naming_illegal(r, version, "serviceName"));
    }

    sver = nc_store_enter(nc_store);
    rec = sver ? nc_store_get(nc_store, sver, in->key, in->key_len) : NULL;
    cl = sver ? nc_store_get(nc_store, sver, key, len) : NULL;

    manual = 0;

    if (cl) {
        nc_store_naming_field(cl, NC_STORE_NAMING_C_CHECKER, &checker);
        manual = checker.len >= 15
                 && nc_memcmp(checker.data, "{\"type\":\"NONE\"", 14) == 0;
    }

    if (rec == NULL) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                             NC_API_NAMING_NO_INSTANCE,
                                             "instance not found"));
    }

    if ((rec->flags & NC_STORE_NAMING_EPHEMERAL) || !manual) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                             NC_API_NAMING_CHECKING,
                                             "health check is still working, "
                                             "service: %.*s",
                                             (int) in->s.grouped.len,
                                             in->s.grouped.data));
    }

    nc_store_leave(nc_store);

    cmd = nc_store_naming_command(r->pool, NC_STORE_NAMING_UPDATE, in->key,
                                  in->key_len, 0, &c, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_naming_health_written, in);
}


static void
nc_api_naming_health_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index)
{
    nc_int_t                   rc;
    nc_api_naming_instance_t  *sv;

    sv = data;

    switch (status) {

    case NC_OK:
        rc = sv->s.version == NC_API_V1
             ? nc_http_set_response(r, NC_HTTP_OK, "text/plain;charset=UTF-8",
                                    (u_char *) "ok", 2)
             : nc_api_config_ok(r, sv->s.version, (u_char *) "\"ok\"", 4);
        break;

    case NC_DECLINED:
        rc = nc_api_naming_fail(r, sv->s.version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_NO_INSTANCE,
                                "instance not found");
        break;

    default:
        rc = nc_api_naming_unavailable(r, sv->s.version, status);
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}
