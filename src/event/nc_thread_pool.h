
/*
 * nacre: a worker's helper threads, for CPU-heavy work that must not stall
 * its event loop (the password KDF: a tenth of a second each).
 *
 * Tasks wait in a bounded queue; a thread runs task->work(); the loop hears
 * of finished tasks through an eventfd and runs task->done() itself, so
 * done() may touch anything the loop owns.  work() must touch only the
 * task.  A task whose requester has gone still finishes: done() is where
 * its owner notices and frees it.
 */

#ifndef _NC_THREAD_POOL_H_INCLUDED_
#define _NC_THREAD_POOL_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


typedef struct nc_thread_task_s  nc_thread_task_t;

struct nc_thread_task_s {
    nc_thread_task_t   *next;
    void              (*work)(nc_thread_task_t *task);   /* in a thread */
    void              (*done)(nc_thread_task_t *task);   /* in the loop */
};


/* in a worker, after nc_event_init() and nc_connections_init() */
nc_int_t nc_thread_pool_init(nc_uint_t threads, nc_uint_t max_tasks,
    nc_log_t *log);

/* NC_OK: queued, done() will run; NC_BUSY: max_tasks are pending already */
nc_int_t nc_thread_task_post(nc_thread_task_t *task);


#endif /* _NC_THREAD_POOL_H_INCLUDED_ */
