
/*
 * nacre: Nacos' config API, v1 (what the official clients call).
 *
 *   GET    /nacos/v1/cs/configs            one item: its bytes as stored
 *   GET    /nacos/v1/cs/configs?search=    accurate|blur listing, paged
 *   POST   /nacos/v1/cs/configs            publish (casMd5: compare-and-set)
 *   DELETE /nacos/v1/cs/configs            delete
 *   POST   /nacos/v1/cs/configs/listener   long-poll on MD5s
 *   GET    /nacos/v1/cs/configs/listener   who polls an item (every member)
 *   GET    /nacos/v1/cs/listener?ip=       what a client polls
 *
 * Namespace "", "public" and "null" are the one public namespace, stored
 * as "".  Reads come from this node's published version; writes answer
 * once applied here.  Every request needs the permission its item's
 * resource asks for ([namespace]:group:config/dataId, r or w).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_cycle.h>
#include <nc_store.h>
#include <nc_store_config.h>
#include <nc_auth.h>
#include <nc_api.h>
#include <nc_api_watch.h>
#include <nc_api_config.h>
#include <nc_config_listeners.h>
#include <nc_consensus.h>

#include <stdarg.h>


#define NC_API_CONFIG_PATH        "/nacos/v1/cs/configs"
#define NC_API_CONFIG_MAX_KEYS    10000       /* in one listener request */
#define NC_API_CONFIG_HOLD_MIN    10000       /* ms */
#define NC_API_CONFIG_HOLD_MAX    (5 * 60 * 1000)
#define NC_API_CONFIG_PAGE_MAX    500


/* one key of a listener request */
typedef struct {
    nc_api_config_name_t     name;
    nc_str_t                 md5;         /* the client's, hex or empty */
    nc_str_t                 tenant;      /* as the client wrote it: echoed */
} nc_api_config_listen_key_t;


typedef struct {
    nc_http_request_t           *request;
    nc_api_watch_t              *watch;
    nc_api_config_listen_key_t  *keys;
    nc_uint_t                    nkeys;
    nc_str_t                     ip;          /* for gray versions */
    nc_int_t                    *slots;       /* nc_config_listeners_add() */
    nc_uint_t                    listed;
} nc_api_config_listen_t;


/* a question about listeners, put to every member */
typedef struct {
    nc_http_request_t           *request;
    nc_consensus_req_t          *status;
    nc_flag_t                    by_key;      /* else by client address: */
    nc_flag_t                    every;       /*   every namespace, */
    nc_str_t                     ns;          /*   or this one */
} nc_api_config_who_t;


static nc_int_t nc_api_config_v1(nc_http_request_t *r);
static nc_int_t nc_api_config_v2(nc_http_request_t *r);
static nc_int_t nc_api_config_get(nc_http_request_t *r, nc_uint_t version);
static nc_int_t nc_api_config_search(nc_http_request_t *r);
static nc_int_t nc_api_config_publish(nc_http_request_t *r,
    nc_uint_t version);
static nc_int_t nc_api_config_delete(nc_http_request_t *r,
    nc_uint_t version);
static void nc_api_config_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_config_listener(nc_http_request_t *r);
static nc_int_t nc_api_config_listen_parse(nc_http_request_t *r,
    nc_api_config_listen_t *ls);
static nc_int_t nc_api_config_changed_keys(nc_http_request_t *r,
    nc_api_config_listen_t *ls, nc_buf_t *out);
static void nc_api_config_listen_changed(nc_api_watch_t *w);
static void nc_api_config_listen_timeout(nc_event_t *ev);
static void nc_api_config_listen_cleanup(nc_http_request_t *r);
static nc_int_t nc_api_config_listen_answer(nc_http_request_t *r,
    nc_buf_t *out);
static void nc_api_config_listen_list(nc_api_config_listen_t *ls,
    nc_uint_t i, const u_char *key, size_t len);
static void nc_api_config_listen_unlist(void *data);
static nc_int_t nc_api_config_listeners(nc_http_request_t *r);
static nc_int_t nc_api_config_polled(nc_http_request_t *r);
static nc_int_t nc_api_config_who_ask(nc_api_config_who_t *who,
    const u_char *arg, size_t len);
static void nc_api_config_who_text(void *data, nc_int_t status,
    u_char *text, size_t len);
static void nc_api_config_who_cleanup(nc_http_request_t *r);
static nc_int_t nc_api_config_who_answer(nc_api_config_who_t *who,
    u_char *text, size_t len);
static void nc_api_config_polled_items(nc_api_config_who_t *who,
    nc_array_t *found, nc_api_json_t *j);
static int nc_api_config_listener_cmp(const void *a, const void *b);
static int nc_api_config_listener_key_cmp(const void *a, const void *b);
static u_char *nc_api_config_group_key(u_char *p, const nc_str_t *s);

static nc_int_t nc_api_config_check(nc_http_request_t *r, nc_uint_t version,
    const char *param, const nc_str_t *v, size_t max, nc_flag_t ns);
static const char *nc_api_config_content_type(const nc_str_t *type);
static void nc_api_config_client_ip(nc_http_request_t *r, nc_str_t *ip);
static nc_int_t nc_api_config_namespace_exists(nc_http_request_t *r,
    nc_uint_t version, const nc_str_t *ns);
static const nc_store_record_t *nc_api_config_visible(
    const nc_store_version_t *v, const nc_api_config_name_t *name,
    const nc_str_t *ip, nc_flag_t *beta);
static nc_int_t nc_api_config_beta_get(nc_http_request_t *r,
    const nc_api_config_name_t *name);
static nc_int_t nc_api_config_beta_ips(nc_http_request_t *r,
    nc_uint_t version, const nc_str_t *ips);
static nc_int_t nc_api_config_delete_ids(nc_http_request_t *r);
static void nc_api_config_deleted_one(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_config_no_cache(nc_http_request_t *r);
static u_char *nc_api_config_command(nc_http_request_t *r, nc_uint_t op,
    const nc_api_config_name_t *name, const nc_store_config_cmd_t *c,
    size_t *len);


nc_conf_config_t  *nc_api_config_conf;

static const char  *nc_api_config_types[] = {
    "properties", "xml", "json", "text", "html", "yaml", "toml", "unset"
};


nc_int_t
nc_api_config_init_routes(nc_cycle_t *cycle)
{
    nc_api_config_conf = &cycle->conf->config;

    /* any user; each handler asks for its item's permission */
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_POST
                          | NC_HTTP_DELETE, NC_API_CONFIG_PATH, 0,
                          NC_AUTH_USER, nc_api_config_v1) != NC_OK
        || nc_http_add_route(NC_HTTP_POST, NC_API_CONFIG_PATH "/listener", 0,
                             NC_AUTH_USER, nc_api_config_listener) != NC_OK
        || nc_http_add_route(NC_HTTP_GET, NC_API_CONFIG_PATH "/listener", 0,
                             NC_AUTH_USER, nc_api_config_listeners) != NC_OK
        || nc_http_add_route(NC_HTTP_GET, "/nacos/v1/cs/listener", 0,
                             NC_AUTH_USER, nc_api_config_polled) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_POST
                             | NC_HTTP_DELETE, "/nacos/v2/cs/config", 0,
                             NC_AUTH_USER, nc_api_config_v2) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_api_config_v1(nc_http_request_t *r)
{
    nc_str_t  v;

    switch (r->method) {

    case NC_HTTP_POST:
        if (nc_http_query_param(r, "import", &v) == NC_OK
            && v.len == 4 && nc_memcmp(v.data, "true", 4) == 0)
        {
            return nc_api_config_import(r);
        }

        return nc_api_config_publish(r, NC_API_V1);

    case NC_HTTP_DELETE:
        return nc_api_config_delete(r, NC_API_V1);

    default:
        if (nc_http_param(r, "search", &v) == NC_OK && v.len) {
            return nc_api_config_search(r);
        }

        if (nc_http_param(r, "exportV2", &v) == NC_OK
            && v.len == 4 && nc_memcmp(v.data, "true", 4) == 0)
        {
            return nc_api_config_export(r, 1);
        }

        if (nc_http_param(r, "export", &v) == NC_OK
            && v.len == 4 && nc_memcmp(v.data, "true", 4) == 0)
        {
            return nc_api_config_export(r, 0);
        }

        return nc_api_config_get(r, NC_API_V1);
    }
}


static nc_int_t
nc_api_config_v2(nc_http_request_t *r)
{
    switch (r->method) {

    case NC_HTTP_POST:
        return nc_api_config_publish(r, NC_API_V2);

    case NC_HTTP_DELETE:
        return nc_api_config_delete(r, NC_API_V2);

    default:
        return nc_api_config_get(r, NC_API_V2);
    }
}


/* --- read ---------------------------------------------------------------- */


static nc_int_t
nc_api_config_get(nc_http_request_t *r, nc_uint_t version)
{
    u_char                        *body, *hex;
    nc_int_t                       rc;
    nc_str_t                       content, type, value, ip;
    nc_flag_t                      beta;
    const char                    *ctype;
    nc_api_config_name_t           name;
    const nc_store_record_t       *rec;
    const nc_store_version_t      *v;
    const nc_store_config_head_t  *h;
    u_char                         typebuf[32];

    rc = nc_api_config_item(r, version, &name, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (version == NC_API_V1 && nc_http_param(r, "beta", &value) == NC_OK
        && value.len == 4 && nc_memcmp(value.data, "true", 4) == 0)
    {
        return nc_api_config_beta_get(r, &name);
    }

    nc_api_config_client_ip(r, &ip);

    v = nc_store_enter(nc_store);
    rec = v ? nc_api_config_visible(v, &name, &ip, &beta) : NULL;

    if (rec == NULL) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_NOT_FOUND,
                                             "config data not exist"));
    }

    h = nc_store_config_head(rec);

    /* copied: the version is left before the answer goes out */
    nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &content);
    nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &type);

    body = nc_pnalloc(r->pool, content.len + 32);
    hex = body ? body + content.len : NULL;

    if (body) {
        nc_memcpy(body, content.data, content.len);
        nc_api_config_hex(h->md5, hex);
    }

    type.len = nc_min(type.len, sizeof(typebuf));
    nc_memcpy(typebuf, type.data, type.len);
    type.data = typebuf;

    r->headers_out.last_modified = (time_t) (h->modified / 1000);

    nc_store_leave(nc_store);

    if (body == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctype = nc_api_config_content_type(&type);

    if (type.len == 0) {
        nc_str_set(&type, "text");
    }

    value.data = nc_pnalloc(r->pool, type.len);
    if (value.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_memcpy(value.data, type.data, type.len);
    value.len = type.len;

    if (nc_http_add_header(r, "Config-Type", &value) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = hex;
    value.len = 32;

    if (nc_http_add_header(r, "Content-MD5", &value) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (nc_api_config_no_cache(r) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (beta) {
        nc_str_set(&value, "true");
        if (nc_http_add_header(r, "isBeta", &value) != NC_OK) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (version == NC_API_V1) {
        return nc_http_set_response(r, NC_HTTP_OK, ctype, body, content.len);
    }

    /* v2: the content as the envelope's data string */
    value.len = nc_json_escape_len(body, content.len) + 2;
    value.data = nc_pnalloc(r->pool, value.len);
    if (value.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data[0] = '"';
    (void) nc_json_escape(value.data + 1, body, content.len);
    value.data[value.len - 1] = '"';

    return nc_api_config_ok(r, NC_API_V2, value.data, value.len);
}


/*
 * ?search=accurate|blur: dataId and group (blank: any), tenant, appName,
 * config_tags; blur matches '*' wildcards.  Page of ConfigInfo.
 */
static nc_int_t
nc_api_config_search(nc_http_request_t *r)
{
    u_char                        *k, *slash;
    size_t                         plen;
    nc_int_t                       rc;
    nc_str_t                       ns, want_id, want_group, want_app,
                                   want_tags, want_types, group, data_id,
                                   f[3];
    nc_flag_t                      blur;
    nc_api_page_t                  pg;
    nc_store_iter_t               *it;
    const nc_store_record_t       *rec;
    const nc_store_version_t      *v;
    u_char                         prefix[NC_STORE_MAX_KEY_LEN];
    u_char                         hex[32];
    char                           id[24];

    blur = nc_http_param(r, "search", &ns) == NC_OK && ns.len == 4
           && nc_memcmp(ns.data, "blur", 4) == 0;

    if (nc_http_param(r, "tenant", &ns) != NC_OK
        || nc_auth_public_namespace(&ns))
    {
        ns.len = 0;
    }

    rc = nc_api_config_check(r, NC_API_V1, "tenant", &ns, 128, 1);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    rc = nc_api_page_init(r, &pg, 10, NC_API_CONFIG_PAGE_MAX);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_param(r, "dataId", &want_id);

    nc_api_param(r, "group", &want_group);

    nc_api_param(r, "appName", &want_app);

    nc_api_param(r, "config_tags", &want_tags);

    /* types: a comma list, for blur searches */
    if (!blur || nc_http_param(r, "types", &want_types) != NC_OK) {
        want_types.len = 0;
    }

    /* the namespace as a whole, to read */
    f[0].len = 0;
    rc = nc_auth_permit(r, &ns, &f[0], "config", &f[0], NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    plen = nc_api_config_ns_prefix(prefix, &ns);

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_UNAVAILABLE,
                                             "the store is not loaded yet"));
    }

    nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);

    while (pg.json.rc == NC_OK
           && (rec = nc_store_iter_next(it)) != NULL)
    {
        if (rec->type != NC_STORE_T_CONFIG) {
            continue;
        }

        /* <group>/<dataId> */
        k = (u_char *) nc_store_record_key(rec) + plen;
        slash = memchr(k, '/', rec->key_len - plen);

        if (slash == NULL) {
            continue;
        }

        group.data = k;
        group.len = slash - k;
        data_id.data = slash + 1;
        data_id.len = nc_store_record_key(rec) + rec->key_len - slash - 1;

        nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &f[0]);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_TAGS, &f[1]);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &f[2]);

        if (!nc_api_match(blur, &want_id, data_id.data, data_id.len)
            || !nc_api_match(blur, &want_group, group.data, group.len)
            || !nc_api_match(blur, &want_app, f[0].data, f[0].len)
            || !nc_api_match_list(&want_tags, f[1].data, f[1].len)
            || !nc_api_match_list(&want_types, f[2].data, f[2].len))
        {
            continue;
        }

        if (!nc_api_page_take(&pg)) {
            continue;
        }

        nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &f[2]);
        nc_api_config_hex(nc_store_config_head(rec)->md5, hex);
        (void) snprintf(id, sizeof(id), "%" PRIu64,
                        nc_store_config_head(rec)->id);

        nc_api_json_open(&pg.json, NULL, '{');
        nc_api_json_str(&pg.json, "id", (u_char *) id, strlen(id));
        nc_api_json_str(&pg.json, "dataId", data_id.data, data_id.len);
        nc_api_json_str(&pg.json, "group", group.data, group.len);
        nc_api_json_str(&pg.json, "tenant", ns.data, ns.len);
        nc_api_json_str(&pg.json, "appName", f[0].data, f[0].len);
        nc_api_json_str(&pg.json, "type", f[2].data, f[2].len);
        nc_api_json_str(&pg.json, "md5", hex, 32);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &f[2]);
        nc_api_json_str(&pg.json, "content", f[2].data, f[2].len);
        nc_api_json_raw(&pg.json, "encryptedDataKey", "null");
        nc_api_json_raw(&pg.json, "isBeta",
                        nc_api_config_lookup(v, NC_STORE_CONFIG_BETA,
                                             &(nc_api_config_name_t)
                                             { ns, group, data_id })
                        ? "true" : "false");
        nc_api_json_close(&pg.json, '}');
    }

    nc_store_leave(nc_store);

    return nc_api_page_done(r, &pg);
}


/* --- write --------------------------------------------------------------- */


static nc_int_t
nc_api_config_publish(nc_http_request_t *r, nc_uint_t version)
{
    u_char                 *cmd;
    size_t                  len, i;
    nc_int_t                rc, n;
    nc_str_t                v, tags;
    nc_uint_t               f, op;
    nc_http_header_t       *h;
    nc_api_config_name_t    name;
    nc_store_config_cmd_t   c;

    /* v1 and v2 parameter names */
    static const struct {
        const char  *param;
        const char  *param2;
        nc_uint_t    field;
        size_t       max;
    } fields[] = {
        { "type", "type", NC_STORE_CONFIG_F_TYPE, 32 },
        { "appName", "appName", NC_STORE_CONFIG_F_APP, 128 },
        { "config_tags", "configTags", NC_STORE_CONFIG_F_TAGS, 5 * 65 },
        { "desc", "desc", NC_STORE_CONFIG_F_DESC, 128 },
        { "use", "use", NC_STORE_CONFIG_F_USE, 32 },
        { "effect", "effect", NC_STORE_CONFIG_F_EFFECT, 32 },
        { "schema", "schema", NC_STORE_CONFIG_F_SCHEMA, 32768 },
        { "encryptedDataKey", "encryptedDataKey", NC_STORE_CONFIG_F_EDK,
          1024 },
        { "src_user", "srcUser", NC_STORE_CONFIG_F_USER, 128 },
    };

    rc = nc_api_config_item(r, version, &name, NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    rc = nc_api_config_namespace_exists(r, version, &name.ns);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (nc_http_param(r, "tag", &v) == NC_OK && v.len) {
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_INVALID,
                                             "tag versions are not served: "
                                             "gray releases go by betaIps"));
    }

    op = NC_STORE_CONFIG_PUBLISH;
    h = nc_http_find_header(r, "betaIps");

    if (h) {
        rc = nc_api_config_beta_ips(r, version, &h->value);
        if (rc != NC_OK) {
            return nc_api_end(rc);
        }

        op = NC_STORE_CONFIG_BETA_PUBLISH;
    }

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));

    if (nc_http_param(r, "content", &c.field[NC_STORE_CONFIG_F_CONTENT])
        != NC_OK || c.field[NC_STORE_CONFIG_F_CONTENT].len == 0)
    {
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_MISSING,
                                             "content invalid"));
    }

    if (c.field[NC_STORE_CONFIG_F_CONTENT].len
        > nc_api_config_conf->max_content_size)
    {
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_TOO_LARGE,
                                             "content longer than %zu bytes "
                                             "(config.max_content_size)",
                                             nc_api_config_conf
                                                 ->max_content_size));
    }

    for (i = 0; i < nc_nelems(fields); i++) {
        if (nc_http_param(r, version == NC_API_V2 ? fields[i].param2
                                                 : fields[i].param, &v)
            != NC_OK)
        {
            continue;
        }

        if (v.len > fields[i].max) {
            return nc_api_end(nc_api_config_fail(r, version,
                                                 NC_API_CONFIG_E_INVALID,
                                                 "%s longer than %zu",
                                                 fields[i].param,
                                                 fields[i].max));
        }

        c.field[fields[i].field] = v;
    }

    /* at most 5 tags of at most 64 */
    tags = c.field[NC_STORE_CONFIG_F_TAGS];

    for (i = 0, n = 0; i <= tags.len; i++) {
        if (i == tags.len || tags.data[i] == ',') {
            if (n > 64) {
                return nc_api_end(nc_api_config_fail(r, version,
                                                     NC_API_CONFIG_E_INVALID,
                                                     "a tag longer than 64"));
            }

            n = 0;
            continue;
        }

        n++;
    }

    if (nc_api_count(&tags, ',') > 4) {
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_INVALID,
                                             "more than 5 tags"));
    }

    /* Nacos' types, else text */
    v = c.field[NC_STORE_CONFIG_F_TYPE];
    nc_str_set(&c.field[NC_STORE_CONFIG_F_TYPE], "text");

    for (f = 0; f < nc_nelems(nc_api_config_types); f++) {
        if (v.len == strlen(nc_api_config_types[f])
            && nc_memcmp(v.data, nc_api_config_types[f], v.len) == 0)
        {
            c.field[NC_STORE_CONFIG_F_TYPE] = v;
            break;
        }
    }

    if (c.field[NC_STORE_CONFIG_F_USER].len == 0) {
        c.field[NC_STORE_CONFIG_F_USER] = r->auth_user;
    }

    nc_api_config_client_ip(r, &c.field[NC_STORE_CONFIG_F_IP]);

    if (op == NC_STORE_CONFIG_BETA_PUBLISH) {
        c.field[NC_STORE_CONFIG_F_BETA_IPS] = nc_http_find_header(r,
                                                         "betaIps")->value;
    }

    h = nc_http_find_header(r, "casMd5");

    if (h) {
        c.use_cas = 1;

        /* a malformed one matches nothing: the CAS fails */
        for (i = 0; i < 16 && h->value.len == 32; i++) {
            n = nc_hextoi(h->value.data + 2 * i, 2);
            c.cas[i] = (u_char) (n < 0 ? 0 : n);
        }
    }

    c.time = nc_api_config_now();
    c.history_max_count = nc_api_config_conf->history_max_count;
    c.history_max_age = nc_api_config_conf->history_max_age;

    nc_store_config_md5(c.field[NC_STORE_CONFIG_F_CONTENT].data,
                        c.field[NC_STORE_CONFIG_F_CONTENT].len, c.md5);

    cmd = nc_api_config_command(r, op, &name, &c, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_config_written,
                          (void *) (uintptr_t) version);
}


static nc_int_t
nc_api_config_delete(nc_http_request_t *r, nc_uint_t version)
{
    u_char                 *cmd;
    size_t                  len;
    nc_int_t                rc;
    nc_str_t                v;
    nc_uint_t               op;
    nc_api_config_name_t    name;
    nc_store_config_cmd_t   c;

    if (version == NC_API_V1 && nc_http_param(r, "delType", &v) == NC_OK
        && v.len == 3 && nc_memcmp(v.data, "ids", 3) == 0)
    {
        return nc_api_config_delete_ids(r);
    }

    rc = nc_api_config_item(r, version, &name, NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    op = NC_STORE_CONFIG_DELETE;

    if (version == NC_API_V1 && nc_http_param(r, "beta", &v) == NC_OK
        && v.len == 4 && nc_memcmp(v.data, "true", 4) == 0)
    {
        op = NC_STORE_CONFIG_BETA_DELETE;
    }

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));
    c.time = nc_api_config_now();
    c.history_max_count = nc_api_config_conf->history_max_count;
    c.history_max_age = nc_api_config_conf->history_max_age;
    c.field[NC_STORE_CONFIG_F_USER] = r->auth_user;
    nc_api_config_client_ip(r, &c.field[NC_STORE_CONFIG_F_IP]);

    cmd = nc_api_config_command(r, op, &name, &c, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_config_written,
                          (void *) (uintptr_t) (op == NC_STORE_CONFIG_DELETE
                                                ? version : 0));
}


static void
nc_api_config_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t   rc;
    nc_uint_t  version;

    version = (nc_uint_t) (uintptr_t) data;

    /* stopping a gray release: Nacos' RestResult */
    if (version == 0) {
        rc = status == NC_OK || status == NC_DECLINED
             ? nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                    (u_char *) "{\"code\":200,\"message\":"
                                    "\"stop beta ok\",\"data\":true}",
                                    sizeof("{\"code\":200,\"message\":"
                                           "\"stop beta ok\",\"data\":"
                                           "true}") - 1)
             : nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_UNAVAILABLE,
                                  "no leader: writes are unavailable");

        nc_http_finalize_request(r, nc_api_end(rc));
        return;
    }

    switch (status) {

    case NC_OK:
        rc = nc_api_config_ok(r, version, (u_char *) "true", 4);
        break;

    case NC_DECLINED:
        /* a delete of nothing is done; a publish declined lost its CAS */
        if (r->method == NC_HTTP_DELETE) {
            rc = nc_api_config_ok(r, version, (u_char *) "true", 4);
            break;
        }

        rc = nc_api_config_fail(r, version, NC_API_CONFIG_E_CONFLICT,
                                "Cas publish fail, server md5 may have "
                                "changed.");
        break;

    case NC_STORE_FULL:
        rc = nc_api_config_fail(r, version, NC_API_CONFIG_E_UNAVAILABLE,
                                "the store is full (store.shm_size)");
        break;

    case NC_ERROR:
        rc = nc_api_config_fail(r, version, NC_API_CONFIG_E_INVALID,
                                "invalid request");
        break;

    default:
        rc = nc_api_config_fail(r, version, NC_API_CONFIG_E_UNAVAILABLE,
                                "no leader: writes are unavailable");
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}


/*
 * The console's batch delete: ?delType=ids&ids=1,2 (items by id, in any
 * namespace).  Each needs its write permission; they are deleted one
 * after another, and the answer comes after the last.
 */

typedef struct {
    nc_uint_t                n;
    nc_uint_t                next;
    u_char                 **cmds;
    size_t                  *lens;
} nc_api_config_batch_t;


static nc_int_t
nc_api_config_delete_ids(nc_http_request_t *r)
{
    u_char                        *k, *s1, *s2;
    size_t                         plen;
    uint64_t                       id;
    nc_int_t                       rc;
    nc_str_t                       ids, one;
    nc_uint_t                      n, max;
    nc_store_iter_t               *it;
    nc_api_config_name_t           name;
    nc_api_config_batch_t         *b;
    nc_store_config_cmd_t          c;
    const nc_store_record_t       *rec;
    const nc_store_version_t      *v;

    if (nc_http_param(r, "ids", &ids) != NC_OK || ids.len == 0) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_MISSING,
                                             "ids invalid"));
    }

    max = nc_api_count(&ids, ',') + 1;

    b = nc_pcalloc(r->pool, sizeof(nc_api_config_batch_t));
    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));

    if (b == NULL || it == NULL || max > 1000) {
        return max > 1000
               ? nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                               NC_API_CONFIG_E_INVALID,
                                               "more than 1000 ids"))
               : NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->cmds = nc_palloc(r->pool, max * sizeof(u_char *));
    b->lens = nc_palloc(r->pool, max * sizeof(size_t));

    if (b->cmds == NULL || b->lens == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));
    c.time = nc_api_config_now();
    c.history_max_count = nc_api_config_conf->history_max_count;
    c.history_max_age = nc_api_config_conf->history_max_age;
    c.field[NC_STORE_CONFIG_F_USER] = r->auth_user;
    nc_api_config_client_ip(r, &c.field[NC_STORE_CONFIG_F_IP]);

    plen = sizeof(NC_STORE_CONFIG_ITEM) - 1;
    rc = NC_OK;

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root,
                           (u_char *) NC_STORE_CONFIG_ITEM, plen, NULL, 0);
    }

    /* cfg/<ns>/<group>/<dataId> whose id is listed */
    while (v && rc == NC_OK && b->n < max
           && (rec = nc_store_iter_next(it)) != NULL)
    {
        if (rec->type != NC_STORE_T_CONFIG) {
            continue;
        }

        id = nc_store_config_head(rec)->id;

        for (k = ids.data, n = 0; k < ids.data + ids.len; k = s1 + 1) {
            s1 = memchr(k, ',', ids.data + ids.len - k);
            s1 = s1 ? s1 : ids.data + ids.len;

            one.data = k;
            one.len = s1 - k;

            if ((uint64_t) nc_atoof(one.data, one.len) == id) {
                n = 1;
                break;
            }
        }

        if (!n) {
            continue;
        }

        k = (u_char *) nc_store_record_key(rec) + plen;
        s1 = memchr(k, '/', rec->key_len - plen);
        s2 = s1 ? memchr(s1 + 1, '/', nc_store_record_key(rec)
                                       + rec->key_len - s1 - 1) : NULL;

        if (s2 == NULL) {
            continue;
        }

        /* copied: the version is left before the deletes */
        name.ns.len = s1 - k;
        name.ns.data = nc_pnalloc(r->pool, rec->key_len);
        if (name.ns.data == NULL) {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        nc_memcpy(name.ns.data, k, nc_store_record_key(rec) + rec->key_len
                                   - k);
        name.group.data = name.ns.data + (s1 + 1 - k);
        name.group.len = s2 - s1 - 1;
        name.data_id.data = name.ns.data + (s2 + 1 - k);
        name.data_id.len = nc_store_record_key(rec) + rec->key_len - s2 - 1;

        rc = nc_auth_permit(r, &name.ns, &name.group, "config",
                            &name.data_id, NC_AUTH_WRITE);
        if (rc != NC_OK) {
            break;
        }

        b->cmds[b->n] = nc_api_config_command(r, NC_STORE_CONFIG_DELETE,
                                              &name, &c, &b->lens[b->n]);
        if (b->cmds[b->n] == NULL) {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        b->n++;
    }

    nc_store_leave(nc_store);

    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (b->n == 0) {
        return nc_api_rest_result(r, NC_HTTP_OK, "true");
    }

    return nc_api_propose(r, b->cmds[0], b->lens[0],
                          nc_api_config_deleted_one, b);
}


static void
nc_api_config_deleted_one(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t                rc;
    nc_api_config_batch_t  *b;

    b = data;

    if (status != NC_OK && status != NC_DECLINED) {
        rc = nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_UNAVAILABLE,
                                "no leader: writes are unavailable");
        nc_http_finalize_request(r, nc_api_end(rc));
        return;
    }

    if (++b->next < b->n) {
        rc = nc_api_propose(r, b->cmds[b->next], b->lens[b->next],
                            nc_api_config_deleted_one, b);

        nc_http_finalize_request(r, rc);
        return;
    }

    nc_http_finalize_request(r, nc_api_rest_result(r, NC_HTTP_OK, "true"));
}


/* --- listener ------------------------------------------------------------ */


/*
 * Answer at once when an MD5 differs, or when the client asked not to be
 * held (no Long-Pulling-Timeout, or Long-Pulling-Timeout-No-Hangup);
 * else wait for a change of a listened key, up to max(10 s, timeout -
 * 500 ms), then answer empty.
 */
static nc_int_t
nc_api_config_listener(nc_http_request_t *r)
{
    nc_int_t                 rc;
    nc_uint_t                i;
    nc_msec_t                hold;
    nc_buf_t                 out;
    nc_http_header_t        *h;
    nc_pool_cleanup_t       *cln;
    nc_api_config_listen_t  *ls;
    u_char                   key[NC_STORE_MAX_KEY_LEN];
    size_t                   len;

    ls = nc_pcalloc(r->pool, sizeof(nc_api_config_listen_t));
    if (ls == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ls->request = r;

    /* copied: the headers are gone once the request is parked */
    nc_api_config_client_ip(r, &ls->ip);
    ls->ip.data = nc_pstrdup(r->pool, &ls->ip);
    if (ls->ip.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_config_listen_parse(r, ls);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_memzero(&out, sizeof(nc_buf_t));

    if (nc_api_config_changed_keys(r, ls, &out) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = nc_http_find_header(r, "Long-Pulling-Timeout");

    if (out.pos != out.last || h == NULL) {
        return nc_api_config_listen_answer(r, &out);
    }

    hold = (nc_msec_t) nc_atoi(h->value.data, h->value.len);
    hold = (hold == (nc_msec_t) NC_ERROR || hold < 500)
           ? NC_API_CONFIG_HOLD_MIN : hold - 500;
    hold = nc_max(hold, NC_API_CONFIG_HOLD_MIN);
    hold = nc_min(hold, NC_API_CONFIG_HOLD_MAX);

    h = nc_http_find_header(r, "Long-Pulling-Timeout-No-Hangup");

    if (h && h->value.len == 4
        && nc_strncasecmp(h->value.data, (u_char *) "true", 4) == 0)
    {
        return nc_api_config_listen_answer(r, &out);
    }

    /* each item, and its gray version */
    ls->watch = nc_api_watch_create(r, 2 * ls->nkeys);
    if (ls->watch == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* listed for the console until the request ends, however it ends */
    ls->slots = nc_palloc(r->pool, ls->nkeys * sizeof(nc_int_t));
    cln = nc_pool_cleanup_add(r->pool, 0);

    if (ls->slots == NULL || cln == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = nc_api_config_listen_unlist;
    cln->data = ls;

    for (i = 0; i < ls->nkeys; i++) {
        len = nc_store_config_key(key, sizeof(key), NC_STORE_CONFIG_ITEM,
                                  &ls->keys[i].name.ns,
                                  &ls->keys[i].name.group,
                                  &ls->keys[i].name.data_id);
        nc_api_watch_key(ls->watch, 2 * i, key, len);
        nc_api_config_listen_list(ls, i, key, len);

        len = nc_store_config_key(key, sizeof(key), NC_STORE_CONFIG_BETA,
                                  &ls->keys[i].name.ns,
                                  &ls->keys[i].name.group,
                                  &ls->keys[i].name.data_id);
        nc_api_watch_key(ls->watch, 2 * i + 1, key, len);
    }

    ls->watch->changed = nc_api_config_listen_changed;
    ls->watch->data = ls;
    nc_api_watch_start(ls->watch);

    r->ctx = ls;
    r->cleanup = nc_api_config_listen_cleanup;

    r->timer.handler = nc_api_config_listen_timeout;
    r->timer.data = r;
    r->timer.timer_index = NC_INVALID_INDEX;
    nc_add_timer(&r->timer, hold);

    /* thousands may wait: each keeps its pool only */
    nc_http_request_park(r);

    return NC_DONE;
}


/*
 * Listening-Configs: records "dataId ^B group ^B md5 [^B tenant] ^A"; a
 * record with another number of fields, or more than 10000 of them, is a
 * 400 (never a hang).
 */
static nc_int_t
nc_api_config_listen_parse(nc_http_request_t *r, nc_api_config_listen_t *ls)
{
    u_char                      *p, *end, *rec_end, *sep;
    nc_int_t                     rc;
    nc_str_t                     v, f[4];
    nc_uint_t                    n, i;
    nc_api_config_listen_key_t  *k;

    if (nc_http_param(r, "Listening-Configs", &v) != NC_OK || v.len == 0) {
        return nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                  "invalid probeModify");
    }

    n = nc_api_count(&v, '\x01');

    if (n == 0 || n > NC_API_CONFIG_MAX_KEYS
        || v.data[v.len - 1] != '\x01')
    {
        return nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                  "invalid probeModify");
    }

    ls->keys = nc_pcalloc(r->pool, n * sizeof(nc_api_config_listen_key_t));
    if (ls->keys == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = v.data;
    end = v.data + v.len;

    for (ls->nkeys = 0; p < end; ls->nkeys++) {
        rec_end = memchr(p, '\x01', end - p);

        for (i = 0; i < 4; i++) {
            sep = memchr(p, '\x02', rec_end - p);

            f[i].data = p;
            f[i].len = (sep ? sep : rec_end) - p;

            p = sep ? sep + 1 : rec_end;

            if (sep == NULL) {
                break;
            }
        }

        if (i < 2 || i > 3 || p != rec_end) {
            return nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                      "invalid probeModify");
        }

        k = &ls->keys[ls->nkeys];
        k->name.data_id = f[0];
        k->name.group = f[1];
        k->md5 = f[2];
        k->tenant = i == 3 ? f[3] : (nc_str_t) nc_null_string;
        k->name.ns = k->tenant;

        if (nc_auth_public_namespace(&k->name.ns)) {
            k->name.ns.len = 0;
        }

        if ((rc = nc_api_config_check(r, NC_API_V1, "dataId",
                                      &k->name.data_id, 256, 0)) != NC_OK
            || (rc = nc_api_config_check(r, NC_API_V1, "group",
                                         &k->name.group, 128, 0)) != NC_OK
            || (rc = nc_api_config_check(r, NC_API_V1, "tenant",
                                         &k->name.ns, 128, 1)) != NC_OK)
        {
            return rc;
        }

        if (k->name.data_id.len == 0 || k->name.group.len == 0) {
            return nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                      "invalid probeModify");
        }

        rc = nc_auth_permit(r, &k->name.ns, &k->name.group, "config",
                            &k->name.data_id, NC_AUTH_READ);
        if (rc != NC_OK) {
            return rc;
        }

        p = rec_end + 1;
    }

    return NC_OK;
}


/*
 * The keys whose MD5 here differs from the client's, encoded as Nacos
 * does: URL-encoded "dataId ^B group [^B tenant] ^A" each, then "\n".
 */
static nc_int_t
nc_api_config_changed_keys(nc_http_request_t *r, nc_api_config_listen_t *ls,
    nc_buf_t *out)
{
    nc_int_t                     rc;
    nc_uint_t                    i;
    nc_flag_t                    same, beta;
    nc_api_config_listen_key_t  *k;
    const nc_store_record_t     *rec;
    const nc_store_version_t    *v;
    u_char                       hex[32];

    rc = NC_OK;
    v = nc_store_enter(nc_store);

    for (i = 0; v && rc == NC_OK && i < ls->nkeys; i++) {
        k = &ls->keys[i];
        rec = nc_api_config_visible(v, &k->name, &ls->ip, &beta);

        if (rec) {
            nc_api_config_hex(nc_store_config_head(rec)->md5, hex);
            same = k->md5.len == 32
                   && nc_strncasecmp(k->md5.data, hex, 32) == 0;

        } else {
            same = k->md5.len == 0;
        }

        if (same) {
            continue;
        }

        if (nc_api_urlencode(r->pool, out, &k->name.data_id) != NC_OK
            || nc_buf_append(r->pool, out, "%02", 3) != NC_OK
            || nc_api_urlencode(r->pool, out, &k->name.group) != NC_OK
            || (k->tenant.len
                && (nc_buf_append(r->pool, out, "%02", 3) != NC_OK
                    || nc_api_urlencode(r->pool, out, &k->tenant) != NC_OK))
            || nc_buf_append(r->pool, out, "%01", 3) != NC_OK)
        {
            rc = NC_ERROR;
        }
    }

    nc_store_leave(nc_store);

    return rc;
}


static void
nc_api_config_listen_changed(nc_api_watch_t *w)
{
    nc_buf_t                 out;
    nc_http_request_t       *r;
    nc_api_config_listen_t  *ls;

    ls = w->data;
    r = ls->request;

    nc_memzero(&out, sizeof(nc_buf_t));

    /* the worker leaves: what changed, or an empty answer, now */
    if (w->closing) {
        r->keepalive = 0;
    }

    if (nc_api_config_changed_keys(r, ls, &out) != NC_OK) {
        nc_api_watch_stop(w);
        nc_del_timer(&r->timer);
        r->cleanup = NULL;
        nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the same bytes published again: keep waiting */
    if (out.pos == out.last && !w->closing) {
        return;
    }

    nc_api_watch_stop(w);
    nc_del_timer(&r->timer);
    r->cleanup = NULL;

    nc_http_finalize_request(r, nc_api_config_listen_answer(r, &out));
}


static void
nc_api_config_listen_timeout(nc_event_t *ev)
{
    nc_buf_t                 out;
    nc_http_request_t       *r;
    nc_api_config_listen_t  *ls;

    r = ev->data;
    ls = r->ctx;

    nc_api_watch_stop(ls->watch);
    r->cleanup = NULL;

    nc_memzero(&out, sizeof(nc_buf_t));

    nc_http_finalize_request(r, nc_api_config_listen_answer(r, &out));
}


static void
nc_api_config_listen_cleanup(nc_http_request_t *r)
{
    nc_api_config_listen_t  *ls;

    ls = r->ctx;

    nc_api_watch_stop(ls->watch);

    if (r->timer.timer_set) {
        nc_del_timer(&r->timer);
    }
}


static nc_int_t
nc_api_config_listen_answer(nc_http_request_t *r, nc_buf_t *out)
{
    if (out->pos != out->last
        && nc_buf_append(r->pool, out, "\n", 1) != NC_OK)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (nc_api_config_no_cache(r) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "text/html;charset=UTF-8",
                                out->pos, nc_buf_size(out));
}


static void
nc_api_config_listen_list(nc_api_config_listen_t *ls, nc_uint_t i,
    const u_char *key, size_t len)
{
    nc_config_listener_t         l;
    nc_api_config_listen_key_t  *k;

    k = &ls->keys[i];

    nc_memzero(&l, sizeof(nc_config_listener_t));
    l.key = nc_store_key_hash(key, len);
    l.ip_len = nc_min(ls->ip.len, NC_CONFIG_LISTENER_IP_LEN);
    nc_memcpy(l.ip, ls->ip.data, l.ip_len);
    l.md5_len = k->md5.len == NC_CONFIG_LISTENER_MD5_LEN ? k->md5.len : 0;
    nc_memcpy(l.md5, k->md5.data, l.md5_len);

    ls->slots[i] = nc_config_listeners_add(&l, ls->request->connection->log);
    ls->listed = i + 1;
}


static void
nc_api_config_listen_unlist(void *data)
{
    nc_uint_t                i;
    nc_api_config_listen_t  *ls;

    ls = data;

    for (i = 0; i < ls->listed; i++) {
        nc_config_listeners_remove(ls->slots[i]);
    }

    ls->listed = 0;
}


/*
 * GET /nacos/v1/cs/configs/listener?dataId&group&tenant: the clients
 * parked on an item, by address, with the MD5 each holds:
 * {"collectStatus":200,"lisentersGroupkeyStatus":{"<ip>":"<md5>"}}
 * (Nacos' spelling).  A blank group is DEFAULT_GROUP, as there.  A client
 * polls one member: the consensus process asks every member it reaches
 * for its node's listeners (nc_config_listeners_text()).
 */
static nc_int_t
nc_api_config_listeners(nc_http_request_t *r)
{
    size_t                  len;
    nc_int_t                rc;
    nc_api_config_who_t    *who;
    nc_api_config_name_t    name;
    u_char                  key[NC_STORE_MAX_KEY_LEN];
    u_char                  arg[9];

    static nc_str_t  default_group = nc_string("DEFAULT_GROUP");

    rc = nc_api_config_namespace(r, NC_API_V1, &name.ns);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (nc_http_param(r, "dataId", &name.data_id) != NC_OK
        || name.data_id.len == 0)
    {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_MISSING,
                                             "dataId invalid"));
    }

    if (nc_http_param(r, "group", &name.group) != NC_OK
        || name.group.len == 0)
    {
        name.group = default_group;
    }

    if ((rc = nc_api_config_check(r, NC_API_V1, "dataId", &name.data_id,
                                  256, 0)) != NC_OK
        || (rc = nc_api_config_check(r, NC_API_V1, "group", &name.group,
                                     128, 0)) != NC_OK
        || (rc = nc_auth_permit(r, &name.ns, &name.group, "config",
                                &name.data_id, NC_AUTH_READ)) != NC_OK)
    {
        return nc_api_end(rc);
    }

    who = nc_pcalloc(r->pool, sizeof(nc_api_config_who_t));
    if (who == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    who->request = r;
    who->by_key = 1;

    len = nc_store_config_key(key, sizeof(key), NC_STORE_CONFIG_ITEM,
                              &name.ns, &name.group, &name.data_id);

    arg[0] = 'k';
    nc_le64_put(arg + 1, nc_store_key_hash(key, len));

    return nc_api_config_who_ask(who, arg, sizeof(arg));
}


/*
 * GET /nacos/v1/cs/listener?ip&tenant&all: the items a client polls, by
 * Nacos' group key ("dataId+group[+tenant]"), with the MD5 it holds: the
 * tenant's items, or with all=true every namespace's (the admin role's
 * question).  The members answer with keys' hashes: the store's items
 * name them.
 */
static nc_int_t
nc_api_config_polled(nc_http_request_t *r)
{
    nc_int_t              rc;
    nc_str_t              ip, all, none;
    nc_api_config_who_t  *who;
    u_char                arg[1 + NC_CONFIG_LISTENER_IP_LEN];

    if (nc_http_param(r, "ip", &ip) != NC_OK || ip.len == 0
        || ip.len > NC_CONFIG_LISTENER_IP_LEN)
    {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_MISSING,
                                             "ip invalid"));
    }

    who = nc_pcalloc(r->pool, sizeof(nc_api_config_who_t));
    if (who == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    who->request = r;
    who->every = nc_http_param(r, "all", &all) == NC_OK && all.len == 4
                 && nc_strncasecmp(all.data, (u_char *) "true", 4) == 0;

    if (who->every) {
        if (!r->auth_admin) {
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_FORBIDDEN,
                                                 "all namespaces: for the "
                                                 "admin role"));
        }

    } else {
        /* the namespace as a whole, to read */
        none.len = 0;

        if ((rc = nc_api_config_namespace(r, NC_API_V1, &who->ns)) != NC_OK
            || (rc = nc_auth_permit(r, &who->ns, &none, "config", &none,
                                    NC_AUTH_READ)) != NC_OK)
        {
            return nc_api_end(rc);
        }
    }

    arg[0] = 'i';
    nc_memcpy(arg + 1, ip.data, ip.len);

    return nc_api_config_who_ask(who, arg, 1 + ip.len);
}


static nc_int_t
nc_api_config_who_ask(nc_api_config_who_t *who, const u_char *arg,
    size_t len)
{
    u_char             *text;
    nc_http_request_t  *r;

    r = who->request;

    who->status = nc_consensus_status_of(NC_CONSENSUS_STATUS_LISTENERS
                                         | NC_CONSENSUS_STATUS_CLUSTER,
                                         arg, len, nc_api_config_who_text,
                                         who);

    if (who->status == NULL) {
        /* no consensus process for now: this node's, read here */
        text = nc_pnalloc(r->pool, NC_CONSENSUS_MAX_TEXT);
        if (text == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = nc_config_listeners_text(arg, len, text,
                                       NC_CONSENSUS_MAX_TEXT);

        return nc_api_end(nc_api_config_who_answer(who, text, len));
    }

    r->ctx = who;
    r->cleanup = nc_api_config_who_cleanup;

    return NC_DONE;
}


static void
nc_api_config_who_text(void *data, nc_int_t status, u_char *text,
    size_t len)
{
    nc_http_request_t    *r;
    nc_api_config_who_t  *who;

    who = data;
    r = who->request;

    who->status = NULL;
    r->cleanup = NULL;

    if (status != NC_OK || text == NULL) {
        text = (u_char *) "";
        len = 0;
    }

    nc_http_finalize_request(r, nc_api_end(nc_api_config_who_answer(who,
                                                                    text,
                                                                    len)));
}


static void
nc_api_config_who_cleanup(nc_http_request_t *r)
{
    nc_api_config_who_t  *who;

    who = r->ctx;

    if (who->status) {
        nc_consensus_cancel(who->status);
        who->status = NULL;
    }
}


static nc_int_t
nc_api_config_who_answer(nc_api_config_who_t *who, u_char *text,
    size_t len)
{
    u_char                *p;
    nc_uint_t              i;
    nc_array_t            *found;
    nc_api_json_t          j;
    nc_http_request_t     *r;
    nc_config_listener_t  *l;

    r = who->request;

    found = nc_array_create(r->pool, 16, sizeof(nc_config_listener_t));
    if (found == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = text;

    for ( ;; ) {
        l = nc_array_push(found);

        if (l == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (nc_config_listeners_line(&p, text + len, l, who->by_key)
            != NC_OK)
        {
            found->nelts--;
            break;
        }
    }

    l = found->elts;
    qsort(l, found->nelts, sizeof(nc_config_listener_t),
          who->by_key ? nc_api_config_listener_cmp
                      : nc_api_config_listener_key_cmp);

    nc_api_json_init(&j, r->pool);
    nc_api_json_open(&j, NULL, '{');
    nc_api_json_uint(&j, "collectStatus", 200);
    nc_api_json_open(&j, "lisentersGroupkeyStatus", '{');

    if (who->by_key) {
        /* by address, each once: a client may hold several polls */
        for (i = 0; i < found->nelts; i++) {
            if (i && nc_api_config_listener_cmp(&l[i - 1], &l[i]) == 0) {
                continue;
            }

            nc_api_json_key(&j, l[i].ip, l[i].ip_len);
            nc_api_json_str(&j, NULL, l[i].md5, l[i].md5_len);
        }

    } else if (found->nelts) {
        nc_api_config_polled_items(who, found, &j);
    }

    nc_api_json_close(&j, '}');
    nc_api_json_close(&j, '}');

    if (j.rc != NC_OK || nc_api_config_no_cache(r) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                j.out.pos, nc_buf_size(&j.out));
}


/* the items among the namespace's (or all) whose key hashes were found */
static void
nc_api_config_polled_items(nc_api_config_who_t *who, nc_array_t *found,
    nc_api_json_t *j)
{
    u_char                    *k, *end, *s1, *s2, *p;
    size_t                     plen;
    nc_str_t                   ns, group, data_id;
    nc_store_iter_t           *it;
    nc_config_listener_t       want, *l;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];
    u_char                     gk[3 * NC_STORE_MAX_KEY_LEN];

    it = nc_palloc(who->request->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        j->rc = NC_ERROR;
        return;
    }

    if (who->every) {
        plen = sizeof(NC_STORE_CONFIG_ITEM) - 1;
        nc_memcpy(prefix, NC_STORE_CONFIG_ITEM, plen);

    } else {
        plen = nc_api_config_ns_prefix(prefix, &who->ns);
    }

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);
    }

    while (v && j->rc == NC_OK && (rec = nc_store_iter_next(it)) != NULL) {
        if (rec->type != NC_STORE_T_CONFIG) {
            continue;
        }

        k = (u_char *) nc_store_record_key(rec);
        want.key = nc_store_key_hash(k, rec->key_len);

        l = bsearch(&want, found->elts, found->nelts,
                    sizeof(nc_config_listener_t),
                    nc_api_config_listener_key_cmp);
        if (l == NULL) {
            continue;
        }

        /* cfg/<ns>/<group>/<dataId>: none of the names has a '/' */
        end = k + rec->key_len;
        k += sizeof(NC_STORE_CONFIG_ITEM) - 1;
        s1 = memchr(k, '/', end - k);
        s2 = s1 ? memchr(s1 + 1, '/', end - s1 - 1) : NULL;

        if (s2 == NULL) {
            continue;
        }

        ns.data = k;
        ns.len = s1 - k;
        group.data = s1 + 1;
        group.len = s2 - s1 - 1;
        data_id.data = s2 + 1;
        data_id.len = end - s2 - 1;

        p = nc_api_config_group_key(gk, &data_id);
        *p++ = '+';
        p = nc_api_config_group_key(p, &group);

        if (ns.len) {
            *p++ = '+';
            p = nc_api_config_group_key(p, &ns);
        }

        nc_api_json_key(j, gk, p - gk);
        nc_api_json_str(j, NULL, l->md5, l->md5_len);
    }

    nc_store_leave(nc_store);
}


static int
nc_api_config_listener_cmp(const void *a, const void *b)
{
    int                          rc;
    const nc_config_listener_t  *x = a, *y = b;

    rc = memcmp(x->ip, y->ip, nc_min(x->ip_len, y->ip_len));

    return rc ? rc : (x->ip_len > y->ip_len) - (x->ip_len < y->ip_len);
}


static int
nc_api_config_listener_key_cmp(const void *a, const void *b)
{
    const nc_config_listener_t  *x = a, *y = b;

    return (x->key > y->key) - (x->key < y->key);
}


/* Nacos' GroupKey2: '+' joins the names, so '+' and '%' are escaped */
static u_char *
nc_api_config_group_key(u_char *p, const nc_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '+' || s->data[i] == '%') {
            p = nc_cpymem(p, s->data[i] == '+' ? "%2B" : "%25", 3);

        } else {
            *p++ = s->data[i];
        }
    }

    return p;
}


/* --- helpers ------------------------------------------------------------- */


nc_int_t
nc_api_config_namespace(nc_http_request_t *r, nc_uint_t version,
    nc_str_t *ns)
{
    if ((version == NC_API_V2
         && nc_http_param(r, "namespaceId", ns) == NC_OK && ns->len)
        || nc_http_param(r, "tenant", ns) == NC_OK)
    {
        if (nc_auth_public_namespace(ns)) {
            ns->len = 0;
        }

        return nc_api_config_check(r, version,
                                   version == NC_API_V2 ? "namespaceId"
                                                        : "tenant",
                                   ns, 128, 1);
    }

    ns->len = 0;

    return NC_OK;
}


nc_int_t
nc_api_config_name(nc_http_request_t *r, nc_uint_t version,
    nc_api_config_name_t *name, nc_flag_t need_data_id)
{
    nc_int_t  rc;

    rc = nc_api_config_namespace(r, version, &name->ns);
    if (rc != NC_OK) {
        return rc;
    }

    if (nc_http_param(r, "dataId", &name->data_id) != NC_OK
        || name->data_id.len == 0)
    {
        if (need_data_id) {
            return nc_api_config_fail(r, version, NC_API_CONFIG_E_MISSING,
                                      "dataId invalid");
        }

        name->data_id.len = 0;
    }

    if (nc_http_param(r, "group", &name->group) != NC_OK
        || name->group.len == 0)
    {
        return nc_api_config_fail(r, version, NC_API_CONFIG_E_MISSING,
                                  "group invalid");
    }

    if ((rc = nc_api_config_check(r, version, "dataId", &name->data_id, 256,
                                  0)) != NC_OK
        || (rc = nc_api_config_check(r, version, "group", &name->group, 128,
                                     0)) != NC_OK)
    {
        return rc;
    }

    return NC_OK;
}


/* writes go to namespaces that exist (checked after the permission) */
static nc_int_t
nc_api_config_namespace_exists(nc_http_request_t *r, nc_uint_t version,
    const nc_str_t *ns)
{
    nc_flag_t                  exists;
    const nc_store_version_t  *v;

    if (ns->len == 0) {
        return NC_OK;
    }

    v = nc_store_enter(nc_store);
    exists = v && nc_api_namespace_exists(v, ns);
    nc_store_leave(nc_store);

    if (!exists) {
        return nc_api_config_fail(r, version, NC_API_CONFIG_E_NAMESPACE,
                                  "namespace '%.*s' does not exist",
                                  nc_str_fmt(ns));
    }

    return NC_OK;
}


nc_int_t
nc_api_config_item(nc_http_request_t *r, nc_uint_t version,
    nc_api_config_name_t *name, nc_uint_t action)
{
    nc_int_t  rc;

    rc = nc_api_config_name(r, version, name, 1);
    if (rc != NC_OK) {
        return rc;
    }

    return nc_auth_permit(r, &name->ns, &name->group, "config",
                          &name->data_id, action);
}


/*
 * Nacos' parameter checker: [A-Za-z0-9_.:-] for names, [A-Za-z0-9_-] for
 * namespaces, and lengths
 */
static nc_int_t
nc_api_config_check(nc_http_request_t *r, nc_uint_t version,
    const char *param, const nc_str_t *v, size_t max, nc_flag_t ns)
{
    u_char  c;
    size_t  i;

    if (v->len > max) {
        return nc_api_config_fail(r, version, NC_API_CONFIG_E_ILLEGAL,
                                  "Param '%s' is illegal, the param length "
                                  "should not exceed %zu.", param, max);
    }

    for (i = 0; i < v->len; i++) {
        c = v->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-'
            || (!ns && (c == '.' || c == ':')))
        {
            continue;
        }

        return nc_api_config_fail(r, version, NC_API_CONFIG_E_ILLEGAL,
                                  "Param '%s' is illegal, illegal characters "
                                  "should not appear in the param.", param);
    }

    return NC_OK;
}


size_t
nc_api_config_ns_prefix(u_char *buf, const nc_str_t *ns)
{
    u_char  *p;

    p = nc_cpymem(buf, NC_STORE_CONFIG_ITEM, sizeof(NC_STORE_CONFIG_ITEM) - 1);

    if (ns->len) {
        p = nc_cpymem(p, ns->data, ns->len);
    }

    *p++ = '/';

    return p - buf;
}


const nc_store_record_t *
nc_api_config_lookup(const nc_store_version_t *v, const char *prefix,
    const nc_api_config_name_t *name)
{
    size_t                    len;
    const nc_store_record_t  *rec;
    u_char                    key[NC_STORE_MAX_KEY_LEN];

    len = nc_store_config_key(key, sizeof(key), prefix, &name->ns,
                              &name->group, &name->data_id);
    if (len == 0) {
        return NULL;
    }

    rec = nc_store_get(nc_store, v, key, len);

    if (rec == NULL || rec->type != NC_STORE_T_CONFIG
        || rec->value_len < sizeof(nc_store_config_head_t))
    {
        return NULL;
    }

    return rec;
}


void
nc_api_config_hex(const u_char *md5, u_char *hex)
{
    static const u_char  digits[] = "0123456789abcdef";
    nc_uint_t            i;

    for (i = 0; i < 16; i++) {
        hex[2 * i] = digits[md5[i] >> 4];
        hex[2 * i + 1] = digits[md5[i] & 0xf];
    }
}


/* Nacos' FileTypeEnum */
static const char *
nc_api_config_content_type(const nc_str_t *type)
{
    if (type->len == 4 && nc_memcmp(type->data, "json", 4) == 0) {
        return "application/json;charset=UTF-8";
    }

    if (type->len == 3 && nc_memcmp(type->data, "xml", 3) == 0) {
        return "application/xml;charset=UTF-8";
    }

    if (type->len == 4 && nc_memcmp(type->data, "html", 4) == 0) {
        return "text/html;charset=UTF-8";
    }

    return "text/plain;charset=UTF-8";
}


/* the first X-Forwarded-For address, X-Real-IP, else the peer */
static void
nc_api_config_client_ip(nc_http_request_t *r, nc_str_t *ip)
{
    u_char            *comma;
    nc_http_header_t  *h;

    h = nc_http_find_header(r, "X-Forwarded-For");

    if (h && h->value.len) {
        *ip = h->value;
        comma = memchr(ip->data, ',', ip->len);

        if (comma) {
            ip->len = comma - ip->data;
        }

        ip->len = nc_min(ip->len, 64);
        return;
    }

    h = nc_http_find_header(r, "X-Real-IP");

    if (h && h->value.len) {
        *ip = h->value;
        ip->len = nc_min(ip->len, 64);
        return;
    }

    *ip = r->connection->addr_text;
}


nc_int_t
nc_api_config_fail(nc_http_request_t *r, nc_uint_t version, nc_uint_t error,
    const char *fmt, ...)
{
    int        n;
    u_char    *p;
    size_t     len;
    va_list    args;
    char       text[1024];

    static const struct {
        nc_uint_t    status;
        const char  *v1;          /* printf format of the v1 text */
        nc_uint_t    code;
        const char  *message;
    } kinds[] = {
        { NC_HTTP_BAD_REQUEST, "caused: %s;", 10000, "parameter missing" },
        { NC_HTTP_BAD_REQUEST, "%s", 20002, "parameter validate error" },
        { NC_HTTP_BAD_REQUEST, "caused: %s;", 20002,
          "parameter validate error" },
        { NC_HTTP_NOT_FOUND, "%s\n", 20004, "resource not found" },
        { NC_HTTP_REQUEST_ENTITY_TOO_LARGE, "caused: %s;", 5034,
          "config content size is over limit" },
        { NC_HTTP_INTERNAL_SERVER_ERROR, "%s", 20005, "resource conflict" },
        { NC_HTTP_BAD_REQUEST, "caused: %s;", 22001, "namespace not exist" },
        { NC_HTTP_SERVICE_UNAVAILABLE, "caused: %s;", 30000, "server error" },
        { NC_HTTP_FORBIDDEN, "caused: %s;", 10001, "access denied" },
    };

    va_start(args, fmt);
    n = vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    if (n < 0) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) nc_min(n, (int) sizeof(text) - 1);

    if (version == NC_API_V1) {
        p = nc_pnalloc(r->pool, len + 16);
        if (p == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = snprintf((char *) p, len + 16, kinds[error].v1, text);

        return nc_api_refused(nc_http_set_response(r, kinds[error].status,
                                                   "text/plain;charset=UTF-8",
                                                   p, (size_t) n));
    }

    return nc_api_v2_fail(r, kinds[error].status, kinds[error].code,
                          kinds[error].message, (u_char *) text, len);
}


nc_int_t
nc_api_config_ok(nc_http_request_t *r, nc_uint_t version, const u_char *json,
    size_t len)
{
    u_char  *p;
    size_t   n;

    if (version == NC_API_V1) {
        return nc_http_set_response(r, NC_HTTP_OK, "application/json", json,
                                    len);
    }

    p = nc_pnalloc(r->pool, len + 48);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = (size_t) sprintf((char *) p,
                         "{\"code\":0,\"message\":\"success\",\"data\":");
    nc_memcpy(p + n, json, len);
    n += len;
    p[n++] = '}';

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", p, n);
}


void
nc_api_config_iso_time(uint64_t ms, u_char *out)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    (void) gmtime_r(&t, &tm);

    /* 2020-12-05T01:48:03.380+0000 */
    if (strftime((char *) out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        nc_memcpy(out, "1970-01-01T00:00:00", 20);
    }

    (void) snprintf((char *) out + 19, 13, ".%03u+0000",
                    (unsigned) (ms % 1000));
}


uint64_t
nc_api_config_now(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


static u_char *
nc_api_config_command(nc_http_request_t *r, nc_uint_t op,
    const nc_api_config_name_t *name, const nc_store_config_cmd_t *c,
    size_t *len)
{
    size_t  klen;
    u_char  key[NC_STORE_MAX_KEY_LEN];

    klen = nc_store_config_key(key, sizeof(key),
                               op == NC_STORE_CONFIG_BETA_PUBLISH
                               || op == NC_STORE_CONFIG_BETA_DELETE
                               ? NC_STORE_CONFIG_BETA : NC_STORE_CONFIG_ITEM,
                               &name->ns, &name->group, &name->data_id);
    if (klen == 0) {
        return NULL;
    }

    return nc_store_config_command(r->pool, op, key, klen, c, len);
}


/* the version a client sees: the gray one if it is for its address */
static const nc_store_record_t *
nc_api_config_visible(const nc_store_version_t *v,
    const nc_api_config_name_t *name, const nc_str_t *ip, nc_flag_t *beta)
{
    u_char                   *p, *end, *comma, *a, *b;
    nc_str_t                  ips;
    const nc_store_record_t  *rec;

    *beta = 0;

    rec = nc_api_config_lookup(v, NC_STORE_CONFIG_BETA, name);

    if (rec && ip->len) {
        nc_store_config_field(rec, NC_STORE_CONFIG_F_BETA_IPS, &ips);

        for (p = ips.data, end = p + ips.len; p < end; p = comma + 1) {
            comma = memchr(p, ',', end - p);
            comma = comma ? comma : end;

            for (a = p; a < comma && *a == ' '; a++) { /* void */ }
            for (b = comma; b > a && b[-1] == ' '; b--) { /* void */ }

            if ((size_t) (b - a) == ip->len
                && nc_memcmp(a, ip->data, ip->len) == 0)
            {
                *beta = 1;
                return rec;
            }
        }
    }

    return nc_api_config_lookup(v, NC_STORE_CONFIG_ITEM, name);
}


/* ?beta=true: the gray version, with its addresses, as a RestResult */
static nc_int_t
nc_api_config_beta_get(nc_http_request_t *r, const nc_api_config_name_t *name)
{
    nc_str_t                   f;
    nc_api_json_t              j;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     hex[32];
    char                       id[24];

    nc_api_json_init(&j, r->pool);
    nc_api_json_raw(&j, NULL, "{\"code\":200,\"message\":\"query beta ok\","
                    "\"data\":");
    j.comma = 0;

    v = nc_store_enter(nc_store);
    rec = v ? nc_api_config_lookup(v, NC_STORE_CONFIG_BETA, name) : NULL;

    if (rec == NULL) {
        nc_api_json_raw(&j, NULL, "null");

    } else {
        (void) snprintf(id, sizeof(id), "%" PRIu64,
                        nc_store_config_head(rec)->id);
        nc_api_config_hex(nc_store_config_head(rec)->md5, hex);

        nc_api_json_open(&j, NULL, '{');
        nc_api_json_str(&j, "id", (u_char *) id, strlen(id));
        nc_api_json_str(&j, "dataId", name->data_id.data, name->data_id.len);
        nc_api_json_str(&j, "group", name->group.data, name->group.len);
        nc_api_json_str(&j, "tenant", name->ns.data, name->ns.len);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &f);
        nc_api_json_str(&j, "appName", f.data, f.len);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &f);
        nc_api_json_str(&j, "content", f.data, f.len);
        nc_api_json_str(&j, "md5", hex, 32);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_BETA_IPS, &f);
        nc_api_json_str(&j, "betaIps", f.data, f.len);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &f);
        nc_api_json_str(&j, "type", f.data, f.len);
        nc_api_json_close(&j, '}');
    }

    nc_store_leave(nc_store);

    nc_api_json_close(&j, '}');

    if (j.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", j.out.pos,
                                nc_buf_size(&j.out));
}


/* betaIps: a comma list of 1 to 1000 addresses, 64 bytes at most each */
static nc_int_t
nc_api_config_beta_ips(nc_http_request_t *r, nc_uint_t version,
    const nc_str_t *ips)
{
    size_t  i, n;

    if (ips->len == 0 || ips->len > 32768
        || nc_api_count(ips, ',') >= 1000)
    {
        return nc_api_config_fail(r, version, NC_API_CONFIG_E_INVALID,
                                  "betaIps invalid");
    }

    for (i = 0, n = 0; i < ips->len; i++) {
        if (ips->data[i] == ',') {
            n = 0;
            continue;
        }

        if (++n > 64 || !(isalnum(ips->data[i]) || ips->data[i] == '.'
                          || ips->data[i] == ':' || ips->data[i] == ' '))
        {
            return nc_api_config_fail(r, version, NC_API_CONFIG_E_INVALID,
                                      "betaIps invalid");
        }
    }

    return NC_OK;
}


/* what Nacos sends with items and listener answers */
static nc_int_t
nc_api_config_no_cache(nc_http_request_t *r)
{
    nc_uint_t  i;
    nc_str_t   value;

    static const char  *headers[][2] = {
        { "Pragma", "no-cache" },
        { "Expires", "Thu, 01 Jan 1970 00:00:00 GMT" },
        { "Cache-Control", "no-cache,no-store" },
    };

    for (i = 0; i < nc_nelems(headers); i++) {
        value.data = (u_char *) headers[i][1];
        value.len = strlen(headers[i][1]);

        if (nc_http_add_header(r, headers[i][0], &value) != NC_OK) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}
