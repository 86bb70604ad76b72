
/*
 * nacre: parsing speed of a typical request (request line and 8 headers,
 * parsed 10 million times). After ./configure:
 *   cc -O2 -Isrc/core -Isrc/http -Iobjs src/http/nc_http_parse.c \
 *       bench/http-parse.c -o objs/bench-http-parse && objs/bench-http-parse
 * CPU time is measured, so a busy machine skews the result less.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http_parse.h>


#define NC_BENCH_LOOPS  10000000


static const char  nc_bench_request[] =
    "GET /nacos/v1/ns/instance/list?serviceName=orders&healthyOnly=true"
    " HTTP/1.1\r\n"
    "Host: registry.example.com:8848\r\n"
    "User-Agent: Nacos-Java-Client:v2.3.0\r\n"
    "Accept: application/json\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n"
    "Client-Version: 2.3.0\r\n"
    "Request-Module: Naming\r\n"
    "X-Request-Id: 0af7651916cd43dd\r\n"
    "\r\n";


int
main(void)
{
    u_char            *buf;
    size_t             len;
    double             ns;
    nc_int_t           rc;
    nc_buf_t           b;
    nc_uint_t          i, headers;
    struct timespec    t0, t1;
    nc_http_parser_t   pr;

    len = sizeof(nc_bench_request) - 1;
    buf = malloc(len);

    if (buf == NULL) {
        return 1;
    }

    memcpy(buf, nc_bench_request, len);
    headers = 0;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);

    for (i = 0; i < NC_BENCH_LOOPS; i++) {
        b.start = b.pos = buf;
        b.last = b.end = buf + len;

        nc_http_parser_init(&pr);

        if (nc_http_parse_request_line(&pr, &b) != NC_OK) {
            return 1;
        }

        for ( ;; ) {
            rc = nc_http_parse_header_line(&pr, &b);

            if (rc == NC_OK) {
                headers++;
                continue;
            }

            if (rc != NC_HTTP_PARSE_HEADER_DONE) {
                return 1;
            }

            break;
        }

        /* keep the compiler from hoisting the loop body */
        __asm__ volatile("" : : "r" (buf) : "memory");
    }

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);

    ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);

    printf("%zu-byte request, %lu headers: %.1f ns/request, %.2f GB/s\n",
           len, (unsigned long) (headers / NC_BENCH_LOOPS),
           ns / NC_BENCH_LOOPS, len * (double) NC_BENCH_LOOPS / ns);

    free(buf);

    return 0;
}
