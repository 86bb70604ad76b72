
/*
 * nacre: the API room: the routes every node answers. The Nacos Open API
 * handlers register here as their rooms arrive.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_api.h>
#include <nc_auth.h>

#include <stdarg.h>


static nc_int_t nc_api_health(nc_http_request_t *r);
static nc_int_t nc_api_readiness(nc_http_request_t *r);


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
    u_char  *p;
    size_t   len;

    /* the texts are ours: nothing in them needs escaping */
    len = sizeof("{\"error\":\"\"}") - 1 + strlen(text);

    p = nc_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) snprintf((char *) p, len + 1, "{\"error\":\"%s\"}", text);

    return nc_http_set_response(r, status, "application/json", p, len);
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


/*
 * Nacos' paging parameters: pageNo from 1 (default 1), pageSize from 1 to
 * max (default def).  NC_ERROR: not numbers, or out of range.
 */
nc_int_t
nc_api_page(nc_http_request_t *r, nc_uint_t def, nc_uint_t max,
    nc_uint_t *page_no, nc_uint_t *page_size)
{
    nc_int_t  n;
    nc_str_t  v;

    *page_no = 1;
    *page_size = def;

    if (nc_http_param(r, "pageNo", &v) == NC_OK && v.len) {
        n = nc_atoi(v.data, v.len);
        if (n < 1) {
            return NC_ERROR;
        }

        *page_no = (nc_uint_t) n;
    }

    if (nc_http_param(r, "pageSize", &v) == NC_OK && v.len) {
        n = nc_atoi(v.data, v.len);
        if (n < 1) {
            return NC_ERROR;
        }

        *page_size = nc_min((nc_uint_t) n, max);
    }

    return NC_OK;
}
