
/*
 * nacre: a worker's side of the consensus channel.
 *
 * Requests wait in a queue in the order they were sent; the consensus
 * process answers mostly in that order, so finding a request is a look at
 * the head.  Every request has a deadline: with no answer in time the
 * client gets a 503, never a hang.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_process_cycle.h>
#include <nc_channel.h>
#include <nc_store.h>
#include <nc_consensus.h>


#define NC_CONSENSUS_TIMEOUT      10000    /* ms, a request's deadline */
#define NC_CONSENSUS_RECONNECT    100      /* ms between connect attempts */
#define NC_CONSENSUS_NOTES        (256 * 1024)  /* a batch of notes */
#define NC_CONSENSUS_NOTES_DELAY  10       /* ms a note may wait */


struct nc_consensus_req_s {
    nc_queue_t              queue;
    uint64_t                id;
    nc_msec_t               deadline;
    nc_consensus_done_pt    done;
    nc_consensus_text_pt    text;             /* a STATUS request */
    void                   *data;
};


static void nc_consensus_connect(nc_event_t *ev);
static void nc_consensus_frame(nc_channel_t *ch, nc_uint_t type,
    u_char *body, size_t len);
static void nc_consensus_closed(nc_channel_t *ch);
static void nc_consensus_expire(nc_event_t *ev);
static nc_consensus_req_t *nc_consensus_send(nc_uint_t type,
    const u_char *a, size_t alen, const u_char *b, size_t blen,
    nc_consensus_done_pt done, nc_consensus_text_pt text, void *data);
static nc_consensus_req_t *nc_consensus_find(uint64_t id);
static void nc_consensus_flush_notes(nc_event_t *ev);
static void nc_consensus_finish(nc_consensus_req_t *req, nc_int_t status,
    uint64_t index, uint64_t revision);


extern struct sockaddr_un  nc_consensus_addr;
extern socklen_t           nc_consensus_addrlen;

static nc_channel_t  *nc_consensus_channel;
static nc_flag_t      nc_consensus_up;       /* it greeted us */
static nc_queue_t     nc_consensus_reqs;
static nc_queue_t     nc_consensus_waiters;
static uint64_t       nc_consensus_next_id;
static nc_event_t     nc_consensus_reconnect_ev;
static nc_event_t     nc_consensus_expire_ev;
static nc_log_t      *nc_consensus_log;

/* notes since the last flush, (u16 length, note) each: beats, then
 * subscriptions */
typedef struct {
    u_char           *buf;
    size_t            len;
} nc_consensus_notes_t;

static nc_consensus_notes_t  nc_consensus_notes[2];
static nc_event_t            nc_consensus_notes_ev;


nc_int_t
nc_consensus_client_init(nc_cycle_t *cycle)
{
    nc_queue_init(&nc_consensus_reqs);
    nc_queue_init(&nc_consensus_waiters);

    nc_consensus_log = &cycle->log;

    nc_consensus_reconnect_ev.handler = nc_consensus_connect;
    nc_consensus_reconnect_ev.timer_index = NC_INVALID_INDEX;

    nc_consensus_expire_ev.handler = nc_consensus_expire;
    nc_consensus_expire_ev.timer_index = NC_INVALID_INDEX;

    nc_consensus_notes_ev.handler = nc_consensus_flush_notes;
    nc_consensus_notes_ev.timer_index = NC_INVALID_INDEX;

    nc_consensus_connect(&nc_consensus_reconnect_ev);

    return NC_OK;
}


static void
nc_consensus_connect(nc_event_t *ev)
{
    nc_fd_t  fd;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        nc_log_error(NC_LOG_ALERT, nc_consensus_log, errno,
                     "socket(AF_UNIX) failed");
        goto again;
    }

    /* a local listener accepts at once or refuses: no EINPROGRESS */
    if (connect(fd, (struct sockaddr *) &nc_consensus_addr,
                nc_consensus_addrlen) == -1)
    {
        (void) close(fd);
        goto again;
    }

    nc_consensus_channel = nc_channel_create(fd,
                                             16 + NC_CONSENSUS_MAX_TEXT,
                                             NC_CONSENSUS_MAX_OUT,
                                             nc_consensus_log);
    if (nc_consensus_channel == NULL) {
        (void) close(fd);
        goto again;
    }

    nc_consensus_channel->on_frame = nc_consensus_frame;
    nc_consensus_channel->on_close = nc_consensus_closed;
    nc_connection_internal++;

    nc_log_debug(nc_consensus_log, "connected to the consensus process");

    return;

again:

    if (!nc_exiting) {
        nc_add_timer(&nc_consensus_reconnect_ev, NC_CONSENSUS_RECONNECT);
    }
}


nc_consensus_req_t *
nc_consensus_propose(const u_char *cmd, size_t len, nc_consensus_done_pt done,
    void *data)
{
    u_char  head[NC_CONSENSUS_PROPOSE_SIZE - 8];

    if (len > NC_CONSENSUS_MAX_COMMAND) {
        return NULL;
    }

    nc_le64_put(head, 0);                  /* client session: none yet */
    nc_le64_put(head + 8, 0);

    return nc_consensus_send(NC_CONSENSUS_PROPOSE, head, sizeof(head), cmd,
                             len, done, NULL, data);
}


nc_consensus_req_t *
nc_consensus_read(nc_consensus_done_pt done, void *data)
{
    return nc_consensus_send(NC_CONSENSUS_READ, NULL, 0, NULL, 0, done, NULL,
                             data);
}


nc_consensus_req_t *
nc_consensus_status(nc_uint_t format, nc_consensus_text_pt text, void *data)
{
    u_char  f;

    f = (u_char) format;

    return nc_consensus_send(NC_CONSENSUS_STATUS, &f, 1, NULL, 0, NULL, text,
                             data);
}


nc_consensus_req_t *
nc_consensus_status_of(nc_uint_t format, const u_char *arg, size_t len,
    nc_consensus_text_pt text, void *data)
{
    u_char  f;

    f = (u_char) format;

    return nc_consensus_send(NC_CONSENSUS_STATUS, &f, 1, arg, len, NULL, text,
                             data);
}


nc_consensus_req_t *
nc_consensus_member(nc_uint_t op, const u_char *text, size_t len,
    nc_consensus_done_pt done, void *data)
{
    u_char  o;

    if (len == 0 || len > 128) {
        return NULL;
    }

    o = (u_char) op;

    return nc_consensus_send(NC_CONSENSUS_MEMBER, &o, 1, text, len, done,
                             NULL, data);
}


/* a frame is { u64 request id, a, b } */
/*
 * Notes (beats, subscriptions) are many and need no answer: those of a
 * few milliseconds go in one frame per kind.  Lost notes (no consensus
 * process) cost nothing the next ones do not repair.
 */
void
nc_consensus_note(nc_uint_t type, const u_char *p, size_t len)
{
    nc_consensus_notes_t  *n;

    if (!nc_consensus_up || len > 0xffff
        || (type != NC_CONSENSUS_BEAT && type != NC_CONSENSUS_SUBSCRIBE))
    {
        return;
    }

    n = &nc_consensus_notes[type == NC_CONSENSUS_SUBSCRIBE];

    if (n->buf == NULL) {
        n->buf = malloc(NC_CONSENSUS_NOTES);
        if (n->buf == NULL) {
            return;
        }
    }

    if (n->len + 2 + len > NC_CONSENSUS_NOTES) {
        nc_consensus_flush_notes(&nc_consensus_notes_ev);
    }

    n->buf[n->len] = (u_char) len;
    n->buf[n->len + 1] = (u_char) (len >> 8);
    nc_memcpy(n->buf + n->len + 2, p, len);
    n->len += 2 + len;

    /* a few ms of notes in one frame: one wakeup of the consensus process
     * instead of one per loop turn */
    if (!nc_consensus_notes_ev.timer_set) {
        nc_add_timer(&nc_consensus_notes_ev, NC_CONSENSUS_NOTES_DELAY);
    }
}


static void
nc_consensus_flush_notes(nc_event_t *ev)
{
    nc_uint_t              i;
    nc_consensus_notes_t  *n;

    if (ev->timer_set) {
        nc_del_timer(ev);
    }

    for (i = 0; i < 2; i++) {
        n = &nc_consensus_notes[i];

        if (n->len && nc_consensus_up
            && nc_channel_send(nc_consensus_channel,
                               i ? NC_CONSENSUS_SUBSCRIBE : NC_CONSENSUS_BEAT,
                               n->buf, n->len, NULL, 0)
               != NC_OK)
        {
            nc_log_error(NC_LOG_WARN, nc_consensus_log, 0,
                         "consensus channel full: %zu bytes of %s dropped",
                         n->len, i ? "subscriptions" : "beats");
        }

        n->len = 0;
    }
}


static nc_consensus_req_t *
nc_consensus_send(nc_uint_t type, const u_char *a, size_t alen,
    const u_char *b, size_t blen, nc_consensus_done_pt done,
    nc_consensus_text_pt text, void *data)
{
    u_char               head[8 + 64];
    nc_consensus_req_t  *req;

    /*
     * The master holds the listener while no consensus process runs, so a
     * connect alone proves nothing: only its greeting does.
     */
    if (!nc_consensus_up || alen > 64) {
        return NULL;
    }

    req = malloc(sizeof(nc_consensus_req_t));
    if (req == NULL) {
        return NULL;
    }

    req->id = ++nc_consensus_next_id;
    req->deadline = nc_current_msec + NC_CONSENSUS_TIMEOUT;
    req->done = done;
    req->text = text;
    req->data = data;

    nc_le64_put(head, req->id);

    if (alen) {
        nc_memcpy(head + 8, a, alen);
    }

    if (nc_channel_send(nc_consensus_channel, type, head, 8 + alen, b, blen)
        != NC_OK)
    {
        free(req);
        return NULL;
    }

    nc_queue_insert_tail(&nc_consensus_reqs, &req->queue);

    if (!nc_consensus_expire_ev.timer_set) {
        nc_add_timer(&nc_consensus_expire_ev, NC_CONSENSUS_TIMEOUT);
    }

    return req;
}


static nc_consensus_req_t *
nc_consensus_find(uint64_t id)
{
    nc_queue_t          *q;
    nc_consensus_req_t  *req;

    for (q = nc_queue_head(&nc_consensus_reqs);
         q != nc_queue_sentinel(&nc_consensus_reqs);
         q = nc_queue_next(q))
    {
        req = nc_queue_data(q, nc_consensus_req_t, queue);

        if (req->id == id) {
            return req;
        }
    }

    /* none: it timed out or its client went away */
    return NULL;
}



void
nc_consensus_cancel(nc_consensus_req_t *req)
{
    nc_queue_remove(&req->queue);
    free(req);
}


void
nc_consensus_wait_applied(nc_consensus_waiter_t *w)
{
    if (!w->waiting) {
        nc_queue_insert_tail(&nc_consensus_waiters, &w->queue);
        w->waiting = 1;
    }
}


void
nc_consensus_unwait_applied(nc_consensus_waiter_t *w)
{
    if (w->waiting) {
        nc_queue_remove(&w->queue);
        w->waiting = 0;
    }
}


static void
nc_consensus_frame(nc_channel_t *ch, nc_uint_t type, u_char *body,
    size_t len)
{
    void                   *data;
    nc_queue_t             *q, ready;
    nc_consensus_req_t     *req;
    nc_consensus_text_pt    text;
    nc_consensus_waiter_t  *w;

    nc_consensus_up = 1;

    switch (type) {

    case NC_CONSENSUS_RESULT:
        if (len < NC_CONSENSUS_RESULT_SIZE) {
            break;
        }

        req = nc_consensus_find(nc_le64_get(body));

        if (req && req->done) {
            nc_consensus_finish(req, (nc_int_t) nc_le64_get(body + 8),
                                nc_le64_get(body + 16),
                                nc_le64_get(body + 24));
        }

        break;

    case NC_CONSENSUS_TEXT:
        if (len < 16) {
            break;
        }

        req = nc_consensus_find(nc_le64_get(body));

        if (req && req->text) {
            text = req->text;
            data = req->data;

            nc_queue_remove(&req->queue);
            free(req);

            text(data, (nc_int_t) nc_le64_get(body + 8), body + 16, len - 16);
        }

        break;

    case NC_CONSENSUS_APPLIED:
        /* handlers may wait again: run the ones waiting now */
        nc_queue_init(&ready);

        if (!nc_queue_empty(&nc_consensus_waiters)) {
            ready = nc_consensus_waiters;
            ready.next->prev = &ready;
            ready.prev->next = &ready;
            nc_queue_init(&nc_consensus_waiters);
        }

        while (!nc_queue_empty(&ready)) {
            q = nc_queue_head(&ready);
            nc_queue_remove(q);

            w = nc_queue_data(q, nc_consensus_waiter_t, queue);
            w->waiting = 0;
            w->handler(w);
        }

        break;

    default:
        nc_log_error(NC_LOG_ALERT, nc_consensus_log, 0,
                     "unknown consensus frame type %u", (unsigned) type);
        break;
    }
}


static void
nc_consensus_finish(nc_consensus_req_t *req, nc_int_t status,
    uint64_t index, uint64_t revision)
{
    nc_consensus_done_pt   done;
    nc_consensus_text_pt   text;
    void                  *data;

    done = req->done;
    text = req->text;
    data = req->data;

    nc_queue_remove(&req->queue);
    free(req);

    if (done) {
        done(data, status, index, revision);
    } else {
        text(data, status, NULL, 0);
    }
}


static void
nc_consensus_closed(nc_channel_t *ch)
{
    nc_queue_t          *q;
    nc_consensus_req_t  *req;

    nc_consensus_channel = NULL;
    nc_connection_internal--;
    nc_consensus_up = 0;

    if (!nc_exiting) {
        nc_log_error(NC_LOG_WARN, nc_consensus_log, 0,
                     "lost the consensus process; reconnecting");
    }

    /* what was in flight may or may not apply: the client must not wait */
    while (!nc_queue_empty(&nc_consensus_reqs)) {
        q = nc_queue_head(&nc_consensus_reqs);
        req = nc_queue_data(q, nc_consensus_req_t, queue);
        nc_consensus_finish(req, NC_BUSY, 0, 0);
    }

    if (!nc_exiting) {
        nc_add_timer(&nc_consensus_reconnect_ev, NC_CONSENSUS_RECONNECT);
    }
}


static void
nc_consensus_expire(nc_event_t *ev)
{
    nc_queue_t          *q;
    nc_consensus_req_t  *req;

    while (!nc_queue_empty(&nc_consensus_reqs)) {
        q = nc_queue_head(&nc_consensus_reqs);
        req = nc_queue_data(q, nc_consensus_req_t, queue);

        if ((nc_msec_int_t) (req->deadline - nc_current_msec) > 0) {
            nc_add_timer(ev, req->deadline - nc_current_msec);
            return;
        }

        nc_consensus_finish(req, NC_BUSY, 0, 0);
    }
}
