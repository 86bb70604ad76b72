
/*
 * nacre: the API room: the routes every node answers. The Nacos Open API
 * handlers register here as their rooms arrive.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_json.h>
#include <nc_api.h>
#include <nc_api_config.h>
#include <nc_auth.h>
#include <nc_consensus.h>

#include <stdarg.h>


typedef struct {
    nc_http_request_t     *request;
    nc_consensus_req_t    *proposal;
    nc_api_written_pt      written;
    void                  *data;
} nc_api_proposal_t;


static nc_int_t nc_api_health(nc_http_request_t *r);
static nc_int_t nc_api_readiness(nc_http_request_t *r);
static void nc_api_proposed(void *data, nc_int_t status, uint64_t index,
    uint64_t revision);
static void nc_api_proposal_cleanup(nc_http_request_t *r);


nc_int_t
nc_api_init_routes(nc_cycle_t *cycle)
{
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                          "/nacos/v1/console/health/liveness", 0,
                          NC_AUTH_ANON, nc_api_health) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/console/health/readiness", 0,
                             NC_AUTH_ANON, nc_api_readiness) != NC_OK
        || nc_http_add_route(NC_HTTP_POST, "/nacos/v1/auth/login", 0,
                             NC_AUTH_ANON, nc_auth_login_handler) != NC_OK
        || nc_http_add_route(NC_HTTP_POST, "/nacos/v1/auth/users/login", 0,
                             NC_AUTH_ANON, nc_auth_login_handler) != NC_OK
        || nc_api_auth_init_routes(cycle) != NC_OK
        || nc_api_config_init_routes(cycle) != NC_OK
        || nc_api_config_history_init_routes(cycle) != NC_OK
        || nc_api_namespace_init_routes(cycle) != NC_OK
        || nc_api_naming_init_routes(cycle) != NC_OK
        || nc_api_gateway_init_routes(cycle) != NC_OK
        || nc_api_kv_init_routes(cycle) != NC_OK
        || nc_api_cluster_init_routes(cycle) != NC_OK)
    {
        return NC_ERROR;
    }

#if (NC_DEBUG)
    if (nc_api_debug_init_routes(cycle) != NC_OK) {
        return NC_ERROR;
    }
#endif

    /* the console's static files come last: every API path wins over them */
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, "/nacos", 0,
                          NC_AUTH_ANON, nc_http_static_redirect) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, "/nacos/", 1,
                             NC_AUTH_ANON, nc_http_static_handler) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/* liveness: the worker answers */
static nc_int_t
nc_api_health(nc_http_request_t *r)
{
    return nc_http_set_response(r, NC_HTTP_OK, "text/plain; charset=utf-8",
                                (u_char *) "OK", 2);
}


/* readiness: the consensus process has loaded and published the store */
static nc_int_t
nc_api_readiness(nc_http_request_t *r)
{
    nc_flag_t  ready;

    ready = nc_store_enter(nc_store) != NULL;
    nc_store_leave(nc_store);

    if (!ready) {
        return nc_http_set_response(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                    "text/plain; charset=utf-8",
                                    (u_char *) "the store is not loaded\n",
                                    sizeof("the store is not loaded\n") - 1);
    }

    return nc_api_health(r);
}


/* the native API's JSON error answer */
nc_int_t
nc_api_error(nc_http_request_t *r, nc_uint_t status, const char *text)
{
    u_char  *p, *q;
    size_t   len;

    /* escaped: a text may quote what the client sent (a route's regex) */
    len = strlen(text);
    p = nc_pnalloc(r->pool, sizeof("{\"error\":\"\"}") - 1
                            + nc_json_escape_len((u_char *) text, len));
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = nc_cpymem(p, "{\"error\":\"", 10);
    q = nc_json_escape(q, (u_char *) text, len);
    q = nc_cpymem(q, "\"}", 2);

    return nc_http_set_response(r, status, "application/json", p, q - p);
}


nc_int_t
nc_api_each(nc_http_request_t *r, const u_char *prefix, size_t len,
    nc_api_each_pt each, void *data)
{
    nc_int_t                   rc;
    nc_store_iter_t           *it;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return NC_BUSY;
    }

    nc_store_iter_init(it, nc_store, v->root, prefix, len, NULL, 0);
    rc = NC_OK;

    while (rc == NC_OK && (rec = nc_store_iter_next(it)) != NULL) {
        rc = each(rec, data);
    }

    nc_store_leave(nc_store);

    return rc;
}


void
nc_api_param(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    if (nc_http_param(r, name, value) != NC_OK) {
        value->len = 0;
        value->data = NULL;
    }
}


/* Nacos' v1 error text: "caused: <message>;" (its GlobalExceptionHandler) */
nc_int_t
nc_api_nacos_error(nc_http_request_t *r, nc_uint_t status, const char *fmt,
    ...)
{
    int       n;
    u_char   *p;
    va_list   args;
    char      text[1024];

    va_start(args, fmt);
    n = vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    if (n < 0) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = nc_min(n, (int) sizeof(text) - 1);

    p = nc_pnalloc(r->pool, n + sizeof("caused: ;"));
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = sprintf((char *) p, "caused: %.*s;", n, text);

    return nc_http_set_response(r, status, "text/plain; charset=utf-8", p,
                                (size_t) n);
}


/* Nacos' v2 error: {"code":<code>,"message":"<message>","data":"<text>"} */
nc_int_t
nc_api_v2_fail(nc_http_request_t *r, nc_uint_t status, nc_uint_t code,
    const char *message, const u_char *text, size_t len)
{
    int      n;
    u_char  *p;

    p = nc_pnalloc(r->pool, 96 + strlen(message)
                            + nc_json_escape_len(text, len));
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = sprintf((char *) p, "{\"code\":%u,\"message\":\"%s\",\"data\":\"",
                (unsigned) code, message);
    len = (size_t) (nc_json_escape(p + n, text, len) - p);
    p[len++] = '"';
    p[len++] = '}';

    return nc_api_refused(nc_http_set_response(r, status, "application/json",
                                               p, len));
}


/* Nacos' RestResult: {"code":<code>,"message":null,"data":<data>} */
nc_int_t
nc_api_rest_result(nc_http_request_t *r, nc_uint_t code, const char *data)
{
    u_char  *p;
    size_t   len;

    len = sizeof("{\"code\":,\"message\":null,\"data\":}") + NC_INT_T_LEN
          + strlen(data);

    p = nc_pnalloc(r->pool, len);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) snprintf((char *) p, len,
                            "{\"code\":%u,\"message\":null,\"data\":%s}",
                            (unsigned) code, data);

    return nc_http_set_response(r, code < 600 ? code : NC_HTTP_OK,
                                "application/json", p, len);
}


nc_int_t
nc_api_page_init(nc_http_request_t *r, nc_api_page_t *pg, nc_uint_t def,
    nc_uint_t max)
{
    nc_int_t  n;
    nc_str_t  v;

    nc_memzero(pg, sizeof(nc_api_page_t));
    nc_api_json_init(&pg->json, r->pool);

    pg->page_no = 1;
    pg->page_size = def;

    if (nc_http_param(r, "pageNo", &v) == NC_OK && v.len) {
        n = nc_atoi(v.data, v.len);
        if (n < 1) {
            goto invalid;
        }

        pg->page_no = (nc_uint_t) n;
    }

    if (nc_http_param(r, "pageSize", &v) == NC_OK && v.len) {
        n = nc_atoi(v.data, v.len);
        if (n < 1) {
            goto invalid;
        }

        pg->page_size = nc_min((nc_uint_t) n, max);
    }

    return NC_OK;

invalid:

    return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                             "pageNo and pageSize must be "
                                             "positive numbers"));
}


nc_flag_t
nc_api_page_take(nc_api_page_t *pg)
{
    nc_uint_t  i;

    i = pg->total++;

    return i / pg->page_size == pg->page_no - 1;
}

nc_int_t
nc_api_write_failed(nc_http_request_t *r, nc_int_t status)
{
    if (status == NC_STORE_FULL) {
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the store is full");
    }

    if (status == NC_ERROR) {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST, "invalid request");
    }

    return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                        "no leader: writes are unavailable");
}


nc_int_t
nc_api_propose(nc_http_request_t *r, const u_char *cmd, size_t len,
    nc_api_written_pt written, void *data)
{
    nc_api_proposal_t  *p;

    p = nc_palloc(r->pool, sizeof(nc_api_proposal_t));
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->request = r;
    p->written = written;
    p->data = data;

    p->proposal = nc_consensus_propose(cmd, len, nc_api_proposed, p);

    if (p->proposal == NULL) {
        return nc_api_write_failed(r, NC_BUSY);
    }

    r->ctx = p;
    r->cleanup = nc_api_proposal_cleanup;

    return NC_DONE;
}


static void
nc_api_proposed(void *data, nc_int_t status, uint64_t index,
    uint64_t revision)
{
    nc_api_proposal_t  *p;
    nc_http_request_t  *r;

    p = data;
    r = p->request;

    r->ctx = NULL;
    r->cleanup = NULL;

    p->written(r, p->data, status, index ? index : revision);
}


static void
nc_api_proposal_cleanup(nc_http_request_t *r)
{
    nc_api_proposal_t  *p;

    p = r->ctx;

    /* the write may still apply; nobody waits for its answer */
    nc_consensus_cancel(p->proposal);
}


/* --- JSON ---------------------------------------------------------------- */


void
nc_api_json_init(nc_api_json_t *j, nc_pool_t *pool)
{
    nc_memzero(j, sizeof(nc_api_json_t));
    j->pool = pool;
    j->rc = NC_OK;
}


static void
nc_api_json_append(nc_api_json_t *j, const void *p, size_t len)
{
    if (j->rc == NC_OK && nc_buf_append(j->pool, &j->out, p, len) != NC_OK) {
        j->rc = NC_ERROR;
    }
}


/* a separator if a value came before, then "name": */
static void
nc_api_json_name(nc_api_json_t *j, const char *name)
{
    if (j->comma) {
        nc_api_json_append(j, ",", 1);
    }

    if (name) {
        nc_api_json_append(j, "\"", 1);
        nc_api_json_append(j, name, strlen(name));
        nc_api_json_append(j, "\":", 2);
    }

    j->comma = 1;
}


/* a name that is data (escaped), for objects keyed by what they hold */
void
nc_api_json_key(nc_api_json_t *j, const u_char *p, size_t len)
{
    nc_api_json_str(j, NULL, p, len);
    nc_api_json_append(j, ":", 1);
    j->comma = 0;
}


void
nc_api_json_open(nc_api_json_t *j, const char *name, u_char bracket)
{
    nc_api_json_name(j, name);
    nc_api_json_append(j, &bracket, 1);
    j->comma = 0;
}


void
nc_api_json_close(nc_api_json_t *j, u_char bracket)
{
    nc_api_json_append(j, &bracket, 1);
    j->comma = 1;
}


void
nc_api_json_str(nc_api_json_t *j, const char *name, const u_char *p,
    size_t len)
{
    nc_api_json_name(j, name);

    if (j->rc != NC_OK
        || nc_buf_reserve(j->pool, &j->out, nc_json_escape_len(p, len) + 2)
           != NC_OK)
    {
        j->rc = NC_ERROR;
        return;
    }

    *j->out.last++ = '"';
    j->out.last = nc_json_escape(j->out.last, p, len);
    *j->out.last++ = '"';
}


void
nc_api_json_uint(nc_api_json_t *j, const char *name, uint64_t v)
{
    char  num[24];

    (void) snprintf(num, sizeof(num), "%" PRIu64, v);
    nc_api_json_raw(j, name, num);
}


void
nc_api_json_raw(nc_api_json_t *j, const char *name, const char *raw)
{
    nc_api_json_bytes(j, name, (const u_char *) raw, strlen(raw));
}


void
nc_api_json_bytes(nc_api_json_t *j, const char *name, const u_char *p,
    size_t len)
{
    nc_api_json_name(j, name);
    nc_api_json_append(j, p, len);
}


nc_int_t
nc_api_page_done(nc_http_request_t *r, nc_api_page_t *pg)
{
    u_char    *p;
    size_t     len, n;
    nc_uint_t  pages;

    if (pg->json.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = pg->json.out.pos ? nc_buf_size(&pg->json.out) : 0;
    pages = pg->total / pg->page_size + (pg->total % pg->page_size ? 1 : 0);

    len = sizeof("{\"totalCount\":,\"pageNumber\":,\"pagesAvailable\":,"
                 "\"pageItems\":[]}") + 3 * NC_INT_T_LEN + n;

    p = nc_pnalloc(r->pool, len);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) sprintf((char *) p,
                           "{\"totalCount\":%lu,\"pageNumber\":%lu,"
                           "\"pagesAvailable\":%lu,\"pageItems\":[",
                           (unsigned long) pg->total,
                           (unsigned long) pg->page_no,
                           (unsigned long) pages);

    if (n) {
        nc_memcpy(p + len, pg->json.out.pos, n);
        len += n;
    }

    p[len++] = ']';
    p[len++] = '}';

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", p, len);
}


/* --- matching ------------------------------------------------------------ */


nc_flag_t
nc_api_match(nc_flag_t blur, const nc_str_t *want, const u_char *p,
    size_t len)
{
    if (want->len == 0) {
        return 1;
    }

    if (!blur) {
        return want->len == len && nc_memcmp(want->data, p, len) == 0;
    }

    return nc_glob_match(want->data, want->len, p, len);
}


nc_flag_t
nc_api_match_list(const nc_str_t *want, const u_char *p, size_t len)
{
    u_char  *w, *wend, *wnext, *q, *qend, *qnext;

    if (want->len == 0) {
        return 1;
    }

    for (w = want->data, wend = w + want->len; w < wend; w = wnext + 1) {
        wnext = memchr(w, ',', wend - w);
        wnext = wnext ? wnext : wend;

        for (q = (u_char *) p, qend = q + len; q < qend; q = qnext + 1) {
            qnext = memchr(q, ',', qend - q);
            qnext = qnext ? qnext : qend;

            if (qnext - q == wnext - w && nc_memcmp(q, w, wnext - w) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


nc_uint_t
nc_api_count(const nc_str_t *s, u_char c)
{
    size_t     i;
    nc_uint_t  n;

    for (i = 0, n = 0; i < s->len; i++) {
        n += (s->data[i] == c);
    }

    return n;
}


nc_int_t
nc_api_urlencode(nc_pool_t *pool, nc_buf_t *out, const nc_str_t *s)
{
    u_char                c, *p;
    size_t                i;
    static const u_char   hex[] = "0123456789ABCDEF";

    if (nc_buf_reserve(pool, out, 3 * s->len) != NC_OK) {
        return NC_ERROR;
    }

    p = out->last;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '*'
            || c == '_')
        {
            *p++ = c;

        } else if (c == ' ') {
            *p++ = '+';

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    out->last = p;

    return NC_OK;
}
