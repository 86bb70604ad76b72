
/*
 * nacre: gateway routes in the store.
 *
 * A route "orders" lives as "gwr/orders", type NC_STORE_T_GATEWAY, its
 * value the route's JSON as the API validated and wrote it (canonical,
 * with its id).  "gwm" changes with every route written or deleted: its
 * revision is the route set's, which workers compare to know when to
 * build their route table again, without walking the routes per request.
 */

#ifndef _NC_STORE_GATEWAY_H_INCLUDED_
#define _NC_STORE_GATEWAY_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


#define NC_STORE_T_GATEWAY          7

#define NC_STORE_GATEWAY_ROUTE      "gwr/"
#define NC_STORE_GATEWAY_ROUTE_LEN  (sizeof(NC_STORE_GATEWAY_ROUTE) - 1)
#define NC_STORE_GATEWAY_ROUTES     "gwm"    /* the route set's revision */

/* commands: PUT's value is the JSON; DELETE is declined for no route */
#define NC_STORE_GATEWAY_PUT        (NC_STORE_OP_DOMAIN + 40)
#define NC_STORE_GATEWAY_DELETE     (NC_STORE_OP_DOMAIN + 41)


/* the consensus process: register the apply handlers */
void nc_store_gateway_init(void);

/* an encoded command for route id; NULL on no memory */
u_char *nc_store_gateway_command(nc_pool_t *pool, nc_uint_t op,
    const nc_str_t *id, const u_char *json, size_t json_len, size_t *len);


#endif /* _NC_STORE_GATEWAY_H_INCLUDED_ */
