
/*
 * nacre: child processes and signals.
 */

#ifndef _NC_PROCESS_H_INCLUDED_
#define _NC_PROCESS_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


#define NC_MAX_PROCESSES        1024

#define NC_PROCESS_MASTER       0
#define NC_PROCESS_WORKER       1
#define NC_PROCESS_CONSENSUS    2      /* the Raft process, the store writer */


typedef void (*nc_spawn_proc_pt)(nc_cycle_t *cycle, void *data);

typedef struct {
    pid_t              pid;
    nc_msec_t          start;          /* when it was spawned */
    int                status;
    nc_uint_t          kind;           /* NC_PROCESS_WORKER ... */
    nc_uint_t          generation;     /* of the cycle it runs */
    nc_spawn_proc_pt   proc;
    void              *data;
    const char        *name;

    unsigned           respawn:1;
    unsigned           exiting:1;      /* told to quit: do not respawn */
    unsigned           exited:1;
} nc_process_t;


extern nc_uint_t               nc_process;   /* role of this process */
extern pid_t                   nc_pid;
extern pid_t                   nc_parent;
extern nc_process_t            nc_processes[NC_MAX_PROCESSES];
extern nc_int_t                nc_last_process;

extern volatile sig_atomic_t   nc_reap;
extern volatile sig_atomic_t   nc_terminate;
extern volatile sig_atomic_t   nc_quit;
extern volatile sig_atomic_t   nc_reconfigure;
extern volatile sig_atomic_t   nc_reopen;
extern volatile sig_atomic_t   nc_sigalrm;


nc_int_t nc_init_signals(nc_log_t *log);

/* fork a child running proc(cycle, data); returns its slot or NC_ERROR */
nc_int_t nc_spawn_process(nc_cycle_t *cycle, nc_spawn_proc_pt proc,
    void *data, const char *name, nc_uint_t kind);

/* reap exited children, log how they ended; respawn what should live */
nc_uint_t nc_reap_children(nc_cycle_t *cycle);

/* respawn the children whose delay is over; ms to the next one, or 0 */
nc_msec_t nc_respawn_delayed(nc_cycle_t *cycle);

/* send a signal to every child of a kind whose generation is <= gen */
void nc_signal_children(nc_uint_t kind, nc_uint_t gen, int signo,
    nc_log_t *log);

/* children of a kind still running */
nc_uint_t nc_live_children(nc_uint_t kind);

/* -s stop|quit|reopen|reload: signal the master named by the pid file */
nc_int_t nc_signal_process(const char *pid_path, const char *name);


#endif /* _NC_PROCESS_H_INCLUDED_ */
