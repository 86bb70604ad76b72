
/*
 * nacre: the master's supervision loop and the workers' event loop.
 *
 * The master never serves traffic. It blocks the control signals and
 * sleeps in sigsuspend(); the handler only sets flags and the loop acts.
 * Workers keep the signals blocked too and take them only inside
 * epoll_pwait(), so a signal can never slip in between a check of the
 * flags and the wait.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_process.h>
#include <nc_store.h>
#include <nc_consensus.h>
#include <nc_process_cycle.h>
#include <nc_http.h>
#include <nc_auth.h>
#include <nc_api_watch.h>


#define NC_TERMINATE_GRACE   2000     /* ms after SIGTERM before SIGKILL */


static void nc_start_worker_processes(nc_cycle_t *cycle);
static void nc_master_reload(nc_cycle_t **cyclep);
static void nc_master_cluster_changed(nc_conf_cluster_t *cluster,
    nc_conf_cluster_t *old, nc_log_t *log);
static void nc_master_exit(nc_cycle_t *cycle) __attribute__((noreturn));
static void nc_worker_process_cycle(nc_cycle_t *cycle, void *data);
static void nc_worker_init(nc_cycle_t *cycle, nc_uint_t worker);
static void nc_worker_rlimit(nc_cycle_t *cycle);
static void nc_worker_shutdown(nc_cycle_t *cycle);
static void nc_worker_shutdown_timeout(nc_event_t *ev);
static void nc_worker_exit(nc_cycle_t *cycle) __attribute__((noreturn));
static void nc_set_alarm(nc_msec_t ms);
static void nc_schedule_respawn(nc_cycle_t *cycle);


nc_uint_t    nc_exiting;

static nc_event_t  nc_shutdown_event;


void
nc_master_process_cycle(nc_cycle_t *cycle)
{
    nc_uint_t   live, sigterm_sent, sigquit_sent;
    sigset_t    set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "sigprocmask() failed");
    }

    sigemptyset(&set);

    nc_setproctitle("nacre: master process %s", nc_os_cmdline());

    nc_start_worker_processes(cycle);

    /* the store's writer: no client listeners, respawned like a worker */
    (void) nc_spawn_process(cycle, nc_consensus_process_cycle, NULL,
                            "consensus process", NC_PROCESS_CONSENSUS);

    live = 1;
    sigterm_sent = 0;
    sigquit_sent = 0;

    for ( ;; ) {

        sigsuspend(&set);

        nc_time_update();

        if (nc_reap) {
            nc_reap = 0;
            live = nc_reap_children(cycle);
            nc_schedule_respawn(cycle);
        }

        if (!live && (nc_terminate || nc_quit)) {
            nc_master_exit(cycle);
        }

        if (nc_terminate) {
            if (!sigterm_sent) {
                nc_log_error(NC_LOG_NOTICE, &cycle->log, 0,
                             "fast shutdown");
                nc_signal_children(NC_PROCESS_WORKER, (nc_uint_t) -1,
                                   SIGTERM, &cycle->log);
                nc_signal_children(NC_PROCESS_CONSENSUS, (nc_uint_t) -1,
                                   SIGTERM, &cycle->log);
                nc_set_alarm(NC_TERMINATE_GRACE);
                sigterm_sent = 1;

            } else if (nc_sigalrm) {
                nc_sigalrm = 0;
                nc_signal_children(NC_PROCESS_WORKER, (nc_uint_t) -1,
                                   SIGKILL, &cycle->log);
                nc_signal_children(NC_PROCESS_CONSENSUS, (nc_uint_t) -1,
                                   SIGKILL, &cycle->log);
            }

            continue;
        }

        if (nc_quit) {
            if (!sigquit_sent) {
                nc_log_error(NC_LOG_NOTICE, &cycle->log, 0,
                             "graceful shutdown");
                nc_signal_children(NC_PROCESS_WORKER, (nc_uint_t) -1,
                                   SIGQUIT, &cycle->log);
                nc_close_listening(cycle);
                sigquit_sent = 1;
            }

            /* writes in flight finish before the writer goes */
            if (nc_live_children(NC_PROCESS_WORKER) == 0) {
                nc_signal_children(NC_PROCESS_CONSENSUS, (nc_uint_t) -1,
                                   SIGQUIT, &cycle->log);
            }

            continue;
        }

        if (nc_sigalrm) {
            nc_sigalrm = 0;
            nc_schedule_respawn(cycle);
            live = 1;
        }

        if (nc_reconfigure) {
            nc_reconfigure = 0;
            nc_master_reload(&cycle);
            live = 1;
        }

        if (nc_reopen) {
            nc_reopen = 0;
            nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "reopening logs");
            nc_reopen_files(cycle);
            nc_signal_children(NC_PROCESS_WORKER, (nc_uint_t) -1, SIGUSR1,
                               &cycle->log);
            nc_signal_children(NC_PROCESS_CONSENSUS, (nc_uint_t) -1, SIGUSR1,
                               &cycle->log);
        }
    }
}


static void
nc_start_worker_processes(nc_cycle_t *cycle)
{
    nc_uint_t  i;

    /* each knows its number: the listening sockets that are its own */
    for (i = 0; i < cycle->conf->worker_processes; i++) {
        (void) nc_spawn_process(cycle, nc_worker_process_cycle,
                                (void *) (uintptr_t) i, "worker process",
                                NC_PROCESS_WORKER);
    }
}


static void
nc_master_reload(nc_cycle_t **cyclep)
{
    nc_uint_t    generation;
    nc_conf_t   *conf;
    nc_cycle_t  *cycle, *old;
    char         err[NC_CONF_ERRSTR_SIZE];

    old = *cyclep;

    nc_log_error(NC_LOG_NOTICE, &old->log, 0, "reconfiguring");

    conf = nc_cycle_reload_conf(err);
    if (conf == NULL) {
        nc_log_error(NC_LOG_ERR, &old->log, 0, "reload failed: %s; "
                     "keeping the running configuration", err);
        return;
    }

    cycle = nc_init_cycle(old, conf);
    if (cycle == NULL) {
        nc_conf_free(conf);
        nc_log_error(NC_LOG_ERR, &old->log, 0, "reload failed; "
                     "keeping the running configuration");
        return;
    }

    if (strcmp((char *) conf->pid.data, (char *) old->conf->pid.data) != 0)
    {
        if (nc_write_pid_file((char *) conf->pid.data, &cycle->log) == NC_OK)
        {
            nc_delete_pid_file((char *) old->conf->pid.data, &cycle->log);
        }
    }

    if (conf->store.shm_size != old->conf->store.shm_size) {
        nc_log_error(NC_LOG_WARN, &cycle->log, 0,
                     "a new store.shm_size takes effect after a restart; "
                     "the store keeps %zu bytes", nc_store->size);
    }

    nc_master_cluster_changed(&conf->cluster, &old->conf->cluster,
                              &cycle->log);

    *cyclep = cycle;
    nc_cycle = cycle;
    nc_store->log = &cycle->log;
    generation = old->generation;

    /*
     * Drop what only the old cycle uses before forking, so new workers do
     * not inherit a removed listener or an old log; the old workers keep
     * their own copies until they exit.
     */
    nc_close_listening(old);
    nc_destroy_cycle(old);

    /* new workers first: the sockets they share never stop accepting */
    nc_start_worker_processes(cycle);

    nc_signal_children(NC_PROCESS_WORKER, generation, SIGQUIT, &cycle->log);

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "reconfigured");
}


/*
 * The consensus process is not restarted on reload: who it is, whom it
 * dials and the secret it signs with stay those it started with.
 */

static void
nc_master_cluster_changed(nc_conf_cluster_t *cluster, nc_conf_cluster_t *old,
    nc_log_t *log)
{
    nc_uint_t        i, j, same;
    nc_conf_addr_t  *a, *b;

    /* data is NULL without the section: compare only what len covers */

    if (cluster->self.text.len != old->self.text.len
        || (old->self.text.len
            && nc_memcmp(cluster->self.text.data, old->self.text.data,
                         old->self.text.len) != 0))
    {
        nc_log_error(NC_LOG_WARN, log, 0,
                     "a new cluster.self needs a restart to take effect");
    }

    /* the same addresses in another order are the same members */

    same = (cluster->members.nelts == old->members.nelts);
    a = cluster->members.elts;
    b = old->members.elts;

    for (i = 0; same && i < old->members.nelts; i++) {
        same = 0;

        for (j = 0; j < cluster->members.nelts; j++) {
            if (a[j].text.len == b[i].text.len
                && nc_memcmp(a[j].text.data, b[i].text.data, b[i].text.len)
                   == 0)
            {
                same = 1;
                break;
            }
        }
    }

    if (!same) {
        nc_log_error(NC_LOG_WARN, log, 0,
                     "a new cluster.members needs a restart to take effect");
    }

    if (cluster->secret_file.len != old->secret_file.len
        || (old->secret_file.len
            && nc_memcmp(cluster->secret_file.data, old->secret_file.data,
                         old->secret_file.len) != 0))
    {
        nc_log_error(NC_LOG_WARN, log, 0,
                     "a new cluster.secret_file needs a restart to take "
                     "effect");
    }
}


static void
nc_master_exit(nc_cycle_t *cycle)
{
    nc_delete_pid_file((char *) cycle->conf->pid.data, &cycle->log);

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "exit");

    nc_close_listening(cycle);
    nc_destroy_cycle(cycle);

    exit(0);
}


/* children whose respawn waits: start the due ones, wake for the next */
static void
nc_schedule_respawn(nc_cycle_t *cycle)
{
    nc_msec_t          next;
    struct itimerval   itv;

    next = nc_respawn_delayed(cycle);

    if (next == 0 || nc_terminate) {
        return;
    }

    nc_memzero(&itv, sizeof(struct itimerval));
    itv.it_value.tv_sec = next / 1000;
    itv.it_value.tv_usec = (next % 1000) * 1000;

    (void) setitimer(ITIMER_REAL, &itv, NULL);
}


static void
nc_set_alarm(nc_msec_t ms)
{
    struct itimerval  itv;

    nc_memzero(&itv, sizeof(struct itimerval));
    itv.it_value.tv_sec = ms / 1000;
    itv.it_value.tv_usec = (ms % 1000) * 1000;
    itv.it_interval = itv.it_value;

    (void) setitimer(ITIMER_REAL, &itv, NULL);
}


static void
nc_worker_process_cycle(nc_cycle_t *cycle, void *data)
{
    sigset_t  set;

    nc_process = NC_PROCESS_WORKER;

    nc_worker_init(cycle, (nc_uint_t) (uintptr_t) data);

    nc_setproctitle("nacre: worker process");

    sigemptyset(&set);

    for ( ;; ) {

        /* the channel to the consensus process is not a client */
        if (nc_exiting && nc_connection_active == nc_connection_internal)
        {
            nc_worker_exit(cycle);
        }

        nc_process_events_and_timers(&set);

        /* no reader holds back reclamation across iterations */
        nc_store_quiesce(nc_store);

        if (nc_terminate) {
            nc_worker_exit(cycle);
        }

        if (nc_quit) {
            nc_quit = 0;

            if (!nc_exiting) {
                nc_worker_shutdown(cycle);
            }
        }

        if (nc_reopen) {
            nc_reopen = 0;
            nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "reopening logs");
            nc_reopen_files(cycle);
        }
    }
}


static void
nc_worker_init(nc_cycle_t *cycle, nc_uint_t worker)
{
    nc_uint_t         i;
    nc_conf_t        *conf;
    nc_listening_t   *ls;
    nc_connection_t  *c;

    conf = cycle->conf;

    /* a worker whose master is gone drains and exits rather than linger */
    if (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "prctl(PR_SET_PDEATHSIG) failed");
    }

    if (getppid() != nc_parent) {
        exit(0);
    }

    nc_worker_rlimit(cycle);

    if (nc_event_init(&cycle->log, 512) != NC_OK
        || nc_connections_init(conf->worker_connections, &cycle->log)
           != NC_OK)
    {
        exit(2);                                       /* fatal */
    }

    if (nc_http_init_worker(cycle) != NC_OK) {
        exit(2);                                       /* fatal */
    }

    nc_store->log = &cycle->log;

    if (nc_store_reader_attach(nc_store) != NC_OK) {
        exit(2);                                       /* fatal */
    }

    nc_consensus_close_listener();

    if (nc_auth_init_worker(cycle) != NC_OK
        || nc_consensus_client_init(cycle) != NC_OK
        || nc_api_watch_init_worker(cycle) != NC_OK)
    {
        exit(2);                                       /* fatal */
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].worker != worker) {
            continue;                                  /* another's */
        }

        c = nc_get_connection(ls[i].fd, &cycle->log);
        if (c == NULL) {
            exit(2);                                   /* fatal */
        }

        c->listening = &ls[i];
        ls[i].connection = c;

        c->read->accept = 1;
        c->read->handler = nc_event_accept;

        if (nc_event_add_listen(c) != NC_OK) {
            exit(2);                                   /* fatal */
        }
    }
}


/*
 * worker_connections sockets, plus a few files and channels: raise the
 * soft limit on open files as far as the hard one allows, and say so when
 * that is not enough (accept4() would fail with EMFILE otherwise).
 */
static void
nc_worker_rlimit(nc_cycle_t *cycle)
{
    rlim_t         need;
    struct rlimit  rl;

    need = (rlim_t) cycle->conf->worker_connections + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need) {
        return;
    }

    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need
                                               : nc_min(need, rl.rlim_max);

    if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "setrlimit(RLIMIT_NOFILE, %lu) failed",
                     (unsigned long) rl.rlim_cur);
    }

    if (rl.rlim_cur < need) {
        nc_log_error(NC_LOG_WARN, &cycle->log, 0,
                     "worker_connections %lu need %lu open files, the "
                     "hard limit is %lu", (unsigned long)
                     cycle->conf->worker_connections, (unsigned long) need,
                     (unsigned long) rl.rlim_max);
    }
}


static void
nc_worker_shutdown(nc_cycle_t *cycle)
{
    nc_uint_t         i;
    nc_listening_t   *ls;
    nc_connection_t  *c;

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "gracefully shutting down");
    nc_setproctitle("nacre: worker process is shutting down");

    nc_exiting = 1;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        c = ls[i].connection;

        if (c == NULL) {
            continue;
        }

        /* other processes share the socket: unregister before closing */
        (void) nc_event_del_conn(c);
        nc_close_connection(c);
        ls[i].connection = NULL;
    }

    nc_close_idle_connections();

    /* parked long-polls answer now: their clients poll the new workers */
    nc_api_watch_shutdown();

    if (nc_connection_active && cycle->conf->worker_shutdown_timeout) {
        nc_shutdown_event.handler = nc_worker_shutdown_timeout;
        nc_shutdown_event.data = cycle;
        nc_shutdown_event.timer_index = NC_INVALID_INDEX;
        nc_add_timer(&nc_shutdown_event,
                     cycle->conf->worker_shutdown_timeout);
    }
}


static void
nc_worker_shutdown_timeout(nc_event_t *ev)
{
    nc_cycle_t  *cycle;

    cycle = ev->data;

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0,
                 "worker_shutdown_timeout: closing %zu connections",
                 (size_t) nc_connection_active);

    nc_worker_exit(cycle);
}


static void
nc_worker_exit(nc_cycle_t *cycle)
{
    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "exit");

    /* the kernel closes the sockets; nothing else outlives us */
    exit(0);
}
