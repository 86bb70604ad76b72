/*
 * bench/naming_load.c: load for bench/naming that wrk cannot make.
 *
 *   naming_load beats HOST PORT TOKEN INSTANCES RATE SECONDS CONNS [FIRST]
 *       registers INSTANCES ephemeral instances (100 per service, numbered
 *       from FIRST), then
 *       beats them at RATE beats/s for SECONDS over CONNS keep-alive
 *       connections, each beat as the Node client sends it (the beat JSON
 *       in the query).  Prints "registered N beats N ok N behind N".
 *       Touches the file $READY once registered and waits for $GO (beating
 *       meanwhile).  With $TRIVIAL set, the beats are GETs of the liveness
 *       check instead: the floor any HTTP request costs.
 *
 *   naming_load push HOST PORT TOKEN SUBSCRIBERS ROUNDS
 *       SUBSCRIBERS UDP sockets subscribe to one service by listing it
 *       with udpPort; then ROUNDS times one instance is registered and
 *       the time until each subscriber's push arrives is taken (each is
 *       acked).  Prints "deliveries N missing N p50 X p99 X max X" (ms).
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>


static const char  *host;
static int          port;
static const char  *token;


static double
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static int
dial(void)
{
    int                 fd, on;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, host, &sin.sin_addr);

    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
        perror("connect");
        exit(1);
    }

    on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));

    return fd;
}


/* one buffered response off a keep-alive connection: its status */
typedef struct {
    int                 fd;
    char                buf[65536];
    size_t              len;
    int                 busy;
} conn_t;


/* a whole response in c->buf? its size, else 0; status in *st */
static size_t
response(conn_t *c, int *st)
{
    char    *end, *cl;
    size_t   head, body;

    c->buf[c->len < sizeof(c->buf) ? c->len : sizeof(c->buf) - 1] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    head = end + 4 - c->buf;
    cl = strcasestr(c->buf, "\r\ncontent-length:");
    body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;

    if (c->len < head + body) {
        return 0;
    }

    *st = atoi(c->buf + 9);
    return head + body;
}


/* a blocking request on c: the status */
static int
request(conn_t *c, const char *req)
{
    int      st;
    size_t   n, len, done;
    ssize_t  r;

    len = strlen(req);

    for (done = 0; done < len; done += r) {
        r = write(c->fd, req + done, len - done);
        if (r <= 0) {
            perror("write");
            exit(1);
        }
    }

    for ( ;; ) {
        n = response(c, &st);
        if (n) {
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return st;
        }

        r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (r <= 0) {
            /* keepalive_requests ran out: again on a new connection */
            if (c->len == 0 && done == len) {
                close(c->fd);
                c->fd = dial();
                return request(c, req);
            }

            fprintf(stderr, "naming_load: the server closed\n");
            exit(1);
        }

        c->len += r;
    }
}


static int  first;                      /* of this loader's instances */


static void
instance_name(int i, char *svc, char *ip)
{
    i += first;

    sprintf(svc, "bench-%d", i / 100);
    sprintf(ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}


static conn_t  *conns;
static int      nconns;
static int      ep;
static long     cursor;                 /* the next instance to beat */


/* request i of a phase: a registration, or a beat as the Node client's */
static void
phase_request(int beat, long i, int instances, char *req, size_t size)
{
    char  svc[64], ip[64];

    instance_name((int) (i % instances), svc, ip);

    if (!beat) {
        snprintf(req, size,
                 "POST /nacos/v1/ns/instance?serviceName=%s&ip=%s&port=8080"
                 "&ephemeral=true&accessToken=%s HTTP/1.1\r\nHost: b\r\n"
                 "Content-Length: 0\r\n\r\n", svc, ip, token);
        return;
    }

    /* the floor: the same rate of the cheapest request there is */
    if (getenv("TRIVIAL")) {
        snprintf(req, size, "GET /nacos/v1/console/health/liveness HTTP/1.1"
                 "\r\nHost: b\r\n\r\n");
        return;
    }

    snprintf(req, size,
             "PUT /nacos/v1/ns/instance/beat?namespaceId=public"
             "&serviceName=DEFAULT_GROUP%%40%%40%s&beat=%%7B%%22"
             "serviceName%%22%%3A%%22DEFAULT_GROUP%%40%%40%s%%22%%2C"
             "%%22ip%%22%%3A%%22%s%%22%%2C%%22port%%22%%3A8080%%2C"
             "%%22cluster%%22%%3A%%22DEFAULT%%22%%2C%%22weight%%22"
             "%%3A1%%2C%%22metadata%%22%%3A%%7B%%7D%%2C%%22scheduled"
             "%%22%%3Atrue%%7D&accessToken=%s HTTP/1.1\r\nHost: b\r\n"
             "Content-Length: 0\r\n\r\n", svc, svc, ip, token);
}


/*
 * count requests (beat or register) over the connections, at rate per
 * second (0: as fast as they answer), for at most seconds; *ok counts
 * the good answers, *behind the times a due request found no idle
 * connection
 */
static long
phase(int beat, long count, double rate, double seconds, int instances,
    long *ok, long *behind)
{
    int                 i, k, n, st;
    long                sent, due, answered;
    char                req[2048];
    double              t0, t;
    struct epoll_event  evs[256];

    sent = 0;
    answered = 0;
    *ok = 0;
    *behind = 0;
    t0 = now_ms();
    k = 0;

    while (answered < count) {
        t = now_ms() - t0;
        if (seconds && t >= seconds * 1e3) {
            break;
        }

        due = rate ? (long) (t / 1e3 * rate) - sent : nconns;
        if (due > count - sent) {
            due = count - sent;
        }

        while (due > 0) {
            for (n = 0; n < nconns && conns[k].busy; n++) {
                k = (k + 1) % nconns;
            }

            if (conns[k].busy) {
                *behind += rate != 0;
                break;
            }

            phase_request(beat, beat ? cursor++ : sent, instances, req,
                          sizeof(req));

            if (write(conns[k].fd, req, strlen(req))
                != (ssize_t) strlen(req))
            {
                perror("write");
                exit(1);
            }

            conns[k].busy = 1;
            sent++;
            due--;
        }

        n = epoll_wait(ep, evs, 256, 1);

        for (i = 0; i < n; i++) {
            conn_t  *c = &conns[evs[i].data.u32];
            ssize_t  r;
            size_t   len;

            r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
            if (r <= 0) {
                /* keepalive_requests ran out after an answer: reconnect */
                if (c->busy || c->len) {
                    fprintf(stderr, "naming_load: the server closed\n");
                    exit(1);
                }

                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = dial();
                evs[i].events = EPOLLIN;
                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &evs[i]);
                continue;
            }

            c->len += r;
            len = response(c, &st);

            if (len) {
                *ok += st == 200 && (!beat || getenv("TRIVIAL")
                                     || strstr(c->buf, "\"code\":10200"));
                c->buf[len - 1] = '\0';
                r = strcasestr(c->buf, "\r\nconnection: close") != NULL;
                memmove(c->buf, c->buf + len, c->len - len);
                c->len -= len;
                c->busy = 0;
                answered++;

                /* keepalive_requests ran out: a new connection */
                if (r) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    c->fd = dial();
                    c->len = 0;
                    evs[i].events = EPOLLIN;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &evs[i]);
                }
            }
        }
    }

    return sent;
}


static int
beats(int instances, double rate, int seconds, int n)
{
    int                 k;
    long                sent, ok, behind;
    struct stat         sb;
    const char         *ready, *go;
    struct epoll_event  ev;

    nconns = n;
    conns = calloc(nconns, sizeof(conn_t));
    ep = epoll_create1(0);

    for (k = 0; k < nconns; k++) {
        conns[k].fd = dial();
        ev.events = EPOLLIN;
        ev.data.u32 = k;
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[k].fd, &ev);
    }

    (void) phase(0, instances, 0, 0, instances, &ok, &behind);

    if (ok != instances) {
        fprintf(stderr, "naming_load: %ld of %d registered\n", ok, instances);
        return 1;
    }

    ready = getenv("READY");
    go = getenv("GO");

    if (ready) {
        close(open(ready, 01 | 0100, 0644));
    }

    /* beat meanwhile: a lease runs while the caller gets ready */
    while (ready && go && stat(go, &sb) != 0) {
        (void) phase(1, (long) rate, rate, 1, instances, &ok, &behind);
    }

    sent = phase(1, (long) (rate * seconds), rate, seconds, instances, &ok,
                 &behind);

    printf("registered %d beats %ld ok %ld behind %ld\n", instances, sent, ok,
           behind);

    return 0;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


/* ack a push: the lastRefTime it names, its last number (plain JSON here:
 * the pushes of this bench stay under 1 KiB, not gzipped) */
static void
ack(int fd, const char *buf, struct sockaddr_in *from, socklen_t sl)
{
    int          len;
    char         a[128];
    const char  *p;

    p = strrchr(buf, ':');

    if (buf[0] != '{' || p == NULL || strstr(buf, "\"lastRefTime\":") == NULL) {
        return;
    }

    len = snprintf(a, sizeof(a), "{\"type\":\"push-ack\",\"lastRefTime\":"
                   "%lld,\"data\":\"\"}", atoll(p + 1));
    sendto(fd, a, len, 0, (struct sockaddr *) from, sl);
}


static int
push(int subscribers, int rounds)
{
    int                 i, r, st, got, *fds, ep, n;
    long                deliveries, missing;
    char                req[1024], buf[65536];
    double              t0, *lat, left;
    conn_t              c;
    socklen_t           sl;
    struct sockaddr_in  sin, from;
    struct epoll_event  ev, evs[256];
    memset(&c, 0, sizeof(c));
    c.fd = dial();

    fds = calloc(subscribers, sizeof(int));
    lat = calloc((size_t) subscribers * rounds, sizeof(double));
    ep = epoll_create1(0);

    for (i = 0; i < subscribers; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);

        if (bind(fds[i], (struct sockaddr *) &sin, sizeof(sin)) < 0) {
            perror("bind");
            return 1;
        }

        sl = sizeof(sin);
        getsockname(fds[i], (struct sockaddr *) &sin, &sl);

        snprintf(req, sizeof(req),
                 "GET /nacos/v1/ns/instance/list?serviceName=pushbench"
                 "&udpPort=%d&clientIP=127.0.0.1&clusters=&accessToken=%s "
                 "HTTP/1.1\r\nHost: b\r\n\r\n", ntohs(sin.sin_port), token);

        st = request(&c, req);
        if (st != 200) {
            fprintf(stderr, "naming_load: list: %d\n", st);
            return 1;
        }

        ev.events = EPOLLIN;
        ev.data.u32 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }

    /* the subscriptions reach the consensus process after the loop turns */
    usleep(300000);

    deliveries = 0;
    missing = 0;

    for (r = 0; r < rounds; r++) {
        snprintf(req, sizeof(req),
                 "POST /nacos/v1/ns/instance?serviceName=pushbench"
                 "&ip=10.200.%d.%d&port=1&ephemeral=false&accessToken=%s "
                 "HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n",
                 r / 250, r % 250, token);

        t0 = now_ms();
        st = request(&c, req);
        if (st != 200) {
            fprintf(stderr, "naming_load: register: %d\n", st);
            return 1;
        }

        got = 0;

        while (got < subscribers) {
            left = 2000 - (now_ms() - t0);
            if (left <= 0) {
                break;
            }

            n = epoll_wait(ep, evs, 256, (int) left + 1);

            for (i = 0; i < n; i++) {
                int      fd = fds[evs[i].data.u32];
                ssize_t  len;

                sl = sizeof(from);
                len = recvfrom(fd, buf, sizeof(buf) - 1, 0,
                               (struct sockaddr *) &from, &sl);
                if (len <= 0) {
                    continue;
                }

                lat[deliveries++] = now_ms() - t0;
                got++;

                buf[len] = '\0';
                ack(fd, buf, &from, sl);
            }
        }

        missing += subscribers - got;

        /* the instance goes again, so every push stays small (plain JSON,
         * acked here); its pushes and stragglers drain */
        snprintf(req, sizeof(req),
                 "DELETE /nacos/v1/ns/instance?serviceName=pushbench"
                 "&ip=10.200.%d.%d&port=1&ephemeral=false&accessToken=%s "
                 "HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n",
                 r / 250, r % 250, token);
        (void) request(&c, req);

        usleep(100000);
        for (i = 0; i < subscribers; i++) {
            ssize_t  len;

            for ( ;; ) {
                sl = sizeof(from);
                len = recvfrom(fds[i], buf, sizeof(buf) - 1, 0,
                               (struct sockaddr *) &from, &sl);
                if (len <= 0) {
                    break;
                }

                buf[len] = '\0';
                ack(fds[i], buf, &from, sl);
            }
        }
    }

    qsort(lat, deliveries, sizeof(double), cmp_double);

    printf("deliveries %ld missing %ld p50 %.1f p99 %.1f max %.1f\n",
           deliveries, missing,
           deliveries ? lat[deliveries / 2] : 0,
           deliveries ? lat[(long) (deliveries * 0.99)] : 0,
           deliveries ? lat[deliveries - 1] : 0);

    return 0;
}


int
main(int argc, char **argv)
{
    if (argc >= 9 && strcmp(argv[1], "beats") == 0) {
        first = argc >= 10 ? atoi(argv[9]) : 0;
        host = argv[2];
        port = atoi(argv[3]);
        token = argv[4];
        return beats(atoi(argv[5]), atof(argv[6]), atoi(argv[7]),
                     atoi(argv[8]));
    }

    if (argc >= 7 && strcmp(argv[1], "push") == 0) {
        host = argv[2];
        port = atoi(argv[3]);
        token = argv[4];
        return push(atoi(argv[5]), atoi(argv[6]));
    }

    fprintf(stderr, "usage: naming_load beats HOST PORT TOKEN INSTANCES RATE "
                    "SECONDS CONNS [FIRST]\n"
                    "       naming_load push HOST PORT TOKEN SUBSCRIBERS "
                    "ROUNDS\n");
    return 2;
}
