
/*
 * nacre: timers, a binary min-heap of events keyed by expiry time.
 */

#ifndef _NC_EVENT_TIMER_H_INCLUDED_
#define _NC_EVENT_TIMER_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


nc_int_t nc_event_timer_init(void);
void nc_event_add_timer(nc_event_t *ev, nc_msec_t timer);
void nc_event_del_timer(nc_event_t *ev);

/* milliseconds until the nearest timer, NC_TIMER_INFINITE if none */
nc_msec_t nc_event_find_timer(void);
void nc_event_expire_timers(void);
nc_uint_t nc_event_timer_count(void);


#define nc_add_timer(ev, t)   nc_event_add_timer(ev, t)
#define nc_del_timer(ev)                                                      \
    do {                                                                      \
        if ((ev)->timer_set) {                                                \
            nc_event_del_timer(ev);                                           \
        }                                                                     \
    } while (0)


#endif /* _NC_EVENT_TIMER_H_INCLUDED_ */
