
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
 *
 * In a cluster (nc_peer.h) a follower forwards its workers' proposals to
 * the leader and answers them once the leader has applied the entry and
 * this node has applied it too (read-your-writes on the node the client
 * talks to).  Requests that wait on another member or on this node's
 * apply are "ops": held while there is no leader, sent, then applying.
 * Every op has a deadline: without a leader in time the answer is
 * NC_BUSY and the client gets a 503.
 *
 * A member with an empty log bootstraps a new cluster only once it has
 * heard from every member of cluster.members and every one of them is as
 * fresh as itself; the first entry is then the same configuration on
 * every member.  If any member already has a log, the fresh one waits to
 * be brought up to date by that cluster's leader: a wiped member never
 * starts a second cluster under the first one's name.
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
#include <nc_store_auth.h>
#include <nc_store_config.h>
#include <nc_store_naming.h>
#include <nc_store_gateway.h>
#include <nc_naming_lease.h>
#include <nc_naming_list.h>
#include <nc_naming_push.h>
#include <nc_naming_check.h>
#include <nc_auth_crypto.h>
#include <nc_raft.h>
#include <nc_raft_log.h>
#include <nc_consensus.h>
#include <nc_peer.h>
#include <nc_config_listeners.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <openssl/crypto.h>
#include <sys/resource.h>
#include <sys/syscall.h>


#define NC_CONSENSUS_MAX_WORKERS   NC_STORE_MAX_READERS
#define NC_CONSENSUS_MAX_PENDING   65536
#define NC_CONSENSUS_MAX_OPS       65536      /* a power of two */
#define NC_CONSENSUS_OP_TIMEOUT    5000       /* ms */
#define NC_CONSENSUS_MAX_HELD      (64 * 1024 * 1024)
#define NC_CONSENSUS_FSYNC_SAMPLES 1024

/* an origin: a worker's slot, or NC_CONSENSUS_LINK + a peer link's slot */
#define NC_CONSENSUS_LINK          NC_CONSENSUS_MAX_WORKERS

#define NC_CONSENSUS_GATHERS       64         /* cluster-wide questions */


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


/*
 * A worker's question put to every member: the answers so far (after the
 * 16 bytes of the worker's frame header), the members yet to answer.
 */
typedef struct {
    uint64_t                id;               /* 0: free */
    uint32_t                worker;
    uint64_t                generation;
    u_char                 *text;
    size_t                  len;
    nc_peer_t              *asked[NC_PEER_MAX_PEERS];
    nc_uint_t               waiting;
    nc_event_t              timer;
} nc_consensus_gather_t;


/* a request that waits on the leader or on this node's apply */
typedef struct {
    nc_queue_t              queue;            /* held, sent or applying */
    uint64_t                id;               /* 0: free */
    uint32_t                origin;
    uint64_t                generation;
    uint64_t                req_id;           /* the origin's */
    nc_peer_t              *peer;             /* asked of; NULL: local */
    uint64_t                index;            /* to apply before answering */
    nc_int_t                status;
    uint64_t                revision;
    nc_msec_t               deadline;
    nc_msec_t               asked;
    unsigned                read:1;
    unsigned                member:2;         /* NC_CONSENSUS_MEMBER_* */
    uint64_t                client_id;        /* a held proposal: */
    uint64_t                seq;
    u_char                 *cmd;
    size_t                  len;
} nc_consensus_op_t;


typedef struct {
    nc_cycle_t             *cycle;
    nc_log_t               *log;
    nc_conf_cluster_t      *ccf;
    nc_raft_config_t        rcf;
    uint64_t                members_hash;
    unsigned                cluster:1;        /* members beyond self */
    unsigned                bootstrapping:1;  /* fresh, waiting for peers */
    unsigned                transferring:1;   /* leaving: hand over first */
    unsigned                members_checked:1;
    nc_msec_t               leader_seen;      /* last tick with a leader */

    /* the auth bootstrap this leader proposed: its index, and the
     * generated password to hand to the operator once it applies */
    uint64_t                auth_index;
    uint64_t                auth_term;
    size_t                  auth_password_len;
    u_char                  auth_password[NC_AUTH_PASSWORD_MAX_LEN + 1];
    size_t                  auth_value_len;   /* 0: not prepared */
    u_char                  auth_value[NC_AUTH_KEY_LEN
                                       + NC_AUTH_PASSWORD_HASH_LEN];
    nc_msec_t               exit_deadline;

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

    /* a snapshot being written by its thread */
    pthread_t               snap_thread;
    unsigned                snap_running:1;
    _Atomic int             snap_result;      /* 0 running, 1 ok, -1 no */
    const nc_store_version_t  *snap_version;
    nc_raft_log_snap_t      snap_next;
    char                    snap_path[PATH_MAX + 64];

    /* the snapshot image the leader serves to members behind it */
    u_char                 *image;
    size_t                  image_len;

    nc_consensus_op_t      *ops;
    uint32_t               *free_ops;
    size_t                  n_free;
    uint64_t                op_seq;
    nc_queue_t              held;
    nc_queue_t              sent;
    nc_queue_t              applying;
    size_t                  held_bytes;

    u_char                 *msgbuf;
    size_t                  msgbuf_size;
    nc_raft_entry_t        *rx_ents;
    uint64_t                unreachable[NC_PEER_MAX_PEERS];
    size_t                  n_unreachable;

    uint32_t                fsync_us[NC_CONSENSUS_FSYNC_SAMPLES];
    uint64_t                fsyncs;
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
static void nc_consensus_snapshot_done(void);
static void nc_consensus_snap_path(char *buf, size_t size, uint64_t term,
    uint64_t index);
static void nc_consensus_serve_snapshot(const char *path,
    const nc_raft_log_snap_t *snap);
static void nc_consensus_install(const nc_raft_snapshot_t *snap);
static void nc_consensus_exit(void) __attribute__((noreturn));
static void nc_consensus_leave(void);

static nc_int_t nc_consensus_create_raft(void);
static void nc_consensus_bootstrap_alone(void);
static void nc_consensus_try_bootstrap(void);
static void nc_consensus_hello(nc_peer_hello_t *h);
static void nc_consensus_peer_frame(nc_peer_t *p, nc_uint_t type,
    u_char *body, size_t len);
static void nc_consensus_link_frame(nc_peer_link_t *l, nc_uint_t type,
    u_char *body, size_t len);
static void nc_consensus_peer_down(nc_peer_t *p);
static void nc_consensus_send(nc_raft_msg_t *msgs, size_t n);
static void nc_consensus_fail_pending(void);

static nc_int_t nc_consensus_propose_local(uint32_t origin,
    uint64_t generation, uint64_t req_id, uint64_t client_id, uint64_t seq,
    const u_char *cmd, size_t len);
static void nc_consensus_on_read(nc_channel_t *ch, u_char *body,
    size_t len);
static void nc_consensus_on_status(nc_channel_t *ch, u_char *body,
    size_t len);
static size_t nc_consensus_status_own(nc_uint_t format, const u_char *arg,
    size_t len, u_char *buf, size_t size);
static void nc_consensus_gather(nc_channel_t *ch, u_char *body, size_t len);
static void nc_consensus_gather_text(nc_peer_t *p, u_char *body,
    size_t len);
static void nc_consensus_gather_end(nc_consensus_gather_t *g);
static void nc_consensus_gather_timeout(nc_event_t *ev);
static void nc_consensus_peer_status(nc_peer_link_t *l, u_char *body,
    size_t len);
static void nc_consensus_on_beat(u_char *body, size_t len);
static nc_int_t nc_consensus_propose_transition(const u_char *cmd,
    size_t len);
static void nc_consensus_leases(void);
static void nc_consensus_on_member(nc_channel_t *ch, u_char *body,
    size_t len);
static nc_int_t nc_consensus_member_local(uint32_t origin,
    uint64_t generation, uint64_t req_id, nc_uint_t op, const u_char *text,
    size_t len);
static void nc_consensus_members_sync(const nc_raft_entry_t *e, size_t n);
static void nc_consensus_promote(void);
static void nc_consensus_check_members(void);
static void nc_consensus_auth_bootstrap(void);
static nc_int_t nc_consensus_auth_prepare(void);
static void nc_consensus_auth_applied(const nc_raft_entry_t *e,
    const nc_store_result_t *res);
static void nc_consensus_clean_snapshots(void);
static nc_consensus_op_t *nc_consensus_op_alloc(uint32_t origin,
    uint64_t generation, uint64_t req_id);
static nc_consensus_op_t *nc_consensus_op_find(uint64_t id);
static void nc_consensus_op_answer(nc_consensus_op_t *op, nc_int_t status,
    uint64_t index, uint64_t revision);
static void nc_consensus_op_free(nc_consensus_op_t *op);
static void nc_consensus_op_unlink(nc_consensus_op_t *op);
static void nc_consensus_op_result(nc_consensus_op_t *op, nc_int_t status,
    uint64_t index, uint64_t revision);
static void nc_consensus_op_go(nc_consensus_op_t *op);
static void nc_consensus_ops_flush(void);
static void nc_consensus_ops_expire(void);
static void nc_consensus_ops_applied(uint64_t applied);
static size_t nc_consensus_status_text(nc_uint_t format, u_char *buf,
    size_t size);


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

    /* the peers' port: opened here so that a taken port stops the start */
    return nc_peer_listen(cycle);
}


void
nc_consensus_close_listener(void)
{
    if (nc_consensus_listen_fd != NC_INVALID_FILE) {
        (void) close(nc_consensus_listen_fd);
        nc_consensus_listen_fd = NC_INVALID_FILE;
    }

    nc_peer_close_listener();
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

        if (nc_terminate) {
            nc_consensus_exit();
        }

        if (nc_quit) {
            nc_consensus_leave();
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
    nc_raft_config_t      *cf;
    nc_peer_handlers_t     handlers;
    nc_raft_hard_state_t   hs;
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
        || nc_connections_init(NC_CONSENSUS_MAX_WORKERS + NC_PEER_MAX_PEERS
                               + NC_PEER_MAX_LINKS + 64
                               + cycle->conf->naming.check_concurrency,
                               nc_cs.log)
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
    nc_store_auth_init();
    nc_store_config_init();
    nc_store_naming_init();
    nc_store_gateway_init();
    nc_naming_lease_init(nc_cs.log);
    nc_naming_check_init(nc_cs.log, &cycle->conf->naming);
    nc_naming_list_cache(cycle->conf->naming.list_cache);   /* pushes */
    nc_store_naming_observe(nc_naming_push_changed);

    /* the durable log: recovery refuses corruption, repairs a torn tail */
    (void) snprintf(dir, sizeof(dir), "%s/raft", conf->data_dir.data);

    nc_memzero(&opts, sizeof(nc_raft_log_opts_t));
    opts.log = nc_cs.log;
    opts.segment_size = conf->cluster.wal_segment_size;

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

    nc_cs.ccf = &conf->cluster;
    nc_cs.cluster = conf->cluster.members.nelts > 1;
    nc_cs.members_hash = nc_peer_members_hash(&conf->cluster);

    /* the state machine starts from the snapshot the log stands on */
    if (snap.index) {
        nc_consensus_snap_path(path, sizeof(path), snap.term, snap.index);

        if (nc_store_snapshot_load(nc_store, path, NULL) != NC_OK) {
            exit(2);
        }

        nc_cs.snap_index = snap.index;
        nc_cs.snap_term = snap.term;

        nc_consensus_serve_snapshot(path, &snap);
    }

    nc_consensus_clean_snapshots();

    nc_raft_log_hard_state(nc_cs.wal, &hs);

    if (last == 0 && snap.index == 0 && hs.term == 0) {
        /* a new store will want its auth key, maybe from this node */
        (void) nc_consensus_auth_prepare();

        if (nc_cs.cluster) {
            nc_cs.bootstrapping = 1;

        } else {
            nc_consensus_bootstrap_alone();
        }
    }

    cf = &nc_cs.rcf;
    nc_memzero(cf, sizeof(nc_raft_config_t));

    cf->id = nc_cs.id;
    cf->heartbeat_tick = 1;
    cf->election_tick = (unsigned) (conf->cluster.election_timeout
                                    / conf->cluster.heartbeat_interval);
    cf->pre_vote = 1;
    cf->check_quorum = 1;
    cf->seed = (uint64_t) getpid() ^ (uint64_t) nc_current_msec ^ cf->id;
    nc_raft_log_storage(nc_cs.wal, &cf->storage);
    cf->applied = snap.index;
    cf->snapshot_entries = conf->cluster.snapshot_entries;

    /* the configuration as of the snapshot; later ones replay from the log */
    cf->conf = snap.conf;

    if (nc_consensus_create_raft() != NC_OK) {
        exit(2);
    }

    nc_cs.pending = malloc(NC_CONSENSUS_MAX_PENDING
                           * sizeof(nc_consensus_pending_t));
    nc_cs.ops = calloc(NC_CONSENSUS_MAX_OPS, sizeof(nc_consensus_op_t));
    nc_cs.free_ops = malloc(NC_CONSENSUS_MAX_OPS * sizeof(uint32_t));
    nc_cs.rx_ents = malloc(NC_RAFT_MAX_MSG_ENTRIES * sizeof(nc_raft_entry_t));

    if (nc_cs.pending == NULL || nc_cs.ops == NULL || nc_cs.free_ops == NULL
        || nc_cs.rx_ents == NULL)
    {
        exit(2);
    }

    for (i = 0; i < NC_CONSENSUS_MAX_OPS; i++) {
        nc_cs.free_ops[i] = (uint32_t) (NC_CONSENSUS_MAX_OPS - 1 - i);
    }

    nc_cs.n_free = NC_CONSENSUS_MAX_OPS;
    nc_queue_init(&nc_cs.held);
    nc_queue_init(&nc_cs.sent);
    nc_queue_init(&nc_cs.applying);

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

    handlers.peer_frame = nc_consensus_peer_frame;
    handlers.link_frame = nc_consensus_link_frame;
    handlers.peer_down = nc_consensus_peer_down;
    handlers.hello = nc_consensus_hello;

    if (nc_peer_init(cycle, &handlers) != NC_OK) {
        exit(2);
    }

    /* without its socket the registry works, with polling alone */
    (void) nc_naming_push_init(cycle, nc_cs.log);

    nc_cs.tick.handler = nc_consensus_tick;
    nc_cs.tick.timer_index = NC_INVALID_INDEX;
    nc_add_timer(&nc_cs.tick, conf->cluster.heartbeat_interval);

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "consensus: node %016" PRIx64 ", log %" PRIu64 "..%" PRIu64
                 ", term %" PRIu64 ", commit %" PRIu64 "%s", nc_cs.id,
                 first, last, hs.term, hs.commit,
                 nc_cs.bootstrapping ? ", waiting for every member to "
                                       "bootstrap the cluster" : "");

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

    case NC_CONSENSUS_READ:
        nc_consensus_on_read(ch, body, len);
        break;

    case NC_CONSENSUS_STATUS:
        nc_consensus_on_status(ch, body, len);
        break;

    case NC_CONSENSUS_MEMBER:
        nc_consensus_on_member(ch, body, len);
        break;

    case NC_CONSENSUS_BEAT:
        nc_consensus_on_beat(body, len);
        break;

    case NC_CONSENSUS_SUBSCRIBE:
        /* pushes leave from the node the client polls */
        nc_naming_push_subscribe(body, len, nc_current_msec);
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
    uint32_t                worker;
    uint64_t                req_id;
    nc_consensus_op_t      *op;
    nc_consensus_worker_t  *w;

    w = ch->data;
    worker = (uint32_t) (w - nc_cs.workers);

    if (len < NC_CONSENSUS_PROPOSE_SIZE) {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0, "short proposal frame");
        return;
    }

    req_id = nc_le64_get(body);

    if (nc_consensus_propose_local(worker, w->generation, req_id,
                                   nc_le64_get(body + 8),
                                   nc_le64_get(body + 16),
                                   body + NC_CONSENSUS_PROPOSE_SIZE,
                                   len - NC_CONSENSUS_PROPOSE_SIZE)
        != NC_AGAIN)
    {
        return;
    }

    /* not the leader, or it is handing over: forward it, or hold it */

    len -= NC_CONSENSUS_PROPOSE_SIZE;

    op = NULL;

    if (nc_cs.held_bytes + len <= NC_CONSENSUS_MAX_HELD) {
        op = nc_consensus_op_alloc(worker, w->generation, req_id);
    }

    if (op == NULL) {
        nc_consensus_reply(worker, w->generation, req_id, NC_BUSY, 0, 0);
        return;
    }

    op->cmd = malloc(len);
    if (op->cmd == NULL) {
        nc_consensus_op_answer(op, NC_BUSY, 0, 0);
        return;
    }

    nc_memcpy(op->cmd, body + NC_CONSENSUS_PROPOSE_SIZE, len);
    op->len = len;
    op->client_id = nc_le64_get(body + 8);
    op->seq = nc_le64_get(body + 16);
    nc_cs.held_bytes += len;

    nc_consensus_op_go(op);
}


/*
 * Propose as the leader.  NC_AGAIN: this node cannot propose now (not the
 * leader, or handing leadership over) and nothing was proposed, so the
 * caller may safely try elsewhere.  Otherwise the origin is answered,
 * now (refused) or once the entry applies.
 */
static nc_int_t
nc_consensus_propose_local(uint32_t origin, uint64_t generation,
    uint64_t req_id, uint64_t client_id, uint64_t seq, const u_char *cmd,
    size_t len)
{
    int                      rc;
    size_t                   slot;
    uint64_t                 last;
    nc_raft_entry_t          e;
    nc_consensus_pending_t  *p;

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER || nc_cs.transferring) {
        return NC_AGAIN;
    }

    if (nc_cs.pending_n == NC_CONSENSUS_MAX_PENDING) {
        nc_consensus_reply(origin, generation, req_id, NC_BUSY, 0, 0);
        return NC_BUSY;
    }

    /* the leader alone admits: members' regions may differ in size */
    if (nc_store_admit(nc_store, cmd, len) != NC_OK) {
        nc_consensus_reply(origin, generation, req_id, NC_STORE_FULL, 0, 0);
        return NC_STORE_FULL;
    }

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.client_id = client_id;
    e.seq = seq;
    e.data = cmd;
    e.len = (uint32_t) len;

    rc = nc_raft_propose(nc_cs.raft, &e, 1, &last);

    if (rc == NC_RAFT_DECLINED || rc == NC_RAFT_BUSY) {
        return NC_AGAIN;
    }

    if (rc != NC_RAFT_OK) {
        nc_consensus_reply(origin, generation, req_id, NC_ERROR, 0, 0);
        return NC_ERROR;
    }

    slot = (nc_cs.pending_head + nc_cs.pending_n) % NC_CONSENSUS_MAX_PENDING;
    p = &nc_cs.pending[slot];
    p->index = last;
    p->term = nc_raft_term(nc_cs.raft);
    p->req_id = req_id;
    p->worker = origin;
    p->generation = generation;
    nc_cs.pending_n++;

    return NC_OK;
}


/* beats from a worker: the leader keeps them, others pass them on */
static void
nc_consensus_on_beat(u_char *body, size_t len)
{
    uint64_t    lead;
    nc_peer_t  *p;

    lead = nc_raft_leader(nc_cs.raft);

    if (lead == nc_cs.id) {
        nc_naming_lease_beat(body, len, nc_current_msec);
        return;
    }

    /* no leader: lost, and a new leader grants every lease a full term */
    p = lead != NC_RAFT_NONE ? nc_peer_find(lead) : NULL;

    if (p) {
        (void) nc_peer_send(p, NC_PEER_BEAT, body, len, NULL, 0);
    }
}


/* the lease module's transitions: entries nobody waits for */
static nc_int_t
nc_consensus_propose_transition(const u_char *cmd, size_t len)
{
    uint64_t         last;
    nc_raft_entry_t  e;

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER || nc_cs.transferring
        || nc_store_admit(nc_store, cmd, len) != NC_OK)
    {
        return NC_AGAIN;
    }

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = (u_char *) cmd;
    e.len = (uint32_t) len;

    return nc_raft_propose(nc_cs.raft, &e, 1, &last) == NC_RAFT_OK
           ? NC_OK : NC_AGAIN;
}


static void
nc_consensus_leases(void)
{
    nc_flag_t          leader;
    nc_msec_t          period;
    nc_conf_naming_t  *ncf;

    ncf = &nc_cs.cycle->conf->naming;

    /* judged at least four times within the shortest timeout */
    period = nc_min(1000, ncf->unhealthy_after / 4);

    leader = nc_raft_role(nc_cs.raft) == NC_RAFT_LEADER && !nc_cs.transferring;

    nc_naming_lease_tick(nc_store, leader, nc_raft_term(nc_cs.raft),
                         nc_current_msec, nc_max(period, 50),
                         nc_consensus_propose_transition);

    nc_naming_check_tick(nc_store, leader && ncf->health_check,
                         nc_raft_term(nc_cs.raft), nc_current_msec,
                         nc_consensus_propose_transition);

    nc_naming_push_tick(nc_current_msec);
}


static void
nc_consensus_on_read(nc_channel_t *ch, u_char *body, size_t len)
{
    nc_consensus_op_t      *op;
    nc_consensus_worker_t  *w;

    w = ch->data;

    if (len < 8) {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0, "short read frame");
        return;
    }

    op = nc_consensus_op_alloc((uint32_t) (w - nc_cs.workers), w->generation,
                               nc_le64_get(body));
    if (op == NULL) {
        nc_consensus_reply((uint32_t) (w - nc_cs.workers), w->generation,
                           nc_le64_get(body), NC_BUSY, 0, 0);
        return;
    }

    op->read = 1;

    nc_consensus_op_go(op);
}


static void
nc_consensus_on_member(nc_channel_t *ch, u_char *body, size_t len)
{
    uint32_t                worker;
    nc_consensus_op_t      *op;
    nc_consensus_worker_t  *w;

    w = ch->data;
    worker = (uint32_t) (w - nc_cs.workers);

    if (len < 10 || len > 9 + 128
        || (body[8] != NC_CONSENSUS_MEMBER_ADD
            && body[8] != NC_CONSENSUS_MEMBER_REMOVE))
    {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0, "bad member frame");
        return;
    }

    op = nc_consensus_op_alloc(worker, w->generation, nc_le64_get(body));

    if (op == NULL || (op->cmd = malloc(len - 9)) == NULL) {
        if (op) {
            nc_consensus_op_answer(op, NC_BUSY, 0, 0);
        } else {
            nc_consensus_reply(worker, w->generation, nc_le64_get(body),
                               NC_BUSY, 0, 0);
        }
        return;
    }

    op->member = body[8];
    op->len = len - 9;
    nc_memcpy(op->cmd, body + 9, op->len);
    nc_cs.held_bytes += op->len;

    nc_consensus_op_go(op);
}


/*
 * A membership change, on the leader.  Adding: dial the address, learn
 * the member's node id from its HELLO (NC_AGAIN until then), record its
 * address in the store (every member then dials it; it survives
 * snapshots), then propose it as a learner; nc_consensus_promote() makes
 * it a voter once it has caught up.  Removing the leader itself hands
 * leadership over first (NC_AGAIN: the next leader removes it).
 */
static nc_int_t
nc_consensus_member_local(uint32_t origin, uint64_t generation,
    uint64_t req_id, nc_uint_t op, const u_char *text, size_t len)
{
    int                      rc;
    size_t                   n, slot;
    uint64_t                 id, index, last, best, m;
    nc_uint_t                i;
    nc_str_t                 s;
    nc_peer_t               *p;
    nc_conf_addr_t           addr;
    nc_raft_entry_t          e;
    nc_store_cmd_t           cmd;
    const nc_raft_conf_t    *conf;
    nc_consensus_pending_t  *pp;
    u_char                   key[64], buf[256];

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER || nc_cs.transferring) {
        return NC_AGAIN;
    }

    conf = nc_raft_conf(nc_cs.raft);
    s.data = (u_char *) text;
    s.len = len;
    id = NC_RAFT_NONE;
    p = NULL;

    if (op == NC_CONSENSUS_MEMBER_REMOVE && len == 16) {
        /* a node id, for a member whose address is gone with it */
        for (i = 0; i < 16 && isxdigit(text[i]); i++) { /* void */ }

        if (i == 16) {
            nc_memcpy(buf, text, 16);
            buf[16] = '\0';
            id = strtoull((char *) buf, NULL, 16);
        }
    }

    if (id == NC_RAFT_NONE) {
        if (nc_parse_addr(&s, &addr) != NC_OK) {
            nc_consensus_reply(origin, generation, req_id, NC_ERROR, 0, 0);
            return NC_ERROR;
        }

        n = nc_conf_addr_text(&addr, buf, sizeof(buf));

        if (n == nc_cs.ccf->self.text.len
            && nc_memcmp(buf, nc_cs.ccf->self.text.data, n) == 0)
        {
            id = nc_cs.id;

        } else if (op == NC_CONSENSUS_MEMBER_ADD) {
            p = nc_peer_add(buf, n);

            if (p == NULL) {
                nc_consensus_reply(origin, generation, req_id, NC_BUSY, 0, 0);
                return NC_BUSY;
            }

            if (!p->ready) {
                return NC_AGAIN;               /* until its HELLO */
            }

            id = p->hello.id;

        } else {
            p = nc_peer_find_addr(buf, n);

            if (p == NULL || !p->seen) {
                nc_consensus_reply(origin, generation, req_id, NC_DECLINED,
                                   0, 0);
                return NC_DECLINED;
            }

            id = p->hello.id;
        }
    }

    if (op == NC_CONSENSUS_MEMBER_ADD) {
        if (p == NULL || nc_raft_conf_is_voter(conf, id)
            || nc_raft_conf_is_learner(conf, id))
        {
            nc_consensus_reply(origin, generation, req_id, NC_DECLINED, 0, 0);
            return NC_DECLINED;
        }

        /* its address first: the members that will talk to it need it */
        (void) snprintf((char *) key, sizeof(key), "cluster/member/%016"
                        PRIx64, id);

        nc_memzero(&cmd, sizeof(nc_store_cmd_t));
        cmd.op = NC_STORE_OP_PUT;
        cmd.type = NC_STORE_T_RAW;
        cmd.key = key;
        cmd.key_len = (uint32_t) strlen((char *) key);
        cmd.value = p->addr;
        cmd.value_len = (uint32_t) p->addr_len;

        nc_memzero(&e, sizeof(nc_raft_entry_t));
        e.type = NC_RAFT_ENTRY_NORMAL;
        e.data = buf;
        e.len = (uint32_t) nc_store_cmd_encode(buf, sizeof(buf), &cmd);

        if (e.len == 0 || nc_raft_propose(nc_cs.raft, &e, 1, &last)
                          != NC_RAFT_OK)
        {
            return NC_AGAIN;
        }

        rc = nc_raft_propose_conf_change(nc_cs.raft, NC_RAFT_CONF_ADD_LEARNER,
                                         id, &index);

    } else {
        if (!nc_raft_conf_is_voter(conf, id)
            && !nc_raft_conf_is_learner(conf, id))
        {
            nc_consensus_reply(origin, generation, req_id, NC_DECLINED, 0, 0);
            return NC_DECLINED;
        }

        if (id == nc_cs.id) {
            best = 0;

            for (i = 0; i < conf->n_voters; i++) {
                m = nc_raft_match(nc_cs.raft, conf->voters[i]);

                if (conf->voters[i] != nc_cs.id && m >= best) {
                    best = m;
                    id = conf->voters[i];
                }
            }

            if (id != nc_cs.id) {
                nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                             "this member is being removed: handing "
                             "leadership over to %016" PRIx64 " first", id);
                (void) nc_raft_transfer_leader(nc_cs.raft, id);
                return NC_AGAIN;
            }

            nc_consensus_reply(origin, generation, req_id, NC_DECLINED, 0, 0);
            return NC_DECLINED;
        }

        rc = nc_raft_propose_conf_change(nc_cs.raft, NC_RAFT_CONF_REMOVE, id,
                                         &index);
    }

    if (rc == NC_RAFT_BUSY || rc == NC_RAFT_AGAIN) {
        return NC_AGAIN;                      /* another change is under way */
    }

    if (rc != NC_RAFT_OK || nc_cs.pending_n == NC_CONSENSUS_MAX_PENDING) {
        nc_consensus_reply(origin, generation, req_id,
                           rc == NC_RAFT_DECLINED ? NC_DECLINED : NC_BUSY,
                           0, 0);
        return NC_DECLINED;
    }

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0, "%s member %016" PRIx64
                 " (%.*s) at %" PRIu64,
                 op == NC_CONSENSUS_MEMBER_ADD ? "adding" : "removing", id,
                 (int) len, text, index);

    slot = (nc_cs.pending_head + nc_cs.pending_n) % NC_CONSENSUS_MAX_PENDING;
    pp = &nc_cs.pending[slot];
    pp->index = index;
    pp->term = nc_raft_term(nc_cs.raft);
    pp->req_id = req_id;
    pp->worker = origin;
    pp->generation = generation;
    nc_cs.pending_n++;

    return NC_OK;
}


/*
 * cluster.members only bootstraps: once this member has caught up, say so
 * if the live membership (in the log) names other addresses.  The log
 * wins; the operator learns the file is stale.
 */
static void
nc_consensus_check_members(void)
{
    size_t                 n;
    uint64_t               id;
    nc_uint_t              i, k, total, found;
    nc_peer_t             *p;
    nc_conf_addr_t        *a;
    const nc_raft_conf_t  *conf;

    if (nc_cs.members_checked || !nc_cs.ccf->present
        || nc_raft_commit(nc_cs.raft) == 0
        || nc_raft_applied(nc_cs.raft) < nc_raft_commit(nc_cs.raft))
    {
        return;
    }

    conf = nc_raft_conf(nc_cs.raft);

    /*
     * A member being brought up to date sees old configurations go by:
     * it judges once its own addition has applied.  One that is in none
     * and hears from no leader was removed: it judges what it has.
     */
    if (!nc_raft_conf_is_voter(conf, nc_cs.id)
        && !nc_raft_conf_is_learner(conf, nc_cs.id)
        && nc_raft_leader(nc_cs.raft) != NC_RAFT_NONE)
    {
        return;
    }
    total = conf->n_voters + conf->n_learners;
    a = nc_cs.ccf->members.elts;
    n = nc_cs.ccf->members.nelts;
    found = 0;

    for (k = 0; k < total; k++) {
        id = k < conf->n_voters ? conf->voters[k]
                                : conf->learners[k - conf->n_voters];

        if (id == nc_cs.id) {
            found++;
            continue;
        }

        p = nc_peer_find(id);

        if (p == NULL) {
            return;                     /* not every address known yet */
        }

        for (i = 0; i < n; i++) {
            if (a[i].text.len == p->addr_len
                && nc_memcmp(a[i].text.data, p->addr, p->addr_len) == 0)
            {
                found++;
                break;
            }
        }
    }

    nc_cs.members_checked = 1;

    if (found != total || n != total) {
        nc_log_error(NC_LOG_WARN, nc_cs.log, 0,
                     "cluster.members lists %zu members, the cluster has %u "
                     "(%u of them in the list): the membership in the log "
                     "is the one in force, the list only bootstraps a new "
                     "cluster (GET /v1/cluster/raft shows the members)",
                     n, (unsigned) total, (unsigned) found);
    }
}


/*
 * Snapshot files other than the one the log stands on and the one before
 * it (the fallback) are left over from before a restart, and temporary
 * files from a crash while writing one.
 */
static void
nc_consensus_clean_snapshots(void)
{
    DIR            *dir;
    char            path[PATH_MAX + 320];
    uint64_t        term, index;
    struct dirent  *de;

    (void) snprintf(path, sizeof(path), "%s/snap", nc_cs.dir);

    dir = opendir(path);
    if (dir == NULL) {
        return;
    }

    /* the newest one below the current is the fallback */
    while ((de = readdir(dir)) != NULL) {
        if (sscanf(de->d_name, "%16" SCNx64 "-%16" SCNx64 ".snap", &term,
                   &index) == 2
            && index < nc_cs.snap_index && index > nc_cs.prev_index)
        {
            nc_cs.prev_index = index;
            nc_cs.prev_term = term;
        }
    }

    rewinddir(dir);

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        if (strstr(de->d_name, ".tmp") == NULL) {
            if (sscanf(de->d_name, "%16" SCNx64 "-%16" SCNx64 ".snap", &term,
                       &index) != 2
                || index == nc_cs.snap_index || index == nc_cs.prev_index)
            {
                continue;
            }
        }

        (void) snprintf(path, sizeof(path), "%s/snap/%s", nc_cs.dir,
                        de->d_name);

        if (unlink(path) == 0) {
            nc_log_error(NC_LOG_INFO, nc_cs.log, 0,
                         "removed the stale snapshot file \"%s\"", path);
        }
    }

    (void) closedir(dir);
}


/*
 * A leader whose store has no token key makes one, with the admin user
 * "nacos": the password from auth.admin_password_file, or a random one
 * that goes to data/initial-admin-password once the entry applies.  The
 * command is declined if another leader's bootstrap applied first.  The
 * KDF takes about a tenth of a second, once in the life of a cluster.
 */
static void
nc_consensus_auth_bootstrap(void)
{
    uint64_t                   last;
    nc_raft_entry_t            e;
    const nc_store_version_t  *v;
    u_char                     cmd[NC_STORE_CMD_HEADER + 64
                                   + sizeof(nc_cs.auth_value)];

    if (nc_cs.auth_term == (uint64_t) -1) {
        return;                         /* done, here or by another leader */
    }

    v = nc_store_pin(nc_store);

    if (v != NULL
        && nc_store_get(nc_store, v, (u_char *) NC_STORE_AUTH_KEY,
                        sizeof(NC_STORE_AUTH_KEY) - 1) != NULL)
    {
        nc_store_unpin(nc_store);

        /* what this node prepared is not needed: forget it */
        OPENSSL_cleanse(nc_cs.auth_password, sizeof(nc_cs.auth_password));
        OPENSSL_cleanse(nc_cs.auth_value, sizeof(nc_cs.auth_value));
        nc_cs.auth_password_len = 0;
        nc_cs.auth_value_len = 0;
        nc_cs.auth_index = 0;
        nc_cs.auth_term = (uint64_t) -1;
        return;
    }

    nc_store_unpin(nc_store);

    if (v == NULL || nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER
        || nc_cs.transferring
        || (nc_cs.auth_index && nc_cs.auth_term == nc_raft_term(nc_cs.raft)))
    {
        return;
    }

    if (nc_cs.auth_value_len == 0 && nc_consensus_auth_prepare() != NC_OK) {
        return;
    }

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = cmd;
    e.len = (uint32_t) nc_store_auth_command(cmd, sizeof(cmd),
                                             NC_STORE_AUTH_BOOTSTRAP,
                                             NULL, NULL, NULL,
                                             nc_cs.auth_value,
                                             nc_cs.auth_value_len);

    if (e.len == 0 || nc_raft_propose(nc_cs.raft, &e, 1, &last) != NC_RAFT_OK)
    {
        OPENSSL_cleanse(cmd, sizeof(cmd));
        return;
    }

    OPENSSL_cleanse(cmd, sizeof(cmd));

    nc_cs.auth_index = last;
    nc_cs.auth_term = nc_raft_term(nc_cs.raft);
}


/*
 * The key, the password and its hash, made ahead: a fresh node does it
 * before its loop starts (before it is ready), so the KDF never holds up
 * proposals or heartbeats.
 */
static nc_int_t
nc_consensus_auth_prepare(void)
{
    size_t      len, hlen;
    ssize_t     n;
    nc_fd_t     fd;
    nc_conf_t  *conf;

    conf = nc_cs.cycle->conf;

    if (conf->auth.admin_password_file.len) {
        fd = open((char *) conf->auth.admin_password_file.data,
                  O_RDONLY | O_CLOEXEC);
        if (fd == NC_INVALID_FILE) {
            nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "open(\"%s\") failed",
                         conf->auth.admin_password_file.data);
            return NC_ERROR;
        }

        n = read(fd, nc_cs.auth_password, sizeof(nc_cs.auth_password) - 1);
        (void) close(fd);

        while (n > 0 && (nc_cs.auth_password[n - 1] == '\n'
                         || nc_cs.auth_password[n - 1] == '\r'))
        {
            n--;
        }

        if (n < 8) {
            nc_log_error(NC_LOG_CRIT, nc_cs.log, 0,
                         "\"%s\" holds no usable password",
                         conf->auth.admin_password_file.data);
            return NC_ERROR;
        }

        len = (size_t) n;
        nc_cs.auth_password_len = 0;      /* the operator has it */

    } else {
        len = nc_auth_random_password(nc_cs.auth_password,
                                      sizeof(nc_cs.auth_password) - 1);
        nc_cs.auth_password_len = len;
    }

    nc_auth_random(nc_cs.auth_value, NC_AUTH_KEY_LEN);

    hlen = nc_auth_password_hash(nc_cs.auth_password, len, 0,
                                 nc_cs.auth_value + NC_AUTH_KEY_LEN,
                                 sizeof(nc_cs.auth_value) - NC_AUTH_KEY_LEN);

    if (nc_cs.auth_password_len == 0) {
        OPENSSL_cleanse(nc_cs.auth_password, sizeof(nc_cs.auth_password));
    }

    if (hlen == 0) {
        return NC_ERROR;
    }

    nc_cs.auth_value_len = NC_AUTH_KEY_LEN + hlen;

    return NC_OK;
}


static void
nc_consensus_auth_applied(const nc_raft_entry_t *e,
    const nc_store_result_t *res)
{
    char      path[PATH_MAX];
    size_t    len;
    nc_fd_t   fd;

    len = nc_cs.auth_password_len;

    if (e->term != nc_cs.auth_term || res->status != NC_OK) {
        /* overwritten, or another leader's bootstrap applied first */
        goto done;
    }

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "auth: created the admin user \"" NC_STORE_AUTH_ADMIN_USER
                 "\" and the token signing key");

    if (len == 0) {
        goto done;                      /* from auth.admin_password_file */
    }

    (void) snprintf(path, sizeof(path), "%s/initial-admin-password",
                    nc_cs.cycle->conf->data_dir.data);

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "open(\"%s\") failed; "
                     "reset the password of \"" NC_STORE_AUTH_ADMIN_USER
                     "\" with auth.admin_password_file", path);
        goto done;
    }

    nc_cs.auth_password[len++] = '\n';

    if (write(fd, nc_cs.auth_password, len) != (ssize_t) len
        || fsync(fd) == -1)
    {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "write(\"%s\") failed",
                     path);
    }

    (void) close(fd);

    /* the path, never the password */
    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "auth: the password of \"" NC_STORE_AUTH_ADMIN_USER "\" is "
                 "in \"%s\" (mode 0600): log in and change it", path);

done:

    OPENSSL_cleanse(nc_cs.auth_password, sizeof(nc_cs.auth_password));
    OPENSSL_cleanse(nc_cs.auth_value, sizeof(nc_cs.auth_value));
    nc_cs.auth_password_len = 0;
    nc_cs.auth_value_len = 0;
    nc_cs.auth_index = 0;
    nc_cs.auth_term = (uint64_t) -1;    /* not again in any term: applied */
}


/* the leader makes caught-up learners voters, one change at a time */
static void
nc_consensus_promote(void)
{
    nc_uint_t              i;
    const nc_raft_conf_t  *conf;

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER || nc_cs.transferring) {
        return;
    }

    conf = nc_raft_conf(nc_cs.raft);

    for (i = 0; i < conf->n_learners; i++) {
        if (nc_raft_propose_conf_change(nc_cs.raft, NC_RAFT_CONF_PROMOTE,
                                        conf->learners[i], NULL)
            == NC_RAFT_OK)
        {
            nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                         "promoting learner %016" PRIx64 " to voter",
                         conf->learners[i]);
            return;
        }
    }
}


/*
 * After membership entries apply: dial the members we do not know yet
 * (their addresses are in the store), stop dialing removed ones.
 */
static void
nc_consensus_members_sync(const nc_raft_entry_t *e, size_t n)
{
    int                        op;
    size_t                     i;
    uint64_t                   node, id;
    nc_uint_t                  k;
    nc_peer_t                 *p;
    nc_raft_conf_t             c;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    char                       key[64];

    for (i = 0; i < n; i++) {
        if (e[i].type != NC_RAFT_ENTRY_CONF
            || nc_raft_conf_change_decode(e[i].data, e[i].len, &op, &node, &c)
               != NC_RAFT_OK)
        {
            continue;
        }

        if (op == NC_RAFT_CONF_REMOVE && node == nc_cs.id) {
            nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                         "this member was removed from the cluster");
        }

        if (op == NC_RAFT_CONF_REMOVE && (p = nc_peer_find(node)) != NULL) {
            nc_peer_remove(p);
        }

        v = nc_store_pin(nc_store);

        for (k = 0; v && k < c.n_voters + c.n_learners; k++) {
            id = k < c.n_voters ? c.voters[k] : c.learners[k - c.n_voters];

            if (id == nc_cs.id || nc_peer_find(id) != NULL) {
                continue;
            }

            (void) snprintf(key, sizeof(key), "cluster/member/%016" PRIx64,
                            id);

            rec = nc_store_get(nc_store, v, (u_char *) key, strlen(key));

            if (rec && rec->value_len < NC_CONF_ADDR_STRLEN) {
                (void) nc_peer_add(nc_store_record_value(rec),
                                   rec->value_len);
            }
        }

        nc_store_unpin(nc_store);
    }
}


static void
nc_consensus_on_status(nc_channel_t *ch, u_char *body, size_t len)
{
    size_t   n;
    u_char  *buf, head[16];

    if (len < 9) {
        nc_log_error(NC_LOG_ALERT, nc_cs.log, 0, "short status frame");
        return;
    }

    if (body[8] & NC_CONSENSUS_STATUS_CLUSTER) {
        nc_consensus_gather(ch, body, len);
        return;
    }

    buf = malloc(NC_CONSENSUS_MAX_TEXT);
    if (buf == NULL) {
        /* an answer still: the worker's request must not hang */
        nc_memcpy(head, body, 8);
        nc_le64_put(head + 8, (uint64_t) NC_ERROR);
        (void) nc_channel_send(ch, NC_CONSENSUS_TEXT, head, sizeof(head),
                               NULL, 0);
        return;
    }

    nc_memcpy(buf, body, 8);
    nc_le64_put(buf + 8, NC_OK);

    n = nc_consensus_status_own(body[8], body + 9, len - 9, buf + 16,
                                NC_CONSENSUS_MAX_TEXT - 16);

    (void) nc_channel_send(ch, NC_CONSENSUS_TEXT, buf, 16 + n, NULL, 0);

    free(buf);
}


/* what this node alone knows, as text */
static size_t
nc_consensus_status_own(nc_uint_t format, const u_char *arg, size_t len,
    u_char *buf, size_t size)
{
    switch (format) {

    case NC_CONSENSUS_STATUS_SUBSCRIBERS:
        /* kept here, where pushes leave from */
        return nc_naming_push_subscribers(arg, len, buf, size);

    case NC_CONSENSUS_STATUS_LISTENERS:
        /* the workers' shared table, mapped before this process forked */
        return nc_config_listeners_text(arg, len, buf, size);

    default:
        return nc_consensus_status_text(format, buf, size);
    }
}


/* --- a question to every member ---------------------------------------- */


static nc_consensus_gather_t  nc_consensus_gathers[NC_CONSENSUS_GATHERS];
static uint64_t               nc_consensus_gather_seq;


/*
 * This node answers at once; each member this node is connected to is
 * asked, and the worker has the answers together when the last came or
 * NC_CONSENSUS_GATHER_WAIT passed (a member down is one answer fewer,
 * never a hang).
 */
static void
nc_consensus_gather(nc_channel_t *ch, u_char *body, size_t len)
{
    u_char                  head[9];
    nc_uint_t               i;
    nc_peer_t              *p;
    nc_consensus_worker_t  *w;
    nc_consensus_gather_t  *g;

    w = ch->data;
    g = NULL;

    for (i = 0; i < NC_CONSENSUS_GATHERS; i++) {
        if (nc_consensus_gathers[i].id == 0) {
            g = &nc_consensus_gathers[i];
            break;
        }
    }

    if (g == NULL || (g->text = malloc(NC_CONSENSUS_MAX_TEXT)) == NULL) {
        /* too many at once: this node's answer alone */
        body[8] &= ~NC_CONSENSUS_STATUS_CLUSTER;
        nc_consensus_on_status(ch, body, len);
        return;
    }

    g->id = ++nc_consensus_gather_seq;
    g->worker = (uint32_t) (w - nc_cs.workers);
    g->generation = w->generation;
    g->waiting = 0;

    nc_memcpy(g->text, body, 8);
    nc_le64_put(g->text + 8, NC_OK);

    g->len = 16 + nc_consensus_status_own(body[8]
                                          & ~NC_CONSENSUS_STATUS_CLUSTER,
                                          body + 9, len - 9, g->text + 16,
                                          NC_CONSENSUS_MAX_TEXT - 16);

    nc_le64_put(head, g->id);
    head[8] = body[8] & ~NC_CONSENSUS_STATUS_CLUSTER;

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        p = nc_peer_at(i);

        if (p && nc_peer_send(p, NC_PEER_STATUS, head, sizeof(head),
                              body + 9, len - 9) == NC_OK)
        {
            g->asked[g->waiting++] = p;
        }
    }

    if (g->waiting == 0) {
        nc_consensus_gather_end(g);
        return;
    }

    g->timer.handler = nc_consensus_gather_timeout;
    g->timer.data = g;
    g->timer.timer_index = NC_INVALID_INDEX;
    nc_add_timer(&g->timer, NC_CONSENSUS_GATHER_WAIT);
}


/* a member's answer: its lines, as many as still fit */
static void
nc_consensus_gather_text(nc_peer_t *p, u_char *body, size_t len)
{
    u_char                 *last;
    size_t                  n;
    nc_uint_t               i, k;
    nc_consensus_gather_t  *g;

    if (len < 8) {
        return;
    }

    for (i = 0; i < NC_CONSENSUS_GATHERS; i++) {
        g = &nc_consensus_gathers[i];

        if (g->id == 0 || g->id != nc_le64_get(body)) {
            continue;
        }

        for (k = 0; k < g->waiting; k++) {
            if (g->asked[k] == p) {
                break;
            }
        }

        if (k == g->waiting) {
            return;
        }

        g->asked[k] = g->asked[--g->waiting];

        n = nc_min(len - 8, NC_CONSENSUS_MAX_TEXT - g->len);

        if (n < len - 8) {
            last = memrchr(body + 8, '\n', n);
            n = last ? (size_t) (last + 1 - (body + 8)) : 0;
        }

        nc_memcpy(g->text + g->len, body + 8, n);
        g->len += n;

        if (g->waiting == 0) {
            nc_consensus_gather_end(g);
        }

        return;
    }
}


static void
nc_consensus_gather_timeout(nc_event_t *ev)
{
    nc_consensus_gather_t  *g;

    g = ev->data;

    nc_log_error(NC_LOG_INFO, nc_cs.log, 0, "consensus: %u member(s) did "
                 "not answer a status question in time",
                 (unsigned) g->waiting);

    nc_consensus_gather_end(g);
}


static void
nc_consensus_gather_end(nc_consensus_gather_t *g)
{
    nc_consensus_worker_t  *w;

    if (g->timer.timer_set) {
        nc_del_timer(&g->timer);
    }

    w = &nc_cs.workers[g->worker];

    if (w->channel && w->generation == g->generation) {
        (void) nc_channel_send(w->channel, NC_CONSENSUS_TEXT, g->text,
                               g->len, NULL, 0);
    }

    free(g->text);
    g->text = NULL;
    g->id = 0;
    g->waiting = 0;
}


/* another member's question: this node's own answer */
static void
nc_consensus_peer_status(nc_peer_link_t *l, u_char *body, size_t len)
{
    u_char  *buf;
    size_t   n;

    if (len < 9 || (body[8] & NC_CONSENSUS_STATUS_CLUSTER)) {
        return;
    }

    buf = malloc(NC_CONSENSUS_MAX_TEXT);
    if (buf == NULL) {
        return;
    }

    nc_memcpy(buf, body, 8);

    n = nc_consensus_status_own(body[8], body + 9, len - 9, buf + 8,
                                NC_CONSENSUS_MAX_TEXT - 8);

    (void) nc_peer_link_send(nc_peer_link_slot(l), l->generation,
                             NC_PEER_TEXT, buf, 8 + n);

    free(buf);
}


static void
nc_consensus_reply(uint32_t worker, uint64_t generation, uint64_t req_id,
    nc_int_t status, uint64_t index, uint64_t revision)
{
    u_char                  buf[NC_CONSENSUS_RESULT_SIZE];
    nc_consensus_worker_t  *w;

    nc_le64_put(buf, req_id);
    nc_le64_put(buf + 8, (uint64_t) status);
    nc_le64_put(buf + 16, index);
    nc_le64_put(buf + 24, revision);

    if (worker >= NC_CONSENSUS_LINK) {
        /* a member forwarded it: the answer goes back on its connection */
        (void) nc_peer_link_send(worker - NC_CONSENSUS_LINK, generation,
                                 NC_PEER_RESULT, buf, sizeof(buf));
        return;
    }

    w = &nc_cs.workers[worker];

    if (w->channel == NULL || w->generation != generation) {
        return;
    }

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
    nc_consensus_promote();

    if (nc_raft_leader(nc_cs.raft) != NC_RAFT_NONE) {
        nc_cs.leader_seen = nc_current_msec;

    } else if (nc_cs.pending_n
               && nc_current_msec - nc_cs.leader_seen
                  > nc_cs.ccf->election_timeout)
    {
        nc_consensus_fail_pending();
    }

    nc_consensus_check_members();
    nc_consensus_snapshot_done();
    nc_consensus_ops_expire();
    nc_consensus_ops_flush();
    nc_consensus_leases();

    nc_add_timer(ev, nc_cs.ccf->heartbeat_interval);
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
    size_t                i;
    uint64_t              applied, t0;
    nc_flag_t             snapshot;
    nc_raft_ready_t       rd;
    nc_consensus_op_t    *op;
    struct timespec       ts;

    applied = 0;
    snapshot = 0;

again:

    while (nc_raft_has_ready(nc_cs.raft)) {

        nc_raft_ready(nc_cs.raft, &rd);

        /* a leader's appends go out while it persists its own copy */
        nc_consensus_send(rd.msgs, rd.n_msgs);

        if (rd.snapshot) {
            nc_consensus_install(rd.snapshot);
        }

        if (rd.n_entries || rd.hs_changed) {
            (void) clock_gettime(CLOCK_MONOTONIC, &ts);
            t0 = (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;

            /* aborts on an fsync error: never go on with unknown state */
            if (nc_raft_log_append(nc_cs.wal, rd.hs_changed ? &rd.hs : NULL,
                                   rd.entries, rd.n_entries)
                != NC_OK)
            {
                nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                             "the Raft log refused a write; restarting");
                exit(1);
            }

            (void) clock_gettime(CLOCK_MONOTONIC, &ts);
            nc_cs.fsync_us[nc_cs.fsyncs++ % NC_CONSENSUS_FSYNC_SAMPLES] =
                (uint32_t) ((uint64_t) ts.tv_sec * 1000000
                            + ts.tv_nsec / 1000 - t0);
        }

        /* votes and acknowledgements only once what they promise is durable */
        nc_consensus_send(rd.msgs_after, rd.n_msgs_after);

        if (rd.n_committed) {
            nc_consensus_apply(rd.committed, rd.n_committed);
            applied = rd.committed[rd.n_committed - 1].index;
        }

        for (i = 0; i < rd.n_reads; i++) {
            op = nc_consensus_op_find(rd.reads[i].ctx);

            if (op && op->read) {
                nc_consensus_op_result(op, NC_OK, rd.reads[i].index, 0);
            }
        }

        snapshot |= rd.want_snapshot;

        nc_raft_advance(nc_cs.raft);
        nc_raft_log_release(nc_cs.wal);

        for (i = 0; i < nc_cs.n_unreachable; i++) {
            nc_raft_report_unreachable(nc_cs.raft, nc_cs.unreachable[i]);
        }

        nc_cs.n_unreachable = 0;
    }

    if (applied) {
        nc_consensus_publish(applied);
        applied = 0;

        /* the services that batch changed, to their subscribers */
        nc_naming_push_run(nc_store);

        nc_consensus_auth_bootstrap();

        /* caught up: a sole voter campaigns, and its no-op goes out now */
        nc_consensus_lead_alone();
        nc_consensus_ops_flush();
        goto again;
    }

    if (snapshot) {
        nc_consensus_snapshot();
    }
}


/*
 * This node stopped leading and no other leader has shown up for an
 * election timeout (it lost its quorum): what it proposed may yet commit
 * or be overwritten, nobody can tell.  The clients hear now that the
 * outcome is unknown rather than wait for it.  With a new leader, the
 * entries that apply answer their proposals as usual.
 */
static void
nc_consensus_fail_pending(void)
{
    nc_consensus_pending_t  *p;

    while (nc_cs.pending_n) {
        p = &nc_cs.pending[nc_cs.pending_head];

        nc_consensus_reply(p->worker, p->generation, p->req_id, NC_BUSY, 0,
                           0);

        nc_cs.pending_head = (nc_cs.pending_head + 1)
                             % NC_CONSENSUS_MAX_PENDING;
        nc_cs.pending_n--;
    }
}


static void
nc_consensus_send(nc_raft_msg_t *msgs, size_t n)
{
    size_t      i, k, size;
    u_char     *buf;
    nc_peer_t  *p;

    for (i = 0; i < n; i++) {
        p = nc_peer_find(msgs[i].to);

        if (p != NULL) {
            size = nc_raft_msg_size(&msgs[i]);

            if (size > nc_cs.msgbuf_size) {
                buf = realloc(nc_cs.msgbuf, size);
                if (buf == NULL) {
                    p = NULL;
                    goto unreachable;
                }

                nc_cs.msgbuf = buf;
                nc_cs.msgbuf_size = size;
            }

            size = nc_raft_msg_encode(&msgs[i], nc_cs.msgbuf, size);

            if (size
                && nc_peer_send(p, NC_PEER_RAFT, nc_cs.msgbuf, size, NULL, 0)
                   == NC_OK)
            {
                continue;
            }
        }

    unreachable:

        /* reported after advance; probing replaces a pipeline of losses */
        for (k = 0; k < nc_cs.n_unreachable; k++) {
            if (nc_cs.unreachable[k] == msgs[i].to) {
                break;
            }
        }

        if (k == nc_cs.n_unreachable && k < NC_PEER_MAX_PEERS) {
            nc_cs.unreachable[nc_cs.n_unreachable++] = msgs[i].to;
        }
    }

    /* the big buffer a snapshot chunk needed is not kept */
    if (nc_cs.msgbuf_size > 4 * 1024 * 1024) {
        free(nc_cs.msgbuf);
        nc_cs.msgbuf = NULL;
        nc_cs.msgbuf_size = 0;
    }
}


/*
 * Snapshot the published version and compact the log behind it.  The
 * image is written by a thread (about half a second per million small
 * items) while the loop goes on applying, replicating and answering: the
 * version stays pinned (nc_store_pin) until the thread is done, and the
 * loop records the snapshot in the log when the tick finds it finished.
 */
static void *
nc_consensus_snapshot_thread(void *arg)
{
    nc_int_t  rc;

    /* background work: the loop's replies and heartbeats come first */
    (void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 19);

    rc = nc_store_snapshot_write(nc_store, nc_cs.snap_version,
                                 nc_cs.snap_path, NULL, 0, NULL);

    atomic_store(&nc_cs.snap_result, rc == NC_OK ? 1 : -1);

    return NULL;
}


static void
nc_consensus_snapshot(void)
{
    int                        err;
    char                       path[PATH_MAX + 64];
    const nc_store_version_t  *v;

    if (nc_cs.snap_running) {
        return;
    }

    v = nc_store_pin(nc_store);

    if (v == NULL || v->applied_index <= nc_cs.snap_index) {
        nc_store_unpin(nc_store);
        return;
    }

    nc_memzero(&nc_cs.snap_next, sizeof(nc_raft_log_snap_t));
    nc_cs.snap_next.index = v->applied_index;
    nc_cs.snap_next.term = v->applied_term;

    /* conf changes take effect as they apply: this is the one at index */
    nc_cs.snap_next.conf = *nc_raft_conf(nc_cs.raft);

    (void) snprintf(path, sizeof(path), "%s/snap", nc_cs.dir);

    if (mkdir(path, 0700) == -1 && errno != EEXIST) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "mkdir(\"%s\") failed",
                     path);
        nc_store_unpin(nc_store);
        return;
    }

    nc_consensus_snap_path(nc_cs.snap_path, sizeof(nc_cs.snap_path),
                           nc_cs.snap_next.term, nc_cs.snap_next.index);

    nc_cs.snap_version = v;
    atomic_store(&nc_cs.snap_result, 0);

    err = pthread_create(&nc_cs.snap_thread, NULL,
                         nc_consensus_snapshot_thread, NULL);

    if (err != 0) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, err, "pthread_create() failed");
        nc_store_unpin(nc_store);
        return;
    }

    nc_cs.snap_running = 1;
}


/* the tick: a finished snapshot goes into the log */
static void
nc_consensus_snapshot_done(void)
{
    int                  rc;
    char                 path[PATH_MAX + 64];
    nc_raft_log_snap_t  *snap;

    if (!nc_cs.snap_running || (rc = atomic_load(&nc_cs.snap_result)) == 0) {
        return;
    }

    (void) pthread_join(nc_cs.snap_thread, NULL);
    nc_store_unpin(nc_store);
    nc_cs.snap_running = 0;

    snap = &nc_cs.snap_next;

    if (rc < 0) {
        /* logged by the store; the log keeps everything: try again later */
        return;
    }

    if (snap->index <= nc_cs.snap_index) {
        /* the leader's snapshot was installed meanwhile */
        (void) unlink(nc_cs.snap_path);
        return;
    }

    if (nc_raft_log_snapshot_taken(nc_cs.wal, snap) != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the Raft log refused a snapshot marker; restarting");
        exit(1);
    }

    nc_raft_compacted(nc_cs.raft, snap->index);

    nc_consensus_serve_snapshot(nc_cs.snap_path, snap);

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
    nc_cs.snap_index = snap->index;
    nc_cs.snap_term = snap->term;

    nc_log_error(NC_LOG_INFO, nc_cs.log, 0,
                 "snapshot at %" PRIu64 " (term %" PRIu64 ") written",
                 snap->index, snap->term);
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

    nc_consensus_members_sync(e, n);

    if (nc_cs.auth_index) {
        for (i = 0; i < n; i++) {
            if (e[i].index == nc_cs.auth_index) {
                nc_consensus_auth_applied(&e[i], &nc_cs.results[i]);
            }
        }
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

    /* this node has the entries: forwarded writes and reads may answer */
    nc_consensus_ops_applied(applied);

    nc_le64_put(buf, applied);

    for (i = 0; i < NC_CONSENSUS_MAX_WORKERS; i++) {
        if (nc_cs.workers[i].channel) {
            (void) nc_channel_send(nc_cs.workers[i].channel,
                                   NC_CONSENSUS_APPLIED, buf, sizeof(buf),
                                   NULL, 0);
        }
    }
}


/* the image the core streams to members that are behind the log */
static void
nc_consensus_serve_snapshot(const char *path, const nc_raft_log_snap_t *snap)
{
    void                *p;
    nc_fd_t              fd;
    struct stat          st;
    nc_raft_snapshot_t   image;

    nc_raft_log_set_snapshot(nc_cs.wal, NULL);

    if (nc_cs.image) {
        (void) munmap(nc_cs.image, nc_cs.image_len);
        nc_cs.image = NULL;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == NC_INVALID_FILE || fstat(fd, &st) == -1) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno,
                     "snapshot \"%s\" cannot be served", path);
        if (fd != NC_INVALID_FILE) {
            (void) close(fd);
        }
        return;
    }

    p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    (void) close(fd);

    if (p == MAP_FAILED) {
        nc_log_error(NC_LOG_CRIT, nc_cs.log, errno, "mmap(\"%s\") failed",
                     path);
        return;
    }

    nc_cs.image = p;
    nc_cs.image_len = (size_t) st.st_size;

    nc_memzero(&image, sizeof(nc_raft_snapshot_t));
    image.index = snap->index;
    image.term = snap->term;
    image.conf = snap->conf;
    image.data = nc_cs.image;
    image.len = nc_cs.image_len;

    nc_raft_log_set_snapshot(nc_cs.wal, &image);
}


/*
 * A member far behind receives the leader's snapshot: it replaces the log
 * and the store.  The image is made durable first (temporary file, fsync,
 * rename, fsync of the directory), then loaded, then the log is reset to
 * stand on it: a crash at any point leaves either the old state or the new.
 */
static void
nc_consensus_install(const nc_raft_snapshot_t *snap)
{
    char                 path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    ssize_t              n;
    size_t               off;
    nc_fd_t              fd;
    nc_raft_log_snap_t   marker;

    (void) snprintf(path, sizeof(path), "%s/snap", nc_cs.dir);

    if (mkdir(path, 0700) == -1 && errno != EEXIST) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, errno,
                     "mkdir(\"%s\") failed", path);
        exit(1);
    }

    nc_consensus_snap_path(path, sizeof(path), snap->term, snap->index);
    (void) snprintf(tmp, sizeof(tmp), "%s.tmp", path);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, errno, "open(\"%s\") failed",
                     tmp);
        exit(1);
    }

    for (off = 0; off < snap->len; off += (size_t) n) {
        n = write(fd, snap->data + off, snap->len - off);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            nc_log_error(NC_LOG_EMERG, nc_cs.log, errno,
                         "write(\"%s\") failed", tmp);
            exit(1);
        }
    }

    /* an fsync error leaves unknown state: never go on with it */
    if (fsync(fd) == -1) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, errno, "fsync(\"%s\") failed",
                     tmp);
        abort();
    }

    (void) close(fd);

    if (rename(tmp, path) == -1) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, errno,
                     "rename(\"%s\") failed", tmp);
        exit(1);
    }

    (void) snprintf(tmp, sizeof(tmp), "%s/snap", nc_cs.dir);

    fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == NC_INVALID_FILE || fsync(fd) == -1) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, errno, "fsync(\"%s\") failed",
                     tmp);
        abort();
    }

    (void) close(fd);

    if (nc_store_snapshot_replace(nc_store, path, NULL) != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the snapshot at %" PRIu64 " from the leader cannot be "
                     "loaded; restarting", snap->index);
        exit(1);
    }

    nc_memzero(&marker, sizeof(nc_raft_log_snap_t));
    marker.index = snap->index;
    marker.term = snap->term;
    marker.conf = snap->conf;

    if (nc_raft_log_reset(nc_cs.wal, &marker) != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the Raft log refused a snapshot; restarting");
        exit(1);
    }

    if (nc_cs.prev_index) {
        nc_consensus_snap_path(tmp, sizeof(tmp), nc_cs.prev_term,
                               nc_cs.prev_index);
        (void) unlink(tmp);
    }

    nc_cs.prev_index = nc_cs.snap_index;
    nc_cs.prev_term = nc_cs.snap_term;
    nc_cs.snap_index = snap->index;
    nc_cs.snap_term = snap->term;

    nc_consensus_serve_snapshot(path, &marker);
    nc_consensus_publish(snap->index);

    /* what changed is unknown: every subscribed service is pushed */
    nc_naming_push_all();
    nc_naming_push_run(nc_store);

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "installed the leader's snapshot at %" PRIu64 " (term %"
                 PRIu64 ", %zu bytes)", snap->index, snap->term, snap->len);
}


static nc_int_t
nc_consensus_create_raft(void)
{
    nc_raft_log_hard_state(nc_cs.wal, &nc_cs.rcf.hs);

    if (nc_raft_create(&nc_cs.rcf, &nc_cs.raft) != NC_RAFT_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0, "nc_raft_create() failed");
        return NC_ERROR;
    }

    return NC_OK;
}


/* the first entry of a log: the configuration it starts with */
static void
nc_consensus_bootstrap(const nc_raft_conf_t *conf)
{
    size_t                 n;
    nc_raft_entry_t        e;
    nc_raft_hard_state_t   hs;
    u_char                 buf[512];

    n = nc_raft_conf_change_encode(buf, sizeof(buf), NC_RAFT_CONF_PROMOTE,
                                   conf->voters[0], conf);

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = 1;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_CONF;
    e.len = (uint32_t) n;
    e.data = buf;

    /* every member writes the same entry: it is committed by construction */
    hs.term = 1;
    hs.vote = 0;
    hs.commit = 1;

    if (n == 0 || nc_raft_log_append(nc_cs.wal, &hs, &e, 1) != NC_OK) {
        nc_log_error(NC_LOG_EMERG, nc_cs.log, 0,
                     "the Raft log refused the bootstrap entry");
        exit(2);
    }
}


static void
nc_consensus_bootstrap_alone(void)
{
    nc_raft_conf_t  conf;

    nc_memzero(&conf, sizeof(nc_raft_conf_t));
    conf.n_voters = 1;
    conf.voters[0] = nc_cs.id;

    nc_consensus_bootstrap(&conf);
}


static void
nc_consensus_try_bootstrap(void)
{
    uint64_t               t;
    nc_uint_t              i, k, n;
    nc_peer_t             *p;
    nc_conf_addr_t        *a;
    nc_raft_conf_t         conf;
    nc_raft_hard_state_t   hs;

    if (!nc_cs.bootstrapping) {
        return;
    }

    nc_raft_log_hard_state(nc_cs.wal, &hs);

    if (nc_raft_last_index(nc_cs.raft) != 0 || hs.term != 0) {
        /* a leader or a candidate reached us first: it is a cluster */
        nc_cs.bootstrapping = 0;
        return;
    }

    nc_memzero(&conf, sizeof(nc_raft_conf_t));
    conf.voters[conf.n_voters++] = nc_cs.id;

    a = nc_cs.ccf->members.elts;
    n = nc_cs.ccf->members.nelts;

    for (i = 0; i < n; i++) {
        if (a[i].text.len == nc_cs.ccf->self.text.len
            && nc_memcmp(a[i].text.data, nc_cs.ccf->self.text.data,
                         a[i].text.len) == 0)
        {
            continue;
        }

        p = nc_peer_find_addr(a[i].text.data, a[i].text.len);

        if (p == NULL || !p->seen) {
            return;
        }

        if (!(p->hello.flags & NC_PEER_HELLO_FRESH)) {
            nc_cs.bootstrapping = 0;
            nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                         "member %.*s has a log: this node joins its "
                         "cluster and waits for the leader to bring it up "
                         "to date (a node new to the cluster must be added "
                         "as a member first)",
                         (int) p->addr_len, p->addr);
            return;
        }

        if (p->hello.members_hash != nc_cs.members_hash) {
            nc_log_error(NC_LOG_ERR, nc_cs.log, 0,
                         "member %.*s has another cluster.members list: "
                         "every member must start with the same list",
                         (int) p->addr_len, p->addr);
            return;
        }

        conf.voters[conf.n_voters++] = p->hello.id;
    }

    /* the same order everywhere: the same entry on every member */
    for (i = 1; i < conf.n_voters; i++) {
        for (k = i; k > 0 && conf.voters[k - 1] > conf.voters[k]; k--) {
            t = conf.voters[k];
            conf.voters[k] = conf.voters[k - 1];
            conf.voters[k - 1] = t;
        }
    }

    nc_consensus_bootstrap(&conf);

    nc_raft_destroy(nc_cs.raft);
    nc_cs.raft = NULL;

    if (nc_consensus_create_raft() != NC_OK) {
        exit(2);
    }

    nc_cs.bootstrapping = 0;

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "bootstrapped a cluster of %u members", conf.n_voters);
}


static void
nc_consensus_hello(nc_peer_hello_t *h)
{
    nc_raft_hard_state_t  hs;

    nc_raft_log_hard_state(nc_cs.wal, &hs);

    h->id = nc_cs.id;
    h->members_hash = nc_cs.members_hash;
    h->last_index = nc_raft_last_index(nc_cs.raft);
    h->term = hs.term;

    if (h->last_index == 0 && hs.term == 0 && nc_cs.snap_index == 0) {
        h->flags |= NC_PEER_HELLO_FRESH;
    }
}


/* frames on the connections we dialed: answers */
static void
nc_consensus_peer_frame(nc_peer_t *p, nc_uint_t type, u_char *body,
    size_t len)
{
    nc_consensus_op_t  *op;

    switch (type) {

    case NC_PEER_HELLO:
        nc_consensus_try_bootstrap();
        nc_consensus_ops_flush();
        break;

    case NC_PEER_RESULT:
        if (len < NC_CONSENSUS_RESULT_SIZE) {
            break;
        }

        op = nc_consensus_op_find(nc_le64_get(body));

        if (op && op->peer == p) {
            nc_consensus_op_result(op, (nc_int_t) nc_le64_get(body + 8),
                                   nc_le64_get(body + 16),
                                   nc_le64_get(body + 24));
        }

        break;

    case NC_PEER_TEXT:
        nc_consensus_gather_text(p, body, len);
        break;

    default:
        nc_log_error(NC_LOG_ERR, nc_cs.log, 0,
                     "peer %.*s: unexpected frame type %u",
                     (int) p->addr_len, p->addr, (unsigned) type);
        break;
    }
}


/* frames on the connections members made to us */
static void
nc_consensus_link_frame(nc_peer_link_t *l, nc_uint_t type, u_char *body,
    size_t len)
{
    nc_uint_t       slot;
    nc_raft_msg_t   m;

    slot = nc_peer_link_slot(l);

    switch (type) {

    case NC_PEER_RAFT:
        if (nc_raft_msg_decode(body, len, &m, nc_cs.rx_ents,
                               NC_RAFT_MAX_MSG_ENTRIES)
            != NC_RAFT_OK)
        {
            nc_log_error(NC_LOG_ERR, nc_cs.log, 0,
                         "peer %.*s: undecodable Raft message dropped",
                         (int) l->addr_len, l->addr);
            break;
        }

        /* a member speaks for itself only */
        if (m.from != l->id || m.to != nc_cs.id) {
            nc_log_error(NC_LOG_ERR, nc_cs.log, 0,
                         "peer %.*s: Raft message from %016" PRIx64 " to %016"
                         PRIx64 " dropped", (int) l->addr_len, l->addr,
                         m.from, m.to);
            break;
        }

        (void) nc_raft_step(nc_cs.raft, &m);
        break;

    case NC_PEER_FORWARD:
        if (len < NC_CONSENSUS_PROPOSE_SIZE) {
            break;
        }

        if (nc_consensus_propose_local(NC_CONSENSUS_LINK + (uint32_t) slot,
                                       l->generation, nc_le64_get(body),
                                       nc_le64_get(body + 8),
                                       nc_le64_get(body + 16),
                                       body + NC_CONSENSUS_PROPOSE_SIZE,
                                       len - NC_CONSENSUS_PROPOSE_SIZE)
            == NC_AGAIN)
        {
            /* not proposed: the sender may try the next leader */
            nc_consensus_reply(NC_CONSENSUS_LINK + (uint32_t) slot,
                               l->generation, nc_le64_get(body), NC_AGAIN,
                               0, 0);
        }

        break;

    case NC_PEER_BEAT:
        /* a follower's workers' beats; the lease module ignores them
         * unless this node leads */
        nc_naming_lease_beat(body, len, nc_current_msec);
        break;

    case NC_PEER_STATUS:
        nc_consensus_peer_status(l, body, len);
        break;

    case NC_PEER_MEMBER:
        if (len < 10 || len > 9 + 128) {
            break;
        }

        if (nc_consensus_member_local(NC_CONSENSUS_LINK + (uint32_t) slot,
                                      l->generation, nc_le64_get(body),
                                      body[8], body + 9, len - 9)
            == NC_AGAIN)
        {
            nc_consensus_reply(NC_CONSENSUS_LINK + (uint32_t) slot,
                               l->generation, nc_le64_get(body), NC_AGAIN,
                               0, 0);
        }

        break;

    default:
        nc_log_error(NC_LOG_ERR, nc_cs.log, 0,
                     "peer %.*s: unexpected frame type %u",
                     (int) l->addr_len, l->addr, (unsigned) type);
        break;
    }
}


/* what we asked of it will not be answered: the outcome is unknown */
static void
nc_consensus_peer_down(nc_peer_t *p)
{
    nc_uint_t               i, k;
    nc_queue_t             *q, *next;
    nc_consensus_op_t      *op;
    nc_consensus_gather_t  *g;

    /* a question it will not answer: one answer fewer */
    for (i = 0; i < NC_CONSENSUS_GATHERS; i++) {
        g = &nc_consensus_gathers[i];

        for (k = 0; g->id && k < g->waiting; k++) {
            if (g->asked[k] == p) {
                g->asked[k] = g->asked[--g->waiting];

                if (g->waiting == 0) {
                    nc_consensus_gather_end(g);
                }

                break;
            }
        }
    }

    for (q = nc_queue_head(&nc_cs.sent);
         q != nc_queue_sentinel(&nc_cs.sent);
         q = next)
    {
        next = nc_queue_next(q);
        op = nc_queue_data(q, nc_consensus_op_t, queue);

        if (op->peer == p) {
            nc_consensus_op_answer(op, NC_BUSY, 0, 0);
        }
    }
}


/* --- ops ---------------------------------------------------------------- */


static nc_consensus_op_t *
nc_consensus_op_alloc(uint32_t origin, uint64_t generation, uint64_t req_id)
{
    uint32_t            slot;
    nc_consensus_op_t  *op;

    if (nc_cs.n_free == 0) {
        return NULL;
    }

    slot = nc_cs.free_ops[--nc_cs.n_free];
    op = &nc_cs.ops[slot];

    nc_memzero(op, sizeof(nc_consensus_op_t));
    op->id = (++nc_cs.op_seq << 16) | slot;
    op->origin = origin;
    op->generation = generation;
    op->req_id = req_id;
    op->deadline = nc_current_msec + NC_CONSENSUS_OP_TIMEOUT;

    return op;
}


/* an op is on one queue at a time, or on none while it moves */
static void
nc_consensus_op_unlink(nc_consensus_op_t *op)
{
    if (op->queue.next) {
        nc_queue_remove(&op->queue);
    }
}


static nc_consensus_op_t *
nc_consensus_op_find(uint64_t id)
{
    nc_consensus_op_t  *op;

    op = &nc_cs.ops[id & (NC_CONSENSUS_MAX_OPS - 1)];

    return (op->id == id && id != 0) ? op : NULL;
}


static void
nc_consensus_op_answer(nc_consensus_op_t *op, nc_int_t status,
    uint64_t index, uint64_t revision)
{
    nc_consensus_reply(op->origin, op->generation, op->req_id, status, index,
                       revision);
    nc_consensus_op_free(op);
}


static void
nc_consensus_op_free(nc_consensus_op_t *op)
{
    nc_consensus_op_unlink(op);

    if (op->cmd) {
        nc_cs.held_bytes -= op->len;
        free(op->cmd);
    }

    op->id = 0;
    nc_cs.free_ops[nc_cs.n_free++] = (uint32_t) (op - nc_cs.ops);
}


/* the leader answered (or the read index is known): wait for our apply */
static void
nc_consensus_op_result(nc_consensus_op_t *op, nc_int_t status,
    uint64_t index, uint64_t revision)
{
    if (status == NC_AGAIN) {
        /* the member was not the leader: nothing was proposed, try again */
        op->peer = NULL;
        nc_consensus_op_unlink(op);
        nc_queue_insert_tail(&nc_cs.held, &op->queue);
        return;
    }

    if (index == 0 || (status != NC_OK && status != NC_DECLINED)) {
        nc_consensus_op_answer(op, status, index, revision);
        return;
    }

    op->status = status;
    op->index = index;
    op->revision = revision;

    if (nc_raft_applied(nc_cs.raft) >= index) {
        nc_consensus_op_answer(op, status, index, revision);
        return;
    }

    nc_consensus_op_unlink(op);
    nc_queue_insert_tail(&nc_cs.applying, &op->queue);
}


/* send an op where it can be served now, or hold it until it can */
static void
nc_consensus_op_go(nc_consensus_op_t *op)
{
    int         rc;
    u_char      head[NC_CONSENSUS_PROPOSE_SIZE];
    uint64_t    lead;
    nc_int_t    st;
    nc_peer_t  *p;

    nc_consensus_op_unlink(op);
    op->asked = nc_current_msec;

    if (op->read) {
        rc = nc_raft_read_index(nc_cs.raft, op->id);

        if (rc == NC_RAFT_OK) {
            nc_queue_insert_tail(&nc_cs.sent, &op->queue);
            return;
        }

        nc_queue_insert_tail(&nc_cs.held, &op->queue);
        return;
    }

    lead = nc_raft_leader(nc_cs.raft);

    if (lead == nc_cs.id) {
        if (op->member) {
            st = nc_consensus_member_local(op->origin, op->generation,
                                           op->req_id, op->member, op->cmd,
                                           op->len);
        } else {
            st = nc_consensus_propose_local(op->origin, op->generation,
                                            op->req_id, op->client_id,
                                            op->seq, op->cmd, op->len);
        }

        if (st != NC_AGAIN) {
            /* answered, or pending in the log: the op is done */
            nc_consensus_op_free(op);
            return;
        }

    } else if (lead != NC_RAFT_NONE) {
        p = nc_peer_find(lead);

        nc_le64_put(head, op->id);
        nc_le64_put(head + 8, op->client_id);
        nc_le64_put(head + 16, op->seq);
        head[8] = (u_char) op->member;

        if (p && nc_peer_send(p, op->member ? NC_PEER_MEMBER : NC_PEER_FORWARD,
                              head, op->member ? 9 : sizeof(head),
                              op->cmd, op->len)
                 == NC_OK)
        {
            op->peer = p;
            nc_queue_insert_tail(&nc_cs.sent, &op->queue);
            return;
        }
    }

    nc_queue_insert_tail(&nc_cs.held, &op->queue);
}


/* held ops go out once there is a leader to take them */
static void
nc_consensus_ops_flush(void)
{
    nc_queue_t          held, *q;
    nc_consensus_op_t  *op;

    if (nc_queue_empty(&nc_cs.held)
        || nc_raft_leader(nc_cs.raft) == NC_RAFT_NONE)
    {
        return;
    }

    held = nc_cs.held;
    held.next->prev = &held;
    held.prev->next = &held;
    nc_queue_init(&nc_cs.held);

    while (!nc_queue_empty(&held)) {
        q = nc_queue_head(&held);
        op = nc_queue_data(q, nc_consensus_op_t, queue);
        nc_consensus_op_go(op);
    }
}


static void
nc_consensus_ops_expire(void)
{
    nc_queue_t         *queues[3], *q, *next;
    nc_uint_t           i;
    nc_consensus_op_t  *op;

    queues[0] = &nc_cs.held;
    queues[1] = &nc_cs.sent;
    queues[2] = &nc_cs.applying;

    for (i = 0; i < 3; i++) {
        for (q = nc_queue_head(queues[i]);
             q != nc_queue_sentinel(queues[i]);
             q = next)
        {
            next = nc_queue_next(q);
            op = nc_queue_data(q, nc_consensus_op_t, queue);

            if ((nc_msec_int_t) (op->deadline - nc_current_msec) <= 0) {
                nc_consensus_op_answer(op, NC_BUSY, 0, 0);
                continue;
            }

            /* a read the leader did not answer (it may have changed) */
            if (i == 1 && op->read && op->peer == NULL
                && nc_current_msec - op->asked
                   > 3 * nc_cs.ccf->heartbeat_interval)
            {
                nc_consensus_op_go(op);
            }
        }
    }
}


static void
nc_consensus_ops_applied(uint64_t applied)
{
    nc_queue_t         *q, *next;
    nc_consensus_op_t  *op;

    for (q = nc_queue_head(&nc_cs.applying);
         q != nc_queue_sentinel(&nc_cs.applying);
         q = next)
    {
        next = nc_queue_next(q);
        op = nc_queue_data(q, nc_consensus_op_t, queue);

        if (op->index <= applied) {
            nc_consensus_op_answer(op, op->status, op->index, op->revision);
        }
    }
}


/* --- status ------------------------------------------------------------- */


static int
nc_consensus_cmp_u32(const void *a, const void *b)
{
    uint32_t  x, y;

    x = *(const uint32_t *) a;
    y = *(const uint32_t *) b;

    return (x > y) - (x < y);
}


static const char *
nc_consensus_role_name(int role, nc_flag_t learner)
{
    if (learner) {
        return "learner";
    }

    switch (role) {
    case NC_RAFT_LEADER:
        return "leader";
    case NC_RAFT_CANDIDATE:
    case NC_RAFT_PRE_CANDIDATE:
        return "candidate";
    default:
        return "follower";
    }
}


/* the peer address of a member, or NULL if it never said */
static const char *
nc_consensus_member_addr(uint64_t id, char *buf, size_t size)
{
    nc_peer_t  *p;

    if (id == nc_cs.id) {
        if (!nc_cs.ccf->present) {
            return NULL;
        }

        (void) snprintf(buf, size, "%.*s", nc_str_fmt(&nc_cs.ccf->self.text));
        return buf;
    }

    p = nc_peer_find(id);

    if (p == NULL) {
        return NULL;
    }

    (void) snprintf(buf, size, "%.*s", (int) p->addr_len, p->addr);

    return buf;
}


#define nc_consensus_put(...)                                                 \
    do {                                                                      \
        int  n_ = snprintf((char *) buf + len, size - len, __VA_ARGS__);      \
        if (n_ < 0 || (size_t) n_ >= size - len) {                            \
            return len;                                                       \
        }                                                                     \
        len += (size_t) n_;                                                   \
    } while (0)


static size_t
nc_consensus_status_text(nc_uint_t format, u_char *buf, size_t size)
{
    int                    role;
    size_t                 len, i, n, total;
    uint64_t               id, lead, last, match;
    nc_flag_t              learner;
    nc_peer_t             *peer;
    const char            *addr;
    const u_char          *api;
    const nc_raft_conf_t  *conf;
    uint32_t               lat[NC_CONSENSUS_FSYNC_SAMPLES];
    char                   a[NC_CONF_ADDR_STRLEN + 1];

    len = 0;
    conf = nc_raft_conf(nc_cs.raft);
    role = nc_raft_role(nc_cs.raft);
    lead = nc_raft_leader(nc_cs.raft);
    last = nc_raft_last_index(nc_cs.raft);
    total = conf->n_voters + conf->n_learners;

    if (format == NC_CONSENSUS_STATUS_SERVERS) {
        /* the address server's list: each member's API address, the
         * members that have not said theirs yet left out */
        for (i = 0; i < total; i++) {
            id = i < conf->n_voters ? conf->voters[i]
                                    : conf->learners[i - conf->n_voters];

            if (id == nc_cs.id) {
                n = nc_peer_api_addr(&api);

            } else {
                peer = nc_peer_find(id);
                n = peer && peer->seen ? peer->hello.api_len : 0;
                api = n ? peer->hello.api : NULL;
            }

            if (n) {
                nc_consensus_put("%.*s\r\n", (int) n, api);
            }
        }

        return len;
    }

    if (format == NC_CONSENSUS_STATUS_NACOS) {
        /* Nacos' Member: address, state (UP, DOWN, SUSPICIOUS), raft meta */
        nc_consensus_put("[");

        for (i = 0; i < total; i++) {
            id = i < conf->n_voters ? conf->voters[i]
                                    : conf->learners[i - conf->n_voters];
            addr = nc_consensus_member_addr(id, a, sizeof(a));

            if (addr == NULL) {
                continue;
            }

            nc_consensus_put("%s{\"ip\":\"%.*s\",\"port\":%s,"
                             "\"state\":\"%s\",\"address\":\"%s\","
                             "\"extendInfo\":{\"raftMetaData\":{\"leader\":"
                             "%s,\"term\":%" PRIu64 "}},\"failAccessCnt\":0,"
                             "\"abilities\":{}}",
                             len > 1 ? "," : "",
                             (int) (strrchr(addr, ':') - addr), addr,
                             strrchr(addr, ':') + 1,
                             (id == nc_cs.id || (nc_peer_find(id)
                                                 && nc_peer_find(id)->ready))
                             ? "UP" : "DOWN",
                             addr, id == lead ? "true" : "false",
                             nc_raft_term(nc_cs.raft));
        }

        nc_consensus_put("]");
        return len;
    }

    learner = nc_raft_conf_is_learner(conf, nc_cs.id);

    nc_consensus_put("{\"self\":");

    if (nc_consensus_member_addr(nc_cs.id, a, sizeof(a))) {
        nc_consensus_put("\"%s\"", a);
    } else {
        nc_consensus_put("null");
    }

    nc_consensus_put(",\"id\":\"%016" PRIx64 "\",\"role\":\"%s\","
                     "\"term\":%" PRIu64 ",\"leader\":",
                     nc_cs.id, nc_consensus_role_name(role, learner),
                     nc_raft_term(nc_cs.raft));

    if (lead != NC_RAFT_NONE && nc_consensus_member_addr(lead, a, sizeof(a)))
    {
        nc_consensus_put("\"%s\"", a);
    } else {
        nc_consensus_put("null");
    }

    nc_consensus_put(",\"leader_id\":");

    if (lead != NC_RAFT_NONE) {
        nc_consensus_put("\"%016" PRIx64 "\"", lead);
    } else {
        nc_consensus_put("null");
    }

    nc_consensus_put(",\"commit\":%" PRIu64 ",\"applied\":%" PRIu64
                     ",\"last_index\":%" PRIu64 ",\"snapshot_index\":%" PRIu64
                     ",\"bootstrapping\":%s,\"members\":[",
                     nc_raft_commit(nc_cs.raft), nc_raft_applied(nc_cs.raft),
                     last, nc_cs.snap_index,
                     nc_cs.bootstrapping ? "true" : "false");

    for (i = 0; i < total; i++) {
        id = i < conf->n_voters ? conf->voters[i]
                                : conf->learners[i - conf->n_voters];

        nc_consensus_put("%s{\"id\":\"%016" PRIx64 "\",\"address\":",
                         i ? "," : "", id);

        if (nc_consensus_member_addr(id, a, sizeof(a))) {
            nc_consensus_put("\"%s\"", a);
        } else {
            nc_consensus_put("null");
        }

        nc_consensus_put(",\"role\":\"%s\"",
                         i >= conf->n_voters ? "learner"
                         : id == lead ? "leader" : "follower");

        if (role == NC_RAFT_LEADER) {
            match = id == nc_cs.id ? last : nc_raft_match(nc_cs.raft, id);
            nc_consensus_put(",\"match\":%" PRIu64 ",\"lag\":%" PRIu64,
                             match, last > match ? last - match : 0);
        } else {
            nc_consensus_put(",\"match\":null,\"lag\":null");
        }

        nc_consensus_put(",\"connected\":%s}",
                         id == nc_cs.id
                         || (nc_peer_find(id) && nc_peer_find(id)->ready)
                         ? "true" : "false");
    }

    n = nc_min(nc_cs.fsyncs, NC_CONSENSUS_FSYNC_SAMPLES);
    nc_memcpy(lat, nc_cs.fsync_us, n * sizeof(uint32_t));
    qsort(lat, n, sizeof(uint32_t), nc_consensus_cmp_u32);

    nc_consensus_put("],\"fsync\":{\"count\":%" PRIu64 ",\"p50_us\":%u,"
                     "\"p99_us\":%u,\"max_us\":%u}}",
                     nc_cs.fsyncs, n ? lat[n / 2] : 0,
                     n ? lat[n * 99 / 100] : 0, n ? lat[n - 1] : 0);

    return len;
}


/*
 * SIGQUIT: a leader hands over to the most up-to-date voter first, so a
 * rolling restart has no election gap; it exits once another member
 * leads, or after an election timeout in any case.
 */
static void
nc_consensus_leave(void)
{
    uint64_t               to, best, m;
    nc_uint_t              i;
    const nc_raft_conf_t  *conf;

    if (nc_raft_role(nc_cs.raft) != NC_RAFT_LEADER) {
        /*
         * Handed over: what it proposed commits under the new leader and
         * applies here too; its answers go out before the connections
         * that carry them close.
         */
        if (nc_cs.transferring && nc_cs.pending_n
            && (nc_msec_int_t) (nc_cs.exit_deadline - nc_current_msec) > 0)
        {
            return;
        }

        nc_consensus_exit();
    }

    if (nc_cs.transferring) {
        if ((nc_msec_int_t) (nc_cs.exit_deadline - nc_current_msec) <= 0) {
            nc_consensus_exit();
        }

        return;
    }

    conf = nc_raft_conf(nc_cs.raft);
    to = NC_RAFT_NONE;
    best = 0;

    for (i = 0; i < conf->n_voters; i++) {
        if (conf->voters[i] == nc_cs.id) {
            continue;
        }

        m = nc_raft_match(nc_cs.raft, conf->voters[i]);

        if (to == NC_RAFT_NONE || m > best) {
            to = conf->voters[i];
            best = m;
        }
    }

    if (to == NC_RAFT_NONE
        || nc_raft_transfer_leader(nc_cs.raft, to) != NC_RAFT_OK)
    {
        nc_consensus_exit();
    }

    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0,
                 "handing leadership over to %016" PRIx64 " before exiting",
                 to);

    nc_cs.transferring = 1;
    nc_cs.exit_deadline = nc_current_msec + nc_cs.ccf->election_timeout;

    /* the loop wakes at least every tick to check */
}


static void
nc_consensus_exit(void)
{
    nc_log_error(NC_LOG_NOTICE, nc_cs.log, 0, "exit");

    /* the snapshot thread reads the store the writer state below frees */
    if (nc_cs.snap_running) {
        (void) pthread_join(nc_cs.snap_thread, NULL);
        nc_store_unpin(nc_store);
        nc_cs.snap_running = 0;
    }

    nc_peer_close_all();
    nc_raft_log_close(nc_cs.wal);
    nc_store_writer_free(nc_store);

    exit(0);
}
