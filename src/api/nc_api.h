
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

#if (NC_DEBUG)
/* test-only endpoints under /nacre/debug/, built with --with-debug */
nc_int_t nc_api_debug_init_routes(nc_cycle_t *cycle);
#endif


#endif /* _NC_API_H_INCLUDED_ */
