
/*
 * nacre: the gateway's proxy.
 *
 * A request on a gateway listener is matched against the route table this
 * worker built from the published store (rebuilt when the routes'
 * revision moves, never per request); the route's upstream is resolved
 * then and there -- a service's instances as the registry lists them in
 * that same version, or the route's nodes -- so an instance registered,
 * deregistered or turned unhealthy takes or loses traffic as soon as this
 * member has applied the change.
 *
 * The request goes to the chosen instance over a kept-alive connection
 * when this worker has one.  A body of at most buffer_size comes read
 * whole; a larger or chunked one is streamed: read from the client a
 * piece at a time as the upstream takes it (re-chunked when it came
 * chunked), on a new connection -- a kept-alive one the upstream closed
 * meanwhile could not be retried once body bytes have left.  A failed connect, a reset or a timeout before the
 * answer began, or a status in retry_on, moves it to another instance,
 * for idempotent methods unless the route allows more, within retries and
 * retry_timeout.  The answer is relayed as it arrives, one buffer_size
 * piece at a time: read a piece, write it, read the next -- never held
 * whole, and a slow client slows the upstream read down instead of
 * filling memory.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_process_cycle.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_naming_list.h>
#include <nc_auth.h>
#include <nc_gateway_route.h>
#include <nc_gateway_shared.h>
#include <nc_gateway.h>

#include <math.h>
#include <arpa/inet.h>
#include <zlib.h>


#define NC_GATEWAY_PEER_BUCKETS   1024      /* a power of 2 */
#define NC_GATEWAY_FREE_BUFS      256       /* relay buffers kept */
#define NC_GATEWAY_PEER_LINGER    60000     /* ms a peer nobody lists is
                                               kept */


typedef struct nc_gateway_peer_s  nc_gateway_peer_t;

/* an upstream address, as this worker knows it */
struct nc_gateway_peer_s {
    nc_gateway_peer_t       *next;           /* in its bucket */
    struct sockaddr_storage  sockaddr;
    socklen_t                socklen;
    nc_str_t                 text;           /* "10.0.0.1:8080" */
    nc_uint_t                active;         /* requests in flight */
    nc_uint_t                refs;           /* requests listing it */
    nc_msec_t                used;           /* last listed */
    nc_gateway_upstream_t   *shared;         /* the node's counters */
    nc_connection_t        **idle;           /* kept alive, newest last */
    nc_uint_t                nidle;
    u_char                   text_buf[NC_SOCKADDR_STRLEN];
};


typedef struct {
    nc_gateway_peer_t       *peer;
    double                   weight;
} nc_gateway_cand_t;


/* a route's smooth weighted round robin: each peer's current weight, in
 * an open-addressed table keyed by the peer */
typedef struct {
    nc_gateway_peer_t       *peer;
    double                   current;
} nc_gateway_rr_t;


typedef struct {
    nc_gateway_rr_t         *slots;
    nc_uint_t                cap;            /* a power of 2 */
    nc_uint_t                used;
} nc_gateway_rr_state_t;


typedef struct {
    nc_http_request_t       *request;
    nc_gateway_table_t      *table;          /* held while the request is */
    nc_gateway_route_t      *route;

    nc_gateway_cand_t       *cands;
    nc_uint_t                ncands;
    nc_uint_t                ncap;
    u_char                  *tried;
    nc_uint_t                attempts;
    nc_msec_t                start;
    uint64_t                 hash;           /* NC_GATEWAY_HASH's key */

    nc_gateway_peer_t       *peer;
    nc_connection_t         *upstream;
    nc_msec_t                attempt_start;
    nc_array_t              *headers;        /* the upstream's */

    /* to the upstream: the head, then the body */
    nc_buf_t                 head;
    struct iovec             iov[4];         /* head, chunk size, data,
                                                chunk end */
    nc_uint_t                niov;
    size_t                   head_left;      /* of iov, not yet written */

    /* a streamed request body (r->body_streamed): the piece framed for
     * the upstream, which stays until written (a retry sends it again) */
    nc_buf_t                 in;             /* read from the client */
    u_char                  *piece;
    size_t                   piece_len;
    off_t                    body_in;        /* decoded bytes taken */
    off_t                    body_out;       /* written after the head,
                                                this attempt */
    nc_event_handler_pt      client_read;    /* the request's, restored */
    u_char                   piece_head[24];

    /* from it */
    nc_buf_t                 buf;
    nc_http_parser_t         parser;
    nc_uint_t                status;
    off_t                    rest;           /* body bytes left, -1: none
                                                said */
    nc_http_chunked_t        chunked;

    /* to the client: what is being written */
    struct iovec             out[4];         /* header, chunk size, data,
                                                chunk end */
    nc_uint_t                nout;
    u_char                   chunk_head[24];

    /* the route gzips the answer: deflated into zbuf a piece at a time */
    z_stream                *zs;
    u_char                  *zbuf;

    unsigned                 connected:1;
    unsigned                 sent:1;          /* request written */
    unsigned                 header_done:1;
    unsigned                 responding:1;    /* client has our header */
    unsigned                 header_pending:1;  /* ... queued, not sent */
    unsigned                 chunked_in:1;
    unsigned                 until_close:1;
    unsigned                 chunk_out:1;
    unsigned                 no_body:1;
    unsigned                 body_done:1;
    unsigned                 keepalive:1;     /* upstream's may be reused */
    unsigned                 reused:1;        /* a kept-alive connection */
    unsigned                 counted:1;       /* peer->active has us */
    unsigned                 upgrade:1;       /* the client asked one */
    unsigned                 up_eof:1;        /* tunnel: upstream done */
    unsigned                 client_eof:1;    /* tunnel: client done */
    unsigned                 streaming:1;     /* the body is read here */
    unsigned                 body_framed:1;   /* all of it, and its end */
    unsigned                 cut:1;           /* the request not sent whole:
                                                 the answer came first */
    unsigned                 zpending:1;      /* deflate has more to give */

    /* a tunnel (101 Switching Protocols): client to upstream bytes */
    nc_buf_t                 up;
} nc_gateway_ctx_t;


static nc_gateway_table_t *nc_gateway_routes(nc_store_t *st,
    const nc_store_version_t *v);
static void nc_gateway_release_table(nc_gateway_table_t *t);
static nc_int_t nc_gateway_too_many(nc_http_request_t *r);
static u_char *nc_gateway_buf_get(void);
static void nc_gateway_buf_put(u_char *p);
static nc_int_t nc_gateway_proxy(nc_http_request_t *r);
static nc_int_t nc_gateway_resolve(nc_gateway_ctx_t *ctx,
    const nc_store_version_t *v);
static nc_int_t nc_gateway_candidate(nc_gateway_ctx_t *ctx,
    const struct sockaddr *sa, socklen_t len, double weight);
static nc_gateway_peer_t *nc_gateway_peer(const struct sockaddr *sa,
    socklen_t len);
static void nc_gateway_unlist(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_choose(nc_gateway_ctx_t *ctx);
static void nc_gateway_hash_key(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_build_request(nc_gateway_ctx_t *ctx);
static void nc_gateway_connect(nc_gateway_ctx_t *ctx);
static void nc_gateway_upstream_write(nc_event_t *ev);
static void nc_gateway_send_request(nc_gateway_ctx_t *ctx);
static void nc_gateway_frame_piece(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_body_next(nc_gateway_ctx_t *ctx);
static void nc_gateway_body_read(nc_event_t *ev);
static void nc_gateway_body_stop(nc_gateway_ctx_t *ctx);
static void nc_gateway_body_failed(nc_gateway_ctx_t *ctx, nc_uint_t status);
static void nc_gateway_upstream_read(nc_event_t *ev);
static nc_int_t nc_gateway_read_header(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_send_header(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_frame(nc_gateway_ctx_t *ctx);
static void nc_gateway_gzip_start(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_deflate(nc_gateway_ctx_t *ctx, u_char **data,
    size_t *take);
static void nc_gateway_relay(nc_gateway_ctx_t *ctx);
static void nc_gateway_client_write_handler(nc_event_t *wev);
static void nc_gateway_stale(nc_gateway_ctx_t *ctx);
static void nc_gateway_tunnel_start(nc_gateway_ctx_t *ctx);
static void nc_gateway_tunnel_client(nc_event_t *ev);
static void nc_gateway_tunnel_upstream(nc_event_t *ev);
static void nc_gateway_tunnel(nc_gateway_ctx_t *ctx);
static nc_int_t nc_gateway_pump(nc_connection_t *from, nc_connection_t *to,
    nc_buf_t *b, nc_flag_t ended, nc_flag_t *moved, off_t *sent);
static void nc_gateway_next(nc_gateway_ctx_t *ctx, nc_uint_t status);
static void nc_gateway_fail(nc_gateway_ctx_t *ctx, nc_uint_t status);
static void nc_gateway_finish(nc_gateway_ctx_t *ctx);
static void nc_gateway_close_upstream(nc_gateway_ctx_t *ctx);
static void nc_gateway_abandon(nc_gateway_ctx_t *ctx);
static void nc_gateway_keep(nc_gateway_peer_t *peer, nc_connection_t *c);
static void nc_gateway_idle_handler(nc_event_t *ev);
static void nc_gateway_unidle(nc_gateway_peer_t *peer, nc_connection_t *c);
static void nc_gateway_cleanup(nc_http_request_t *r);
static nc_flag_t nc_gateway_hop_by_hop(const nc_str_t *name);
static nc_flag_t nc_gateway_can_retry(nc_gateway_ctx_t *ctx);


static nc_conf_gateway_t  *nc_gateway_conf;
static nc_msec_t           nc_gateway_body_timeout;
static nc_log_t           *nc_gateway_log;
static nc_gateway_table_t *nc_gateway_table;     /* the newest */
static nc_gateway_peer_t  *nc_gateway_peers[NC_GATEWAY_PEER_BUCKETS];
static uint64_t            nc_gateway_request_ids;
static u_char             *nc_gateway_free[NC_GATEWAY_FREE_BUFS];
static nc_uint_t           nc_gateway_nfree;


nc_int_t
nc_gateway_init_worker(nc_cycle_t *cycle)
{
    nc_gateway_conf = &cycle->conf->gateway;
    nc_gateway_body_timeout = cycle->conf->api.client_body_timeout;
    nc_gateway_log = &cycle->log;
    nc_gateway_shared_log(nc_gateway_log);

    /* request ids: this worker's pid and the time, then a counter */
    nc_gateway_request_ids = ((uint64_t) getpid() << 40)
                             ^ ((uint64_t) nc_current_msec << 16);

    return NC_OK;
}


nc_flag_t
nc_gateway_streams(nc_http_request_t *r)
{
    return r->headers_in.chunked
           || r->headers_in.content_length_n
              > (off_t) nc_gateway_conf->buffer_size;
}


nc_int_t
nc_gateway_handler(nc_http_request_t *r)
{
    nc_int_t                   rc;
    nc_gateway_ctx_t          *ctx;
    nc_gateway_table_t        *t;
    const nc_store_version_t  *v;

    ctx = nc_pcalloc(r->pool, sizeof(nc_gateway_ctx_t));
    if (ctx == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->start = nc_current_msec;
    r->ctx = ctx;

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_SERVICE_UNAVAILABLE;
    }

    t = nc_gateway_routes(nc_store, v);

    if (t == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->route = nc_gateway_match(t, r);

    if (ctx->route == NULL) {
        nc_store_leave(nc_store);
        return NC_HTTP_NOT_FOUND;
    }

    /* the table outlives a rebuild while this request uses its route */
    ctx->table = t;
    t->refs++;
    r->cleanup = nc_gateway_cleanup;
    r->gateway_route = ctx->route->id;

    /* the route's rate, on this node: its workers share one bucket */
    if (ctx->route->rate > 0
        && !nc_gateway_shared_take(ctx->route->id.data, ctx->route->id.len,
                                   ctx->route->rate, ctx->route->burst))
    {
        nc_store_leave(nc_store);
        return nc_gateway_too_many(r);
    }

    rc = nc_gateway_resolve(ctx, v);

    nc_store_leave(nc_store);

    if (rc != NC_OK) {
        return rc;
    }

    if (ctx->route->token) {
        /* the route asks for a nacre token: any user's */
        r->handler = nc_gateway_proxy;
        rc = nc_auth_check(r, NC_AUTH_USER);

        if (rc == NC_AGAIN) {
            return NC_DONE;             /* nc_http_auth_done() follows */
        }

        if (rc != NC_OK) {
            return rc == NC_DECLINED ? NC_OK : rc;
        }
    }

    return nc_gateway_proxy(r);
}


/*
 * The relay buffers, buffer_size each: kept by the worker between
 * requests (a pool would malloc and free one per request: it is larger
 * than what pools serve from their blocks).
 */
static u_char *
nc_gateway_buf_get(void)
{
    if (nc_gateway_nfree) {
        return nc_gateway_free[--nc_gateway_nfree];
    }

    return malloc(nc_gateway_conf->buffer_size);
}


static void
nc_gateway_buf_put(u_char *p)
{
    if (p == NULL) {
        return;
    }

    if (nc_gateway_nfree < NC_GATEWAY_FREE_BUFS) {
        nc_gateway_free[nc_gateway_nfree++] = p;
        return;
    }

    free(p);
}


/* 429, and when to come back: a token is back within a second at any
 * rate of at least one a second */
static nc_int_t
nc_gateway_too_many(nc_http_request_t *r)
{
    nc_str_t  v;

    nc_str_set(&v, "1");

    if (nc_http_set_response(r, NC_HTTP_TOO_MANY_REQUESTS,
                             "text/plain; charset=utf-8",
                             (u_char *) "429 Too Many Requests\n", 22)
        != NC_OK
        || nc_http_add_header(r, "Retry-After", &v) != NC_OK)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NC_OK;
}


/* the route table of version v: this worker's, built anew when the
 * routes' revision moved */
static nc_gateway_table_t *
nc_gateway_routes(nc_store_t *st, const nc_store_version_t *v)
{
    uint64_t             rev;
    nc_gateway_table_t  *t;

    rev = nc_gateway_routes_revision(st, v);

    if (nc_gateway_table && nc_gateway_table->revision == rev) {
        return nc_gateway_table;
    }

    t = nc_gateway_table_build(st, v, &nc_gateway_conf->routes,
                               nc_gateway_log);
    if (t == NULL) {
        return NULL;
    }

    t->refs = 1;                         /* the worker's own */

    if (nc_gateway_table) {
        nc_gateway_release_table(nc_gateway_table);
    }

    nc_gateway_table = t;

    return t;
}


static void
nc_gateway_release_table(nc_gateway_table_t *t)
{
    if (--t->refs == 0) {
        nc_gateway_table_free(t);
    }
}


/* --- the upstream's instances --------------------------------------------- */


/*
 * The candidates: a service's enabled instances with weight > 0, healthy
 * ones only unless the protect threshold is reached (then all of them, as
 * Nacos lists them), in the clusters asked; or the route's nodes.  404 when
 * the service is not registered, 503 when nobody can take the request.
 */
static nc_int_t
nc_gateway_resolve(nc_gateway_ctx_t *ctx, const nc_store_version_t *v)
{
    size_t                            plen, klen;
    nc_uint_t                         i, enabled, healthy;
    nc_flag_t                         protect;
    nc_store_iter_t                   it;
    nc_gateway_route_t               *rt;
    nc_store_naming_name_t            n, in;
    struct sockaddr_in6               sin6;
    struct sockaddr_in                sin;
    const nc_store_record_t          *svc, *rec;
    const nc_store_naming_service_t  *sh;
    const nc_store_naming_instance_t *ih;
    u_char                            key[NC_STORE_MAX_KEY_LEN];
    char                              ip[64];

    rt = ctx->route;

    ctx->ncap = nc_max(rt->nnodes, 16);
    ctx->cands = nc_palloc(ctx->request->pool,
                           ctx->ncap * sizeof(nc_gateway_cand_t));
    if (ctx->cands == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rt->service.len == 0) {
        for (i = 0; i < rt->nnodes; i++) {
            if (rt->nodes[i].weight
                && nc_gateway_candidate(ctx,
                                        (struct sockaddr *)
                                            &rt->nodes[i].sockaddr,
                                        rt->nodes[i].socklen,
                                        (double) rt->nodes[i].weight)
                   != NC_OK)
            {
                return NC_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        goto done;
    }

    nc_memzero(&n, sizeof(n));
    n.ns = rt->ns;
    n.group = rt->group;
    n.service = rt->service;

    klen = nc_store_naming_service_key(key, sizeof(key), &n);
    svc = klen ? nc_store_get(nc_store, v, key, klen) : NULL;

    if (svc == NULL || svc->value_len < sizeof(nc_store_naming_service_t)) {
        return NC_HTTP_SERVICE_UNAVAILABLE;
    }

    sh = nc_store_naming_service(svc);
    plen = nc_store_naming_instance_key(key, sizeof(key), &n);

    /* twice over the instances: the protect threshold needs the counts */
    for (protect = 0; ; protect = 1) {
        enabled = 0;
        healthy = 0;

        nc_store_iter_init(&it, nc_store, v->root, key, plen, NULL, 0);

        while ((rec = nc_store_iter_next(&it)) != NULL) {
            if (!(rec->flags & NC_STORE_NAMING_ENABLED)
                || rec->value_len < sizeof(nc_store_naming_instance_t)
                || nc_store_naming_parse_instance(nc_store_record_key(rec),
                                                  rec->key_len, &in)
                   != NC_OK
                || (rt->clusters.len
                    && !nc_naming_in_list(&rt->clusters, in.cluster.data,
                                          in.cluster.len)))
            {
                continue;
            }

            enabled++;

            if (!(rec->flags & NC_STORE_NAMING_HEALTHY)) {
                if (!protect) {
                    continue;
                }

            } else {
                healthy++;
            }

            ih = nc_store_naming_instance(rec);

            if (!(ih->weight > 0) || in.ip.len >= sizeof(ip)) {
                continue;
            }

            nc_memcpy(ip, in.ip.data, in.ip.len);
            ip[in.ip.len] = '\0';

            nc_memzero(&sin, sizeof(sin));
            nc_memzero(&sin6, sizeof(sin6));

            if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
                sin.sin_family = AF_INET;
                sin.sin_port = htons((uint16_t) in.port);

                if (nc_gateway_candidate(ctx, (struct sockaddr *) &sin,
                                         sizeof(sin), ih->weight)
                    != NC_OK)
                {
                    return NC_HTTP_INTERNAL_SERVER_ERROR;
                }

            } else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
                sin6.sin6_family = AF_INET6;
                sin6.sin6_port = htons((uint16_t) in.port);

                if (nc_gateway_candidate(ctx, (struct sockaddr *) &sin6,
                                         sizeof(sin6), ih->weight)
                    != NC_OK)
                {
                    return NC_HTTP_INTERNAL_SERVER_ERROR;
                }
            }
        }

        /* Nacos 2.x: the threshold guards services made by the API */
        if (protect
            || !((sh->flags & NC_STORE_NAMING_S_EXPLICIT) && enabled
                 && (double) healthy / (double) enabled
                    <= sh->protect_threshold))
        {
            break;
        }

        nc_gateway_unlist(ctx);          /* again, the unhealthy too */
    }

done:

    if (ctx->ncands == 0) {
        return NC_HTTP_SERVICE_UNAVAILABLE;
    }

    ctx->tried = nc_pcalloc(ctx->request->pool, ctx->ncands);

    return ctx->tried ? NC_OK : NC_HTTP_INTERNAL_SERVER_ERROR;
}


static nc_int_t
nc_gateway_candidate(nc_gateway_ctx_t *ctx, const struct sockaddr *sa,
    socklen_t len, double weight)
{
    nc_gateway_cand_t  *grown;
    nc_gateway_peer_t  *peer;

    peer = nc_gateway_peer(sa, len);
    if (peer == NULL) {
        return NC_ERROR;
    }

    if (ctx->ncands == ctx->ncap) {
        grown = nc_palloc(ctx->request->pool,
                          2 * ctx->ncap * sizeof(nc_gateway_cand_t));
        if (grown == NULL) {
            return NC_ERROR;
        }

        nc_memcpy(grown, ctx->cands, ctx->ncands * sizeof(nc_gateway_cand_t));
        ctx->cands = grown;
        ctx->ncap *= 2;
    }

    ctx->cands[ctx->ncands].peer = peer;
    ctx->cands[ctx->ncands].weight = weight;
    ctx->ncands++;

    /* listed: not swept while this request may still choose it */
    peer->refs++;
    peer->used = nc_current_msec;

    return NC_OK;
}


/* the candidates are no more: their peers may be swept in time */
static void
nc_gateway_unlist(nc_gateway_ctx_t *ctx)
{
    nc_uint_t  i;

    for (i = 0; i < ctx->ncands; i++) {
        ctx->cands[i].peer->refs--;
        ctx->cands[i].peer->used = nc_current_msec;
    }

    ctx->ncands = 0;
}


/* the worker's record of an address, made on first sight */
static nc_gateway_peer_t *
nc_gateway_peer(const struct sockaddr *sa, socklen_t len)
{
    uint64_t            h;
    nc_gateway_peer_t  *p, **b, **pp;

    h = nc_store_key_hash((const u_char *) sa, len);
    b = &nc_gateway_peers[h & (NC_GATEWAY_PEER_BUCKETS - 1)];

    for (p = *b; p; p = p->next) {
        if (p->socklen == len && nc_memcmp(&p->sockaddr, sa, len) == 0) {
            return p;
        }
    }

    /*
     * A new address: instances come and go (a rollout brings new ones),
     * so the bucket's peers nobody has listed for a while, with nothing
     * in flight or kept, go first -- the table stays the size of what is
     * in use.
     */
    for (pp = b; (p = *pp) != NULL; /* void */) {
        if (p->refs == 0 && p->active == 0 && p->nidle == 0
            && nc_current_msec - p->used > NC_GATEWAY_PEER_LINGER)
        {
            *pp = p->next;
            free(p->idle);
            free(p);
            continue;
        }

        pp = &p->next;
    }

    p = calloc(1, sizeof(nc_gateway_peer_t));
    if (p == NULL) {
        return NULL;
    }

    p->idle = calloc(nc_max(nc_gateway_conf->upstream_keepalive, 1),
                     sizeof(nc_connection_t *));
    if (p->idle == NULL) {
        free(p);
        return NULL;
    }

    nc_memcpy(&p->sockaddr, sa, len);
    p->socklen = len;
    p->shared = nc_gateway_shared_upstream(sa, len);
    p->text.data = p->text_buf;
    p->text.len = nc_sock_ntop(sa, p->text_buf, sizeof(p->text_buf), 1);

    p->next = *b;
    *b = p;

    return p;
}



/* --- choosing an instance --------------------------------------------------- */


/* splitmix64's finalizer: every bit in moves every bit out */
static uint64_t
nc_gateway_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;

    return x;
}


static void
nc_gateway_rr_free(void *data)
{
    nc_gateway_rr_state_t  *st;

    st = data;
    free(st->slots);
}


/* the route's round-robin state of a peer, made on first sight */
static nc_gateway_rr_t *
nc_gateway_rr(nc_gateway_route_t *rt, nc_pool_t *pool,
    nc_gateway_peer_t *peer, nc_uint_t ncands)
{
    uint64_t                h;
    nc_uint_t               i, cap, mask;
    nc_gateway_rr_t        *slots;
    nc_pool_cleanup_t      *cln;
    nc_gateway_rr_state_t  *st;

    st = rt->balancer;

    if (st == NULL) {
        st = nc_pcalloc(pool, sizeof(nc_gateway_rr_state_t));
        cln = nc_pool_cleanup_add(pool, 0);

        if (st == NULL || cln == NULL) {
            return NULL;
        }

        cln->handler = nc_gateway_rr_free;
        cln->data = st;
        rt->balancer = st;
    }

    /* peers long gone pile up as instances come and go: start over */
    if (st->used > 4 * ncands + 64) {
        nc_memzero(st->slots, st->cap * sizeof(nc_gateway_rr_t));
        st->used = 0;
    }

    if (2 * (st->used + 1) > st->cap) {
        cap = st->cap ? 2 * st->cap : 64;

        slots = calloc(cap, sizeof(nc_gateway_rr_t));
        if (slots == NULL) {
            return NULL;
        }

        for (i = 0; i < st->cap; i++) {
            if (st->slots[i].peer == NULL) {
                continue;
            }

            h = nc_gateway_mix((uintptr_t) st->slots[i].peer) & (cap - 1);

            while (slots[h].peer) {
                h = (h + 1) & (cap - 1);
            }

            slots[h] = st->slots[i];
        }

        free(st->slots);
        st->slots = slots;
        st->cap = cap;
    }

    mask = st->cap - 1;
    h = nc_gateway_mix((uintptr_t) peer) & mask;

    while (st->slots[h].peer && st->slots[h].peer != peer) {
        h = (h + 1) & mask;
    }

    if (st->slots[h].peer == NULL) {
        st->slots[h].peer = peer;
        st->slots[h].current = 0;
        st->used++;
    }

    return &st->slots[h];
}


/*
 * The next instance to try: among those not tried yet and not ejected
 * (all of them when every one is ejected), by the route's balancer.
 * NC_OK with ctx->peer set, or NC_DECLINED when none is left.
 */
static nc_int_t
nc_gateway_choose(nc_gateway_ctx_t *ctx)
{
    double               total, score, best_score, u;
    uint64_t             h;
    nc_uint_t            i, k, n, a, b, pass;
    nc_gateway_rr_t     *rr, *best_rr;
    nc_gateway_cand_t   *c;
    nc_gateway_route_t  *rt;
    nc_uint_t            eligible[64], *pick;

    rt = ctx->route;
    pick = ctx->ncands <= 64 ? eligible
           : nc_palloc(ctx->request->pool, ctx->ncands * sizeof(nc_uint_t));
    if (pick == NULL) {
        return NC_DECLINED;
    }

    n = 0;

    for (pass = 0; pass < 2 && n == 0; pass++) {
        for (i = 0; i < ctx->ncands; i++) {
            if (ctx->tried[i]
                || (pass == 0
                    && nc_gateway_shared_ejected(
                           (u_char *) &ctx->cands[i].peer->sockaddr,
                           ctx->cands[i].peer->socklen)))
            {
                continue;
            }

            pick[n++] = i;
        }
    }

    if (n == 0) {
        return NC_DECLINED;
    }

    k = pick[0];

    switch (rt->balance) {

    case NC_GATEWAY_LEAST_CONN:
        /* the fewest requests in flight for its weight; ties in turn */
        best_score = HUGE_VAL;
        a = (nc_uint_t) (nc_gateway_request_ids % n);

        for (i = 0; i < n; i++) {
            c = &ctx->cands[pick[(a + i) % n]];
            score = (c->peer->active + 1) / c->weight;

            if (score < best_score) {
                best_score = score;
                k = pick[(a + i) % n];
            }
        }

        break;

    case NC_GATEWAY_TWO_CHOICES:
        /* two at random, the less loaded of them */
        h = nc_gateway_mix(nc_gateway_request_ids);
        a = pick[h % n];
        b = pick[(h >> 32) % n];
        k = (ctx->cands[a].peer->active + 1) / ctx->cands[a].weight
            <= (ctx->cands[b].peer->active + 1) / ctx->cands[b].weight
            ? a : b;
        break;

    case NC_GATEWAY_HASH:
        /*
         * Rendezvous hashing: each instance scores the key, the highest
         * wins; one instance more or less moves only the keys it wins or
         * won.  Weighted as -w / ln(u), u the score in (0, 1).
         */
        best_score = -HUGE_VAL;

        for (i = 0; i < n; i++) {
            c = &ctx->cands[pick[i]];
            h = nc_gateway_mix(ctx->hash
                               ^ nc_store_key_hash(c->peer->text.data,
                                                   c->peer->text.len));
            u = ((double) (h >> 11) + 0.5) / 9007199254740992.0;
            score = -c->weight / log(u);

            if (score > best_score) {
                best_score = score;
                k = pick[i];
            }
        }

        break;

    default:
        /*
         * Smooth weighted round robin (nginx's): each turn every one
         * gains its weight, the highest is chosen and pays the total;
         * weights 5,1,1 go a a b a c a a, never a burst.
         */
        total = 0;
        best_rr = NULL;

        for (i = 0; i < n; i++) {
            c = &ctx->cands[pick[i]];
            rr = nc_gateway_rr(rt, ctx->table->pool, c->peer, ctx->ncands);
            if (rr == NULL) {
                break;
            }

            rr->current += c->weight;
            total += c->weight;

            if (best_rr == NULL || rr->current > best_rr->current) {
                best_rr = rr;
                k = pick[i];
            }
        }

        if (best_rr) {
            best_rr->current -= total;
        }

        break;
    }

    nc_gateway_request_ids++;

    ctx->tried[k] = 1;
    ctx->peer = ctx->cands[k].peer;

    return NC_OK;
}


/* the key NC_GATEWAY_HASH spreads by: the client's address, a header or
 * a cookie (a request without it goes by its address) */
static void
nc_gateway_hash_key(nc_gateway_ctx_t *ctx)
{
    u_char              *p, *end, *v;
    nc_str_t             key;
    nc_http_header_t    *h;
    nc_connection_t     *c;
    nc_http_request_t   *r;
    nc_gateway_route_t  *rt;

    r = ctx->request;
    c = r->connection;
    rt = ctx->route;

    key = c->addr_text;

    /* the address without the port: one client, one instance */
    p = memrchr(key.data, ':', key.len);
    if (p && (key.data[0] != '[' || p[-1] == ']')) {
        key.len = p - key.data;
    }

    if (rt->hash_on == NC_GATEWAY_HASH_HEADER) {
        h = nc_http_find_header(r, (char *) rt->hash_key.data);
        if (h) {
            key = h->value;
        }

    } else if (rt->hash_on == NC_GATEWAY_HASH_COOKIE) {
        h = nc_http_find_header(r, "Cookie");
        p = h ? h->value.data : NULL;
        end = h ? h->value.data + h->value.len : NULL;

        /* "a=1; b=2": the value of the cookie named hash_key */
        while (p && p < end) {
            while (p < end && (*p == ' ' || *p == ';')) {
                p++;
            }

            v = memchr(p, '=', end - p);
            if (v == NULL) {
                break;
            }

            if ((size_t) (v - p) == rt->hash_key.len
                && nc_memcmp(p, rt->hash_key.data, rt->hash_key.len) == 0)
            {
                key.data = v + 1;
                p = memchr(v + 1, ';', end - v - 1);
                key.len = (p ? p : end) - key.data;
                break;
            }

            p = memchr(v, ';', end - v);
        }
    }

    ctx->hash = nc_store_key_hash(key.data, key.len);
}


/* --- the request to the upstream -------------------------------------------- */


static nc_int_t
nc_gateway_proxy(nc_http_request_t *r)
{
    nc_gateway_ctx_t  *ctx;

    ctx = r->ctx;

    if (ctx->route->balance == NC_GATEWAY_HASH) {
        nc_gateway_hash_key(ctx);
    }

    if (nc_gateway_build_request(ctx) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->buf.start = nc_gateway_buf_get();
    if (ctx->buf.start == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->buf.end = ctx->buf.start + nc_gateway_conf->buffer_size;

    if (r->body_streamed) {
        ctx->in.start = nc_gateway_buf_get();
        if (ctx->in.start == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->in.pos = ctx->in.start;
        ctx->in.last = ctx->in.start;
        ctx->in.end = ctx->in.start + nc_gateway_conf->buffer_size;
        ctx->streaming = 1;
        ctx->client_read = r->read_event_handler;
    }

    if (nc_gateway_choose(ctx) != NC_OK) {
        return NC_HTTP_SERVICE_UNAVAILABLE;
    }

    nc_gateway_connect(ctx);

    return NC_DONE;
}


/* the header is ours to send, not the client's: hop-by-hop fields stay
 * behind (RFC 9110 7.6.1), and so does what the gateway sets itself
 * (Expect: the client had its 100 Continue from us) */
static nc_flag_t
nc_gateway_hop_by_hop(const nc_str_t *name)
{
    nc_uint_t  i;

    static const nc_str_t  names[] = {
        nc_string("Connection"), nc_string("Keep-Alive"),
        nc_string("Proxy-Connection"), nc_string("Proxy-Authorization"),
        nc_string("TE"), nc_string("Trailer"),
        nc_string("Transfer-Encoding"), nc_string("Upgrade"),
        nc_string("Content-Length"), nc_string("Host"),
        nc_string("X-Forwarded-For"), nc_string("X-Forwarded-Proto"),
        nc_string("X-Forwarded-Host"), nc_string("Expect")
    };

    for (i = 0; i < nc_nelems(names); i++) {
        if (nc_str_casecmp(name, &names[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/* is name among the route's removed or set names */
static nc_flag_t
nc_gateway_header_ruled(const nc_gateway_headers_t *hs, const nc_str_t *name)
{
    nc_uint_t  i;

    for (i = 0; i < hs->nremove; i++) {
        if (nc_str_casecmp(name, &hs->remove[i]) == 0) {
            return 1;
        }
    }

    for (i = 0; i < hs->nset; i++) {
        if (nc_str_casecmp(name, &hs->set[i].name) == 0) {
            return 1;
        }
    }

    return 0;
}


static nc_int_t
nc_gateway_put(nc_gateway_ctx_t *ctx, const void *p, size_t len)
{
    return nc_buf_append(ctx->request->pool, &ctx->head, p, len);
}


static nc_int_t
nc_gateway_put_header(nc_gateway_ctx_t *ctx, const nc_str_t *name,
    const nc_str_t *value)
{
    if (nc_gateway_put(ctx, name->data, name->len) != NC_OK
        || nc_gateway_put(ctx, ": ", 2) != NC_OK
        || nc_gateway_put(ctx, value->data, value->len) != NC_OK
        || nc_gateway_put(ctx, "\r\n", 2) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/*
 * The path the upstream sees: the route's prefix stripped, or its
 * rewrite applied (PCRE2's $n substitution), else the client's target as
 * it was sent; the query follows unchanged.
 */
static nc_int_t
nc_gateway_target(nc_gateway_ctx_t *ctx, nc_str_t *target)
{
    int                  rc;
    PCRE2_SIZE           len;
    nc_str_t             path;
    nc_http_request_t   *r;
    nc_gateway_route_t  *rt;
    u_char              *out;

    r = ctx->request;
    rt = ctx->route;

    if (!rt->strip_prefix && rt->rewrite_re == NULL) {
        *target = r->uri;
        return NC_OK;
    }

    path = r->path;

    if (rt->strip_prefix) {
        path.data += rt->path.len;
        path.len -= rt->path.len;

        /* "/api/" stripped from "/api/x" leaves "x": the root stays */
        if (path.len == 0 || path.data[0] != '/') {
            path.data--;
            path.len++;
            path.data[0] = '/';
        }
    }

    if (rt->rewrite_re) {
        len = path.len + rt->rewrite_to.len + 256;

        for ( ;; ) {
            out = nc_pnalloc(r->pool, len);
            if (out == NULL) {
                return NC_ERROR;
            }

            rc = pcre2_substitute(rt->rewrite_re, path.data, path.len, 0,
                                  PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, NULL,
                                  NULL, rt->rewrite_to.data,
                                  rt->rewrite_to.len, out, &len);

            if (rc != PCRE2_ERROR_NOMEMORY) {
                break;
            }
        }

        if (rc < 0) {
            return NC_ERROR;
        }

        if (rc > 0) {
            path.data = out;
            path.len = len;
        }
    }

    target->len = path.len + (r->args.len ? 1 + r->args.len : 0);
    target->data = nc_pnalloc(r->pool, target->len);
    if (target->data == NULL) {
        return NC_ERROR;
    }

    out = nc_cpymem(target->data, path.data, path.len);

    if (r->args.len) {
        *out++ = '?';
        nc_memcpy(out, r->args.data, r->args.len);
    }

    return NC_OK;
}


static nc_int_t
nc_gateway_build_request(nc_gateway_ctx_t *ctx)
{
    u_char               *p;
    size_t                body;
    nc_str_t              target, v, host, name;
    nc_uint_t             i;
    nc_flag_t             has_id;
    nc_http_header_t     *h, *xff;
    nc_connection_t      *c;
    nc_http_request_t    *r;
    nc_gateway_route_t   *rt;
    u_char                id[32], addr[NC_SOCKADDR_STRLEN + 64];

    r = ctx->request;
    c = r->connection;
    rt = ctx->route;

    if (nc_gateway_target(ctx, &target) != NC_OK) {
        return NC_ERROR;
    }

    if (nc_gateway_put(ctx, r->method_name.data, r->method_name.len) != NC_OK
        || nc_gateway_put(ctx, " ", 1) != NC_OK
        || nc_gateway_put(ctx, target.data, target.len) != NC_OK
        || nc_gateway_put(ctx, " HTTP/1.1\r\n", 11) != NC_OK)
    {
        return NC_ERROR;
    }

    /* the client's Host goes on: the upstream serves the name asked */
    host = r->headers_in.host;
    nc_str_set(&name, "Host");

    if (host.len && nc_gateway_put_header(ctx, &name, &host) != NC_OK) {
        return NC_ERROR;
    }

    has_id = 0;
    xff = NULL;
    h = r->headers_in.headers.elts;

    /* an Upgrade (WebSocket) asked for goes on: hop-by-hop, yet the
     * upstream must see it to switch */
    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].name.len == 7
            && nc_strncasecmp(h[i].name.data, (u_char *) "Upgrade", 7) == 0
            && r->http_version >= 1001 && h[i].value.len)
        {
            nc_str_set(&name, "Upgrade");

            if (nc_gateway_put_header(ctx, &name, &h[i].value) != NC_OK
                || nc_gateway_put(ctx, "Connection: upgrade\r\n", 21)
                   != NC_OK)
            {
                return NC_ERROR;
            }

            ctx->upgrade = 1;
            break;
        }
    }

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].name.len == 15
            && nc_strncasecmp(h[i].name.data, (u_char *) "X-Forwarded-For",
                              15) == 0)
        {
            xff = &h[i];
            continue;
        }

        if (nc_gateway_hop_by_hop(&h[i].name)
            || nc_gateway_header_ruled(&rt->request_headers, &h[i].name))
        {
            continue;
        }

        if (h[i].name.len == 12
            && nc_strncasecmp(h[i].name.data, (u_char *) "X-Request-Id", 12)
               == 0)
        {
            has_id = 1;
        }

        if (nc_gateway_put_header(ctx, &h[i].name, &h[i].value) != NC_OK) {
            return NC_ERROR;
        }
    }

    for (i = 0; i < rt->request_headers.nset; i++) {
        if (nc_gateway_put_header(ctx, &rt->request_headers.set[i].name,
                                  &rt->request_headers.set[i].value)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    for (i = 0; i < rt->request_headers.nadd; i++) {
        if (nc_gateway_put_header(ctx, &rt->request_headers.add[i].name,
                                  &rt->request_headers.add[i].value)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    /* X-Forwarded-*: who asked, how, for which name */
    v.data = addr;
    p = addr;

    if (xff && xff->value.len) {
        if (nc_gateway_put(ctx, "X-Forwarded-For: ", 17) != NC_OK
            || nc_gateway_put(ctx, xff->value.data, xff->value.len) != NC_OK
            || nc_gateway_put(ctx, ", ", 2) != NC_OK)
        {
            return NC_ERROR;
        }

    } else if (nc_gateway_put(ctx, "X-Forwarded-For: ", 17) != NC_OK) {
        return NC_ERROR;
    }

    /* the address without its port */
    v = c->addr_text;
    p = memrchr(v.data, ':', v.len);
    if (p && (v.data[0] != '[' || p[-1] == ']')) {
        v.len = p - v.data;
    }

    if (v.len > 1 && v.data[0] == '[') {
        v.data++;
        v.len -= 2;
    }

    if (nc_gateway_put(ctx, v.data, v.len) != NC_OK
        || nc_gateway_put(ctx, "\r\nX-Forwarded-Proto: ", 21) != NC_OK
        || nc_gateway_put(ctx, c->ssl ? "https" : "http", c->ssl ? 5 : 4)
           != NC_OK
        || nc_gateway_put(ctx, "\r\n", 2) != NC_OK)
    {
        return NC_ERROR;
    }

    if (host.len) {
        nc_str_set(&name, "X-Forwarded-Host");

        if (nc_gateway_put_header(ctx, &name, &host) != NC_OK) {
            return NC_ERROR;
        }
    }

    if (!has_id) {
        /* unique enough to follow one request through the logs */
        v.data = id;
        v.len = snprintf((char *) id, sizeof(id), "%016" PRIx64,
                         nc_gateway_mix(++nc_gateway_request_ids));
        nc_str_set(&name, "X-Request-Id");

        if (nc_gateway_put_header(ctx, &name, &v) != NC_OK) {
            return NC_ERROR;
        }
    }

    if (r->body_streamed && r->headers_in.chunked) {
        if (nc_gateway_put(ctx, "Transfer-Encoding: chunked\r\n", 28)
            != NC_OK)
        {
            return NC_ERROR;
        }

    } else if (r->body_streamed || nc_buf_size(&r->body)
               || r->headers_in.content_length_n == 0
               || r->headers_in.chunked)
    {
        body = r->body_streamed ? (size_t) r->headers_in.content_length_n
                                : nc_buf_size(&r->body);
        p = addr;
        p += snprintf((char *) p, sizeof(addr), "Content-Length: %zu\r\n",
                      body);

        if (nc_gateway_put(ctx, addr, p - addr) != NC_OK) {
            return NC_ERROR;
        }
    }

    if (nc_gateway_put(ctx, "\r\n", 2) != NC_OK) {
        return NC_ERROR;
    }

    return NC_OK;
}


/* --- the upstream connection -------------------------------------------------- */


static void
nc_gateway_connect(nc_gateway_ctx_t *ctx)
{
    int                 fd;
    nc_connection_t    *c;
    nc_gateway_peer_t  *peer;

    peer = ctx->peer;

    ctx->attempts++;
    ctx->attempt_start = nc_current_msec;
    ctx->connected = 0;
    ctx->sent = 0;
    ctx->header_done = 0;
    ctx->keepalive = 0;
    ctx->reused = 0;
    ctx->buf.pos = ctx->buf.start;
    ctx->buf.last = ctx->buf.start;

    ctx->iov[0].iov_base = ctx->head.pos;
    ctx->iov[0].iov_len = nc_buf_size(&ctx->head);
    ctx->head_left = ctx->iov[0].iov_len;
    ctx->niov = 1;
    ctx->body_out = 0;

    if (ctx->streaming) {
        /* the piece framed before, if any: nothing of it has left */
        nc_gateway_frame_piece(ctx);

    } else if (nc_buf_size(&ctx->request->body)) {
        ctx->iov[1].iov_base = ctx->request->body.pos;
        ctx->iov[1].iov_len = nc_buf_size(&ctx->request->body);
        ctx->niov = 2;
    }

    ctx->request->gateway_upstream = peer->text;
    peer->active++;
    ctx->counted = 1;

    /* a kept-alive connection first: the newest, least likely closed */
    if (peer->nidle && !ctx->streaming) {
        c = peer->idle[--peer->nidle];
        nc_connection_set_idle(c, 0);
        nc_del_timer(c->read);

        ctx->upstream = c;
        ctx->connected = 1;
        ctx->reused = 1;

        c->data = ctx;
        c->read->handler = nc_gateway_upstream_read;
        c->write->handler = nc_gateway_upstream_write;

        nc_gateway_upstream_write(c->write);
        return;
    }

    fd = socket(peer->sockaddr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, errno, "gateway: socket() "
                     "failed");
        nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
        return;
    }

    if (connect(fd, (struct sockaddr *) &peer->sockaddr, peer->socklen) == -1
        && errno != EINPROGRESS)
    {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, errno, "gateway: connect() "
                     "to %.*s failed", nc_str_fmt(&peer->text));
        (void) close(fd);
        nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
        return;
    }

    c = nc_get_connection(fd, nc_gateway_log);
    if (c == NULL) {
        (void) close(fd);
        nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
        return;
    }

    c->recv = nc_unix_recv;
    c->send = nc_unix_send;
    c->writev = nc_unix_writev;
    c->data = ctx;
    c->read->handler = nc_gateway_upstream_read;
    c->write->handler = nc_gateway_upstream_write;
    c->addr_text = peer->text;

    ctx->upstream = c;

    if (nc_event_add_conn(c) != NC_OK) {
        nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
        return;
    }

    nc_add_timer(c->write, ctx->route->connect_timeout);
}


static void
nc_gateway_upstream_write(nc_event_t *ev)
{
    int                 err;
    socklen_t           len;
    nc_connection_t    *c;
    nc_gateway_ctx_t   *ctx;

    c = ev->data;
    ctx = c->data;

    if (ctx->sent) {
        return;
    }

    if (ev->timedout) {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %s %.*s timed "
                     "out", ctx->connected ? "sending to" : "connecting to",
                     nc_str_fmt(&ctx->peer->text));
        nc_gateway_next(ctx, NC_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (!ctx->connected) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }

        if (err) {
            nc_log_error(NC_LOG_ERR, nc_gateway_log, err, "gateway: "
                         "connecting to %.*s failed",
                         nc_str_fmt(&ctx->peer->text));
            nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
            return;
        }

        ctx->connected = 1;
    }

    nc_gateway_send_request(ctx);
}


/*
 * Write what is framed; a streamed body's next piece once it is out,
 * until the body's end is written.  Driven by the upstream's write events
 * and, while streaming, by the client's read events.
 */
static void
nc_gateway_send_request(nc_gateway_ctx_t *ctx)
{
    size_t              left;
    ssize_t             n;
    nc_uint_t           i;
    nc_connection_t    *c;

    c = ctx->upstream;

    for ( ;; ) {
        while (ctx->niov) {
            n = c->writev(c, ctx->iov, (int) ctx->niov);

            if (n == NC_AGAIN) {
                nc_add_timer(c->write, ctx->route->send_timeout);
                return;
            }

            if (n == NC_ERROR) {
                if (ctx->reused) {
                    nc_gateway_stale(ctx);
                    return;
                }

                nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
                return;
            }

            left = nc_min((size_t) n, ctx->head_left);
            ctx->head_left -= left;
            ctx->body_out += n - left;

            for (i = 0; i < ctx->niov && n > 0; i++) {
                left = nc_min((size_t) n, ctx->iov[i].iov_len);
                ctx->iov[i].iov_base = (u_char *) ctx->iov[i].iov_base + left;
                ctx->iov[i].iov_len -= left;
                n -= left;
            }

            for (i = 0; i < ctx->niov && ctx->iov[i].iov_len == 0; i++) {
                /* void */
            }

            ctx->niov -= i;
            nc_memmove(ctx->iov, ctx->iov + i, ctx->niov * sizeof(ctx->iov[0]));
        }

        if (!ctx->streaming || ctx->body_framed) {
            break;
        }

        /* the piece is out: the next one */
        ctx->piece_len = 0;

        if (nc_gateway_body_next(ctx) != NC_OK) {
            return;                      /* the client is slower, or gone */
        }

        nc_gateway_frame_piece(ctx);
    }

    if (ctx->streaming) {
        nc_gateway_body_stop(ctx);
    }

    ctx->sent = 1;
    nc_del_timer(c->write);
    nc_add_timer(c->read, ctx->route->read_timeout);

    if (c->read->ready) {
        nc_gateway_upstream_read(c->read);
    }
}


/* the iovs of the piece taken (none before the first), after the head */
static void
nc_gateway_frame_piece(nc_gateway_ctx_t *ctx)
{
    size_t         len;
    struct iovec  *iov;

    iov = &ctx->iov[ctx->niov];

    if (!ctx->request->headers_in.chunked) {
        if (ctx->piece_len) {
            iov->iov_base = ctx->piece;
            iov->iov_len = ctx->piece_len;
            ctx->niov++;
        }

        return;
    }

    if (ctx->piece_len) {
        len = snprintf((char *) ctx->piece_head, sizeof(ctx->piece_head),
                       "%zx\r\n", ctx->piece_len);
        iov[0].iov_base = ctx->piece_head;
        iov[0].iov_len = len;
        iov[1].iov_base = ctx->piece;
        iov[1].iov_len = ctx->piece_len;
        iov[2].iov_base = (void *) "\r\n";
        iov[2].iov_len = 2;
        ctx->niov += 3;

    } else if (ctx->body_framed) {
        iov->iov_base = (void *) "0\r\n\r\n";
        iov->iov_len = 5;
        ctx->niov++;
    }
}


/*
 * Take the next piece of a streamed body: from what came with the head,
 * else from the client.  NC_OK: ctx->piece (or, chunked, the body's end:
 * body_framed); NC_AGAIN: wait for the client; NC_ERROR: the request
 * ended.
 */
static nc_int_t
nc_gateway_body_next(nc_gateway_ctx_t *ctx)
{
    size_t              size;
    ssize_t             n;
    nc_int_t            rc;
    nc_buf_t           *b;
    nc_connection_t    *c;
    nc_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    for ( ;; ) {
        b = nc_buf_size(r->rb) ? r->rb : &ctx->in;

        if (nc_buf_size(b) == 0) {
            size = ctx->in.end - ctx->in.start;

            if (!r->headers_in.chunked) {
                size = nc_min(size, (size_t) r->body_rest);
            }

            n = c->recv(c, ctx->in.start, size);

            if (n == NC_AGAIN) {
                r->read_event_handler = nc_gateway_body_read;
                nc_add_timer(c->read, nc_gateway_body_timeout);
                return NC_AGAIN;
            }

            if (n == 0 || n == NC_ERROR) {
                nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s closed the "
                             "connection while sending the body",
                             nc_str_fmt(&c->addr_text));
                nc_gateway_body_failed(ctx, NC_HTTP_BAD_REQUEST);
                return NC_ERROR;
            }

            ctx->in.pos = ctx->in.start;
            ctx->in.last = ctx->in.start + n;
            b = &ctx->in;
        }

        if (!r->headers_in.chunked) {
            ctx->piece = b->pos;
            ctx->piece_len = nc_min(nc_buf_size(b), (size_t) r->body_rest);
            b->pos += ctx->piece_len;
            r->body_rest -= ctx->piece_len;
            ctx->body_in += ctx->piece_len;
            ctx->body_framed = r->body_rest == 0;
            return NC_OK;
        }

        rc = nc_http_parse_chunked(&r->chunked, b);

        if (rc == NC_OK) {
            size = nc_min((off_t) nc_buf_size(b), r->chunked.size);

            if (ctx->body_in + r->chunked.size
                > (off_t) nc_gateway_conf->client_max_body_size)
            {
                nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s sent a "
                             "body larger than gateway.client_max_body_size",
                             nc_str_fmt(&c->addr_text));
                nc_gateway_body_failed(ctx,
                                       NC_HTTP_REQUEST_ENTITY_TOO_LARGE);
                return NC_ERROR;
            }

            ctx->piece = b->pos;
            ctx->piece_len = size;
            b->pos += size;
            r->chunked.size -= size;
            ctx->body_in += size;
            return NC_OK;
        }

        if (rc == NC_DONE) {
            r->body_rest = 0;
            ctx->body_framed = 1;

            /* bytes past the body, read here: the next request's, for
             * the connection's head buffer (nc_http_set_keepalive) */
            size = nc_buf_size(b);

            if (b == &ctx->in && size) {
                if (c->buffer == NULL
                    || size > (size_t) (c->buffer->end - c->buffer->start)
                    || (r->rb = nc_create_temp_buf(r->pool, size)) == NULL)
                {
                    r->keepalive = 0;
                    return NC_OK;
                }

                r->rb->last = nc_cpymem(r->rb->last, b->pos, size);
                b->pos = b->last;
            }

            return NC_OK;
        }

        if (rc != NC_AGAIN) {
            nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s sent an "
                         "invalid chunked body", nc_str_fmt(&c->addr_text));
            nc_gateway_body_failed(ctx, NC_HTTP_BAD_REQUEST);
            return NC_ERROR;
        }
    }
}


/* the client's read event while its body is streamed */
static void
nc_gateway_body_read(nc_event_t *ev)
{
    nc_connection_t    *c;
    nc_http_request_t  *r;
    nc_gateway_ctx_t   *ctx;

    c = ev->data;
    r = c->data;
    ctx = r->ctx;

    if (ev->timedout) {
        nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s timed out sending "
                     "the body", nc_str_fmt(&c->addr_text));
        nc_gateway_body_failed(ctx, NC_HTTP_REQUEST_TIME_OUT);
        return;
    }

    nc_del_timer(ev);

    /* while a connect is under way, it drives */
    if (ctx->upstream && ctx->connected && !ctx->sent) {
        nc_gateway_send_request(ctx);
    }
}


/* the client's reads are the request's again: the body is out, or the
 * answer came before it was */
static void
nc_gateway_body_stop(nc_gateway_ctx_t *ctx)
{
    nc_http_request_t  *r;

    r = ctx->request;

    ctx->streaming = 0;
    r->read_event_handler = ctx->client_read;
    nc_del_timer(r->connection->read);

    if (!ctx->body_framed || ctx->niov) {
        /* neither connection is where another request could start */
        ctx->cut = 1;
        r->keepalive = 0;
    }
}


/* the client failed its body: 400, 408 or 413 when it has no answer yet */
static void
nc_gateway_body_failed(nc_gateway_ctx_t *ctx, nc_uint_t status)
{
    nc_gateway_body_stop(ctx);
    nc_gateway_close_upstream(ctx);

    if (!ctx->responding) {
        nc_http_finalize_request(ctx->request, status);
        return;
    }

    nc_gateway_abandon(ctx);
}


static void
nc_gateway_upstream_read(nc_event_t *ev)
{
    nc_int_t           rc;
    nc_connection_t   *c;
    nc_gateway_ctx_t  *ctx;

    c = ev->data;
    ctx = c->data;

    if (ev->timedout) {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s timed out "
                     "answering", nc_str_fmt(&ctx->peer->text));

        if (!ctx->responding) {
            nc_gateway_next(ctx, NC_HTTP_GATEWAY_TIME_OUT);
            return;
        }

        /* the answer began: all the client can learn is the close */
        nc_gateway_fail(ctx, NC_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    if (!ctx->header_done) {
        rc = nc_gateway_read_header(ctx);

        if (rc != NC_OK) {
            return;                      /* more to come, or retried */
        }
    }

    nc_gateway_relay(ctx);
}


/*
 * Read and parse the upstream's status line and header.  NC_OK once the
 * client has our header (ctx->responding); NC_AGAIN for more bytes;
 * NC_DONE when the request went elsewhere (a retry, or an error answer).
 */
static nc_int_t
nc_gateway_read_header(nc_gateway_ctx_t *ctx)
{
    ssize_t             n;
    nc_int_t            rc;
    nc_uint_t           i;
    nc_connection_t    *c;
    nc_http_request_t  *r;
    nc_gateway_route_t *rt;

    c = ctx->upstream;
    r = ctx->request;
    rt = ctx->route;

    for ( ;; ) {
        if (ctx->buf.last == ctx->buf.end) {
            nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s sent "
                         "a header larger than gateway.buffer_size",
                         nc_str_fmt(&ctx->peer->text));
            nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
            return NC_DONE;
        }

        n = c->recv(c, ctx->buf.last, ctx->buf.end - ctx->buf.last);

        if (n == NC_AGAIN) {
            nc_add_timer(c->read, rt->read_timeout);
            return NC_AGAIN;
        }

        if (n == 0 || n == NC_ERROR) {
            /* closed before answering: a kept-alive connection the
             * upstream had just closed, or a crash */
            if (ctx->buf.last == ctx->buf.start && ctx->reused) {
                nc_gateway_stale(ctx);
                return NC_DONE;
            }

            nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s "
                         "closed the connection before answering",
                         nc_str_fmt(&ctx->peer->text));
            nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);
            return NC_DONE;
        }

        ctx->buf.last += n;

        if (!ctx->status) {
            rc = nc_http_parse_status_line(&ctx->parser, &ctx->buf);

            if (rc == NC_AGAIN) {
                continue;
            }

            if (rc != NC_OK) {
                goto invalid;
            }

            ctx->status = ctx->parser.status;
            ctx->headers = nc_array_create(r->pool, 16,
                                           sizeof(nc_http_header_t));
            if (ctx->headers == NULL) {
                nc_gateway_fail(ctx, NC_HTTP_INTERNAL_SERVER_ERROR);
                return NC_DONE;
            }
        }

        for ( ;; ) {
            rc = nc_http_parse_header_line(&ctx->parser, &ctx->buf);

            if (rc == NC_OK) {
                nc_http_header_t  *h;

                h = nc_array_push(ctx->headers);
                if (h == NULL) {
                    nc_gateway_fail(ctx, NC_HTTP_INTERNAL_SERVER_ERROR);
                    return NC_DONE;
                }

                h->name.data = ctx->parser.header_name_start;
                h->name.len = ctx->parser.header_name_end
                              - ctx->parser.header_name_start;
                h->value.data = ctx->parser.header_start;
                h->value.len = ctx->parser.header_end
                               - ctx->parser.header_start;
                continue;
            }

            break;
        }

        if (rc == NC_AGAIN) {
            continue;
        }

        if (rc != NC_HTTP_PARSE_HEADER_DONE) {
            goto invalid;
        }

        break;
    }

    ctx->header_done = 1;

    /* 1xx (but 101) are interim: a real answer follows them */
    if (ctx->status >= 100 && ctx->status < 200 && ctx->status != 101) {
        ctx->header_done = 0;
        ctx->status = 0;
        nc_http_parser_init(&ctx->parser);
        nc_memmove(ctx->buf.start, ctx->buf.pos, nc_buf_size(&ctx->buf));
        ctx->buf.last = ctx->buf.start + nc_buf_size(&ctx->buf);
        ctx->buf.pos = ctx->buf.start;
        return nc_gateway_read_header(ctx);
    }

    nc_gateway_shared_upstream_count(ctx->peer->shared, ctx->status);

    /* a status the route retries, when another try is allowed */
    for (i = 0; i < rt->nretry_on; i++) {
        if (rt->retry_on[i] == ctx->status && nc_gateway_can_retry(ctx)) {
            nc_log_error(NC_LOG_WARN, nc_gateway_log, 0, "gateway: %.*s "
                         "answered %u, trying another",
                         nc_str_fmt(&ctx->peer->text),
                         (unsigned) ctx->status);
            nc_gateway_next(ctx, ctx->status);
            return NC_DONE;
        }
    }

    if (ctx->streaming) {
        /* the answer came before the body was all sent: the rest of it
         * stays unread */
        nc_gateway_body_stop(ctx);
        ctx->sent = 1;
        nc_del_timer(c->write);
    }

    if (nc_gateway_send_header(ctx) != NC_OK) {
        nc_gateway_fail(ctx, NC_HTTP_BAD_GATEWAY);
        return NC_DONE;
    }

    if (ctx->status == 101) {
        nc_gateway_tunnel_start(ctx);
        return NC_DONE;
    }

    return NC_OK;

invalid:

    nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s sent an "
                 "invalid response header", nc_str_fmt(&ctx->peer->text));
    nc_gateway_next(ctx, NC_HTTP_BAD_GATEWAY);

    return NC_DONE;
}


/*
 * A kept-alive connection the upstream had closed meanwhile: not the
 * instance's failure, and nothing reached it -- the same instance again,
 * on another connection (a new one in the end).
 */
static void
nc_gateway_stale(nc_gateway_ctx_t *ctx)
{
    nc_gateway_close_upstream(ctx);
    ctx->attempts--;
    nc_gateway_connect(ctx);
}


/* --- the answer to the client ------------------------------------------------- */


/*
 * Our header for the client: the upstream's status and fields, less the
 * hop-by-hop ones, with the route's changes; the framing the client can
 * take -- the upstream's Content-Length, else chunked to an HTTP/1.1
 * client, else the end of the connection.
 */
static nc_int_t
nc_gateway_send_header(nc_gateway_ctx_t *ctx)
{
    nc_buf_t             *b;
    nc_str_t              name;
    nc_uint_t             i;
    nc_flag_t             close;
    nc_http_header_t     *h;
    nc_http_request_t    *r;
    nc_gateway_route_t   *rt;
    const char           *text;
    u_char                line[64];

    r = ctx->request;
    rt = ctx->route;
    b = &r->header;

    ctx->rest = -1;
    ctx->chunked_in = 0;
    ctx->until_close = 0;
    close = 0;

    /* the upstream may keep the connection unless it says otherwise */
    ctx->keepalive = ctx->parser.http_version >= 1001;

    h = ctx->headers->elts;

    for (i = 0; i < ctx->headers->nelts; i++) {
        if (h[i].name.len == 14
            && nc_strncasecmp(h[i].name.data, (u_char *) "Content-Length", 14)
               == 0)
        {
            ctx->rest = nc_atoof(h[i].value.data, h[i].value.len);
            if (ctx->rest < 0) {
                return NC_ERROR;
            }

        } else if (h[i].name.len == 17
                   && nc_strncasecmp(h[i].name.data,
                                     (u_char *) "Transfer-Encoding", 17) == 0)
        {
            ctx->chunked_in = h[i].value.len == 7
                              && nc_strncasecmp(h[i].value.data,
                                                (u_char *) "chunked", 7) == 0;
            if (!ctx->chunked_in) {
                return NC_ERROR;         /* a coding we cannot frame */
            }

        } else if (h[i].name.len == 10
                   && nc_strncasecmp(h[i].name.data, (u_char *) "Connection",
                                     10) == 0)
        {
            if (nc_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "close", 5))
            {
                ctx->keepalive = 0;

            } else if (nc_strlcasestrn(h[i].value.data,
                                       h[i].value.data + h[i].value.len,
                                       (u_char *) "keep-alive", 10))
            {
                ctx->keepalive = 1;
            }
        }
    }

    if (ctx->chunked_in) {
        ctx->rest = -1;                  /* chunked wins (RFC 9112 6.3) */
        nc_memzero(&ctx->chunked, sizeof(nc_http_chunked_t));
    }

    ctx->no_body = r->method == NC_HTTP_HEAD || ctx->status == 204
                   || ctx->status == 304 || ctx->status < 200;

    if (ctx->status == 101) {
        if (!ctx->upgrade) {
            return NC_ERROR;             /* switching, unasked */
        }

        ctx->keepalive = 0;
        r->keepalive = 0;
    }

    if (!ctx->no_body && !ctx->chunked_in && ctx->rest == -1) {
        ctx->until_close = 1;            /* the end of the connection */
        ctx->keepalive = 0;
    }

    if (rt->gzip && r->headers_in.accept_gzip && !ctx->no_body
        && ctx->status != 101 && ctx->status != 206)
    {
        nc_gateway_gzip_start(ctx);
    }

    /* a gzipped answer's length is known at its end only */
    ctx->chunk_out = !ctx->no_body && (ctx->rest == -1 || ctx->zs)
                     && r->http_version >= 1001;

    if (!ctx->no_body && (ctx->rest == -1 || ctx->zs) && !ctx->chunk_out) {
        close = 1;                       /* an HTTP/1.0 client: the end */
    }

    if (close || nc_exiting) {
        r->keepalive = 0;
    }

    text = nc_http_status_text(ctx->status);

    b->pos = b->last = b->start = NULL;
    b->end = NULL;

    (void) snprintf((char *) line, sizeof(line), "HTTP/1.1 %03u %s\r\n",
                    (unsigned) ctx->status, *text ? text : "Unknown");

    if (nc_buf_append(r->pool, b, line, strlen((char *) line)) != NC_OK) {
        return NC_ERROR;
    }

    for (i = 0; i < ctx->headers->nelts; i++) {
        name = h[i].name;

        if ((nc_gateway_hop_by_hop(&name)
             && !(name.len == 14
                  && nc_strncasecmp(name.data, (u_char *) "Content-Length",
                                    14) == 0
                  && !ctx->chunked_in && !ctx->zs))
            || nc_gateway_header_ruled(&rt->response_headers, &name))
        {
            continue;
        }

        /* gzipped, the bytes differ: a strong validator turns weak */
        if (ctx->zs && name.len == 4
            && nc_strncasecmp(name.data, (u_char *) "ETag", 4) == 0
            && h[i].value.len && h[i].value.data[0] == '"')
        {
            if (nc_buf_append(r->pool, b, "ETag: W/", 8) != NC_OK
                || nc_buf_append(r->pool, b, h[i].value.data, h[i].value.len)
                   != NC_OK
                || nc_buf_append(r->pool, b, "\r\n", 2) != NC_OK)
            {
                return NC_ERROR;
            }

            continue;
        }

        if (nc_buf_append(r->pool, b, name.data, name.len) != NC_OK
            || nc_buf_append(r->pool, b, ": ", 2) != NC_OK
            || nc_buf_append(r->pool, b, h[i].value.data, h[i].value.len)
               != NC_OK
            || nc_buf_append(r->pool, b, "\r\n", 2) != NC_OK)
        {
            return NC_ERROR;
        }
    }

    for (i = 0; i < rt->response_headers.nset + rt->response_headers.nadd;
         i++)
    {
        nc_gateway_pair_t  *pr;

        pr = i < rt->response_headers.nset
             ? &rt->response_headers.set[i]
             : &rt->response_headers.add[i - rt->response_headers.nset];

        if (nc_buf_append(r->pool, b, pr->name.data, pr->name.len) != NC_OK
            || nc_buf_append(r->pool, b, ": ", 2) != NC_OK
            || nc_buf_append(r->pool, b, pr->value.data, pr->value.len)
               != NC_OK
            || nc_buf_append(r->pool, b, "\r\n", 2) != NC_OK)
        {
            return NC_ERROR;
        }
    }

    if (ctx->chunk_out
        && nc_buf_append(r->pool, b, "Transfer-Encoding: chunked\r\n", 28)
           != NC_OK)
    {
        return NC_ERROR;
    }

    if (ctx->zs
        && nc_buf_append(r->pool, b, "Content-Encoding: gzip\r\n"
                         "Vary: Accept-Encoding\r\n", 47)
           != NC_OK)
    {
        return NC_ERROR;
    }

    if (ctx->status == 101) {
        for (i = 0; i < ctx->headers->nelts; i++) {
            if (h[i].name.len == 7
                && nc_strncasecmp(h[i].name.data, (u_char *) "Upgrade", 7)
                   == 0
                && (nc_buf_append(r->pool, b, "Upgrade: ", 9) != NC_OK
                    || nc_buf_append(r->pool, b, h[i].value.data,
                                     h[i].value.len) != NC_OK
                    || nc_buf_append(r->pool, b, "\r\n", 2) != NC_OK))
            {
                return NC_ERROR;
            }
        }

        if (nc_buf_append(r->pool, b, "Connection: upgrade\r\n\r\n", 23)
            != NC_OK)
        {
            return NC_ERROR;
        }

        goto done;
    }

    if (!r->keepalive) {
        if (nc_buf_append(r->pool, b, "Connection: close\r\n", 19) != NC_OK) {
            return NC_ERROR;
        }

    } else if (r->http_version < 1001
               && nc_buf_append(r->pool, b, "Connection: keep-alive\r\n", 24)
                  != NC_OK)
    {
        return NC_ERROR;
    }

    if (nc_buf_append(r->pool, b, "\r\n", 2) != NC_OK) {
        return NC_ERROR;
    }

done:

    r->headers_out.status = ctx->status;
    r->gateway_status = ctx->status;
    r->responding = 1;
    ctx->responding = 1;
    ctx->body_done = ctx->no_body || ctx->rest == 0;

    ctx->out[0].iov_base = b->pos;
    ctx->out[0].iov_len = nc_buf_size(b);
    ctx->nout = 1;
    ctx->header_pending = 1;

    return NC_OK;
}


/*
 * Frame what the buffer holds for the client, after what is pending (our
 * header, at most): the data, in a chunk when we chunk, the last chunk
 * when the body ended.  NC_OK, or NC_ERROR for a body we cannot frame.
 */
static nc_int_t
nc_gateway_frame(nc_gateway_ctx_t *ctx)
{
    size_t         take;
    nc_int_t       rc;
    nc_flag_t      ended;
    u_char        *data;
    struct iovec  *out;

    take = 0;
    data = ctx->buf.pos;
    out = &ctx->out[ctx->nout];

    /* input deflate has not taken yet stays where it is */
    while (nc_buf_size(&ctx->buf) && !ctx->body_done && take == 0
           && !(ctx->zs && ctx->zs->avail_in))
    {
        if (ctx->chunked_in) {
            rc = nc_http_parse_chunked(&ctx->chunked, &ctx->buf);

            if (rc == NC_OK) {
                data = ctx->buf.pos;
                take = (size_t) nc_min((off_t) nc_buf_size(&ctx->buf),
                                       ctx->chunked.size);
                ctx->chunked.size -= take;

            } else if (rc == NC_DONE) {
                ctx->body_done = 1;

            } else if (rc != NC_AGAIN) {
                return NC_ERROR;
            }

        } else if (ctx->until_close) {
            take = nc_buf_size(&ctx->buf);

        } else {
            take = (size_t) nc_min((off_t) nc_buf_size(&ctx->buf), ctx->rest);
            ctx->rest -= take;
            ctx->body_done = ctx->rest == 0;
        }

        ctx->buf.pos += take;
    }

    ended = ctx->body_done;

    if (ctx->zs) {
        if (nc_gateway_deflate(ctx, &data, &take) != NC_OK) {
            return NC_ERROR;
        }

        ended = ctx->body_done && !ctx->zpending;
    }

    if (take && ctx->chunk_out) {
        out->iov_base = ctx->chunk_head;
        out->iov_len = snprintf((char *) ctx->chunk_head,
                                sizeof(ctx->chunk_head), "%zx\r\n", take);
        out++;
    }

    if (take) {
        out->iov_base = data;
        out->iov_len = take;
        out++;
    }

    if (ctx->chunk_out && (take || ended)) {
        out->iov_base = (void *) (take ? (ended ? "\r\n0\r\n\r\n" : "\r\n")
                                       : "0\r\n\r\n");
        out->iov_len = take ? (ended ? 7 : 2) : 5;
        out++;
    }

    ctx->nout = out - ctx->out;

    return NC_OK;
}


/*
 * Relay the body: frame what the buffer holds, write it out with what is
 * pending (the header goes with the first piece), read more.  One buffer:
 * a slow client holds the upstream back, nothing piles up.
 */
static void
nc_gateway_relay(nc_gateway_ctx_t *ctx)
{
    size_t              left;
    ssize_t             n;
    nc_uint_t           i;
    nc_connection_t    *c, *uc;
    nc_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    uc = ctx->upstream;

    for ( ;; ) {

        /* nothing pending but the header: the first piece joins it */
        if (ctx->nout <= 1 && ctx->header_pending) {
            if (nc_gateway_frame(ctx) != NC_OK) {
                goto invalid;
            }

            ctx->header_pending = 0;
        }

        if (ctx->nout) {
            n = c->writev(c, ctx->out, (int) ctx->nout);

            if (n == NC_AGAIN) {
                c->write->handler = nc_gateway_client_write_handler;
                nc_add_timer(c->write, nc_http_cycle->conf->api.send_timeout);
                return;
            }

            if (n == NC_ERROR) {
                /* the client went: the upstream's rest is not wanted */
                nc_gateway_abandon(ctx);
                return;
            }

            r->body_sent += n;

            for (i = 0; i < ctx->nout && n > 0; i++) {
                left = nc_min((size_t) n, ctx->out[i].iov_len);
                ctx->out[i].iov_base = (u_char *) ctx->out[i].iov_base + left;
                ctx->out[i].iov_len -= left;
                n -= left;
            }

            while (ctx->nout && ctx->out[0].iov_len == 0) {
                nc_memmove(&ctx->out[0], &ctx->out[1],
                           (ctx->nout - 1) * sizeof(struct iovec));
                ctx->nout--;
            }

            if (ctx->nout) {
                continue;
            }

            nc_del_timer(c->write);
        }

        if (ctx->body_done && !ctx->zpending) {
            nc_gateway_finish(ctx);
            return;
        }

        if (nc_buf_size(&ctx->buf) || ctx->zpending) {
            if (nc_gateway_frame(ctx) != NC_OK) {
                goto invalid;
            }

            continue;
        }

        /* read the next piece */
        ctx->buf.pos = ctx->buf.start;
        ctx->buf.last = ctx->buf.start;

        n = uc->recv(uc, ctx->buf.last, ctx->buf.end - ctx->buf.last);

        if (n == NC_AGAIN) {
            nc_add_timer(uc->read, ctx->route->read_timeout);
            return;
        }

        if (n == 0 && ctx->until_close) {
            ctx->body_done = 1;
            ctx->keepalive = 0;

            if (ctx->zs) {
                ctx->zpending = 1;       /* the stream's end to deflate */

            } else if (ctx->chunk_out) {
                ctx->out[0].iov_base = (void *) "0\r\n\r\n";
                ctx->out[0].iov_len = 5;
                ctx->nout = 1;
            }

            continue;
        }

        if (n <= 0) {
            nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s closed "
                         "the connection in the middle of its answer",
                         nc_str_fmt(&ctx->peer->text));
            nc_gateway_fail(ctx, NC_HTTP_BAD_GATEWAY);
            return;
        }

        ctx->buf.last += n;
    }

invalid:

    nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: %.*s sent an "
                 "invalid chunked body", nc_str_fmt(&ctx->peer->text));
    nc_gateway_fail(ctx, NC_HTTP_BAD_GATEWAY);
}


/*
 * The route gzips: when the answer is of a compressible type, not coded
 * already, and not shorter than api.gzip_min_length.  Without memory for
 * it, the answer goes as it is.
 */
static void
nc_gateway_gzip_start(nc_gateway_ctx_t *ctx)
{
    nc_uint_t           i;
    nc_flag_t           typed;
    nc_conf_api_t      *api;
    nc_http_header_t   *h;
    nc_http_request_t  *r;

    r = ctx->request;
    api = &nc_http_cycle->conf->api;

    if (ctx->rest != -1 && ctx->rest < (off_t) api->gzip_min_length) {
        return;
    }

    typed = 0;
    h = ctx->headers->elts;

    for (i = 0; i < ctx->headers->nelts; i++) {
        if (h[i].name.len == 16
            && nc_strncasecmp(h[i].name.data, (u_char *) "Content-Encoding",
                              16) == 0
            && !(h[i].value.len == 8
                 && nc_strncasecmp(h[i].value.data, (u_char *) "identity", 8)
                    == 0))
        {
            return;
        }

        if (h[i].name.len == 12
            && nc_strncasecmp(h[i].name.data, (u_char *) "Content-Type", 12)
               == 0)
        {
            typed = nc_http_gzip_type(&h[i].value);
        }
    }

    /* the type the client will see: the route may set it */
    for (i = 0; i < ctx->route->response_headers.nset; i++) {
        if (ctx->route->response_headers.set[i].name.len == 12
            && nc_strncasecmp(ctx->route->response_headers.set[i].name.data,
                              (u_char *) "Content-Type", 12) == 0)
        {
            typed = nc_http_gzip_type(&ctx->route->response_headers.set[i]
                                                                   .value);
        }
    }

    if (!typed) {
        return;
    }

    ctx->zs = nc_pcalloc(r->pool, sizeof(z_stream));
    ctx->zbuf = ctx->zs ? nc_gateway_buf_get() : NULL;

    /* windowBits 16 + 15: a gzip wrapper, not zlib's */
    if (ctx->zbuf == NULL
        || deflateInit2(ctx->zs, (int) api->gzip_comp_level, Z_DEFLATED,
                        16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: gzip not "
                     "started: no memory");
        ctx->zs = NULL;
        return;
    }
}


/*
 * Deflate the piece taken (data, take) into zbuf: (data, take) become what
 * it gave.  A piece that empties the read buffer is flushed (the client
 * sees what the upstream sent without waiting for more); the body's end
 * finishes the stream.  zpending: input left, or output that did not fit.
 */
static nc_int_t
nc_gateway_deflate(nc_gateway_ctx_t *ctx, u_char **data, size_t *take)
{
    int        rc, flush;
    z_stream  *zs;

    zs = ctx->zs;

    if (zs->avail_in == 0) {
        zs->next_in = *data;
        zs->avail_in = (uInt) *take;
    }

    zs->next_out = ctx->zbuf;
    zs->avail_out = (uInt) nc_gateway_conf->buffer_size;

    flush = ctx->body_done ? Z_FINISH
            : nc_buf_size(&ctx->buf) ? Z_NO_FLUSH : Z_SYNC_FLUSH;

    rc = deflate(zs, flush);

    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        nc_log_error(NC_LOG_ERR, nc_gateway_log, 0, "gateway: deflate() "
                     "failed: %d", rc);
        return NC_ERROR;
    }

    *data = ctx->zbuf;
    *take = nc_gateway_conf->buffer_size - zs->avail_out;

    ctx->zpending = zs->avail_in > 0
                    || (flush == Z_FINISH && rc != Z_STREAM_END)
                    || (flush == Z_SYNC_FLUSH && zs->avail_out == 0);

    return NC_OK;
}


static void
nc_gateway_client_write_handler(nc_event_t *wev)
{
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = wev->data;
    r = c->data;

    if (wev->timedout) {
        nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s timed out reading "
                     "the response", nc_str_fmt(&c->addr_text));
        nc_gateway_abandon(r->ctx);
        return;
    }

    nc_gateway_relay(r->ctx);
}


/* --- the end ------------------------------------------------------------------ */


static nc_flag_t
nc_gateway_can_retry(nc_gateway_ctx_t *ctx)
{
    nc_uint_t            i;
    nc_http_request_t   *r;
    nc_gateway_route_t  *rt;

    r = ctx->request;
    rt = ctx->route;

    /* a streamed body's bytes that left are not ours to send again */
    if (ctx->responding || ctx->attempts > rt->retries
        || nc_current_msec - ctx->start >= rt->retry_timeout
        || (r->body_streamed && ctx->body_out))
    {
        return 0;
    }

    /* a request that may have done its work once is not sent twice */
    if (!rt->retry_non_idempotent
        && !(r->method & (NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_PUT
                          | NC_HTTP_DELETE | NC_HTTP_OPTIONS
                          | NC_HTTP_TRACE)))
    {
        return 0;
    }

    for (i = 0; i < ctx->ncands; i++) {
        if (!ctx->tried[i]) {
            return 1;
        }
    }

    return 0;
}


/* this attempt failed (status tells how): another instance, or the
 * failure told to the client */
static void
nc_gateway_next(nc_gateway_ctx_t *ctx, nc_uint_t status)
{
    nc_gateway_peer_t  *peer;

    peer = ctx->peer;

    /* a failed connection counts against the instance; an answer not */
    if (!ctx->header_done
        && (status == NC_HTTP_BAD_GATEWAY
            || status == NC_HTTP_GATEWAY_TIME_OUT))
    {
        nc_gateway_shared_upstream_count(peer->shared, 0);
        nc_gateway_shared_failed((u_char *) &peer->sockaddr, peer->socklen,
                                 nc_gateway_conf->max_fails,
                                 nc_gateway_conf->fail_timeout,
                                 nc_gateway_log, &peer->text);
    }

    nc_gateway_close_upstream(ctx);

    if (nc_gateway_can_retry(ctx) && nc_gateway_choose(ctx) == NC_OK) {
        ctx->status = 0;
        nc_http_parser_init(&ctx->parser);
        nc_gateway_connect(ctx);
        return;
    }

    nc_gateway_fail(ctx, status);
}


/* an end without the upstream's answer: an error answer if the client
 * has none yet, else the connection's end */
static void
nc_gateway_fail(nc_gateway_ctx_t *ctx, nc_uint_t status)
{
    nc_http_request_t  *r;

    r = ctx->request;

    if (ctx->streaming) {
        nc_gateway_body_stop(ctx);
    }

    nc_gateway_close_upstream(ctx);

    if (!ctx->responding) {
        r->gateway_status = ctx->status;
        nc_http_finalize_request(r, status);
        return;
    }

    r->keepalive = 0;
    nc_gateway_finish(ctx);
}


static void
nc_gateway_finish(nc_gateway_ctx_t *ctx)
{
    nc_http_request_t  *r;

    r = ctx->request;

    r->gateway_msec = nc_current_msec - ctx->attempt_start;

    if (ctx->upstream) {
        if (ctx->keepalive && ctx->body_done && !ctx->cut
            && nc_buf_size(&ctx->buf) == 0
            && !nc_exiting && nc_gateway_conf->upstream_keepalive)
        {
            nc_gateway_keep(ctx->peer, ctx->upstream);
            ctx->upstream = NULL;
            if (ctx->counted) {
                ctx->peer->active--;
                ctx->counted = 0;
            }

        } else {
            nc_gateway_close_upstream(ctx);
        }
    }

    if (ctx->body_done && ctx->peer) {
        nc_gateway_shared_succeeded((u_char *) &ctx->peer->sockaddr,
                                    ctx->peer->socklen);
    }

    nc_http_request_finish(r);
}


/* the end of an answer cut short (a client gone or stalled, a tunnel
 * closed): neither connection can carry another request */
static void
nc_gateway_abandon(nc_gateway_ctx_t *ctx)
{
    ctx->request->keepalive = 0;
    nc_gateway_close_upstream(ctx);
    nc_gateway_finish(ctx);
}


static void
nc_gateway_close_upstream(nc_gateway_ctx_t *ctx)
{
    if (ctx->counted) {
        ctx->peer->active--;
        ctx->counted = 0;
    }

    if (ctx->upstream) {
        nc_close_connection(ctx->upstream);
        ctx->upstream = NULL;
    }
}


/* --- kept-alive upstream connections ------------------------------------------ */


static void
nc_gateway_keep(nc_gateway_peer_t *peer, nc_connection_t *c)
{
    nc_uint_t  max;

    max = nc_gateway_conf->upstream_keepalive;

    /* full: the oldest goes */
    if (peer->nidle == max) {
        nc_close_connection(peer->idle[0]);
        nc_memmove(peer->idle, peer->idle + 1,
                   (max - 1) * sizeof(nc_connection_t *));
        peer->nidle--;
    }

    peer->idle[peer->nidle++] = c;

    c->data = peer;
    c->read->handler = nc_gateway_idle_handler;
    c->write->handler = nc_gateway_idle_handler;

    /* the worker's idle list: a shutdown closes it with the others */
    nc_connection_set_idle(c, 1);
    nc_del_timer(c->write);
    nc_add_timer(c->read, nc_gateway_conf->upstream_keepalive_timeout);

    if (c->read->ready) {
        nc_post_event(c->read);          /* it closed while we answered */
    }
}


/* an idle upstream connection: closed by its end, a timeout, a shutdown,
 * or bytes nobody asked for */
static void
nc_gateway_idle_handler(nc_event_t *ev)
{
    nc_connection_t    *c;
    nc_gateway_peer_t  *peer;
    u_char              buf[1];

    c = ev->data;
    peer = c->data;

    if (ev->write) {
        return;
    }

    if (!c->close && !ev->timedout
        && recv(c->fd, buf, 1, MSG_PEEK) == -1 && errno == EAGAIN)
    {
        ev->ready = 0;
        return;                          /* nothing happened */
    }

    nc_gateway_unidle(peer, c);
    nc_close_connection(c);
}


static void
nc_gateway_unidle(nc_gateway_peer_t *peer, nc_connection_t *c)
{
    nc_uint_t  i;

    for (i = 0; i < peer->nidle; i++) {
        if (peer->idle[i] == c) {
            nc_memmove(&peer->idle[i], &peer->idle[i + 1],
                       (--peer->nidle - i) * sizeof(nc_connection_t *));
            return;
        }
    }
}


/* the request ends however it ends (the client gone too) */
static void
nc_gateway_cleanup(nc_http_request_t *r)
{
    nc_gateway_ctx_t  *ctx;

    ctx = r->ctx;

    nc_gateway_close_upstream(ctx);

    nc_gateway_shared_count(ctx->route->id.data, ctx->route->id.len,
                            r->headers_out.status);

    nc_gateway_unlist(ctx);

    if (ctx->streaming) {
        /* the client went while its body was streamed */
        nc_gateway_body_stop(ctx);
    }

    if (ctx->zs) {
        (void) deflateEnd(ctx->zs);
        ctx->zs = NULL;
    }

    nc_gateway_buf_put(ctx->buf.start);
    nc_gateway_buf_put(ctx->up.start);
    nc_gateway_buf_put(ctx->in.start);
    nc_gateway_buf_put(ctx->zbuf);
    ctx->buf.start = NULL;
    ctx->up.start = NULL;
    ctx->in.start = NULL;
    ctx->zbuf = NULL;

    if (ctx->table) {
        nc_gateway_release_table(ctx->table);
        ctx->table = NULL;
    }
}


/* --- tunnels (101 Switching Protocols: WebSocket) ------------------------ */


/*
 * The upstream switched protocols: from now on bytes go both ways as they
 * are, until one side ends (then both do) or neither says anything for
 * the route's read timeout.
 */
static void
nc_gateway_tunnel_start(nc_gateway_ctx_t *ctx)
{
    size_t              left;
    nc_connection_t    *c, *uc;
    nc_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    uc = ctx->upstream;

    ctx->up.start = nc_gateway_buf_get();
    if (ctx->up.start == NULL) {
        nc_gateway_fail(ctx, NC_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->up.end = ctx->up.start + nc_gateway_conf->buffer_size;
    ctx->up.pos = ctx->up.start;
    ctx->up.last = ctx->up.start;

    /* what the client sent after its request is the tunnel's already */
    left = r->rb ? nc_buf_size(r->rb) : 0;

    if (left) {
        left = nc_min(left, nc_gateway_conf->buffer_size);
        ctx->up.last = nc_cpymem(ctx->up.start, r->rb->pos, left);
        r->rb->pos += left;
    }

    /* our 101 header first, then the upstream's bytes after its own */
    c->read->handler = nc_gateway_tunnel_client;
    c->write->handler = nc_gateway_tunnel_client;
    uc->read->handler = nc_gateway_tunnel_upstream;
    uc->write->handler = nc_gateway_tunnel_upstream;

    nc_del_timer(uc->read);

    nc_gateway_tunnel(ctx);
}


static void
nc_gateway_tunnel_client(nc_event_t *ev)
{
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = ev->data;
    r = c->data;

    if (ev->timedout) {
        nc_gateway_abandon(r->ctx);
        return;
    }

    nc_gateway_tunnel(r->ctx);
}


static void
nc_gateway_tunnel_upstream(nc_event_t *ev)
{
    nc_connection_t   *c;

    c = ev->data;

    nc_gateway_tunnel(c->data);
}


/*
 * One direction of a tunnel: what b holds goes to `to`; once it is all
 * gone, more is read from `from`.  NC_OK, NC_DONE (from ended), NC_ERROR.
 */
static nc_int_t
nc_gateway_pump(nc_connection_t *from, nc_connection_t *to, nc_buf_t *b,
    nc_flag_t ended, nc_flag_t *moved, off_t *sent)
{
    ssize_t  n;

    if (b->pos < b->last) {
        n = to->send(to, b->pos, b->last - b->pos);

        if (n == NC_ERROR) {
            return NC_ERROR;
        }

        if (n > 0) {
            b->pos += n;
            *sent += n;
            *moved = 1;
        }

        return NC_OK;
    }

    if (ended) {
        return NC_OK;
    }

    b->pos = b->start;
    b->last = b->start;

    n = from->recv(from, b->last, b->end - b->last);

    if (n == 0 || n == NC_ERROR) {
        *moved = 1;
        return NC_DONE;
    }

    if (n > 0) {
        b->last += n;
        *moved = 1;
    }

    return NC_OK;
}


static void
nc_gateway_tunnel(nc_gateway_ctx_t *ctx)
{
    off_t               up_sent;
    ssize_t             n;
    nc_int_t            rc;
    nc_flag_t           moved;
    nc_connection_t    *c, *uc;
    nc_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    uc = ctx->upstream;
    up_sent = 0;

    do {
        moved = 0;

        /* our header first, then the upstream's bytes, to the client */
        if (ctx->nout) {
            n = c->writev(c, ctx->out, (int) ctx->nout);

            if (n == NC_ERROR) {
                goto end;
            }

            if (n > 0) {
                r->body_sent += n;
                moved = 1;

                if ((size_t) n >= ctx->out[0].iov_len) {
                    ctx->nout = 0;

                } else {
                    ctx->out[0].iov_base = (u_char *) ctx->out[0].iov_base
                                           + n;
                    ctx->out[0].iov_len -= n;
                }
            }

        } else {
            rc = nc_gateway_pump(uc, c, &ctx->buf, ctx->up_eof, &moved,
                                 &r->body_sent);
            if (rc == NC_ERROR) {
                goto end;
            }

            ctx->up_eof |= rc == NC_DONE;
        }

        /* the client's bytes to the upstream */
        rc = nc_gateway_pump(c, uc, &ctx->up, ctx->client_eof, &moved,
                             &up_sent);
        if (rc == NC_ERROR) {
            goto end;
        }

        ctx->client_eof |= rc == NC_DONE;

        /* one side ended and all it said was passed on: the end */
        if ((ctx->up_eof && ctx->buf.pos == ctx->buf.last && !ctx->nout)
            || (ctx->client_eof && ctx->up.pos == ctx->up.last))
        {
            goto end;
        }

    } while (moved);

    nc_add_timer(c->read, ctx->route->read_timeout);

    return;

end:

    nc_del_timer(c->read);
    nc_gateway_abandon(ctx);
}
