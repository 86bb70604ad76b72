
/*
 * nacre: test-only endpoints, compiled in with --with-debug alone.
 *
 *   /nacre/debug/echo   what the server understood of the request, as JSON
 *   /nacre/debug/sleep  answers after ?ms=N milliseconds, without blocking
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_api.h>
#include <nc_auth.h>

#if (NC_DEBUG)

#include <openssl/evp.h>


#define NC_API_DEBUG_SLEEP_MAX  60000


static nc_int_t nc_api_debug_echo(nc_http_request_t *r);
static nc_int_t nc_api_debug_sleep(nc_http_request_t *r);
static void nc_api_debug_wake(nc_event_t *ev);
static nc_int_t nc_api_debug_params(nc_http_request_t *r, nc_buf_t *out,
    nc_str_t *raw, nc_uint_t *first);
static nc_int_t nc_api_debug_string(nc_http_request_t *r, nc_buf_t *out,
    const u_char *s, size_t len);


nc_int_t
nc_api_debug_init_routes(nc_cycle_t *cycle)
{
    nc_uint_t  all;

    all = NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_POST | NC_HTTP_PUT
          | NC_HTTP_DELETE | NC_HTTP_PATCH;

    /* debug builds only, for the HTTP tests: no identity needed */
    if (nc_http_add_route(all, "/nacre/debug/echo", 0, NC_AUTH_ANON,
                          nc_api_debug_echo) != NC_OK
        || nc_http_add_route(NC_HTTP_GET, "/nacre/debug/sleep", 0,
                             NC_AUTH_ANON, nc_api_debug_sleep) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_api_debug_echo(nc_http_request_t *r)
{
    u_char         *p;
    nc_buf_t        out;
    nc_str_t        body;
    nc_uint_t       first, i;
    unsigned int    mdlen;
    u_char          md[EVP_MAX_MD_SIZE], hex[2 * EVP_MAX_MD_SIZE + 1];

    nc_memzero(&out, sizeof(nc_buf_t));

#define nc_out(s)                                                             \
    if (nc_buf_append(r->pool, &out, s, sizeof(s) - 1) != NC_OK) {           \
        return NC_HTTP_INTERNAL_SERVER_ERROR;                                \
    }

    nc_out("{\"method\":\"");
    if (nc_api_debug_string(r, &out, r->method_name.data, r->method_name.len)
        != NC_OK)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_out("\",\"uri\":\"");
    if (nc_api_debug_string(r, &out, r->uri.data, r->uri.len) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_out("\",\"path\":\"");
    if (nc_api_debug_string(r, &out, r->path.data, r->path.len) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_out("\",\"params\":[");

    first = 1;

    if (nc_api_debug_params(r, &out, &r->args, &first) != NC_OK) {
        return NC_HTTP_BAD_REQUEST;
    }

    body.data = r->body.pos;
    body.len = nc_buf_size(&r->body);

    if (r->headers_in.form
        && nc_api_debug_params(r, &out, &body, &first) != NC_OK)
    {
        return NC_HTTP_BAD_REQUEST;
    }

    if (EVP_Digest(body.data ? body.data : (u_char *) "", body.len, md,
                   &mdlen, EVP_md5(), NULL)
        != 1)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < mdlen; i++) {
        (void) snprintf((char *) &hex[2 * i], 3, "%02x", md[i]);
    }

    if (nc_buf_reserve(r->pool, &out, 128 + 2 * mdlen) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = nc_slprintf(out.last, out.end, "],\"body_length\":%zu,"
                    "\"body_md5\":\"%s\"}", body.len, (char *) hex);
    out.last = p;

#undef nc_out

    r->headers_out.gzip = 1;

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                out.pos, nc_buf_size(&out));
}


static nc_int_t
nc_api_debug_params(nc_http_request_t *r, nc_buf_t *out, nc_str_t *raw,
    nc_uint_t *first)
{
    u_char    *pos, *buf;
    ssize_t    klen, vlen;
    nc_str_t   key, value;

    if (raw->len == 0) {
        return NC_OK;
    }

    buf = nc_pnalloc(r->pool, raw->len);
    if (buf == NULL) {
        return NC_ERROR;
    }

    pos = raw->data;

    while (nc_http_form_next(&pos, raw->data + raw->len, &key, &value)
           == NC_OK)
    {
        klen = nc_http_unescape(buf, key.data, key.len, 1);
        if (klen < 0) {
            return NC_ERROR;
        }

        if (nc_buf_append(r->pool, out, *first ? "[\"" : ",[\"",
                          *first ? 2 : 3) != NC_OK
            || nc_api_debug_string(r, out, buf, klen) != NC_OK
            || nc_buf_append(r->pool, out, "\",\"", 3) != NC_OK)
        {
            return NC_ERROR;
        }

        vlen = nc_http_unescape(buf, value.data, value.len, 1);
        if (vlen < 0) {
            return NC_ERROR;
        }

        if (nc_api_debug_string(r, out, buf, vlen) != NC_OK
            || nc_buf_append(r->pool, out, "\"]", 2) != NC_OK)
        {
            return NC_ERROR;
        }

        *first = 0;
    }

    return NC_OK;
}


static nc_int_t
nc_api_debug_string(nc_http_request_t *r, nc_buf_t *out, const u_char *s,
    size_t len)
{
    if (nc_buf_reserve(r->pool, out, nc_json_escape_len(s, len)) != NC_OK) {
        return NC_ERROR;
    }

    out->last = nc_json_escape(out->last, s, len);

    return NC_OK;
}


static nc_int_t
nc_api_debug_sleep(nc_http_request_t *r)
{
    nc_int_t  ms;
    nc_str_t  value;

    if (nc_http_param(r, "ms", &value) != NC_OK) {
        return NC_HTTP_BAD_REQUEST;
    }

    ms = nc_atoi(value.data, value.len);
    if (ms < 0 || ms > NC_API_DEBUG_SLEEP_MAX) {
        return NC_HTTP_BAD_REQUEST;
    }

    r->ctx = (void *) ms;
    r->timer.handler = nc_api_debug_wake;
    nc_add_timer(&r->timer, (nc_msec_t) ms);

    return NC_DONE;
}


static void
nc_api_debug_wake(nc_event_t *ev)
{
    size_t              len;
    u_char             *p;
    nc_http_request_t  *r;

    r = ev->data;

    p = nc_pnalloc(r->pool, sizeof("slept ") + NC_INT_T_LEN);
    if (p == NULL) {
        nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = nc_slprintf(p, p + sizeof("slept ") + NC_INT_T_LEN, "slept %ld",
                      (long) (nc_int_t) r->ctx) - p;

    (void) nc_http_set_response(r, NC_HTTP_OK, "text/plain; charset=utf-8",
                                p, len);

    nc_http_finalize_request(r, NC_OK);
}

#endif
