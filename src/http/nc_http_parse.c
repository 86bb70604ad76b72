
/*
 * nacre: the HTTP/1.1 request parser (RFC 9112, strict), the response
 * status line, chunked bodies, path normalization and form decoding.
 * Byte-at-a-time state machines in the manner of nginx: the state
 * survives NC_AGAIN at any byte boundary, nothing is allocated or
 * copied, every result points into the buffer.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http_parse.h>

#if (__SSE2__)
#include <emmintrin.h>
#endif


#define CR  '\r'
#define LF  '\n'

/* byte classes, one bit each in nc_http_char[] */
#define NC_HTTP_C_TOKEN    0x01   /* RFC 9110 tchar */
#define NC_HTTP_C_METHOD   0x02   /* tchar but not a lower-case letter */
#define NC_HTTP_C_PATH     0x04   /* VCHAR except / % ? #: no state change */
#define NC_HTTP_C_QUERY    0x08   /* VCHAR except # */
#define NC_HTTP_C_VALUE    0x10   /* field-vchar: VCHAR and obs-text */
#define NC_HTTP_C_HEX      0x20
#define NC_HTTP_C_HOST     0x40   /* unreserved, sub-delims, '%', ':' */
#define NC_HTTP_C_SCHEME   0x80   /* ALPHA DIGIT + - . */

#define nc_http_is(c, cls)  (nc_http_char[c] & (cls))

/* a chunk-size line (size, extensions, CRLF) is bounded */
#define NC_HTTP_CHUNK_LINE_MAX     4096
/* and so is the whole trailer section */
#define NC_HTTP_CHUNK_TRAILER_MAX  16384

/* the chunked state keeps a byte counter above its low 8 bits */
#define NC_HTTP_CHUNK_STATE_MASK   0xff
#define NC_HTTP_CHUNK_COUNT_SHIFT  8


static nc_int_t nc_http_hex(u_char c);

#if (__SSE2__)
static u_char *nc_http_scan(u_char *p, u_char *last, nc_uint_t query);
#endif


static const u_char  nc_http_char[256] = {
    /* 0x00 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x08 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x10 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x18 */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x20 */ 0x00, 0x5f, 0x1c, 0x13, 0x5f, 0x5b, 0x5f, 0x5f,
    /* 0x28 */ 0x5c, 0x5c, 0x5f, 0xdf, 0x5c, 0xdf, 0xdf, 0x18,
    /* 0x30 */ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    /* 0x38 */ 0xff, 0xff, 0x5c, 0x5c, 0x1c, 0x5c, 0x1c, 0x18,
    /* 0x40 */ 0x1c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xdf,
    /* 0x48 */ 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf,
    /* 0x50 */ 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf,
    /* 0x58 */ 0xdf, 0xdf, 0xdf, 0x1c, 0x1c, 0x1c, 0x1f, 0x5f,
    /* 0x60 */ 0x1f, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xdd,
    /* 0x68 */ 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
    /* 0x70 */ 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
    /* 0x78 */ 0xdd, 0xdd, 0xdd, 0x1c, 0x1f, 0x1c, 0x5f, 0x00,
    /* 0x80 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0x88 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0x90 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0x98 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xa0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xa8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xb0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xb8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xc0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xc8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xd0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xd8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xe0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xe8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xf0 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    /* 0xf8 */ 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
};


void
nc_http_parser_init(nc_http_parser_t *p)
{
    nc_memzero(p, sizeof(nc_http_parser_t));
}


nc_int_t
nc_http_parse_request_line(nc_http_parser_t *pr, nc_buf_t *b)
{
    u_char     c, *p, *m, *last;
    size_t     n;
    nc_uint_t  state;
    enum {
        sw_start = 0,
        sw_start_lf,
        sw_method,
        sw_before_uri,
        sw_asterisk,
        sw_scheme,
        sw_scheme_slash,
        sw_scheme_slash_slash,
        sw_host_start,
        sw_host,
        sw_host_ip_literal,
        sw_host_end,
        sw_port,
        sw_after_slash_in_uri,
        sw_check_uri,
        sw_uri_dot,
        sw_uri_dot_dot,
        sw_args,
        sw_http_H,
        sw_http_HT,
        sw_http_HTT,
        sw_http_HTTP,
        sw_http_slash,
        sw_first_major_digit,
        sw_major_digit1,
        sw_major_digit2,
        sw_major_digit3,
        sw_first_minor_digit,
        sw_minor_digit1,
        sw_minor_digit2,
        sw_minor_digit3,
        sw_almost_done
    };

    state = pr->state;
    last = b->last;

    for (p = b->pos; p < last; p++) {
        c = *p;

        switch (state) {

        case sw_start:

            if (c == CR) {
                state = sw_start_lf;
                break;
            }

            if (c == LF) {
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_METHOD)) {
                goto invalid_method;
            }

            pr->request_start = p;

            if (last - p >= 4 && nc_memcmp(p, "GET ", 4) == 0) {
                pr->method = NC_HTTP_GET;
                pr->method_end = p + 3;
                p += 3;
                state = sw_before_uri;
                break;
            }

            if (last - p >= 5 && nc_memcmp(p, "POST ", 5) == 0) {
                pr->method = NC_HTTP_POST;
                pr->method_end = p + 4;
                p += 4;
                state = sw_before_uri;
                break;
            }

            state = sw_method;
            break;

        case sw_start_lf:
            if (c != LF) {
                goto invalid;
            }

            state = sw_start;
            break;

        case sw_method:

            while (nc_http_is(c, NC_HTTP_C_METHOD)) {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

            if (c != ' ') {
                goto invalid_method;
            }

            pr->method_end = p;
            pr->method = NC_HTTP_UNKNOWN;

            m = pr->request_start;
            n = p - m;

            switch (n) {

            case 3:
                if (nc_memcmp(m, "GET", 3) == 0) {
                    pr->method = NC_HTTP_GET;

                } else if (nc_memcmp(m, "PUT", 3) == 0) {
                    pr->method = NC_HTTP_PUT;
                }

                break;

            case 4:
                if (nc_memcmp(m, "POST", 4) == 0) {
                    pr->method = NC_HTTP_POST;

                } else if (nc_memcmp(m, "HEAD", 4) == 0) {
                    pr->method = NC_HTTP_HEAD;
                }

                break;

            case 5:
                if (nc_memcmp(m, "PATCH", 5) == 0) {
                    pr->method = NC_HTTP_PATCH;

                } else if (nc_memcmp(m, "TRACE", 5) == 0) {
                    pr->method = NC_HTTP_TRACE;
                }

                break;

            case 6:
                if (nc_memcmp(m, "DELETE", 6) == 0) {
                    pr->method = NC_HTTP_DELETE;
                }

                break;

            case 7:
                if (nc_memcmp(m, "OPTIONS", 7) == 0) {
                    pr->method = NC_HTTP_OPTIONS;

                } else if (nc_memcmp(m, "CONNECT", 7) == 0) {
                    pr->method = NC_HTTP_CONNECT;
                }

                break;
            }

            state = sw_before_uri;
            break;

        /* exactly one SP after the method: the target starts here */
        case sw_before_uri:

            if (c == '/') {
                pr->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            if (c == '*') {
                m = pr->request_start;

                /* "PRI" only to recognise the HTTP/2 preface later */
                if (pr->method != NC_HTTP_OPTIONS
                    && !(pr->method_end - m == 3
                         && nc_memcmp(m, "PRI", 3) == 0))
                {
                    goto invalid;
                }

                pr->uri_start = p;
                state = sw_asterisk;
                break;
            }

            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
                state = sw_scheme;
                break;
            }

            goto invalid;

        case sw_asterisk:
            switch (c) {
            case ' ':
                pr->uri_end = p;
                state = sw_http_H;
                break;
            case CR:
            case LF:
                pr->uri_end = p;
                goto http_09;
            default:
                goto invalid;
            }

            break;

        case sw_scheme:
            if (c == ':') {
                state = sw_scheme_slash;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_SCHEME)) {
                goto invalid;
            }

            break;

        case sw_scheme_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_scheme_slash_slash;
            break;

        case sw_scheme_slash_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_host_start;
            break;

        /* userinfo ('@') is refused: RFC 9110 4.2.4 */
        case sw_host_start:
            if (c == '[') {
                state = sw_host_ip_literal;
                break;
            }

            if (c == ':' || !nc_http_is(c, NC_HTTP_C_HOST)) {
                goto invalid;
            }

            state = sw_host;
            break;

        case sw_host:
            if (c == '/') {
                pr->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            if (c == ':') {
                state = sw_port;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_HOST)) {
                goto invalid;
            }

            break;

        case sw_host_ip_literal:
            if (c == ']') {
                state = sw_host_end;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_HOST)) {
                goto invalid;
            }

            break;

        case sw_host_end:
            if (c == ':') {
                state = sw_port;
                break;
            }

            if (c == '/') {
                pr->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            goto invalid;

        case sw_port:
            if (c == '/') {
                pr->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            }

            if (c < '0' || c > '9') {
                goto invalid;
            }

            break;

        /* the previous byte was '/' */
        case sw_after_slash_in_uri:
            switch (c) {
            case '/':
                pr->complex_uri = 1;
                break;
            case '.':
                state = sw_uri_dot;
                break;
            default:
                goto uri_char;
            }

            break;

        /* "/." */
        case sw_uri_dot:
            switch (c) {
            case '/':
                pr->complex_uri = 1;
                state = sw_after_slash_in_uri;
                break;
            case '.':
                state = sw_uri_dot_dot;
                break;
            case '?':
            case ' ':
            case CR:
            case LF:
                pr->complex_uri = 1;
                goto uri_char;
            default:
                goto uri_char;
            }

            break;

        /* "/.." */
        case sw_uri_dot_dot:
            switch (c) {
            case '/':
                pr->complex_uri = 1;
                state = sw_after_slash_in_uri;
                break;
            case '?':
            case ' ':
            case CR:
            case LF:
                pr->complex_uri = 1;
                goto uri_char;
            default:
                goto uri_char;
            }

            break;

        case sw_check_uri:

            while (nc_http_is(c, NC_HTTP_C_PATH)) {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

        uri_char:

            switch (c) {
            case '/':
                state = sw_after_slash_in_uri;
                break;
            case '%':
                pr->complex_uri = 1;
                state = sw_check_uri;
                break;
            case '?':
                pr->args_start = p + 1;
                state = sw_args;
                break;
            case ' ':
                pr->uri_end = p;
                state = sw_http_H;
                break;
            case CR:
            case LF:
                pr->uri_end = p;
                goto http_09;
            default:
                /* CTL, SP, '#', raw bytes >= 0x80 */
                if (!nc_http_is(c, NC_HTTP_C_PATH)) {
                    goto invalid;
                }

                state = sw_check_uri;
                break;
            }

            break;

        case sw_args:

#if (__SSE2__)
            p = nc_http_scan(p, last, 1);

            if (p == last) {
                goto again;
            }

            c = *p;
#endif

            while (nc_http_is(c, NC_HTTP_C_QUERY)) {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

            switch (c) {
            case ' ':
                pr->uri_end = p;
                state = sw_http_H;
                break;
            case CR:
            case LF:
                pr->uri_end = p;
                goto http_09;
            default:
                goto invalid;
            }

            break;

        /* exactly one SP after the target */
        case sw_http_H:

            if (last - p >= 9
                && nc_memcmp(p, "HTTP/1.1", 8) == 0
                && p[8] == CR)
            {
                pr->http_major = 1;
                pr->http_minor = 1;
                pr->request_end = p + 8;
                p += 8;
                state = sw_almost_done;
                break;
            }

            if (c != 'H') {
                goto invalid;
            }

            state = sw_http_HT;
            break;

        case sw_http_HT:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_http_HTT;
            break;

        case sw_http_HTT:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_http_HTTP;
            break;

        case sw_http_HTTP:
            if (c != 'P') {
                goto invalid;
            }

            state = sw_http_slash;
            break;

        case sw_http_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_first_major_digit;
            break;

        case sw_first_major_digit:
            if (c < '0' || c > '9') {
                goto invalid;
            }

            pr->http_major = c - '0';
            state = sw_major_digit1;
            break;

        /* one state per digit seen: three at most */
        case sw_major_digit1:
        case sw_major_digit2:
        case sw_major_digit3:
            if (c == '.') {
                state = sw_first_minor_digit;
                break;
            }

            if (c < '0' || c > '9' || state == sw_major_digit3) {
                goto invalid;
            }

            pr->http_major = pr->http_major * 10 + (c - '0');
            state++;
            break;

        case sw_first_minor_digit:
            if (c < '0' || c > '9') {
                goto invalid;
            }

            pr->http_minor = c - '0';
            state = sw_minor_digit1;
            break;

        case sw_minor_digit1:
        case sw_minor_digit2:
        case sw_minor_digit3:
            if (c == CR) {
                pr->request_end = p;
                state = sw_almost_done;
                break;
            }

            if (c == LF) {
                pr->request_end = p;
                goto done;
            }

            if (c < '0' || c > '9' || state == sw_minor_digit3) {
                goto invalid;
            }

            pr->http_minor = pr->http_minor * 10 + (c - '0');
            state++;
            break;

        case sw_almost_done:
            if (c != LF) {
                goto invalid;
            }

            goto done;
        }
    }

again:

    b->pos = p;
    pr->state = state;

    return NC_AGAIN;

done:

    b->pos = p + 1;
    pr->state = sw_start;
    pr->http_version = pr->http_major * 1000 + pr->http_minor;

    if (*pr->uri_start == '*' && pr->method != NC_HTTP_OPTIONS) {
        /* only "PRI *" gets here */
        if (pr->http_version == 2000) {
            return NC_HTTP_PARSE_HTTP2_PREFACE;
        }

        return NC_HTTP_PARSE_INVALID_REQUEST;
    }

    if (pr->http_major != 1) {
        return NC_HTTP_PARSE_INVALID_VERSION;
    }

    return NC_OK;

http_09:

    b->pos = p;
    pr->state = state;

    return NC_HTTP_PARSE_INVALID_09_METHOD;

invalid_method:

    b->pos = p;
    pr->state = state;

    return NC_HTTP_PARSE_INVALID_METHOD;

invalid:

    b->pos = p;
    pr->state = state;

    return NC_HTTP_PARSE_INVALID_REQUEST;
}


/*
 * One state per byte up to the reason: the line is short and read once per
 * response, so there is no fast path to get wrong.
 */

nc_int_t
nc_http_parse_status_line(nc_http_parser_t *pr, nc_buf_t *b)
{
    u_char     c, *p, *last;
    nc_uint_t  state;
    enum {
        sw_start = 0,
        sw_H,
        sw_HT,
        sw_HTT,
        sw_HTTP,
        sw_major_digit,
        sw_dot,
        sw_minor_digit,
        sw_space_before_status,
        sw_status_digit1,
        sw_status_digit2,
        sw_status_digit3,
        sw_space_after_status,
        sw_reason,
        sw_almost_done
    };

    state = pr->state;
    last = b->last;

    for (p = b->pos; p < last; p++) {
        c = *p;

        switch (state) {

        /* no empty lines are skipped: a response starts at once */
        case sw_start:
            if (c != 'H') {
                goto invalid;
            }

            state = sw_H;
            break;

        case sw_H:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_HT;
            break;

        case sw_HT:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_HTT;
            break;

        case sw_HTT:
            if (c != 'P') {
                goto invalid;
            }

            state = sw_HTTP;
            break;

        case sw_HTTP:
            if (c != '/') {
                goto invalid;
            }

            state = sw_major_digit;
            break;

        /* 1.0 and 1.1 only: later versions never send this line */
        case sw_major_digit:
            if (c != '1') {
                goto invalid;
            }

            pr->http_major = 1;
            state = sw_dot;
            break;

        case sw_dot:
            if (c != '.') {
                goto invalid;
            }

            state = sw_minor_digit;
            break;

        case sw_minor_digit:
            if (c != '0' && c != '1') {
                goto invalid;
            }

            pr->http_minor = c - '0';
            state = sw_space_before_status;
            break;

        case sw_space_before_status:
            if (c != ' ') {
                goto invalid;
            }

            state = sw_status_digit1;
            break;

        /* exactly three digits, 100..999 */
        case sw_status_digit1:
            if (c < '1' || c > '9') {
                goto invalid;
            }

            pr->status_start = p;
            pr->status = c - '0';
            state = sw_status_digit2;
            break;

        case sw_status_digit2:
        case sw_status_digit3:
            if (c < '0' || c > '9') {
                goto invalid;
            }

            pr->status = pr->status * 10 + (c - '0');
            state++;
            break;

        /* SP and a reason, or the line end at once: "HTTP/1.1 204\r\n" */
        case sw_space_after_status:
            switch (c) {
            case ' ':
                pr->reason_start = p + 1;
                state = sw_reason;
                break;
            case CR:
                pr->reason_start = p;
                pr->status_end = p;
                state = sw_almost_done;
                break;
            case LF:
                pr->reason_start = p;
                pr->status_end = p;
                goto done;
            default:
                goto invalid;
            }

            break;

        /* HTAB, SP, VCHAR, obs-text: no NUL, CTL or DEL to pass on */
        case sw_reason:

            while (nc_http_is(c, NC_HTTP_C_VALUE) || c == ' ' || c == '\t') {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

            switch (c) {
            case CR:
                pr->status_end = p;
                state = sw_almost_done;
                break;
            case LF:
                pr->status_end = p;
                goto done;
            default:
                goto invalid;
            }

            break;

        case sw_almost_done:
            if (c != LF) {
                goto invalid;
            }

            goto done;
        }
    }

again:

    b->pos = p;
    pr->state = state;

    return NC_AGAIN;

done:

    /* sw_start is also where nc_http_parse_header_line() begins */
    b->pos = p + 1;
    pr->state = sw_start;
    pr->http_version = pr->http_major * 1000 + pr->http_minor;

    return NC_OK;

invalid:

    b->pos = p;
    pr->state = state;

    return NC_HTTP_PARSE_INVALID_STATUS;
}


nc_int_t
nc_http_parse_header_line(nc_http_parser_t *pr, nc_buf_t *b)
{
    u_char     c, *p, *last;
    nc_uint_t  state;
    enum {
        sw_start = 0,
        sw_name,
        sw_space_before_value,
        sw_value,
        sw_space_after_value,
        sw_almost_done,
        sw_header_almost_done
    };

    state = pr->state;
    last = b->last;

    for (p = b->pos; p < last; p++) {
        c = *p;

        switch (state) {

        case sw_start:

            if (c == CR) {
                state = sw_header_almost_done;
                break;
            }

            if (c == LF) {
                goto header_done;
            }

            /* obs-fold (SP, HT) is refused with every other non-tchar */
            if (!nc_http_is(c, NC_HTTP_C_TOKEN)) {
                goto invalid;
            }

            pr->header_name_start = p;
            state = sw_name;
            break;

        case sw_name:

            while (nc_http_is(c, NC_HTTP_C_TOKEN)) {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

            if (c != ':') {
                goto invalid;
            }

            pr->header_name_end = p;
            state = sw_space_before_value;
            break;

        case sw_space_before_value:

            if (nc_http_is(c, NC_HTTP_C_VALUE)) {
                pr->header_start = p;
                state = sw_value;
                break;
            }

            switch (c) {
            case ' ':
            case '\t':
                break;
            case CR:
                pr->header_start = p;
                pr->header_end = p;
                state = sw_almost_done;
                break;
            case LF:
                pr->header_start = p;
                pr->header_end = p;
                goto done;
            default:
                goto invalid;
            }

            break;

        case sw_value:

#if (__SSE2__)
            p = nc_http_scan(p, last, 0);

            if (p == last) {
                goto again;
            }

            c = *p;
#endif

            while (nc_http_is(c, NC_HTTP_C_VALUE)) {
                if (++p == last) {
                    goto again;
                }

                c = *p;
            }

            switch (c) {
            case ' ':
            case '\t':
                pr->header_end = p;
                state = sw_space_after_value;
                break;
            case CR:
                pr->header_end = p;
                state = sw_almost_done;
                break;
            case LF:
                pr->header_end = p;
                goto done;
            default:
                goto invalid;
            }

            break;

        case sw_space_after_value:

            if (nc_http_is(c, NC_HTTP_C_VALUE)) {
                state = sw_value;
                break;
            }

            switch (c) {
            case ' ':
            case '\t':
                break;
            case CR:
                state = sw_almost_done;
                break;
            case LF:
                goto done;
            default:
                goto invalid;
            }

            break;

        case sw_almost_done:
            if (c != LF) {
                goto invalid;
            }

            goto done;

        case sw_header_almost_done:
            if (c != LF) {
                goto invalid;
            }

            goto header_done;
        }
    }

again:

    b->pos = p;
    pr->state = state;

    return NC_AGAIN;

done:

    b->pos = p + 1;
    pr->state = sw_start;

    return NC_OK;

header_done:

    b->pos = p + 1;
    pr->state = sw_start;

    return NC_HTTP_PARSE_HEADER_DONE;

invalid:

    b->pos = p;
    pr->state = state;

    return NC_HTTP_PARSE_INVALID_HEADER;
}


/*
 * The chunked framing takes CRLF only, no bare LF: a framing difference
 * between two HTTP hops is how bodies get smuggled, so the stricter reading
 * wins here even though request and header lines accept a bare LF.
 */

nc_int_t
nc_http_parse_chunked(nc_http_chunked_t *ctx, nc_buf_t *b)
{
    u_char     c, *p, *last;
    nc_int_t   d;
    nc_uint_t  state, count;
    enum {
        sw_chunk_start = 0,
        sw_chunk_size,
        sw_chunk_ext_ws,
        sw_chunk_ext,
        sw_chunk_size_lf,
        sw_chunk_data,
        sw_chunk_data_cr,
        sw_chunk_data_lf,
        sw_trailer_start,
        sw_trailer_name,
        sw_trailer_value,
        sw_trailer_lf,
        sw_last_lf
    };

    state = ctx->state & NC_HTTP_CHUNK_STATE_MASK;
    count = ctx->state >> NC_HTTP_CHUNK_COUNT_SHIFT;
    last = b->last;
    p = b->pos;

    for ( ;; ) {

        if (state == sw_chunk_data) {
            if (ctx->size > 0) {
                if (p == last) {
                    goto again;
                }

                b->pos = p;
                ctx->state = state;

                return NC_OK;
            }

            state = sw_chunk_data_cr;
        }

        if (p == last) {
            goto again;
        }

        c = *p;

        if (state < sw_chunk_data) {
            if (++count > NC_HTTP_CHUNK_LINE_MAX) {
                goto invalid;
            }

        } else if (state >= sw_trailer_start) {
            if (++count > NC_HTTP_CHUNK_TRAILER_MAX) {
                goto invalid;
            }
        }

        switch (state) {

        case sw_chunk_start:
            d = nc_http_hex(c);

            if (d < 0) {
                goto invalid;
            }

            ctx->size = d;
            state = sw_chunk_size;
            break;

        case sw_chunk_size:
            d = nc_http_hex(c);

            if (d >= 0) {
                /* 15 significant hex digits at most: fits any off_t */
                if (ctx->size >= ((off_t) 1 << 56)) {
                    goto invalid;
                }

                ctx->size = ctx->size * 16 + d;
                break;
            }

            switch (c) {
            case ' ':
            case '\t':
                state = sw_chunk_ext_ws;
                break;
            case ';':
                state = sw_chunk_ext;
                break;
            case CR:
                state = sw_chunk_size_lf;
                break;
            default:
                goto invalid;
            }

            break;

        /* BWS is only allowed before an extension */
        case sw_chunk_ext_ws:
            switch (c) {
            case ' ':
            case '\t':
                break;
            case ';':
                state = sw_chunk_ext;
                break;
            default:
                goto invalid;
            }

            break;

        case sw_chunk_ext:
            if (c == CR) {
                state = sw_chunk_size_lf;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_VALUE) && c != ' ' && c != '\t') {
                goto invalid;
            }

            break;

        case sw_chunk_size_lf:
            if (c != LF) {
                goto invalid;
            }

            count = 0;
            state = (ctx->size == 0) ? sw_trailer_start : sw_chunk_data;
            break;

        case sw_chunk_data_cr:
            if (c != CR) {
                goto invalid;
            }

            state = sw_chunk_data_lf;
            break;

        case sw_chunk_data_lf:
            if (c != LF) {
                goto invalid;
            }

            count = 0;
            state = sw_chunk_start;
            break;

        case sw_trailer_start:
            if (c == CR) {
                state = sw_last_lf;
                break;
            }

            /* obs-fold and empty names are refused as in headers */
            if (!nc_http_is(c, NC_HTTP_C_TOKEN)) {
                goto invalid;
            }

            state = sw_trailer_name;
            break;

        case sw_trailer_name:
            if (c == ':') {
                state = sw_trailer_value;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_TOKEN)) {
                goto invalid;
            }

            break;

        case sw_trailer_value:
            if (c == CR) {
                state = sw_trailer_lf;
                break;
            }

            if (!nc_http_is(c, NC_HTTP_C_VALUE) && c != ' ' && c != '\t') {
                goto invalid;
            }

            break;

        case sw_trailer_lf:
            if (c != LF) {
                goto invalid;
            }

            state = sw_trailer_start;
            break;

        case sw_last_lf:
            if (c != LF) {
                goto invalid;
            }

            b->pos = p + 1;
            ctx->state = sw_chunk_start;
            ctx->size = 0;

            return NC_DONE;

        default:
            goto invalid;
        }

        p++;
    }

again:

    b->pos = p;
    ctx->state = state | (count << NC_HTTP_CHUNK_COUNT_SHIFT);

    return NC_AGAIN;

invalid:

    b->pos = p;
    ctx->state = state | (count << NC_HTTP_CHUNK_COUNT_SHIFT);

    return NC_HTTP_PARSE_INVALID_CHUNKED;
}


/*
 * A single pass: each decoded byte is appended to dst, and a '/' (raw or
 * %2F) closes the segment before it, which is then dropped ("", "."),
 * resolved ("..") or kept. Decoding first means "%2e%2e" and ".%2E" are
 * dot segments too, so no encoded traversal survives.
 */

nc_int_t
nc_http_normalize_path(const u_char *src, size_t len, u_char *dst,
    size_t *dlen)
{
    u_char         c, *d, *seg;
    nc_int_t       hi, lo;
    nc_uint_t      at_end;
    const u_char  *s, *end;

    if (len == 0 || src[0] != '/') {
        return NC_ERROR;
    }

    s = src + 1;
    end = src + len;

    d = dst;
    *d++ = '/';
    seg = d;

    for ( ;; ) {

        at_end = (s == end);

        if (!at_end) {
            c = *s++;

            if (c == '%') {
                if (end - s < 2) {
                    return NC_ERROR;
                }

                hi = nc_http_hex(s[0]);
                lo = nc_http_hex(s[1]);

                if (hi < 0 || lo < 0) {
                    return NC_ERROR;
                }

                c = (u_char) (hi * 16 + lo);
                s += 2;
            }

            if (c == '\0') {
                return NC_ERROR;
            }

            if (c != '/') {
                *d++ = c;
                continue;
            }
        }

        /* the segment [seg, d) ended with a '/' or with the path */

        if (d - seg == 1 && seg[0] == '.') {
            d = seg;

        } else if (d - seg == 2 && seg[0] == '.' && seg[1] == '.') {

            if (seg == dst + 1) {
                return NC_ERROR;
            }

            /* back over the previous segment and the '/' ending it */
            d = seg - 1;

            while (d[-1] != '/') {
                d--;
            }

        } else if (d != seg && !at_end) {
            *d++ = '/';
        }

        if (at_end) {
            break;
        }

        seg = d;
    }

    *dlen = d - dst;

    return NC_OK;
}


ssize_t
nc_http_unescape(u_char *dst, const u_char *src, size_t len,
    nc_flag_t plus_is_space)
{
    u_char         c, *d;
    nc_int_t       hi, lo;
    const u_char  *end;

    d = dst;
    end = src + len;

    while (src < end) {
        c = *src++;

        if (c == '%') {
            if (end - src < 2) {
                return NC_ERROR;
            }

            hi = nc_http_hex(src[0]);
            lo = nc_http_hex(src[1]);

            if (hi < 0 || lo < 0) {
                return NC_ERROR;
            }

            c = (u_char) (hi * 16 + lo);
            src += 2;

        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }

        *d++ = c;
    }

    return d - dst;
}


nc_int_t
nc_http_form_next(u_char **pos, u_char *end, nc_str_t *key, nc_str_t *value)
{
    u_char  *p, *k, *eq;

    p = *pos;

    while (p < end && *p == '&') {
        p++;
    }

    if (p >= end) {
        *pos = end;
        return NC_DONE;
    }

    /* memchr: long values (JSON in a query) are common */
    k = p;
    p = memchr(k, '&', end - k);
    p = p ? p : end;
    eq = memchr(k, '=', p - k);

    if (eq == NULL) {
        key->data = k;
        key->len = p - k;
        value->data = p;
        value->len = 0;

    } else {
        key->data = k;
        key->len = eq - k;
        value->data = eq + 1;
        value->len = p - (eq + 1);
    }

    *pos = (p < end) ? p + 1 : end;

    return NC_OK;
}


nc_int_t
nc_http_arg(const nc_str_t *args, const char *name, size_t len,
    nc_str_t *value)
{
    u_char    *p, *end;
    nc_str_t   k, v;

    if (args->len == 0) {
        return NC_DECLINED;
    }

    p = args->data;
    end = p + args->len;

    while (nc_http_form_next(&p, end, &k, &v) == NC_OK) {
        if (k.len == len && nc_memcmp(k.data, name, len) == 0) {
            *value = v;
            return NC_OK;
        }
    }

    return NC_DECLINED;
}


static nc_int_t
nc_http_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


#if (__SSE2__)

/*
 * Skip 16 bytes at a time over field-vchar (query: VCHAR but '#'), the
 * long runs of a request. Returns the first byte that is not one, or a
 * point less than 16 bytes from last where the byte loop takes over.
 */

static u_char *
nc_http_scan(u_char *p, u_char *last, nc_uint_t query)
{
    int      bad;
    __m128i  x, lo, hi, del, hash;

    lo = _mm_set1_epi8(0x21);
    hi = _mm_set1_epi8(0x7e);
    del = _mm_set1_epi8(0x7f);
    hash = _mm_set1_epi8('#');

    while (last - p >= 16) {
        x = _mm_loadu_si128((const __m128i *) p);

        /* below 0x21: SP and CTLs */
        bad = ~_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(x, lo), x));

        if (query) {
            /* above 0x7e, and '#' */
            bad |= ~_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, hi), x));
            bad |= _mm_movemask_epi8(_mm_cmpeq_epi8(x, hash));

        } else {
            bad |= _mm_movemask_epi8(_mm_cmpeq_epi8(x, del));
        }

        bad &= 0xffff;

        if (bad) {
            return p + __builtin_ctz(bad);
        }

        p += 16;
    }

    return p;
}

#endif
