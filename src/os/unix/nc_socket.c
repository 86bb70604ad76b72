
/*
 * nacre: listening sockets.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>


/* bind ls's address without SO_REUSEPORT and let it go: EADDRINUSE when
 * anyone listens there, even on sockets that share it among themselves */
nc_int_t
nc_probe_listening_socket(nc_listening_t *ls, nc_log_t *log)
{
    int     on;
    nc_fd_t s;

    s = socket(ls->sockaddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "socket() %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        return NC_ERROR;
    }

    on = 1;

    /* connections of an earlier run in TIME_WAIT do not count */
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1
        || (ls->sockaddr.ss_family == AF_INET6
            && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int))
               == -1))
    {
        nc_log_error(NC_LOG_EMERG, log, errno, "setsockopt() %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        (void) close(s);
        return NC_ERROR;
    }

    if (bind(s, (struct sockaddr *) &ls->sockaddr, ls->socklen) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "bind() to %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        (void) close(s);
        return NC_ERROR;
    }

    (void) close(s);

    return NC_OK;
}


nc_int_t
nc_open_listening_socket(nc_listening_t *ls, nc_log_t *log)
{
    int     on;
    nc_fd_t s;

    s = socket(ls->sockaddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "socket() %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        return NC_ERROR;
    }

    on = 1;

    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno,
                     "setsockopt(SO_REUSEADDR) %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        goto failed;
    }

    /*
     * One socket per worker on the same address: the kernel spreads new
     * connections over them evenly.  One socket shared by every worker
     * lets whichever wakes first take them all (with EPOLLEXCLUSIVE, the
     * same worker, again and again).
     */
    if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(int)) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno,
                     "setsockopt(SO_REUSEPORT) %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        goto failed;
    }

    if (ls->sockaddr.ss_family == AF_INET6) {
        /* "[::]:8848" means IPv6 only; "*:8848" is the IPv4 any address */
        if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int)) == -1)
        {
            nc_log_error(NC_LOG_EMERG, log, errno,
                         "setsockopt(IPV6_V6ONLY) %.*s failed",
                         nc_str_fmt(&ls->addr_text));
            goto failed;
        }
    }

    /* the listening socket is non-blocking: accept4() in every worker */
    if (fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "fcntl(O_NONBLOCK) failed");
        goto failed;
    }

    if (bind(s, (struct sockaddr *) &ls->sockaddr, ls->socklen) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "bind() to %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        goto failed;
    }

    if (listen(s, ls->backlog) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "listen() to %.*s failed",
                     nc_str_fmt(&ls->addr_text));
        goto failed;
    }

    ls->fd = s;

    return NC_OK;

failed:

    (void) close(s);

    return NC_ERROR;
}
