
/*
 * nacre: connections and listening sockets.
 */

#ifndef _NC_CONNECTION_H_INCLUDED_
#define _NC_CONNECTION_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


#define NC_SOCKADDR_STRLEN   (INET6_ADDRSTRLEN + sizeof("[]:65535") - 1)


struct nc_listening_s {
    nc_fd_t                    fd;
    struct sockaddr_storage    sockaddr;
    socklen_t                  socklen;
    nc_str_t                   addr_text;
    int                        backlog;

    nc_connection_handler_pt   handler;     /* a new connection arrived */
    void                      *servers;     /* what serves it (TLS ctx) */

    nc_connection_t           *connection;  /* this worker's accept side */
    nc_uint_t                  worker;      /* the worker that accepts on
                                               it: each has its own socket
                                               (SO_REUSEPORT) */

    unsigned                   open:1;      /* kept across a reload */
    unsigned                   remain:1;
    unsigned                   gateway:1;   /* proxied traffic, not API */
};


typedef ssize_t (*nc_recv_pt)(nc_connection_t *c, u_char *buf, size_t size);
typedef ssize_t (*nc_send_pt)(nc_connection_t *c, u_char *buf, size_t size);
typedef ssize_t (*nc_writev_pt)(nc_connection_t *c, struct iovec *iov,
    int n);
typedef ssize_t (*nc_sendfile_pt)(nc_connection_t *c, nc_fd_t fd,
    off_t *offset, size_t size);


struct nc_connection_s {
    void                *data;
    nc_event_t          *read;
    nc_event_t          *write;

    nc_fd_t              fd;

    nc_recv_pt           recv;
    nc_send_pt           send;
    nc_writev_pt         writev;
    nc_sendfile_pt       sendfile;

    nc_listening_t      *listening;
    nc_log_t            *log;
    nc_pool_t           *pool;

    struct sockaddr_storage  sockaddr;
    socklen_t            socklen;
    nc_str_t             addr_text;

    void                *ssl;            /* SSL *, when TLS */

    nc_buf_t            *buffer;

    nc_queue_t           queue;          /* idle keep-alive connections */

    nc_uint_t            requests;
    nc_msec_t            start_msec;

    unsigned             error:1;
    unsigned             destroyed:1;
    unsigned             idle:1;
    unsigned             close:1;
    unsigned             tcp_nodelay:1;
    unsigned             more:1;         /* more follows: MSG_MORE */
    unsigned             in_use:1;

    u_char               addr_buf[NC_SOCKADDR_STRLEN];
};


extern nc_uint_t   nc_connection_n;          /* limit */
extern nc_uint_t   nc_connection_active;     /* in use now */
/* of those, the process's own (channels, eventfds): not clients to wait
 * for on a graceful exit */
extern nc_uint_t   nc_connection_internal;
extern nc_queue_t  nc_connection_idle;       /* idle keep-alive ones */


nc_int_t nc_connections_init(nc_uint_t n, nc_log_t *log);
nc_connection_t *nc_get_connection(nc_fd_t fd, nc_log_t *log);
void nc_free_connection(nc_connection_t *c);
void nc_close_connection(nc_connection_t *c);

void nc_connection_set_idle(nc_connection_t *c, nc_flag_t idle);

/* close idle keep-alive connections, e.g. on shutdown or when short */
void nc_close_idle_connections(void);

void nc_event_accept(nc_event_t *ev);

/* plain socket I/O: n > 0 bytes, 0 EOF, NC_AGAIN, NC_ERROR */
ssize_t nc_unix_recv(nc_connection_t *c, u_char *buf, size_t size);
ssize_t nc_unix_send(nc_connection_t *c, u_char *buf, size_t size);
ssize_t nc_unix_writev(nc_connection_t *c, struct iovec *iov, int n);
ssize_t nc_unix_sendfile(nc_connection_t *c, nc_fd_t fd, off_t *offset,
    size_t size);

/* "127.0.0.1:8848", "[::1]:8848" */
size_t nc_sock_ntop(const struct sockaddr *sa, u_char *text, size_t len,
    nc_flag_t port);


#endif /* _NC_CONNECTION_H_INCLUDED_ */
