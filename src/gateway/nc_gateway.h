
/*
 * nacre: the gateway: requests that arrive on gateway.listen are matched
 * against the routes of the published store and proxied to an instance
 * of the route's upstream, chosen by its balancer among the healthy ones
 * the registry lists at that moment.
 */

#ifndef _NC_GATEWAY_H_INCLUDED_
#define _NC_GATEWAY_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>


/* a worker starts: the conf's gateway settings */
nc_int_t nc_gateway_init_worker(nc_cycle_t *cycle);

/* does the gateway stream this request's body (chunked, or larger than
 * gateway.buffer_size) rather than have it read whole first */
nc_flag_t nc_gateway_streams(nc_http_request_t *r);

/* a request on a gateway listener, its body read or to be streamed: an HTTP status, or
 * NC_DONE (the gateway answers) */
nc_int_t nc_gateway_handler(nc_http_request_t *r);


#endif /* _NC_GATEWAY_H_INCLUDED_ */
