
/*
 * nacre: the HTTP/1.1 request lifecycle: read and parse the request line
 * and headers, read the body, run the handler, send the response, then
 * keep the connection alive or close it.
 *
 * Everything a request needs lives in the connection's pool, reset (not
 * freed) between requests on a keep-alive connection. Header buffers are
 * kept on a free list while connections are idle, so an idle keep-alive
 * connection holds no buffer at all.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_cycle.h>
#include <nc_process_cycle.h>
#include <nc_http.h>
#include <nc_gateway.h>
#include <nc_auth.h>


#define NC_HTTP_MAX_HEADERS     100
#define NC_HTTP_LINGERING_TIME  2000     /* ms to drain an unread body */
/* a parked long-poll uses ~1.7k of it: two share a page (bench/config) */
#define NC_HTTP_CONN_POOL_SIZE  2048


typedef struct nc_http_hbuf_s  nc_http_hbuf_t;

struct nc_http_hbuf_s {
    nc_buf_t          buf;
    nc_http_hbuf_t   *next;
};


static void nc_http_wait_request_handler(nc_event_t *rev);
static nc_http_request_t *nc_http_create_request(nc_connection_t *c);
static void nc_http_process_request_line(nc_event_t *rev);
static void nc_http_process_request_headers(nc_event_t *rev);
static ssize_t nc_http_read_request_header(nc_http_request_t *r);
static nc_int_t nc_http_process_header_line(nc_http_request_t *r);
static nc_int_t nc_http_process_request_header(nc_http_request_t *r);
static nc_int_t nc_http_parse_connection(nc_http_request_t *r,
    nc_str_t *value);
static nc_int_t nc_http_parse_accept_encoding(nc_str_t *value);
static void nc_http_read_body(nc_http_request_t *r);
static nc_int_t nc_http_continue(nc_http_request_t *r);
static void nc_http_read_body_handler(nc_event_t *rev);
static nc_int_t nc_http_read_body_chunked(nc_http_request_t *r);
static void nc_http_run_handler(nc_http_request_t *r);
static void nc_http_request_handler(nc_event_t *ev);
static void nc_http_empty_handler(nc_event_t *ev);
static nc_int_t nc_http_build_header(nc_http_request_t *r);
static void nc_http_writer(nc_http_request_t *r);
static void nc_http_write_handler(nc_event_t *wev);
static void nc_http_request_cleanup(nc_http_request_t *r);
static void nc_http_test_reading(nc_event_t *rev);
static nc_int_t nc_http_param_value(nc_http_request_t *r, nc_str_t *raw,
    nc_str_t *value);
static void nc_http_set_keepalive(nc_http_request_t *r);
static void nc_http_lingering_close(nc_connection_t *c);
static void nc_http_lingering_close_handler(nc_event_t *rev);
static void nc_http_close_connection(nc_connection_t *c);
static void nc_http_log_request(nc_http_request_t *r);
static nc_buf_t *nc_http_get_header_buffer(void);
static void nc_http_free_header_buffer(nc_connection_t *c);


nc_cycle_t              *nc_http_cycle;

static nc_conf_api_t    *nc_http_conf;
static nc_http_hbuf_t   *nc_http_free_hbufs;
static nc_array_t        nc_http_routes;


static const char  *nc_http_status_lines[][2] = {
    { "100", "Continue" },
    { "101", "Switching Protocols" },
    { "200", "OK" },
    { "201", "Created" },
    { "204", "No Content" },
    { "301", "Moved Permanently" },
    { "302", "Found" },
    { "304", "Not Modified" },
    { "400", "Bad Request" },
    { "401", "Unauthorized" },
    { "403", "Forbidden" },
    { "404", "Not Found" },
    { "405", "Method Not Allowed" },
    { "408", "Request Timeout" },
    { "409", "Conflict" },
    { "411", "Length Required" },
    { "412", "Precondition Failed" },
    { "413", "Content Too Large" },
    { "414", "URI Too Long" },
    { "415", "Unsupported Media Type" },
    { "429", "Too Many Requests" },
    { "431", "Request Header Fields Too Large" },
    { "500", "Internal Server Error" },
    { "501", "Not Implemented" },
    { "502", "Bad Gateway" },
    { "503", "Service Unavailable" },
    { "504", "Gateway Timeout" },
    { "505", "HTTP Version Not Supported" },
};


nc_int_t
nc_http_init_worker(nc_cycle_t *cycle)
{
    nc_http_cycle = cycle;
    nc_http_conf = &cycle->conf->api;

    if (nc_array_init(&nc_http_routes, cycle->pool, 16,
                      sizeof(nc_http_route_t))
        != NC_OK)
    {
        return NC_ERROR;
    }

    if (nc_gateway_init_worker(cycle) != NC_OK) {
        return NC_ERROR;
    }

    return nc_api_init_routes(cycle);
}


nc_int_t
nc_http_add_route(nc_uint_t methods, const char *path, nc_uint_t prefix,
    nc_uint_t access, nc_http_handler_pt handler)
{
    nc_http_route_t  *route;

    route = nc_array_push(&nc_http_routes);
    if (route == NULL) {
        return NC_ERROR;
    }

    route->methods = methods;
    route->path.data = (u_char *) path;
    route->path.len = strlen(path);
    route->prefix = prefix;
    route->access = access;
    route->handler = handler;

    return NC_OK;
}


const char *
nc_http_status_text(nc_uint_t status)
{
    nc_uint_t  i;

    for (i = 0; i < nc_nelems(nc_http_status_lines); i++) {
        if ((nc_uint_t) nc_atoi((u_char *) nc_http_status_lines[i][0], 3)
            == status)
        {
            return nc_http_status_lines[i][1];
        }
    }

    return "Unknown";
}


void
nc_http_init_connection(nc_connection_t *c)
{
    nc_event_t  *rev;

    c->log = &nc_http_cycle->log;

    c->pool = nc_create_pool(NC_HTTP_CONN_POOL_SIZE);
    if (c->pool == NULL) {
        nc_close_connection(c);
        return;
    }

    rev = c->read;
    rev->handler = nc_http_wait_request_handler;
    c->write->handler = nc_http_empty_handler;

    if (c->listening->servers) {
        if (nc_ssl_create_connection(c->listening->servers, c) != NC_OK) {
            nc_http_close_connection(c);
            return;
        }
    }

    nc_add_timer(rev, nc_http_conf->client_header_timeout);

    /* bytes may have arrived with the connection: try at once */
    rev->ready = 1;
    nc_http_wait_request_handler(rev);
}


static void
nc_http_wait_request_handler(nc_event_t *rev)
{
    ssize_t             n;
    nc_int_t            rc;
    nc_buf_t           *b;
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = rev->data;

    if (rev->timedout || c->close) {
        nc_http_close_connection(c);
        return;
    }

    if (c->ssl) {
        rc = nc_ssl_handshake(c);

        if (rc == NC_AGAIN) {
            return;
        }

        if (rc != NC_OK) {
            nc_http_close_connection(c);
            return;
        }
    }

    b = c->buffer;

    if (b == NULL) {
        b = nc_http_get_header_buffer();
        if (b == NULL) {
            nc_http_close_connection(c);
            return;
        }

        c->buffer = b;
    }

    if (b->last == b->pos) {
        nc_buf_reset(b);

        if (!rev->ready) {
            nc_http_free_header_buffer(c);
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NC_AGAIN) {
            /* an idle connection keeps no buffer */
            nc_http_free_header_buffer(c);
            return;
        }

        if (n == NC_ERROR || n == 0) {
            nc_http_close_connection(c);
            return;
        }

        b->last += n;
    }

    nc_connection_set_idle(c, 0);

    r = nc_http_create_request(c);
    if (r == NULL) {
        nc_http_close_connection(c);
        return;
    }

    /* the whole request head must arrive within client_header_timeout */
    nc_add_timer(rev, nc_http_conf->client_header_timeout);

    rev->handler = nc_http_process_request_line;
    nc_http_process_request_line(rev);
}


static nc_http_request_t *
nc_http_create_request(nc_connection_t *c)
{
    nc_http_request_t  *r;

    r = nc_pcalloc(c->pool, sizeof(nc_http_request_t));
    if (r == NULL) {
        return NULL;
    }

    if (nc_array_init(&r->headers_in.headers, c->pool, 16,
                      sizeof(nc_http_header_t))
        != NC_OK)
    {
        return NULL;
    }

    r->connection = c;
    r->pool = c->pool;
    r->rb = c->buffer;
    r->start_msec = nc_current_msec;
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified = -1;
    r->file.fd = NC_INVALID_FILE;
    r->timer.timer_index = NC_INVALID_INDEX;
    r->timer.data = r;

    nc_http_parser_init(&r->parser);

    c->data = r;
    c->requests++;

    return r;
}


static void
nc_http_process_request_line(nc_event_t *rev)
{
    ssize_t             n;
    nc_int_t            rc;
    nc_connection_t    *c;
    nc_http_request_t  *r;
    nc_http_parser_t   *p;

    c = rev->data;
    r = c->data;
    p = &r->parser;

    if (rev->timedout) {
        r->keepalive = 0;
        nc_http_finalize_request(r, NC_HTTP_REQUEST_TIME_OUT);
        return;
    }

    for ( ;; ) {
        rc = nc_http_parse_request_line(p, r->rb);

        if (rc == NC_OK) {
            break;
        }

        if (rc != NC_AGAIN) {
            r->request_line.data = r->rb->start;
            r->request_line.len = r->rb->pos - r->rb->start;

            switch (rc) {
            case NC_HTTP_PARSE_INVALID_VERSION:
            case NC_HTTP_PARSE_HTTP2_PREFACE:
                nc_http_finalize_request(r, NC_HTTP_VERSION_NOT_SUPPORTED);
                return;

            default:
                nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
                return;
            }
        }

        n = nc_http_read_request_header(r);

        if (n == NC_AGAIN || n == NC_ERROR) {
            return;
        }

        if (n == NC_DECLINED) {
            r->request_line.data = (u_char *) "-";
            r->request_line.len = 1;
            nc_http_finalize_request(r, NC_HTTP_REQUEST_URI_TOO_LARGE);
            return;
        }
    }

    r->request_line.data = p->request_start;
    r->request_line.len = p->request_end - p->request_start;
    r->method_name.data = p->request_start;
    r->method_name.len = p->method_end - p->request_start;
    r->method = p->method;
    r->http_version = p->http_version;

    if (p->args_start) {
        r->args.data = p->args_start;
        r->args.len = p->uri_end - p->args_start;
    }

    r->uri.data = p->uri_start;
    r->uri.len = p->uri_end - p->uri_start;

    r->path.data = p->uri_start;
    r->path.len = (p->args_start ? p->args_start - 1 : p->uri_end)
                  - p->uri_start;

    if (p->complex_uri) {
        r->path.data = nc_pnalloc(r->pool, r->path.len + 1);
        if (r->path.data == NULL) {
            nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (nc_http_normalize_path(p->uri_start, r->path.len, r->path.data,
                                   &r->path.len)
            != NC_OK)
        {
            nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
            return;
        }
    }

    if (r->method == NC_HTTP_HEAD) {
        r->header_only = 1;
    }

    rev->handler = nc_http_process_request_headers;
    nc_http_process_request_headers(rev);
}


static void
nc_http_process_request_headers(nc_event_t *rev)
{
    ssize_t             n;
    nc_int_t            rc;
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        nc_http_finalize_request(r, NC_HTTP_REQUEST_TIME_OUT);
        return;
    }

    for ( ;; ) {
        rc = nc_http_parse_header_line(&r->parser, r->rb);

        if (rc == NC_OK) {
            if (nc_http_process_header_line(r) != NC_OK) {
                return;
            }

            continue;
        }

        if (rc == NC_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != NC_AGAIN) {
            nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
            return;
        }

        n = nc_http_read_request_header(r);

        if (n == NC_AGAIN || n == NC_ERROR) {
            return;
        }

        if (n == NC_DECLINED) {
            nc_http_finalize_request(r, NC_HTTP_HEADER_TOO_LARGE);
            return;
        }
    }

    if (nc_http_process_request_header(r) != NC_OK) {
        return;
    }

    nc_del_timer(rev);

    nc_http_read_body(r);
}


/* n > 0 bytes read; NC_AGAIN; NC_ERROR (closed); NC_DECLINED: full */
static ssize_t
nc_http_read_request_header(nc_http_request_t *r)
{
    ssize_t           n;
    nc_buf_t         *b;
    nc_event_t       *rev;
    nc_connection_t  *c;

    c = r->connection;
    rev = c->read;
    b = r->rb;

    if (b->last == b->end) {
        return NC_DECLINED;
    }

    if (!rev->ready) {
        return NC_AGAIN;
    }

    n = c->recv(c, b->last, b->end - b->last);

    if (n == NC_AGAIN) {
        return NC_AGAIN;
    }

    if (n == 0 || n == NC_ERROR) {
        if (n == 0) {
            nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s closed the "
                         "connection while sending the request head",
                         nc_str_fmt(&c->addr_text));
        }

        /* nobody reads a response: close without logging a request */
        r->logged = 1;
        nc_http_close_connection(c);
        return NC_ERROR;
    }

    b->last += n;

    return n;
}


static nc_int_t
nc_http_process_header_line(nc_http_request_t *r)
{
    off_t                  len;
    nc_str_t              *name, *value;
    nc_http_header_t      *h;
    nc_http_parser_t      *p;
    nc_http_headers_in_t  *in;

    p = &r->parser;
    in = &r->headers_in;

    if (in->headers.nelts == NC_HTTP_MAX_HEADERS) {
        nc_http_finalize_request(r, NC_HTTP_HEADER_TOO_LARGE);
        return NC_ERROR;
    }

    h = nc_array_push(&in->headers);
    if (h == NULL) {
        nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
        return NC_ERROR;
    }

    name = &h->name;
    value = &h->value;

    name->data = p->header_name_start;
    name->len = p->header_name_end - p->header_name_start;
    value->data = p->header_start;
    value->len = p->header_end - p->header_start;

#define nc_header_is(lit)                                                     \
    (name->len == sizeof(lit) - 1                                             \
     && nc_strncasecmp(name->data, (u_char *) lit, name->len) == 0)

    switch (name->len) {

    case 4:
        if (nc_header_is("host")) {
            if (in->host.data) {
                goto bad;
            }

            in->host = *value;
        }
        break;

    case 6:
        if (nc_header_is("expect")) {
            if (value->len == 12
                && nc_strncasecmp(value->data, (u_char *) "100-continue", 12)
                   == 0)
            {
                in->expect_continue = 1;
            }
        }
        break;

    case 10:
        if (nc_header_is("connection")) {
            if (nc_http_parse_connection(r, value) != NC_OK) {
                goto bad;
            }

        } else if (nc_header_is("user-agent")) {
            in->user_agent = *value;
        }
        break;

    case 12:
        if (nc_header_is("content-type")) {
            in->content_type = *value;

            if (value->len >= 33
                && nc_strncasecmp(value->data,
                        (u_char *) "application/x-www-form-urlencoded", 33)
                   == 0)
            {
                in->form = 1;
            }
        }
        break;

    case 13:
        if (nc_header_is("if-none-match")) {
            in->if_none_match = *value;
        }
        break;

    case 14:
        if (nc_header_is("content-length")) {
            len = nc_atoof(value->data, value->len);

            /* a second, different length is a request smuggling attempt */
            if (len < 0
                || (in->content_length_n != -1
                    && in->content_length_n != len))
            {
                goto bad;
            }

            in->content_length_n = len;
        }
        break;

    case 15:
        if (nc_header_is("accept-encoding")) {
            if (nc_http_parse_accept_encoding(value) == NC_OK) {
                in->accept_gzip = 1;
            }
        }
        break;

    case 17:
        if (nc_header_is("transfer-encoding")) {
            if (in->chunked) {
                goto bad;
            }

            if (value->len != 7
                || nc_strncasecmp(value->data, (u_char *) "chunked", 7) != 0)
            {
                r->keepalive = 0;
                nc_http_finalize_request(r, NC_HTTP_NOT_IMPLEMENTED);
                return NC_ERROR;
            }

            in->chunked = 1;

        } else if (nc_header_is("if-modified-since")) {
            in->if_modified_since = *value;
        }
        break;
    }

#undef nc_header_is

    return NC_OK;

bad:

    nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
    return NC_ERROR;
}


static nc_int_t
nc_http_parse_connection(nc_http_request_t *r, nc_str_t *value)
{
    u_char  *p, *last, *start;
    size_t   len;

    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        len = p - start;

        if (len == 5 && nc_strncasecmp(start, (u_char *) "close", 5) == 0) {
            r->headers_in.connection_close = 1;

        } else if (len == 10
                   && nc_strncasecmp(start, (u_char *) "keep-alive", 10) == 0)
        {
            r->headers_in.connection_keep_alive = 1;
        }
    }

    return NC_OK;
}


/* NC_OK when gzip is acceptable: listed, and not with q=0 */
static nc_int_t
nc_http_parse_accept_encoding(nc_str_t *value)
{
    u_char  *p, *last, *start, *q;

    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ';' && *p != ' '
               && *p != '\t')
        {
            p++;
        }

        if ((p - start == 4
             && nc_strncasecmp(start, (u_char *) "gzip", 4) == 0)
            || (p - start == 1 && *start == '*'))
        {
            for (q = p; q < last && *q != ','; q++) {
                if (*q == 'q' && q + 2 < last + 0 && q[1] == '=') {
                    /* "q=0", "q=0.0", "q=0.000": not acceptable */
                    q += 2;

                    if (*q == '0') {
                        q++;

                        while (q < last && (*q == '0' || *q == '.')) {
                            q++;
                        }

                        if (q == last || *q == ',' || *q == ' '
                            || *q == ';')
                        {
                            return NC_DECLINED;
                        }
                    }

                    break;
                }
            }

            return NC_OK;
        }

        while (p < last && *p != ',') {
            p++;
        }
    }

    return NC_DECLINED;
}


static nc_int_t
nc_http_process_request_header(nc_http_request_t *r)
{
    size_t                 max;
    nc_connection_t       *c;
    nc_http_headers_in_t  *in;

    c = r->connection;
    in = &r->headers_in;

    if (r->http_version >= 1001 && in->host.data == NULL) {
        nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
        return NC_ERROR;
    }

    if (in->chunked
        && (in->content_length_n != -1 || r->http_version < 1001))
    {
        /* both framings at once: the classic request smuggling shape */
        r->keepalive = 0;
        nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
        return NC_ERROR;
    }

    max = c->listening && c->listening->gateway
          ? nc_http_cycle->conf->gateway.client_max_body_size
          : nc_http_conf->client_max_body_size;

    if (in->content_length_n > (off_t) max) {
        nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s intended to send "
                     "too large body: %jd bytes", nc_str_fmt(&c->addr_text),
                     (intmax_t) in->content_length_n);
        r->keepalive = 0;
        nc_http_finalize_request(r, NC_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return NC_ERROR;
    }

    if (r->http_version >= 1001) {
        r->keepalive = !in->connection_close;

    } else {
        r->keepalive = in->connection_keep_alive && !in->connection_close;
    }

    if (nc_http_conf->keepalive_timeout == 0
        || c->requests >= nc_http_conf->keepalive_requests)
    {
        r->keepalive = 0;
    }

    return NC_OK;
}


static void
nc_http_read_body(nc_http_request_t *r)
{
    size_t                 avail;
    nc_buf_t              *b;
    nc_connection_t       *c;
    nc_http_headers_in_t  *in;

    c = r->connection;
    in = &r->headers_in;
    b = r->rb;

    /* the gateway reads what it will not hold as the upstream takes it */
    if (c->listening && c->listening->gateway && nc_gateway_streams(r)) {
        r->body_streamed = 1;
        r->body_rest = in->chunked ? 1 : in->content_length_n;

        if (nc_http_continue(r) != NC_OK) {
            return;
        }

        nc_http_run_handler(r);
        return;
    }

    if (in->content_length_n > 0) {
        r->body.start = nc_pnalloc(r->pool, (size_t) in->content_length_n);
        if (r->body.start == NULL) {
            nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        r->body.pos = r->body.start;
        r->body.last = r->body.start;
        r->body.end = r->body.start + in->content_length_n;

        avail = nc_min(nc_buf_size(b), (size_t) in->content_length_n);

        r->body.last = nc_cpymem(r->body.last, b->pos, avail);
        b->pos += avail;
        r->body_rest = in->content_length_n - avail;

    } else if (in->chunked) {
        r->body_rest = 1;

        if (nc_http_read_body_chunked(r) != NC_AGAIN) {
            return;
        }

    } else {
        nc_http_run_handler(r);
        return;
    }

    if (r->body_rest == 0) {
        nc_http_run_handler(r);
        return;
    }

    if (nc_http_continue(r) != NC_OK) {
        return;
    }

    r->reading_body = 1;
    c->read->handler = nc_http_read_body_handler;
    nc_add_timer(c->read, nc_http_conf->client_body_timeout);

    if (c->read->ready) {
        nc_http_read_body_handler(c->read);
    }
}


/* "100 Continue" to a client waiting for it before it sends the body;
 * NC_ERROR: the connection is closed */
static nc_int_t
nc_http_continue(nc_http_request_t *r)
{
    ssize_t           n;
    nc_connection_t  *c;
    static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

    c = r->connection;

    if (!r->headers_in.expect_continue || r->http_version < 1001
        || r->body.last != r->body.start || nc_buf_size(r->rb) != 0)
    {
        return NC_OK;
    }

    n = c->send(c, (u_char *) continue_line, sizeof(continue_line) - 1);

    if (n != (ssize_t) sizeof(continue_line) - 1) {
        r->logged = 1;
        nc_http_close_connection(c);
        return NC_ERROR;
    }

    r->continue_sent = 1;

    return NC_OK;
}


static void
nc_http_read_body_handler(nc_event_t *rev)
{
    ssize_t             n;
    nc_buf_t           *b;
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        r->keepalive = 0;
        nc_http_finalize_request(r, NC_HTTP_REQUEST_TIME_OUT);
        return;
    }

    while (rev->ready) {

        if (!r->headers_in.chunked) {
            n = c->recv(c, r->body.last, r->body_rest);

            if (n > 0) {
                r->body.last += n;
                r->body_rest -= n;

                if (r->body_rest == 0) {
                    break;
                }

                continue;
            }

        } else {
            b = r->rb;

            if (b->pos == b->last && b != c->buffer) {
                nc_buf_reset(b);
            }

            if (b->last == b->end) {
                /* the head's buffer is full: chunks go on in a pool buffer */
                b = nc_create_temp_buf(r->pool,
                                       nc_http_conf->client_header_buffer_size);
                if (b == NULL) {
                    nc_http_finalize_request(r,
                                             NC_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                b->last = nc_cpymem(b->last, r->rb->pos, nc_buf_size(r->rb));
                r->rb->pos = r->rb->last;
                r->rb = b;
            }

            n = c->recv(c, b->last, b->end - b->last);

            if (n > 0) {
                b->last += n;

                if (nc_http_read_body_chunked(r) != NC_AGAIN) {
                    return;
                }

                continue;
            }
        }

        if (n == NC_AGAIN) {
            break;
        }

        /* EOF or error in the middle of a body: nobody reads a reply */
        if (n == 0) {
            nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s closed the "
                         "connection while sending the body",
                         nc_str_fmt(&c->addr_text));
        }

        r->keepalive = 0;
        r->logged = 1;
        nc_http_close_connection(c);
        return;
    }

    if (r->body_rest) {
        nc_add_timer(rev, nc_http_conf->client_body_timeout);
        return;
    }

    nc_del_timer(rev);
    r->reading_body = 0;

    nc_http_run_handler(r);
}


/* decode what is buffered; NC_AGAIN: more needed, else finished */
static nc_int_t
nc_http_read_body_chunked(nc_http_request_t *r)
{
    size_t     size;
    nc_int_t   rc;
    nc_buf_t  *b;

    b = r->rb;

    for ( ;; ) {
        rc = nc_http_parse_chunked(&r->chunked, b);

        if (rc == NC_OK) {
            size = nc_min((off_t) nc_buf_size(b), r->chunked.size);

            if (nc_buf_size(&r->body) + r->chunked.size
                > nc_http_conf->client_max_body_size)
            {
                r->keepalive = 0;
                nc_http_finalize_request(r, NC_HTTP_REQUEST_ENTITY_TOO_LARGE);
                return NC_ERROR;
            }

            if (nc_buf_append(r->pool, &r->body, b->pos, size) != NC_OK) {
                nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
                return NC_ERROR;
            }

            b->pos += size;
            r->chunked.size -= size;

            continue;
        }

        if (rc == NC_DONE) {
            r->body_rest = 0;

            if (r->reading_body) {
                nc_del_timer(r->connection->read);
                r->reading_body = 0;
            }

            nc_http_run_handler(r);
            return NC_DONE;
        }

        if (rc == NC_AGAIN) {
            return NC_AGAIN;
        }

        r->keepalive = 0;
        nc_http_finalize_request(r, NC_HTTP_BAD_REQUEST);
        return NC_ERROR;
    }
}


static void
nc_http_run_handler(nc_http_request_t *r)
{
    nc_uint_t         i, allowed;
    nc_int_t          rc;
    nc_http_route_t  *route, *found;
    nc_connection_t  *c;

    c = r->connection;

    /* while the handler runs, the connection reads nothing more */
    c->read->handler = nc_http_request_handler;
    c->write->handler = nc_http_request_handler;
    r->read_event_handler = nc_http_empty_handler;
    r->write_event_handler = nc_http_empty_handler;

    /* a gateway listener's requests are the routes' of the store */
    if (c->listening && c->listening->gateway) {
        nc_http_finalize_request(r, nc_gateway_handler(r));
        return;
    }

    route = nc_http_routes.elts;
    found = NULL;
    allowed = 0;

    for (i = 0; i < nc_http_routes.nelts; i++) {
        if (route[i].prefix) {
            if (r->path.len < route[i].path.len
                || nc_memcmp(r->path.data, route[i].path.data,
                             route[i].path.len) != 0)
            {
                continue;
            }

        } else if (r->path.len != route[i].path.len
                   || nc_memcmp(r->path.data, route[i].path.data,
                                r->path.len) != 0)
        {
            continue;
        }

        allowed |= route[i].methods;

        if (route[i].methods & r->method) {
            found = &route[i];
            break;
        }
    }

    if (found == NULL) {
        if (allowed) {
            r->allow = allowed;
            nc_http_finalize_request(r, NC_HTTP_NOT_ALLOWED);
            return;
        }

        nc_http_finalize_request(r, r->method == NC_HTTP_UNKNOWN
                                    ? NC_HTTP_NOT_IMPLEMENTED
                                    : NC_HTTP_NOT_FOUND);
        return;
    }

    r->handler = found->handler;

    /* one check, before any handler: who may call this route */
    rc = nc_auth_check(r, found->access);

    if (rc == NC_AGAIN) {
        return;                         /* nc_http_auth_done() follows */
    }

    nc_http_auth_done(r, rc);
}


void
nc_http_auth_done(nc_http_request_t *r, nc_int_t rc)
{
    if (rc == NC_OK) {
        rc = r->handler(r);

    } else if (rc == NC_DECLINED) {
        rc = NC_OK;                     /* refused: the 403 is set */
    }

    nc_http_finalize_request(r, rc);
}


static void
nc_http_request_handler(nc_event_t *ev)
{
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = ev->data;
    r = c->data;

    if (ev->write) {
        r->write_event_handler(ev);

    } else {
        r->read_event_handler(ev);
    }
}


static void
nc_http_empty_handler(nc_event_t *ev)
{
    /* void */
}


nc_int_t
nc_http_set_response(nc_http_request_t *r, nc_uint_t status,
    const char *content_type, const u_char *body, size_t len)
{
    r->headers_out.status = status;
    r->headers_out.content_type.data = (u_char *) content_type;
    r->headers_out.content_type.len = strlen(content_type);

    r->out.start = (u_char *) body;
    r->out.pos = (u_char *) body;
    r->out.last = (u_char *) body + len;
    r->out.end = r->out.last;

    return NC_OK;
}


nc_int_t
nc_http_add_header(nc_http_request_t *r, const char *name,
    const nc_str_t *value)
{
    nc_http_header_t  *h;

    if (r->headers_out.headers == NULL) {
        r->headers_out.headers = nc_array_create(r->pool, 4,
                                                 sizeof(nc_http_header_t));
        if (r->headers_out.headers == NULL) {
            return NC_ERROR;
        }
    }

    h = nc_array_push(r->headers_out.headers);
    if (h == NULL) {
        return NC_ERROR;
    }

    h->name.data = (u_char *) name;
    h->name.len = strlen(name);
    h->value = *value;

    return NC_OK;
}


nc_http_header_t *
nc_http_find_header(nc_http_request_t *r, const char *name)
{
    size_t             len;
    nc_uint_t          i;
    nc_http_header_t  *h;

    len = strlen(name);
    h = r->headers_in.headers.elts;

    for (i = 0; i < r->headers_in.headers.nelts; i++) {
        if (h[i].name.len == len
            && nc_strncasecmp(h[i].name.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


nc_int_t
nc_http_param(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    nc_str_t   raw, body;
    nc_int_t   rc;

    rc = nc_http_arg(&r->args, name, strlen(name), &raw);

    if (rc != NC_OK && r->headers_in.form) {
        body.data = r->body.pos;
        body.len = nc_buf_size(&r->body);
        rc = nc_http_arg(&body, name, strlen(name), &raw);
    }

    if (rc != NC_OK) {
        return NC_DECLINED;
    }

    return nc_http_param_value(r, &raw, value);
}


nc_int_t
nc_http_query_param(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    nc_str_t  raw;

    if (nc_http_arg(&r->args, name, strlen(name), &raw) != NC_OK) {
        return NC_DECLINED;
    }

    return nc_http_param_value(r, &raw, value);
}


static nc_int_t
nc_http_param_value(nc_http_request_t *r, nc_str_t *raw, nc_str_t *value)
{
    ssize_t  n;

    value->data = nc_pnalloc(r->pool, raw->len + 1);
    if (value->data == NULL) {
        return NC_ERROR;
    }

    n = nc_http_unescape(value->data, raw->data, raw->len, 1);
    if (n < 0) {
        return NC_ERROR;
    }

    value->len = n;
    value->data[n] = '\0';

    return NC_OK;
}


void
nc_http_finalize_request(nc_http_request_t *r, nc_int_t rc)
{
    size_t       len;
    u_char      *p;
    nc_uint_t    m;
    nc_str_t     allow;
    const char  *text;

    if (rc == NC_DONE || r->responding) {
        return;
    }

    if (rc == NC_OK) {
        nc_http_send_response(r);
        return;
    }

    if (rc == NC_ERROR || rc < 100) {
        rc = NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc >= 400 && (r->reading_body || r->body_rest)) {
        /* the rest of the body stays unread: no keep-alive */
        r->keepalive = 0;
    }

    if (rc == NC_HTTP_BAD_REQUEST || rc == NC_HTTP_REQUEST_TIME_OUT
        || rc == NC_HTTP_REQUEST_URI_TOO_LARGE
        || rc == NC_HTTP_HEADER_TOO_LARGE
        || rc == NC_HTTP_VERSION_NOT_SUPPORTED)
    {
        r->keepalive = 0;
    }

    /* a standard response: "404 Not Found\n" */
    text = nc_http_status_text(rc);
    len = 3 + 1 + strlen(text) + 1;

    p = nc_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        nc_http_close_connection(r->connection);
        return;
    }

    (void) snprintf((char *) p, len + 1, "%03d %s\n", (int) rc, text);

    r->headers_out.headers = NULL;
    r->headers_out.etag.len = 0;
    r->headers_out.last_modified = -1;
    r->headers_out.location.len = 0;
    r->headers_out.gzip = 0;

    if (r->file.fd != NC_INVALID_FILE) {
        (void) close(r->file.fd);
        r->file.fd = NC_INVALID_FILE;
    }

    (void) nc_http_set_response(r, rc, "text/plain; charset=utf-8", p, len);

    if (rc == NC_HTTP_NOT_ALLOWED && r->allow) {
        m = r->allow;

        allow.data = nc_pnalloc(r->pool, 64);
        if (allow.data != NULL) {
            p = allow.data;
            p = nc_slprintf(p, allow.data + 64, "%s%s%s%s%s",
                            (m & NC_HTTP_GET) ? "GET, HEAD, " : "",
                            (m & NC_HTTP_POST) ? "POST, " : "",
                            (m & NC_HTTP_PUT) ? "PUT, " : "",
                            (m & NC_HTTP_DELETE) ? "DELETE, " : "",
                            (m & NC_HTTP_PATCH) ? "PATCH, " : "");
            allow.len = (p - allow.data >= 2) ? p - allow.data - 2 : 0;
            (void) nc_http_add_header(r, "Allow", &allow);
        }
    }

    nc_http_send_response(r);
}


void
nc_http_send_response(nc_http_request_t *r)
{
    nc_connection_t  *c;

    if (r->responding) {
        return;
    }

    r->responding = 1;
    c = r->connection;

    if (nc_exiting) {
        r->keepalive = 0;
    }

    if (r->headers_out.gzip && nc_http_conf->gzip
        && r->headers_in.accept_gzip)
    {
        if (nc_http_gzip_body(r) == NC_ERROR) {
            nc_http_close_connection(c);
            return;
        }
    }

    if (nc_http_build_header(r) != NC_OK) {
        nc_http_close_connection(c);
        return;
    }

    r->iov[0].iov_base = r->header.pos;
    r->iov[0].iov_len = nc_buf_size(&r->header);
    r->niov = 1;

    if (!r->header_only && nc_buf_size(&r->out)) {
        r->iov[1].iov_base = r->out.pos;
        r->iov[1].iov_len = nc_buf_size(&r->out);
        r->niov = 2;
    }

    c->read->handler = nc_http_request_handler;
    c->write->handler = nc_http_request_handler;
    r->read_event_handler = nc_http_empty_handler;
    r->write_event_handler = nc_http_write_handler;

    nc_http_writer(r);
}


static nc_int_t
nc_http_build_header(nc_http_request_t *r)
{
    off_t                   clen;
    size_t                  len;
    u_char                 *p, *last;
    nc_uint_t               i;
    nc_http_header_t       *h;
    nc_http_headers_out_t  *out;

    out = &r->headers_out;

    if (out->content_length_n >= 0) {
        clen = out->content_length_n;

    } else if (r->file.fd != NC_INVALID_FILE) {
        clen = r->file.size;

    } else {
        clen = nc_buf_size(&r->out);
    }

    len = sizeof("HTTP/1.1 ") - 1 + 3 + 1 + 40 + 2
          + sizeof("Server: nacre\r\n") - 1
          + sizeof("Date: \r\n") - 1 + nc_cached_http_time.len
          + sizeof("Content-Type: \r\n") - 1 + out->content_type.len
          + sizeof("Content-Length: \r\n") - 1 + NC_INT_T_LEN
          + sizeof("Content-Encoding: gzip\r\n") - 1
          + sizeof("Vary: Accept-Encoding\r\n") - 1
          + sizeof("Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT\r\n") - 1
          + sizeof("ETag: \r\n") - 1 + out->etag.len
          + sizeof("Location: \r\n") - 1 + out->location.len
          + sizeof("Connection: keep-alive\r\n") - 1
          + 2;

    if (out->headers) {
        h = out->headers->elts;

        for (i = 0; i < out->headers->nelts; i++) {
            len += h[i].name.len + 2 + h[i].value.len + 2;
        }
    }

    p = nc_pnalloc(r->pool, len);
    if (p == NULL) {
        return NC_ERROR;
    }

    r->header.start = p;
    r->header.pos = p;
    last = p + len;

    p = nc_slprintf(p, last, "HTTP/1.1 %03d %s\r\n", (int) out->status,
                    nc_http_status_text(out->status));

    p = nc_cpymem(p, "Server: nacre\r\nDate: ",
                  sizeof("Server: nacre\r\nDate: ") - 1);
    p = nc_cpymem(p, nc_cached_http_time.data, nc_cached_http_time.len);
    *p++ = '\r'; *p++ = '\n';

    if (out->content_type.len && out->status != NC_HTTP_NOT_MODIFIED) {
        p = nc_cpymem(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p = nc_cpymem(p, out->content_type.data, out->content_type.len);
        *p++ = '\r'; *p++ = '\n';
    }

    if (out->status != NC_HTTP_NOT_MODIFIED
        && out->status != NC_HTTP_NO_CONTENT)
    {
        p = nc_slprintf(p, last, "Content-Length: %jd\r\n", (intmax_t) clen);
    }

    if (out->gzipped) {
        p = nc_cpymem(p, "Content-Encoding: gzip\r\n",
                      sizeof("Content-Encoding: gzip\r\n") - 1);
    }

    if (out->gzip && nc_http_conf->gzip) {
        p = nc_cpymem(p, "Vary: Accept-Encoding\r\n",
                      sizeof("Vary: Accept-Encoding\r\n") - 1);
    }

    if (out->last_modified != -1) {
        p = nc_cpymem(p, "Last-Modified: ", sizeof("Last-Modified: ") - 1);
        p = nc_http_time(p, out->last_modified);
        *p++ = '\r'; *p++ = '\n';
    }

    if (out->etag.len) {
        p = nc_cpymem(p, "ETag: ", sizeof("ETag: ") - 1);
        p = nc_cpymem(p, out->etag.data, out->etag.len);
        *p++ = '\r'; *p++ = '\n';
    }

    if (out->location.len) {
        p = nc_cpymem(p, "Location: ", sizeof("Location: ") - 1);
        p = nc_cpymem(p, out->location.data, out->location.len);
        *p++ = '\r'; *p++ = '\n';
    }

    if (out->headers) {
        h = out->headers->elts;

        for (i = 0; i < out->headers->nelts; i++) {
            p = nc_cpymem(p, h[i].name.data, h[i].name.len);
            *p++ = ':'; *p++ = ' ';
            p = nc_cpymem(p, h[i].value.data, h[i].value.len);
            *p++ = '\r'; *p++ = '\n';
        }
    }

    if (r->keepalive) {
        p = nc_cpymem(p, "Connection: keep-alive\r\n",
                      sizeof("Connection: keep-alive\r\n") - 1);

    } else {
        p = nc_cpymem(p, "Connection: close\r\n",
                      sizeof("Connection: close\r\n") - 1);
    }

    *p++ = '\r'; *p++ = '\n';

    r->header.last = p;
    r->header.end = last;

    if (r->header_only || out->status == NC_HTTP_NOT_MODIFIED
        || out->status == NC_HTTP_NO_CONTENT)
    {
        r->header_only = 1;

        if (r->file.fd != NC_INVALID_FILE) {
            (void) close(r->file.fd);
            r->file.fd = NC_INVALID_FILE;
        }
    }

    return NC_OK;
}


static void
nc_http_writer(nc_http_request_t *r)
{
    size_t            left;
    ssize_t           n;
    nc_uint_t         i;
    nc_event_t       *wev;
    nc_connection_t  *c;

    c = r->connection;
    wev = c->write;

    if (wev->timedout) {
        nc_log_error(NC_LOG_INFO, c->log, 0, "client %.*s timed out "
                     "reading the response", nc_str_fmt(&c->addr_text));
        r->keepalive = 0;
        nc_http_close_connection(c);
        return;
    }

    /* a header followed by a file goes out in the file's first packet */
    c->more = (r->file.fd != NC_INVALID_FILE && !r->header_only);

    while (r->niov) {
        n = c->writev(c, r->iov, (int) r->niov);

        if (n == NC_AGAIN) {
            nc_add_timer(wev, nc_http_conf->send_timeout);
            return;
        }

        if (n == NC_ERROR) {
            r->keepalive = 0;
            nc_http_close_connection(c);
            return;
        }

        for (i = 0; i < r->niov && n > 0; i++) {
            left = nc_min((size_t) n, r->iov[i].iov_len);

            r->iov[i].iov_base = (u_char *) r->iov[i].iov_base + left;
            r->iov[i].iov_len -= left;
            n -= left;
        }

        /* drop fully written vectors from the front */
        while (r->niov && r->iov[0].iov_len == 0) {
            r->iov[0] = r->iov[1];
            r->niov--;
        }
    }

    if (!r->header_only) {
        r->body_sent = nc_buf_size(&r->out);
    }

    if (r->file.fd != NC_INVALID_FILE && !r->header_only) {
        while (r->file.size) {
            n = c->sendfile(c, r->file.fd, &r->file.offset,
                            (size_t) nc_min(r->file.size, 1048576));

            if (n == NC_AGAIN) {
                nc_add_timer(wev, nc_http_conf->send_timeout);
                return;
            }

            if (n == NC_ERROR || n == 0) {
                r->keepalive = 0;
                nc_http_close_connection(c);
                return;
            }

            r->file.size -= n;
            r->body_sent += n;
        }
    }

    nc_del_timer(wev);

    nc_http_request_finish(r);
}


/* the writer again once the client can take more */
static void
nc_http_write_handler(nc_event_t *wev)
{
    nc_connection_t  *c;

    c = wev->data;

    nc_http_writer(c->data);
}


static void
nc_http_request_cleanup(nc_http_request_t *r)
{
    void  (*cleanup)(nc_http_request_t *r);

    cleanup = r->cleanup;

    if (cleanup) {
        r->cleanup = NULL;
        cleanup(r);
    }
}


void
nc_http_request_finish(nc_http_request_t *r)
{
    nc_connection_t  *c;

    c = r->connection;

    nc_http_log_request(r);

    if (r->file.fd != NC_INVALID_FILE) {
        (void) close(r->file.fd);
        r->file.fd = NC_INVALID_FILE;
    }

    nc_http_request_cleanup(r);
    nc_del_timer(&r->timer);

    if (r->keepalive && !nc_exiting && !c->close) {
        nc_http_set_keepalive(r);
        return;
    }

    /* an error may leave input unread: drain it before closing */
    if (r->reading_body || r->body_rest || r->headers_out.status >= 400) {
        nc_http_lingering_close(c);
        return;
    }

    nc_http_close_connection(c);
}


static void
nc_http_set_keepalive(nc_http_request_t *r)
{
    size_t            left;
    nc_buf_t         *b;
    nc_event_t       *rev;
    nc_connection_t  *c;

    c = r->connection;
    rev = c->read;
    b = c->buffer;

    /* bytes of the next (pipelined) request go to the head's buffer */
    left = r->rb ? nc_buf_size(r->rb) : 0;

    if (left) {
        if (r->rb != b) {
            nc_memcpy(b->start, r->rb->pos, left);

        } else {
            nc_memmove(b->start, b->pos, left);
        }
    }

    /* a parked request gave its buffer back (nc_http_request_park) */
    if (b) {
        b->pos = b->start;
        b->last = b->start + left;
    }

    c->data = NULL;
    nc_reset_pool(c->pool);

    rev->handler = nc_http_wait_request_handler;
    c->write->handler = nc_http_empty_handler;

    if (left) {
        /* posted, not called: deep pipelines must not recurse */
        nc_post_event(rev);
        return;
    }

    nc_http_free_header_buffer(c);

    nc_connection_set_idle(c, 1);
    nc_add_timer(rev, nc_http_conf->keepalive_timeout);

    if (rev->ready) {
        nc_post_event(rev);
    }
}


nc_int_t
nc_http_multipart(nc_http_request_t *r, const char *name, nc_str_t *value)
{
    u_char   *p, *end, *next, *hend, *ct;
    size_t    blen, nlen;
    nc_str_t  type;
    u_char    delim[80 + 4], want[128];

    type = r->headers_in.content_type;

    if (type.len < 19
        || nc_strncasecmp(type.data, (u_char *) "multipart/form-data", 19))
    {
        return NC_DECLINED;
    }

    /* boundary=xyz or boundary="xyz", at most 70 characters (RFC 2046) */
    ct = nc_strlcasestrn(type.data, type.data + type.len,
                         (u_char *) "boundary=", 9);
    if (ct == NULL) {
        return NC_ERROR;
    }

    ct += 9;
    end = type.data + type.len;

    if (ct < end && *ct == '"') {
        ct++;
        p = memchr(ct, '"', end - ct);
        end = p ? p : end;

    } else {
        p = memchr(ct, ';', end - ct);
        end = p ? p : end;
    }

    blen = end - ct;

    if (blen == 0 || blen > 80) {
        return NC_ERROR;
    }

    delim[0] = '-';
    delim[1] = '-';
    nc_memcpy(delim + 2, ct, blen);
    blen += 2;

    nlen = (size_t) snprintf((char *) want, sizeof(want), "name=\"%s\"",
                             name);

    p = r->body.pos;
    end = r->body.last;

    if (p == NULL) {
        return NC_DECLINED;
    }

    for ( ;; ) {
        p = memmem(p, end - p, delim, blen);

        if (p == NULL || end - p < (ssize_t) blen + 2
            || (p[blen] == '-' && p[blen + 1] == '-'))
        {
            return NC_DECLINED;
        }

        p += blen + 2;                          /* the CRLF after it */

        hend = memmem(p, end - p, "\r\n\r\n", 4);
        if (hend == NULL) {
            return NC_ERROR;
        }

        /* the part ends with CRLF and the next delimiter */
        next = hend + 4;

        for (ct = next; ; ct++) {
            ct = memmem(ct, end - ct, delim, blen);

            if (ct == NULL) {
                return NC_ERROR;
            }

            if (ct - next >= 2 && ct[-2] == '\r' && ct[-1] == '\n') {
                break;
            }
        }

        if (memmem(p, hend - p, want, nlen) != NULL) {
            value->data = next;
            value->len = ct - 2 - next;
            return NC_OK;
        }

        p = ct;
    }
}


void
nc_http_request_park(nc_http_request_t *r)
{
    u_char           *p;
    nc_connection_t  *c;

    c = r->connection;

    /* the next request's bytes are in the buffer already: it stays */
    if (c->buffer == NULL || r->rb == NULL || nc_buf_size(r->rb) != 0) {
        return;
    }

    p = nc_pnalloc(r->pool, r->request_line.len);
    if (p == NULL) {
        return;
    }

    nc_memcpy(p, r->request_line.data, r->request_line.len);
    r->request_line.data = p;

    /* what pointed into the buffer is gone */
    nc_str_null(&r->method_name);
    nc_str_null(&r->uri);
    nc_str_null(&r->args);
    nc_str_null(&r->path);
    nc_memzero(&r->body, sizeof(nc_buf_t));
    r->headers_in.headers.nelts = 0;
    nc_str_null(&r->headers_in.host);
    nc_str_null(&r->headers_in.content_type);
    nc_str_null(&r->headers_in.if_none_match);
    nc_str_null(&r->headers_in.if_modified_since);
    nc_str_null(&r->headers_in.user_agent);

    r->rb = NULL;
    nc_http_free_header_buffer(c);

    /* a client that goes away must not hold its slot till the time out */
    r->read_event_handler = nc_http_test_reading;
}


/*
 * A parked request's connection became readable: if the client closed it
 * (or it broke), end the request now, as nginx logs it: 499.  Bytes of a
 * next request stay where they are.
 */
static void
nc_http_test_reading(nc_event_t *rev)
{
    u_char              buf[1];
    ssize_t             n;
    nc_connection_t    *c;
    nc_http_request_t  *r;

    c = rev->data;
    r = c->data;

    n = c->ssl ? (rev->eof ? 0 : 1) : recv(c->fd, buf, 1, MSG_PEEK);

    if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR))) {
        return;
    }

    r->headers_out.status = 499;
    r->keepalive = 0;

    nc_http_close_connection(c);
}


static void
nc_http_lingering_close(nc_connection_t *c)
{
    nc_event_t  *rev;

    rev = c->read;

    /* reading the unread rest lets the client see our reply, not a reset */
    if (shutdown(c->fd, SHUT_WR) == -1) {
        nc_http_close_connection(c);
        return;
    }

    c->data = NULL;
    rev->handler = nc_http_lingering_close_handler;
    c->write->handler = nc_http_empty_handler;

    nc_add_timer(rev, NC_HTTP_LINGERING_TIME);

    if (rev->ready) {
        nc_http_lingering_close_handler(rev);
    }
}


static void
nc_http_lingering_close_handler(nc_event_t *rev)
{
    ssize_t           n;
    nc_connection_t  *c;
    u_char            buf[4096];

    c = rev->data;

    if (rev->timedout || c->close) {
        nc_http_close_connection(c);
        return;
    }

    do {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NC_ERROR || n == 0) {
            nc_http_close_connection(c);
            return;
        }

    } while (rev->ready);
}


static void
nc_http_close_connection(nc_connection_t *c)
{
    nc_http_request_t  *r;

    r = c->data;

    if (r && !r->logged && r->headers_out.status == 0) {
        /* closed before any response: still one access log line */
        r->headers_out.status = NC_HTTP_BAD_REQUEST;
    }

    if (r && !r->logged) {
        nc_http_log_request(r);
    }

    if (r && r->file.fd != NC_INVALID_FILE) {
        (void) close(r->file.fd);
        r->file.fd = NC_INVALID_FILE;
    }

    if (r) {
        nc_http_request_cleanup(r);
        nc_del_timer(&r->timer);
    }

    c->data = NULL;

    nc_http_free_header_buffer(c);

    if (c->ssl) {
        (void) nc_ssl_shutdown(c);
    }

    nc_close_connection(c);
}


static void
nc_http_log_request(nc_http_request_t *r)
{
    u_char           *p, *last, *s, *e;
    ssize_t           n;
    nc_connection_t  *c;
    static u_char     hex[] = "0123456789abcdef";
    u_char            line[2048];

    r->logged = 1;

    if (nc_http_cycle->access_log == NC_INVALID_FILE) {
        return;
    }

    c = r->connection;
    last = line + sizeof(line) - 64;

    p = nc_cpymem(line, nc_cached_http_log_time.data,
                  nc_cached_http_log_time.len);
    *p++ = ' ';
    p = nc_cpymem(p, c->addr_text.data, c->addr_text.len);
    *p++ = ' ';
    *p++ = '"';

    s = r->request_line.data;
    e = s + r->request_line.len;

    if (s == NULL) {
        *p++ = '-';
    }

    /* what the client sent is escaped: the log stays one line of text */
    for ( /* void */ ; s && s < e && p < last - 4; s++) {
        if (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\') {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 0xf];

        } else {
            *p++ = *s;
        }
    }

    p = nc_slprintf(p, line + sizeof(line), "\" %03d %jd %ju",
                    (int) r->headers_out.status, (intmax_t) r->body_sent,
                    (uintmax_t) (nc_current_msec - r->start_msec));

    /* a proxied request: its route, the instance, its status and time */
    if (r->gateway_route.len) {
        p = nc_slprintf(p, line + sizeof(line) - 1,
                        " route=%.*s upstream=%.*s upstream_status=%03d "
                        "upstream_time=%ju",
                        (int) nc_min(r->gateway_route.len, 128),
                        r->gateway_route.data,
                        (int) (r->gateway_upstream.len
                               ? r->gateway_upstream.len : 1),
                        r->gateway_upstream.len ? r->gateway_upstream.data
                                                : (u_char *) "-",
                        (int) r->gateway_status,
                        (uintmax_t) r->gateway_msec);
    }

    *p++ = '\n';

    n = write(nc_http_cycle->access_log, line, p - line);

    if (n == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, errno,
                     "write() to the access log failed");
    }
}


static nc_buf_t *
nc_http_get_header_buffer(void)
{
    size_t           size;
    u_char          *p;
    nc_http_hbuf_t  *hb;

    hb = nc_http_free_hbufs;

    if (hb) {
        nc_http_free_hbufs = hb->next;
        nc_buf_reset(&hb->buf);
        return &hb->buf;
    }

    size = nc_http_conf->client_header_buffer_size;

    p = nc_alloc(sizeof(nc_http_hbuf_t) + size);
    if (p == NULL) {
        return NULL;
    }

    hb = (nc_http_hbuf_t *) p;
    hb->buf.start = p + sizeof(nc_http_hbuf_t);
    hb->buf.end = hb->buf.start + size;
    nc_buf_reset(&hb->buf);

    return &hb->buf;
}


static void
nc_http_free_header_buffer(nc_connection_t *c)
{
    nc_http_hbuf_t  *hb;

    if (c->buffer == NULL) {
        return;
    }

    hb = (nc_http_hbuf_t *) ((u_char *) c->buffer
                             - offsetof(nc_http_hbuf_t, buf));
    hb->next = nc_http_free_hbufs;
    nc_http_free_hbufs = hb;

    c->buffer = NULL;
}
