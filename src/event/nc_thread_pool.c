
/*
 * nacre: helper threads (nc_thread_pool.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_thread_pool.h>

#include <pthread.h>
#include <sys/eventfd.h>


typedef struct {
    pthread_mutex_t      mutex;
    pthread_cond_t       cond;
    nc_thread_task_t    *queue;           /* waiting, first in first out */
    nc_thread_task_t   **queue_tail;
    nc_thread_task_t    *finished;        /* newest first */
    nc_uint_t            pending;         /* posted, done() not yet run */
    nc_uint_t            max_tasks;
    nc_connection_t     *notify;          /* the eventfd */
    nc_log_t            *log;
} nc_thread_pool_t;


static void *nc_thread_pool_run(void *arg);
static void nc_thread_pool_finished(nc_event_t *ev);
static void nc_thread_pool_empty(nc_event_t *ev);


static nc_thread_pool_t  nc_thread_pool;


nc_int_t
nc_thread_pool_init(nc_uint_t threads, nc_uint_t max_tasks, nc_log_t *log)
{
    int                err;
    nc_fd_t            fd;
    nc_uint_t          i;
    pthread_t          tid;
    pthread_attr_t     attr;
    sigset_t           set, old;
    nc_connection_t   *c;
    nc_thread_pool_t  *tp;

    tp = &nc_thread_pool;

    tp->queue = NULL;
    tp->queue_tail = &tp->queue;
    tp->finished = NULL;
    tp->pending = 0;
    tp->max_tasks = max_tasks;
    tp->log = log;

    if (pthread_mutex_init(&tp->mutex, NULL) != 0
        || pthread_cond_init(&tp->cond, NULL) != 0)
    {
        nc_log_error(NC_LOG_ALERT, log, 0, "pthread_mutex_init() failed");
        return NC_ERROR;
    }

    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd == -1) {
        nc_log_error(NC_LOG_ALERT, log, errno, "eventfd() failed");
        return NC_ERROR;
    }

    c = nc_get_connection(fd, log);
    if (c == NULL) {
        (void) close(fd);
        return NC_ERROR;
    }

    c->read->handler = nc_thread_pool_finished;
    c->write->handler = nc_thread_pool_empty;
    c->data = tp;

    if (nc_event_add_conn(c) != NC_OK) {
        nc_close_connection(c);
        return NC_ERROR;
    }

    tp->notify = c;
    nc_connection_internal++;

    /* signals are the loop's: the threads block them all */
    (void) sigfillset(&set);
    (void) pthread_sigmask(SIG_SETMASK, &set, &old);
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    err = 0;

    for (i = 0; i < threads; i++) {
        err = pthread_create(&tid, &attr, nc_thread_pool_run, tp);
        if (err != 0) {
            break;
        }
    }

    (void) pthread_attr_destroy(&attr);
    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err != 0) {
        nc_log_error(NC_LOG_ALERT, log, err, "pthread_create() failed");
        return NC_ERROR;
    }

    return NC_OK;
}


nc_int_t
nc_thread_task_post(nc_thread_task_t *task)
{
    nc_thread_pool_t  *tp;

    tp = &nc_thread_pool;

    if (tp->pending >= tp->max_tasks) {
        return NC_BUSY;
    }

    tp->pending++;
    task->next = NULL;

    (void) pthread_mutex_lock(&tp->mutex);

    *tp->queue_tail = task;
    tp->queue_tail = &task->next;

    (void) pthread_cond_signal(&tp->cond);
    (void) pthread_mutex_unlock(&tp->mutex);

    return NC_OK;
}


static void *
nc_thread_pool_run(void *arg)
{
    uint64_t           one;
    nc_thread_task_t  *task;
    nc_thread_pool_t  *tp;

    tp = arg;
    one = 1;

    for ( ;; ) {
        (void) pthread_mutex_lock(&tp->mutex);

        while (tp->queue == NULL) {
            (void) pthread_cond_wait(&tp->cond, &tp->mutex);
        }

        task = tp->queue;
        tp->queue = task->next;

        if (tp->queue == NULL) {
            tp->queue_tail = &tp->queue;
        }

        (void) pthread_mutex_unlock(&tp->mutex);

        task->work(task);

        (void) pthread_mutex_lock(&tp->mutex);
        task->next = tp->finished;
        tp->finished = task;
        (void) pthread_mutex_unlock(&tp->mutex);

        /* cannot fail short of 2^64 - 1 unread wake-ups */
        (void) write(tp->notify->fd, &one, sizeof(one));
    }

    return NULL;
}


static void
nc_thread_pool_finished(nc_event_t *ev)
{
    uint64_t           n;
    nc_connection_t   *c;
    nc_thread_task_t  *task, *next, *order;
    nc_thread_pool_t  *tp;

    c = ev->data;
    tp = c->data;

    /* edge-triggered: drain the counter, then take every finished task */
    while (read(c->fd, &n, sizeof(n)) == (ssize_t) sizeof(n)) {
        /* void */
    }

    (void) pthread_mutex_lock(&tp->mutex);
    task = tp->finished;
    tp->finished = NULL;
    (void) pthread_mutex_unlock(&tp->mutex);

    /* oldest first */
    order = NULL;

    while (task) {
        next = task->next;
        task->next = order;
        order = task;
        task = next;
    }

    while (order) {
        task = order;
        order = task->next;
        tp->pending--;
        task->done(task);
    }
}


static void
nc_thread_pool_empty(nc_event_t *ev)
{
    (void) ev;
}
