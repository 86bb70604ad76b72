
/*
 * nacre: bench/config's outside client.  Holds N Nacos long-poll
 * listeners open on one nacre, publishes one change to the key they all
 * listen on, and times each answer from the moment the publish was sent.
 *
 *   config_listeners HOST PORT N DATAID GROUP MD5 TOKEN READY_FILE GO_FILE
 *
 * Sends each connection a listener request (Long-Pulling-Timeout: 120000)
 * for DATAID/GROUP with MD5 (the current content's: nacre parks them),
 * creates READY_FILE once all are sent and none was answered for a
 * second, waits for GO_FILE to appear, publishes, then prints
 * "woken <n> p50 <ms> p99 <ms> max <ms>" once every listener answered
 * (or after 30 s).  epoll: the client must not be what is measured.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static double
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static void
die(const char *what)
{
    perror(what);
    exit(1);
}


static size_t
urlencode(char *dst, const char *src)
{
    char                *p;
    static const char    hex[] = "0123456789ABCDEF";

    for (p = dst; *src; src++) {
        unsigned char  c = (unsigned char) *src;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr("._-~", c))
        {
            *p++ = c;

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }

    *p = '\0';

    return p - dst;
}


static int
cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


int
main(int argc, char **argv)
{
    int                  ep, fd, n, i, k, woken, sent;
    char                 rec[1024], enc[3072], body[4096], req[8192], buf[4096];
    double               start, *lat;
    size_t               len;
    struct stat          st;
    struct sockaddr_in   sin;
    struct epoll_event   ev, evs[512];

    if (argc != 10) {
        fprintf(stderr, "usage: %s HOST PORT N DATAID GROUP MD5 TOKEN READY "
                "GO\n", argv[0]);
        return 2;
    }

    n = atoi(argv[3]);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sin.sin_addr);

    snprintf(rec, sizeof(rec), "%s\x02%s\x02%s\x01", argv[4], argv[5],
             argv[6]);
    urlencode(enc, rec);
    snprintf(body, sizeof(body), "Listening-Configs=%s", enc);
    len = (size_t) snprintf(req, sizeof(req),
                            "POST /nacos/v1/cs/configs/listener HTTP/1.1\r\n"
                            "Host: %s\r\n"
                            "Content-Type: application/x-www-form-urlencoded"
                            "\r\nLong-Pulling-Timeout: 120000\r\n"
                            "accessToken: %s\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            argv[1], argv[7], strlen(body), body);

    ep = epoll_create1(0);
    lat = calloc((size_t) n, sizeof(double));

    if (ep == -1 || lat == NULL) {
        die("setup");
    }

    /* blocking connects and writes: quick on loopback, and simple */
    for (i = 0; i < n; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd == -1 || connect(fd, (struct sockaddr *) &sin, sizeof(sin))) {
            die("connect");
        }

        if (write(fd, req, len) != (ssize_t) len) {
            die("write");
        }

        (void) fcntl(fd, F_SETFL, O_NONBLOCK);

        ev.events = EPOLLIN;
        ev.data.fd = fd;

        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
            die("epoll_ctl");
        }
    }

    if (epoll_wait(ep, evs, 1, 1000) != 0) {
        fprintf(stderr, "a listener was answered before any change\n");
        return 1;
    }

    fd = open(argv[8], O_WRONLY | O_CREAT, 0644);
    close(fd);

    while (stat(argv[9], &st) == -1) {
        usleep(20000);
    }

    /* the change */
    snprintf(rec, sizeof(rec), "changed at %.3f", now_ms());
    urlencode(enc, rec);
    snprintf(body, sizeof(body), "dataId=%s&group=%s&content=%s", argv[4],
             argv[5], enc);
    len = (size_t) snprintf(req, sizeof(req),
                            "POST /nacos/v1/cs/configs HTTP/1.1\r\n"
                            "Host: %s\r\n"
                            "Content-Type: application/x-www-form-urlencoded"
                            "\r\naccessToken: %s\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            argv[1], argv[7], strlen(body), body);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    i = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &i, sizeof(i));

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin))) {
        die("publish");
    }

    start = now_ms();

    if (write(fd, req, len) != (ssize_t) len) {
        die("publish");
    }

    woken = 0;
    sent = fd;

    while (woken < n && now_ms() - start < 30000) {
        k = epoll_wait(ep, evs, 512, 1000);

        for (i = 0; i < k; i++) {
            if (read(evs[i].data.fd, buf, sizeof(buf)) > 0) {
                lat[woken++] = now_ms() - start;
            }

            /* kept open: a close now would load the server meanwhile */
            (void) epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
        }
    }

    k = (int) read(sent, buf, sizeof(buf) - 1);

    if (k < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "the publish failed\n");
        return 1;
    }

    qsort(lat, (size_t) woken, sizeof(double), cmp);

    printf("woken %d p50 %.1f p99 %.1f max %.1f\n", woken,
           woken ? lat[(woken - 1) / 2] : -1.0,
           woken ? lat[(int) ((woken - 1) * 0.99)] : -1.0,
           woken ? lat[woken - 1] : -1.0);

    return 0;
}
