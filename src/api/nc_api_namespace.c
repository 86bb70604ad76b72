
/*
 * nacre: Nacos' namespaces, as its console manages them.
 *
 *   GET    /nacos/v1/console/namespaces          RestResult of the list
 *   GET    ...?show=all&namespaceId=             one namespace
 *   GET    ...?checkNamespaceIdExist=true&customNamespaceId=   true|false
 *   POST   customNamespaceId (blank: a UUID), namespaceName, namespaceDesc
 *   PUT    namespace, namespaceShowName, namespaceDesc
 *   DELETE namespaceId: refused while it holds items
 *
 * The public namespace ("", also "public") always exists and is neither
 * made nor removed.  Reading needs a user, changing an admin.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_config.h>
#include <nc_auth.h>
#include <nc_auth_crypto.h>
#include <nc_api.h>
#include <nc_api_config.h>


#define NC_API_NAMESPACE_PATH   "/nacos/v1/console/namespaces"
#define NC_API_NAMESPACE_QUOTA  200           /* Nacos' default, shown */


static nc_int_t nc_api_namespace_handler(nc_http_request_t *r);
static nc_int_t nc_api_namespace_get(nc_http_request_t *r);
static nc_int_t nc_api_namespace_write(nc_http_request_t *r);
static void nc_api_namespace_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static void nc_api_namespace_json(nc_api_json_t *j,
    const nc_store_version_t *v, const nc_str_t *ns,
    const nc_store_record_t *rec);
static nc_uint_t nc_api_namespace_items(const nc_store_version_t *v,
    const nc_str_t *ns, nc_uint_t max);
static const nc_store_record_t *nc_api_namespace_record(
    const nc_store_version_t *v, const nc_str_t *ns);


nc_int_t
nc_api_namespace_init_routes(nc_cycle_t *cycle)
{
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, NC_API_NAMESPACE_PATH,
                          0, NC_AUTH_USER, nc_api_namespace_handler) != NC_OK
        || nc_http_add_route(NC_HTTP_POST | NC_HTTP_PUT | NC_HTTP_DELETE,
                             NC_API_NAMESPACE_PATH, 0, NC_AUTH_ADMIN,
                             nc_api_namespace_handler) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


nc_flag_t
nc_api_namespace_exists(const nc_store_version_t *v, const nc_str_t *ns)
{
    return ns->len == 0 || nc_api_namespace_record(v, ns) != NULL;
}


static nc_int_t
nc_api_namespace_handler(nc_http_request_t *r)
{
    if (r->method == NC_HTTP_GET || r->method == NC_HTTP_HEAD) {
        return nc_api_namespace_get(r);
    }

    return nc_api_namespace_write(r);
}


static nc_int_t
nc_api_namespace_get(nc_http_request_t *r)
{
    size_t                     plen;
    nc_str_t                   v, ns;
    nc_api_json_t              j;
    nc_store_iter_t           *it;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *sv;

    plen = sizeof(NC_STORE_CONFIG_NAMESPACE) - 1;

    sv = nc_store_enter(nc_store);

    if (sv == NULL) {
        nc_store_leave(nc_store);
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_UNAVAILABLE,
                                             "the store is not loaded yet"));
    }

    if (nc_http_param(r, "checkNamespaceIdExist", &v) == NC_OK
        && v.len == 4 && nc_memcmp(v.data, "true", 4) == 0)
    {
        nc_api_param(r, "customNamespaceId", &ns);

        rec = ns.len ? nc_api_namespace_record(sv, &ns) : NULL;
        nc_store_leave(nc_store);

        return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                    (u_char *) (rec ? "true" : "false"),
                                    rec ? 4 : 5);
    }

    nc_api_json_init(&j, r->pool);

    if (nc_http_param(r, "show", &v) == NC_OK && v.len == 3
        && nc_memcmp(v.data, "all", 3) == 0)
    {
        if (nc_http_param(r, "namespaceId", &ns) != NC_OK
            || nc_auth_public_namespace(&ns))
        {
            ns.len = 0;
        }

        rec = ns.len ? nc_api_namespace_record(sv, &ns) : NULL;

        if (ns.len && rec == NULL) {
            nc_store_leave(nc_store);
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_NOT_FOUND,
                                                 "namespace not exist"));
        }

        nc_api_namespace_json(&j, sv, &ns, rec);
        nc_store_leave(nc_store);

        if (j.rc != NC_OK) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                    j.out.pos, nc_buf_size(&j.out));
    }

    /* the list: public first, then the others in id order */
    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_raw(&j, NULL, "{\"code\":200,\"message\":null,\"data\":");
    j.comma = 0;
    nc_api_json_open(&j, NULL, '[');

    ns.len = 0;
    ns.data = NULL;
    nc_api_namespace_json(&j, sv, &ns, NULL);

    nc_store_iter_init(it, nc_store, sv->root,
                       (u_char *) NC_STORE_CONFIG_NAMESPACE, plen, NULL, 0);

    while (j.rc == NC_OK && (rec = nc_store_iter_next(it)) != NULL) {
        ns.data = (u_char *) nc_store_record_key(rec) + plen;
        ns.len = rec->key_len - plen;
        nc_api_namespace_json(&j, sv, &ns, rec);
    }

    nc_store_leave(nc_store);

    nc_api_json_close(&j, ']');
    nc_api_json_close(&j, '}');

    if (j.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", j.out.pos,
                                nc_buf_size(&j.out));
}


static nc_int_t
nc_api_namespace_write(nc_http_request_t *r)
{
    u_char                    *cmd, *p;
    size_t                     i, len, klen;
    nc_int_t                   rc;
    nc_uint_t                  op, items;
    nc_str_t                   ns, name, desc;
    nc_flag_t                  exists;
    const char                *id_param;
    nc_store_config_cmd_t      c;
    const nc_store_version_t  *v;
    u_char                     key[NC_STORE_MAX_KEY_LEN];
    u_char                     uuid[16];

    switch (r->method) {

    case NC_HTTP_POST:
        op = NC_STORE_CONFIG_NS_CREATE;
        id_param = "customNamespaceId";
        break;

    case NC_HTTP_PUT:
        op = NC_STORE_CONFIG_NS_UPDATE;
        id_param = "namespace";
        break;

    default:
        op = NC_STORE_CONFIG_NS_DELETE;
        id_param = "namespaceId";
        break;
    }

    if (nc_http_param(r, id_param, &ns) != NC_OK) {
        ns.len = 0;
    }

    if (ns.len == 0 && op == NC_STORE_CONFIG_NS_CREATE) {
        /* Nacos makes a UUID */
        nc_auth_random(uuid, sizeof(uuid));
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;

        ns.data = nc_pnalloc(r->pool, 37);
        if (ns.data == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ns.data;

        for (i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                *p++ = '-';
            }

            *p++ = "0123456789abcdef"[uuid[i] >> 4];
            *p++ = "0123456789abcdef"[uuid[i] & 0xf];
        }

        ns.len = p - ns.data;
    }

    if (ns.len == 0 || nc_auth_public_namespace(&ns)) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_INVALID,
                                             "the public namespace is "
                                             "neither made nor changed"));
    }

    for (i = 0; i < ns.len; i++) {
        if (!(isalnum(ns.data[i]) || ns.data[i] == '_' || ns.data[i] == '-')
            || ns.len > 128)
        {
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_INVALID,
                                                 "namespaceId [%.*s] must be "
                                                 "1 to 128 of A-Z a-z 0-9 _ -",
                                                 nc_str_fmt(&ns)));
        }
    }

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));

    if (op != NC_STORE_CONFIG_NS_DELETE) {
        if (nc_http_param(r, op == NC_STORE_CONFIG_NS_CREATE
                             ? "namespaceName" : "namespaceShowName", &name)
            != NC_OK || name.len == 0 || name.len > 128
            || strpbrk((char *) name.data, "@#$%^&*") != NULL)
        {
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_INVALID,
                                                 "namespaceName invalid"));
        }

        nc_api_param(r, "namespaceDesc", &desc);

        if (desc.len > 256) {
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_INVALID,
                                                 "namespaceDesc longer than "
                                                 "256"));
        }

        c.field[NC_STORE_CONFIG_F_CONTENT] = name;
        c.field[NC_STORE_CONFIG_F_DESC] = desc;
    }

    v = nc_store_enter(nc_store);
    exists = v && nc_api_namespace_record(v, &ns) != NULL;
    items = v ? nc_api_namespace_items(v, &ns, 1) : 0;
    nc_store_leave(nc_store);

    if (op == NC_STORE_CONFIG_NS_CREATE && exists) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_INVALID,
                                             "namespaceId [%.*s] already "
                                             "exist", nc_str_fmt(&ns)));
    }

    if (op != NC_STORE_CONFIG_NS_CREATE && !exists) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_NOT_FOUND,
                                             "namespace not exist"));
    }

    if (op == NC_STORE_CONFIG_NS_DELETE && items) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_INVALID,
                                             "namespace %.*s still has "
                                             "configs: delete them first",
                                             nc_str_fmt(&ns)));
    }

    c.time = (uint64_t) nc_cached_time_sec * 1000;

    klen = sizeof(NC_STORE_CONFIG_NAMESPACE) - 1;
    nc_memcpy(key, NC_STORE_CONFIG_NAMESPACE, klen);
    nc_memcpy(key + klen, ns.data, ns.len);
    klen += ns.len;

    cmd = nc_store_config_command(r->pool, op, key, klen, &c, &len);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_propose(r, cmd, len, nc_api_namespace_written, NULL);

    return rc;
}


static void
nc_api_namespace_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t  rc;

    switch (status) {

    case NC_OK:
        rc = nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                  (u_char *) "true", 4);
        break;

    case NC_DECLINED:
        /* it changed between the check and the apply */
        rc = nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                "the namespace exists, does not, or still "
                                "has configs");
        break;

    case NC_STORE_FULL:
        rc = nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_UNAVAILABLE,
                                "the store is full (store.shm_size)");
        break;

    default:
        rc = nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_UNAVAILABLE,
                                "no leader: writes are unavailable");
        break;
    }

    nc_http_finalize_request(r, nc_api_end(rc));
}


/* Nacos' Namespace: public is type 0, the others 2 */
static void
nc_api_namespace_json(nc_api_json_t *j, const nc_store_version_t *v,
    const nc_str_t *ns, const nc_store_record_t *rec)
{
    nc_str_t  name, desc;

    if (rec) {
        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &name);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_DESC, &desc);

    } else {
        nc_str_set(&name, "public");
        nc_str_set(&desc, "Public Namespace");
    }

    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "namespace", ns->data, ns->len);
    nc_api_json_str(j, "namespaceShowName", name.data, name.len);
    nc_api_json_str(j, "namespaceDesc", desc.data, desc.len);
    nc_api_json_uint(j, "quota", NC_API_NAMESPACE_QUOTA);
    nc_api_json_uint(j, "configCount",
                     nc_api_namespace_items(v, ns, (nc_uint_t) -1));
    nc_api_json_uint(j, "type", rec ? 2 : 0);
    nc_api_json_close(j, '}');
}


/* how many items the namespace holds, counting up to max */
static nc_uint_t
nc_api_namespace_items(const nc_store_version_t *v, const nc_str_t *ns,
    nc_uint_t max)
{
    nc_uint_t                 n;
    nc_store_iter_t          *it;
    const nc_store_record_t  *rec;
    u_char                    prefix[NC_STORE_MAX_KEY_LEN];

    if (ns->len + sizeof(NC_STORE_CONFIG_ITEM) + 1 > sizeof(prefix)) {
        return 0;
    }

    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return 0;
    }

    nc_store_iter_init(it, nc_store, v->root, prefix,
                       nc_api_config_ns_prefix(prefix, ns), NULL, 0);

    n = 0;

    while (n < max && (rec = nc_store_iter_next(it)) != NULL) {
        n += rec->type == NC_STORE_T_CONFIG;
    }

    free(it);

    return n;
}


static const nc_store_record_t *
nc_api_namespace_record(const nc_store_version_t *v, const nc_str_t *ns)
{
    size_t                    len;
    const nc_store_record_t  *rec;
    u_char                    key[NC_STORE_MAX_KEY_LEN];

    len = sizeof(NC_STORE_CONFIG_NAMESPACE) - 1;

    if (ns->len == 0 || len + ns->len > sizeof(key)) {
        return NULL;
    }

    nc_memcpy(key, NC_STORE_CONFIG_NAMESPACE, len);
    nc_memcpy(key + len, ns->data, ns->len);

    rec = nc_store_get(nc_store, v, key, len + ns->len);

    if (rec == NULL || rec->type != NC_STORE_T_CONFIG
        || rec->value_len < sizeof(nc_store_config_head_t))
    {
        return NULL;
    }

    return rec;
}
