
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
