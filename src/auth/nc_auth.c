
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
#include <nc_thread_pool.h>
#include <openssl/crypto.h>


#define NC_AUTH_CACHE_SLOTS   256          /* a power of two */
#define NC_AUTH_TOKEN_SLOTS   1024         /* a power of two */
#define NC_AUTH_LOGIN_BURST   5            /* failures, then one a second */

/*
 * The KDF runs in helper threads: one per worker keeps a login from
 * stalling every other connection of the worker, and a burst of logins
 * from taking every CPU from the loops.  Beyond the queue: 503.
 */
#define NC_AUTH_KDF_THREADS   1
#define NC_AUTH_KDF_QUEUE     64


typedef struct {
    uint64_t                hash;          /* of user, 0, password */
    uint64_t                revision;      /* of the user's record */
} nc_auth_cached_t;


/*
 * A token verified: a client sends the same one with every request, and
 * its HMAC need not be worked out again.  Kept by the keyed hash of the
 * token (the worker's secret key: a forged token cannot aim at a slot)
 * and the revision of the signing key it was verified with.
 */
typedef struct {
    uint64_t                hash;
    uint64_t                key_revision;
    uint64_t                exp;
    size_t                  user_len;
    u_char                  user[NC_AUTH_USER_MAX_LEN];
} nc_auth_token_cached_t;


typedef struct {
    const nc_store_version_t  *v;
    u_char                     user[NC_AUTH_USER_MAX_LEN];
    size_t                     user_len;
} nc_auth_ctx_t;


typedef struct nc_auth_kdf_s  nc_auth_kdf_t;

typedef void (*nc_auth_resume_pt)(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level);

/*
 * A password verified or hashed by a helper thread (nc_thread_pool.h).
 * Requests that send the same user and password while it runs wait for
 * the same verification: a client starting with a burst of requests costs
 * one KDF and one charge of the limiter.
 */
struct nc_auth_kdf_s {
    nc_thread_task_t           task;
    nc_queue_t                 queue;       /* in nc_auth_inflight */
    nc_queue_t                 waiters;     /* nc_auth_waiter_t */
    nc_auth_hashed_pt          hashed;      /* nc_auth_password_make() */
    void                      *data;        /* hashed()'s */
    nc_int_t                   rc;          /* the thread's answer */
    uint64_t                   slot_hash;   /* of user and password */
    uint64_t                   revision;    /* of the hash verified */
    unsigned                   make:1;      /* hash, not verify */
    unsigned                   unknown:1;   /* no such user: hash, fail */
    size_t                     user_len;
    size_t                     password_len;
    size_t                     hash_len;
    size_t                     addr_len;
    u_char                     user[NC_AUTH_USER_MAX_LEN];
    u_char                     addr[NC_SOCKADDR_STRLEN];  /* charged */
    u_char                     password[NC_AUTH_PASSWORD_MAX_LEN];
    u_char                     hash[NC_AUTH_PASSWORD_HASH_LEN];
};


/* a request waiting for a task; in its pool, r->ctx until the task ends */
typedef struct {
    nc_queue_t                 queue;
    nc_http_request_t         *request;
    nc_auth_resume_pt          resume;
    nc_uint_t                  level;       /* nc_auth_check()'s */
} nc_auth_waiter_t;


static nc_int_t nc_auth_identified(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    nc_int_t rc, const char *why, nc_uint_t level);
static nc_int_t nc_auth_identify(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    nc_uint_t level, const char **why);
static nc_int_t nc_auth_password(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    const nc_str_t *user, const nc_str_t *password, nc_flag_t cache,
    nc_auth_resume_pt resume, nc_uint_t level);
static void nc_auth_check_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level);
static void nc_auth_login_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level);
static void nc_auth_make_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level);
static nc_int_t nc_auth_kdf_wait(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_auth_resume_pt resume, nc_uint_t level);
static void nc_auth_kdf_work(nc_thread_task_t *task);
static void nc_auth_kdf_done(nc_thread_task_t *task);
static void nc_auth_kdf_settle(nc_auth_kdf_t *kdf);
static void nc_auth_kdf_cleanup(nc_http_request_t *r);
static const nc_store_record_t *nc_auth_record(const nc_store_version_t *v,
    const char *prefix, const u_char *a, size_t alen, const char *b);
static nc_flag_t nc_auth_header(nc_http_request_t *r, const char *name,
    nc_str_t *value);
static nc_int_t nc_auth_forbidden(nc_http_request_t *r, nc_uint_t status,
    const char *message);


static nc_conf_auth_t      *nc_auth_conf;
static nc_auth_limiter_t   *nc_auth_limiter;
static nc_auth_cached_t     nc_auth_cache[NC_AUTH_CACHE_SLOTS];
static nc_auth_token_cached_t  nc_auth_tokens[NC_AUTH_TOKEN_SLOTS];
static nc_queue_t           nc_auth_inflight;      /* verifying: kdf */
static nc_log_t            *nc_auth_log;
static u_char               nc_auth_cache_key[16];


nc_int_t
nc_auth_init_worker(nc_cycle_t *cycle)
{
    nc_auth_conf = &cycle->conf->auth;
    nc_auth_log = &cycle->log;
    nc_queue_init(&nc_auth_inflight);

    nc_auth_limiter = malloc(sizeof(nc_auth_limiter_t));
    if (nc_auth_limiter == NULL) {
        return NC_ERROR;
    }

    nc_auth_limiter_init(nc_auth_limiter, NC_AUTH_LOGIN_BURST, 1);
    nc_auth_random(nc_auth_cache_key, sizeof(nc_auth_cache_key));

    if (nc_thread_pool_init(NC_AUTH_KDF_THREADS, NC_AUTH_KDF_QUEUE,
                            &cycle->log)
        != NC_OK)
    {
        return NC_ERROR;
    }

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
    rc = nc_auth_identify(r, &ctx, level, &why);

    if (rc == NC_AGAIN) {
        nc_store_leave(nc_store);
        return NC_AGAIN;
    }

    rc = nc_auth_identified(r, &ctx, rc, why, level);

    nc_store_leave(nc_store);

    return rc;
}


/* the end of a check, the store entered: who it is, whether it may */
static nc_int_t
nc_auth_identified(nc_http_request_t *r, nc_auth_ctx_t *ctx, nc_int_t rc,
    const char *why, nc_uint_t level)
{
    if (rc == NC_BUSY) {
        return nc_auth_forbidden(r, NC_HTTP_TOO_MANY_REQUESTS,
                                 "too many failed logins, try again later");
    }

    if (rc == NC_DONE) {
        return nc_auth_forbidden(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                 "too many logins in progress");
    }

    if (rc != NC_OK) {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, why);
    }

    r->auth_admin = nc_auth_record(ctx->v, NC_STORE_AUTH_ROLE, ctx->user,
                                   ctx->user_len,
                                   "/" NC_STORE_AUTH_ADMIN_ROLE)
                    != NULL;

    r->auth_user.data = nc_pnalloc(r->pool, ctx->user_len);
    if (r->auth_user.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_memcpy(r->auth_user.data, ctx->user, ctx->user_len);
    r->auth_user.len = ctx->user_len;

    if (level == NC_AUTH_ADMIN && !r->auth_admin) {
        return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN,
                                 "authorization failed!");
    }

    return NC_OK;
}


/*
 * NC_OK: ctx->user is who it is; NC_AGAIN: a password is being verified
 * (nc_auth_check_resume() follows); NC_BUSY: rate limited; NC_DONE: the
 * helper threads are full; else NC_ERROR and *why
 */
static nc_int_t
nc_auth_identify(nc_http_request_t *r, nc_auth_ctx_t *ctx, nc_uint_t level,
    const char **why)
{
    uint64_t                  h, now, exp;
    nc_int_t                  rc;
    nc_str_t                  token, user, password;
    nc_auth_token_cached_t   *slot;
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

        now = (uint64_t) time(NULL);
        h = nc_auth_siphash(nc_auth_cache_key, token.data, token.len);
        slot = &nc_auth_tokens[h & (NC_AUTH_TOKEN_SLOTS - 1)];

        if (slot->hash == h && slot->key_revision == key->revision) {
            if (slot->exp <= now) {
                *why = "token expired!";
                return NC_ERROR;
            }

            nc_memcpy(ctx->user, slot->user, slot->user_len);
            ctx->user_len = slot->user_len;

        } else {
            ctx->user_len = sizeof(ctx->user);

            rc = nc_auth_token_verify(nc_store_record_value(key), token.data,
                                      token.len, now, ctx->user,
                                      &ctx->user_len, &exp);

            if (rc == NC_DECLINED) {
                *why = "token expired!";
                return NC_ERROR;
            }

            if (rc != NC_OK) {
                *why = "token invalid!";
                return NC_ERROR;
            }

            slot->hash = h;
            slot->key_revision = key->revision;
            slot->exp = exp;
            slot->user_len = ctx->user_len;
            nc_memcpy(slot->user, ctx->user, ctx->user_len);
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
        return nc_auth_password(r, ctx, &user, &password, 1,
                                nc_auth_check_resume, level);
    }

    return NC_ERROR;
}


static void
nc_auth_check_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level)
{
    nc_int_t       rc;
    nc_auth_ctx_t  ctx;

    ctx.v = nc_store_enter(nc_store);

    rc = kdf->rc == NC_OK ? NC_OK : NC_ERROR;

    if (rc == NC_OK) {
        nc_memcpy(ctx.user, kdf->user, kdf->user_len);
        ctx.user_len = kdf->user_len;
    }

    rc = nc_auth_identified(r, &ctx, rc, "user not found!", level);

    nc_store_leave(nc_store);

    nc_http_auth_done(r, rc);
}


/*
 * The KDF runs once per user and password in this worker, in a helper
 * thread: a success is remembered with the revision of the user's record,
 * so a new password or a deleted user is noticed.  Attempts are rate
 * limited per user and per client address before any KDF runs, and count
 * as failures until they succeed; an unknown user costs a KDF too, so that
 * timing does not tell which names exist.
 *
 * NC_OK (cached): ctx->user is set.  NC_AGAIN: resume() runs later (unless
 * the request ends first).  NC_BUSY: rate limited.  NC_DONE: the helper
 * threads are full.  NC_ERROR: invalid.
 */
static nc_int_t
nc_auth_password(nc_http_request_t *r, nc_auth_ctx_t *ctx,
    const nc_str_t *user, const nc_str_t *password, nc_flag_t cache,
    nc_auth_resume_pt resume, nc_uint_t level)
{
    uint64_t                  h, revision;
    nc_queue_t               *q;
    nc_connection_t          *c;
    nc_auth_kdf_t            *kdf;
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

    if (rec && rec->value_len > NC_AUTH_PASSWORD_HASH_LEN) {
        rec = NULL;
    }

    revision = rec ? rec->revision : 0;

    nc_memcpy(buf, user->data, user->len);
    buf[user->len] = '\0';
    nc_memcpy(buf + user->len + 1, password->data, password->len);

    h = nc_auth_siphash(nc_auth_cache_key, buf, user->len + 1 + password->len);
    OPENSSL_cleanse(buf, sizeof(buf));

    slot = &nc_auth_cache[h & (NC_AUTH_CACHE_SLOTS - 1)];

    if (cache && rec && slot->hash == h && slot->revision == revision) {
        nc_memcpy(ctx->user, user->data, user->len);
        ctx->user_len = user->len;
        return NC_OK;
    }

    if (nc_auth_limiter_allow(nc_auth_limiter, user->data, user->len,
                              nc_current_msec) != NC_OK
        || nc_auth_limiter_allow(nc_auth_limiter, c->addr_text.data,
                                 c->addr_text.len, nc_current_msec) != NC_OK)
    {
        return NC_BUSY;
    }

    for (q = nc_queue_head(&nc_auth_inflight);
         q != nc_queue_sentinel(&nc_auth_inflight);
         q = nc_queue_next(q))
    {
        kdf = nc_queue_data(q, nc_auth_kdf_t, queue);

        if (kdf->slot_hash == h && kdf->revision == revision
            && kdf->unknown == (rec == NULL))
        {
            return nc_auth_kdf_wait(r, kdf, resume, level);
        }
    }

    kdf = calloc(1, sizeof(nc_auth_kdf_t));
    if (kdf == NULL) {
        return NC_ERROR;
    }

    kdf->slot_hash = h;
    kdf->revision = revision;
    kdf->unknown = rec == NULL;

    nc_memcpy(kdf->user, user->data, user->len);
    kdf->user_len = user->len;
    nc_memcpy(kdf->password, password->data, password->len);
    kdf->password_len = password->len;

    kdf->addr_len = nc_min(c->addr_text.len, sizeof(kdf->addr));
    nc_memcpy(kdf->addr, c->addr_text.data, kdf->addr_len);

    if (rec) {
        nc_memcpy(kdf->hash, nc_store_record_value(rec), rec->value_len);
        kdf->hash_len = rec->value_len;
    }

    kdf->task.work = nc_auth_kdf_work;
    kdf->task.done = nc_auth_kdf_done;
    nc_queue_init(&kdf->waiters);

    if (nc_thread_task_post(&kdf->task) != NC_OK) {
        OPENSSL_cleanse(kdf, sizeof(nc_auth_kdf_t));
        free(kdf);
        return NC_DONE;
    }

    nc_queue_insert_tail(&nc_auth_inflight, &kdf->queue);

    /* an attempt in flight counts as a failure until it succeeds */
    nc_auth_limiter_fail(nc_auth_limiter, kdf->user, kdf->user_len,
                         nc_current_msec);
    nc_auth_limiter_fail(nc_auth_limiter, kdf->addr, kdf->addr_len,
                         nc_current_msec);

    return nc_auth_kdf_wait(r, kdf, resume, level);
}


nc_int_t
nc_auth_login_handler(nc_http_request_t *r)
{
    nc_int_t                  rc;
    nc_str_t                  user, password;
    nc_auth_ctx_t             ctx;
    const nc_store_record_t  *key;

    if (nc_http_param(r, "username", &user) != NC_OK
        || nc_http_param(r, "password", &password) != NC_OK)
    {
        rc = nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "user not found!");
        return rc == NC_DECLINED ? NC_OK : rc;
    }

    ctx.v = nc_store_enter(nc_store);

    key = ctx.v ? nc_auth_record(ctx.v, NC_STORE_AUTH_KEY, NULL, 0, NULL)
                : NULL;

    if (key == NULL || key->value_len != NC_AUTH_KEY_LEN) {
        nc_store_leave(nc_store);
        rc = nc_auth_forbidden(r, NC_HTTP_SERVICE_UNAVAILABLE,
                               "no users yet: the cluster has no leader");
        return rc == NC_DECLINED ? NC_OK : rc;
    }

    /* a login always checks the password: no cache */
    rc = nc_auth_password(r, &ctx, &user, &password, 0,
                          nc_auth_login_resume, NC_AUTH_USER);

    nc_store_leave(nc_store);

    if (rc == NC_AGAIN) {
        return NC_DONE;
    }

    rc = nc_auth_identified(r, &ctx, rc, "user not found!", NC_AUTH_USER);

    /* a refusal is an answer like any other */
    return rc == NC_DECLINED ? NC_OK : rc;
}


static void
nc_auth_login_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level)
{
    u_char                    *p;
    size_t                     n;
    nc_int_t                   rc;
    uint64_t                   ttl;
    nc_str_t                   value;
    const nc_store_record_t   *key, *user;
    const nc_store_version_t  *v;
    u_char                     token[NC_AUTH_TOKEN_LEN];

    v = nc_store_enter(nc_store);

    rc = kdf->rc == NC_OK ? NC_OK : NC_ERROR;
    key = NULL;
    user = NULL;

    if (v) {
        key = nc_auth_record(v, NC_STORE_AUTH_KEY, NULL, 0, NULL);
        user = nc_auth_record(v, NC_STORE_AUTH_USER, kdf->user,
                              kdf->user_len, NULL);
    }

    /* the password verified must still be the user's */
    if (key == NULL || key->value_len != NC_AUTH_KEY_LEN || user == NULL
        || user->revision != kdf->revision)
    {
        rc = NC_ERROR;
    }

    ttl = nc_auth_conf->token_ttl / 1000;
    n = 0;

    if (rc == NC_OK) {
        n = nc_auth_token_sign(nc_store_record_value(key), kdf->user,
                               kdf->user_len, (uint64_t) time(NULL) + ttl,
                               token, sizeof(token));

        r->auth_admin = nc_auth_record(v, NC_STORE_AUTH_ROLE, kdf->user,
                                       kdf->user_len,
                                       "/" NC_STORE_AUTH_ADMIN_ROLE)
                        != NULL;
    }

    nc_store_leave(nc_store);

    if (rc != NC_OK || n == 0) {
        rc = nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "user not found!");
        nc_http_finalize_request(r, rc == NC_DECLINED ? NC_OK : rc);
        return;
    }

    p = nc_pnalloc(r->pool, n + kdf->user_len + 128);
    if (p == NULL) {
        nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* user names need no escaping: [A-Za-z0-9_.@-] */
    value.len = (size_t) sprintf((char *) p,
                                 "{\"accessToken\":\"%.*s\",\"tokenTtl\":%"
                                 PRIu64 ",\"globalAdmin\":%s,\"username\":"
                                 "\"%.*s\"}", (int) n, token, ttl,
                                 r->auth_admin ? "true" : "false",
                                 (int) kdf->user_len, kdf->user);
    value.data = p;

    OPENSSL_cleanse(token, sizeof(token));

    nc_http_finalize_request(r, nc_http_set_response(r, NC_HTTP_OK,
                                                     "application/json",
                                                     value.data, value.len));
}


nc_int_t
nc_auth_password_make(nc_http_request_t *r, const nc_str_t *password,
    nc_auth_hashed_pt done, void *data)
{
    nc_auth_kdf_t  *kdf;

    if (password->len > NC_AUTH_PASSWORD_MAX_LEN) {
        return NC_ERROR;
    }

    kdf = calloc(1, sizeof(nc_auth_kdf_t));
    if (kdf == NULL) {
        return NC_ERROR;
    }

    kdf->make = 1;
    kdf->hashed = done;
    kdf->data = data;
    nc_memcpy(kdf->password, password->data, password->len);
    kdf->password_len = password->len;

    kdf->task.work = nc_auth_kdf_work;
    kdf->task.done = nc_auth_kdf_done;
    nc_queue_init(&kdf->waiters);
    nc_queue_init(&kdf->queue);

    if (nc_thread_task_post(&kdf->task) != NC_OK) {
        OPENSSL_cleanse(kdf, sizeof(nc_auth_kdf_t));
        free(kdf);
        return NC_BUSY;
    }

    return nc_auth_kdf_wait(r, kdf, nc_auth_make_resume, 0);
}


static void
nc_auth_make_resume(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_uint_t level)
{
    kdf->hashed(r, kdf->data, kdf->rc, kdf->hash, kdf->hash_len);
}


static nc_int_t
nc_auth_kdf_wait(nc_http_request_t *r, nc_auth_kdf_t *kdf,
    nc_auth_resume_pt resume, nc_uint_t level)
{
    nc_auth_waiter_t  *w;

    w = nc_palloc(r->pool, sizeof(nc_auth_waiter_t));
    if (w == NULL) {
        return NC_ERROR;
    }

    w->request = r;
    w->resume = resume;
    w->level = level;

    nc_queue_insert_tail(&kdf->waiters, &w->queue);

    r->ctx = w;
    r->cleanup = nc_auth_kdf_cleanup;

    return NC_AGAIN;
}


/* in a helper thread: the task's own bytes only */
static void
nc_auth_kdf_work(nc_thread_task_t *task)
{
    nc_auth_kdf_t  *kdf;

    kdf = (nc_auth_kdf_t *) task;

    if (kdf->make || kdf->unknown) {
        kdf->hash_len = nc_auth_password_hash(kdf->password,
                                              kdf->password_len, 0,
                                              kdf->hash, sizeof(kdf->hash));
        kdf->rc = kdf->unknown ? NC_DECLINED
                               : (kdf->hash_len ? NC_OK : NC_ERROR);

    } else {
        kdf->rc = nc_auth_password_verify(kdf->password, kdf->password_len,
                                          kdf->hash, kdf->hash_len);
    }

    OPENSSL_cleanse(kdf->password, sizeof(kdf->password));
}


static void
nc_auth_kdf_done(nc_thread_task_t *task)
{
    nc_queue_t         *q;
    nc_auth_kdf_t      *kdf;
    nc_auth_waiter_t   *w;
    nc_http_request_t  *r;

    kdf = (nc_auth_kdf_t *) task;

    if (!kdf->make) {
        nc_queue_remove(&kdf->queue);
        nc_auth_kdf_settle(kdf);
    }

    /* a resume may end its request, and with it the waiter's memory */
    while (!nc_queue_empty(&kdf->waiters)) {
        q = nc_queue_head(&kdf->waiters);
        w = nc_queue_data(q, nc_auth_waiter_t, queue);
        nc_queue_remove(q);

        r = w->request;
        r->ctx = NULL;
        r->cleanup = NULL;

        w->resume(r, kdf, w->level);
    }

    OPENSSL_cleanse(kdf, sizeof(nc_auth_kdf_t));
    free(kdf);
}


/* a verification's outcome, once for all its waiters: limits, log, cache */
static void
nc_auth_kdf_settle(nc_auth_kdf_t *kdf)
{
    nc_auth_cached_t  *slot;

    if (kdf->rc != NC_OK) {
        nc_log_error(NC_LOG_WARN, nc_auth_log, 0,
                     "failed login as \"%.*s\" from %.*s",
                     (int) kdf->user_len, kdf->user, (int) kdf->addr_len,
                     kdf->addr);
        return;
    }

    nc_auth_limiter_success(nc_auth_limiter, kdf->user, kdf->user_len,
                            nc_current_msec);
    nc_auth_limiter_refund(nc_auth_limiter, kdf->addr, kdf->addr_len,
                           nc_current_msec);

    slot = &nc_auth_cache[kdf->slot_hash & (NC_AUTH_CACHE_SLOTS - 1)];
    slot->hash = kdf->slot_hash;
    slot->revision = kdf->revision;
}


/* the request ended first: the task finishes without it */
static void
nc_auth_kdf_cleanup(nc_http_request_t *r)
{
    nc_auth_waiter_t  *w;

    w = r->ctx;
    nc_queue_remove(&w->queue);
}


/* --- permissions -------------------------------------------------------- */


nc_int_t
nc_auth_permit(nc_http_request_t *r, const nc_str_t *namespace,
    const nc_str_t *group, const char *type, const nc_str_t *name,
    nc_uint_t action)
{
    u_char                    *p;
    nc_flag_t                  ok;
    nc_int_t                   rc;
    size_t                     len;
    const nc_store_version_t  *v;
    u_char                     resource[NC_AUTH_RESOURCE_MAX_LEN];

    if (r->auth_admin) {
        return NC_OK;
    }

    len = namespace->len + group->len + strlen(type) + name->len + 8;
    if (len > sizeof(resource)) {
        rc = nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "authorization failed!");
        return rc;
    }

    /* Nacos' resource: [namespace]:group:type/name, public namespace "" */
    p = resource;

    if (!nc_auth_public_namespace(namespace)) {
        p = nc_cpymem(p, namespace->data, namespace->len);
    }

    *p++ = ':';

    if (group->len) {
        p = nc_cpymem(p, group->data, group->len);

    } else {
        *p++ = '*';
    }

    *p++ = ':';
    p = nc_cpymem(p, type, strlen(type));
    *p++ = '/';

    if (name->len) {
        p = nc_cpymem(p, name->data, name->len);

    } else {
        *p++ = '*';
    }

    v = nc_store_enter(nc_store);

    ok = v && nc_auth_permitted(nc_store, v, r->auth_user.data,
                                r->auth_user.len, resource, p - resource,
                                action);

    nc_store_leave(nc_store);

    if (ok) {
        return NC_OK;
    }

    return nc_auth_forbidden(r, NC_HTTP_FORBIDDEN, "authorization failed!");
}


nc_flag_t
nc_auth_public_namespace(const nc_str_t *ns)
{
    return ns->len == 0
           || (ns->len == 6 && nc_strncasecmp(ns->data, (u_char *) "public",
                                              6) == 0)
           || (ns->len == 4 && nc_strncasecmp(ns->data, (u_char *) "null",
                                              4) == 0);
}


/*
 * Nacos' model: a user's roles (ROLE_ADMIN: anything), each role's
 * permissions, a permission a (resource pattern, action) pair whose
 * pattern matches with '*' for any run of characters and whose action
 * ("r", "w", "rw") contains the one asked.
 */
nc_flag_t
nc_auth_permitted(nc_store_t *s, const nc_store_version_t *v,
    const u_char *user, size_t user_len, const u_char *resource,
    size_t resource_len, nc_uint_t action)
{
    size_t                    plen, rlen, klen;
    nc_flag_t                 ok;
    const u_char             *role, *pat, *act, *end;
    nc_store_iter_t          *roles, *perms;
    const nc_store_record_t  *rec, *perm;
    u_char                    prefix[NC_STORE_MAX_KEY_LEN];
    u_char                    role_prefix[NC_STORE_MAX_KEY_LEN];

    if (user_len + sizeof(NC_STORE_AUTH_ROLE) + 1 > sizeof(prefix)) {
        return 0;
    }

    roles = malloc(2 * sizeof(nc_store_iter_t));
    if (roles == NULL) {
        return 0;
    }

    perms = roles + 1;

    plen = sizeof(NC_STORE_AUTH_ROLE) - 1;
    nc_memcpy(prefix, NC_STORE_AUTH_ROLE, plen);
    nc_memcpy(prefix + plen, user, user_len);
    plen += user_len;
    prefix[plen++] = '/';

    nc_store_iter_init(roles, s, v->root, prefix, plen, NULL, 0);

    ok = 0;

    while (!ok && (rec = nc_store_iter_next(roles)) != NULL) {
        role = nc_store_record_key(rec) + plen;
        rlen = rec->key_len - plen;

        if (rlen == sizeof(NC_STORE_AUTH_ADMIN_ROLE) - 1
            && nc_memcmp(role, NC_STORE_AUTH_ADMIN_ROLE, rlen) == 0)
        {
            ok = 1;
            break;
        }

        /* auth/perm/<role>\x1f<pattern>\x1f<action> */
        klen = sizeof(NC_STORE_AUTH_PERM) - 1;

        if (klen + rlen + 1 > sizeof(role_prefix)) {
            continue;
        }

        nc_memcpy(role_prefix, NC_STORE_AUTH_PERM, klen);
        nc_memcpy(role_prefix + klen, role, rlen);
        role_prefix[klen + rlen] = NC_STORE_AUTH_SEP;

        nc_store_iter_init(perms, s, v->root, role_prefix, klen + rlen + 1,
                           NULL, 0);

        while ((perm = nc_store_iter_next(perms)) != NULL) {
            pat = nc_store_record_key(perm) + klen + rlen + 1;
            end = nc_store_record_key(perm) + perm->key_len;

            act = memchr(pat, NC_STORE_AUTH_SEP, end - pat);
            if (act == NULL) {
                continue;
            }

            if (memchr(act + 1, (int) action, end - act - 1) == NULL) {
                continue;
            }

            /* "public:..." names the public namespace, which is "" */
            if (act - pat > 7 && nc_strncasecmp((u_char *) pat,
                                                (u_char *) "public:", 7)
                                 == 0)
            {
                pat += 6;
            }

            if (nc_glob_match(pat, act - pat, resource, resource_len)) {
                ok = 1;
                break;
            }
        }
    }

    free(roles);

    return ok;
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
