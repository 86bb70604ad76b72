
/*
 * nacre: Nacos' config history, v1 and v2.
 *
 *   v1 GET /nacos/v1/cs/history?search=accurate   a page, newest first
 *      GET /nacos/v1/cs/history?nid=               one record with content
 *      GET /nacos/v1/cs/history/previous?id=       the item's newest record
 *      GET /nacos/v1/cs/history/configs?tenant=    the namespace's items
 *   v2 GET /nacos/v2/cs/history/list, /history, /history/detail,
 *          /history/previous, /history/configs     the same, in an envelope
 *
 * Records are made by every publish and delete (nc_store_config.c) and
 * live under their item's key, so a record is found by its item's names
 * and its nid, and belongs to no other item.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_config.h>
#include <nc_auth.h>
#include <nc_api.h>
#include <nc_api_config.h>


#define NC_API_HISTORY_PAGE_DEFAULT  100
#define NC_API_HISTORY_PAGE_MAX      500
#define NC_API_HISTORY_NID_LEN       16


static nc_int_t nc_api_history_v1(nc_http_request_t *r);
static nc_int_t nc_api_history_v1_previous(nc_http_request_t *r);
static nc_int_t nc_api_history_v1_configs(nc_http_request_t *r);
static nc_int_t nc_api_history_v2_list(nc_http_request_t *r);
static nc_int_t nc_api_history_v2_one(nc_http_request_t *r);
static nc_int_t nc_api_history_v2_previous(nc_http_request_t *r);
static nc_int_t nc_api_history_v2_configs(nc_http_request_t *r);

static nc_int_t nc_api_history_list(nc_http_request_t *r, nc_uint_t version);
static nc_int_t nc_api_history_one(nc_http_request_t *r, nc_uint_t version,
    nc_flag_t previous);
static nc_int_t nc_api_history_configs(nc_http_request_t *r,
    nc_uint_t version);
static void nc_api_history_json(nc_api_json_t *j,
    const nc_api_config_name_t *name, const nc_store_record_t *rec,
    nc_flag_t content);
static uint64_t nc_api_history_nid(const nc_store_record_t *rec);


nc_int_t
nc_api_config_history_init_routes(nc_cycle_t *cycle)
{
    static const struct {
        const char          *path;
        nc_http_handler_pt   handler;
    } routes[] = {
        { "/nacos/v1/cs/history", nc_api_history_v1 },
        { "/nacos/v1/cs/history/previous", nc_api_history_v1_previous },
        { "/nacos/v1/cs/history/configs", nc_api_history_v1_configs },
        { "/nacos/v2/cs/history/list", nc_api_history_v2_list },
        { "/nacos/v2/cs/history", nc_api_history_v2_one },
        { "/nacos/v2/cs/history/detail", nc_api_history_v2_one },
        { "/nacos/v2/cs/history/previous", nc_api_history_v2_previous },
        { "/nacos/v2/cs/history/configs", nc_api_history_v2_configs },
    };

    nc_uint_t  i;

    /* any user; each answer needs the item's (or namespace's) read */
    for (i = 0; i < nc_nelems(routes); i++) {
        if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, routes[i].path, 0,
                              NC_AUTH_USER, routes[i].handler) != NC_OK)
        {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static nc_int_t
nc_api_history_v1(nc_http_request_t *r)
{
    nc_str_t  v;

    if (nc_http_param(r, "search", &v) == NC_OK && v.len) {
        return nc_api_history_list(r, NC_API_V1);
    }

    return nc_api_history_one(r, NC_API_V1, 0);
}


static nc_int_t
nc_api_history_v1_previous(nc_http_request_t *r)
{
    return nc_api_history_one(r, NC_API_V1, 1);
}


static nc_int_t
nc_api_history_v1_configs(nc_http_request_t *r)
{
    return nc_api_history_configs(r, NC_API_V1);
}


static nc_int_t
nc_api_history_v2_list(nc_http_request_t *r)
{
    return nc_api_history_list(r, NC_API_V2);
}


static nc_int_t
nc_api_history_v2_one(nc_http_request_t *r)
{
    return nc_api_history_one(r, NC_API_V2, 0);
}


static nc_int_t
nc_api_history_v2_previous(nc_http_request_t *r)
{
    return nc_api_history_one(r, NC_API_V2, 1);
}


static nc_int_t
nc_api_history_v2_configs(nc_http_request_t *r)
{
    return nc_api_history_configs(r, NC_API_V2);
}


/* a page of an item's history, newest first, without content */
static nc_int_t
nc_api_history_list(nc_http_request_t *r, nc_uint_t version)
{
    size_t                     plen;
    nc_int_t                   rc;
    nc_uint_t                  n, i, cap;
    nc_api_page_t              pg;
    nc_store_iter_t           *it;
    nc_api_config_name_t       name;
    const nc_store_record_t  **recs, **more, *rec;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];

    rc = nc_api_config_item(r, version, &name, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    rc = nc_api_page_init(r, &pg, NC_API_HISTORY_PAGE_DEFAULT,
                          NC_API_HISTORY_PAGE_MAX);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    plen = nc_store_config_key(prefix, sizeof(prefix) - 1,
                               NC_STORE_CONFIG_HISTORY, &name.ns, &name.group,
                               &name.data_id);
    if (plen == 0) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    prefix[plen++] = '/';

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    cap = 64;
    recs = nc_palloc(r->pool, cap * sizeof(nc_store_record_t *));

    if (it == NULL || recs == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = nc_store_enter(nc_store);
    n = 0;

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);

        /* oldest first in the store: collected, then walked backwards */
        while ((rec = nc_store_iter_next(it)) != NULL) {
            if (n == cap) {
                more = nc_palloc(r->pool, 2 * cap * sizeof(*recs));
                if (more == NULL) {
                    nc_store_leave(nc_store);
                    return NC_HTTP_INTERNAL_SERVER_ERROR;
                }

                nc_memcpy(more, recs, cap * sizeof(*recs));
                recs = more;
                cap *= 2;
            }

            recs[n++] = rec;
        }
    }

    for (i = n; i > 0; i--) {
        if (nc_api_page_take(&pg)) {
            nc_api_history_json(&pg.json, &name, recs[i - 1], 0);
        }
    }

    nc_store_leave(nc_store);

    rc = nc_api_page_done(r, &pg);

    if (rc != NC_OK || version == NC_API_V1) {
        return rc;
    }

    return nc_api_config_ok(r, NC_API_V2, r->out.pos, nc_buf_size(&r->out));
}


/*
 * ?nid=: that record, with content; previous (?id=): the item's newest
 * record, if the item is config id.  v1 answers an empty 200 when there
 * is none, as Nacos does.
 */
static nc_int_t
nc_api_history_one(nc_http_request_t *r, nc_uint_t version,
    nc_flag_t previous)
{
    size_t                     klen;
    off_t                      want;
    nc_int_t                   rc;
    nc_str_t                   v;
    nc_api_json_t              j;
    nc_store_iter_t           *it;
    nc_api_config_name_t       name;
    const nc_store_record_t   *rec, *last;
    const nc_store_version_t  *sv;
    u_char                     key[NC_STORE_MAX_KEY_LEN];

    rc = nc_api_config_item(r, version, &name, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (nc_http_param(r, previous ? "id" : "nid", &v) != NC_OK
        || (want = nc_atoof(v.data, v.len)) < 0)
    {
        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_MISSING,
                                             "%s invalid",
                                             previous ? "id" : "nid"));
    }

    klen = nc_store_config_key(key, sizeof(key) - 1 - NC_API_HISTORY_NID_LEN,
                               NC_STORE_CONFIG_HISTORY, &name.ns,
                               &name.group, &name.data_id);
    if (klen == 0) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    key[klen++] = '/';

    nc_api_json_init(&j, r->pool);

    sv = nc_store_enter(nc_store);
    rec = NULL;

    if (sv && !previous) {
        klen += (size_t) sprintf((char *) key + klen, "%016" PRIx64,
                                 (uint64_t) want);
        rec = nc_store_get(nc_store, sv, key, klen);

    } else if (sv) {
        it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
        last = NULL;

        if (it) {
            nc_store_iter_init(it, nc_store, sv->root, key, klen, NULL, 0);

            while ((rec = nc_store_iter_next(it)) != NULL) {
                last = rec;
            }
        }

        rec = last;

        /* the item's: its id, or nothing */
        if (rec && nc_store_config_head(rec)->id != (uint64_t) want) {
            rec = NULL;
        }
    }

    if (rec && (rec->type != NC_STORE_T_CONFIG
                || rec->value_len < sizeof(nc_store_config_head_t)))
    {
        rec = NULL;
    }

    if (rec) {
        nc_api_history_json(&j, &name, rec, 1);
    }

    nc_store_leave(nc_store);

    if (j.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rec == NULL) {
        if (version == NC_API_V1) {
            return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                        (u_char *) "", 0);
        }

        return nc_api_end(nc_api_config_fail(r, version,
                                             NC_API_CONFIG_E_NOT_FOUND,
                                             "certain config history for "
                                             "nid = %s not exist",
                                             (char *) v.data));
    }

    return nc_api_config_ok(r, version, j.out.pos, nc_buf_size(&j.out));
}


/* the items of a namespace: [{"id","dataId","group","tenant",...}] */
static nc_int_t
nc_api_history_configs(nc_http_request_t *r, nc_uint_t version)
{
    u_char                        *k, *slash;
    size_t                         plen;
    nc_int_t                       rc;
    nc_str_t                       ns, none, app, type;
    nc_api_json_t                  j;
    nc_store_iter_t               *it;
    const nc_store_record_t       *rec;
    const nc_store_version_t      *v;
    const nc_store_config_head_t  *h;
    u_char                         prefix[NC_STORE_MAX_KEY_LEN];
    u_char                         hex[32];
    char                           id[24];

    rc = nc_api_config_namespace(r, version, &ns);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    none.len = 0;
    none.data = NULL;

    rc = nc_auth_permit(r, &ns, &none, "config", &none, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    plen = nc_api_config_ns_prefix(prefix, &ns);

    nc_api_json_init(&j, r->pool);
    nc_api_json_open(&j, NULL, '[');

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);
    }

    while (v && j.rc == NC_OK && (rec = nc_store_iter_next(it)) != NULL) {
        k = (u_char *) nc_store_record_key(rec) + plen;
        slash = memchr(k, '/', rec->key_len - plen);

        if (slash == NULL || rec->type != NC_STORE_T_CONFIG) {
            continue;
        }

        h = nc_store_config_head(rec);
        nc_api_config_hex(h->md5, hex);
        (void) snprintf(id, sizeof(id), "%" PRIu64, h->id);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &app);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &type);

        nc_api_json_open(&j, NULL, '{');
        nc_api_json_str(&j, "id", (u_char *) id, strlen(id));
        nc_api_json_str(&j, "dataId", slash + 1,
                        nc_store_record_key(rec) + rec->key_len - slash - 1);
        nc_api_json_str(&j, "group", k, slash - k);
        nc_api_json_str(&j, "tenant", ns.data, ns.len);
        nc_api_json_str(&j, "appName", app.data, app.len);
        nc_api_json_str(&j, "type", type.data, type.len);
        nc_api_json_str(&j, "md5", hex, 32);
        nc_api_json_uint(&j, "lastModified", h->modified);
        nc_api_json_close(&j, '}');
    }

    nc_store_leave(nc_store);

    nc_api_json_close(&j, ']');

    if (j.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_config_ok(r, version, j.out.pos, nc_buf_size(&j.out));
}


/* Nacos' ConfigHistoryInfo */
static void
nc_api_history_json(nc_api_json_t *j, const nc_api_config_name_t *name,
    const nc_store_record_t *rec, nc_flag_t content)
{
    char                           nid[24], op[2];
    u_char                         hex[32], time[32];
    nc_str_t                       f;
    const nc_store_config_head_t  *h;

    h = nc_store_config_head(rec);

    (void) snprintf(nid, sizeof(nid), "%" PRIu64, nc_api_history_nid(rec));
    op[0] = (char) h->op;
    op[1] = '\0';

    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "id", (u_char *) nid, strlen(nid));
    nc_api_json_raw(j, "lastId", "-1");
    nc_api_json_str(j, "dataId", name->data_id.data, name->data_id.len);
    nc_api_json_str(j, "group", name->group.data, name->group.len);
    nc_api_json_str(j, "tenant", name->ns.data, name->ns.len);

    nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &f);
    nc_api_json_str(j, "appName", f.data, f.len);

    if (content) {
        nc_api_config_hex(h->md5, hex);
        nc_api_json_str(j, "md5", hex, 32);
        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &f);
        nc_api_json_str(j, "content", f.data, f.len);

    } else {
        nc_api_json_raw(j, "md5", "null");
        nc_api_json_raw(j, "content", "null");
    }

    nc_store_config_field(rec, NC_STORE_CONFIG_F_IP, &f);
    nc_api_json_str(j, "srcIp", f.data, f.len);
    nc_store_config_field(rec, NC_STORE_CONFIG_F_USER, &f);
    nc_api_json_str(j, "srcUser", f.data, f.len);
    nc_api_json_str(j, "opType", (u_char *) op, 1);
    nc_api_json_str(j, "publishType", (u_char *) "formal", 6);
    nc_api_json_raw(j, "grayName", "null");
    nc_api_json_raw(j, "extInfo", "null");

    nc_api_config_iso_time(h->created, time);
    nc_api_json_str(j, "createdTime", time, 28);
    nc_api_config_iso_time(h->modified, time);
    nc_api_json_str(j, "lastModifiedTime", time, 28);

    nc_store_config_field(rec, NC_STORE_CONFIG_F_EDK, &f);
    nc_api_json_str(j, "encryptedDataKey", f.data, f.len);
    nc_api_json_close(j, '}');
}


/* .../<nid as 16 hex digits> */
static uint64_t
nc_api_history_nid(const nc_store_record_t *rec)
{
    uint64_t       nid;
    const u_char  *p, *end;

    end = nc_store_record_key(rec) + rec->key_len;
    nid = 0;

    for (p = end - nc_min(rec->key_len, NC_API_HISTORY_NID_LEN); p < end;
         p++)
    {
        nid = nid * 16 + (uint64_t) (*p <= '9' ? *p - '0' : *p - 'a' + 10);
    }

    return nid;
}
