
/*
 * nacre: Nacos' users, roles and permissions API, as its console and its
 * clients call it.
 *
 *   POST   /nacos/v1/auth/users              username, password     admin
 *   PUT    /nacos/v1/auth/users              username, newPassword  admin,
 *                                                                   or self
 *   DELETE /nacos/v1/auth/users              username               admin
 *   GET    /nacos/v1/auth/users              search, username, page admin
 *   GET    /nacos/v1/auth/users/search       username               admin
 *   POST   /nacos/v1/auth/users/admin        refused: there is one  anyone
 *   POST   /nacos/v1/auth/roles              role, username         admin
 *   DELETE /nacos/v1/auth/roles              role[, username]       admin
 *   GET    /nacos/v1/auth/roles              search, role, username admin
 *   GET    /nacos/v1/auth/roles/search       role                   admin
 *   POST   /nacos/v1/auth/permissions        role, resource, action admin
 *   DELETE /nacos/v1/auth/permissions        role, resource, action admin
 *   GET    /nacos/v1/auth/permissions        search, role, page     admin
 *   GET    /nacos/v1/auth/permissions/duplicate  role, resource, action
 *
 * Writes are store commands (nc_store_auth.h) through the consensus
 * process, answered once applied on this node.  New passwords are hashed
 * in a helper thread (nc_auth_password_make).  Hashes never leave the
 * store: listings carry names only.  ROLE_ADMIN is the bootstrap admin's
 * alone: it is neither granted nor taken away here, and its holder cannot
 * be deleted.  Deletes are idempotent, as in Nacos.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_auth.h>
#include <nc_auth_crypto.h>
#include <nc_auth.h>
#include <nc_api.h>

#include <openssl/crypto.h>


#define NC_API_AUTH_PAGE_DEFAULT   100
#define NC_API_AUTH_PAGE_MAX       500
#define NC_API_AUTH_SEARCH_MAX     100     /* names in a /search answer */


typedef struct {
    nc_uint_t              op;
    nc_str_t               a, b, c;        /* the command's key parts */
    const char            *ok;             /* RestResult data: JSON */
    const char            *declined;       /* 400 text; NULL: ok as well */
} nc_api_auth_write_t;


static nc_int_t nc_api_auth_users(nc_http_request_t *r);
static nc_int_t nc_api_auth_user_add(nc_http_request_t *r);
static nc_int_t nc_api_auth_user_password(nc_http_request_t *r);
static nc_int_t nc_api_auth_user_delete(nc_http_request_t *r);
static nc_int_t nc_api_auth_user_list(nc_http_request_t *r);
static nc_int_t nc_api_auth_user_search(nc_http_request_t *r);
static nc_int_t nc_api_auth_admin(nc_http_request_t *r);
static nc_int_t nc_api_auth_roles(nc_http_request_t *r);
static nc_int_t nc_api_auth_role_list(nc_http_request_t *r);
static nc_int_t nc_api_auth_role_search(nc_http_request_t *r);
static nc_int_t nc_api_auth_permissions(nc_http_request_t *r);
static nc_int_t nc_api_auth_permission_list(nc_http_request_t *r);
static nc_int_t nc_api_auth_duplicate(nc_http_request_t *r);

static nc_api_auth_write_t *nc_api_auth_write(nc_http_request_t *r,
    nc_uint_t op, const nc_str_t *a, const nc_str_t *b, const nc_str_t *c,
    const char *ok, const char *declined);
static nc_int_t nc_api_auth_hash(nc_http_request_t *r,
    nc_api_auth_write_t *w, const nc_str_t *password);
static void nc_api_auth_hashed(nc_http_request_t *r, void *data,
    nc_int_t rc, const u_char *hash, size_t len);
static nc_int_t nc_api_auth_propose(nc_http_request_t *r,
    nc_api_auth_write_t *w, const u_char *value, size_t value_len);
static void nc_api_auth_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);

static nc_int_t nc_api_auth_required(nc_http_request_t *r, const char *name,
    nc_str_t *value);
static nc_int_t nc_api_auth_name(nc_http_request_t *r, const char *what,
    const nc_str_t *name);
static const nc_store_record_t *nc_api_auth_get(const nc_store_version_t *v,
    const char *prefix, const nc_str_t *a, const char *sep,
    const nc_str_t *b);
static nc_flag_t nc_api_auth_has_role(const nc_store_version_t *v,
    const nc_str_t *role);
static nc_flag_t nc_api_auth_filter(nc_flag_t blur, const nc_str_t *want,
    const u_char *p, size_t len);
static nc_flag_t nc_api_auth_blur(nc_http_request_t *r);
static nc_int_t nc_api_auth_no_store(nc_http_request_t *r);
static nc_int_t nc_api_auth_new_password(nc_http_request_t *r,
    const nc_str_t *user, const nc_str_t *password, nc_flag_t *exists);
static nc_int_t nc_api_auth_list(nc_http_request_t *r, const char *prefix,
    const char *p1, const char *p2, nc_api_each_pt item);
static nc_int_t nc_api_auth_user_item(const nc_store_record_t *rec,
    void *data);
static nc_int_t nc_api_auth_role_item(const nc_store_record_t *rec,
    void *data);
static nc_int_t nc_api_auth_permission_item(const nc_store_record_t *rec,
    void *data);


static nc_str_t  nc_api_auth_admin_role = nc_string(NC_STORE_AUTH_ADMIN_ROLE);


nc_int_t
nc_api_auth_init_routes(nc_cycle_t *cycle)
{
    nc_uint_t  all;

    all = NC_HTTP_GET | NC_HTTP_POST | NC_HTTP_DELETE;

    /* the handlers check "self" for PUT: any user may reach it */
    if (nc_http_add_route(NC_HTTP_PUT, "/nacos/v1/auth/users", 0,
                          NC_AUTH_USER, nc_api_auth_users) != NC_OK
        || nc_http_add_route(all, "/nacos/v1/auth/users", 0, NC_AUTH_ADMIN,
                             nc_api_auth_users) != NC_OK
        || nc_http_add_route(NC_HTTP_GET, "/nacos/v1/auth/users/search", 0,
                             NC_AUTH_ADMIN, nc_api_auth_user_search) != NC_OK
        || nc_http_add_route(NC_HTTP_POST, "/nacos/v1/auth/users/admin", 0,
                             NC_AUTH_ANON, nc_api_auth_admin) != NC_OK
        || nc_http_add_route(all, "/nacos/v1/auth/roles", 0, NC_AUTH_ADMIN,
                             nc_api_auth_roles) != NC_OK
        || nc_http_add_route(NC_HTTP_GET, "/nacos/v1/auth/roles/search", 0,
                             NC_AUTH_ADMIN, nc_api_auth_role_search) != NC_OK
        || nc_http_add_route(all, "/nacos/v1/auth/permissions", 0,
                             NC_AUTH_ADMIN, nc_api_auth_permissions) != NC_OK
        || nc_http_add_route(NC_HTTP_GET,
                             "/nacos/v1/auth/permissions/duplicate", 0,
                             NC_AUTH_ADMIN, nc_api_auth_duplicate) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/* --- users --------------------------------------------------------------- */


static nc_int_t
nc_api_auth_users(nc_http_request_t *r)
{
    switch (r->method) {

    case NC_HTTP_POST:
        return nc_api_auth_user_add(r);

    case NC_HTTP_PUT:
        return nc_api_auth_user_password(r);

    case NC_HTTP_DELETE:
        return nc_api_auth_user_delete(r);

    default:
        return nc_api_auth_user_list(r);
    }
}


static nc_int_t
nc_api_auth_user_add(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   user, password;
    nc_flag_t                  exists;
    nc_api_auth_write_t       *w;

    if ((rc = nc_api_auth_required(r, "username", &user)) != NC_OK
        || (rc = nc_api_auth_required(r, "password", &password)) != NC_OK
        || (rc = nc_api_auth_name(r, "username", &user)) != NC_OK)
    {
        return nc_api_end(rc);
    }

    if (user.len == sizeof(NC_STORE_AUTH_ADMIN_USER) - 1
        && nc_memcmp(user.data, NC_STORE_AUTH_ADMIN_USER, user.len) == 0)
    {
        return nc_api_rest_result(r, NC_HTTP_CONFLICT,
                                  "\"User `nacos` is the default admin "
                                  "user: its password is set with "
                                  "PUT /nacos/v1/auth/users\"");
    }

    rc = nc_api_auth_new_password(r, &user, &password, &exists);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (exists) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "user '%.*s' already exist!",
                                  nc_str_fmt(&user));
    }

    w = nc_api_auth_write(r, NC_STORE_AUTH_USER_ADD, &user, NULL, NULL,
                          "\"create user ok!\"", "user already exist!");
    if (w == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_auth_hash(r, w, &password);
}


static nc_int_t
nc_api_auth_user_password(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   user, password;
    nc_flag_t                  exists;
    nc_api_auth_write_t       *w;

    if ((rc = nc_api_auth_required(r, "username", &user)) != NC_OK
        || (rc = nc_api_auth_required(r, "newPassword", &password)) != NC_OK)
    {
        return nc_api_end(rc);
    }

    /* an admin sets anyone's password, a user their own */
    if (!r->auth_admin
        && (user.len != r->auth_user.len
            || nc_memcmp(user.data, r->auth_user.data, user.len) != 0))
    {
        return nc_api_rest_result(r, NC_HTTP_FORBIDDEN,
                                  "\"authorization failed!\"");
    }

    rc = nc_api_auth_new_password(r, &user, &password, &exists);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (!exists) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "user %.*s not exist!", nc_str_fmt(&user));
    }

    w = nc_api_auth_write(r, NC_STORE_AUTH_USER_PASSWORD, &user, NULL, NULL,
                          "\"update user ok!\"", "user not exist!");
    if (w == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_auth_hash(r, w, &password);
}


static nc_int_t
nc_api_auth_user_delete(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   user;
    nc_flag_t                  admin;
    nc_api_auth_write_t       *w;
    const nc_store_version_t  *v;

    if ((rc = nc_api_auth_required(r, "username", &user)) != NC_OK) {
        return nc_api_end(rc);
    }

    v = nc_store_enter(nc_store);
    admin = v && nc_api_auth_get(v, NC_STORE_AUTH_ROLE, &user, "/",
                                 &nc_api_auth_admin_role);
    nc_store_leave(nc_store);

    if (v == NULL) {
        return nc_api_auth_no_store(r);
    }

    if (admin) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "cannot delete admin: %.*s",
                                  nc_str_fmt(&user));
    }

    w = nc_api_auth_write(r, NC_STORE_AUTH_USER_DELETE, &user, NULL, NULL,
                          "\"delete user ok!\"", NULL);
    if (w == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_auth_propose(r, w, NULL, 0);
}


static nc_int_t
nc_api_auth_user_list(nc_http_request_t *r)
{
    return nc_api_auth_list(r, NC_STORE_AUTH_USER, "username", NULL,
                            nc_api_auth_user_item);
}


/* names containing ?username, as the console's user picker wants */
static nc_int_t
nc_api_auth_user_search(nc_http_request_t *r)
{
    size_t                     plen;
    nc_uint_t                  n;
    nc_str_t                   want;
    nc_buf_t                   out;
    nc_store_iter_t           *it;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    nc_api_param(r, "username", &want);

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_memzero(&out, sizeof(nc_buf_t));
    plen = sizeof(NC_STORE_AUTH_USER) - 1;
    n = 0;

    if (nc_buf_append(r->pool, &out, "[", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return nc_api_auth_no_store(r);
    }

    nc_store_iter_init(it, nc_store, v->root, (u_char *) NC_STORE_AUTH_USER,
                       plen, NULL, 0);

    while (n < NC_API_AUTH_SEARCH_MAX
           && (rec = nc_store_iter_next(it)) != NULL)
    {
        if (!nc_api_auth_filter(1, &want, nc_store_record_key(rec) + plen,
                                rec->key_len - plen))
        {
            continue;
        }

        /* user names need no escaping: [A-Za-z0-9_.@-] */
        if ((n && nc_buf_append(r->pool, &out, ",", 1) != NC_OK)
            || nc_buf_append(r->pool, &out, "\"", 1) != NC_OK
            || nc_buf_append(r->pool, &out, nc_store_record_key(rec) + plen,
                             rec->key_len - plen) != NC_OK
            || nc_buf_append(r->pool, &out, "\"", 1) != NC_OK)
        {
            nc_store_leave(nc_store);
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        n++;
    }

    nc_store_leave(nc_store);

    if (nc_buf_append(r->pool, &out, "]", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", out.pos,
                                nc_buf_size(&out));
}


/* Nacos' first-admin call: the bootstrap has made the admin already */
static nc_int_t
nc_api_auth_admin(nc_http_request_t *r)
{
    return nc_api_rest_result(r, NC_HTTP_CONFLICT,
                              "\"have admin user cannot use it\"");
}


/* --- roles --------------------------------------------------------------- */


static nc_int_t
nc_api_auth_roles(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   role, user, none;
    nc_flag_t                  exists, bound;
    const char                *ok;
    nc_api_auth_write_t       *w;
    const nc_store_version_t  *v;

    if (r->method == NC_HTTP_GET) {
        return nc_api_auth_role_list(r);
    }

    if ((rc = nc_api_auth_required(r, "role", &role)) != NC_OK
        || (rc = nc_api_auth_name(r, "role", &role)) != NC_OK)
    {
        return nc_api_end(rc);
    }

    if (role.len == nc_api_auth_admin_role.len
        && nc_memcmp(role.data, nc_api_auth_admin_role.data, role.len) == 0)
    {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "role '%s' is not permitted to %s!",
                                  NC_STORE_AUTH_ADMIN_ROLE,
                                  r->method == NC_HTTP_POST ? "create"
                                                            : "delete");
    }

    nc_api_param(r, "username", &user);

    if (r->method == NC_HTTP_DELETE) {
        if (user.len == 0) {
            /* the role, for every user: the command names it in its value */
            none.len = 0;
            none.data = NULL;

            w = nc_api_auth_write(r, NC_STORE_AUTH_ROLE_DELETE, &none, NULL,
                                  NULL, "\"delete role ok!\"", NULL);
            if (w == NULL) {
                return NC_HTTP_INTERNAL_SERVER_ERROR;
            }

            return nc_api_auth_propose(r, w, role.data, role.len);
        }

        ok = "\"delete role of user ok!\"";

        w = nc_api_auth_write(r, NC_STORE_AUTH_ROLE_DELETE, &user, &role,
                              NULL, ok, NULL);
        if (w == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        return nc_api_auth_propose(r, w, NULL, 0);
    }

    if ((rc = nc_api_auth_required(r, "username", &user)) != NC_OK) {
        return nc_api_end(rc);
    }

    v = nc_store_enter(nc_store);
    exists = v && nc_api_auth_get(v, NC_STORE_AUTH_USER, &user, NULL, NULL);
    bound = v && nc_api_auth_get(v, NC_STORE_AUTH_ROLE, &user, "/", &role);
    nc_store_leave(nc_store);

    if (v == NULL) {
        return nc_api_auth_no_store(r);
    }

    if (!exists) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "user '%.*s' not found!",
                                  nc_str_fmt(&user));
    }

    if (bound) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "user '%.*s' already bound to the role "
                                  "'%.*s'!", nc_str_fmt(&user),
                                  nc_str_fmt(&role));
    }

    w = nc_api_auth_write(r, NC_STORE_AUTH_ROLE_ADD, &user, &role, NULL,
                          "\"add role ok!\"",
                          "the user is gone, or already has the role");
    if (w == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_auth_propose(r, w, NULL, 0);
}


static nc_int_t
nc_api_auth_role_list(nc_http_request_t *r)
{
    return nc_api_auth_list(r, NC_STORE_AUTH_ROLE, "username", "role",
                            nc_api_auth_role_item);
}


/* role names containing ?role, each once */
static nc_int_t
nc_api_auth_role_search(nc_http_request_t *r)
{
    u_char                    *k, *slash, *role;
    size_t                     plen, klen, len;
    nc_uint_t                  n, i;
    nc_str_t                   want, *seen;
    nc_buf_t                   out;
    nc_store_iter_t           *it;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    nc_api_param(r, "role", &want);

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    seen = nc_palloc(r->pool, NC_API_AUTH_SEARCH_MAX * sizeof(nc_str_t));

    if (it == NULL || seen == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    plen = sizeof(NC_STORE_AUTH_ROLE) - 1;
    n = 0;

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return nc_api_auth_no_store(r);
    }

    nc_store_iter_init(it, nc_store, v->root, (u_char *) NC_STORE_AUTH_ROLE,
                       plen, NULL, 0);

    while (n < NC_API_AUTH_SEARCH_MAX
           && (rec = nc_store_iter_next(it)) != NULL)
    {
        k = (u_char *) nc_store_record_key(rec) + plen;
        klen = rec->key_len - plen;

        slash = memchr(k, '/', klen);
        if (slash == NULL) {
            continue;
        }

        role = slash + 1;
        len = k + klen - role;

        if (!nc_api_auth_filter(1, &want, role, len)) {
            continue;
        }

        for (i = 0; i < n; i++) {
            if (seen[i].len == len && nc_memcmp(seen[i].data, role, len) == 0)
            {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        /* copied: the version is left before the answer is written */
        seen[n].data = nc_pnalloc(r->pool, len);
        if (seen[n].data == NULL) {
            nc_store_leave(nc_store);
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memcpy(seen[n].data, role, len);
        seen[n].len = len;
        n++;
    }

    nc_store_leave(nc_store);

    nc_memzero(&out, sizeof(nc_buf_t));

    if (nc_buf_append(r->pool, &out, "[", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* role names need no escaping: [A-Za-z0-9_.@-] */
    for (i = 0; i < n; i++) {
        if ((i && nc_buf_append(r->pool, &out, ",", 1) != NC_OK)
            || nc_buf_append(r->pool, &out, "\"", 1) != NC_OK
            || nc_buf_append(r->pool, &out, seen[i].data, seen[i].len)
               != NC_OK
            || nc_buf_append(r->pool, &out, "\"", 1) != NC_OK)
        {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (nc_buf_append(r->pool, &out, "]", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", out.pos,
                                nc_buf_size(&out));
}


/* --- permissions --------------------------------------------------------- */


/* NC_OK, or a 400 answer for a bad role, resource or action */
static nc_int_t
nc_api_auth_permission_args(nc_http_request_t *r, nc_str_t *role,
    nc_str_t *resource, nc_str_t *action)
{
    nc_int_t  rc;

    if ((rc = nc_api_auth_required(r, "role", role)) != NC_OK
        || (rc = nc_api_auth_required(r, "resource", resource)) != NC_OK
        || (rc = nc_api_auth_required(r, "action", action)) != NC_OK
        || (rc = nc_api_auth_name(r, "role", role)) != NC_OK)
    {
        return rc;
    }

    if (!((action->len == 1 && (action->data[0] == 'r'
                                || action->data[0] == 'w'))
          || (action->len == 2 && nc_memcmp(action->data, "rw", 2) == 0)))
    {
        return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                   "action must be r, w or rw"));
    }

    if (resource->len > NC_AUTH_RESOURCE_MAX_LEN / 2
        || memchr(resource->data, NC_STORE_AUTH_SEP, resource->len)
        || memchr(resource->data, '\0', resource->len))
    {
        return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                   "resource is illegal"));
    }

    return NC_OK;
}


static nc_int_t
nc_api_auth_permissions(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_str_t                   role, resource, action;
    nc_flag_t                  exists;
    nc_api_auth_write_t       *w;
    const nc_store_version_t  *v;

    if (r->method == NC_HTTP_GET) {
        return nc_api_auth_permission_list(r);
    }

    rc = nc_api_auth_permission_args(r, &role, &resource, &action);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (r->method == NC_HTTP_DELETE) {
        w = nc_api_auth_write(r, NC_STORE_AUTH_PERM_DELETE, &role, &resource,
                              &action, "\"delete permission ok!\"", NULL);
        if (w == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        return nc_api_auth_propose(r, w, NULL, 0);
    }

    v = nc_store_enter(nc_store);

    exists = v && nc_api_auth_has_role(v, &role);

    if (v) {
        w = nc_api_auth_write(r, NC_STORE_AUTH_PERM_ADD, &role, &resource,
                              &action, "\"add permission ok!\"",
                              "permission already exist!");
    } else {
        w = NULL;
    }

    nc_store_leave(nc_store);

    if (v == NULL) {
        return nc_api_auth_no_store(r);
    }

    if (w == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!exists) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                  "role %.*s not found!", nc_str_fmt(&role));
    }

    return nc_api_auth_propose(r, w, NULL, 0);
}


static nc_int_t
nc_api_auth_permission_list(nc_http_request_t *r)
{
    return nc_api_auth_list(r, NC_STORE_AUTH_PERM, "role", NULL,
                            nc_api_auth_permission_item);
}


/* the console asks before adding: {"code":0,...,"data":true|false} */
static nc_int_t
nc_api_auth_duplicate(nc_http_request_t *r)
{
    u_char                    *p;
    size_t                     len;
    nc_int_t                   rc;
    nc_str_t                   role, resource, action, *parts[3];
    nc_flag_t                  found;
    const nc_store_version_t  *v;
    u_char                     key[NC_STORE_MAX_KEY_LEN];

    rc = nc_api_auth_permission_args(r, &role, &resource, &action);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    parts[0] = &role;
    parts[1] = &resource;
    parts[2] = &action;

    len = sizeof(NC_STORE_AUTH_PERM) - 1 + role.len + resource.len
          + action.len + 2;

    found = 0;

    if (len <= sizeof(key)) {
        p = nc_cpymem(key, NC_STORE_AUTH_PERM,
                      sizeof(NC_STORE_AUTH_PERM) - 1);

        for (rc = 0; rc < 3; rc++) {
            if (rc) {
                *p++ = NC_STORE_AUTH_SEP;
            }

            p = nc_cpymem(p, parts[rc]->data, parts[rc]->len);
        }

        v = nc_store_enter(nc_store);
        found = v && nc_store_get(nc_store, v, key, len) != NULL;
        nc_store_leave(nc_store);
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                (u_char *) (found
                                    ? "{\"code\":0,\"message\":\"success\","
                                      "\"data\":true}"
                                    : "{\"code\":0,\"message\":\"success\","
                                      "\"data\":false}"),
                                found ? sizeof("{\"code\":0,\"message\":"
                                               "\"success\",\"data\":true}")
                                        - 1
                                      : sizeof("{\"code\":0,\"message\":"
                                               "\"success\",\"data\":false}")
                                        - 1);
}


/* --- writes -------------------------------------------------------------- */


static nc_api_auth_write_t *
nc_api_auth_write(nc_http_request_t *r, nc_uint_t op, const nc_str_t *a,
    const nc_str_t *b, const nc_str_t *c, const char *ok,
    const char *declined)
{
    nc_api_auth_write_t  *w;

    w = nc_pcalloc(r->pool, sizeof(nc_api_auth_write_t));
    if (w == NULL) {
        return NULL;
    }

    w->op = op;
    w->a = *a;

    if (b) {
        w->b = *b;
    }

    if (c) {
        w->c = *c;
    }

    w->ok = ok;
    w->declined = declined;

    return w;
}


static nc_int_t
nc_api_auth_hash(nc_http_request_t *r, nc_api_auth_write_t *w,
    const nc_str_t *password)
{
    nc_int_t  rc;

    rc = nc_auth_password_make(r, password, nc_api_auth_hashed, w);

    if (rc == NC_AGAIN) {
        return NC_DONE;
    }

    if (rc == NC_BUSY) {
        return nc_api_rest_result(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                  "\"too many passwords being hashed\"");
    }

    return NC_HTTP_INTERNAL_SERVER_ERROR;
}


static void
nc_api_auth_hashed(nc_http_request_t *r, void *data, nc_int_t rc,
    const u_char *hash, size_t len)
{
    nc_api_auth_write_t  *w;

    w = data;

    if (rc != NC_OK) {
        nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    nc_http_finalize_request(r, nc_api_auth_propose(r, w, hash, len));
}


static nc_int_t
nc_api_auth_propose(nc_http_request_t *r, nc_api_auth_write_t *w,
    const u_char *value, size_t value_len)
{
    u_char    *cmd;
    size_t     size, len;
    nc_int_t   rc;

    size = NC_STORE_CMD_HEADER + NC_STORE_MAX_KEY_LEN + value_len;

    cmd = nc_pnalloc(r->pool, size);
    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = nc_store_auth_command(cmd, size, w->op, &w->a, &w->b, &w->c, value,
                                value_len);
    if (len == 0) {
        return nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST, "too long");
    }

    rc = nc_api_propose(r, cmd, len, nc_api_auth_written, w);

    /* the hash is in the command: not left in the pool */
    OPENSSL_cleanse(cmd, len);

    return rc;
}


static void
nc_api_auth_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t              rc;
    nc_api_auth_write_t  *w;

    w = data;

    switch (status) {

    case NC_OK:
        rc = nc_api_rest_result(r, NC_HTTP_OK, w->ok);
        break;

    case NC_DECLINED:
        /* what the checks before proposing saw changed meanwhile */
        rc = w->declined
             ? nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST, "%s", w->declined)
             : nc_api_rest_result(r, NC_HTTP_OK, w->ok);
        break;

    case NC_STORE_FULL:
        rc = nc_api_rest_result(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                "\"the store is full\"");
        break;

    case NC_ERROR:
        rc = nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST, "invalid request");
        break;

    default:
        rc = nc_api_rest_result(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                "\"no leader: writes are unavailable\"");
        break;
    }

    nc_http_finalize_request(r, rc);
}


/* --- listings ------------------------------------------------------------ */


/* one page of a listing: the records under a prefix, filtered by up to two
 * parameters (search=accurate: equal, blur: contains) */
typedef struct {
    nc_api_page_t            pg;
    size_t                   plen;
    nc_flag_t                blur;
    nc_str_t                 want[2];
} nc_api_auth_list_t;


static nc_int_t
nc_api_auth_list(nc_http_request_t *r, const char *prefix, const char *p1,
    const char *p2, nc_api_each_pt item)
{
    nc_int_t             rc;
    nc_api_auth_list_t  *l;

    l = nc_pcalloc(r->pool, sizeof(nc_api_auth_list_t));
    if (l == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_page_init(r, &l->pg, NC_API_AUTH_PAGE_DEFAULT,
                          NC_API_AUTH_PAGE_MAX);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    l->blur = nc_api_auth_blur(r);
    l->plen = strlen(prefix);

    nc_api_param(r, p1, &l->want[0]);

    if (p2) {
        nc_api_param(r, p2, &l->want[1]);
    }

    rc = nc_api_each(r, (u_char *) prefix, l->plen, item, l);

    if (rc == NC_BUSY) {
        return nc_api_auth_no_store(r);
    }

    if (rc != NC_OK) {
        return rc;
    }

    return nc_api_page_done(r, &l->pg);
}


/* auth/user/<user> */
static nc_int_t
nc_api_auth_user_item(const nc_store_record_t *rec, void *data)
{
    const u_char        *k;
    size_t               klen;
    nc_api_auth_list_t  *l;

    l = data;
    k = nc_store_record_key(rec) + l->plen;
    klen = rec->key_len - l->plen;

    if (nc_api_auth_filter(l->blur, &l->want[0], k, klen)
        && nc_api_page_take(&l->pg))
    {
        nc_api_json_open(&l->pg.json, NULL, '{');
        nc_api_json_str(&l->pg.json, "username", k, klen);
        nc_api_json_close(&l->pg.json, '}');
    }

    return NC_OK;
}


/* auth/role/<user>/<role> */
static nc_int_t
nc_api_auth_role_item(const nc_store_record_t *rec, void *data)
{
    const u_char        *k, *slash, *end;
    nc_api_auth_list_t  *l;

    l = data;
    k = nc_store_record_key(rec) + l->plen;
    end = nc_store_record_key(rec) + rec->key_len;
    slash = memchr(k, '/', end - k);

    if (slash
        && nc_api_auth_filter(l->blur, &l->want[0], k, slash - k)
        && nc_api_auth_filter(l->blur, &l->want[1], slash + 1,
                              end - slash - 1)
        && nc_api_page_take(&l->pg))
    {
        nc_api_json_open(&l->pg.json, NULL, '{');
        nc_api_json_str(&l->pg.json, "role", slash + 1, end - slash - 1);
        nc_api_json_str(&l->pg.json, "username", k, slash - k);
        nc_api_json_close(&l->pg.json, '}');
    }

    return NC_OK;
}


/* auth/perm/<role>\x1f<resource>\x1f<action> */
static nc_int_t
nc_api_auth_permission_item(const nc_store_record_t *rec, void *data)
{
    const u_char        *k, *sep1, *sep2, *end;
    nc_api_auth_list_t  *l;

    l = data;
    k = nc_store_record_key(rec) + l->plen;
    end = nc_store_record_key(rec) + rec->key_len;

    sep1 = memchr(k, NC_STORE_AUTH_SEP, end - k);
    sep2 = sep1 ? memchr(sep1 + 1, NC_STORE_AUTH_SEP, end - sep1 - 1) : NULL;

    if (sep2
        && nc_api_auth_filter(l->blur, &l->want[0], k, sep1 - k)
        && nc_api_page_take(&l->pg))
    {
        nc_api_json_open(&l->pg.json, NULL, '{');
        nc_api_json_str(&l->pg.json, "role", k, sep1 - k);
        nc_api_json_str(&l->pg.json, "resource", sep1 + 1, sep2 - sep1 - 1);
        nc_api_json_str(&l->pg.json, "action", sep2 + 1, end - sep2 - 1);
        nc_api_json_close(&l->pg.json, '}');
    }

    return NC_OK;
}


/* --- helpers ------------------------------------------------------------- */


/* a parameter Nacos requires: absent or blank is a 400 */
static nc_int_t
nc_api_auth_required(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    if (nc_http_param(r, name, value) != NC_OK || value->len == 0) {
        return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                   "Required parameter '%s' is not present",
                                   name));
    }

    return NC_OK;
}


/* user and role names: 1 to 64 of [A-Za-z0-9_.@-] */
static nc_int_t
nc_api_auth_name(nc_http_request_t *r, const char *what, const nc_str_t *name)
{
    if (nc_auth_user_valid(name->data, name->len) != NC_OK) {
        return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                   "%s must be 1 to 64 of A-Z a-z 0-9 _ . @ -",
                                   what));
    }

    return NC_OK;
}


/* the record prefix + a [+ sep + b] */
static const nc_store_record_t *
nc_api_auth_get(const nc_store_version_t *v, const char *prefix,
    const nc_str_t *a, const char *sep, const nc_str_t *b)
{
    u_char  *p;
    size_t   plen, slen;
    u_char   key[NC_STORE_MAX_KEY_LEN];

    plen = strlen(prefix);
    slen = sep ? strlen(sep) : 0;

    if (plen + a->len + slen + (b ? b->len : 0) > sizeof(key)) {
        return NULL;
    }

    p = nc_cpymem(key, prefix, plen);
    p = nc_cpymem(p, a->data, a->len);

    if (sep) {
        p = nc_cpymem(p, sep, slen);
        p = nc_cpymem(p, b->data, b->len);
    }

    return nc_store_get(nc_store, v, key, p - key);
}


/* some user has the role (a role exists only through its users) */
static nc_flag_t
nc_api_auth_has_role(const nc_store_version_t *v, const nc_str_t *role)
{
    u_char                   *k, *slash;
    size_t                    plen, klen;
    nc_flag_t                 found;
    nc_store_iter_t          *it;
    const nc_store_record_t  *rec;

    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return 0;
    }

    plen = sizeof(NC_STORE_AUTH_ROLE) - 1;
    found = 0;

    nc_store_iter_init(it, nc_store, v->root, (u_char *) NC_STORE_AUTH_ROLE,
                       plen, NULL, 0);

    while (!found && (rec = nc_store_iter_next(it)) != NULL) {
        k = (u_char *) nc_store_record_key(rec) + plen;
        klen = rec->key_len - plen;
        slash = memchr(k, '/', klen);

        found = slash && (size_t) (k + klen - slash - 1) == role->len
                && nc_memcmp(slash + 1, role->data, role->len) == 0;
    }

    free(it);

    return found;
}


/* Nacos' search: accurate = equal, blur = contains ('*' ignored) */
static nc_flag_t
nc_api_auth_filter(nc_flag_t blur, const nc_str_t *want, const u_char *p,
    size_t len)
{
    u_char  *s;
    size_t   n;

    if (want->len == 0) {
        return 1;
    }

    if (!blur) {
        return want->len == len && nc_memcmp(want->data, p, len) == 0;
    }

    s = want->data;
    n = want->len;

    while (n && *s == '*') {
        s++;
        n--;
    }

    while (n && s[n - 1] == '*') {
        n--;
    }

    return n == 0 || (len >= n && memmem(p, len, s, n) != NULL);
}


static nc_flag_t
nc_api_auth_blur(nc_http_request_t *r)
{
    nc_str_t  v;

    return nc_http_param(r, "search", &v) == NC_OK
           && v.len == 4 && nc_memcmp(v.data, "blur", 4) == 0;
}


/* a new password's length, and whether its user exists; NC_OK or NC_DECLINED */
static nc_int_t
nc_api_auth_new_password(nc_http_request_t *r, const nc_str_t *user,
    const nc_str_t *password, nc_flag_t *exists)
{
    const nc_store_version_t  *v;

    if (password->len > NC_AUTH_PASSWORD_MAX_LEN) {
        return nc_api_refused(nc_api_nacos_error(r, NC_HTTP_BAD_REQUEST,
                                                 "password longer than %d "
                                                 "bytes",
                                                 NC_AUTH_PASSWORD_MAX_LEN));
    }

    v = nc_store_enter(nc_store);
    *exists = v && nc_api_auth_get(v, NC_STORE_AUTH_USER, user, NULL, NULL);
    nc_store_leave(nc_store);

    if (v == NULL) {
        return nc_api_refused(nc_api_auth_no_store(r));
    }

    return NC_OK;
}


static nc_int_t
nc_api_auth_no_store(nc_http_request_t *r)
{
    return nc_api_rest_result(r, NC_HTTP_SERVICE_UNAVAILABLE,
                              "\"the store is not loaded yet\"");
}
