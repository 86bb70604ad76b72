
/*
 * nacre: child processes and signals. The handler only sets flags; the
 * master's loop and the workers' event loops act on them.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_process.h>
#include <nc_store.h>
#include <nc_config_listeners.h>


typedef struct {
    int           signo;
    const char   *signame;
    const char   *name;        /* for -s */
} nc_signal_t;


#define NC_RESPAWN_QUICK   1000    /* ms: an exit sooner counts as quick */
#define NC_RESPAWN_MAX     10000   /* ms: the longest respawn delay */


typedef struct {
    nc_spawn_proc_pt   proc;
    void              *data;
    const char        *name;
    nc_uint_t          kind;
    nc_msec_t          at;
} nc_respawn_t;


static void nc_signal_handler(int signo, siginfo_t *siginfo, void *ucontext);
static nc_flag_t nc_respawn_later(nc_cycle_t *cycle, nc_process_t *p);


nc_uint_t               nc_process;
pid_t                   nc_pid;
pid_t                   nc_parent;
nc_process_t            nc_processes[NC_MAX_PROCESSES];
nc_int_t                nc_last_process;

static nc_respawn_t     nc_pending[NC_MAX_PROCESSES];
static nc_uint_t        nc_npending;
static nc_uint_t        nc_quick_exits[3];    /* by kind */

volatile sig_atomic_t   nc_reap;
volatile sig_atomic_t   nc_terminate;
volatile sig_atomic_t   nc_quit;
volatile sig_atomic_t   nc_reconfigure;
volatile sig_atomic_t   nc_reopen;
volatile sig_atomic_t   nc_sigalrm;


static nc_signal_t  nc_signals[] = {
    { SIGHUP,  "SIGHUP",  "reload" },
    { SIGUSR1, "SIGUSR1", "reopen" },
    { SIGQUIT, "SIGQUIT", "quit" },
    { SIGTERM, "SIGTERM", "stop" },
    { SIGINT,  "SIGINT",  "" },
    { SIGALRM, "SIGALRM", "" },
    { SIGCHLD, "SIGCHLD", "" },
    { SIGPIPE, "SIGPIPE, SIG_IGN", "" },
    { 0, NULL, "" }
};


nc_int_t
nc_init_signals(nc_log_t *log)
{
    nc_signal_t       *sig;
    struct sigaction   sa;

    for (sig = nc_signals; sig->signo != 0; sig++) {
        nc_memzero(&sa, sizeof(struct sigaction));

        if (sig->signo == SIGPIPE) {
            sa.sa_handler = SIG_IGN;

        } else {
            sa.sa_sigaction = nc_signal_handler;
            sa.sa_flags = SA_SIGINFO;
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(sig->signo, &sa, NULL) == -1) {
            nc_log_error(NC_LOG_EMERG, log, errno, "sigaction(%s) failed",
                         sig->signame);
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static void
nc_signal_handler(int signo, siginfo_t *siginfo, void *ucontext)
{
    int  err;

    err = errno;

    switch (signo) {

    case SIGQUIT:
        nc_quit = 1;
        break;

    case SIGTERM:
    case SIGINT:
        nc_terminate = 1;
        break;

    case SIGHUP:
        if (nc_process == NC_PROCESS_MASTER) {
            nc_reconfigure = 1;
        }
        break;

    case SIGUSR1:
        nc_reopen = 1;
        break;

    case SIGALRM:
        nc_sigalrm = 1;
        break;

    case SIGCHLD:
        nc_reap = 1;
        break;
    }

    errno = err;
}


/*
 * A child that keeps dying right after it starts (a bad disk, a bug hit at
 * start) is respawned with a growing delay, so the master does not spin.
 */
static nc_flag_t
nc_respawn_later(nc_cycle_t *cycle, nc_process_t *p)
{
    nc_uint_t          n;
    nc_msec_t          delay;
    nc_respawn_t      *r;

    if (nc_current_msec - p->start >= NC_RESPAWN_QUICK) {
        nc_quick_exits[p->kind] = 0;
        return 0;
    }

    n = ++nc_quick_exits[p->kind];

    if (n < 3 || nc_npending == NC_MAX_PROCESSES) {
        return 0;
    }

    delay = nc_min((nc_msec_t) 100 << nc_min(n - 3, 10), NC_RESPAWN_MAX);

    nc_log_error(NC_LOG_WARN, &cycle->log, 0,
                 "%s exited %u times right after it started; "
                 "respawning it in %u ms", p->name, (unsigned) n,
                 (unsigned) delay);

    r = &nc_pending[nc_npending++];
    r->proc = p->proc;
    r->data = p->data;
    r->name = p->name;
    r->kind = p->kind;
    r->at = nc_current_msec + delay;

    return 1;
}


nc_msec_t
nc_respawn_delayed(nc_cycle_t *cycle)
{
    nc_uint_t      i;
    nc_msec_t      next;
    nc_respawn_t  *r;

    next = 0;

    for (i = 0; i < nc_npending; /* void */) {
        r = &nc_pending[i];

        if (nc_terminate || nc_quit) {
            nc_pending[i] = nc_pending[--nc_npending];
            continue;
        }

        if ((nc_msec_int_t) (r->at - nc_current_msec) <= 0) {
            (void) nc_spawn_process(cycle, r->proc, r->data, r->name,
                                    r->kind);
            nc_pending[i] = nc_pending[--nc_npending];
            continue;
        }

        if (next == 0 || r->at - nc_current_msec < next) {
            next = r->at - nc_current_msec;
        }

        i++;
    }

    return next;
}


nc_int_t
nc_spawn_process(nc_cycle_t *cycle, nc_spawn_proc_pt proc, void *data,
    const char *name, nc_uint_t kind)
{
    pid_t      pid;
    nc_int_t   s;

    for (s = 0; s < nc_last_process; s++) {
        if (nc_processes[s].pid == -1) {
            break;
        }
    }

    if (s == NC_MAX_PROCESSES) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, 0,
                     "no more than %d processes can be spawned",
                     NC_MAX_PROCESSES);
        return NC_ERROR;
    }

    pid = fork();

    switch (pid) {

    case -1:
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "fork() failed while spawning \"%s\"", name);
        return NC_ERROR;

    case 0:
        nc_parent = nc_pid;
        nc_pid = getpid();
        proc(cycle, data);
        exit(0);                                 /* not reached */

    default:
        break;
    }

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "start %s %d", name,
                 (int) pid);

    nc_processes[s].pid = pid;
    nc_processes[s].start = nc_current_msec;
    nc_processes[s].status = 0;
    nc_processes[s].kind = kind;
    nc_processes[s].generation = cycle->generation;
    nc_processes[s].proc = proc;
    nc_processes[s].data = data;
    nc_processes[s].name = name;
    nc_processes[s].respawn = 1;
    nc_processes[s].exiting = 0;
    nc_processes[s].exited = 0;

    if (s == nc_last_process) {
        nc_last_process++;
    }

    return s;
}


nc_uint_t
nc_reap_children(nc_cycle_t *cycle)
{
    int            status;
    pid_t          pid;
    nc_int_t       i;
    nc_uint_t      live;
    nc_process_t  *p;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            break;
        }

        if (pid == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != ECHILD) {
                nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                             "waitpid() failed");
            }

            break;
        }

        for (i = 0; i < nc_last_process; i++) {
            if (nc_processes[i].pid == pid) {
                break;
            }
        }

        if (i == nc_last_process) {
            continue;
        }

        p = &nc_processes[i];
        p->status = status;
        p->exited = 1;

        /* whatever it held in the store, it holds no longer */
        if (nc_store) {
            nc_store_release_pid(nc_store, pid);
        }

        nc_config_listeners_release_pid(pid);

        if (WIFSIGNALED(status)) {
            /* alert: a child dies by a signal only through a bug or a kill */
            nc_log_error(NC_LOG_ALERT, &cycle->log, 0,
                         "%s %d exited on signal %d%s", p->name, (int) pid,
                         WTERMSIG(status),
                         WCOREDUMP(status) ? " (core dumped)" : "");

        } else {
            nc_log_error(NC_LOG_NOTICE, &cycle->log, 0,
                         "%s %d exited with code %d", p->name, (int) pid,
                         WEXITSTATUS(status));
        }

        /* exit code 2 is a fatal start-up error: respawning would loop */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && p->respawn) {
            nc_log_error(NC_LOG_CRIT, &cycle->log, 0,
                         "%s %d exited with fatal code 2 "
                         "and cannot be respawned", p->name, (int) pid);
            p->respawn = 0;
        }
    }

    live = 0;

    for (i = 0; i < nc_last_process; i++) {
        p = &nc_processes[i];

        if (p->pid == -1) {
            continue;
        }

        if (!p->exited) {
            live++;
            continue;
        }

        if (p->respawn && !p->exiting && !nc_terminate && !nc_quit) {
            p->pid = -1;

            if (nc_respawn_later(cycle, p)) {
                continue;
            }

            if (nc_spawn_process(cycle, p->proc, p->data, p->name, p->kind)
                != NC_ERROR)
            {
                live++;
            }

            continue;
        }

        p->pid = -1;

        if (i == nc_last_process - 1) {
            nc_last_process--;
        }
    }

    return live;
}


void
nc_signal_children(nc_uint_t kind, nc_uint_t gen, int signo, nc_log_t *log)
{
    nc_int_t       i;
    nc_process_t  *p;

    for (i = 0; i < nc_last_process; i++) {
        p = &nc_processes[i];

        if (p->pid == -1 || p->exited || p->kind != kind
            || p->generation > gen)
        {
            continue;
        }

        if (signo == SIGQUIT || signo == SIGTERM) {
            p->exiting = 1;
        }

        if (kill(p->pid, signo) == -1 && errno != ESRCH) {
            nc_log_error(NC_LOG_ALERT, log, errno, "kill(%d, %d) failed",
                         (int) p->pid, signo);
        }
    }
}


nc_uint_t
nc_live_children(nc_uint_t kind)
{
    nc_int_t   i;
    nc_uint_t  n;

    n = 0;

    for (i = 0; i < nc_last_process; i++) {
        if (nc_processes[i].pid != -1 && !nc_processes[i].exited
            && nc_processes[i].kind == kind)
        {
            n++;
        }
    }

    return n;
}


nc_int_t
nc_signal_process(const char *pid_path, const char *name)
{
    pid_t         pid;
    nc_signal_t  *sig;

    for (sig = nc_signals; sig->signo != 0; sig++) {
        if (sig->name[0] && strcmp(name, sig->name) == 0) {
            break;
        }
    }

    if (sig->signo == 0) {
        nc_log_stderr(0, "invalid option: \"-s %s\": use stop, quit, "
                      "reopen or reload", name);
        return NC_ERROR;
    }

    pid = nc_read_pid_file(pid_path);
    if (pid == -1) {
        nc_log_stderr(errno, "could not read the pid file \"%s\"", pid_path);
        return NC_ERROR;
    }

    if (kill(pid, sig->signo) == -1) {
        nc_log_stderr(errno, "kill(%d, %s) failed", (int) pid, sig->signame);
        return NC_ERROR;
    }

    return NC_OK;
}
