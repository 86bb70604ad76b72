
/*
 * nacre: timers, a binary min-heap of events keyed by expiry time.
 * Insert, delete and re-arm are O(log n); the event keeps its heap index
 * so deletion needs no search.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>


static nc_event_t  **nc_timer_heap;
static nc_uint_t     nc_timer_n;
static nc_uint_t     nc_timer_nalloc;


static void nc_timer_sift_up(nc_uint_t i);
static void nc_timer_sift_down(nc_uint_t i);


nc_int_t
nc_event_timer_init(void)
{
    nc_timer_n = 0;
    nc_timer_nalloc = 0;
    nc_timer_heap = NULL;

    return NC_OK;
}


static void
nc_timer_place(nc_uint_t i, nc_event_t *ev)
{
    nc_timer_heap[i] = ev;
    ev->timer_index = i;
}


static void
nc_timer_sift_up(nc_uint_t i)
{
    nc_uint_t    parent;
    nc_event_t  *ev;

    ev = nc_timer_heap[i];

    while (i > 0) {
        parent = (i - 1) / 2;

        if (nc_timer_heap[parent]->timer_key <= ev->timer_key) {
            break;
        }

        nc_timer_place(i, nc_timer_heap[parent]);
        i = parent;
    }

    nc_timer_place(i, ev);
}


static void
nc_timer_sift_down(nc_uint_t i)
{
    nc_uint_t    child;
    nc_event_t  *ev;

    ev = nc_timer_heap[i];

    for ( ;; ) {
        child = 2 * i + 1;

        if (child >= nc_timer_n) {
            break;
        }

        if (child + 1 < nc_timer_n
            && nc_timer_heap[child + 1]->timer_key
               < nc_timer_heap[child]->timer_key)
        {
            child++;
        }

        if (ev->timer_key <= nc_timer_heap[child]->timer_key) {
            break;
        }

        nc_timer_place(i, nc_timer_heap[child]);
        i = child;
    }

    nc_timer_place(i, ev);
}


void
nc_event_add_timer(nc_event_t *ev, nc_msec_t timer)
{
    nc_uint_t     n;
    nc_msec_t     key;
    nc_event_t  **heap;

    key = nc_current_msec + timer;

    if (ev->timer_set) {

        /* re-arming to (about) the same time is common: skip the work */
        if (key - ev->timer_key < 2 || ev->timer_key - key < 2) {
            return;
        }

        nc_event_del_timer(ev);
    }

    if (nc_timer_n == nc_timer_nalloc) {
        n = nc_timer_nalloc ? nc_timer_nalloc * 2 : 256;

        heap = realloc(nc_timer_heap, n * sizeof(nc_event_t *));
        if (heap == NULL) {
            /* a lost timer would hang a connection forever: fatal */
            nc_log_error(NC_LOG_EMERG, nc_event_loop.log, errno,
                         "realloc() of the timer heap failed");
            exit(2);
        }

        nc_timer_heap = heap;
        nc_timer_nalloc = n;
    }

    ev->timer_key = key;
    ev->timer_set = 1;

    nc_timer_place(nc_timer_n, ev);
    nc_timer_n++;
    nc_timer_sift_up(ev->timer_index);
}


void
nc_event_del_timer(nc_event_t *ev)
{
    nc_uint_t    i;
    nc_event_t  *last;

    i = ev->timer_index;

    ev->timer_set = 0;
    ev->timer_index = NC_INVALID_INDEX;

    nc_timer_n--;

    if (i == nc_timer_n) {
        return;
    }

    last = nc_timer_heap[nc_timer_n];
    nc_timer_place(i, last);

    if (i > 0 && nc_timer_heap[(i - 1) / 2]->timer_key > last->timer_key) {
        nc_timer_sift_up(i);

    } else {
        nc_timer_sift_down(i);
    }
}


nc_msec_t
nc_event_find_timer(void)
{
    nc_msec_t  key;

    if (nc_timer_n == 0) {
        return NC_TIMER_INFINITE;
    }

    key = nc_timer_heap[0]->timer_key;

    return key > nc_current_msec ? key - nc_current_msec : 0;
}


void
nc_event_expire_timers(void)
{
    nc_event_t  *ev;

    while (nc_timer_n) {
        ev = nc_timer_heap[0];

        if (ev->timer_key > nc_current_msec) {
            return;
        }

        nc_event_del_timer(ev);

        ev->timedout = 1;
        ev->handler(ev);
    }
}


nc_uint_t
nc_event_timer_count(void)
{
    return nc_timer_n;
}
