
/*
 * nacre: the API room.
 */

#ifndef _NC_API_H_INCLUDED_
#define _NC_API_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>


nc_int_t nc_api_kv_init_routes(nc_cycle_t *cycle);

/* a JSON error answer of the native API: {"error":"<text>"} */
nc_int_t nc_api_error(nc_http_request_t *r, nc_uint_t status,
    const char *text);
nc_int_t nc_api_cluster_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_auth_init_routes(nc_cycle_t *cycle);

/* Nacos' v1 error text "caused: <message>;" with status */
nc_int_t nc_api_nacos_error(nc_http_request_t *r, nc_uint_t status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Nacos' RestResult {"code":code,"message":null,"data":<data, JSON>};
 * the HTTP status is code */
nc_int_t nc_api_rest_result(nc_http_request_t *r, nc_uint_t code,
    const char *data);

/* pageNo (from 1, default 1) and pageSize (default def, at most max) */
nc_int_t nc_api_page(nc_http_request_t *r, nc_uint_t def, nc_uint_t max,
    nc_uint_t *page_no, nc_uint_t *page_size);

#if (NC_DEBUG)
/* test-only endpoints under /nacre/debug/, built with --with-debug */
nc_int_t nc_api_debug_init_routes(nc_cycle_t *cycle);
#endif


#endif /* _NC_API_H_INCLUDED_ */
