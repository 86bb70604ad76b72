
/*
 * nacre: the HTTP/1.1 request parser, and the response status line for
 * reading upstream responses. Incremental and zero-copy: every
 * function consumes bytes from b->pos up to b->last, keeps its progress in
 * the parser struct, advances b->pos, and leaves pointers into the buffer.
 * A caller that gets NC_AGAIN reads more bytes into the same buffer (after
 * b->last, never moving what is before it) and calls again.
 *
 * No allocation, no I/O: pure functions over bytes, fuzzed by
 * t/fuzz/fuzz_http_parse.c.
 */

#ifndef _NC_HTTP_PARSE_H_INCLUDED_
#define _NC_HTTP_PARSE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


/* methods, as bits so a route can accept several */
#define NC_HTTP_UNKNOWN      0x0001
#define NC_HTTP_GET          0x0002
#define NC_HTTP_HEAD         0x0004
#define NC_HTTP_POST         0x0008
#define NC_HTTP_PUT          0x0010
#define NC_HTTP_DELETE       0x0020
#define NC_HTTP_OPTIONS      0x0040
#define NC_HTTP_PATCH        0x0080
#define NC_HTTP_TRACE        0x0100
#define NC_HTTP_CONNECT      0x0200

/* results besides NC_OK and NC_AGAIN */
#define NC_HTTP_PARSE_HEADER_DONE         1
#define NC_HTTP_PARSE_INVALID_METHOD      10
#define NC_HTTP_PARSE_INVALID_REQUEST     11
#define NC_HTTP_PARSE_INVALID_VERSION     12   /* also HTTP/2.x, 3.x */
#define NC_HTTP_PARSE_INVALID_09_METHOD   13   /* "GET /x" with no version */
#define NC_HTTP_PARSE_HTTP2_PREFACE       14   /* "PRI * HTTP/2.0" */
#define NC_HTTP_PARSE_INVALID_HEADER      15   /* bad name/value, folding */
#define NC_HTTP_PARSE_INVALID_CHUNKED     16
#define NC_HTTP_PARSE_INVALID_STATUS      17   /* response status line */


typedef struct {
    nc_uint_t     state;

    /* request line: set once nc_http_parse_request_line() returns NC_OK */
    u_char       *request_start;
    u_char       *request_end;       /* before CR LF */
    u_char       *method_end;
    u_char       *uri_start;
    u_char       *uri_end;
    u_char       *args_start;        /* after '?'; NULL when no query */
    nc_uint_t     method;            /* NC_HTTP_GET ... */
    nc_uint_t     http_major;        /* request or status line */
    nc_uint_t     http_minor;
    nc_uint_t     http_version;      /* major * 1000 + minor */

    unsigned      complex_uri:1;     /* '%', "//", "/." seen: normalize */

    /* status line: set once nc_http_parse_status_line() returns NC_OK */
    u_char       *status_start;      /* the code: "200 OK" to status_end */
    u_char       *status_end;        /* after the reason, before CR LF */
    u_char       *reason_start;      /* == status_end when no reason */
    nc_uint_t     status;            /* 100..999 */

    /* one header line: set each time nc_http_parse_header_line() is NC_OK */
    u_char       *header_name_start;
    u_char       *header_name_end;
    u_char       *header_start;      /* value, leading/trailing OWS trimmed */
    u_char       *header_end;
} nc_http_parser_t;


typedef struct {
    nc_uint_t     state;
    off_t         size;              /* bytes of chunk data left */
} nc_http_chunked_t;


/* start (or restart, for the next pipelined request) a parser */
void nc_http_parser_init(nc_http_parser_t *p);

/*
 * NC_OK: the request line is complete (fields set, b->pos after its LF);
 * NC_AGAIN: need more bytes; else one of NC_HTTP_PARSE_* errors.
 * Leading empty lines (CRLF) before a request are skipped, as RFC 9112
 * allows. Bare LF is accepted as a line end; a bare CR is not.
 */
nc_int_t nc_http_parse_request_line(nc_http_parser_t *p, nc_buf_t *b);

/*
 * Response status line "HTTP/1.1 200 OK" (reason optional, may be empty):
 * NC_OK (status_start..status_end, reason_start, status and
 * http_major/minor/version set, b->pos after its LF), NC_AGAIN, or
 * NC_HTTP_PARSE_INVALID_STATUS.
 * Strict: "HTTP/1.0" or "HTTP/1.1" exactly (no other version, no extra
 * digits), one SP, a code of exactly three digits 100..999, then SP and a
 * reason of HTAB, SP, VCHAR and obs-text, kept raw ("HTTP/1.1 204 \r\n"
 * gives an empty one), or the line end at once ("HTTP/1.1 204\r\n").
 * A response starts at once: no empty lines are skipped before it. Bare LF
 * is accepted as the line end; a bare CR is not. No length limit of its
 * own: the caller's buffer bounds the line (NC_AGAIN with it full).
 * Start with nc_http_parser_init(). Header lines follow with
 * nc_http_parse_header_line() on the same parser and with no init
 * between (it would clear the status fields); after a 1xx and its header
 * block, call this again, still with no init, for the next status line.
 */
nc_int_t nc_http_parse_status_line(nc_http_parser_t *p, nc_buf_t *b);

/*
 * NC_OK: one header line parsed (header_* set); NC_HTTP_PARSE_HEADER_DONE:
 * the empty line ending the header block was consumed; NC_AGAIN; or
 * NC_HTTP_PARSE_INVALID_HEADER. Names are RFC 9110 tokens; obs-fold
 * (a line starting with SP or HT), NUL, bare CR and a space before the
 * colon are rejected. Response headers are read the same way, as
 * strictly: where a server answers 400, a proxy answers 502.
 */
nc_int_t nc_http_parse_header_line(nc_http_parser_t *p, nc_buf_t *b);

/*
 * Chunked bodies, of requests and of responses alike. Call with ctx zeroed
 * at the start of a body.
 * NC_OK: ctx->size bytes of data start at b->pos (the caller consumes up
 *        to that many, decrements ctx->size and advances b->pos, then calls
 *        again);
 * NC_DONE: the last chunk and trailer section were consumed;
 * NC_AGAIN: need more bytes; NC_HTTP_PARSE_INVALID_CHUNKED: malformed, or
 *        a chunk size that overflows off_t.
 * Chunk extensions are skipped; trailer fields are validated and dropped.
 */
nc_int_t nc_http_parse_chunked(nc_http_chunked_t *ctx, nc_buf_t *b);

/*
 * Decode and normalize a request path into dst (at least len bytes):
 * %XX decoded, "//" merged, "/./" dropped, "/../" resolved. NC_ERROR when
 * it escapes above "/", holds %00 or a bad escape, or does not start
 * with '/'. *dlen receives the result length.
 */
nc_int_t nc_http_normalize_path(const u_char *src, size_t len, u_char *dst,
    size_t *dlen);

/*
 * application/x-www-form-urlencoded (query strings and bodies).
 * nc_http_form_next() walks "k=v&k2=v2" from *pos to end, returning raw
 * (still encoded) key and value; NC_DONE when nothing is left. Empty
 * pairs ("&&") are skipped; a key without '=' has an empty value.
 */
nc_int_t nc_http_form_next(u_char **pos, u_char *end, nc_str_t *key,
    nc_str_t *value);

/*
 * Percent-decode src into dst (may be the same buffer), turning '+' into
 * a space when plus_is_space. Returns the decoded length, or NC_ERROR on a
 * malformed escape.
 */
ssize_t nc_http_unescape(u_char *dst, const u_char *src, size_t len,
    nc_flag_t plus_is_space);

/* the raw value of the first argument named name in args; NC_DECLINED */
nc_int_t nc_http_arg(const nc_str_t *args, const char *name, size_t len,
    nc_str_t *value);


#endif /* _NC_HTTP_PARSE_H_INCLUDED_ */
