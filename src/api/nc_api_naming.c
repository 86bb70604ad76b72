
/*
 * nacre: the registry's instances, Nacos' naming API.
 *
 *   POST|DELETE|PUT|PATCH|GET  /nacos/v1/ns/instance   (and v2)
 *   GET                        /nacos/v1/ns/instance/list   (and v2)
 *   PUT                        /nacos/v1/ns/instance/beat   (and v2)
 *
 * Registrations, updates and removals are Raft writes; a list is the
 * service's rendered bytes (nc_store_naming.h) between a few fields that
 * depend on the request; a beat never touches the log: it goes to the
 * consensus process (nc_consensus_note), which keeps the leases.
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
#include <nc_consensus.h>
#include <nc_naming_list.h>
#include <nc_naming_push.h>

#include <jansson.h>


#define NC_API_NAMING_PATH        "/nacos/v1/ns"
#define NC_API_NAMING_PATH_V2     "/nacos/v2/ns"
#define NC_API_NAMING_MAX_META    1024
#define NC_API_NAMING_MAX_WEIGHT  10000.0

#define NC_API_NAMING_GENERATOR   "preserved.instance.id.generator"
#define NC_API_NAMING_INTERVAL    "preserved.heart.beat.interval"
#define NC_API_NAMING_TIMEOUT     "preserved.heart.beat.timeout"
#define NC_API_NAMING_DELETE      "preserved.ip.delete.timeout"


static nc_int_t nc_api_naming_instance(nc_http_request_t *r);
static nc_int_t nc_api_naming_attributes(nc_http_request_t *r,
    nc_api_naming_instance_t *in, nc_uint_t what);
static nc_int_t nc_api_naming_preserved(nc_http_request_t *r,
    nc_api_naming_instance_t *in);
static nc_int_t nc_api_naming_write(nc_http_request_t *r,
    nc_api_naming_instance_t *in, nc_uint_t op);
static void nc_api_naming_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_naming_get(nc_http_request_t *r,
    nc_api_naming_instance_t *in);
static nc_int_t nc_api_naming_list(nc_http_request_t *r);
static void nc_api_naming_subscribe(nc_http_request_t *r, nc_uint_t version,
    const nc_api_naming_service_t *s, const nc_str_t *clusters);
static nc_int_t nc_api_naming_beat(nc_http_request_t *r);
static nc_int_t nc_api_naming_beat_instance(nc_http_request_t *r,
    nc_api_naming_instance_t *in, nc_uint_t version);
static nc_int_t nc_api_naming_beat_register(nc_http_request_t *r,
    nc_api_naming_instance_t *in, json_t *root);
static nc_int_t nc_api_naming_beat_json(nc_http_request_t *r,
    nc_api_naming_instance_t *in, const nc_str_t *beat, json_t **root);
static nc_int_t nc_api_naming_beat_answer(nc_http_request_t *r,
    nc_uint_t interval, nc_uint_t code);
static void nc_api_naming_beat_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);


nc_conf_naming_t  *nc_api_naming_conf;


nc_int_t
nc_api_naming_init_routes(nc_cycle_t *cycle)
{
    nc_uint_t  all;

    nc_api_naming_conf = &cycle->conf->naming;
    nc_naming_list_cache(nc_api_naming_conf->list_cache);

    all = NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_POST | NC_HTTP_PUT
          | NC_HTTP_PATCH | NC_HTTP_DELETE;

    /* any user; each handler asks for its service's permission */
    if (nc_http_add_route(all, NC_API_NAMING_PATH "/instance", 0,
                          NC_AUTH_USER, nc_api_naming_instance) != NC_OK
        || nc_http_add_route(all, NC_API_NAMING_PATH_V2 "/instance", 0,
                             NC_AUTH_USER, nc_api_naming_instance) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             NC_API_NAMING_PATH "/instance/list", 0,
                             NC_AUTH_USER, nc_api_naming_list) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             NC_API_NAMING_PATH_V2 "/instance/list", 0,
                             NC_AUTH_USER, nc_api_naming_list) != NC_OK
        || nc_http_add_route(NC_HTTP_PUT | NC_HTTP_POST,
                             NC_API_NAMING_PATH "/instance/beat", 0,
                             NC_AUTH_USER, nc_api_naming_beat) != NC_OK
        || nc_http_add_route(NC_HTTP_PUT | NC_HTTP_POST,
                             NC_API_NAMING_PATH_V2 "/instance/beat", 0,
                             NC_AUTH_USER, nc_api_naming_beat) != NC_OK
        || nc_api_naming_service_init_routes(cycle) != NC_OK
        || nc_api_naming_catalog_init_routes(cycle) != NC_OK
        || nc_api_naming_client_init_routes(cycle) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/* --- shared --------------------------------------------------------------- */


nc_int_t
nc_api_naming_fail(nc_http_request_t *r, nc_uint_t version, nc_uint_t status,
    nc_uint_t code, const char *fmt, ...)
{
    int          n;
    u_char      *p;
    size_t       len;
    va_list      args;
    nc_uint_t    i;
    const char  *message;
    char         text[1024];

    static const struct {
        nc_uint_t    code;
        const char  *message;
    } messages[] = {
        { NC_API_NAMING_MISSING, "parameter missing" },
        { NC_API_NAMING_INVALID, "parameter validate error" },
        { NC_API_NAMING_NOT_FOUND, "resource not found" },
        { NC_API_NAMING_SERVICE_NAME, "service name error" },
        { NC_API_NAMING_WEIGHT, "weight error" },
        { NC_API_NAMING_METADATA, "instance metadata error" },
        { NC_API_NAMING_NO_INSTANCE, "instance not found" },
        { NC_API_NAMING_INSTANCE, "instance error" },
        { NC_API_NAMING_SELECTOR, "selector error" },
        { NC_API_NAMING_EXISTS, "service already exist" },
        { NC_API_NAMING_NO_SERVICE, "service not exist" },
        { NC_API_NAMING_NOT_DELETED, "service delete failure" },
        { NC_API_NAMING_CHECKING, "health check still running" },
        { NC_API_NAMING_NAMESPACE, "illegal namespace" },
        { NC_API_NAMING_SERVER, "server error" },
    };

    va_start(args, fmt);
    n = vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    if (n < 0) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) nc_min(n, (int) sizeof(text) - 1);

    if (version == NC_API_V1) {
        p = nc_pnalloc(r->pool, len);
        if (p == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memcpy(p, text, len);

        return nc_api_refused(nc_http_set_response(r, status,
                                                   "text/plain;charset=UTF-8",
                                                   p, len));
    }

    message = "server error";

    for (i = 0; i < nc_nelems(messages); i++) {
        if (messages[i].code == code) {
            message = messages[i].message;
            break;
        }
    }

    return nc_api_v2_fail(r, status, code, message, (u_char *) text, len);
}


nc_int_t
nc_api_naming_missing(nc_http_request_t *r, nc_uint_t version,
    const char *param)
{
    if (version == NC_API_V1) {
        return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_MISSING,
                                  "Param '%s' is required.", param);
    }

    return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                              NC_API_NAMING_MISSING,
                              "Required parameter '%s' type String is not "
                              "present", param);
}


nc_int_t
nc_api_naming_illegal(nc_http_request_t *r, nc_uint_t version,
    const char *param)
{
    return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                              NC_API_NAMING_INVALID,
                              "Param '%s' is illegal, illegal characters "
                              "should not appear in the param.", param);
}


nc_int_t
nc_api_naming_unavailable(nc_http_request_t *r, nc_uint_t version,
    nc_int_t status)
{
    if (status == NC_STORE_FULL) {
        return nc_api_naming_fail(r, version, NC_HTTP_SERVICE_UNAVAILABLE,
                                  NC_API_NAMING_SERVER,
                                  "the store is full (store.shm_size)");
    }

    return nc_api_naming_fail(r, version, NC_HTTP_SERVICE_UNAVAILABLE,
                              NC_API_NAMING_SERVER,
                              "no leader: writes are unavailable");
}


void
nc_api_naming_param(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    nc_api_param(r, name, value);

    while (value->len && (value->data[0] == ' ' || value->data[0] == '\t')) {
        value->data++;
        value->len--;
    }

    while (value->len && (value->data[value->len - 1] == ' '
                          || value->data[value->len - 1] == '\t'))
    {
        value->len--;
    }
}


nc_flag_t
nc_api_naming_bool(const nc_str_t *v, nc_flag_t def)
{
    if (v->len == 0) {
        return def;
    }

    return v->len == 4 && nc_strncasecmp(v->data, (u_char *) "true", 4) == 0;
}


/* letters, digits and the bytes of extra */
static nc_flag_t
nc_api_naming_chars(const nc_str_t *s, const char *extra, size_t max)
{
    size_t  i;
    u_char  c;

    if (s->len == 0 || s->len > max) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || strchr(extra, c)))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Nacos' service names: at most 512, not starting with '@', no "@@", no
 * white space, no CJK ideographs (U+4E00..U+9FA5); and no control bytes,
 * which keys use.
 */
static nc_flag_t
nc_api_naming_service_ok(const nc_str_t *s)
{
    size_t   i;
    u_char   c;
    nc_uint_t  cp;

    if (s->len == 0 || s->len > 512 || s->data[0] == '@'
        || memmem(s->data, s->len, "@@", 2) != NULL)
    {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (c <= ' ' || c == 0x7f) {
            return 0;
        }

        /* three-byte UTF-8: E4 B8 80 (U+4E00) .. E9 BE A5 (U+9FA5) */
        if ((c & 0xf0) == 0xe0 && i + 2 < s->len) {
            cp = ((c & 0x0f) << 12) | ((s->data[i + 1] & 0x3f) << 6)
                 | (s->data[i + 2] & 0x3f);

            if (cp >= 0x4e00 && cp <= 0x9fa5) {
                return 0;
            }
        }
    }

    return 1;
}


nc_int_t
nc_api_naming_service(nc_http_request_t *r, nc_uint_t version,
    nc_api_naming_service_t *s, nc_uint_t action)
{
    u_char                  *at, *p;
    nc_str_t                 service, group;
    nc_store_naming_name_t  *n;

    n = &s->name;
    nc_memzero(s, sizeof(nc_api_naming_service_t));
    s->version = version;

    nc_api_naming_param(r, "namespaceId", &n->ns);

    if (n->ns.len == 0) {
        nc_str_set(&n->ns, "public");

    } else if (!nc_api_naming_chars(&n->ns, "_-", 128)) {
        return nc_api_naming_illegal(r, version, "namespaceId");
    }

    nc_api_naming_param(r, "serviceName", &service);

    if (service.len == 0) {
        return nc_api_naming_missing(r, version, "serviceName");
    }

    nc_api_naming_param(r, "groupName", &group);

    if (group.len == 0) {
        nc_str_set(&group, "DEFAULT_GROUP");
    }

    /* "group@@service" names its group itself (Nacos' ServiceNameFilter) */
    at = memmem(service.data, service.len, "@@", 2);

    if (at) {
        group.data = service.data;
        group.len = at - service.data;
        service.len -= group.len + 2;
        service.data = at + 2;
    }

    if (!nc_api_naming_chars(&group, "-_:.", 128)) {
        return nc_api_naming_illegal(r, version, "groupName");
    }

    if (!nc_api_naming_service_ok(&service)) {
        return nc_api_naming_illegal(r, version, "serviceName");
    }

    n->group = group;
    n->service = service;

    p = nc_pnalloc(r->pool, group.len + 2 + service.len);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->grouped.data = p;
    p = nc_cpymem(p, group.data, group.len);
    *p++ = '@';
    *p++ = '@';
    p = nc_cpymem(p, service.data, service.len);
    s->grouped.len = p - s->grouped.data;

    return nc_auth_permit(r, &n->ns, &n->group, "naming", &n->service,
                          action);
}


static nc_int_t
nc_api_naming_meta_put(nc_http_request_t *r, nc_buf_t *b, const char *key,
    size_t klen, const char *val, size_t vlen)
{
    size_t   need;
    u_char  *p;

    need = nc_json_escape_len((u_char *) key, klen)
           + nc_json_escape_len((u_char *) val, vlen) + 6;

    if ((size_t) (b->end - b->last) < need) {
        return NC_ERROR;
    }

    p = b->last;

    if (p > b->pos + 1) {
        *p++ = ',';
    }

    *p++ = '"';
    p = nc_json_escape(p, (u_char *) key, klen);
    *p++ = '"';
    *p++ = ':';
    *p++ = '"';
    p = nc_json_escape(p, (u_char *) val, vlen);
    *p++ = '"';

    b->last = p;

    return NC_OK;
}


nc_int_t
nc_api_naming_metadata(nc_http_request_t *r, nc_uint_t version,
    const nc_str_t *in, nc_str_t *out)
{
    u_char        *p, *end, *comma, *eq;
    size_t         total, vlen;
    json_t        *root, *value;
    nc_int_t       rc;
    nc_buf_t       b;
    const char    *key, *val;
    json_error_t   err;
    char           num[64];

    if (in->len == 0) {
        nc_str_set(out, "{}");
        return NC_OK;
    }

    /* every escaped byte takes at most 6: room for the worst */
    b.pos = nc_pnalloc(r->pool, 6 * in->len + 16);
    if (b.pos == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    b.last = b.pos;
    b.end = b.pos + 6 * in->len + 16;
    *b.last++ = '{';

    total = 0;
    rc = NC_OK;

    if (in->data[0] == '{') {
        root = json_loadb((const char *) in->data, in->len,
                          JSON_REJECT_DUPLICATES, &err);

        if (root == NULL || !json_is_object(root)) {
            json_decref(root);
            return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                      NC_API_NAMING_METADATA,
                                      "instance metadata format incorrect: "
                                      "%s", root ? "not an object" : err.text);
        }

        json_object_foreach(root, key, value) {
            if (json_is_string(value)) {
                val = json_string_value(value);
                vlen = json_string_length(value);

            } else if (json_is_integer(value)) {
                vlen = (size_t) snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                                         json_integer_value(value));
                val = num;

            } else if (json_is_real(value)) {
                vlen = nc_store_naming_double((u_char *) num,
                                              json_real_value(value));
                val = num;

            } else if (json_is_boolean(value)) {
                val = json_is_true(value) ? "true" : "false";
                vlen = strlen(val);

            } else if (json_is_null(value)) {
                continue;

            } else {
                rc = NC_DECLINED;
                break;
            }

            total += strlen(key) + vlen;

            if (nc_api_naming_meta_put(r, &b, key, strlen(key), val, vlen)
                != NC_OK)
            {
                rc = NC_DECLINED;
                break;
            }
        }

        json_decref(root);

        if (rc != NC_OK) {
            return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                      NC_API_NAMING_METADATA,
                                      "instance metadata format incorrect: "
                                      "values must be strings");
        }

    } else {
        /* the old form: k1=v1,k2=v2 */
        p = in->data;
        end = in->data + in->len;

        while (p < end) {
            comma = memchr(p, ',', end - p);
            comma = comma ? comma : end;
            eq = memchr(p, '=', comma - p);

            if (eq == NULL || eq == p) {
                return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                          NC_API_NAMING_METADATA,
                                          "metadata format incorrect:%.*s",
                                          (int) nc_min(in->len, 256),
                                          in->data);
            }

            total += comma - p - 1;

            if (nc_api_naming_meta_put(r, &b, (char *) p, eq - p,
                                       (char *) eq + 1, comma - eq - 1)
                != NC_OK)
            {
                return NC_HTTP_INTERNAL_SERVER_ERROR;
            }

            p = comma + 1;
        }
    }

    if (total > NC_API_NAMING_MAX_META) {
        return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_METADATA,
                                  "Param 'Metadata' is illegal, the param "
                                  "length should not exceed %u.",
                                  NC_API_NAMING_MAX_META);
    }

    *b.last++ = '}';

    out->data = b.pos;
    out->len = b.last - b.pos;

    return NC_OK;
}


/*
 * The value of a key in metadata we rendered ourselves: {"k":"v",...}
 * with no white space; keys compared as written (no escapes in Nacos'
 * preserved keys).  NC_OK or NC_DECLINED.
 */
static nc_int_t
nc_api_naming_meta_get(const nc_str_t *meta, const char *key, nc_str_t *value)
{
    u_char  *p, *end, *q;
    size_t   klen;

    klen = strlen(key);
    p = meta->data;
    end = meta->data + meta->len;

    while (p && p + klen + 4 < end) {
        p = memmem(p, end - p, key, klen);

        if (p == NULL) {
            return NC_DECLINED;
        }

        if (p[-1] == '"' && p[klen] == '"' && p[klen + 1] == ':'
            && p[klen + 2] == '"' && (p[-2] == '{' || p[-2] == ','))
        {
            p += klen + 3;

            for (q = p; q < end && *q != '"'; q++) {
                if (*q == '\\') {
                    q++;
                }
            }

            value->data = p;
            value->len = q - p;
            return NC_OK;
        }

        p += klen;
    }

    return NC_DECLINED;
}


/* --- instances ------------------------------------------------------------ */


static nc_int_t
nc_api_naming_instance(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_uint_t                  what, version;
    nc_str_t                   v;
    nc_api_naming_instance_t  *in;

    version = nc_api_naming_version(r);

    in = nc_pcalloc(r->pool, sizeof(nc_api_naming_instance_t));
    if (in == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (r->method) {

    case NC_HTTP_POST:
        rc = nc_api_naming_parse(r, version, in, NC_AUTH_WRITE, 1);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        rc = nc_api_naming_attributes(r, in, NC_STORE_NAMING_W_WEIGHT
                                             | NC_STORE_NAMING_W_ENABLED
                                             | NC_STORE_NAMING_W_HEALTHY
                                             | NC_STORE_NAMING_W_METADATA);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        return nc_api_naming_write(r, in, NC_STORE_NAMING_REGISTER);

    case NC_HTTP_DELETE:
        rc = nc_api_naming_parse(r, version, in, NC_AUTH_WRITE, 0);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        return nc_api_naming_write(r, in, NC_STORE_NAMING_DEREGISTER);

    case NC_HTTP_PUT:
    case NC_HTTP_PATCH:
        rc = nc_api_naming_parse(r, version, in, NC_AUTH_WRITE, 0);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        /* PUT sets weight, enabled and metadata; PATCH what it names */
        what = NC_STORE_NAMING_W_WEIGHT | NC_STORE_NAMING_W_ENABLED
               | NC_STORE_NAMING_W_METADATA;

        if (r->method == NC_HTTP_PATCH) {
            what = 0;

            nc_api_naming_param(r, "weight", &v);
            what |= v.len ? NC_STORE_NAMING_W_WEIGHT : 0;
            nc_api_naming_param(r, "metadata", &v);
            what |= v.len ? NC_STORE_NAMING_W_METADATA : 0;
            nc_api_naming_param(r, "healthy", &v);
            what |= v.len ? NC_STORE_NAMING_W_HEALTHY : 0;
            nc_api_naming_param(r, "enabled", &v);
            if (v.len == 0) {
                nc_api_naming_param(r, "enable", &v);
            }
            what |= v.len ? NC_STORE_NAMING_W_ENABLED : 0;
        }

        rc = nc_api_naming_attributes(r, in, what);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        in->cmd.what = what;

        return nc_api_naming_write(r, in, NC_STORE_NAMING_UPDATE);

    default:
        rc = nc_api_naming_parse(r, version, in, NC_AUTH_READ, 0);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        return nc_api_naming_get(r, in);
    }
}


/*
 * The instance a request names: its service, cluster (clusterName, else
 * the old cluster; DEFAULT), ip and port; strict: as a registration
 * checks the cluster name (no '_').
 */
nc_int_t
nc_api_naming_parse(nc_http_request_t *r, nc_uint_t version,
    nc_api_naming_instance_t *in, nc_uint_t action, nc_flag_t strict)
{
    nc_int_t                 rc, port;
    nc_str_t                 v;
    nc_store_naming_name_t  *n;

    rc = nc_api_naming_service(r, version, &in->s, action);
    if (rc != NC_OK) {
        return rc;
    }

    n = &in->s.name;

    nc_api_naming_param(r, "clusterName", &n->cluster);

    if (n->cluster.len == 0) {
        nc_api_naming_param(r, "cluster", &n->cluster);
    }

    if (n->cluster.len == 0) {
        nc_str_set(&n->cluster, "DEFAULT");
    }

    if (!nc_api_naming_chars(&n->cluster, strict ? "-" : "-_", 64)) {
        if (strict) {
            return nc_api_naming_fail(r, version, NC_HTTP_BAD_REQUEST,
                                      NC_API_NAMING_INVALID,
                                      "Instance 'clusterName' should be "
                                      "characters with only 0-9a-zA-Z-. "
                                      "(current: %.*s)",
                                      (int) nc_min(n->cluster.len, 128),
                                      n->cluster.data);
        }

        return nc_api_naming_illegal(r, version, "clusterName");
    }

    nc_api_naming_param(r, "ip", &n->ip);

    if (n->ip.len == 0) {
        return nc_api_naming_missing(r, version, "ip");
    }

    if (!nc_api_naming_chars(&n->ip, ".:-_[]%", 128)) {
        return nc_api_naming_illegal(r, version, "ip");
    }

    nc_api_naming_param(r, "port", &v);

    if (v.len == 0) {
        return nc_api_naming_missing(r, version, "port");
    }

    port = nc_atoi(v.data, v.len);

    if (port < 0 || port > 65535) {
        return nc_api_naming_illegal(r, version, "port");
    }

    n->port = (nc_uint_t) port;

    in->key_len = nc_store_naming_instance_key(in->key, sizeof(in->key), n);

    if (in->key_len == 0) {
        return nc_api_naming_illegal(r, version, "serviceName");
    }

    return NC_OK;
}


/* weight, healthy, enabled, ephemeral and metadata of a registration or
 * an update: those `what` names */
static nc_int_t
nc_api_naming_attributes(nc_http_request_t *r, nc_api_naming_instance_t *in,
    nc_uint_t what)
{
    char                   *end;
    double                  w;
    nc_int_t                rc;
    nc_str_t                v;
    nc_store_naming_cmd_t  *c;
    char                    buf[64];

    c = &in->cmd;
    c->time = nc_api_config_now();
    c->weight = 1.0;
    c->flags = 0;

    nc_api_naming_param(r, "weight", &v);

    if (v.len && (what & NC_STORE_NAMING_W_WEIGHT)) {
        if (v.len >= sizeof(buf)) {
            goto bad_weight;
        }

        nc_memcpy(buf, v.data, v.len);
        buf[v.len] = '\0';

        w = strtod(buf, &end);

        if (*end != '\0' || !(w >= 0 && w <= NC_API_NAMING_MAX_WEIGHT)) {
            goto bad_weight;
        }

        c->weight = w;
    }

    nc_api_naming_param(r, "healthy", &v);
    if (nc_api_naming_bool(&v, 1)) {
        c->flags |= NC_STORE_NAMING_HEALTHY;
    }

    nc_api_naming_param(r, "enabled", &v);
    if (v.len == 0) {
        nc_api_naming_param(r, "enable", &v);
    }

    if (nc_api_naming_bool(&v, 1)) {
        c->flags |= NC_STORE_NAMING_ENABLED;
    }

    nc_api_naming_param(r, "ephemeral", &v);
    if (nc_api_naming_bool(&v, 1)) {
        c->flags |= NC_STORE_NAMING_EPHEMERAL;
    }

    nc_api_naming_param(r, "metadata", &v);

    if (what & NC_STORE_NAMING_W_METADATA) {
        rc = nc_api_naming_metadata(r, in->s.version, &v, &c->metadata);
        if (rc != NC_OK) {
            return rc;
        }

        return nc_api_naming_preserved(r, in);
    }

    return NC_OK;

bad_weight:

    return nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                              NC_API_NAMING_WEIGHT,
                              "instance format invalid: The weights range "
                              "from 0.0 to 10000.0");
}


/* the beat times and id generator the metadata names, else the conf's */
static nc_int_t
nc_api_naming_preserved(nc_http_request_t *r, nc_api_naming_instance_t *in)
{
    nc_int_t                n;
    nc_str_t                v;
    nc_uint_t               i;
    uint32_t               *t[3];
    nc_store_naming_cmd_t  *c;

    static const char  *keys[3] = {
        NC_API_NAMING_INTERVAL, NC_API_NAMING_TIMEOUT, NC_API_NAMING_DELETE
    };

    c = &in->cmd;
    c->beat_interval = (uint32_t) nc_api_naming_conf->beat_interval;
    c->beat_timeout = (uint32_t) nc_api_naming_conf->unhealthy_after;
    c->delete_timeout = (uint32_t) nc_api_naming_conf->remove_after;

    t[0] = &c->beat_interval;
    t[1] = &c->beat_timeout;
    t[2] = &c->delete_timeout;

    for (i = 0; i < 3; i++) {
        if (nc_api_naming_meta_get(&c->metadata, keys[i], &v) != NC_OK) {
            continue;
        }

        n = nc_atoi(v.data, v.len);

        if (n <= 0 || n > 24 * 3600 * 1000) {
            return nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                                      NC_API_NAMING_METADATA,
                                      "instance metadata '%s' must be a "
                                      "number of milliseconds", keys[i]);
        }

        *t[i] = (uint32_t) n;
    }

    if (c->beat_interval > c->beat_timeout
        || c->beat_interval > c->delete_timeout)
    {
        return nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_INVALID,
                                  "Instance 'heart beat interval' must less "
                                  "than 'heart beat timeout' and 'ip delete "
                                  "timeout'.");
    }

    /* Nacos: "simple" with no metadata at all, else what it names */
    if (c->metadata.len == 2) {
        nc_str_set(&c->extra, "simple");

    } else if (nc_api_naming_meta_get(&c->metadata, NC_API_NAMING_GENERATOR,
                                      &c->extra)
               != NC_OK)
    {
        c->extra.len = 0;
    }

    return NC_OK;
}


static nc_int_t
nc_api_naming_write(nc_http_request_t *r, nc_api_naming_instance_t *in,
    nc_uint_t op)
{
    u_char                    *cmd;
    size_t                     len;
    nc_uint_t                  kind;
    nc_store_iter_t           *it;
    const nc_store_record_t   *first;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];
    nc_store_naming_name_t     n;

    if (op == NC_STORE_NAMING_REGISTER) {
        /* the kind of the service, told before the log refuses it */
        n = in->s.name;
        n.cluster.len = 0;
        n.ip.len = 0;
        len = nc_store_naming_instance_key(prefix, sizeof(prefix), &n);

        v = nc_store_enter(nc_store);
        first = NULL;

        if (v && len) {
            it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
            if (it) {
                nc_store_iter_init(it, nc_store, v->root, prefix, len, NULL,
                                   0);
                first = nc_store_iter_next(it);
            }
        }

        kind = first ? (first->flags & NC_STORE_NAMING_EPHEMERAL) : 0;

        if (first && (first->key_len != in->key_len
                      || nc_memcmp(nc_store_record_key(first), in->key,
                                   in->key_len) != 0)
            && kind != (in->cmd.flags & NC_STORE_NAMING_EPHEMERAL))
        {
            nc_store_leave(nc_store);

            return nc_api_end(nc_api_naming_fail(r, in->s.version,
                NC_HTTP_BAD_REQUEST, NC_API_NAMING_INSTANCE,
                "Current service %.*s is %s service, can't register %s "
                "instance.", (int) in->s.grouped.len, in->s.grouped.data,
                kind ? "ephemeral" : "persistent",
                kind ? "persistent" : "ephemeral"));
        }

        nc_store_leave(nc_store);
    }

    if (op != NC_STORE_NAMING_REGISTER && op != NC_STORE_NAMING_UPDATE) {
        in->cmd.time = nc_api_config_now();
    }

    cmd = nc_store_naming_command(r->pool, op, in->key, in->key_len, 0,
                                  &in->cmd, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_naming_written, in);
}


static void
nc_api_naming_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t                   rc;
    nc_api_naming_instance_t  *in;

    in = data;

    switch (status) {

    case NC_OK:
        rc = nc_api_config_ok(r, in->s.version, (u_char *) "\"ok\"", 4);

        /* v1 answers the bare text ok */
        if (in->s.version == NC_API_V1) {
            rc = nc_http_set_response(r, NC_HTTP_OK, "text/plain;charset=UTF-8",
                                      (u_char *) "ok", 2);
        }

        break;

    case NC_DECLINED:
        /* a removal of nothing is done (Nacos 2.x ignores it too) */
        if (r->method == NC_HTTP_DELETE) {
            rc = in->s.version == NC_API_V1
                 ? nc_http_set_response(r, NC_HTTP_OK,
                                        "text/plain;charset=UTF-8",
                                        (u_char *) "ok", 2)
                 : nc_api_config_ok(r, in->s.version, (u_char *) "\"ok\"", 4);
            break;
        }

        rc = nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_NO_INSTANCE,
                                "instance not exist: %.*s:%u in service %.*s",
                                (int) in->s.name.ip.len, in->s.name.ip.data,
                                (unsigned) in->s.name.port,
                                (int) in->s.grouped.len, in->s.grouped.data);
        break;

    case NC_ERROR:
        /* the kind changed between the check and the apply */
        rc = nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_INSTANCE,
                                "Current service %.*s holds instances of the "
                                "other kind (ephemeral or persistent).",
                                (int) in->s.grouped.len, in->s.grouped.data);
        break;

    default:
        rc = nc_api_naming_unavailable(r, in->s.version, status);
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}


static nc_int_t
nc_api_naming_get(nc_http_request_t *r, nc_api_naming_instance_t *in)
{
    u_char                            *p;
    size_t                             len;
    nc_str_t                           meta;
    const nc_store_record_t           *rec;
    const nc_store_version_t          *v;
    const nc_store_naming_instance_t  *h;
    nc_store_naming_name_t            *n;
    u_char                             weight[64];

    n = &in->s.name;

    v = nc_store_enter(nc_store);
    rec = v ? nc_store_get(nc_store, v, in->key, in->key_len) : NULL;

    if (rec == NULL || rec->type != NC_STORE_T_NAMING) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, in->s.version,
                                             NC_HTTP_NOT_FOUND,
                                             NC_API_NAMING_NO_INSTANCE,
                                             "no matched ip found!"));
    }

    h = nc_store_naming_instance(rec);
    nc_store_naming_field(rec, NC_STORE_NAMING_I_METADATA, &meta);

    len = 256 + 3 * in->s.grouped.len + 2 * n->ip.len + 2 * n->cluster.len
          + meta.len;

    p = nc_pnalloc(r->pool, len);
    if (p == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    weight[nc_store_naming_double(weight, h->weight)] = '\0';

    /* names were checked: nothing in them needs escaping but service */
    len = (size_t) snprintf((char *) p, len,
                            "{\"service\":\"%.*s\",\"ip\":\"%.*s\","
                            "\"port\":%u,\"clusterName\":\"%.*s\","
                            "\"weight\":%s,\"healthy\":%s,"
                            "\"instanceId\":\"%.*s#%u#%.*s#%.*s\","
                            "\"metadata\":%.*s}",
                            (int) in->s.grouped.len, in->s.grouped.data,
                            (int) n->ip.len, n->ip.data, (unsigned) n->port,
                            (int) n->cluster.len, n->cluster.data,
                            weight,
                            (rec->flags & NC_STORE_NAMING_HEALTHY)
                            ? "true" : "false",
                            (int) n->ip.len, n->ip.data, (unsigned) n->port,
                            (int) n->cluster.len, n->cluster.data,
                            (int) in->s.grouped.len, in->s.grouped.data,
                            (int) meta.len, meta.data);

    nc_store_leave(nc_store);

    if (in->s.version == NC_API_V1) {
        return nc_http_set_response(r, NC_HTTP_OK, "application/json", p, len);
    }

    return nc_api_config_ok(r, in->s.version, p, len);
}


/* --- lists ---------------------------------------------------------------- */


/* v1 asks clusters, v2 clusterName; both healthyOnly */
static nc_int_t
nc_api_naming_list(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   body, cl, v;
    nc_uint_t                  version;
    nc_flag_t                  healthy_only;
    nc_api_naming_service_t    s;
    const nc_str_t            *clusters;
    const nc_store_version_t  *sv;

    version = nc_api_naming_version(r);

    nc_api_naming_param(r, version == NC_API_V1 ? "clusters" : "clusterName",
                        &cl);
    nc_api_naming_param(r, "healthyOnly", &v);
    healthy_only = nc_api_naming_bool(&v, 0);
    clusters = &cl;

    rc = nc_api_naming_service(r, version, &s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_subscribe(r, version, &s, clusters);

    sv = nc_store_enter(nc_store);

    if (sv == NULL) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_naming_fail(r, version,
                                             NC_HTTP_SERVICE_UNAVAILABLE,
                                             NC_API_NAMING_SERVER,
                                             "the store is not loaded yet"));
    }

    /* clusters are echoed as sent: clients key their caches by it */
    rc = nc_naming_list(r->pool, nc_store, sv, &s.name, &s.grouped, clusters,
                        healthy_only ? NC_NAMING_LIST_HEALTHY_ONLY : 0,
                        &body);

    nc_store_leave(nc_store);

    if (rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (version == NC_API_V1) {
        r->headers_out.gzip = 1;
        return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                    body.data, body.len);
    }

    return nc_api_config_ok(r, version, body.data, body.len);
}


/*
 * A list with udpPort (v2: port) and clientIP (v2: ip) subscribes that
 * address to the service's changes, on this node, while it polls.
 */
static void
nc_api_naming_subscribe(nc_http_request_t *r, nc_uint_t version,
    const nc_api_naming_service_t *s, const nc_str_t *clusters)
{
    size_t                    len;
    nc_int_t                  port;
    nc_str_t                  v;
    nc_naming_subscription_t  sub;
    u_char                    key[NC_STORE_MAX_KEY_LEN];
    u_char                    note[NC_STORE_MAX_KEY_LEN + 1024 + 80];

    nc_api_naming_param(r, version == NC_API_V1 ? "udpPort" : "port", &v);
    port = v.len ? nc_atoi(v.data, v.len) : 0;

    if (port <= 0 || port > 65535) {
        return;
    }

    nc_api_naming_param(r, version == NC_API_V1 ? "clientIP" : "ip",
                        &sub.ip);

    len = nc_store_naming_service_key(key, sizeof(key), &s->name);

    if (sub.ip.len == 0 || len == 0) {
        return;
    }

    sub.port = (nc_uint_t) port;
    sub.service.data = key;
    sub.service.len = len;
    sub.clusters = *clusters;

    len = nc_naming_push_note(note, sizeof(note), &sub);

    if (len) {
        nc_consensus_note(NC_CONSENSUS_SUBSCRIBE, note, len);
    }
}


/* --- beats ---------------------------------------------------------------- */


/*
 * A beat: the instance named by the parameters, or by the beat JSON's
 * ip, port and cluster.  A known instance's beat goes to the consensus
 * process and is answered at once; an unknown one with beat JSON is
 * registered from it (how clients that only beat heal after an expiry);
 * without beat JSON it is answered 20404.
 */
static nc_int_t
nc_api_naming_beat(nc_http_request_t *r)
{
    u_char                    *cmd;
    size_t                     len;
    json_t                    *root;
    nc_int_t                   rc, port;
    nc_str_t                   beat, v;
    nc_uint_t                  interval, version;
    nc_api_naming_instance_t  *in;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *sv;

    /* v2's beat answers as v1 does (not enveloped) */
    version = NC_API_V1;
    root = NULL;

    in = nc_pcalloc(r->pool, sizeof(nc_api_naming_instance_t));
    if (in == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, version, &in->s, NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_naming_param(r, "beat", &beat);

    nc_api_naming_param(r, "clusterName", &in->s.name.cluster);
    nc_api_naming_param(r, "ip", &in->s.name.ip);
    nc_api_naming_param(r, "port", &v);
    port = v.len ? nc_atoi(v.data, v.len) : 0;

    /* out of range: refused below, after the beat JSON may set it */
    in->s.name.port = port >= 0 && port <= 65535 ? (nc_uint_t) port : 65536;

    if (beat.len) {
        rc = nc_api_naming_beat_json(r, in, &beat, &root);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }
    }

    rc = nc_api_naming_beat_instance(r, in, version);

    if (rc != NC_OK) {
        json_decref(root);
        return nc_api_end(rc);
    }

    sv = nc_store_enter(nc_store);
    rec = sv ? nc_store_get(nc_store, sv, in->key, in->key_len) : NULL;
    interval = rec ? nc_store_naming_instance(rec)->beat_interval : 0;

    if (rec && (rec->flags & NC_STORE_NAMING_EPHEMERAL)) {
        nc_consensus_note(NC_CONSENSUS_BEAT, in->key, in->key_len);
    }

    nc_store_leave(nc_store);

    if (rec) {
        json_decref(root);
        return nc_api_naming_beat_answer(r, interval, 10200);
    }

    if (root == NULL) {
        return nc_api_naming_beat_answer(r, 0, 20404);
    }

    /* registered again from the beat, as a new ephemeral instance: the
     * rest of the beat JSON is read only now (a beat of a known instance,
     * the common one, needs its name alone) */
    rc = nc_api_naming_beat_register(r, in, root);
    json_decref(root);

    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    cmd = nc_store_naming_command(r->pool, NC_STORE_NAMING_REGISTER, in->key,
                                  in->key_len, 0, &in->cmd, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_naming_beat_written, in);
}


/*
 * Nacos' RsInfo: ip, port, cluster, weight, metadata (an object).  The
 * instance's name from it; *root keeps the rest for a registration (the
 * caller frees it).  The strings point into *root.
 */
static nc_int_t
nc_api_naming_beat_json(nc_http_request_t *r, nc_api_naming_instance_t *in,
    const nc_str_t *beat, json_t **root)
{
    json_t        *o;
    json_int_t     port;
    json_error_t   err;

    *root = json_loadb((const char *) beat->data, beat->len, 0, &err);

    if (*root == NULL || !json_is_object(*root)) {
        if (*root) {
            json_decref(*root);
            *root = NULL;
            err.text[0] = '\0';
        }

        return nc_api_naming_fail(r, in->s.version, NC_HTTP_BAD_REQUEST,
                                  NC_API_NAMING_INVALID,
                                  "beat is not a JSON object: %s", err.text);
    }

    o = json_object_get(*root, "cluster");
    if (json_is_string(o) && json_string_length(o)) {
        in->s.name.cluster.len = json_string_length(o);
        in->s.name.cluster.data = (u_char *) json_string_value(o);
    }

    o = json_object_get(*root, "ip");
    if (json_is_string(o) && json_string_length(o)) {
        in->s.name.ip.len = json_string_length(o);
        in->s.name.ip.data = (u_char *) json_string_value(o);
    }

    o = json_object_get(*root, "port");
    if (json_is_integer(o)) {
        port = json_integer_value(o);
        in->s.name.port = port >= 0 && port <= 65535 ? (nc_uint_t) port
                                                     : 65536;
    }

    return NC_OK;
}


/* the name checked and the instance's key made */
static nc_int_t
nc_api_naming_beat_instance(nc_http_request_t *r,
    nc_api_naming_instance_t *in, nc_uint_t version)
{
    if (in->s.name.cluster.len == 0) {
        nc_str_set(&in->s.name.cluster, "DEFAULT");
    }

    if (in->s.name.ip.len == 0) {
        return nc_api_naming_missing(r, version, "ip");
    }

    if (!nc_api_naming_chars(&in->s.name.ip, ".:-_[]%", 128)
        || in->s.name.port > 65535)
    {
        return nc_api_naming_illegal(r, version, in->s.name.port > 65535
                                                 ? "port" : "ip");
    }

    if (!nc_api_naming_chars(&in->s.name.cluster, "-_", 64)) {
        return nc_api_naming_illegal(r, version, "clusterName");
    }

    in->key_len = nc_store_naming_instance_key(in->key, sizeof(in->key),
                                               &in->s.name);
    if (in->key_len == 0) {
        return nc_api_naming_illegal(r, version, "serviceName");
    }

    return NC_OK;
}


/* what a registration from the beat would say: weight, metadata */
static nc_int_t
nc_api_naming_beat_register(nc_http_request_t *r,
    nc_api_naming_instance_t *in, json_t *root)
{
    char      *dump;
    json_t    *o;
    nc_int_t   rc;
    nc_str_t   meta;

    /* the name pointed into root: the registration outlives it */
    in->s.name.ip.data = nc_pstrdup(r->pool, &in->s.name.ip);
    in->s.name.cluster.data = nc_pstrdup(r->pool, &in->s.name.cluster);

    if (in->s.name.ip.data == NULL || in->s.name.cluster.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    in->cmd.time = nc_api_config_now();
    in->cmd.flags = NC_STORE_NAMING_EPHEMERAL | NC_STORE_NAMING_HEALTHY
                    | NC_STORE_NAMING_ENABLED;
    in->cmd.weight = 1.0;

    o = json_object_get(root, "weight");
    if (json_is_number(o) && json_number_value(o) >= 0
        && json_number_value(o) <= NC_API_NAMING_MAX_WEIGHT)
    {
        in->cmd.weight = json_number_value(o);
    }

    meta.len = 0;
    dump = NULL;

    o = json_object_get(root, "metadata");
    if (json_is_object(o) && json_object_size(o)) {
        dump = json_dumps(o, JSON_COMPACT);
        if (dump) {
            meta.data = (u_char *) dump;
            meta.len = strlen(dump);
        }
    }

    rc = nc_api_naming_metadata(r, in->s.version, &meta, &in->cmd.metadata);
    free(dump);

    if (rc == NC_OK) {
        rc = nc_api_naming_preserved(r, in);
    }

    return rc;
}


static nc_int_t
nc_api_naming_beat_answer(nc_http_request_t *r, nc_uint_t interval,
    nc_uint_t code)
{
    u_char  *p;
    size_t   len;

    p = nc_pnalloc(r->pool, 96);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (interval == 0) {
        interval = (nc_uint_t) nc_api_naming_conf->beat_interval;
    }

    len = (size_t) snprintf((char *) p, 96,
                            "{\"clientBeatInterval\":%u,\"code\":%u,"
                            "\"lightBeatEnabled\":true}",
                            (unsigned) interval, (unsigned) code);

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", p, len);
}


static void
nc_api_naming_beat_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t                   rc;
    nc_api_naming_instance_t  *in;

    in = data;

    switch (status) {

    case NC_OK:
        rc = nc_api_naming_beat_answer(r, in->cmd.beat_interval, 10200);
        break;

    case NC_ERROR:
        rc = nc_api_naming_fail(r, NC_API_V1, NC_HTTP_BAD_REQUEST,
                                NC_API_NAMING_INSTANCE,
                                "Current service %.*s is persistent service, "
                                "can't register ephemeral instance.",
                                (int) in->s.grouped.len, in->s.grouped.data);
        break;

    default:
        rc = nc_api_naming_unavailable(r, NC_API_V1, status);
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}
