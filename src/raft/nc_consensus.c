
/*
 * nacre: the consensus process.
 *
 * The only writer of the store.  One event loop drives the Raft core:
 *
 *   ticks (timer)            -> nc_raft_tick()
 *   proposals (workers)      -> nc_raft_propose()
 *   each loop iteration      -> ready: persist (one append + fdatasync for
 *                               the whole batch: group commit), send,
 *                               apply committed entries to the store as
 *                               one batch, publish, answer the workers
 *                               whose entries applied, tell every worker
 *                               a new version is out, advance
 *
 * A proposal waits in `pending` (in index order) until its entry applies;
 * its answer carries the apply result.  Workers only ever see results of
 * entries that are durable and applied on this node.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_process.h>
#include <nc_channel.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_kv.h>
#include <nc_raft.h>
#include <nc_raft_log.h>
#include <nc_consensus.h>
#include <sys/random.h>


#define NC_CONSENSUS_TICK          100        /* ms */
#define NC_CONSENSUS_ELECTION      10         /* ticks */
#define NC_CONSENSUS_MAX_WORKERS   NC_STORE_MAX_READERS
#define NC_CONSENSUS_MAX_PENDING   65536
#define NC_CONSENSUS_SNAP_ENTRIES  100000     /* entries between snapshots */


typedef struct {
    nc_channel_t           *channel;
    uint64_t                generation;       /* tells a reused slot apart */
} nc_consensus_worker_t;


typedef struct {
    uint64_t                index;
    uint64_t                term;
    uint64_t                req_id;
    uint32_t                worker;           /* slot */
    uint64_t                generation;
} nc_consensus_pending_t;


typedef struct {
    nc_cycle_t             *cycle;
    nc_log_t               *log;

    nc_raft_t              *raft;
    nc_raft_log_t          *wal;
    uint64_t                id;
    u_char                  cluster_id[16];

    nc_event_t              tick;

    nc_consensus_worker_t   workers[NC_CONSENSUS_MAX_WORKERS];
    uint64_t                generation;

    /* ring of proposals waiting for their entry to apply */
    nc_consensus_pending_t *pending;
    size_t                  pending_head;
    size_t                  pending_n;

    nc_store_result_t      *results;
    size_t                  results_cap;

    char                    dir[PATH_MAX];     /* data_dir/raft */
    uint64_t                snap_index;
    uint64_t                snap_term;
    uint64_t                prev_index;        /* the fallback snapshot */
    uint64_t                prev_term;
} nc_consensus_t;


static void nc_consensus_init(nc_cycle_t *cycle);
static void nc_consensus_accept(nc_event_t *ev);
static void nc_consensus_frame(nc_channel_t *ch, nc_uint_t type,
    u_char *body, size_t len);
static void nc_consensus_worker_closed(nc_channel_t *ch);
static void nc_consensus_on_propose(nc_channel_t *ch, u_char *body,
    size_t len);
static void nc_consensus_reply(uint32_t worker, uint64_t generation,
    uint64_t req_id, nc_int_t status, uint64_t index, uint64_t revision);
static void nc_consensus_tick(nc_event_t *ev);
static void nc_consensus_lead_alone(void);
static void nc_consensus_run(void);
static void nc_consensus_apply(const nc_raft_entry_t *e, size_t n);
static void nc_consensus_publish(uint64_t applied);
static void nc_consensus_snapshot(void);
static void nc_consensus_snap_path(char *buf, size_t size, uint64_t term,
    uint64_t index);
static void nc_consensus_exit(void) __attribute__((noreturn));


struct sockaddr_un   nc_consensus_addr;
socklen_t            nc_consensus_addrlen;

static nc_fd_t          nc_consensus_listen_fd = NC_INVALID_FILE;
static nc_consensus_t   nc_cs;


/* --- master ------------------------------------------------------------ */


nc_int_t
nc_consensus_listen(nc_cycle_t *cycle)
{
    int     n;
    nc_fd_t fd;

    /* an abstract name: nothing on disk to clean up, unique per master */
    nc_memzero(&nc_consensus_addr, sizeof(struct sockaddr_un));
    nc_consensus_addr.sun_family = AF_UNIX;
    n = snprintf(nc_consensus_addr.sun_path + 1,
                 sizeof(nc_consensus_addr.sun_path) - 1,
                 "nacre-consensus-%d", (int) getpid());

    nc_consensus_addrlen = (socklen_t) (offsetof(struct sockaddr_un, sun_path)
                                        + 1 + n);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        nc_log_error(NC_LOG_EMERG, &cycle->log, errno,
                     "socket(AF_UNIX) failed");
        return NC_ERROR;
    }

    if (bind(fd, (struct sockaddr *) &nc_consensus_addr,
             nc_consensus_addrlen) == -1
        || listen(fd, 512) == -1)
    {
        nc_log_error(NC_LOG_EMERG, &cycle->log, errno,
                     "bind() or listen() of the consensus socket failed");
        (void) close(fd);
        return NC_ERROR;
    }

    nc_consensus_listen_fd = fd;

    return NC_OK;
}


void
nc_consensus_close_listener(void)
{
    if (nc_consensus_listen_fd != NC_INVALID_FILE) {
        (void) close(nc_consensus_listen_fd);
        nc_consensus_listen_fd = NC_INVALID_FILE;
    }
}


/* --- the process ------------------------------------------------------- */


void
nc_consensus_process_cycle(nc_cycle_t *cycle, void *data)
{
    sigset_t  set;

    nc_process = NC_PROCESS_CONSENSUS;

    nc_consensus_init(cycle);

    nc_setproctitle("nacre: consensus process");

    sigemptyset(&set);

    for ( ;; ) {

        nc_process_events_and_timers(&set);

        nc_consensus_run();

        if (nc_terminate || nc_quit) {
            nc_consensus_exit();
        }

        if (nc_reopen) {
            nc_reopen = 0;
            nc_reopen_files(cycle);
        }
    }
}


static void
nc_consensus_init(nc_cycle_t *cycle)
{
    int                    rc;
    uint64_t               first, last;
    nc_uint_t              i;
    nc_conf_t             *conf;
    nc_listening_t        *ls;
    nc_connection_t       *c;
    nc_raft_config_t       cf;
    nc_raft_log_opts_t     opts;
    nc_raft_log_snap_t     snap;
    nc_raft_log_report_t   rep;
    char                   dir[PATH_MAX], path[PATH_MAX + 64];

    conf = cycle->conf;
    nc_cs.cycle = cycle;
    nc_cs.log = &cycle->log;

    /* it dies with the master: a stray writer must never outlive it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, errno,
                     "prctl(PR_SET_PDEATHSIG) failed");
    }

    if (getppid() != nc_parent) {
        exit(0);
    }

    /* no client traffic here */
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        (void) close(ls[i].fd);
    }

    if (nc_event_init(nc_cs.log, 512) != NC_OK
        || nc_connections_init(NC_CONSENSUS_MAX_WORKERS + 64, nc_cs.log)
           != NC_OK)
    {
        exit(2);
    }

    nc_store->log = nc_cs.log;

    if (nc_store_writer_init(nc_store) != NC_OK) {
        exit(1);
    }

    /* the state machine's domains */
    nc_store_kv_init();

    /* the durable log: recovery refuses corruption, repairs a torn tail */
    (void) snprintf(dir, sizeof(dir), "%s/raft", conf->data_dir.data);

    nc_memzero(&opts, sizeof(nc_raft_log_opts_t));
    opts.log = nc_cs.log;

    rc = nc_raft_log_open(dir, &opts, &nc_cs.wal, &rep);

    if (rc == NC_DECLINED) {
        /* the first start: a new identity, never reused */
        opts.create = 1;

        if (getrandom(opts.cluster_id, sizeof(opts.cluster_id), 0)
            != (ssize_t) sizeof(opts.cluster_id)
            || getrandom(&opts.node_id, sizeof(opts.node_id), 0)
               != (ssize_t) sizeof(opts.node_id))
        {
            nc_log_error(NC_LOG_EMERG, nc_cs.log, errno,
                         "getrandom() failed");
            exit(1);
        }

        opts.node_id |= 1;                 /* 0 means "none" */

        rc = nc_raft_log_open(dir, &opts, &nc_cs.wal, &rep);
    }

    if (rc != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0, "%s", rep.text);

        /* corruption is for the operator; anything else may pass */
        exit(rc == NC_RAFT_LOG_CORRUPT ? 2 : 1);
    }

    if (rep.repair[0]) {
        nc_log_error(NC_LOG_WARN, nc_cs.log, 0, "%s", rep.repair);
    }

    (void) nc_cpystrn((u_char *) nc_cs.dir, (u_char *) dir, sizeof(nc_cs.dir));

    nc_raft_log_identity(nc_cs.wal, nc_cs.cluster_id, &nc_cs.id);
    nc_raft_log_snapshot_marker(nc_cs.wal, &snap);
    nc_raft_log_range(nc_cs.wal, &first, &last);

    nc_memzero(&cf, sizeof(nc_raft_config_t));

    /* the state machine starts from the snapshot the log stands on */
    if (snap.index) {
        nc_consensus_snap_path(path, sizeof(path), snap.term, snap.index);

        if (nc_store_snapshot_load(nc_store, path, NULL) != NC_OK) {
            exit(2);
        }

        nc_cs.snap_index = snap.index;
        nc_cs.snap_term = snap.term;
        cf.conf = snap.conf;

    } else {
        /* standalone: a cluster of one */
        cf.conf.n_voters = 1;
        cf.conf.voters[0] = nc_cs.id;
    }

    cf.id = nc_cs.id;
    cf.election_tick = NC_CONSENSUS_ELECTION;
    cf.heartbeat_tick = 1;
    cf.pre_vote = 1;
    cf.check_quorum = 1;
    cf.seed = (uint64_t) getpid() ^ (uint64_t) nc_current_msec ^ cf.id;
    nc_raft_log_storage(nc_cs.wal, &cf.storage);
    nc_raft_log_hard_state(nc_cs.wal, &cf.hs);
    cf.applied = snap.index;
    cf.snapshot_entries = NC_CONSENSUS_SNAP_ENTRIES;

    if (nc_raft_create(&cf, &nc_cs.raft) != NC_RAFT_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0, "nc_raft_create() failed");
        exit(2);
    }

    nc_cs.pending = malloc(NC_CONSENSUS_MAX_PENDING
                           * sizeof(nc_consensus_pending_t));
    if (nc_cs.pending == NULL) {
        exit(2);
    }

    /* workers connect here */
    c = nc_get_connection(nc_consensus_listen_fd, nc_cs.log);
    if (c == NULL) {
        exit(2);
    }

    c->read->handler = nc_consensus_accept;
    c->read->accept = 1;

    if (nc_event_add_listen(c) != NC_OK) {
        exit(2);
    }

    nc_cs.tick.handler = nc_consensus_tick;
    nc_cs.tick.timer_index = NC_INVALID_INDEX;
    nc_add_timer(&nc_cs.tick, NC_CONSENSUS_TICK);

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "consensus: node %016" PRIx64 ", log %" PRIu64 "..%" PRIu64
                 ", term %" PRIu64 ", commit %" PRIu64, nc_cs.id,
                 first, last, cf.hs.term, cf.hs.commit);

    /* a cluster of one elects itself at once, or once it has applied */
    nc_consensus_lead_alone();
}


static void
nc_consensus_accept(nc_event_t *ev)
{
    u_char         buf[8];
    nc_fd_t        fd;
    nc_uint_t      i, n;
    nc_channel_t  *ch;

    for (n = 0; n < 64; n++) {
        fd = accept4(nc_consensus_listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EINTR) {
                nc_log_error(NC_LOG_CRIT, nc_cs.log, errno,
                             "accept4() of a worker failed");
            }

            return;
        }

        for (i = 0; i < NC_CONSENSUS_MAX_WORKERS; i++) {
            if (nc_cs.workers[i].channel == NULL) {
                break;
            }
        }

        if (i == NC_CONSENSUS_MAX_WORKERS) {
            nc_log_error(NC_LOG_CRIT, nc_cs.log, 0,
                         "too many workers connected");
            (void) close(fd);
            continue;
        }

        ch = nc_channel_create(fd, NC_CONSENSUS_PROPOSE_SIZE
                                   + NC_CONSENSUS_MAX_COMMAND,
                               NC_CONSENSUS_MAX_OUT, nc_cs.log);
        if (ch == NULL) {
            (void) close(fd);
            continue;
        }

        ch->on_frame = nc_consensus_frame;
        ch->on_close = nc_consensus_worker_closed;
        ch->data = &nc_cs.workers[i];

        nc_cs.workers[i].channel = ch;
        nc_cs.workers[i].generation = ++nc_cs.generation;

        /* the greeting: a worker proposes only to a live process */
        nc_le64_put(buf, nc_raft_applied(nc_cs.raft));
        (void) nc_channel_send(ch, NC_CONSENSUS_APPLIED, buf, sizeof(buf),
                               NULL, 0);
    }
}


static void
nc_consensus_worker_closed(nc_channel_t *ch)
{
    nc_consensus_worker_t  *w;

    /* its pending proposals still apply; their answers go nowhere */
    w = ch->data;
    w->channel = NULL;
}


static void
nc_consensus_frame(nc_channel_t *ch, nc_uint_t type, u_char *body,
    size_t len)
{
    nc_consensus_worker_t  *w;

    switch (type) {

    case NC_CONSENSUS_PROPOSE:
        nc_consensus_on_propose(ch, body, len);
        break;

    default:
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0,
                     "unknown frame type %u from a worker", (unsigned) type);

        /* nc_channel_close() does not call on_close: free the slot here */
        w = ch->data;
        w->channel = NULL;
        nc_channel_close(ch);
        break;
    }
}


static void
nc_consensus_on_propose(nc_channel_t *ch, u_char *body, size_t len)
{
    size_t                   slot;
    uint32_t                 worker;
    uint64_t                 req_id, last;
    nc_raft_entry_t          e;
    nc_consensus_worker_t   *w;
    nc_consensus_pending_t  *p;

    w = ch->data;
    worker = (uint32_t) (w - nc_cs.workers);

    if (len < NC_CONSENSUS_PROPOSE_SIZE) {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0, "short proposal frame");
        return;
    }

    req_id = nc_le64_get(body);

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER
        || nc_cs.pending_n == NC_CONSENSUS_MAX_PENDING)
    {
        /* forwarding to a leader comes with the peers */
        nc_consensus_reply(worker, w->generation, req_id, NC_BUSY, 0, 0);
        return;
    }

    if (nc_store_admit(nc_store, body + NC_CONSENSUS_PROPOSE_SIZE,
                       len - NC_CONSENSUS_PROPOSE_SIZE)
        != NC_OK)
    {
        nc_consensus_reply(worker, w->generation, req_id, NC_STORE_FULL, 0,
                           0);
        return;
    }

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.client_id = nc_le64_get(body + 8);
    e.seq = nc_le64_get(body + 16);
    e.data = body + NC_CONSENSUS_PROPOSE_SIZE;
    e.len = (uint32_t) (len - NC_CONSENSUS_PROPOSE_SIZE);

    if (nc_raft_propose(nc_cs.raft, &e, 1, &last) != NC_RAFT_OK) {
        nc_consensus_reply(worker, w->generation, req_id, NC_BUSY, 0, 0);
        return;
    }

    slot = (nc_cs.pending_head + nc_cs.pending_n) % NC_CONSENSUS_MAX_PENDING;
    p = &nc_cs.pending[slot];
    p->index = last;
    p->term = nc_raft_term(nc_cs.raft);
    p->req_id = req_id;
    p->worker = worker;
    p->generation = w->generation;
    nc_cs.pending_n++;
}


static void
nc_consensus_reply(uint32_t worker, uint64_t generation, uint64_t req_id,
    nc_int_t status, uint64_t index, uint64_t revision)
{
    u_char                  buf[NC_CONSENSUS_RESULT_SIZE];
    nc_consensus_worker_t  *w;

    w = &nc_cs.workers[worker];

    if (w->channel == NULL || w->generation != generation) {
        return;
    }

    nc_le64_put(buf, req_id);
    nc_le64_put(buf + 8, (uint64_t) status);
    nc_le64_put(buf + 16, index);
    nc_le64_put(buf + 24, revision);

    if (nc_channel_send(w->channel, NC_CONSENSUS_RESULT, buf, sizeof(buf),
                        NULL, 0)
        == NC_BUSY)
    {
        /* a worker that does not read its answers loses them */
        nc_log_error(NC_LOG_CRIT, nc_cs.log, 0,
                     "worker channel full, answer dropped");
    }
}


static void
nc_consensus_tick(nc_event_t *ev)
{
    nc_raft_tick(nc_cs.raft);
    nc_consensus_lead_alone();

    nc_add_timer(ev, NC_CONSENSUS_TICK);
}


/*
 * The only voter need not wait out an election timeout.  The core refuses
 * a campaign until the committed log is applied, so this runs again after
 * each apply: a restarted node leads as soon as it has caught up.
 */
static void
nc_consensus_lead_alone(void)
{
    const nc_raft_conf_t  *conf;

    conf = nc_raft_conf(nc_cs.raft);

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER
        && conf->n_voters == 1 && conf->voters[0] == nc_cs.id)
    {
        (void) nc_raft_campaign(nc_cs.raft);
    }
}


/* everything the core has ready, until it settles */
static void
nc_consensus_run(void)
{
    uint64_t         applied;
    nc_flag_t        snapshot;
    nc_raft_ready_t  rd;

    applied = 0;
    snapshot = 0;

again:

    while (nc_raft_has_ready(nc_cs.raft)) {

        nc_raft_ready(nc_cs.raft, &rd);

        /* peers: messages that may go before the persist (none alone) */

        if (rd.snapshot) {
            nc_log_error(NC_LOG_ALERT, nc_cs.log, 0,
                         "snapshot install needs the peer transport");
        }

        if (rd.n_entries || rd.hs_changed) {
            /* aborts on an fsync error: never go on with unknown state */
            if (nc_raft_log_append(nc_cs.wal, rd.hs_changed ? &rd.hs : NULL,
                                   rd.entries, rd.n_entries)
                != NC_OK)
            {
                nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                             "the Raft log refused a write; restarting");
                exit(1);
            }
        }

        if (rd.n_committed) {
            nc_consensus_apply(rd.committed, rd.n_committed);
            applied = rd.committed[rd.n_committed - 1].index;
        }

        snapshot |= rd.want_snapshot;

        nc_raft_advance(nc_cs.raft);
        nc_raft_log_release(nc_cs.wal);
    }

    if (applied) {
        nc_consensus_publish(applied);
        applied = 0;

        /* caught up: a sole voter campaigns, and its no-op goes out now */
        nc_consensus_lead_alone();
        goto again;
    }

    if (snapshot) {
        nc_consensus_snapshot();
    }
}


/*
 * Snapshot the published version and compact the log behind it.  Written
 * inline for now: about half a second per million small items, during
 * which this node does not apply (a cluster hands this to a thread that
 * holds the version with nc_store_pin()).
 */
static void
nc_consensus_snapshot(void)
{
    char                       path[PATH_MAX + 64];
    nc_raft_log_snap_t         snap;
    const nc_store_version_t  *v;

    v = nc_store_pin(nc_store);

    if (v == NULL || v->applied_index <= nc_cs.snap_index) {
        nc_store_unpin(nc_store);
        return;
    }

    nc_memzero(&snap, sizeof(nc_raft_log_snap_t));
    snap.index = v->applied_index;
    snap.term = v->applied_term;
    snap.conf = *nc_raft_conf(nc_cs.raft);

    (void) snprintf(path, sizeof(path), "%s/snap", nc_cs.dir);

    if (mkdir(path, 0700) == -1 && errno != EEXIST) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "mkdir(\"%s\") failed",
                     path);
        nc_store_unpin(nc_store);
        return;
    }

    nc_consensus_snap_path(path, sizeof(path), snap.term, snap.index);

    if (nc_store_snapshot_write(nc_store, v, path, NULL, 0, NULL) != NC_OK) {
        /* the log keeps everything: try again at the next threshold */
        nc_store_unpin(nc_store);
        return;
    }

    nc_store_unpin(nc_store);

    if (nc_raft_log_snapshot_taken(nc_cs.wal, &snap) != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the Raft log refused a snapshot marker; restarting");
        exit(1);
    }

    nc_raft_compacted(nc_cs.raft, snap.index);

    /* keep the previous snapshot as a fallback, drop the one before it */
    if (nc_cs.prev_index) {
        nc_consensus_snap_path(path, sizeof(path), nc_cs.prev_term,
                               nc_cs.prev_index);

        if (unlink(path) == -1 && errno != ENOENT) {
            nc_log_error(NC_LOG_WARN, nc_cs.log, errno,
                         "unlink(\"%s\") failed", path);
        }
    }

    nc_cs.prev_index = nc_cs.snap_index;
    nc_cs.prev_term = nc_cs.snap_term;
    nc_cs.snap_index = snap.index;
    nc_cs.snap_term = snap.term;

    nc_log_error(NC_LOG_INFO, nc_cs.log, 0,
                 "snapshot at %" PRIu64 " (term %" PRIu64 ") written",
                 snap.index, snap.term);
}


static void
nc_consensus_snap_path(char *buf, size_t size, uint64_t term, uint64_t index)
{
    (void) snprintf(buf, size, "%s/snap/%016" PRIx64 "-%016" PRIx64 ".snap",
                    nc_cs.dir, term, index);
}


static void
nc_consensus_apply(const nc_raft_entry_t *e, size_t n)
{
    size_t                   i;
    nc_int_t                 rc;
    nc_store_result_t       *res;
    nc_consensus_pending_t  *p;

    if (n > nc_cs.results_cap) {
        res = realloc(nc_cs.results, n * sizeof(nc_store_result_t));
        if (res == NULL) {
            nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                         "no memory to apply %zu entries", n);
            abort();
        }

        nc_cs.results = res;
        nc_cs.results_cap = n;
    }

    rc = nc_store_apply(nc_store, e, n, nc_cs.results);

    if (rc != NC_OK) {
        /*
         * Proposals are refused well before the region fills, so this is
         * a member whose store.shm_size is smaller than its peers'.  The
         * log is intact: stop, and let the operator grow the region.
         */
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the store cannot hold entries %" PRIu64 "..%" PRIu64
                     ": raise store.shm_size and restart",
                     e[0].index, e[n - 1].index);
        exit(2);
    }

    /* answer the proposals whose entries applied */

    for (i = 0; i < n && nc_cs.pending_n; i++) {
        p = &nc_cs.pending[nc_cs.pending_head];

        while (nc_cs.pending_n && p->index < e[i].index) {
            /* overwritten by another leader's entry: it never applied */
            nc_consensus_reply(p->worker, p->generation, p->req_id, NC_BUSY,
                               0, 0);
            nc_cs.pending_head = (nc_cs.pending_head + 1)
                                 % NC_CONSENSUS_MAX_PENDING;
            nc_cs.pending_n--;
            p = &nc_cs.pending[nc_cs.pending_head];
        }

        if (nc_cs.pending_n == 0 || p->index != e[i].index) {
            continue;
        }

        if (p->term == e[i].term) {
            nc_consensus_reply(p->worker, p->generation, p->req_id,
                               nc_cs.results[i].status, e[i].index,
                               nc_cs.results[i].revision);
        } else {
            nc_consensus_reply(p->worker, p->generation, p->req_id, NC_BUSY,
                               0, 0);
        }

        nc_cs.pending_head = (nc_cs.pending_head + 1)
                             % NC_CONSENSUS_MAX_PENDING;
        nc_cs.pending_n--;
    }
}


static void
nc_consensus_publish(uint64_t applied)
{
    u_char     buf[8];
    nc_uint_t  i;

    nc_le64_put(buf, applied);

    for (i = 0; i < NC_CONSENSUS_MAX_WORKERS; i++) {
        if (nc_cs.workers[i].channel) {
            (void) nc_channel_send(nc_cs.workers[i].channel,
                                   NC_CONSENSUS_APPLIED, buf, sizeof(buf),
                                   NULL, 0);
        }
    }
}


static void
nc_consensus_exit(void)
{
    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0, "exit");

    nc_raft_log_close(nc_cs.wal);
    nc_store_writer_free(nc_store);

    exit(0);
}
