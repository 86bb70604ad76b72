
/*
 * nacre: a key/value API shaped like Consul's /v1/kv, so Consul KV
 * clients work unchanged.
 *
 *   GET    /v1/kv/<key>   ?raw ?recurse ?keys ?separator= ?index=&wait=
 *                         ?consistent
 *   PUT    /v1/kv/<key>   body = value; ?cas=<ModifyIndex> (0: create
 *                         only) ?flags=; answers true or false
 *   DELETE /v1/kv/<key>   ?recurse ?cas=
 *
 * Reads come from this node's published version; indexes are Raft
 * indexes.  A write answers once it is applied on this node, so the
 * client reads its own write here at once.  ?consistent first asks the
 * leader for a read index (ReadIndex) and waits until this node has
 * applied up to it: the read is linearizable on any member.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_kv.h>
#include <nc_consensus.h>
#include <nc_api.h>
#include <nc_auth.h>

#include <openssl/evp.h>


#define NC_API_KV_PATH          "/v1/kv/"
#define NC_API_KV_WAIT_DEFAULT  (5 * 60 * 1000)
#define NC_API_KV_WAIT_MAX      (10 * 60 * 1000)


typedef struct {
    nc_http_request_t      *request;
    nc_str_t                key;
    nc_consensus_req_t     *proposal;
    nc_consensus_waiter_t   waiter;
    uint64_t                index;       /* blocking query: answer above */
    unsigned                raw:1;
    unsigned                recurse:1;
    unsigned                keys:1;
    unsigned                read_point:1;  /* ?consistent: reached */
    nc_str_t                separator;
} nc_api_kv_ctx_t;


static nc_int_t nc_api_kv_handler(nc_http_request_t *r);
static nc_int_t nc_api_kv_get(nc_http_request_t *r, nc_api_kv_ctx_t *ctx);
static nc_int_t nc_api_kv_render(nc_http_request_t *r, nc_api_kv_ctx_t *ctx,
    nc_flag_t *unchanged);
static nc_int_t nc_api_kv_entry(nc_http_request_t *r, nc_buf_t *out,
    const nc_store_record_t *rec, nc_flag_t first);
static void nc_api_kv_read_point(void *data, nc_int_t status,
    uint64_t index, uint64_t revision);
static void nc_api_kv_applied(nc_consensus_waiter_t *w);
static void nc_api_kv_wait_timeout(nc_event_t *ev);
static nc_int_t nc_api_kv_write(nc_http_request_t *r, nc_api_kv_ctx_t *ctx);
static void nc_api_kv_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static void nc_api_kv_cleanup(nc_http_request_t *r);
static nc_int_t nc_api_kv_uint(nc_http_request_t *r, const char *name,
    uint64_t *value, nc_flag_t *present);
static nc_int_t nc_api_kv_index_header(nc_http_request_t *r, uint64_t index);


nc_int_t
nc_api_kv_init_routes(nc_cycle_t *cycle)
{
    /* any user reads, the admins write */
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, NC_API_KV_PATH, 1,
                          NC_AUTH_USER, nc_api_kv_handler) != NC_OK)
    {
        return NC_ERROR;
    }

    return nc_http_add_route(NC_HTTP_PUT | NC_HTTP_DELETE, NC_API_KV_PATH, 1,
                             NC_AUTH_ADMIN, nc_api_kv_handler);
}


static nc_int_t
nc_api_kv_handler(nc_http_request_t *r)
{
    nc_str_t          v;
    nc_api_kv_ctx_t  *ctx;

    ctx = nc_pcalloc(r->pool, sizeof(nc_api_kv_ctx_t));
    if (ctx == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->key.data = r->path.data + sizeof(NC_API_KV_PATH) - 1;
    ctx->key.len = r->path.len - (sizeof(NC_API_KV_PATH) - 1);

    if (ctx->key.len > NC_STORE_KV_MAX_KEY) {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST, "key too long");
    }

    r->ctx = ctx;

    ctx->recurse = nc_http_query_param(r, "recurse", &v) == NC_OK;

    if (r->method == NC_HTTP_GET || r->method == NC_HTTP_HEAD) {
        return nc_api_kv_get(r, ctx);
    }

    return nc_api_kv_write(r, ctx);
}


/* --- reads ------------------------------------------------------------- */


static nc_int_t
nc_api_kv_get(nc_http_request_t *r, nc_api_kv_ctx_t *ctx)
{
    nc_int_t   rc;
    nc_flag_t  present, unchanged;
    uint64_t   index;
    nc_str_t   v;
    nc_msec_t  wait;

    if (!ctx->read_point && nc_http_query_param(r, "consistent", &v) == NC_OK)
    {
        ctx->proposal = nc_consensus_read(nc_api_kv_read_point, ctx);

        if (ctx->proposal == NULL) {
            return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                "no leader: consistent reads are "
                                "unavailable");
        }

        r->cleanup = nc_api_kv_cleanup;

        return NC_DONE;
    }

    ctx->raw = nc_http_query_param(r, "raw", &v) == NC_OK;
    ctx->keys = nc_http_query_param(r, "keys", &v) == NC_OK;

    if (nc_http_query_param(r, "separator", &ctx->separator) != NC_OK) {
        ctx->separator.len = 0;
    }

    if (nc_api_kv_uint(r, "index", &index, &present) != NC_OK) {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST, "invalid index");
    }

    /* a blocking query: answer when the index moves past the client's */
    ctx->index = index;

    rc = nc_api_kv_render(r, ctx, &unchanged);

    if (index == 0 || !unchanged) {
        return rc;
    }

    wait = NC_API_KV_WAIT_DEFAULT;

    if (nc_http_query_param(r, "wait", &v) == NC_OK) {
        nc_msec_int_t  ms = nc_parse_msec(&v);

        if (ms < 0) {
            return nc_api_error(r, NC_HTTP_BAD_REQUEST, "invalid wait");
        }

        wait = nc_min((nc_msec_t) ms, NC_API_KV_WAIT_MAX);
    }

    /* as Consul: a little jitter so that waiters do not all wake at once */
    wait += (nc_msec_t) random() % (wait / 16 + 1);

    ctx->waiter.handler = nc_api_kv_applied;
    ctx->waiter.data = ctx;
    nc_consensus_wait_applied(&ctx->waiter);

    r->timer.handler = nc_api_kv_wait_timeout;
    nc_add_timer(&r->timer, wait);

    r->cleanup = nc_api_kv_cleanup;

    return NC_DONE;
}


static void
nc_api_kv_read_point(void *data, nc_int_t status, uint64_t index,
    uint64_t revision)
{
    nc_int_t            rc;
    nc_api_kv_ctx_t    *ctx;
    nc_http_request_t  *r;

    ctx = data;
    r = ctx->request;

    ctx->proposal = NULL;
    r->cleanup = NULL;

    if (status != NC_OK) {
        nc_http_finalize_request(r,
            nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                         "no leader: consistent reads are unavailable"));
        return;
    }

    /* this node has applied everything committed before the request */
    ctx->read_point = 1;

    rc = nc_api_kv_get(r, ctx);

    if (rc != NC_DONE) {
        nc_http_finalize_request(r, rc);
    }
}


static void
nc_api_kv_applied(nc_consensus_waiter_t *w)
{
    nc_int_t            rc;
    nc_flag_t           unchanged;
    nc_api_kv_ctx_t    *ctx;
    nc_http_request_t  *r;

    ctx = w->data;
    r = ctx->request;

    r->headers_out.headers = NULL;

    rc = nc_api_kv_render(r, ctx, &unchanged);

    if (unchanged && rc != NC_HTTP_INTERNAL_SERVER_ERROR) {
        nc_consensus_wait_applied(&ctx->waiter);
        return;
    }

    r->cleanup = NULL;
    nc_del_timer(&r->timer);
    nc_http_finalize_request(r, rc);
}


static void
nc_api_kv_wait_timeout(nc_event_t *ev)
{
    nc_int_t            rc;
    nc_flag_t           unchanged;
    nc_api_kv_ctx_t    *ctx;
    nc_http_request_t  *r;

    r = ev->data;
    ctx = r->ctx;

    nc_consensus_unwait_applied(&ctx->waiter);
    r->cleanup = NULL;

    r->headers_out.headers = NULL;
    rc = nc_api_kv_render(r, ctx, &unchanged);

    nc_http_finalize_request(r, rc);
}


/*
 * The answer from the current version.  *unchanged: the index is not
 * above the one a blocking query waits past.
 */
static nc_int_t
nc_api_kv_render(nc_http_request_t *r, nc_api_kv_ctx_t *ctx,
    nc_flag_t *unchanged)
{
    u_char                    *full, *k, *sep, *last;
    size_t                     len, plen, klen;
    uint64_t                   index;
    nc_int_t                   rc;
    nc_buf_t                   out;
    nc_flag_t                  first;
    nc_store_iter_t           *it;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    *unchanged = 0;

    plen = NC_STORE_KV_PREFIX_LEN + ctx->key.len;

    full = nc_pnalloc(r->pool, plen);
    if (full == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_memcpy(full, NC_STORE_KV_PREFIX, NC_STORE_KV_PREFIX_LEN);
    nc_memcpy(full + NC_STORE_KV_PREFIX_LEN, ctx->key.data, ctx->key.len);

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the store is not loaded yet");
    }

    nc_memzero(&out, sizeof(nc_buf_t));
    rc = NC_OK;
    index = 0;

    if (!ctx->recurse && !ctx->keys) {
        rec = nc_store_get(nc_store, v, full, plen);

        if (rec == NULL || rec->type != NC_STORE_T_KV) {
            index = v->applied_index;
            rc = NC_HTTP_NOT_FOUND;
            goto done;
        }

        index = rec->revision;

        if (ctx->raw) {
            len = rec->value_len - sizeof(nc_store_kv_head_t);

            if (nc_buf_append(r->pool, &out,
                              nc_store_record_value(rec)
                              + sizeof(nc_store_kv_head_t), len)
                != NC_OK)
            {
                rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            }

            goto done;
        }

        if (nc_buf_append(r->pool, &out, "[", 1) != NC_OK
            || nc_api_kv_entry(r, &out, rec, 1) != NC_OK
            || nc_buf_append(r->pool, &out, "]", 1) != NC_OK)
        {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        goto done;
    }

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        rc = NC_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    nc_store_iter_init(it, nc_store, v->root, full, plen, NULL, 0);

    first = 1;
    last = NULL;
    len = 0;

    if (nc_buf_append(r->pool, &out, "[", 1) != NC_OK) {
        rc = NC_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    while ((rec = nc_store_iter_next(it)) != NULL) {

        if (rec->type != NC_STORE_T_KV) {
            continue;
        }

        index = nc_max(index, rec->revision);

        if (!ctx->keys) {
            if (nc_api_kv_entry(r, &out, rec, first) != NC_OK) {
                rc = NC_HTTP_INTERNAL_SERVER_ERROR;
                goto done;
            }

            first = 0;
            continue;
        }

        k = (u_char *) nc_store_record_key(rec) + NC_STORE_KV_PREFIX_LEN;
        klen = rec->key_len - NC_STORE_KV_PREFIX_LEN;

        /* ?separator: keys below a separator fold into one */
        if (ctx->separator.len) {
            sep = memmem(k + ctx->key.len, klen - ctx->key.len,
                         ctx->separator.data, ctx->separator.len);
            if (sep) {
                klen = sep - k + ctx->separator.len;
            }
        }

        if (last && len == klen && nc_memcmp(last, k, klen) == 0) {
            continue;
        }

        if (nc_buf_append(r->pool, &out, first ? "\"" : ",\"",
                          first ? 1 : 2) != NC_OK
            || nc_buf_reserve(r->pool, &out, nc_json_escape_len(k, klen))
               != NC_OK)
        {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        out.last = nc_json_escape(out.last, k, klen);

        if (nc_buf_append(r->pool, &out, "\"", 1) != NC_OK) {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        /* the record stays readable until we leave the epoch */
        last = k;
        len = klen;
        first = 0;
    }

    if (first) {
        /* nothing under the prefix: 404, as Consul */
        index = v->applied_index;
        rc = NC_HTTP_NOT_FOUND;
        goto done;
    }

    if (nc_buf_append(r->pool, &out, "]", 1) != NC_OK) {
        rc = NC_HTTP_INTERNAL_SERVER_ERROR;
    }

done:

    nc_store_leave(nc_store);

    if (rc == NC_HTTP_INTERNAL_SERVER_ERROR) {
        return rc;
    }

    index = nc_max(index, 1);
    *unchanged = ctx->index && index <= ctx->index;

    if (nc_api_kv_index_header(r, index) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NC_HTTP_NOT_FOUND) {
        return nc_http_set_response(r, NC_HTTP_NOT_FOUND,
                                    "text/plain; charset=utf-8",
                                    (u_char *) "", 0);
    }

    return nc_http_set_response(r, NC_HTTP_OK,
                                ctx->raw ? "text/plain; charset=utf-8"
                                         : "application/json",
                                out.pos, nc_buf_size(&out));
}


static nc_int_t
nc_api_kv_entry(nc_http_request_t *r, nc_buf_t *out,
    const nc_store_record_t *rec, nc_flag_t first)
{
    int                        n;
    size_t                     klen, vlen;
    const u_char              *k, *value;
    const nc_store_kv_head_t  *h;
    char                       num[160];

    h = (const nc_store_kv_head_t *) nc_store_record_value(rec);
    value = (const u_char *) (h + 1);
    vlen = rec->value_len - sizeof(nc_store_kv_head_t);

    k = nc_store_record_key(rec) + NC_STORE_KV_PREFIX_LEN;
    klen = rec->key_len - NC_STORE_KV_PREFIX_LEN;

    n = snprintf(num, sizeof(num), "%s{\"LockIndex\":%" PRIu64 ",\"Key\":\"",
                 first ? "" : ",", h->lock_index);

    if (nc_buf_append(r->pool, out, num, n) != NC_OK
        || nc_buf_reserve(r->pool, out, nc_json_escape_len(k, klen)) != NC_OK)
    {
        return NC_ERROR;
    }

    out->last = nc_json_escape(out->last, k, klen);

    n = snprintf(num, sizeof(num), "\",\"Flags\":%" PRIu64 ",\"Value\":",
                 h->flags);

    if (nc_buf_append(r->pool, out, num, n) != NC_OK) {
        return NC_ERROR;
    }

    if (vlen == 0) {
        if (nc_buf_append(r->pool, out, "null", 4) != NC_OK) {
            return NC_ERROR;
        }

    } else {
        if (nc_buf_reserve(r->pool, out, 4 * ((vlen + 2) / 3) + 3) != NC_OK)
        {
            return NC_ERROR;
        }

        *out->last++ = '"';
        out->last += EVP_EncodeBlock(out->last, value, (int) vlen);
        *out->last++ = '"';
    }

    n = snprintf(num, sizeof(num),
                 ",\"CreateIndex\":%" PRIu64 ",\"ModifyIndex\":%" PRIu64 "}",
                 h->create_index, rec->revision);

    return nc_buf_append(r->pool, out, num, n);
}


/* --- writes ------------------------------------------------------------ */


static nc_int_t
nc_api_kv_write(nc_http_request_t *r, nc_api_kv_ctx_t *ctx)
{
    u_char     *cmd;
    size_t      len;
    uint64_t    cas, flags;
    nc_uint_t   op;
    nc_flag_t   has_cas, has_flags;
    nc_str_t    v;

    if (nc_api_kv_uint(r, "cas", &cas, &has_cas) != NC_OK
        || nc_api_kv_uint(r, "flags", &flags, &has_flags) != NC_OK)
    {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST,
                            "invalid cas or flags");
    }

    if (nc_http_query_param(r, "acquire", &v) == NC_OK
        || nc_http_query_param(r, "release", &v) == NC_OK)
    {
        return nc_api_error(r, NC_HTTP_NOT_IMPLEMENTED,
                            "sessions are not supported");
    }

    if (r->method == NC_HTTP_PUT) {
        if (ctx->key.len == 0) {
            return nc_api_error(r, NC_HTTP_BAD_REQUEST,
                                "missing key name");
        }

        if (nc_buf_size(&r->body) > NC_STORE_KV_MAX_VALUE) {
            return nc_api_error(r, NC_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                "value exceeds 524288 bytes");
        }

        op = has_cas ? NC_STORE_KV_CAS : NC_STORE_KV_SET;

        cmd = nc_store_kv_command(r->pool, op, ctx->key.data, ctx->key.len,
                                  has_flags ? flags : 0, cas, r->body.pos,
                                  nc_buf_size(&r->body), &len);

    } else {
        if (ctx->recurse) {
            op = NC_STORE_KV_DELETE_TREE;

        } else if (ctx->key.len == 0) {
            return nc_api_error(r, NC_HTTP_BAD_REQUEST,
                                "missing key name");

        } else {
            op = has_cas ? NC_STORE_KV_DELETE_CAS : NC_STORE_KV_DELETE;
        }

        cmd = nc_store_kv_command(r->pool, op, ctx->key.data, ctx->key.len,
                                  0, cas, NULL, 0, &len);
    }

    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_kv_written, ctx);
}


static void
nc_api_kv_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t  rc;

    switch (status) {

    case NC_OK:
    case NC_DECLINED:
        rc = nc_api_kv_index_header(r, index);
        if (rc != NC_OK) {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        /* a failed cas is an answer, not an error */
        if (status == NC_OK) {
            rc = nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                      (u_char *) "true", 4);
        } else {
            rc = nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                      (u_char *) "false", 5);
        }

        break;

    default:
        rc = nc_api_write_failed(r, status);
        break;
    }

    nc_http_finalize_request(r, rc);
}


static void
nc_api_kv_cleanup(nc_http_request_t *r)
{
    nc_api_kv_ctx_t  *ctx;

    ctx = r->ctx;

    if (ctx->proposal) {
        /* the write may still apply; nobody waits for its answer */
        nc_consensus_cancel(ctx->proposal);
        ctx->proposal = NULL;
    }

    nc_consensus_unwait_applied(&ctx->waiter);
}


/* --- helpers ----------------------------------------------------------- */


static nc_int_t
nc_api_kv_uint(nc_http_request_t *r, const char *name, uint64_t *value,
    nc_flag_t *present)
{
    off_t     n;
    nc_str_t  v;

    *present = 0;
    *value = 0;

    if (nc_http_query_param(r, name, &v) != NC_OK) {
        return NC_OK;
    }

    n = nc_atoof(v.data, v.len);
    if (n < 0) {
        return NC_ERROR;
    }

    *present = 1;
    *value = (uint64_t) n;

    return NC_OK;
}


static nc_int_t
nc_api_kv_index_header(nc_http_request_t *r, uint64_t index)
{
    nc_str_t  value;

    value.data = nc_pnalloc(r->pool, sizeof("18446744073709551615"));
    if (value.data == NULL) {
        return NC_ERROR;
    }

    value.len = (size_t) sprintf((char *) value.data, "%" PRIu64, index);

    return nc_http_add_header(r, "X-Consul-Index", &value);
}
