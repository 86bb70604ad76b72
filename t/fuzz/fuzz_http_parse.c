
/*
 * nacre: libFuzzer target for src/http/nc_http_parse.c.
 *
 * The input is parsed as pipelined requests (request line, headers, then
 * the rest as a chunked body) once in a single feed and once split at
 * points taken from the data; both runs must see the same results, and
 * every pointer the parser returns must lie inside the received bytes.
 * The same bytes are then parsed as upstream responses the same way:
 * status lines (1xx ones and a final one on one parser, as a proxy reads
 * them), headers, then a chunked body. Each reading stops within a few
 * bytes on input shaped for the other, so the two cost little more than
 * one.
 * The input also goes through nc_http_normalize_path(), checked against a
 * simple reference, and through nc_http_unescape() and
 * nc_http_form_next(). Any disagreement calls abort().
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http_parse.h>


#define F_MAX_REQUESTS  64
#define F_POISON        0xa5


typedef struct {
    const u_char  *in;
    size_t         len;
    u_char        *buf;
    size_t         received;
    size_t         cut[3];
    nc_uint_t      ncuts;
    nc_uint_t      next;
    nc_uint_t      bytewise;
    nc_buf_t       b;
    uint64_t       hash;
    uint64_t       count;
} f_feed_t;


/* parses one message from the feed; 0 when the run must stop */
typedef int (*f_message_pt)(f_feed_t *f);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
f_check(int ok)
{
    if (!ok) {
        abort();
    }
}


static void
f_trace(f_feed_t *f, uint64_t v)
{
    f->hash = (f->hash ^ v) * 0x100000001b3ULL;
    f->count++;
}


static void
f_trace_ptr(f_feed_t *f, const u_char *p)
{
    f_check(p >= f->buf && p < f->b.last);
    f_trace(f, (uint64_t) (p - f->buf));
}


static int
f_feed(f_feed_t *f)
{
    size_t  n;

    if (f->received == f->len) {
        return 0;
    }

    if (f->bytewise) {
        n = f->received + 1;
        goto copy;
    }

    n = f->len;

    while (f->next < f->ncuts) {
        if (f->cut[f->next] > f->received) {
            n = f->cut[f->next++];
            break;
        }

        f->next++;
    }

copy:

    memcpy(f->buf + f->received, f->in + f->received, n - f->received);
    f->received = n;
    f->b.last = f->buf + n;

    return 1;
}


#define f_call(f, rc, call)                                                   \
    for ( ;; ) {                                                              \
        rc = call;                                                            \
        f_check((f)->b.pos >= (f)->buf && (f)->b.pos <= (f)->b.last);         \
        if (rc != NC_AGAIN || !f_feed(f)) {                                   \
            break;                                                            \
        }                                                                     \
    }


/*
 * The header block, then unless body is 0 (a 1xx) the rest as a chunked
 * body; 1 when more input follows for another message.
 */
static int
f_fields_and_body(f_feed_t *f, nc_http_parser_t *pr, nc_uint_t body)
{
    size_t             n;
    nc_int_t           rc;
    nc_http_chunked_t  ctx;

    for ( ;; ) {
        f_call(f, rc, nc_http_parse_header_line(pr, &f->b));
        f_trace(f, (uint64_t) rc);

        if (rc == NC_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != NC_OK) {
            f_trace(f, (uint64_t) (f->b.pos - f->buf));
            return 0;
        }

        f_trace_ptr(f, pr->header_name_start);
        f_trace_ptr(f, pr->header_name_end);
        f_trace_ptr(f, pr->header_start);
        f_trace_ptr(f, pr->header_end);
        f_check(pr->header_name_start < pr->header_name_end
                && *pr->header_name_end == ':'
                && pr->header_name_end < pr->header_start
                && pr->header_start <= pr->header_end
                && pr->header_end < f->b.pos);
    }

    if (!body) {
        f_trace(f, (uint64_t) (f->b.pos - f->buf));
        return (size_t) (f->b.pos - f->buf) < f->len;
    }

    nc_memzero(&ctx, sizeof(nc_http_chunked_t));

    for ( ;; ) {
        f_call(f, rc, nc_http_parse_chunked(&ctx, &f->b));

        if (rc == NC_OK) {
            f_check(ctx.size > 0 && f->b.pos < f->b.last);

            /* data bytes are traced one by one: splits may cut chunks */
            n = nc_min((size_t) ctx.size, (size_t) (f->b.last - f->b.pos));
            ctx.size -= n;

            while (n--) {
                f_trace(f, *f->b.pos++);
            }

            continue;
        }

        f_trace(f, (uint64_t) rc);

        if (rc != NC_DONE) {
            f_trace(f, (uint64_t) (f->b.pos - f->buf));
            return 0;
        }

        break;
    }

    f_trace(f, (uint64_t) (f->b.pos - f->buf));

    return (size_t) (f->b.pos - f->buf) < f->len;
}


static int
f_request(f_feed_t *f)
{
    nc_int_t           rc;
    nc_http_parser_t   pr;

    nc_http_parser_init(&pr);

    f_call(f, rc, nc_http_parse_request_line(&pr, &f->b));
    f_trace(f, (uint64_t) rc);

    if (rc != NC_OK) {
        f_trace(f, (uint64_t) (f->b.pos - f->buf));
        return 0;
    }

    f_trace_ptr(f, pr.request_start);
    f_trace_ptr(f, pr.method_end);
    f_trace_ptr(f, pr.uri_start);
    f_trace_ptr(f, pr.uri_end);
    f_trace_ptr(f, pr.request_end);
    f_check(pr.request_start < pr.method_end
            && pr.method_end < pr.uri_start
            && pr.uri_start < pr.uri_end
            && pr.uri_end < pr.request_end
            && pr.request_end < f->b.pos);

    if (pr.args_start) {
        f_trace_ptr(f, pr.args_start);
        f_check(pr.args_start > pr.uri_start
                && pr.args_start <= pr.uri_end
                && pr.args_start[-1] == '?');
    }

    f_trace(f, pr.method);
    f_trace(f, pr.http_version);
    f_trace(f, pr.complex_uri);

    return f_fields_and_body(f, &pr, 1);
}


/* 1xx responses, each with headers and no body, then a final one */
static int
f_response(f_feed_t *f)
{
    u_char            *start, *s, *r;
    nc_int_t           rc;
    nc_uint_t          final;
    nc_http_parser_t   pr;

    nc_http_parser_init(&pr);

    do {
        start = f->b.pos;

        f_call(f, rc, nc_http_parse_status_line(&pr, &f->b));
        f_trace(f, (uint64_t) rc);

        if (rc != NC_OK) {
            f_check(rc == NC_AGAIN || rc == NC_HTTP_PARSE_INVALID_STATUS);
            f_trace(f, (uint64_t) (f->b.pos - f->buf));
            return 0;
        }

        s = pr.status_start;

        f_trace_ptr(f, s);
        f_trace_ptr(f, pr.reason_start);
        f_trace_ptr(f, pr.status_end);

        /* "HTTP/1.0 " or "HTTP/1.1 " where the call began, nothing skipped */
        f_check(s - start == 9
                && memcmp(start, "HTTP/1.", 7) == 0
                && s[-1] == ' '
                && pr.http_major == 1
                && pr.http_minor <= 1
                && s[-2] == '0' + pr.http_minor
                && pr.http_version == 1000 + pr.http_minor);

        f_check(pr.status >= 100 && pr.status <= 999
                && pr.status == (nc_uint_t) (s[0] - '0') * 100
                                + (s[1] - '0') * 10 + (s[2] - '0'));

        if (pr.status_end == s + 3) {
            f_check(pr.reason_start == pr.status_end);

        } else {
            f_check(s[3] == ' ' && pr.reason_start == s + 4
                    && pr.reason_start <= pr.status_end);
        }

        for (r = pr.reason_start; r < pr.status_end; r++) {
            f_check(*r == ' ' || *r == '\t' || (*r > 0x20 && *r != 0x7f));
        }

        f_check(pr.status_end < f->b.pos
                && f->b.pos[-1] == '\n'
                && (f->b.pos - pr.status_end == 1
                    || (f->b.pos - pr.status_end == 2
                        && *pr.status_end == '\r')));

        f_trace(f, pr.status);
        f_trace(f, pr.http_version);

        final = (pr.status >= 200);

        if (!f_fields_and_body(f, &pr, final)) {
            return 0;
        }

    } while (!final);

    return 1;
}


static void
f_run(const u_char *in, size_t len, size_t *cuts, nc_uint_t ncuts,
    nc_uint_t bytewise, f_message_pt message, uint64_t *hash,
    uint64_t *count)
{
    nc_uint_t  i;
    f_feed_t   f;

    nc_memzero(&f, sizeof(f_feed_t));

    f.in = in;
    f.len = len;
    f.buf = malloc(len ? len : 1);
    f_check(f.buf != NULL);
    memset(f.buf, F_POISON, len);

    for (i = 0; i < ncuts; i++) {
        f.cut[i] = cuts[i];
    }

    f.ncuts = ncuts;
    f.bytewise = bytewise;
    f.hash = 0xcbf29ce484222325ULL;
    f.b.start = f.b.pos = f.b.last = f.buf;
    f.b.end = f.buf + len;

    if (f_feed(&f)) {
        for (i = 0; i < F_MAX_REQUESTS && message(&f); i++) {
            /* void */
        }
    }

    *hash = f.hash;
    *count = f.count;

    free(f.buf);
}


/*
 * The reference normalization: decode everything, then resolve segments
 * on a stack, the textbook way. The parser's single pass must agree.
 */

static nc_int_t
f_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static nc_int_t
f_normalize(const u_char *src, size_t len, u_char *out, size_t *olen)
{
    u_char     *dec, *seg, *d, **segs;
    size_t      i, n, nseg, slen, *segs_len;
    nc_int_t    hi, lo, rc;
    nc_uint_t   trailing;

    if (len == 0 || src[0] != '/') {
        return NC_ERROR;
    }

    dec = malloc(len);
    segs = malloc(len * sizeof(u_char *));
    segs_len = malloc(len * sizeof(size_t));
    f_check(dec != NULL && segs != NULL && segs_len != NULL);

    rc = NC_ERROR;
    n = 0;

    for (i = 0; i < len; i++) {
        if (src[i] == '%') {
            if (len - i < 3) {
                goto done;
            }

            hi = f_hex(src[i + 1]);
            lo = f_hex(src[i + 2]);

            if (hi < 0 || lo < 0) {
                goto done;
            }

            dec[n++] = (u_char) (hi * 16 + lo);
            i += 2;

        } else {
            dec[n++] = src[i];
        }

        if (dec[n - 1] == '\0') {
            goto done;
        }
    }

    nseg = 0;
    trailing = 0;
    i = 1;

    while (i <= n) {
        seg = dec + i;
        slen = 0;

        while (i + slen < n && dec[i + slen] != '/') {
            slen++;
        }

        i += slen + 1;
        trailing = (i <= n);

        if (slen == 0 || (slen == 1 && seg[0] == '.')) {
            trailing = 1;
            continue;
        }

        if (slen == 2 && seg[0] == '.' && seg[1] == '.') {
            if (nseg == 0) {
                goto done;
            }

            nseg--;
            trailing = 1;
            continue;
        }

        segs[nseg] = seg;
        segs_len[nseg] = slen;
        nseg++;
    }

    d = out;

    for (i = 0; i < nseg; i++) {
        *d++ = '/';
        memcpy(d, segs[i], segs_len[i]);
        d += segs_len[i];
    }

    if (nseg == 0 || trailing) {
        *d++ = '/';
    }

    *olen = d - out;
    rc = NC_OK;

done:

    free(dec);
    free(segs);
    free(segs_len);

    return rc;
}


static void
f_paths(const u_char *data, size_t size)
{
    u_char    *src, *dst, *ref;
    size_t     dlen, rlen;
    nc_int_t   rc, rrc;

    src = malloc(size + 1);
    dst = malloc(size + 1);
    ref = malloc(size + 2);
    f_check(src != NULL && dst != NULL && ref != NULL);

    /* as given, and made to start with '/' */
    src[0] = '/';
    memcpy(src + 1, data, size);

    rc = nc_http_normalize_path(data, size, dst, &dlen);
    rrc = f_normalize(data, size, ref, &rlen);

    f_check(rc == rrc);

    if (rc == NC_OK) {
        f_check(dlen <= size && dst[0] == '/');
        f_check(dlen == rlen && memcmp(dst, ref, dlen) == 0);
    }

    rc = nc_http_normalize_path(src, size + 1, dst, &dlen);
    rrc = f_normalize(src, size + 1, ref, &rlen);

    f_check(rc == rrc);

    if (rc == NC_OK) {
        f_check(dlen <= size + 1 && dst[0] == '/');
        f_check(dlen == rlen && memcmp(dst, ref, dlen) == 0);

        /* in place gives the same */
        rc = nc_http_normalize_path(src, size + 1, src, &rlen);
        f_check(rc == NC_OK && rlen == dlen && memcmp(src, dst, dlen) == 0);
    }

    free(src);
    free(dst);
    free(ref);
}


static void
f_forms(const u_char *data, size_t size)
{
    u_char    *a, *b, *pos, *end;
    ssize_t    n, m;
    nc_str_t   k, v, args;
    nc_uint_t  i, plus;

    a = malloc(size + 1);
    b = malloc(size + 1);
    f_check(a != NULL && b != NULL);

    for (plus = 0; plus < 2; plus++) {
        memcpy(a, data, size);

        n = nc_http_unescape(b, a, size, plus);
        m = nc_http_unescape(a, a, size, plus);

        f_check(n == m);
        f_check(n == NC_ERROR || (n >= 0 && (size_t) n <= size));

        if (n > 0) {
            f_check(memcmp(a, b, n) == 0);
        }
    }

    memcpy(a, data, size);
    pos = a;
    end = a + size;

    for (i = 0; i <= size + 1; i++) {
        if (nc_http_form_next(&pos, end, &k, &v) == NC_DONE) {
            break;
        }

        f_check(pos >= a && pos <= end);
        f_check(k.data >= a && k.data + k.len <= end);
        f_check(v.data >= a && v.data + v.len <= end);
        f_check(memchr(k.data, '&', k.len) == NULL);
        f_check(memchr(k.data, '=', k.len) == NULL);
        f_check(memchr(v.data, '&', v.len) == NULL);
        f_check(k.len + v.len > 0 || v.data > k.data);
    }

    f_check(i <= size + 1 && pos == end);

    args.data = a;
    args.len = size;

    if (size > 0 && nc_http_arg(&args, (char *) a, 1, &v) == NC_OK) {
        f_check(v.data >= a && v.data + v.len <= end);
    }

    free(a);
    free(b);
}


/* whole, split and byte by byte feeds must agree */
static void
f_messages(const uint8_t *data, size_t size, f_message_pt message)
{
    size_t     cuts[3], t;
    uint64_t   h1, c1, h2, c2;
    nc_uint_t  i, j;

    f_run(data, size, NULL, 0, 0, message, &h1, &c1);

    if (size > 1) {
        for (i = 0; i < 3; i++) {
            cuts[i] = ((size_t) data[i % size] * 131 + i * 7919) % size;
        }

        /* ascending cut points */
        for (i = 1; i < 3; i++) {
            for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        }

        f_run(data, size, cuts, 3, 0, message, &h2, &c2);
        f_check(h1 == h2 && c1 == c2);
    }

    /* one byte at a time costs a call per byte: small inputs only */
    if (size > 1 && size <= 512) {
        f_run(data, size, NULL, 0, 1, message, &h2, &c2);
        f_check(h1 == h2 && c1 == c2);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    f_messages(data, size, f_request);
    f_messages(data, size, f_response);

    f_paths(data, size);
    f_forms(data, size);

    return 0;
}
