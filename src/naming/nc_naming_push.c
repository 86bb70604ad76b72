
/*
 * nacre: UDP pushes (nc_naming_push.h).
 *
 * Subscribers hang in a hash by (address, service, clusters) and in a
 * list under their service; the services a batch changed are marked by
 * the store's observer and pushed after the publication.  Subscribers of
 * one service asking the same clusters share one datagram per change
 * (rendered, maybe gzipped, once) and its lastRefTime; an ack names that
 * number and comes from the subscriber's port.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_naming_list.h>
#include <nc_naming_push.h>

#include <jansson.h>
#include <zlib.h>


#define NC_PUSH_SUB_BUCKETS     65536     /* powers of 2 */
#define NC_PUSH_SVC_BUCKETS     16384
#define NC_PUSH_MAX_SUBS        65536
#define NC_PUSH_ACKS            65536     /* pushes that may await an ack */
#define NC_PUSH_EXPIRE          30000     /* ms without a poll */
#define NC_PUSH_RETRY           10000     /* ms without an ack */
#define NC_PUSH_GZIP_MIN        1024
#define NC_PUSH_MAX_DGRAM       65507
#define NC_PUSH_MAX_CLUSTERS    1024


typedef struct nc_push_svc_s  nc_push_svc_t;
typedef struct nc_push_sub_s  nc_push_sub_t;


/* one datagram, shared by the subscribers it went to */
typedef struct {
    nc_uint_t           refs;
    uint64_t            id;              /* its lastRefTime */
    nc_push_svc_t      *svc;
    size_t              len;
    u_char              data[];
} nc_push_dgram_t;


struct nc_push_sub_s {
    nc_push_sub_t      *next;            /* in its hash bucket */
    nc_push_sub_t      *svc_next;        /* in its service's list */
    nc_push_svc_t      *svc;
    uint64_t            hash;
    struct sockaddr_in6 addr;            /* IPv4 ones mapped */
    nc_msec_t           seen;            /* its last poll */
    nc_push_dgram_t    *pending;         /* sent, not acked */
    nc_msec_t           sent;
    unsigned            retried:1;
    size_t              clusters_len;
    u_char              clusters[];
};


struct nc_push_svc_s {
    nc_push_svc_t      *next;            /* in its hash bucket */
    nc_push_svc_t      *changed_next;
    nc_push_sub_t      *subs;
    uint64_t            hash;
    nc_uint_t           dgrams;          /* datagrams that point here */
    unsigned            changed:1;
    size_t              len;
    u_char              key[];
};


static void nc_naming_push_read(nc_event_t *ev);
static void nc_naming_push_writable(nc_event_t *ev);
static void nc_naming_push_ack(const u_char *p, size_t len,
    const struct sockaddr_in6 *from);
static nc_connection_t *nc_naming_push_socket(struct sockaddr *sa,
    socklen_t len, nc_log_t *log);
static nc_push_svc_t *nc_naming_push_svc(const u_char *key, size_t len,
    nc_flag_t create);
static void nc_naming_push_service(nc_store_t *s,
    const nc_store_version_t *v, nc_push_svc_t *svc, nc_pool_t *pool);
static nc_push_dgram_t *nc_naming_push_dgram(nc_pool_t *pool,
    const nc_str_t *list, nc_push_svc_t *svc);
static void nc_naming_push_send(nc_push_sub_t *sub);
static void nc_naming_push_unref(nc_push_dgram_t *d);
static void nc_naming_push_forget(nc_push_sub_t *sub);


static nc_log_t          *nc_push_log;
static nc_connection_t   *nc_push_conn;         /* IPv4 subscribers' */
static nc_connection_t   *nc_push_conn6;        /* IPv6 ones' */
static nc_push_sub_t    **nc_push_subs;
static nc_push_svc_t    **nc_push_svcs;
static nc_push_svc_t     *nc_push_changed;
static nc_flag_t          nc_push_everything;
static nc_push_dgram_t  **nc_push_acks;          /* ring by id */
static uint64_t           nc_push_base;
static uint64_t           nc_push_seq;
static nc_naming_push_stats_t  nc_push_stats;


size_t
nc_naming_push_note(u_char *buf, size_t size,
    const nc_naming_subscription_t *sub)
{
    u_char  *p;
    size_t   len;

    len = 2 + 1 + sub->ip.len + 2 + sub->service.len + 2 + sub->clusters.len;

    if (len > size || sub->ip.len > 64 || sub->port == 0 || sub->port > 65535
        || sub->clusters.len > NC_PUSH_MAX_CLUSTERS)
    {
        return 0;
    }

    p = buf;
    *p++ = (u_char) sub->port;
    *p++ = (u_char) (sub->port >> 8);
    *p++ = (u_char) sub->ip.len;
    p = nc_cpymem(p, sub->ip.data, sub->ip.len);
    *p++ = (u_char) sub->service.len;
    *p++ = (u_char) (sub->service.len >> 8);
    p = nc_cpymem(p, sub->service.data, sub->service.len);
    *p++ = (u_char) sub->clusters.len;
    *p++ = (u_char) (sub->clusters.len >> 8);

    /* "clusters" is absent from most polls: no data to copy from */
    if (sub->clusters.len) {
        p = nc_cpymem(p, sub->clusters.data, sub->clusters.len);
    }

    return p - buf;
}


nc_int_t
nc_naming_push_init(nc_cycle_t *cycle, nc_log_t *log)
{
    nc_uint_t            i;
    nc_conf_addr_t      *a;
    struct timespec      ts;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    nc_push_log = log;

    nc_push_subs = calloc(NC_PUSH_SUB_BUCKETS, sizeof(nc_push_sub_t *));
    nc_push_svcs = calloc(NC_PUSH_SVC_BUCKETS, sizeof(nc_push_svc_t *));
    nc_push_acks = calloc(NC_PUSH_ACKS, sizeof(nc_push_dgram_t *));

    if (nc_push_subs == NULL || nc_push_svcs == NULL || nc_push_acks == NULL) {
        return NC_ERROR;
    }

    /* pushes leave from the API's first address of the family (loopback
     * unless the operator opened it), so acks come back the way requests
     * do */
    nc_memzero(&sin, sizeof(struct sockaddr_in));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    nc_memzero(&sin6, sizeof(struct sockaddr_in6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;

    a = cycle->conf->api.listen.elts;

    for (i = cycle->conf->api.listen.nelts; i-- > 0; /* void */) {
        if (a[i].sockaddr.ss_family == AF_INET) {
            nc_memcpy(&sin, &a[i].sockaddr, sizeof(struct sockaddr_in));
            sin.sin_port = 0;

        } else if (a[i].sockaddr.ss_family == AF_INET6) {
            nc_memcpy(&sin6, &a[i].sockaddr, sizeof(struct sockaddr_in6));
            sin6.sin6_port = 0;
        }
    }

    nc_push_conn = nc_naming_push_socket((struct sockaddr *) &sin,
                                         sizeof(sin), log);
    if (nc_push_conn == NULL) {
        return NC_ERROR;
    }

    /* a host without IPv6 pushes to IPv4 subscribers alone */
    nc_push_conn6 = nc_naming_push_socket((struct sockaddr *) &sin6,
                                          sizeof(sin6), log);

    /* push ids: microseconds of the start, then one by one (< 2^53) */
    (void) clock_gettime(CLOCK_REALTIME, &ts);
    nc_push_base = (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;

    return NC_OK;
}


static nc_connection_t *
nc_naming_push_socket(struct sockaddr *sa, socklen_t len, nc_log_t *log)
{
    int               fd, on;
    nc_connection_t  *c;

    fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    on = 1;

    if (fd == -1
        || (sa->sa_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int))
               == -1)
        || bind(fd, sa, len) == -1)
    {
        nc_log_error(sa->sa_family == AF_INET ? NC_LOG_ALERT : NC_LOG_NOTICE,
                     log, errno, "naming: the UDP push socket (IPv%c) "
                     "failed: no pushes to such subscribers",
                     sa->sa_family == AF_INET ? '4' : '6');
        if (fd != -1) {
            (void) close(fd);
        }
        return NULL;
    }

    c = nc_get_connection(fd, log);
    if (c == NULL) {
        (void) close(fd);
        return NULL;
    }

    c->read->handler = nc_naming_push_read;
    c->write->handler = nc_naming_push_writable;

    if (nc_event_add_conn(c) != NC_OK) {
        nc_free_connection(c);
        (void) close(fd);
        return NULL;
    }

    return c;
}


void
nc_naming_push_subscribe(const u_char *p, size_t len, nc_msec_t now)
{
    size_t           n, rlen, klen, clen;
    uint64_t         hash;
    nc_uint_t        port;
    const u_char    *end, *r, *ip, *key, *cl;
    nc_push_svc_t   *svc;
    nc_push_sub_t   *sub, **bucket;
    struct in_addr   in;
    struct in6_addr  in6;
    char             ipbuf[65];

    if (nc_push_conn == NULL) {
        return;
    }

    end = p + len;

    for ( ; end - p >= 2; p += rlen) {
        rlen = p[0] | (size_t) p[1] << 8;
        p += 2;

        if ((size_t) (end - p) < rlen || rlen < 3) {
            return;
        }

        /* u16 port, u8 ip length, ip, u16 key length, key, u16 clusters
         * length, clusters: all inside the record */
        r = p;
        port = r[0] | (nc_uint_t) r[1] << 8;
        n = r[2];
        ip = r + 3;

        if (3 + n + 2 > rlen) {
            continue;
        }

        klen = ip[n] | (size_t) ip[n + 1] << 8;
        key = ip + n + 2;

        if (3 + n + 2 + klen + 2 > rlen) {
            continue;
        }

        clen = key[klen] | (size_t) key[klen + 1] << 8;
        cl = key + klen + 2;

        if (3 + n + 2 + klen + 2 + clen != rlen || n == 0 || n > 64) {
            continue;
        }

        nc_memcpy(ipbuf, ip, n);
        ipbuf[n] = '\0';

        /* an IPv4 subscriber's address is kept mapped (::ffff:a.b.c.d) */
        if (inet_pton(AF_INET, ipbuf, &in) == 1) {
            nc_memzero(&in6, sizeof(struct in6_addr));
            in6.s6_addr[10] = 0xff;
            in6.s6_addr[11] = 0xff;
            nc_memcpy(&in6.s6_addr[12], &in, 4);

        } else if (nc_push_conn6 == NULL
                   || inet_pton(AF_INET6, ipbuf, &in6) != 1)
        {
            continue;
        }

        if (port == 0) {
            continue;
        }

        svc = nc_naming_push_svc(key, klen, 1);
        if (svc == NULL) {
            continue;
        }

        hash = nc_store_key_hash(cl, clen) ^ svc->hash
               ^ (nc_store_key_hash(in6.s6_addr, 16) + port)
                 * 0x9e3779b97f4a7c15ULL;

        bucket = &nc_push_subs[hash & (NC_PUSH_SUB_BUCKETS - 1)];

        for (sub = *bucket; sub; sub = sub->next) {
            if (sub->hash == hash && sub->svc == svc
                && nc_memcmp(&sub->addr.sin6_addr, &in6, 16) == 0
                && ntohs(sub->addr.sin6_port) == port
                && sub->clusters_len == clen
                && nc_memcmp(sub->clusters, cl, clen) == 0)
            {
                break;
            }
        }

        if (sub == NULL) {
            if (nc_push_stats.subscribers >= NC_PUSH_MAX_SUBS) {
                nc_log_error(NC_LOG_WARN, nc_push_log, 0,
                             "naming: %d push subscribers, no more taken",
                             NC_PUSH_MAX_SUBS);
                continue;
            }

            sub = calloc(1, sizeof(nc_push_sub_t) + clen);
            if (sub == NULL) {
                continue;
            }

            sub->hash = hash;
            sub->svc = svc;
            sub->addr.sin6_family = AF_INET6;
            sub->addr.sin6_addr = in6;
            sub->addr.sin6_port = htons((uint16_t) port);
            sub->clusters_len = clen;
            nc_memcpy(sub->clusters, cl, clen);

            sub->next = *bucket;
            *bucket = sub;
            sub->svc_next = svc->subs;
            svc->subs = sub;

            nc_push_stats.subscribers++;
        }

        sub->seen = now;
    }
}


void
nc_naming_push_changed(const u_char *key, size_t len)
{
    nc_push_svc_t  *svc;

    if (nc_push_conn == NULL) {
        return;
    }

    svc = nc_naming_push_svc(key, len, 0);

    if (svc && svc->subs && !svc->changed) {
        svc->changed = 1;
        svc->changed_next = nc_push_changed;
        nc_push_changed = svc;
    }
}


void
nc_naming_push_all(void)
{
    nc_push_everything = 1;
}


void
nc_naming_push_run(nc_store_t *s)
{
    nc_uint_t                  i;
    nc_pool_t                 *pool;
    nc_shm_off_t               off;
    nc_push_svc_t             *svc, *next;
    const nc_store_version_t  *v;

    if (nc_push_everything) {
        nc_push_everything = 0;

        for (i = 0; i < NC_PUSH_SVC_BUCKETS; i++) {
            for (svc = nc_push_svcs[i]; svc; svc = svc->next) {
                nc_naming_push_changed(svc->key, svc->len);
            }
        }
    }

    if (nc_push_changed == NULL) {
        return;
    }

    off = atomic_load_explicit(&s->hdr->current, memory_order_acquire);
    pool = nc_create_pool(64 * 1024);

    for (svc = nc_push_changed; svc; svc = next) {
        next = svc->changed_next;
        svc->changed = 0;
        svc->changed_next = NULL;

        if (off && pool) {
            v = nc_store_ptr(s, off);
            nc_naming_push_service(s, v, svc, pool);
            nc_reset_pool(pool);
        }
    }

    nc_push_changed = NULL;

    if (pool) {
        nc_destroy_pool(pool);
    }
}


/* every subscriber of a service that changed: one datagram per clusters
 * string they ask */
static void
nc_naming_push_service(nc_store_t *s, const nc_store_version_t *v,
    nc_push_svc_t *svc, nc_pool_t *pool)
{
    u_char                  *at, *slash;
    nc_str_t                 clusters, list, grouped;
    nc_push_sub_t           *sub, *other;
    nc_push_dgram_t         *d;
    nc_store_naming_name_t   name;

    /* nss/<ns>/<group>@@<service> */
    slash = memchr(svc->key + 4, '/', svc->len - 4);
    if (slash == NULL) {
        return;
    }

    at = memmem(slash, svc->key + svc->len - slash, "@@", 2);
    if (at == NULL) {
        return;
    }

    nc_memzero(&name, sizeof(nc_store_naming_name_t));
    name.ns.data = svc->key + 4;
    name.ns.len = slash - name.ns.data;
    name.group.data = slash + 1;
    name.group.len = at - name.group.data;
    name.service.data = at + 2;
    name.service.len = svc->key + svc->len - name.service.data;
    grouped.data = slash + 1;
    grouped.len = svc->key + svc->len - grouped.data;

    /* each clusters string once: the first subscriber asking it renders */
    for (sub = svc->subs; sub; sub = sub->svc_next) {
        for (other = svc->subs; other != sub; other = other->svc_next) {
            if (other->clusters_len == sub->clusters_len
                && nc_memcmp(other->clusters, sub->clusters,
                             sub->clusters_len) == 0)
            {
                break;
            }
        }

        if (other != sub) {
            continue;                    /* done with the first one */
        }

        clusters.data = sub->clusters;
        clusters.len = sub->clusters_len;

        if (nc_naming_list(pool, s, v, &name, &grouped, &clusters,
                           NC_NAMING_LIST_PUSH, &list)
            != NC_OK)
        {
            return;
        }

        d = nc_naming_push_dgram(pool, &list, svc);
        if (d == NULL) {
            continue;
        }

        for (other = sub; other; other = other->svc_next) {
            if (other->clusters_len != sub->clusters_len
                || nc_memcmp(other->clusters, sub->clusters,
                             sub->clusters_len) != 0)
            {
                continue;
            }

            /* a newer push supersedes one not acked yet */
            if (other->pending) {
                nc_naming_push_unref(other->pending);
            }

            d->refs++;
            other->pending = d;
            other->retried = 0;
            nc_naming_push_send(other);
        }

        nc_naming_push_unref(d);
    }
}


/* {"type":"dom","data":"<list>","lastRefTime":n}, gzipped from 1 KiB */
static nc_push_dgram_t *
nc_naming_push_dgram(nc_pool_t *pool, const nc_str_t *list,
    nc_push_svc_t *svc)
{
    u_char           *json, *p;
    size_t            len;
    uint64_t          id;
    z_stream          zs;
    nc_push_dgram_t  *d, **slot;

    id = nc_push_base + ++nc_push_seq;

    len = nc_json_escape_len(list->data, list->len) + 64;
    json = nc_pnalloc(pool, len);
    if (json == NULL) {
        return NULL;
    }

    p = nc_cpymem(json, "{\"type\":\"dom\",\"data\":\"", 22);
    p = nc_json_escape(p, list->data, list->len);
    p += snprintf((char *) p, 40, "\",\"lastRefTime\":%" PRIu64 "}", id);
    len = p - json;

    d = malloc(sizeof(nc_push_dgram_t) + nc_max(len, NC_PUSH_GZIP_MIN));
    if (d == NULL) {
        return NULL;
    }

    d->refs = 1;
    d->id = id;
    d->svc = svc;
    svc->dgrams++;

    if (len < NC_PUSH_GZIP_MIN) {
        nc_memcpy(d->data, json, len);
        d->len = len;

    } else {
        nc_memzero(&zs, sizeof(z_stream));

        if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY)
            != Z_OK)
        {
            nc_naming_push_unref(d);
            return NULL;
        }

        zs.next_in = json;
        zs.avail_in = (uInt) len;
        zs.next_out = d->data;
        zs.avail_out = (uInt) nc_max(len, NC_PUSH_GZIP_MIN);

        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
            (void) deflateEnd(&zs);
            nc_naming_push_unref(d);
            return NULL;                 /* did not shrink: nobody's loss */
        }

        d->len = zs.total_out;
        (void) deflateEnd(&zs);
    }

    if (d->len > NC_PUSH_MAX_DGRAM) {
        nc_log_error(NC_LOG_WARN, nc_push_log, 0,
                     "naming: a push of %zu bytes is too big for UDP: the "
                     "subscribers of %.*s learn by polling", d->len,
                     (int) svc->len, svc->key);
        nc_naming_push_unref(d);
        return NULL;
    }

    /* where an ack finds it; an older one there no longer can */
    slot = &nc_push_acks[id & (NC_PUSH_ACKS - 1)];

    if (*slot) {
        nc_naming_push_unref(*slot);
    }

    d->refs++;
    *slot = d;

    return d;
}


static void
nc_naming_push_send(nc_push_sub_t *sub)
{
    ssize_t              n;
    nc_push_dgram_t     *d;
    struct sockaddr_in   sin;

    d = sub->pending;
    sub->sent = nc_current_msec;

    /* a full socket buffer: the retry sends it again */
    if (IN6_IS_ADDR_V4MAPPED(&sub->addr.sin6_addr)) {
        nc_memzero(&sin, sizeof(struct sockaddr_in));
        sin.sin_family = AF_INET;
        sin.sin_port = sub->addr.sin6_port;
        nc_memcpy(&sin.sin_addr, &sub->addr.sin6_addr.s6_addr[12], 4);

        n = sendto(nc_push_conn->fd, d->data, d->len, 0,
                   (struct sockaddr *) &sin, sizeof(struct sockaddr_in));

    } else {
        n = sendto(nc_push_conn6->fd, d->data, d->len, 0,
                   (struct sockaddr *) &sub->addr, sizeof(struct sockaddr_in6));
    }

    if (n == -1 && errno != EAGAIN) {
        nc_log_debug(nc_push_log, "naming: push sendto() failed: %s",
                     strerror(errno));
    }

    nc_push_stats.pushes++;
}


static void
nc_naming_push_read(nc_event_t *ev)
{
    ssize_t                   n;
    socklen_t                 len;
    nc_connection_t          *c;
    struct sockaddr_in6       from6;
    struct sockaddr_storage   from;
    u_char                    buf[2048];

    c = ev->data;

    for ( ;; ) {
        len = sizeof(from);
        n = recvfrom(c->fd, buf, sizeof(buf), 0, (struct sockaddr *) &from,
                     &len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            return;                      /* EAGAIN, or an ICMP error */
        }

        /* as subscribers are kept: IPv4 addresses mapped */
        if (from.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) {
            nc_memzero(&from6, sizeof(struct sockaddr_in6));
            from6.sin6_family = AF_INET6;
            from6.sin6_port = ((struct sockaddr_in *) &from)->sin_port;
            from6.sin6_addr.s6_addr[10] = 0xff;
            from6.sin6_addr.s6_addr[11] = 0xff;
            nc_memcpy(&from6.sin6_addr.s6_addr[12],
                      &((struct sockaddr_in *) &from)->sin_addr, 4);

        } else if (from.ss_family == AF_INET6
                   && len == sizeof(struct sockaddr_in6))
        {
            nc_memcpy(&from6, &from, sizeof(struct sockaddr_in6));

        } else {
            continue;
        }

        nc_naming_push_ack(buf, (size_t) n, &from6);
    }
}


/* a full socket buffer loses datagrams, which the retries cover: nothing
 * waits for room */
static void
nc_naming_push_writable(nc_event_t *ev)
{
}


/*
 * {"type":"push-ack","lastRefTime":n,"data":""}: n a number (Node) or a
 * string (Java).  Whatever else arrives is dropped.
 */
static void
nc_naming_push_ack(const u_char *p, size_t len,
    const struct sockaddr_in6 *from)
{
    uint64_t          id;
    json_t           *root, *type, *ref;
    nc_push_sub_t    *sub;
    json_error_t      err;
    nc_push_dgram_t  *d;

    root = json_loadb((const char *) p, len, 0, &err);
    type = json_object_get(root, "type");
    ref = json_object_get(root, "lastRefTime");

    id = 0;

    if (json_is_string(type) && strcmp(json_string_value(type), "push-ack") == 0)
    {
        if (json_is_integer(ref)) {
            id = (uint64_t) json_integer_value(ref);

        } else if (json_is_real(ref)) {
            id = (uint64_t) json_real_value(ref);

        } else if (json_is_string(ref)) {
            id = strtoull(json_string_value(ref), NULL, 10);
        }
    }

    json_decref(root);

    d = id ? nc_push_acks[id & (NC_PUSH_ACKS - 1)] : NULL;

    if (d == NULL || d->id != id || d->svc == NULL) {
        return;
    }

    for (sub = d->svc->subs; sub; sub = sub->svc_next) {
        if (sub->pending == d && sub->addr.sin6_port == from->sin6_port
            && nc_memcmp(&sub->addr.sin6_addr, &from->sin6_addr, 16) == 0)
        {
            nc_naming_push_unref(d);
            sub->pending = NULL;
            nc_push_stats.acks++;
            return;
        }
    }
}


void
nc_naming_push_tick(nc_msec_t now)
{
    nc_uint_t        i;
    nc_push_sub_t  **link, *sub;
    nc_push_svc_t  **slink, *svc;

    static nc_msec_t  last;

    /* a walk over every bucket: once a second is enough */
    if (nc_push_conn == NULL || now - last < 1000) {
        return;
    }

    last = now;

    for (i = 0; i < NC_PUSH_SUB_BUCKETS; i++) {
        for (link = &nc_push_subs[i]; *link; ) {
            sub = *link;

            if (sub->pending && now - sub->sent >= NC_PUSH_RETRY) {
                if (!sub->retried) {
                    sub->retried = 1;
                    nc_push_stats.retries++;
                    nc_naming_push_send(sub);

                } else {
                    nc_push_stats.lost++;
                    nc_naming_push_unref(sub->pending);
                    sub->pending = NULL;
                }
            }

            if (now - sub->seen < NC_PUSH_EXPIRE) {
                link = &sub->next;
                continue;
            }

            /* it stopped polling */
            *link = sub->next;
            nc_naming_push_forget(sub);
        }
    }

    /* services nobody listens to any more */
    for (i = 0; i < NC_PUSH_SVC_BUCKETS; i++) {
        for (slink = &nc_push_svcs[i]; *slink; ) {
            svc = *slink;

            if (svc->subs || svc->changed || svc->dgrams) {
                slink = &svc->next;
                continue;
            }

            *slink = svc->next;
            free(svc);
        }
    }
}


void
nc_naming_push_stats(nc_naming_push_stats_t *st)
{
    *st = nc_push_stats;
}


size_t
nc_naming_push_subscribers(const u_char *key, size_t len, u_char *buf,
    size_t size)
{
    u_char          *p, *end;
    size_t           need;
    nc_uint_t        i;
    nc_push_svc_t   *svc, *one;
    nc_push_sub_t   *sub;
    char             ip[INET6_ADDRSTRLEN];

    if (nc_push_conn == NULL) {
        return 0;
    }

    p = buf;
    end = buf + size;
    one = len ? nc_naming_push_svc(key, len, 0) : NULL;

    if (len && one == NULL) {
        return 0;
    }

    for (i = 0; i < NC_PUSH_SVC_BUCKETS; i++) {
        for (svc = one ? one : nc_push_svcs[i]; svc;
             svc = one ? NULL : svc->next)
        {
            for (sub = svc->subs; sub; sub = sub->svc_next) {
                if (IN6_IS_ADDR_V4MAPPED(&sub->addr.sin6_addr)) {
                    (void) inet_ntop(AF_INET,
                                     &sub->addr.sin6_addr.s6_addr[12], ip,
                                     sizeof(ip));
                } else {
                    (void) inet_ntop(AF_INET6, &sub->addr.sin6_addr, ip,
                                     sizeof(ip));
                }

                need = svc->len + 1 + strlen(ip) + 6 + 1
                       + sub->clusters_len + 1;

                if ((size_t) (end - p) < need) {
                    return p - buf;
                }

                p = nc_cpymem(p, svc->key, svc->len);
                *p++ = NC_STORE_NAMING_SEP;
                p += sprintf((char *) p, "%s:%u", ip,
                             (unsigned) ntohs(sub->addr.sin6_port));
                *p++ = NC_STORE_NAMING_SEP;
                p = nc_cpymem(p, sub->clusters, sub->clusters_len);
                *p++ = '\n';
            }
        }

        if (one) {
            break;
        }
    }

    return p - buf;
}


static nc_push_svc_t *
nc_naming_push_svc(const u_char *key, size_t len, nc_flag_t create)
{
    uint64_t         hash;
    nc_push_svc_t   *svc, **bucket;

    hash = nc_store_key_hash(key, len);
    bucket = &nc_push_svcs[hash & (NC_PUSH_SVC_BUCKETS - 1)];

    for (svc = *bucket; svc; svc = svc->next) {
        if (svc->hash == hash && svc->len == len
            && nc_memcmp(svc->key, key, len) == 0)
        {
            return svc;
        }
    }

    if (!create || len < sizeof(NC_STORE_NAMING_SERVICE)
        || nc_memcmp(key, NC_STORE_NAMING_SERVICE,
                     sizeof(NC_STORE_NAMING_SERVICE) - 1) != 0)
    {
        return NULL;
    }

    svc = calloc(1, sizeof(nc_push_svc_t) + len);
    if (svc == NULL) {
        return NULL;
    }

    svc->hash = hash;
    svc->len = len;
    nc_memcpy(svc->key, key, len);
    svc->next = *bucket;
    *bucket = svc;

    return svc;
}


/* out of the hash already: out of its service's list, and freed */
static void
nc_naming_push_forget(nc_push_sub_t *sub)
{
    nc_push_sub_t  **link;

    for (link = &sub->svc->subs; *link; link = &(*link)->svc_next) {
        if (*link == sub) {
            *link = sub->svc_next;
            break;
        }
    }

    if (sub->pending) {
        nc_naming_push_unref(sub->pending);
    }

    nc_push_stats.subscribers--;
    free(sub);
}


static void
nc_naming_push_unref(nc_push_dgram_t *d)
{
    if (--d->refs == 0) {
        d->svc->dgrams--;
        free(d);
    }
}
