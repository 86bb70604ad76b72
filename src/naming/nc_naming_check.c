
/*
 * nacre: health checks of persistent instances (nc_naming_check.h).
 *
 * The targets are an array sorted by instance key, rebuilt from the store
 * every second and merged with the previous one (counters survive); a
 * probe in flight names its target by key, so a rebuild never leaves it
 * pointing nowhere.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_naming_check.h>


#define NC_CHECK_TCP            1
#define NC_CHECK_HTTP           2
#define NC_CHECK_NONE           3

#define NC_CHECK_SWEEP          1000      /* ms between rebuilds */
#define NC_CHECK_REQUEST        2048


typedef struct {
    const u_char       *key;             /* in the arena: nc_naming_keyed_t */
    size_t              len;
    uint64_t            revision;
    uint64_t            proposed;        /* revision a flip was proposed for */
    nc_msec_t           next;            /* due */
    uint32_t            oks;             /* in a row */
    uint32_t            fails;
    struct sockaddr_storage  addr;
    socklen_t           socklen;         /* 0: no address to probe */
    const u_char       *path;            /* HTTP, in the arena */
    size_t              path_len;
    const u_char       *headers;         /* "k:v|k:v" */
    size_t              headers_len;
    uint16_t            expected;
    uint8_t             type;
    unsigned            healthy:1;
    unsigned            probing:1;
} nc_check_target_t;


typedef struct {
    nc_connection_t    *connection;
    uint8_t             type;
    uint16_t            expected;
    unsigned            connected:1;
    size_t              req_len;
    size_t              sent;
    size_t              got;
    u_char              resp[16];
    u_char             *req;
    size_t              len;
    u_char              key[];
} nc_check_probe_t;


static void nc_naming_check_sweep(nc_store_t *s, nc_msec_t now);
static void nc_naming_check_settings(nc_check_target_t *t,
    const nc_store_record_t *cluster, u_char **arena);
static void nc_naming_check_start(nc_check_target_t *t, nc_msec_t now);
static void nc_naming_check_write(nc_event_t *ev);
static void nc_naming_check_read(nc_event_t *ev);
static void nc_naming_check_done(nc_check_probe_t *p, nc_flag_t ok);
static nc_check_target_t *nc_naming_check_find(const u_char *key, size_t len);
static void nc_naming_check_drop(void);


static nc_log_t            *nc_check_log;
static nc_conf_naming_t    *nc_check_conf;
static nc_check_target_t   *nc_checks;
static size_t               nc_nchecks;
static u_char              *nc_check_arena;
static uint64_t             nc_check_term;
static nc_msec_t            nc_check_swept;
static nc_store_t          *nc_check_store;
static nc_naming_propose_pt nc_check_propose;
static nc_store_iter_t     *nc_check_iter;
static nc_naming_check_stats_t  nc_check_stats;


void
nc_naming_check_init(nc_log_t *log, nc_conf_naming_t *conf)
{
    nc_check_log = log;
    nc_check_conf = conf;
}


void
nc_naming_check_tick(nc_store_t *s, nc_flag_t leader, uint64_t term,
    nc_msec_t now, nc_naming_propose_pt propose)
{
    size_t              i;
    nc_check_target_t  *t;

    if (!leader) {
        if (nc_check_term) {
            nc_naming_check_drop();
        }

        return;
    }

    nc_check_store = s;
    nc_check_propose = propose;

    if (nc_check_term != term) {
        nc_naming_check_drop();          /* counts start again */
        nc_check_term = term;
    }

    if (nc_check_swept == 0 || now - nc_check_swept >= NC_CHECK_SWEEP) {
        nc_naming_check_sweep(s, now);
        nc_check_swept = now ? now : 1;
    }

    for (i = 0; i < nc_nchecks
                && nc_check_stats.running < nc_check_conf->check_concurrency;
         i++)
    {
        t = &nc_checks[i];

        if (t->type != NC_CHECK_NONE && !t->probing
            && (nc_int_t) (now - t->next) >= 0)
        {
            t->next = now + nc_check_conf->check_interval;
            nc_naming_check_start(t, now);
        }
    }
}


void
nc_naming_check_stats(nc_naming_check_stats_t *st)
{
    *st = nc_check_stats;
    st->targets = nc_nchecks;
}


/* the persistent instances of the published version, merged in */
static void
nc_naming_check_sweep(nc_store_t *s, nc_msec_t now)
{
    int                        cmp;
    u_char                    *arena, *a, *sep;
    size_t                     n, bytes, i, old, clen;
    nc_shm_off_t               off;
    nc_check_target_t         *targets, *t, *o;
    const nc_store_record_t   *rec, *cluster;
    const nc_store_version_t  *v;
    u_char                     ckey[NC_STORE_MAX_KEY_LEN];

    off = atomic_load_explicit(&s->hdr->current, memory_order_acquire);
    if (off == 0) {
        return;
    }

    v = nc_store_ptr(s, off);

    if (nc_check_iter == NULL) {
        nc_check_iter = malloc(sizeof(nc_store_iter_t));
        if (nc_check_iter == NULL) {
            return;
        }
    }

    n = 0;
    bytes = 0;

    nc_store_iter_init(nc_check_iter, s, v->root,
                       (u_char *) NC_STORE_NAMING_INSTANCE,
                       sizeof(NC_STORE_NAMING_INSTANCE) - 1, NULL, 0);

    while ((rec = nc_store_iter_next(nc_check_iter)) != NULL) {
        if (rec->type == NC_STORE_T_NAMING
            && !(rec->flags & NC_STORE_NAMING_EPHEMERAL))
        {
            n++;

            /* its key, and room for an HTTP path and headers */
            bytes += rec->key_len + 2 * 1024;
        }
    }

    targets = malloc((n ? n : 1) * sizeof(nc_check_target_t));
    arena = malloc(bytes ? bytes : 1);

    if (targets == NULL || arena == NULL) {
        free(targets);
        free(arena);
        return;
    }

    nc_store_iter_init(nc_check_iter, s, v->root,
                       (u_char *) NC_STORE_NAMING_INSTANCE,
                       sizeof(NC_STORE_NAMING_INSTANCE) - 1, NULL, 0);

    i = 0;
    old = 0;
    a = arena;
    cluster = NULL;
    clen = 0;

    while (i < n && (rec = nc_store_iter_next(nc_check_iter)) != NULL) {
        if (rec->type != NC_STORE_T_NAMING
            || (rec->flags & NC_STORE_NAMING_EPHEMERAL)
            || rec->value_len < sizeof(nc_store_naming_instance_t))
        {
            continue;
        }

        t = &targets[i++];
        nc_memzero(t, sizeof(nc_check_target_t));

        t->key = a;
        t->len = rec->key_len;
        a = nc_cpymem(a, nc_store_record_key(rec), rec->key_len);
        t->revision = rec->revision;
        t->healthy = (rec->flags & NC_STORE_NAMING_HEALTHY) != 0;

        /* the cluster's settings: nsc/ + the key up to the cluster's end;
         * instances come in cluster order, one lookup per cluster */
        sep = memchr(t->key, NC_STORE_NAMING_SEP, t->len);
        sep = sep ? memchr(sep + 1, NC_STORE_NAMING_SEP,
                           t->key + t->len - sep - 1) : NULL;

        if (sep && (clen != (size_t) (sep - t->key)
                    || nc_memcmp(ckey + 4, t->key + 4, clen - 4) != 0))
        {
            clen = sep - t->key;
            nc_memcpy(ckey, t->key, clen);
            ckey[2] = 'c';
            cluster = nc_store_get(s, v, ckey, clen);
        }

        nc_naming_check_settings(t, sep ? cluster : NULL, &a);

        /* the old target of this key: both lists are in order */
        o = NULL;

        while (old < nc_nchecks) {
            cmp = nc_naming_keycmp(nc_checks[old].key, nc_checks[old].len,
                                   t->key, t->len);

            if (cmp > 0) {
                break;
            }

            if (cmp == 0) {
                o = &nc_checks[old++];
                break;
            }

            old++;
        }

        if (o) {
            t->next = o->next;
            t->probing = o->probing;
            t->proposed = o->proposed;

            /* counts run on while the instance stays what it was */
            if (o->revision == t->revision) {
                t->oks = o->oks;
                t->fails = o->fails;
            }

        } else {
            /* a phase of its own within the interval */
            t->next = now + nc_store_key_hash(t->key, t->len)
                            % nc_check_conf->check_interval;
        }
    }

    free(nc_checks);
    free(nc_check_arena);

    nc_checks = targets;
    nc_nchecks = i;
    nc_check_arena = arena;
}


/* how and where to probe: the cluster's settings, else TCP on its port */
static void
nc_naming_check_settings(nc_check_target_t *t,
    const nc_store_record_t *cluster, u_char **arena)
{
    char                              *end;
    long                               code;
    u_char                            *p, *q;
    nc_uint_t                          port;
    nc_str_t                           checker;
    nc_store_naming_name_t             n;
    const nc_store_naming_cluster_t   *ch;
    struct sockaddr_in                *sin;
    struct sockaddr_in6               *sin6;
    char                               ip[NC_SOCKADDR_STRLEN];

    t->type = NC_CHECK_TCP;
    t->expected = 200;

    if (nc_store_naming_parse_instance(t->key, t->len, &n) != NC_OK) {
        return;
    }

    port = n.port;

    if (cluster && cluster->value_len >= sizeof(nc_store_naming_cluster_t)) {
        ch = nc_store_naming_cluster(cluster);
        nc_store_naming_field(cluster, NC_STORE_NAMING_C_CHECKER, &checker);

        if (!(ch->flags & NC_STORE_NAMING_C_INSTANCE_PORT) && ch->check_port) {
            port = ch->check_port;
        }

        /* the store keeps checkers in one form (nc_api_naming_checker) */
        if (checker.len >= 14
            && nc_memcmp(checker.data, "{\"type\":\"NONE\"", 14) == 0)
        {
            t->type = NC_CHECK_NONE;

        } else if (checker.len >= 14
                   && nc_memcmp(checker.data, "{\"type\":\"HTTP\"", 14) == 0)
        {
            t->type = NC_CHECK_HTTP;

            /* ,"path":"...","headers":"...","expectedResponseCode":N} */
            p = memmem(checker.data, checker.len, "\"path\":\"", 8);
            q = p ? memmem(p + 8, checker.data + checker.len - p - 8,
                           "\",\"headers\":\"", 13) : NULL;

            if (p && q && q - p - 8 <= 1024) {
                t->path = *arena;
                t->path_len = q - p - 8;
                *arena = nc_cpymem(*arena, p + 8, t->path_len);

                p = q + 13;
                q = memmem(p, checker.data + checker.len - p,
                           "\",\"expectedResponseCode\":", 25);

                if (q && q - p <= 1024) {
                    t->headers = *arena;
                    t->headers_len = q - p;
                    *arena = nc_cpymem(*arena, p, t->headers_len);

                    code = strtol((char *) q + 25, &end, 10);
                    t->expected = (uint16_t) (code >= 100 && code <= 599
                                              ? code : 200);
                }
            }
        }
    }

    if (n.ip.len >= sizeof(ip)) {
        return;
    }

    nc_memcpy(ip, n.ip.data, n.ip.len);
    ip[n.ip.len] = '\0';

    sin = (struct sockaddr_in *) &t->addr;
    sin6 = (struct sockaddr_in6 *) &t->addr;

    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        t->socklen = sizeof(struct sockaddr_in);

    } else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        t->socklen = sizeof(struct sockaddr_in6);
    }

    /* a host name: no address, the probe fails (Nacos takes addresses) */
}


static void
nc_naming_check_start(nc_check_target_t *t, nc_msec_t now)
{
    u_char            *p, *h, *end, *bar, *colon;
    nc_fd_t            fd;
    nc_connection_t   *c;
    nc_check_probe_t  *pr;

    nc_check_stats.probes++;

    pr = calloc(1, sizeof(nc_check_probe_t) + t->len + NC_CHECK_REQUEST);
    if (pr == NULL) {
        return;
    }

    nc_memcpy(pr->key, t->key, t->len);
    pr->len = t->len;
    pr->type = t->type;
    pr->expected = t->expected;
    pr->req = pr->key + t->len;

    if (t->type == NC_CHECK_HTTP) {
        /* GET path HTTP/1.1, Host, the checker's headers "k:v|k:v" */
        p = pr->req;
        p = nc_cpymem(p, "GET ", 4);

        if (t->path_len == 0 || t->path[0] != '/') {
            *p++ = '/';
        }

        p = nc_cpymem(p, t->path, t->path_len);
        p = nc_cpymem(p, " HTTP/1.1\r\nHost: ", 17);
        p += nc_sock_ntop((struct sockaddr *) &t->addr, p, NC_SOCKADDR_STRLEN,
                          1);
        p = nc_cpymem(p, "\r\nUser-Agent: Nacos-Server\r\n"
                         "Connection: close\r\n", 47);

        h = (u_char *) t->headers;
        end = h + t->headers_len;

        while (h && h < end) {
            bar = memchr(h, '|', end - h);
            bar = bar ? bar : end;
            colon = memchr(h, ':', bar - h);

            if (colon && colon > h) {
                p = nc_cpymem(p, h, colon - h);
                *p++ = ':';
                *p++ = ' ';
                p = nc_cpymem(p, colon + 1, bar - colon - 1);
                *p++ = '\r';
                *p++ = '\n';
            }

            h = bar + 1;
        }

        *p++ = '\r';
        *p++ = '\n';
        pr->req_len = p - pr->req;
    }

    if (t->socklen == 0) {
        nc_naming_check_done(pr, 0);
        return;
    }

    fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd == -1) {
        nc_naming_check_done(pr, 0);
        return;
    }

    if (connect(fd, (struct sockaddr *) &t->addr, t->socklen) == -1
        && errno != EINPROGRESS)
    {
        (void) close(fd);
        nc_naming_check_done(pr, 0);
        return;
    }

    c = nc_get_connection(fd, nc_check_log);
    if (c == NULL) {
        (void) close(fd);
        nc_naming_check_done(pr, 0);
        return;
    }

    c->data = pr;
    c->read->handler = nc_naming_check_read;
    c->write->handler = nc_naming_check_write;

    if (nc_event_add_conn(c) != NC_OK) {
        nc_close_connection(c);
        nc_naming_check_done(pr, 0);
        return;
    }

    /* from here on the probe's end closes the connection */
    pr->connection = c;
    nc_add_timer(c->read, nc_check_conf->check_timeout);

    t->probing = 1;
    nc_check_stats.running++;
}


static void
nc_naming_check_write(nc_event_t *ev)
{
    int                err;
    ssize_t            n;
    socklen_t          len;
    nc_connection_t   *c;
    nc_check_probe_t  *p;

    c = ev->data;
    p = c->data;

    if (!p->connected) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1
            || err != 0)
        {
            nc_naming_check_done(p, 0);
            return;
        }

        p->connected = 1;

        if (p->type == NC_CHECK_TCP) {
            nc_naming_check_done(p, 1);
            return;
        }
    }

    while (p->sent < p->req_len) {
        n = send(c->fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EAGAIN) {
                return;                  /* the next write event */
            }

            nc_naming_check_done(p, 0);
            return;
        }

        p->sent += n;
    }
}


/* an HTTP check: the status line decides */
static void
nc_naming_check_read(nc_event_t *ev)
{
    ssize_t            n;
    nc_int_t           code;
    nc_connection_t   *c;
    nc_check_probe_t  *p;

    c = ev->data;
    p = c->data;

    if (ev->timedout) {
        nc_naming_check_done(p, 0);
        return;
    }

    if (p->type != NC_CHECK_HTTP || !p->connected) {
        return;
    }

    while (p->got < 12) {
        n = recv(c->fd, p->resp + p->got, 12 - p->got, 0);

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            nc_naming_check_done(p, 0);
            return;
        }

        p->got += n;
    }

    /* "HTTP/1.1 200" */
    code = nc_memcmp(p->resp, "HTTP/1.", 7) == 0 && p->resp[8] == ' '
           ? nc_atoi(p->resp + 9, 3) : -1;

    nc_naming_check_done(p, code == p->expected);
}


/* a probe's end: count it, maybe propose a flip */
static void
nc_naming_check_done(nc_check_probe_t *p, nc_flag_t ok)
{
    u_char                 *cmd;
    size_t                  len;
    nc_pool_t              *pool;
    nc_check_target_t      *t;
    nc_store_naming_cmd_t   c;

    if (p->connection) {
        nc_close_connection(p->connection);
        nc_check_stats.running--;
    }

    t = nc_naming_check_find(p->key, p->len);

    if (!ok) {
        nc_check_stats.failures++;
    }

    if (t == NULL) {
        free(p);
        return;                          /* gone meanwhile */
    }

    t->probing = 0;

    if (ok) {
        t->oks++;
        t->fails = 0;
    } else {
        t->fails++;
        t->oks = 0;
    }

    if ((t->healthy ? t->fails : t->oks) < nc_check_conf->check_times
        || t->proposed == t->revision)
    {
        free(p);
        return;
    }

    pool = nc_create_pool(1024);

    if (pool) {
        nc_memzero(&c, sizeof(nc_store_naming_cmd_t));
        c.time = (uint64_t) time(NULL) * 1000;
        c.flags = t->healthy ? 0 : NC_STORE_NAMING_HEALTHY;

        cmd = nc_store_naming_command(pool, NC_STORE_NAMING_HEALTH, t->key,
                                      t->len, t->revision, &c, &len);

        if (cmd && nc_check_propose(cmd, len) == NC_OK) {
            t->proposed = t->revision;
            nc_check_stats.proposed++;

            nc_log_error(NC_LOG_INFO, nc_check_log, 0,
                         "naming: health check: %.*s turns %s",
                         (int) t->len, t->key,
                         t->healthy ? "unhealthy" : "healthy");
        }

        nc_destroy_pool(pool);
    }

    free(p);
}


static nc_check_target_t *
nc_naming_check_find(const u_char *key, size_t len)
{
    return nc_naming_keyed_find(nc_checks, nc_nchecks,
                                sizeof(nc_check_target_t), key, len);
}


/* not leading: probes in flight end unheard, the targets go */
static void
nc_naming_check_drop(void)
{
    free(nc_checks);
    free(nc_check_arena);

    nc_checks = NULL;
    nc_nchecks = 0;
    nc_check_arena = NULL;
    nc_check_term = 0;
    nc_check_swept = 0;
}
