
/*
 * nacre: the HTTP/1.1 server: umbrella header of src/http.
 */

#ifndef _NC_HTTP_H_INCLUDED_
#define _NC_HTTP_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_cycle.h>
#include <nc_http_parse.h>


typedef struct nc_http_request_s  nc_http_request_t;

/*
 * A handler returns NC_OK once the response is set up in r->headers_out
 * and r->out (or r->file), an HTTP status (>= 300) for a standard error
 * response, or NC_DONE when it will finish later by calling
 * nc_http_send_response() or nc_http_finalize_request() itself.
 */
typedef nc_int_t (*nc_http_handler_pt)(nc_http_request_t *r);


#define NC_HTTP_CONTINUE                   100
#define NC_HTTP_OK                         200
#define NC_HTTP_CREATED                    201
#define NC_HTTP_NO_CONTENT                 204
#define NC_HTTP_MOVED_PERMANENTLY          301
#define NC_HTTP_MOVED_TEMPORARILY          302
#define NC_HTTP_NOT_MODIFIED               304
#define NC_HTTP_BAD_REQUEST                400
#define NC_HTTP_UNAUTHORIZED               401
#define NC_HTTP_FORBIDDEN                  403
#define NC_HTTP_NOT_FOUND                  404
#define NC_HTTP_NOT_ALLOWED                405
#define NC_HTTP_REQUEST_TIME_OUT           408
#define NC_HTTP_CONFLICT                   409
#define NC_HTTP_LENGTH_REQUIRED            411
#define NC_HTTP_PRECONDITION_FAILED        412
#define NC_HTTP_REQUEST_ENTITY_TOO_LARGE   413
#define NC_HTTP_REQUEST_URI_TOO_LARGE      414
#define NC_HTTP_UNSUPPORTED_MEDIA_TYPE     415
#define NC_HTTP_TOO_MANY_REQUESTS          429
#define NC_HTTP_HEADER_TOO_LARGE           431
#define NC_HTTP_INTERNAL_SERVER_ERROR      500
#define NC_HTTP_NOT_IMPLEMENTED            501
#define NC_HTTP_BAD_GATEWAY                502
#define NC_HTTP_SERVICE_UNAVAILABLE        503
#define NC_HTTP_GATEWAY_TIME_OUT           504
#define NC_HTTP_VERSION_NOT_SUPPORTED      505


typedef struct {
    nc_str_t        name;
    nc_str_t        value;
} nc_http_header_t;


typedef struct {
    nc_array_t      headers;              /* of nc_http_header_t, in order */

    nc_str_t        host;
    nc_str_t        content_type;
    nc_str_t        if_none_match;
    nc_str_t        if_modified_since;
    nc_str_t        user_agent;

    off_t           content_length_n;     /* -1: none */

    unsigned        chunked:1;
    unsigned        connection_close:1;
    unsigned        connection_keep_alive:1;
    unsigned        expect_continue:1;
    unsigned        accept_gzip:1;
    unsigned        form:1;               /* x-www-form-urlencoded body */
} nc_http_headers_in_t;


typedef struct {
    nc_uint_t       status;
    nc_str_t        content_type;
    nc_str_t        location;
    nc_str_t        etag;
    time_t          last_modified;        /* -1: none */
    off_t           content_length_n;     /* -1: from the body */
    nc_array_t     *headers;              /* extra ones, or NULL */

    unsigned        gzip:1;               /* body may be compressed */
    unsigned        gzipped:1;
} nc_http_headers_out_t;


typedef struct {
    nc_fd_t         fd;                   /* -1: no file body */
    off_t           offset;
    off_t           size;
} nc_http_file_t;


struct nc_http_request_s {
    nc_connection_t        *connection;
    nc_pool_t              *pool;
    nc_event_handler_pt     read_event_handler;
    nc_event_handler_pt     write_event_handler;

    nc_http_parser_t        parser;

    nc_str_t                request_line;
    nc_str_t                method_name;
    nc_str_t                uri;                /* raw target */
    nc_str_t                path;               /* decoded, normalized */
    nc_str_t                args;               /* raw query, no '?' */
    nc_uint_t               method;
    nc_uint_t               http_version;

    nc_http_headers_in_t    headers_in;
    nc_http_headers_out_t   headers_out;

    /* request body, decoded (chunked framing removed) */
    nc_buf_t                body;
    nc_buf_t               *rb;                 /* where bytes are read */
    off_t                   body_rest;
    nc_http_chunked_t       chunked;

    /* response */
    nc_buf_t                header;
    nc_buf_t                out;
    nc_http_file_t          file;
    struct iovec            iov[2];
    nc_uint_t               niov;
    off_t                   body_sent;

    nc_http_handler_pt      handler;            /* the route's */
    void                   *ctx;                /* the handler's state */
    /* runs once when the request ends, however it ends (client gone) */
    void                  (*cleanup)(nc_http_request_t *r);
    nc_uint_t               allow;              /* methods, for 405 */
    nc_event_t              timer;              /* for the handler's use */

    nc_msec_t               start_msec;

    nc_str_t                auth_user;          /* who: nc_auth_check() */

    /* a proxied request, for the access log (src/gateway) */
    nc_str_t                gateway_route;
    nc_str_t                gateway_upstream;
    nc_uint_t               gateway_status;
    nc_msec_t               gateway_msec;


    unsigned                auth_admin:1;
    unsigned                keepalive:1;
    unsigned                header_only:1;
    unsigned                reading_body:1;
    unsigned                body_streamed:1;    /* the handler reads it */
    unsigned                continue_sent:1;
    unsigned                responding:1;
    unsigned                logged:1;
};


/*
 * One route: method mask and path (exact, or prefix ending in '/'), and
 * who may call it (NC_AUTH_ANON, _USER, _ADMIN of nc_auth.h): the router
 * checks before the handler runs.
 */
typedef struct {
    nc_uint_t               methods;
    nc_str_t                path;
    nc_uint_t               prefix;
    nc_uint_t               access;
    nc_http_handler_pt      handler;
} nc_http_route_t;


nc_int_t nc_http_init_worker(nc_cycle_t *cycle);
void nc_http_init_connection(nc_connection_t *c);

nc_int_t nc_http_add_route(nc_uint_t methods, const char *path,
    nc_uint_t prefix, nc_uint_t access, nc_http_handler_pt handler);

/* set a memory response: status, type and body (copied by reference) */
nc_int_t nc_http_set_response(nc_http_request_t *r, nc_uint_t status,
    const char *content_type, const u_char *body, size_t len);
nc_int_t nc_http_add_header(nc_http_request_t *r, const char *name,
    const nc_str_t *value);
nc_http_header_t *nc_http_find_header(nc_http_request_t *r,
    const char *name);

/*
 * The end of nc_auth_check() when it answered NC_AGAIN (a password being
 * verified off the loop): rc as nc_auth_check() would have returned it.
 */
void nc_http_auth_done(nc_http_request_t *r, nc_int_t rc);

/*
 * The part named name of a multipart/form-data body, pointing into the
 * body.  NC_OK, NC_DECLINED (no such part, or not multipart), NC_ERROR
 * (a malformed body).
 */
nc_int_t nc_http_multipart(nc_http_request_t *r, const char *name,
    nc_str_t *value);

/*
 * A handler that keeps its request waiting long (a long-poll) gives the
 * connection's header buffer back: the request line is kept for the log;
 * the headers, the query and the body are gone from then on.
 */
void nc_http_request_park(nc_http_request_t *r);

/* start sending what is in r->headers_out / r->out / r->file */
void nc_http_send_response(nc_http_request_t *r);

/* a handler that wrote its response itself (r->responding set; the
 * gateway): log it, clean up, keep the connection alive or close it */
void nc_http_request_finish(nc_http_request_t *r);

/* end a request with NC_OK (a response was set), or an HTTP status */
void nc_http_finalize_request(nc_http_request_t *r, nc_int_t rc);

const char *nc_http_status_text(nc_uint_t status);

/* decoded value of the first query or form parameter named name */
nc_int_t nc_http_param(nc_http_request_t *r, const char *name,
    nc_str_t *value);
/* the same from the query string only (when the body is not a form) */
nc_int_t nc_http_query_param(nc_http_request_t *r, const char *name,
    nc_str_t *value);

/* gzip (src/http/nc_http_gzip.c) */
nc_int_t nc_http_gzip_body(nc_http_request_t *r);
nc_uint_t nc_http_gzip_type(const nc_str_t *content_type);

/* static files (src/http/nc_http_static.c) */
nc_int_t nc_http_static_handler(nc_http_request_t *r);
nc_int_t nc_http_static_redirect(nc_http_request_t *r);

/* TLS (src/event/nc_event_openssl.c) */
/* n certificates: the first by default, another when it holds the name
 * the client asks (SNI) */
void *nc_ssl_create_ctx(nc_conf_tls_t *tls, nc_uint_t n, nc_log_t *log);
void nc_ssl_free_ctx(void *ctx);
nc_int_t nc_ssl_create_connection(void *ctx, nc_connection_t *c);
nc_int_t nc_ssl_handshake(nc_connection_t *c);
nc_int_t nc_ssl_shutdown(nc_connection_t *c);
const char *nc_ssl_version(void);

/* the API room registers its routes here (src/api) */
nc_int_t nc_api_init_routes(nc_cycle_t *cycle);


extern nc_cycle_t  *nc_http_cycle;


#endif /* _NC_HTTP_H_INCLUDED_ */
