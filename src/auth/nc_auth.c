
/*
 * nacre: identities and the checks the router makes (nc_auth.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_cycle.h>
#include <nc_store.h>
#include <nc_store_auth.h>
#include <nc_auth_crypto.h>
#include <nc_auth.h>
#include <openssl/crypto.h>


#define NC_AUTH_CACHE_SLOTS   256          /* a power of two */
#define NC_AUTH_LOGIN_BURST   5            /* failures, then one a second */


typedef struct {
    uint64_t                hash;          /* of user, 0, password */
    uint64_t                revision;      /* of the user's record */
} nc_auth_cached_t;


typedef struct {
    const nc_store_version_t  *v;
    u_char                     user[NC_AUTH_USER_MAX_LEN];
    size_t                     user_len;
} nc_auth_ctx_t;


static nc_int_t nc_auth_identify(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    const char **why);
static nc_int_t nc_auth_password(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    const nc_str_t *user, const nc_str_t *password, nc_flag_t cache);
static const nc_store_record_t *nc_auth_record(const nc_store_version_t *v,
    const char *prefix, const u_char *a, size_t alen, const char *b);
static nc_flag_t nc_auth_header(nc_http_request_t *r, const char *name,
    nc_str_t *value);
static nc_int_t nc_auth_forbidden(nc_http_request_t *r, nc_uint_t status,
    const char *message);
static nc_int_t nc_auth_login(nc_http_request_t *r);


static nc_conf_auth_t      *nc_auth_conf;
static nc_auth_limiter_t   *nc_auth_limiter;
static nc_auth_cached_t     nc_auth_cache[NC_AUTH_CACHE_SLOTS];
static u_char               nc_auth_cache_key[16];
static u_char               nc_auth_dummy[NC_AUTH_PASSWORD_HASH_LEN];
static size_t               nc_auth_dummy_len;


nc_int_t
nc_auth_init_worker(nc_cycle_t *cycle)
{
    nc_auth_conf = &cycle->conf->auth;

    nc_auth_limiter = malloc(sizeof(nc_auth_limiter_t));
    if (nc_auth_limiter == NULL) {
        return NC_ERROR;
    }

    nc_auth_limiter_init(nc_auth_limiter, NC_AUTH_LOGIN_BURST, 1);
    nc_auth_random(nc_auth_cache_key, sizeof(nc_auth_cache_key));

    if (!nc_auth_conf->enabled) {
        nc_log_error(NC_LOG_WARN, &cycle->log, 0,
                     "auth.enabled is false: every request is served as "
                     "the admin's, for local development only");
    }

    return NC_OK;
}


nc_int_t
nc_auth_check(nc_http_request_t *r, nc_uint_t level)
{
    nc_int_t       rc;
    const char    *why;
    nc_auth_ctx_t  ctx;

    if (!nc_auth_conf->enabled) {
        r->auth_admin = 1;
        return NC_OK;
    }

    if (level == NC_AUTH_ANON) {
        return NC_OK;
    }

    ctx.v = nc_store_enter(nc_store);

    if (ctx.v == NULL) {
        nc_store_leave(nc_store);
        return nc_auth_forbidden(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                 "the store is not loaded");
    }

    why = "user not found!";
    rc = nc_auth_identify(r, &ctx, &why);

    if (rc == NC_OK) {
        r->auth_admin = nc_auth_record(ctx.v, NC_STORE_AUTH_ROLE, ctx.user,
                                       ctx.user_len,
                                       "/" NC_STORE_AUTH_ADMIN_ROLE)
                        != NULL;

        r->auth_user.data = nc_pnalloc(r->pool, ctx.user_len);

        if (r->auth_user.data == NULL) {
            rc = NC_ERROR;

        } else {
            nc_memcpy(r->auth_user.data, ctx.user, ctx.user_len);
            r->auth_user.len = ctx.user_len;
        }
    }

    nc_store_leave(nc_store);

    if (rc == NC_BUSY) {
        return nc_auth_forbidden(r, NC_HTTP_TOO_MANY_REQUESTS,
                                 "too many failed logins, try again later");
    }

    if (rc != NC_OK) {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, why);
    }

    if (level == NC_AUTH_ADMIN && !r->auth_admin) {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN,
                                 "authorization failed!");
    }

    return NC_OK;
}


/* NC_OK: ctx->user is who it is; NC_BUSY: rate limited; else *why */
static nc_int_t
nc_auth_identify(nc_http_request_t *r, nc_auth_ctx_t *ctx, const char **why)
{
    nc_int_t                  rc;
    nc_str_t                  token, user, password;
    const nc_store_record_t  *key;

    token.len = 0;

    if (nc_auth_header(r, "Authorization", &token)) {
        if (token.len > 7 && nc_strncasecmp(token.data, (u_char *) "Bearer ",
                                            7) == 0)
        {
            token.data += 7;
            token.len -= 7;

        } else {
            token.len = 0;
        }
    }

    if (token.len == 0
        && !nc_auth_header(r, "accessToken", &token)
        && nc_http_param(r, "accessToken", &token) != NC_OK
        && !nc_auth_header(r, "X-Consul-Token", &token)
        && nc_http_param(r, "token", &token) != NC_OK)
    {
        token.len = 0;
    }

    if (token.len) {
        key = nc_auth_record(ctx->v, NC_STORE_AUTH_KEY, NULL, 0, NULL);

        if (key == NULL || key->value_len != NC_AUTH_KEY_LEN) {
            return NC_ERROR;
        }

        ctx->user_len = sizeof(ctx->user);

        rc = nc_auth_token_verify(nc_store_record_value(key), token.data,
                                  token.len, (uint64_t) time(NULL),
                                  ctx->user, &ctx->user_len, NULL);

        if (rc == NC_DECLINED) {
            *why = "token expired!";
            return NC_ERROR;
        }

        if (rc != NC_OK) {
            *why = "token invalid!";
            return NC_ERROR;
        }

        /* a deleted user's tokens die with it */
        if (nc_auth_record(ctx->v, NC_STORE_AUTH_USER, ctx->user,
                           ctx->user_len, NULL)
            == NULL)
        {
            return NC_ERROR;
        }

        return NC_OK;
    }

    if (nc_http_param(r, "username", &user) == NC_OK
        && nc_http_param(r, "password", &password) == NC_OK)
    {
        return nc_auth_password(r, ctx, &user, &password, 1);
    }

    return NC_ERROR;
}


/*
 * The KDF runs once per user and password in this worker: a success is
 * remembered with the revision of the user's record, so a new password or
 * a deleted user is noticed.  Failures are rate limited per user and per
 * client address before any KDF runs; an unknown user costs a KDF too, so
 * that timing does not tell which names exist.
 */
static nc_int_t
nc_auth_password(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    const nc_str_t *user, const nc_str_t *password, nc_flag_t cache)
{
    uint64_t                  h;
    nc_int_t                  rc;
    nc_connection_t          *c;
    nc_auth_cached_t         *slot;
    const nc_store_record_t  *rec;
    u_char                    buf[NC_AUTH_USER_MAX_LEN + 1
                                  + NC_AUTH_PASSWORD_MAX_LEN];

    c = r->connection;

    if (nc_auth_user_valid(user->data, user->len) != NC_OK
        || password->len > NC_AUTH_PASSWORD_MAX_LEN)
    {
        return NC_ERROR;
    }

    rec = nc_auth_record(ctx->v, NC_STORE_AUTH_USER, user->data, user->len,
                         NULL);

    nc_memcpy(buf, user->data, user->len);
    buf[user->len] = '\0';
    nc_memcpy(buf + user->len + 1, password->data, password->len);

    h = nc_auth_siphash(nc_auth_cache_key, buf, user->len + 1 + password->len);
    OPENSSL_cleanse(buf, sizeof(buf));

    slot = &nc_auth_cache[h & (NC_AUTH_CACHE_SLOTS - 1)];

    if (cache && rec && slot->hash == h && slot->revision == rec->revision) {
        goto found;
    }

    if (nc_auth_limiter_allow(nc_auth_limiter, user->data, user->len,
                              nc_current_msec) != NC_OK
        || nc_auth_limiter_allow(nc_auth_limiter, c->addr_text.data,
                                 c->addr_text.len, nc_current_msec) != NC_OK)
    {
        return NC_BUSY;
    }

    if (rec == NULL) {
        if (nc_auth_dummy_len == 0) {
            nc_auth_dummy_len = nc_auth_password_hash((u_char *) "-", 1, 0,
                                                      nc_auth_dummy,
                                                      sizeof(nc_auth_dummy));
        }

        (void) nc_auth_password_verify(password->data, password->len,
                                       nc_auth_dummy, nc_auth_dummy_len);
        rc = NC_DECLINED;

    } else {
        rc = nc_auth_password_verify(password->data, password->len,
                                     nc_store_record_value(rec),
                                     rec->value_len);
    }

    if (rc != NC_OK) {
        nc_auth_limiter_fail(nc_auth_limiter, user->data, user->len,
                             nc_current_msec);
        nc_auth_limiter_fail(nc_auth_limiter, c->addr_text.data,
                             c->addr_text.len, nc_current_msec);

        nc_log_error(NC_LOG_WARN, c->log, 0,
                     "failed login as \"%.*s\" from %.*s",
                     (int) user->len, user->data, nc_str_fmt(&c->addr_text));
        return NC_ERROR;
    }

    nc_auth_limiter_success(nc_auth_limiter, user->data, user->len,
                            nc_current_msec);

    if (cache) {
        slot->hash = h;
        slot->revision = rec->revision;
    }

found:

    nc_memcpy(ctx->user, user->data, user->len);
    ctx->user_len = user->len;

    return NC_OK;
}


nc_int_t
nc_auth_login_handler(nc_http_request_t *r)
{
    nc_int_t  rc;

    rc = nc_auth_login(r);

    /* a refusal is an answer like any other */
    return rc == NC_DECLINED ? NC_OK : rc;
}


static nc_int_t
nc_auth_login(nc_http_request_t *r)
{
    u_char                   *p;
    size_t                    n;
    nc_int_t                  rc;
    uint64_t                  ttl;
    nc_str_t                  user, password, value;
    nc_auth_ctx_t             ctx;
    const nc_store_record_t  *key;
    u_char                    token[NC_AUTH_TOKEN_LEN];

    if (nc_http_param(r, "username", &user) != NC_OK
        || nc_http_param(r, "password", &password) != NC_OK)
    {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "user not found!");
    }

    ctx.v = nc_store_enter(nc_store);

    key = ctx.v ? nc_auth_record(ctx.v, NC_STORE_AUTH_KEY, NULL, 0, NULL)
                : NULL;

    if (key == NULL || key->value_len != NC_AUTH_KEY_LEN) {
        nc_store_leave(nc_store);
        return nc_auth_forbidden(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                 "no users yet: the cluster has no leader");
    }

    /* a login always checks the password: no cache */
    rc = nc_auth_password(r, &ctx, &user, &password, 0);

    ttl = nc_auth_conf->token_ttl / 1000;
    n = 0;

    if (rc == NC_OK) {
        n = nc_auth_token_sign(nc_store_record_value(key), ctx.user,
                               ctx.user_len, (uint64_t) time(NULL) + ttl,
                               token, sizeof(token));

        r->auth_admin = nc_auth_record(ctx.v, NC_STORE_AUTH_ROLE, ctx.user,
                                       ctx.user_len,
                                       "/" NC_STORE_AUTH_ADMIN_ROLE)
                        != NULL;
    }

    nc_store_leave(nc_store);

    if (rc == NC_BUSY) {
        return nc_auth_forbidden(r, NC_HTTP_TOO_MANY_REQUESTS,
                                 "too many failed logins, try again later");
    }

    if (rc != NC_OK || n == 0) {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "user not found!");
    }

    p = nc_pnalloc(r->pool, n + ctx.user_len + 128);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* user names need no escaping: [A-Za-z0-9_.@-] */
    value.len = (size_t) sprintf((char *) p,
                                 "{\"accessToken\":\"%.*s\",\"tokenTtl\":%"
                                 PRIu64 ",\"globalAdmin\":%s,\"username\":"
                                 "\"%.*s\"}", (int) n, token, ttl,
                                 r->auth_admin ? "true" : "false",
                                 (int) ctx.user_len, ctx.user);
    value.data = p;

    OPENSSL_cleanse(token, sizeof(token));

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                value.data, value.len);
}


/* a record by prefix + a (+ b) in version v */
static const nc_store_record_t *
nc_auth_record(const nc_store_version_t *v, const char *prefix,
    const u_char *a, size_t alen, const char *b)
{
    size_t  len, plen, blen;
    u_char  key[NC_STORE_MAX_KEY_LEN];

    plen = strlen(prefix);
    blen = b ? strlen(b) : 0;
    len = plen + alen + blen;

    if (len > sizeof(key)) {
        return NULL;
    }

    nc_memcpy(key, prefix, plen);

    if (alen) {
        nc_memcpy(key + plen, a, alen);
    }

    if (blen) {
        nc_memcpy(key + plen + alen, b, blen);
    }

    return nc_store_get(nc_store, v, key, len);
}


static nc_flag_t
nc_auth_header(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    size_t             len;
    nc_uint_t          i;
    nc_http_header_t  *h;

    len = strlen(name);
    h = r->headers_in.headers.elts;

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].name.len == len
            && nc_strncasecmp(h[i].name.data, (u_char *) name, len) == 0
            && h[i].value.len)
        {
            *value = h[i].value;
            return 1;
        }
    }

    return 0;
}


/* Spring Boot's error document, which is what Nacos clients get */
static nc_int_t
nc_auth_forbidden(nc_http_request_t *r, nc_uint_t status, const char *message)
{
    u_char     *p;
    size_t      len;
    struct tm   tm;
    char        stamp[40];
    time_t      now;

    now = time(NULL);
    (void) gmtime_r(&now, &tm);
    (void) strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.000+00:00", &tm);

    len = sizeof("{\"timestamp\":\"\",\"status\":,\"error\":\"\","
                 "\"message\":\"\",\"path\":\"\"}")
          + strlen(stamp) + 3 + strlen(nc_http_status_text(status))
          + strlen(message) + nc_json_escape_len(r->path.data, r->path.len);

    p = nc_pnalloc(r->pool, len);
    if (p == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = (size_t) snprintf((char *) p, len,
                            "{\"timestamp\":\"%s\",\"status\":%u,"
                            "\"error\":\"%s\",\"message\":\"%s\","
                            "\"path\":\"", stamp, (unsigned) status,
                            nc_http_status_text(status), message);

    len = (size_t) (nc_json_escape(p + len, r->path.data, r->path.len) - p);
    p[len++] = '"';
    p[len++] = '}';

    if (nc_http_set_response(r, status, "application/json", p, len) != NC_OK)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NC_DECLINED;
}
