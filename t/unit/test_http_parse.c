
/*
 * nacre: unit tests of the HTTP/1.1 parser (src/http/nc_http_parse.c).
 *
 * Every request case runs through one driver that parses request line,
 * headers and body (chunked or Content-Length) for each pipelined request
 * and renders what it saw as text; response cases go through the same
 * driver with the status line in place of the request line. Each case is
 * fed whole, one byte at a
 * time and in random splits; all renderings must be identical, and equal
 * to the expected one. Bytes not yet "received" hold poison, so a parser
 * that reads past b->last sees garbage and the renderings differ.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http_parse.h>

#include <setjmp.h>
#include <cmocka.h>


#define T_OUT_SIZE   (1024 * 1024)
#define T_POISON     0xa5
#define T_SEEDS      8

#define T_WHOLE      0
#define T_BYTES      1
#define T_RANDOM     2

#define T_STR(s)     (const u_char *) s, sizeof(s) - 1


typedef struct {
    const u_char  *in;
    size_t         len;
    u_char        *buf;
    size_t         received;
    nc_uint_t      mode;
    uint32_t       rnd;
    nc_buf_t       b;
    char          *out;
    size_t         olen;
} t_feed_t;


typedef struct {
    const u_char  *in;
    size_t         len;
    const char    *expect;
} t_valid_case_t;


typedef struct {
    const u_char  *in;
    size_t         len;
    nc_int_t       rc;
} t_hostile_case_t;


/* parses one message from the feed; 0 when the driver must stop */
typedef int (*t_message_pt)(t_feed_t *f);


static uint32_t
t_rand(uint32_t *s)
{
    uint32_t  x;

    x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;

    return x;
}


/* deliver the next slice of input; 0 when all of it is in */
static int
t_feed(t_feed_t *f)
{
    size_t  n;

    if (f->received == f->len) {
        return 0;
    }

    switch (f->mode) {
    case T_WHOLE:
        n = f->len;
        break;
    case T_BYTES:
        n = f->received + 1;
        break;
    default:
        n = f->received + 1 + t_rand(&f->rnd) % 23;
        n = nc_min(n, f->len);
        break;
    }

    memcpy(f->buf + f->received, f->in + f->received, n - f->received);
    f->received = n;
    f->b.last = f->buf + n;

    return 1;
}


static void
t_out(t_feed_t *f, const char *fmt, ...)
{
    int      n;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(f->out + f->olen, T_OUT_SIZE - f->olen, fmt, args);
    va_end(args);

    assert_true(n >= 0 && (size_t) n < T_OUT_SIZE - f->olen);
    f->olen += n;
}


static void
t_out_bytes(t_feed_t *f, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            t_out(f, "%c", p[i]);

        } else {
            t_out(f, "\\x%02x", p[i]);
        }
    }
}


static int
t_in(t_feed_t *f, const u_char *p)
{
    return p >= f->buf && p < f->b.last;
}


static void
t_check_request_pointers(t_feed_t *f, nc_http_parser_t *pr)
{
    assert_true(t_in(f, pr->request_start));
    assert_true(t_in(f, pr->request_end));
    assert_true(t_in(f, pr->method_end));
    assert_true(t_in(f, pr->uri_start));
    assert_true(t_in(f, pr->uri_end));

    assert_true(pr->request_start < pr->method_end);
    assert_true(pr->method_end < pr->uri_start);
    assert_true(pr->uri_start < pr->uri_end);
    assert_true(pr->uri_end < pr->request_end);
    assert_true(pr->request_end < f->b.pos);

    if (pr->args_start != NULL) {
        assert_true(pr->args_start > pr->uri_start);
        assert_true(pr->args_start <= pr->uri_end);
        assert_true(pr->args_start[-1] == '?');
    }
}


static void
t_check_header_pointers(t_feed_t *f, nc_http_parser_t *pr)
{
    assert_true(t_in(f, pr->header_name_start));
    assert_true(t_in(f, pr->header_name_end));
    assert_true(t_in(f, pr->header_start));
    assert_true(t_in(f, pr->header_end));

    assert_true(pr->header_name_start < pr->header_name_end);
    assert_true(*pr->header_name_end == ':');
    assert_true(pr->header_name_end < pr->header_start);
    assert_true(pr->header_start <= pr->header_end);
    assert_true(pr->header_end < f->b.pos);
}


static void
t_check_status_pointers(t_feed_t *f, nc_http_parser_t *pr)
{
    u_char  *s;

    s = pr->status_start;

    assert_true(t_in(f, s));
    assert_true(t_in(f, pr->status_end));
    assert_true(t_in(f, pr->reason_start));

    /* "HTTP/1.x " right before the code, and the code is the value */
    assert_true(s - f->buf >= 9);
    assert_memory_equal(s - 9, "HTTP/1.", 7);
    assert_true(s[-1] == ' ');
    assert_int_equal(pr->status,
                     (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    assert_true(pr->status >= 100 && pr->status <= 999);
    assert_int_equal(pr->http_version,
                     pr->http_major * 1000 + pr->http_minor);

    if (pr->status_end == s + 3) {
        assert_ptr_equal(pr->reason_start, pr->status_end);

    } else {
        assert_true(s[3] == ' ');
        assert_ptr_equal(pr->reason_start, s + 4);
        assert_true(pr->reason_start <= pr->status_end);
    }

    assert_true(pr->status_end < f->b.pos);
    assert_true(f->b.pos[-1] == '\n');
}


/*
 * The header block and, unless body is 0 (a 1xx), a chunked or
 * Content-Length body; 1 when more input follows for another message.
 */
static int
t_fields_and_body(t_feed_t *f, nc_http_parser_t *pr, nc_uint_t body)
{
    off_t              clen;
    size_t             n, vlen;
    nc_int_t           rc;
    nc_uint_t          chunked;
    nc_http_chunked_t  ctx;

    clen = 0;
    chunked = 0;

    for ( ;; ) {
        rc = nc_http_parse_header_line(pr, &f->b);
        assert_true(f->b.pos >= f->buf && f->b.pos <= f->b.last);

        if (rc == NC_AGAIN) {
            if (!t_feed(f)) {
                t_out(f, "AGAIN\n");
                return 0;
            }

            continue;
        }

        if (rc == NC_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != NC_OK) {
            t_out(f, "H error %d at %td\n", (int) rc, f->b.pos - f->buf);
            return 0;
        }

        t_check_header_pointers(f, pr);

        n = pr->header_name_end - pr->header_name_start;
        vlen = pr->header_end - pr->header_start;

        t_out(f, "H ");
        t_out_bytes(f, pr->header_name_start, n);
        t_out(f, ":[");
        t_out_bytes(f, pr->header_start, vlen);
        t_out(f, "]\n");

        if (n == 17
            && nc_strncasecmp(pr->header_name_start,
                              (u_char *) "Transfer-Encoding", 17) == 0
            && vlen == 7 && nc_memcmp(pr->header_start, "chunked", 7) == 0)
        {
            chunked = 1;
        }

        if (n == 14
            && nc_strncasecmp(pr->header_name_start,
                              (u_char *) "Content-Length", 14) == 0)
        {
            clen = nc_atoof(pr->header_start, vlen);
            assert_true(clen >= 0);
        }
    }

    if (!body) {
        chunked = 0;
        clen = 0;
    }

    if (chunked) {
        nc_memzero(&ctx, sizeof(nc_http_chunked_t));
        t_out(f, "B[");

        for ( ;; ) {
            rc = nc_http_parse_chunked(&ctx, &f->b);
            assert_true(f->b.pos >= f->buf && f->b.pos <= f->b.last);

            if (rc == NC_OK) {
                assert_true(ctx.size > 0);
                assert_true(f->b.pos < f->b.last);

                n = nc_min((size_t) ctx.size,
                           (size_t) (f->b.last - f->b.pos));
                t_out_bytes(f, f->b.pos, n);
                f->b.pos += n;
                ctx.size -= n;
                continue;
            }

            if (rc == NC_AGAIN) {
                if (!t_feed(f)) {
                    t_out(f, "] AGAIN\n");
                    return 0;
                }

                continue;
            }

            if (rc == NC_DONE) {
                break;
            }

            t_out(f, "] error %d at %td\n", (int) rc, f->b.pos - f->buf);
            return 0;
        }

        t_out(f, "]\n");

    } else if (clen > 0) {
        t_out(f, "B[");

        while (clen > 0) {
            if (f->b.pos == f->b.last && !t_feed(f)) {
                t_out(f, "] AGAIN\n");
                return 0;
            }

            n = nc_min((size_t) clen, (size_t) (f->b.last - f->b.pos));
            t_out_bytes(f, f->b.pos, n);
            f->b.pos += n;
            clen -= n;
        }

        t_out(f, "]\n");
    }

    t_out(f, "END at %td\n", f->b.pos - f->buf);

    /* pipelined: another message follows when input remains */
    return (size_t) (f->b.pos - f->buf) < f->len;
}


/* parse one request with its body; 0 when the driver must stop */
static int
t_request(t_feed_t *f)
{
    nc_int_t           rc;
    nc_http_parser_t   pr;

    nc_http_parser_init(&pr);

    for ( ;; ) {
        rc = nc_http_parse_request_line(&pr, &f->b);
        assert_true(f->b.pos >= f->buf && f->b.pos <= f->b.last);

        if (rc != NC_AGAIN) {
            break;
        }

        if (!t_feed(f)) {
            t_out(f, "AGAIN\n");
            return 0;
        }
    }

    if (rc != NC_OK) {
        t_out(f, "RL error %d at %td\n", (int) rc, f->b.pos - f->buf);
        return 0;
    }

    t_check_request_pointers(f, &pr);

    t_out_bytes(f, pr.request_start, pr.method_end - pr.request_start);
    t_out(f, "(%lu) ", (unsigned long) pr.method);
    t_out_bytes(f, pr.uri_start, (pr.args_start ? pr.args_start - 1
                                                : pr.uri_end)
                                 - pr.uri_start);

    if (pr.args_start) {
        t_out(f, " ?");
        t_out_bytes(f, pr.args_start, pr.uri_end - pr.args_start);
    }

    t_out(f, " %lu cx%d\n", (unsigned long) pr.http_version,
          (int) pr.complex_uri);

    return t_fields_and_body(f, &pr, 1);
}


/*
 * Parse one response: any 1xx ones, each with its header block and no
 * body, then the final one with its body, all on one parser with no
 * nc_http_parser_init() between, as the proxy reads them.
 */
static int
t_response(t_feed_t *f)
{
    nc_int_t           rc;
    nc_uint_t          final;
    nc_http_parser_t   pr;

    nc_http_parser_init(&pr);

    do {
        for ( ;; ) {
            rc = nc_http_parse_status_line(&pr, &f->b);
            assert_true(f->b.pos >= f->buf && f->b.pos <= f->b.last);

            if (rc != NC_AGAIN) {
                break;
            }

            if (!t_feed(f)) {
                t_out(f, "AGAIN\n");
                return 0;
            }
        }

        if (rc != NC_OK) {
            t_out(f, "SL error %d at %td\n", (int) rc, f->b.pos - f->buf);
            return 0;
        }

        t_check_status_pointers(f, &pr);

        t_out(f, "%lu %lu [", (unsigned long) pr.http_version,
              (unsigned long) pr.status);
        t_out_bytes(f, pr.reason_start, pr.status_end - pr.reason_start);
        t_out(f, "]\n");

        final = (pr.status >= 200);

        if (!t_fields_and_body(f, &pr, final)) {
            return 0;
        }

    } while (!final);

    return 1;
}


static char *
t_run(const u_char *in, size_t len, nc_uint_t mode, uint32_t seed,
    t_message_pt message)
{
    t_feed_t  f;

    nc_memzero(&f, sizeof(t_feed_t));

    f.in = in;
    f.len = len;
    f.mode = mode;
    f.rnd = seed * 2654435761u + 1;

    /* exactly sized, so ASan sees a read past the end */
    f.buf = malloc(len ? len : 1);
    f.out = malloc(T_OUT_SIZE);
    assert_non_null(f.buf);
    assert_non_null(f.out);

    memset(f.buf, T_POISON, len);
    f.out[0] = '\0';

    f.b.start = f.buf;
    f.b.pos = f.buf;
    f.b.last = f.buf;
    f.b.end = f.buf + len;

    if (t_feed(&f)) {
        while (message(&f)) {
            /* void */
        }

    } else {
        t_out(&f, "EMPTY\n");
    }

    free(f.buf);

    return f.out;
}


/* the rendering of a whole feed, checked equal under every split */
static char *
t_run_each(const u_char *in, size_t len, t_message_pt message)
{
    char      *whole, *other;
    uint32_t   seed;

    whole = t_run(in, len, T_WHOLE, 0, message);

    other = t_run(in, len, T_BYTES, 0, message);
    if (strcmp(whole, other) != 0) {
        fail_msg("byte feed differs for \"%.*s\":\n%s---\n%s",
                 (int) len, in, whole, other);
    }
    free(other);

    for (seed = 1; seed <= T_SEEDS; seed++) {
        other = t_run(in, len, T_RANDOM, seed, message);
        if (strcmp(whole, other) != 0) {
            fail_msg("split %u differs for \"%.*s\":\n%s---\n%s",
                     seed, (int) len, in, whole, other);
        }
        free(other);
    }

    return whole;
}


static char *
t_run_all(const u_char *in, size_t len)
{
    return t_run_each(in, len, t_request);
}


static const t_valid_case_t  t_valid[] = {

    /* methods */

    { T_STR("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
      "GET(2) / 1001 cx0\nH Host:[a]\nEND at 27\n" },

    { T_STR("HEAD /h HTTP/1.1\r\n\r\n"), "HEAD(4) /h 1001 cx0\nEND at 20\n" },
    { T_STR("POST /p HTTP/1.1\r\n\r\n"), "POST(8) /p 1001 cx0\nEND at 20\n" },
    { T_STR("PUT /p HTTP/1.1\r\n\r\n"), "PUT(16) /p 1001 cx0\nEND at 19\n" },
    { T_STR("DELETE /d HTTP/1.1\r\n\r\n"),
      "DELETE(32) /d 1001 cx0\nEND at 22\n" },
    { T_STR("OPTIONS * HTTP/1.1\r\n\r\n"),
      "OPTIONS(64) * 1001 cx0\nEND at 22\n" },
    { T_STR("OPTIONS /o HTTP/1.1\r\n\r\n"),
      "OPTIONS(64) /o 1001 cx0\nEND at 23\n" },
    { T_STR("PATCH /p HTTP/1.1\r\n\r\n"),
      "PATCH(128) /p 1001 cx0\nEND at 21\n" },
    { T_STR("TRACE / HTTP/1.1\r\n\r\n"), "TRACE(256) / 1001 cx0\nEND at 20\n" },
    { T_STR("CONNECT / HTTP/1.1\r\n\r\n"),
      "CONNECT(512) / 1001 cx0\nEND at 22\n" },
    { T_STR("PROPFIND /dav HTTP/1.1\r\n\r\n"),
      "PROPFIND(1) /dav 1001 cx0\nEND at 26\n" },
    { T_STR("M-SEARCH / HTTP/1.1\r\n\r\n"),
      "M-SEARCH(1) / 1001 cx0\nEND at 23\n" },
    { T_STR("GETS / HTTP/1.1\r\n\r\n"), "GETS(1) / 1001 cx0\nEND at 19\n" },
    { T_STR("PO / HTTP/1.1\r\n\r\n"), "PO(1) / 1001 cx0\nEND at 17\n" },
    { T_STR("POSTX / HTTP/1.1\r\n\r\n"), "POSTX(1) / 1001 cx0\nEND at 20\n" },
    { T_STR("PRI / HTTP/1.1\r\n\r\n"), "PRI(1) / 1001 cx0\nEND at 18\n" },

    /* targets */

    { T_STR("GET /index.html?x=1&y=2 HTTP/1.0\r\n\r\n"),
      "GET(2) /index.html ?x=1&y=2 1000 cx0\nEND at 36\n" },
    { T_STR("GET /? HTTP/1.1\r\n\r\n"), "GET(2) / ? 1001 cx0\nEND at 19\n" },
    { T_STR("GET /a?b?c=/../&d#x HTTP/1.1\r\n\r\n"),
      "RL error 11 at 17\n" },
    { T_STR("GET /a?b?c=/../&d HTTP/1.1\r\n\r\n"),
      "GET(2) /a ?b?c=/../&d 1001 cx0\nEND at 30\n" },
    { T_STR("GET /~user/a-b_c.d!$&'()*+,;=:@ HTTP/1.1\r\n\r\n"),
      "GET(2) /~user/a-b_c.d!$&'()*+,;=:@ 1001 cx0\nEND at 44\n" },
    { T_STR("GET /a|b{c}\"d HTTP/1.1\r\n\r\n"),
      "GET(2) /a|b{c}\"d 1001 cx0\nEND at 26\n" },
    { T_STR("GET http://example.com:8080/p?q HTTP/1.1\r\n\r\n"),
      "GET(2) /p ?q 1001 cx0\nEND at 44\n" },
    { T_STR("GET HTTPS://a.b/ HTTP/1.1\r\n\r\n"),
      "GET(2) / 1001 cx0\nEND at 29\n" },
    { T_STR("GET http://[::1]:80/x HTTP/1.1\r\n\r\n"),
      "GET(2) /x 1001 cx0\nEND at 34\n" },
    { T_STR("GET http://[::1]/x HTTP/1.1\r\n\r\n"),
      "GET(2) /x 1001 cx0\nEND at 31\n" },
    { T_STR("GET http://h//x HTTP/1.1\r\n\r\n"),
      "GET(2) //x 1001 cx1\nEND at 28\n" },

    /* complex_uri */

    { T_STR("GET /a//b HTTP/1.1\r\n\r\n"),
      "GET(2) /a//b 1001 cx1\nEND at 22\n" },
    { T_STR("GET // HTTP/1.1\r\n\r\n"), "GET(2) // 1001 cx1\nEND at 19\n" },
    { T_STR("GET /a/./b HTTP/1.1\r\n\r\n"),
      "GET(2) /a/./b 1001 cx1\nEND at 23\n" },
    { T_STR("GET /a/../b HTTP/1.1\r\n\r\n"),
      "GET(2) /a/../b 1001 cx1\nEND at 24\n" },
    { T_STR("GET /a/. HTTP/1.1\r\n\r\n"), "GET(2) /a/. 1001 cx1\nEND at 21\n" },
    { T_STR("GET /a/.. HTTP/1.1\r\n\r\n"),
      "GET(2) /a/.. 1001 cx1\nEND at 22\n" },
    { T_STR("GET /a/.?x HTTP/1.1\r\n\r\n"),
      "GET(2) /a/. ?x 1001 cx1\nEND at 23\n" },
    { T_STR("GET /a/..?x HTTP/1.1\r\n\r\n"),
      "GET(2) /a/.. ?x 1001 cx1\nEND at 24\n" },
    { T_STR("GET /a%20b HTTP/1.1\r\n\r\n"),
      "GET(2) /a%20b 1001 cx1\nEND at 23\n" },
    { T_STR("GET /.hidden HTTP/1.1\r\n\r\n"),
      "GET(2) /.hidden 1001 cx0\nEND at 25\n" },
    { T_STR("GET /a..b/..c/.../x. HTTP/1.1\r\n\r\n"),
      "GET(2) /a..b/..c/.../x. 1001 cx0\nEND at 33\n" },
    { T_STR("GET /a?x=//./../%41 HTTP/1.1\r\n\r\n"),
      "GET(2) /a ?x=//./../%41 1001 cx0\nEND at 32\n" },

    /* versions */

    { T_STR("GET / HTTP/1.0\r\n\r\n"), "GET(2) / 1000 cx0\nEND at 18\n" },
    { T_STR("GET / HTTP/1.2\r\n\r\n"), "GET(2) / 1002 cx0\nEND at 18\n" },
    { T_STR("GET / HTTP/001.010\r\n\r\n"), "GET(2) / 1010 cx0\nEND at 22\n" },
    { T_STR("GET / HTTP/1.999\r\n\r\n"), "GET(2) / 1999 cx0\nEND at 20\n" },
    { T_STR("GET / HTTP/1.1\n\n"), "GET(2) / 1001 cx0\nEND at 16\n" },
    { T_STR("\r\n\nGET / HTTP/1.1\r\n\r\n"), "GET(2) / 1001 cx0\nEND at 21\n" },

    /* headers with odd but legal spacing */

    { T_STR("GET / HTTP/1.1\r\n"
            "A:a\r\n"
            "B:   b  \r\n"
            "C:\t c \t\r\n"
            "D: d  d\td \r\n"
            "E:\r\n"
            "F:   \r\n"
            "G: x:y: z\r\n"
            "H-I_J.k!#$%&'*+^`|~9: \x80\xff\n"
            "\n"),
      "GET(2) / 1001 cx0\n"
      "H A:[a]\nH B:[b]\nH C:[c]\nH D:[d  d\\x09d]\nH E:[]\nH F:[]\n"
      "H G:[x:y: z]\nH H-I_J.k!#$%&'*+^`|~9:[\\x80\\xff]\nEND at 100\n" },

    /* pipelined, with bodies */

    { T_STR("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            "GET /2 HTTP/1.1\r\n\r\n"
            "POST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            "GET /4 HTTP/1.0\r\n\r\n"),
      "GET(2) /1 1001 cx0\nH Host:[a]\nEND at 28\n"
      "GET(2) /2 1001 cx0\nEND at 47\n"
      "POST(8) /3 1001 cx0\nH Content-Length:[3]\nB[abc]\nEND at 89\n"
      "GET(2) /4 1000 cx0\nEND at 108\n" },

    { T_STR("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n"
            "6;ext=1\r\n world\r\n"
            "a \t;x=\"y;z\" ;w\r\n0123456789\r\n"
            "0005\r\n!!!!!\r\n"
            "0\r\nX-T: v\r\nY:\r\n\r\n"
            "GET /n HTTP/1.1\r\n\r\n"),
      "POST(8) /c 1001 cx0\nH Transfer-Encoding:[chunked]\n"
      "B[hello world0123456789!!!!!]\nEND at 133\n"
      "GET(2) /n 1001 cx0\nEND at 152\n" },

    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "A\r\n0123456789\r\nf\r\nabcdefghijklmno\r\n0\r\n\r\n"),
      "POST(8) / 1001 cx0\nH Transfer-Encoding:[chunked]\n"
      "B[0123456789abcdefghijklmno]\nEND at 87\n" },

    /* incomplete input is NC_AGAIN, not an error */

    { T_STR("GET / HTTP/1.1\r\nHost: a\r\n"),
      "GET(2) / 1001 cx0\nH Host:[a]\nAGAIN\n" },
    { T_STR("GET /abc?d"), "AGAIN\n" },
    { T_STR("GET"), "AGAIN\n" },
    { T_STR("POST"), "AGAIN\n" },
    { T_STR("GET / HTTP/1.1"), "AGAIN\n" },
    { T_STR("GET / HTTP/1.1\r"), "AGAIN\n" },
    { T_STR("GET /?0123456789abcdefghijklmnopqrstuvwxyz"), "AGAIN\n" },
    { T_STR("GET / HTTP/1.1\r\nX: 0123456789abcdefghijklmnopqrstuvwxyz"),
      "GET(2) / 1001 cx0\nAGAIN\n" },
    { T_STR("\r\n\r\n"), "AGAIN\n" },
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhel"),
      "POST(8) / 1001 cx0\nH Transfer-Encoding:[chunked]\nB[hel] AGAIN\n" },
};


static void
t_check_valid(const t_valid_case_t *cases, nc_uint_t n, t_message_pt message)
{
    char       *out;
    nc_uint_t   i;

    for (i = 0; i < n; i++) {

        out = t_run_each(cases[i].in, cases[i].len, message);

        if (strcmp(out, cases[i].expect) != 0) {
            fail_msg("case %lu \"%.*s\":\nexpected:\n%sgot:\n%s",
                     (unsigned long) i, (int) cases[i].len,
                     cases[i].in, cases[i].expect, out);
        }

        free(out);
    }
}


/* each case must end in the error given, whatever the split */
static void
t_check_hostile(const t_hostile_case_t *cases, nc_uint_t n,
    t_message_pt message)
{
    char       *out, *e;
    nc_int_t    rc;
    nc_uint_t   i;

    for (i = 0; i < n; i++) {
        out = t_run_each(cases[i].in, cases[i].len, message);

        e = strstr(out, "error ");
        if (e == NULL) {
            fail_msg("case %lu \"%.*s\" passed:\n%s", (unsigned long) i,
                     (int) cases[i].len, cases[i].in, out);
        }

        rc = strtol(e + 6, NULL, 10);
        if (rc != cases[i].rc) {
            fail_msg("case %lu \"%.*s\": expected %d:\n%s",
                     (unsigned long) i, (int) cases[i].len,
                     cases[i].in, (int) cases[i].rc, out);
        }

        free(out);
    }
}


static void
test_valid_requests(void **state)
{
    (void) state;

    t_check_valid(t_valid, nc_nelems(t_valid), t_request);
}


#define RL_METHOD   NC_HTTP_PARSE_INVALID_METHOD
#define RL_REQUEST  NC_HTTP_PARSE_INVALID_REQUEST
#define RL_VERSION  NC_HTTP_PARSE_INVALID_VERSION
#define RL_09       NC_HTTP_PARSE_INVALID_09_METHOD
#define RL_H2       NC_HTTP_PARSE_HTTP2_PREFACE
#define HDR         NC_HTTP_PARSE_INVALID_HEADER
#define CHUNK       NC_HTTP_PARSE_INVALID_CHUNKED

#define T_CHUNKED   "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"


static const t_hostile_case_t  t_hostile[] = {

    /* request line */
    { T_STR("G\0T / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("GET /\0 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /?a=\0 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1\0\r\n\r\n"), RL_REQUEST },
    { T_STR("\0GET / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("\rGET / HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1\rHost: a\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1\r\r\n\r\n"), RL_REQUEST },
    { T_STR("get / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("Get / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("GE@T / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("GET/ HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR(" GET / HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("GET\t/ HTTP/1.1\r\n\r\n"), RL_METHOD },
    { T_STR("GET\r\n\r\n"), RL_METHOD },
    { T_STR("GET /\tHTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1\t\r\n\r\n"), RL_REQUEST },
    { T_STR("GET  / HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /  HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1 \r\n\r\n"), RL_REQUEST },
    { T_STR("GET /a b HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /a#frag HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /a?b#frag HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /?q=\xc3\xa9 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /\x7f HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /\x1b[0m HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET /?\x01 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET * HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("OPTIONS *x HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET x HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET example.com:80 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://host HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http:///p HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://u@host/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http:/host/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://[::1/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://[::1]x/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://h:8x/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET http://h:8:8/ HTTP/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / http/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.x\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1000\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/0001.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/1.1x\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / FOO/1.1\r\n\r\n"), RL_REQUEST },
    { T_STR("GET / HTTP/2.0\r\n\r\n"), RL_VERSION },
    { T_STR("GET / HTTP/3.0\r\n\r\n"), RL_VERSION },
    { T_STR("GET / HTTP/0.9\r\n\r\n"), RL_VERSION },
    { T_STR("GET / HTTP/10.1\r\n\r\n"), RL_VERSION },
    { T_STR("GET /\r\n"), RL_09 },
    { T_STR("GET /index.html\n"), RL_09 },
    { T_STR("GET /?a=b\r\n"), RL_09 },
    { T_STR("OPTIONS *\r\n"), RL_09 },
    { T_STR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), RL_H2 },
    { T_STR("PRI * HTTP/1.1\r\n\r\n"), RL_REQUEST },

    /* header fields */
    { T_STR("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost:\0\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost: a \rX: b\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nHost\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nA: b\r\ni\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\n: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX(y): a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX/y: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\n[x]: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX\"y: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX@y: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX: a\x0b b\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), HDR },
    { T_STR("GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n"), HDR },

    /* the same far into long values, where 16 bytes are skipped at once */
    { T_STR("GET / HTTP/1.1\r\nX: 0123456789abcdefghijklmnopq\x7fz\r\n\r\n"),
      HDR },
    { T_STR("GET / HTTP/1.1\r\nX: 0123456789abcdefghijklmnopq\0z\r\n\r\n"),
      HDR },
    { T_STR("GET / HTTP/1.1\r\nX: 0123456789abcdefghijklmnopq\x0bz\r\n\r\n"),
      HDR },
    { T_STR("GET / HTTP/1.1\r\nX: 0123456789abcdefghijklmnopq\rz\r\n\r\n"),
      HDR },
    { T_STR("GET /?0123456789abcdefghijklmnopq#z HTTP/1.1\r\n\r\n"),
      RL_REQUEST },
    { T_STR("GET /?0123456789abcdefghijklmnopq\x7fz HTTP/1.1\r\n\r\n"),
      RL_REQUEST },
    { T_STR("GET /?0123456789abcdefghijklmnopq\xc3\xa9 HTTP/1.1\r\n\r\n"),
      RL_REQUEST },
    { T_STR("GET /?0123456789abcdefghijklmnopq\tz HTTP/1.1\r\n\r\n"),
      RL_REQUEST },

    /* smuggling shapes at the header level */
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"), HDR },
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n"),
      HDR },
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding:\x0c" "chunked\r\n\r\n"),
      HDR },
    { T_STR("POST / HTTP/1.1\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n"),
      HDR },
    { T_STR("POST / HTTP/1.1\r\nContent-Length: 5\r\n\tContent-Length: 6\r\n"
            "\r\n"), HDR },
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\r\n\r\n"), HDR },
    { T_STR("POST / HTTP/1.1\r\nX: y\rTransfer-Encoding: chunked\r\n\r\n"),
      HDR },
    { T_STR("POST / HTTP/1.1\r\nTransfer-Encoding\r\n: chunked\r\n\r\n"), HDR },
    { T_STR("POST / HTTP/1.1\r\nContent-Length\0: 5\r\n\r\n"), HDR },

    /* chunked bodies */
    { T_STR(T_CHUNKED "10000000000000000\r\n"), CHUNK },
    { T_STR(T_CHUNKED "1000000000000000\r\n"), CHUNK },
    { T_STR(T_CHUNKED "ffffffffffffffff\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0x10\r\n"), CHUNK },
    { T_STR(T_CHUNKED "-1\r\n"), CHUNK },
    { T_STR(T_CHUNKED "+5\r\n"), CHUNK },
    { T_STR(T_CHUNKED " 5\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5 \r\n"), CHUNK },
    { T_STR(T_CHUNKED "5 x\r\n"), CHUNK },
    { T_STR(T_CHUNKED "\r\n"), CHUNK },
    { T_STR(T_CHUNKED "g\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5\nhello\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5\rhello\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5;a\0b\r\nhello\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5;a\nb\r\nhello\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5\r\nhelloX\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5\r\nhello\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "5\r\nhello0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "3\r\nhello\r\n0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\n\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\nX: y\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\n X: y\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\nX : y\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\nX\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\n: y\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\nX: \0\r\n\r\n"), CHUNK },
    { T_STR(T_CHUNKED "0\r\n\r\r\n"), CHUNK },
};


static void
test_hostile_inputs(void **state)
{
    (void) state;

    assert_true(nc_nelems(t_hostile) >= 40);

    t_check_hostile(t_hostile, nc_nelems(t_hostile), t_request);
}


/* the exact fields and where b->pos stops, on a request fed at once */
static void
test_request_fields(void **state)
{
    u_char             buf[] = "\r\nPUT /x/y?k=v HTTP/1.0\r\nHost: h\r\nrest";
    nc_buf_t           b;
    nc_http_parser_t   pr;

    (void) state;

    b.start = b.pos = buf;
    b.last = b.end = buf + sizeof(buf) - 1;

    nc_http_parser_init(&pr);

    assert_int_equal(nc_http_parse_request_line(&pr, &b), NC_OK);
    assert_ptr_equal(pr.request_start, buf + 2);
    assert_ptr_equal(pr.method_end, buf + 5);
    assert_ptr_equal(pr.uri_start, buf + 6);
    assert_ptr_equal(pr.args_start, buf + 11);
    assert_ptr_equal(pr.uri_end, buf + 14);
    assert_ptr_equal(pr.request_end, buf + 23);
    assert_ptr_equal(b.pos, buf + 25);
    assert_int_equal(pr.method, NC_HTTP_PUT);
    assert_int_equal(pr.http_major, 1);
    assert_int_equal(pr.http_minor, 0);
    assert_int_equal(pr.http_version, 1000);
    assert_int_equal(pr.complex_uri, 0);

    assert_int_equal(nc_http_parse_header_line(&pr, &b), NC_OK);
    assert_ptr_equal(pr.header_name_start, buf + 25);
    assert_ptr_equal(pr.header_name_end, buf + 29);
    assert_ptr_equal(pr.header_start, buf + 31);
    assert_ptr_equal(pr.header_end, buf + 32);
    assert_ptr_equal(b.pos, buf + 34);

    assert_int_equal(nc_http_parse_header_line(&pr, &b), NC_AGAIN);
    assert_ptr_equal(b.pos, b.last);
}


/* responses: the status line, then the same header and body parsers */

static const t_valid_case_t  t_valid_responses[] = {

    { T_STR("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n"
            "hello"),
      "1001 200 [OK]\nH Content-Length:[5]\nH Server:[x]\nB[hello]\n"
      "END at 54\n" },

    /* an empty reason, and none at all */
    { T_STR("HTTP/1.1 204 \r\n\r\n"), "1001 204 []\nEND at 17\n" },
    { T_STR("HTTP/1.1 204\r\n\r\n"), "1001 204 []\nEND at 16\n" },

    { T_STR("HTTP/1.0 200 OK\r\n\r\n"), "1000 200 [OK]\nEND at 19\n" },
    { T_STR("HTTP/1.1 200 OK\nA: b\n\n"),
      "1001 200 [OK]\nH A:[b]\nEND at 22\n" },
    { T_STR("HTTP/1.1 204\n\n"), "1001 204 []\nEND at 14\n" },
    { T_STR("HTTP/1.1 404 Not Found\r\n\r\n"),
      "1001 404 [Not Found]\nEND at 26\n" },
    { T_STR("HTTP/1.1 100 Continue\r\n\r\n"),
      "1001 100 [Continue]\nEND at 25\n" },
    { T_STR("HTTP/1.1 999 X\r\n\r\n"), "1001 999 [X]\nEND at 18\n" },

    /* the reason is kept raw: inner and outer SP, HTAB, obs-text */
    { T_STR("HTTP/1.1 200  OK \t\r\n\r\n"),
      "1001 200 [ OK \\x09]\nEND at 22\n" },
    { T_STR("HTTP/1.1 200 caf\xc3\xa9 \"x\" (y) 1:2\r\n\r\n"),
      "1001 200 [caf\\xc3\\xa9 \"x\" (y) 1:2]\nEND at 34\n" },
    { T_STR("HTTP/1.1 500 0123456789abcdefghijklmnopqrstuvwxyz\r\n\r\n"),
      "1001 500 [0123456789abcdefghijklmnopqrstuvwxyz]\nEND at 53\n" },

    /* 1xx ones before the final response, on the same parser */
    { T_STR("HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      "1001 100 [Continue]\nEND at 25\n"
      "1001 103 [Early Hints]\nH Link:[</s.css>; rel=preload]\nEND at 82\n"
      "1001 200 [OK]\nH Content-Length:[2]\nB[ok]\nEND at 122\n" },

    /* a 1xx has no body, whatever its fields say */
    { T_STR("HTTP/1.1 100\r\nContent-Length: 3\r\n\r\n"
            "HTTP/1.1 204\r\n\r\n"),
      "1001 100 []\nH Content-Length:[3]\nEND at 35\n"
      "1001 204 []\nEND at 51\n" },

    { T_STR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-T: v\r\n\r\n"),
      "1001 200 [OK]\nH Transfer-Encoding:[chunked]\n"
      "B[hello world]\nEND at 85\n" },

    /* keep-alive: the next response gets a fresh parser */
    { T_STR("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n"
            "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 1\r\n\r\n"
            "x"),
      "1001 304 [Not Modified]\nH ETag:[\"a\"]\nEND at 40\n"
      "1000 500 [Internal Server Error]\nH Content-Length:[1]\nB[x]\n"
      "END at 98\n" },

    /* incomplete input is NC_AGAIN, not an error */

    { T_STR(""), "EMPTY\n" },
    { T_STR("H"), "AGAIN\n" },
    { T_STR("HTTP/1."), "AGAIN\n" },
    { T_STR("HTTP/1.1 20"), "AGAIN\n" },
    { T_STR("HTTP/1.1 200"), "AGAIN\n" },
    { T_STR("HTTP/1.1 200 "), "AGAIN\n" },
    { T_STR("HTTP/1.1 200 OK"), "AGAIN\n" },
    { T_STR("HTTP/1.1 200 OK\r"), "AGAIN\n" },
    { T_STR("HTTP/1.1 200 OK\r\nServer: x\r\n"),
      "1001 200 [OK]\nH Server:[x]\nAGAIN\n" },
    { T_STR("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2"),
      "1001 100 [Continue]\nEND at 25\nAGAIN\n" },
};


static void
test_valid_responses(void **state)
{
    (void) state;

    t_check_valid(t_valid_responses, nc_nelems(t_valid_responses),
                  t_response);
}


#define SL          NC_HTTP_PARSE_INVALID_STATUS


static const t_hostile_case_t  t_hostile_responses[] = {

    /* versions: 1.0 and 1.1 only, one digit each */
    { T_STR("HTTP/2.0 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/2 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/3.0 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/0.9 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.2 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.10 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/11.1 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/01.1 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1. 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.x 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1\r\n\r\n"), SL },
    { T_STR("HTTP/1.1\n\n"), SL },

    /* the code: exactly three digits, 100..999 */
    { T_STR("HTTP/1.1 20 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 2 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 2000 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 2000\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 20\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 \r\n\r\n"), SL },
    { T_STR("HTTP/1.1 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 abc OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 2x0 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 20O OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200x OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 099 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 000 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 -20 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 +200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 \xd9\xa2\xd9\xa0\xd9\xa0 OK\r\n\r\n"), SL },

    /* one SP each side of the code */
    { T_STR("HTTP/1.1  200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1\t200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200\tOK\r\n\r\n"), SL },

    /* the line end: a bare CR is not one */
    { T_STR("HTTP/1.1 200 OK\rX: y\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200 OK\r\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200\rOK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 204\r\r\n"), SL },

    /* the start: no garbage, no case folding, no empty lines */
    { T_STR("XTTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("HXTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("HTTX/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP\\1.1 200 OK\r\n\r\n"), SL },
    { T_STR("http/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("Http/1.1 200 OK\r\n\r\n"), SL },
    { T_STR(" HTTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("\r\nHTTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("\nHTTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("\0HTTP/1.1 200 OK\r\n\r\n"), SL },
    { T_STR("GET / HTTP/1.1\r\n\r\n"), SL },

    /* the reason: no NUL, CTL or DEL */
    { T_STR("HTTP/1.1 200 O\0K\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200 \0\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200\0\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200 OK\x7f\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200 \x1b[31mOK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 200 O\x0bK\r\n\r\n"), SL },

    /* after a 1xx: the next line is as strict, still no empty line */
    { T_STR("HTTP/1.1 100 Continue\r\n\r\nHTTP/2.0 200 OK\r\n\r\n"), SL },
    { T_STR("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
      SL },

    /* response header fields are as strict as request ones */
    { T_STR("HTTP/1.1 200 OK\r\nServer : x\r\n\r\n"), HDR },
    { T_STR("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), HDR },
    { T_STR("HTTP/1.1 200 OK\r\n X: a\r\n\r\n"), HDR },
    { T_STR("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), HDR },
    { T_STR("HTTP/1.1 200 OK\r\nX: a\rY: b\r\n\r\n"), HDR },
    { T_STR("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\nhello\r\n0\r\n\r\n"), CHUNK },
};


static void
test_hostile_responses(void **state)
{
    (void) state;

    t_check_hostile(t_hostile_responses, nc_nelems(t_hostile_responses),
                    t_response);
}


/*
 * The exact fields and where b->pos stops, on a 1xx and a final response
 * fed at once, read on one parser up to the body.
 */
static void
test_status_fields(void **state)
{
    u_char             buf[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.0 404 Not Found\r\nServer: up\r\n"
                               "X-A:\r\n\r\nbody";
    nc_buf_t           b;
    nc_http_parser_t   pr;

    (void) state;

    b.start = b.pos = buf;
    b.last = b.end = buf + sizeof(buf) - 1;

    nc_http_parser_init(&pr);

    assert_int_equal(nc_http_parse_status_line(&pr, &b), NC_OK);
    assert_int_equal(pr.status, 100);
    assert_ptr_equal(pr.status_start, buf + 9);
    assert_ptr_equal(pr.reason_start, buf + 13);
    assert_ptr_equal(pr.status_end, buf + 21);
    assert_ptr_equal(b.pos, buf + 23);
    assert_int_equal(pr.http_version, 1001);

    assert_int_equal(nc_http_parse_header_line(&pr, &b),
                     NC_HTTP_PARSE_HEADER_DONE);
    assert_ptr_equal(b.pos, buf + 25);

    /* no nc_http_parser_init() between */
    assert_int_equal(nc_http_parse_status_line(&pr, &b), NC_OK);
    assert_int_equal(pr.status, 404);
    assert_ptr_equal(pr.status_start, buf + 34);
    assert_ptr_equal(pr.reason_start, buf + 38);
    assert_ptr_equal(pr.status_end, buf + 47);
    assert_ptr_equal(b.pos, buf + 49);
    assert_int_equal(pr.http_major, 1);
    assert_int_equal(pr.http_minor, 0);
    assert_int_equal(pr.http_version, 1000);

    assert_int_equal(nc_http_parse_header_line(&pr, &b), NC_OK);
    assert_ptr_equal(pr.header_name_start, buf + 49);
    assert_ptr_equal(pr.header_name_end, buf + 55);
    assert_ptr_equal(pr.header_start, buf + 57);
    assert_ptr_equal(pr.header_end, buf + 59);
    assert_ptr_equal(b.pos, buf + 61);

    assert_int_equal(nc_http_parse_header_line(&pr, &b), NC_OK);
    assert_ptr_equal(pr.header_name_start, buf + 61);
    assert_ptr_equal(pr.header_name_end, buf + 64);
    assert_ptr_equal(pr.header_start, buf + 65);
    assert_ptr_equal(pr.header_end, buf + 65);
    assert_ptr_equal(b.pos, buf + 67);

    assert_int_equal(nc_http_parse_header_line(&pr, &b),
                     NC_HTTP_PARSE_HEADER_DONE);
    assert_ptr_equal(b.pos, buf + 69);
    assert_memory_equal(b.pos, "body", 4);

    /* the status fields survive the header lines */
    assert_int_equal(pr.status, 404);
    assert_ptr_equal(pr.status_start, buf + 34);
    assert_ptr_equal(pr.status_end, buf + 47);
}


/*
 * A status line given one byte at a time into an exactly sized buffer is
 * NC_AGAIN (b->pos at b->last) up to its LF, then the same fields as when
 * given at once.
 */
static void
test_status_bytewise(void **state)
{
    u_char            *buf;
    size_t             i, len;
    nc_int_t           rc;
    nc_uint_t          n;
    nc_buf_t           b;
    nc_http_parser_t   whole, pr;

    static const char  *lines[] = {
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 204 \r\n",
        "HTTP/1.1 204\r\n",
        "HTTP/1.0 301 Moved Permanently\n",
        "HTTP/1.1 502 \t bad \x80 gateway \t\r\n",
    };

    (void) state;

    for (n = 0; n < nc_nelems(lines); n++) {
        len = strlen(lines[n]);
        buf = malloc(len);
        assert_non_null(buf);

        memcpy(buf, lines[n], len);
        b.start = b.pos = buf;
        b.last = b.end = buf + len;

        nc_http_parser_init(&whole);
        assert_int_equal(nc_http_parse_status_line(&whole, &b), NC_OK);
        assert_ptr_equal(b.pos, buf + len);

        memset(buf, T_POISON, len);
        b.pos = b.last = buf;

        nc_http_parser_init(&pr);

        for (i = 0; i < len; i++) {
            buf[i] = lines[n][i];
            b.last = buf + i + 1;

            rc = nc_http_parse_status_line(&pr, &b);

            if (i + 1 < len) {
                assert_int_equal(rc, NC_AGAIN);
                assert_ptr_equal(b.pos, b.last);
            }
        }

        assert_int_equal(rc, NC_OK);
        assert_ptr_equal(b.pos, buf + len);
        assert_int_equal(pr.status, whole.status);
        assert_int_equal(pr.http_version, whole.http_version);
        assert_ptr_equal(pr.status_start, whole.status_start);
        assert_ptr_equal(pr.reason_start, whole.reason_start);
        assert_ptr_equal(pr.status_end, whole.status_end);

        free(buf);
    }
}


/* 300 headers and 20 requests in one buffer */
static void
test_many_headers(void **state)
{
    char      *in, *p, *out, *s;
    size_t     len;
    nc_uint_t  i, r, n;

    (void) state;

    in = malloc(200000);
    assert_non_null(in);
    p = in;

    for (r = 0; r < 20; r++) {
        p += sprintf(p, "GET /r%lu HTTP/1.1\r\n", (unsigned long) r);

        for (i = 0; i < 300; i++) {
            p += sprintf(p, "X-Header-%lu: value %lu\r\n",
                         (unsigned long) i, (unsigned long) (i * r));
        }

        p += sprintf(p, "\r\n");
    }

    len = p - in;

    out = t_run_all((u_char *) in, len);

    n = 0;
    for (s = out; (s = strstr(s, "\nH X-Header-")) != NULL; s++) {
        n++;
    }

    assert_int_equal(n, 20 * 300);
    assert_non_null(strstr(out, "H X-Header-299:[value 5681]\nEND at"));
    assert_null(strstr(out, "error"));
    assert_null(strstr(out, "AGAIN"));

    free(out);
    free(in);
}


static nc_int_t
t_chunked_once(const char *in, size_t len, off_t *size)
{
    u_char             *buf;
    nc_int_t            rc;
    nc_buf_t            b;
    nc_http_chunked_t   ctx;

    buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, in, len);

    b.start = b.pos = buf;
    b.last = b.end = buf + len;
    nc_memzero(&ctx, sizeof(nc_http_chunked_t));

    rc = nc_http_parse_chunked(&ctx, &b);
    *size = ctx.size;

    free(buf);

    return rc;
}


static void
test_chunked_limits(void **state)
{
    char    *line;
    off_t    size;
    size_t   n;

    (void) state;

    /* 15 hex digits is the largest size; leading zeros do not count */
    assert_int_equal(t_chunked_once("fffffffffffffff\r\nx", 18, &size), NC_OK);
    assert_true(size == (off_t) 0xfffffffffffffffLL);

    assert_int_equal(t_chunked_once("000fffffffffffffff\r\nx", 21, &size),
                     NC_OK);
    assert_true(size == (off_t) 0xfffffffffffffffLL);

    assert_int_equal(t_chunked_once("1000000000000000\r\nx", 19, &size),
                     NC_HTTP_PARSE_INVALID_CHUNKED);

    /* NC_OK only with data in the buffer */
    assert_int_equal(t_chunked_once("5\r\n", 3, &size), NC_AGAIN);
    assert_true(size == 5);

    /* a chunk-size line of 4096 bytes passes, 4097 does not */
    line = malloc(8192);
    assert_non_null(line);

    n = 4096;
    memset(line, 'a', n);
    memcpy(line, "1;", 2);
    memcpy(line + n - 2, "\r\nx", 3);
    assert_int_equal(t_chunked_once(line, n + 1, &size), NC_OK);
    assert_true(size == 1);

    n = 4097;
    memset(line, 'a', n);
    memcpy(line, "1;", 2);
    memcpy(line + n - 2, "\r\nx", 3);
    assert_int_equal(t_chunked_once(line, n + 1, &size),
                     NC_HTTP_PARSE_INVALID_CHUNKED);

    /* endless zeros are cut by the same bound */
    memset(line, '0', 8192);
    assert_int_equal(t_chunked_once(line, 8192, &size),
                     NC_HTTP_PARSE_INVALID_CHUNKED);

    /* and so is an endless trailer section */
    memset(line, 'a', 8192);
    memcpy(line, "0\r\n", 3);
    line[4] = ':';
    assert_int_equal(t_chunked_once(line, 8192, &size), NC_AGAIN);

    free(line);

    line = malloc(20000);
    assert_non_null(line);
    memset(line, 'a', 20000);
    memcpy(line, "0\r\n", 3);
    line[4] = ':';
    assert_int_equal(t_chunked_once(line, 20000, &size),
                     NC_HTTP_PARSE_INVALID_CHUNKED);

    free(line);
}


typedef struct {
    const char  *src;
    size_t       len;
    const char  *dst;        /* NULL: NC_ERROR */
} t_norm_case_t;


#define T_N(s, d)  { s, sizeof(s) - 1, d }


static const t_norm_case_t  t_norm[] = {
    T_N("/", "/"),
    T_N("/a/b", "/a/b"),
    T_N("/a/b/", "/a/b/"),
    T_N("/a//b/./c", "/a/b/c"),
    T_N("//a", "/a"),
    T_N("///", "/"),
    T_N("/.", "/"),
    T_N("/./", "/"),
    T_N("/a/.", "/a/"),
    T_N("/a/./", "/a/"),
    T_N("/a/b/..", "/a/"),
    T_N("/a/b/../", "/a/"),
    T_N("/a/b/../c", "/a/c"),
    T_N("/a/b/../..", "/"),
    T_N("/a/./../b", "/b"),
    T_N("/a/b/c/../../d/./e/..", "/a/d/"),
    T_N("/.hidden", "/.hidden"),
    T_N("/a/..b/c..", "/a/..b/c.."),
    T_N("/...", "/..."),
    T_N("/a?b", "/a?b"),
    T_N("/%41%42%7e", "/AB~"),
    T_N("/a%20b", "/a b"),
    T_N("/caf%C3%A9", "/caf\xc3\xa9"),
    T_N("/%2e/a", "/a"),
    T_N("/a%2fb", "/a/b"),
    T_N("/a%2F..%2Fb", "/b"),
    T_N("/a/%2E%2e/b", "/b"),
    T_N("/a/.%2e", "/"),
    T_N("/%252e%252e/", "/%2e%2e/"),
    T_N("/..", NULL),
    T_N("/../", NULL),
    T_N("/../a", NULL),
    T_N("/%2e%2e/", NULL),
    T_N("/%2E%2e", NULL),
    T_N("/.%2e/etc/passwd", NULL),
    T_N("/a/b/../../..", NULL),
    T_N("/a/..%2f..%2f", NULL),
    T_N("/a/b%2f%2e%2e%2f%2e%2e%2f%2e%2e", NULL),
    T_N("/./../", NULL),
    T_N("/a/%00", NULL),
    T_N("/a%00b", NULL),
    T_N("/a\0b", NULL),
    T_N("/a%", NULL),
    T_N("/a%4", NULL),
    T_N("/a%zz", NULL),
    T_N("/a%4g", NULL),
    T_N("/a%%41", NULL),
    T_N("a/b", NULL),
    T_N("%2fa", NULL),
    T_N("", NULL),
};


static void
test_normalize_path(void **state)
{
    u_char     *dst, *src;
    size_t      dlen, len;
    nc_int_t    rc;
    nc_uint_t   i;

    (void) state;

    for (i = 0; i < nc_nelems(t_norm); i++) {
        len = t_norm[i].len;

        src = malloc(len + 1);
        dst = malloc(len + 1);
        assert_non_null(src);
        assert_non_null(dst);
        memcpy(src, t_norm[i].src, len);

        /* dst of exactly len bytes: the documented minimum */
        dlen = 12345;
        rc = nc_http_normalize_path(src, len, dst, &dlen);

        if (t_norm[i].dst == NULL) {
            if (rc != NC_ERROR) {
                fail_msg("case %lu \"%s\": expected NC_ERROR, got \"%.*s\"",
                         (unsigned long) i, t_norm[i].src, (int) dlen, dst);
            }

        } else {
            if (rc != NC_OK
                || dlen != strlen(t_norm[i].dst)
                || memcmp(dst, t_norm[i].dst, dlen) != 0)
            {
                fail_msg("case %lu \"%s\": expected \"%s\", got %d \"%.*s\"",
                         (unsigned long) i, t_norm[i].src, t_norm[i].dst,
                         (int) rc, rc == NC_OK ? (int) dlen : 0, dst);
            }

            /* in place gives the same */
            rc = nc_http_normalize_path(src, len, src, &dlen);
            assert_int_equal(rc, NC_OK);
            assert_int_equal(dlen, strlen(t_norm[i].dst));
            assert_memory_equal(src, t_norm[i].dst, dlen);
        }

        free(src);
        free(dst);
    }
}


typedef struct {
    const char  *src;
    nc_flag_t    plus;
    const char  *dst;        /* NULL: NC_ERROR */
    size_t       dlen;
} t_unescape_case_t;


#define T_U(s, plus, d)  { s, plus, d, sizeof(d) - 1 }
#define T_UE(s, plus)    { s, plus, NULL, 0 }


static const t_unescape_case_t  t_unescape[] = {
    T_U("", 0, ""),
    T_U("abc", 0, "abc"),
    T_U("a%20b", 0, "a b"),
    T_U("a+b", 1, "a b"),
    T_U("a+b", 0, "a+b"),
    T_U("%2B+", 1, "+ "),
    T_U("%41%4a%4A%7e%7E", 0, "AJJ~~"),
    T_U("%00x", 0, "\0x"),
    T_U("%e4%b8%ad", 1, "\xe4\xb8\xad"),
    T_U("%25%32%30", 0, "%20"),
    T_U("=&%3D%26", 0, "=&=&"),
    T_UE("%", 0),
    T_UE("%4", 0),
    T_UE("abc%4", 1),
    T_UE("%zz", 0),
    T_UE("%4g", 0),
    T_UE("%g4", 0),
    T_UE("%%41", 0),
    T_UE("a% 1", 0),
};


static void
test_unescape(void **state)
{
    u_char     *buf, *dst;
    size_t      len;
    ssize_t     n;
    nc_uint_t   i;

    (void) state;

    for (i = 0; i < nc_nelems(t_unescape); i++) {
        len = strlen(t_unescape[i].src);

        buf = malloc(len + 1);
        dst = malloc(len + 1);
        assert_non_null(buf);
        assert_non_null(dst);
        memcpy(buf, t_unescape[i].src, len);

        n = nc_http_unescape(dst, buf, len, t_unescape[i].plus);

        if (t_unescape[i].dst == NULL) {
            if (n != NC_ERROR) {
                fail_msg("case %lu \"%s\": expected NC_ERROR, got %zd",
                         (unsigned long) i, t_unescape[i].src, n);
            }

        } else {
            assert_int_equal(n, t_unescape[i].dlen);
            assert_memory_equal(dst, t_unescape[i].dst, n);

            /* the same buffer as src and dst */
            n = nc_http_unescape(buf, buf, len, t_unescape[i].plus);
            assert_int_equal(n, t_unescape[i].dlen);
            assert_memory_equal(buf, t_unescape[i].dst, n);
        }

        free(buf);
        free(dst);
    }
}


typedef struct {
    const char  *in;
    const char  *pairs;      /* "k=v|" per pair, as raw text */
} t_form_case_t;


static const t_form_case_t  t_form[] = {
    { "", "" },
    { "&", "" },
    { "&&&", "" },
    { "a=1&b=2", "a=1|b=2|" },
    { "&&a=1&&b=2&&", "a=1|b=2|" },
    { "a", "a=|" },
    { "a=", "a=|" },
    { "=v", "=v|" },
    { "=", "=|" },
    { "a=1=2", "a=1=2|" },
    { "k=v&x", "k=v|x=|" },
    { "%41=%42+c", "%41=%42+c|" },
    { "a=1;b=2", "a=1;b=2|" },
};


static void
test_form_next(void **state)
{
    char       out[256];
    u_char    *buf, *pos, *end;
    size_t     len, olen;
    nc_int_t   rc;
    nc_str_t   k, v;
    nc_uint_t  i, n;

    (void) state;

    for (i = 0; i < nc_nelems(t_form); i++) {
        len = strlen(t_form[i].in);
        buf = malloc(len + 1);
        assert_non_null(buf);
        memcpy(buf, t_form[i].in, len);

        pos = buf;
        end = buf + len;
        olen = 0;
        out[0] = '\0';

        for (n = 0; n < 100; n++) {
            rc = nc_http_form_next(&pos, end, &k, &v);

            if (rc == NC_DONE) {
                break;
            }

            assert_int_equal(rc, NC_OK);
            assert_true(pos >= buf && pos <= end);
            assert_true(k.data >= buf && k.data + k.len <= end);
            assert_true(v.data >= buf && v.data + v.len <= end);

            olen += snprintf(out + olen, sizeof(out) - olen, "%.*s=%.*s|",
                             nc_str_fmt(&k), nc_str_fmt(&v));
        }

        assert_true(n < 100);
        assert_ptr_equal(pos, end);

        /* NC_DONE sticks */
        assert_int_equal(nc_http_form_next(&pos, end, &k, &v), NC_DONE);

        if (strcmp(out, t_form[i].pairs) != 0) {
            fail_msg("case %lu \"%s\": expected \"%s\", got \"%s\"",
                     (unsigned long) i, t_form[i].in, t_form[i].pairs, out);
        }

        free(buf);
    }
}


static void
test_arg(void **state)
{
    nc_str_t  args, v;

    (void) state;

    nc_str_set(&args, "a=1&bb=2&a=3&flag&e=&%62=x&B=4");

    assert_int_equal(nc_http_arg(&args, "a", 1, &v), NC_OK);
    assert_true(nc_str_eq(&v, "1"));

    assert_int_equal(nc_http_arg(&args, "bb", 2, &v), NC_OK);
    assert_true(nc_str_eq(&v, "2"));

    assert_int_equal(nc_http_arg(&args, "flag", 4, &v), NC_OK);
    assert_int_equal(v.len, 0);

    assert_int_equal(nc_http_arg(&args, "e", 1, &v), NC_OK);
    assert_int_equal(v.len, 0);

    /* names are compared raw and case-sensitively */
    assert_int_equal(nc_http_arg(&args, "B", 1, &v), NC_OK);
    assert_true(nc_str_eq(&v, "4"));
    assert_int_equal(nc_http_arg(&args, "b", 1, &v), NC_DECLINED);
    assert_int_equal(nc_http_arg(&args, "%62", 3, &v), NC_OK);
    assert_true(nc_str_eq(&v, "x"));

    assert_int_equal(nc_http_arg(&args, "c", 1, &v), NC_DECLINED);
    assert_int_equal(nc_http_arg(&args, "", 0, &v), NC_DECLINED);
    assert_int_equal(nc_http_arg(&args, "a=1", 3, &v), NC_DECLINED);

    nc_str_null(&args);
    assert_int_equal(nc_http_arg(&args, "a", 1, &v), NC_DECLINED);

    nc_str_set(&args, "=x");
    assert_int_equal(nc_http_arg(&args, "", 0, &v), NC_OK);
    assert_true(nc_str_eq(&v, "x"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid_requests),
        cmocka_unit_test(test_hostile_inputs),
        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_valid_responses),
        cmocka_unit_test(test_hostile_responses),
        cmocka_unit_test(test_status_fields),
        cmocka_unit_test(test_status_bytewise),
        cmocka_unit_test(test_many_headers),
        cmocka_unit_test(test_chunked_limits),
        cmocka_unit_test(test_normalize_path),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_form_next),
        cmocka_unit_test(test_arg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
