
/*
 * nacre: who a request comes from, and whether it may do what it asks.
 *
 * Identity, in the order Nacos checks it: a token in "Authorization:
 * Bearer", the console's "accessToken" header, the accessToken parameter,
 * then what Consul clients send ("X-Consul-Token", ?token=), else the
 * username and password parameters (the Node SDK sends them on every
 * call: verified with the KDF once, then remembered by this worker until
 * the user's record changes).  Nothing else grants anything: no trusted
 * User-Agent, no trusted address.
 *
 * The router asks nc_auth_check() before any handler runs, with the level
 * the route needs.
 */

#ifndef _NC_AUTH_H_INCLUDED_
#define _NC_AUTH_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>


#define NC_AUTH_ANON        0        /* health, login, the console's files */
#define NC_AUTH_USER        1        /* any user */
#define NC_AUTH_ADMIN       2        /* ROLE_ADMIN */


nc_int_t nc_auth_init_worker(nc_cycle_t *cycle);

/*
 * NC_OK: allowed (r->auth_user, r->auth_admin set).  NC_DECLINED: refused,
 * the 403 (or 429, 503) response is set.  Else an HTTP status to end with.
 */
nc_int_t nc_auth_check(nc_http_request_t *r, nc_uint_t level);

/*
 * POST /nacos/v1/auth/login and /nacos/v1/auth/users/login: username and
 * password (query or form) -> {"accessToken","tokenTtl","globalAdmin",
 * "username"}, or 403 "user not found!".
 */
nc_int_t nc_auth_login_handler(nc_http_request_t *r);


#endif /* _NC_AUTH_H_INCLUDED_ */
