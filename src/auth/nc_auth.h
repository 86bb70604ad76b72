
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
#include <nc_store.h>


#define NC_AUTH_ANON        0        /* health, login, the console's files */
#define NC_AUTH_USER        1        /* any user */
#define NC_AUTH_ADMIN       2        /* ROLE_ADMIN */

/* actions of Nacos' permissions */
#define NC_AUTH_READ        'r'
#define NC_AUTH_WRITE       'w'

#define NC_AUTH_RESOURCE_MAX_LEN  1024


nc_int_t nc_auth_init_worker(nc_cycle_t *cycle);

/*
 * NC_OK: allowed (r->auth_user, r->auth_admin set).  NC_DECLINED: refused,
 * the 403 (or 429, 503) response is set.  NC_AGAIN: a password is being
 * verified off the loop, nc_http_auth_done() follows.  Else an HTTP
 * status to end with.
 */
nc_int_t nc_auth_check(nc_http_request_t *r, nc_uint_t level);

/*
 * For handlers, once they know what a request touches: may r's user do
 * action (NC_AUTH_READ, NC_AUTH_WRITE) on Nacos' resource
 * "[namespace]:group:type/name" (an empty group or name is "*")?  NC_OK,
 * or NC_DECLINED with the 403 set.
 */
nc_int_t nc_auth_permit(nc_http_request_t *r, const nc_str_t *namespace,
    const nc_str_t *group, const char *type, const nc_str_t *name,
    nc_uint_t action);

/* "", "public" and "null" (any case) all name the public namespace */
nc_flag_t nc_auth_public_namespace(const nc_str_t *ns);

/* the model under nc_auth_permit(), over a version of the store */
nc_flag_t nc_auth_permitted(nc_store_t *s, const nc_store_version_t *v,
    const u_char *user, size_t user_len, const u_char *resource,
    size_t resource_len, nc_uint_t action);

/*
 * Hash a new password in a helper thread.  NC_AGAIN: done() runs later in
 * the loop (not if the request ends first; r->ctx and r->cleanup are the
 * task's until then), rc NC_OK with the stored text.  NC_BUSY: the
 * helpers are full; NC_ERROR: too long or no memory.
 */
typedef void (*nc_auth_hashed_pt)(nc_http_request_t *r, void *data,
    nc_int_t rc, const u_char *hash, size_t len);

nc_int_t nc_auth_password_make(nc_http_request_t *r,
    const nc_str_t *password, nc_auth_hashed_pt done, void *data);

/*
 * POST /nacos/v1/auth/login and /nacos/v1/auth/users/login: username and
 * password (query or form) -> {"accessToken","tokenTtl","globalAdmin",
 * "username"}, or 403 "user not found!".
 */
nc_int_t nc_auth_login_handler(nc_http_request_t *r);


#endif /* _NC_AUTH_H_INCLUDED_ */
