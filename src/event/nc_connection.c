
/*
 * nacre: connections, accept, and plain socket I/O.
 *
 * Each worker has a fixed array of worker_connections slots, handed out
 * from a free list. Slots are taken from the array lazily, so an idle
 * worker touches (and keeps resident) only the slots it has used.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>


#define NC_ACCEPT_BATCH  64


typedef struct {
    nc_connection_t   conn;
    nc_event_t        read;
    nc_event_t        write;
} nc_connection_slot_t;


nc_uint_t   nc_connection_n;
nc_uint_t   nc_connection_active;
nc_uint_t   nc_connection_internal;
nc_queue_t  nc_connection_idle;

#define NC_ACCEPT_MAX_LISTEN  64

static void nc_accept_pause(nc_connection_t *lc);
static void nc_accept_resume(void);

/* listeners not watched while every connection is in use */
static nc_listening_t        *nc_accept_paused[NC_ACCEPT_MAX_LISTEN];
static nc_uint_t              nc_accept_npaused;

static nc_connection_slot_t  *nc_slots;
static nc_uint_t              nc_slots_used;    /* never handed out above */
static nc_connection_t       *nc_free_connections;


nc_int_t
nc_connections_init(nc_uint_t n, nc_log_t *log)
{
    /* calloc() of a large array maps zero pages: no RSS until touched */
    nc_slots = calloc(n, sizeof(nc_connection_slot_t));
    if (nc_slots == NULL) {
        nc_log_error(NC_LOG_EMERG, log, errno,
                     "could not allocate %zu connections", (size_t) n);
        return NC_ERROR;
    }

    nc_connection_n = n;
    nc_connection_active = 0;
    nc_connection_internal = 0;
    nc_slots_used = 0;
    nc_free_connections = NULL;
    nc_queue_init(&nc_connection_idle);

    return NC_OK;
}


nc_connection_t *
nc_get_connection(nc_fd_t fd, nc_log_t *log)
{
    nc_uint_t              instance;
    nc_event_t            *rev, *wev;
    nc_connection_t       *c;
    nc_connection_slot_t  *slot;

    c = nc_free_connections;

    if (c == NULL && nc_slots_used == nc_connection_n
        && !nc_queue_empty(&nc_connection_idle))
    {
        /* short of slots: idle keep-alive connections make room */
        nc_close_idle_connections();
        c = nc_free_connections;
    }

    if (c) {
        nc_free_connections = c->data;

    } else if (nc_slots_used < nc_connection_n) {
        slot = &nc_slots[nc_slots_used++];
        c = &slot->conn;
        c->read = &slot->read;
        c->write = &slot->write;

    } else {
        nc_log_error(NC_LOG_ALERT, log, 0,
                     "%zu worker_connections are not enough",
                     (size_t) nc_connection_n);
        return NULL;
    }

    rev = c->read;
    wev = c->write;
    instance = rev->instance;

    nc_memzero(c, sizeof(nc_connection_t));
    nc_memzero(rev, sizeof(nc_event_t));
    nc_memzero(wev, sizeof(nc_event_t));

    c->read = rev;
    c->write = wev;
    c->fd = fd;
    c->log = log;
    c->in_use = 1;

    rev->instance = !instance;
    wev->instance = !instance;
    rev->timer_index = NC_INVALID_INDEX;
    wev->timer_index = NC_INVALID_INDEX;

    rev->data = c;
    wev->data = c;
    wev->write = 1;

    nc_connection_active++;

    return c;
}


void
nc_free_connection(nc_connection_t *c)
{
    c->in_use = 0;
    c->data = nc_free_connections;
    nc_free_connections = c;
    nc_connection_active--;

    if (nc_accept_npaused) {
        nc_accept_resume();
    }
}


static void
nc_accept_pause(nc_connection_t *lc)
{
    nc_uint_t  i;

    for (i = 0; i < nc_accept_npaused; i++) {
        if (nc_accept_paused[i] == lc->listening) {
            return;
        }
    }

    if (nc_accept_npaused == NC_ACCEPT_MAX_LISTEN
        || nc_event_del_conn(lc) != NC_OK)
    {
        return;
    }

    if (nc_accept_npaused == 0) {
        nc_log_error(NC_LOG_ERR, lc->log, 0,
                     "%zu worker_connections are not enough: new "
                     "connections wait until one closes",
                     (size_t) nc_connection_n);
    }

    nc_accept_paused[nc_accept_npaused++] = lc->listening;
}


/* a connection closed: listen again (a listener closed meanwhile is not) */
static void
nc_accept_resume(void)
{
    nc_uint_t         i;
    nc_connection_t  *lc;

    for (i = 0; i < nc_accept_npaused; i++) {
        lc = nc_accept_paused[i]->connection;

        if (lc && lc->fd != -1 && !lc->read->active) {
            (void) nc_event_add_listen(lc);
        }
    }

    nc_accept_npaused = 0;
}


void
nc_close_connection(nc_connection_t *c)
{
    nc_fd_t  fd;

    if (c->fd == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    nc_del_timer(c->read);
    nc_del_timer(c->write);
    nc_delete_posted_event(c->read);
    nc_delete_posted_event(c->write);

    if (c->idle) {
        nc_queue_remove(&c->queue);
        c->idle = 0;
    }

    /* close() removes the fd from epoll; no epoll_ctl() needed */
    c->read->active = 0;
    c->write->active = 0;

    fd = c->fd;
    c->fd = -1;

    if (c->pool) {
        nc_destroy_pool(c->pool);
        c->pool = NULL;
    }

    nc_free_connection(c);

    if (close(fd) == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, errno, "close() socket %d failed",
                     fd);
    }
}


void
nc_connection_set_idle(nc_connection_t *c, nc_flag_t idle)
{
    if (idle && !c->idle) {
        c->idle = 1;
        nc_queue_insert_tail(&nc_connection_idle, &c->queue);

    } else if (!idle && c->idle) {
        c->idle = 0;
        nc_queue_remove(&c->queue);
    }
}


void
nc_close_idle_connections(void)
{
    nc_queue_t       *q;
    nc_connection_t  *c;

    while (!nc_queue_empty(&nc_connection_idle)) {
        q = nc_queue_head(&nc_connection_idle);
        c = nc_queue_data(q, nc_connection_t, queue);

        /* the read handler sees `close` and finishes the connection */
        c->close = 1;
        nc_connection_set_idle(c, 0);
        c->read->handler(c->read);
    }
}


void
nc_event_accept(nc_event_t *ev)
{
    nc_fd_t                   s;
    nc_int_t                  i;
    socklen_t                 socklen;
    nc_listening_t           *ls;
    nc_connection_t          *lc, *c;
    struct sockaddr_storage   sa;

    lc = ev->data;
    ls = lc->listening;

    for (i = 0; i < NC_ACCEPT_BATCH; i++) {

        if (nc_connection_active >= nc_connection_n
            && nc_queue_empty(&nc_connection_idle))
        {
            /*
             * Full: the rest stays in the backlog for other workers, and
             * this one stops listening (the socket would wake it again
             * at once) until a connection closes.
             */
            nc_accept_pause(lc);
            return;
        }

        socklen = sizeof(struct sockaddr_storage);

        s = accept4(lc->fd, (struct sockaddr *) &sa, &socklen,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (s == -1) {
            switch (errno) {

            case EAGAIN:
            case EINTR:
            case ECONNABORTED:
                return;

            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                nc_log_error(NC_LOG_CRIT, lc->log, errno, "accept4() failed");

                /* as when full: the socket would wake us at once again */
                nc_accept_pause(lc);
                return;

            default:
                nc_log_error(NC_LOG_ALERT, lc->log, errno, "accept4() failed");
                return;
            }
        }

        c = nc_get_connection(s, lc->log);
        if (c == NULL) {
            (void) close(s);
            return;
        }

        c->sockaddr = sa;
        c->socklen = socklen;
        c->listening = ls;
        c->recv = nc_unix_recv;
        c->send = nc_unix_send;
        c->writev = nc_unix_writev;
        c->sendfile = nc_unix_sendfile;
        c->start_msec = nc_current_msec;

        /* responses are whole messages: never wait for a delayed ACK */
        if (sa.ss_family != AF_UNIX) {
            int  on = 1;

            if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int))
                == -1)
            {
                nc_log_error(NC_LOG_ALERT, lc->log, errno,
                             "setsockopt(TCP_NODELAY) failed");
            }

            c->tcp_nodelay = 1;
        }

        c->addr_text.data = c->addr_buf;
        c->addr_text.len = nc_sock_ntop((struct sockaddr *) &sa, c->addr_buf,
                                        sizeof(c->addr_buf), 0);

        if (nc_event_add_conn(c) != NC_OK) {
            nc_close_connection(c);
            continue;
        }

        ls->handler(c);
    }
}


ssize_t
nc_unix_recv(nc_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    nc_event_t  *rev;

    rev = c->read;

    for ( ;; ) {
        n = recv(c->fd, buf, size, 0);

        if (n > 0) {
            /*
             * A short read emptied the socket: wait for its next edge
             * rather than try again, so that a client that keeps up with
             * us cannot hold the worker while the others wait (a pending
             * end of file is still read at once).
             */
            if ((size_t) n < size && !rev->eof) {
                rev->ready = 0;
            }

            return n;
        }

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (errno == EAGAIN) {
            rev->ready = 0;
            return NC_AGAIN;
        }

        if (errno == EINTR) {
            continue;
        }

        rev->ready = 0;
        rev->error = 1;

        /* a reset client, or a cluster member that is down */
        nc_log_error(errno == ECONNRESET || errno == ECONNREFUSED
                     ? NC_LOG_INFO : NC_LOG_ERR, c->log,
                     errno, "recv() failed, client: %.*s",
                     nc_str_fmt(&c->addr_text));

        return NC_ERROR;
    }
}


ssize_t
nc_unix_send(nc_connection_t *c, u_char *buf, size_t size)
{
    ssize_t      n;
    nc_event_t  *wev;

    wev = c->write;

    for ( ;; ) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n >= 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            return n;
        }

        if (errno == EAGAIN) {
            wev->ready = 0;
            return NC_AGAIN;
        }

        if (errno == EINTR) {
            continue;
        }

        wev->error = 1;

        nc_log_error(NC_LOG_INFO, c->log, errno, "send() failed, client: %.*s",
                     nc_str_fmt(&c->addr_text));

        return NC_ERROR;
    }
}


ssize_t
nc_unix_writev(nc_connection_t *c, struct iovec *iov, int n)
{
    ssize_t      sent;
    nc_event_t  *wev;
    struct msghdr msg;

    wev = c->write;

    nc_memzero(&msg, sizeof(struct msghdr));
    msg.msg_iov = iov;
    msg.msg_iovlen = n;

    for ( ;; ) {
        /* sendmsg() rather than writev(): MSG_NOSIGNAL spares a SIGPIPE */
        sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (c->more ? MSG_MORE : 0));

        if (sent >= 0) {
            return sent;
        }

        if (errno == EAGAIN) {
            wev->ready = 0;
            return NC_AGAIN;
        }

        if (errno == EINTR) {
            continue;
        }

        wev->error = 1;

        nc_log_error(NC_LOG_INFO, c->log, errno,
                     "sendmsg() failed, client: %.*s",
                     nc_str_fmt(&c->addr_text));

        return NC_ERROR;
    }
}


ssize_t
nc_unix_sendfile(nc_connection_t *c, nc_fd_t fd, off_t *offset, size_t size)
{
    ssize_t      n;
    nc_event_t  *wev;

    wev = c->write;

    for ( ;; ) {
        n = sendfile(c->fd, fd, offset, size);

        if (n >= 0) {
            return n;
        }

        if (errno == EAGAIN) {
            wev->ready = 0;
            return NC_AGAIN;
        }

        if (errno == EINTR) {
            continue;
        }

        wev->error = 1;

        nc_log_error(NC_LOG_INFO, c->log, errno,
                     "sendfile() failed, client: %.*s",
                     nc_str_fmt(&c->addr_text));

        return NC_ERROR;
    }
}


size_t
nc_sock_ntop(const struct sockaddr *sa, u_char *text, size_t len,
    nc_flag_t port)
{
    u_char                     *p, *last;
    char                        addr[INET6_ADDRSTRLEN];
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    p = text;
    last = text + len;

    switch (sa->sa_family) {

    case AF_INET:
        sin = (const struct sockaddr_in *) sa;
        (void) inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));

        p = port ? nc_slprintf(p, last, "%s:%d", addr, ntohs(sin->sin_port))
                 : nc_slprintf(p, last, "%s", addr);
        break;

    case AF_INET6:
        sin6 = (const struct sockaddr_in6 *) sa;
        (void) inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));

        p = port ? nc_slprintf(p, last, "[%s]:%d", addr,
                               ntohs(sin6->sin6_port))
                 : nc_slprintf(p, last, "%s", addr);
        break;

    case AF_UNIX:
        p = nc_slprintf(p, last, "unix:");
        break;

    default:
        p = nc_slprintf(p, last, "?");
        break;
    }

    return p - text;
}
