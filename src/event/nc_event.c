
/*
 * nacre: the event loop over epoll.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>


nc_event_loop_t  nc_event_loop;
nc_uint_t        nc_event_exclusive;


nc_int_t
nc_event_init(nc_log_t *log, nc_uint_t nevents)
{
    nc_event_loop.log = log;
    nc_queue_init(&nc_event_loop.posted);

    nc_event_loop.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (nc_event_loop.epfd == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "epoll_create1() failed");
        return NC_ERROR;
    }

    nc_event_loop.nevents = nevents;
    nc_event_loop.events = nc_alloc(sizeof(struct epoll_event) * nevents);
    if (nc_event_loop.events == NULL) {
        return NC_ERROR;
    }

    if (nc_event_timer_init() != NC_OK) {
        return NC_ERROR;
    }

#ifdef EPOLLEXCLUSIVE
    nc_event_exclusive = 1;
#endif

    return NC_OK;
}


void
nc_event_done(void)
{
    if (nc_event_loop.epfd != -1) {
        (void) close(nc_event_loop.epfd);
        nc_event_loop.epfd = -1;
    }

    free(nc_event_loop.events);
    nc_event_loop.events = NULL;
}


nc_int_t
nc_event_add_conn(nc_connection_t *c)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(nc_event_loop.epfd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, errno,
                     "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return NC_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return NC_OK;
}


nc_int_t
nc_event_del_conn(nc_connection_t *c)
{
    struct epoll_event  ee;

    if (!c->read->active) {
        return NC_OK;
    }

    c->read->active = 0;
    c->write->active = 0;

    ee.events = 0;
    ee.data.ptr = NULL;

    if (epoll_ctl(nc_event_loop.epfd, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, errno,
                     "epoll_ctl(EPOLL_CTL_DEL, %d) failed", c->fd);
        return NC_ERROR;
    }

    return NC_OK;
}


nc_int_t
nc_event_add_listen(nc_connection_t *c)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN;

#ifdef EPOLLEXCLUSIVE
    /* one worker is woken per new connection, not all of them */
    ee.events |= EPOLLEXCLUSIVE;
#endif

    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(nc_event_loop.epfd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        nc_log_error(NC_LOG_ALERT, c->log, errno,
                     "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return NC_ERROR;
    }

    c->read->active = 1;

    return NC_OK;
}


void
nc_process_events_and_timers(const sigset_t *sigmask)
{
    int               i, n, timeout;
    uint32_t          revents;
    nc_msec_t         timer;
    nc_event_t       *rev, *wev;
    nc_uint_t         instance;
    nc_connection_t  *c;

    timer = nc_event_find_timer();

    if (!nc_queue_empty(&nc_event_loop.posted)) {
        timer = 0;
    }

    timeout = (timer == NC_TIMER_INFINITE) ? -1 : (int) nc_min(timer, 3600000);

    n = epoll_pwait(nc_event_loop.epfd, nc_event_loop.events,
                    (int) nc_event_loop.nevents, timeout, sigmask);

    nc_time_update();

    if (n == -1) {
        if (errno != EINTR) {
            nc_log_error(NC_LOG_ALERT, nc_event_loop.log, errno,
                         "epoll_pwait() failed");
        }

        n = 0;
    }

    for (i = 0; i < n; i++) {
        c = nc_event_loop.events[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (nc_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        /* the connection was closed (and maybe reused) earlier in this batch */
        if (c->fd == -1 || rev->instance != instance) {
            continue;
        }

        revents = nc_event_loop.events[i].events;

        if (revents & (EPOLLERR | EPOLLHUP)) {
            revents |= EPOLLIN | EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {
            rev->ready = 1;

            if (revents & EPOLLRDHUP) {
                rev->eof = 1;
            }

            rev->handler(rev);
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {

            if (c->fd == -1 || wev->instance != instance) {
                continue;
            }

            wev->ready = 1;
            wev->handler(wev);
        }
    }

    nc_event_expire_timers();
    nc_event_process_posted();
}


void
nc_post_event(nc_event_t *ev)
{
    if (!ev->posted) {
        ev->posted = 1;
        nc_queue_insert_tail(&nc_event_loop.posted, &ev->queue);
    }
}


void
nc_delete_posted_event(nc_event_t *ev)
{
    if (ev->posted) {
        ev->posted = 0;
        nc_queue_remove(&ev->queue);
    }
}


void
nc_event_process_posted(void)
{
    nc_queue_t  *q;
    nc_event_t  *ev;

    while (!nc_queue_empty(&nc_event_loop.posted)) {
        q = nc_queue_head(&nc_event_loop.posted);
        ev = nc_queue_data(q, nc_event_t, queue);

        nc_delete_posted_event(ev);
        ev->handler(ev);
    }
}
