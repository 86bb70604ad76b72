
/*
 * nacre: the event loop. One epoll instance per process; connections are
 * registered once, edge-triggered, for both directions. An event's `ready`
 * flag stays set until an I/O call says EAGAIN, so handlers may resume
 * reading without waiting for another notification (TLS keeps bytes of
 * its own).
 */

#ifndef _NC_EVENT_H_INCLUDED_
#define _NC_EVENT_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


#define NC_TIMER_INFINITE  (nc_msec_t) -1
#define NC_INVALID_INDEX   (nc_uint_t) -1


struct nc_event_s {
    void                 *data;
    nc_event_handler_pt   handler;

    nc_msec_t             timer_key;
    nc_uint_t             timer_index;     /* place in the timer heap */

    unsigned              write:1;
    unsigned              accept:1;
    unsigned              active:1;        /* registered with epoll */
    unsigned              ready:1;
    unsigned              eof:1;
    unsigned              error:1;
    unsigned              timedout:1;
    unsigned              timer_set:1;
    unsigned              posted:1;

    /* flipped on each reuse so stale epoll reports can be told apart */
    unsigned              instance:1;

    nc_queue_t            queue;           /* posted events */
};


typedef struct {
    nc_queue_t            posted;
    nc_int_t              epfd;
    struct epoll_event   *events;
    nc_uint_t             nevents;
    nc_log_t             *log;
} nc_event_loop_t;


extern nc_event_loop_t   nc_event_loop;
extern nc_uint_t         nc_event_exclusive;   /* EPOLLEXCLUSIVE works */


nc_int_t nc_event_init(nc_log_t *log, nc_uint_t nevents);
void nc_event_done(void);

/* register a connection's fd, edge-triggered, both directions */
nc_int_t nc_event_add_conn(nc_connection_t *c);
nc_int_t nc_event_del_conn(nc_connection_t *c);

/* listening sockets: level-triggered; EPOLLEXCLUSIVE when available */
nc_int_t nc_event_add_listen(nc_connection_t *c);

/* wait for events (with signals unblocked), run handlers and timers */
void nc_process_events_and_timers(const sigset_t *sigmask);

void nc_post_event(nc_event_t *ev);
void nc_delete_posted_event(nc_event_t *ev);
void nc_event_process_posted(void);


#include <nc_event_timer.h>
#include <nc_connection.h>


#endif /* _NC_EVENT_H_INCLUDED_ */
