
/*
 * nacre: the room that knows system calls: sockets, files, daemon,
 * process titles.
 */

#ifndef _NC_OS_H_INCLUDED_
#define _NC_OS_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


/* socket(), SO_REUSEADDR, bind(), listen(); NC_ERROR is logged */
nc_int_t nc_open_listening_socket(nc_listening_t *ls, nc_log_t *log);
nc_int_t nc_probe_listening_socket(nc_listening_t *ls, nc_log_t *log);

/* mkdir -p of every directory above path (not path itself) */
nc_int_t nc_create_parent_dirs(const char *path, mode_t mode);
nc_int_t nc_create_dirs(const char *path, mode_t mode);

/* write "pid\n" to path atomically (temporary file, then rename) */
nc_int_t nc_write_pid_file(const char *path, nc_log_t *log);
void nc_delete_pid_file(const char *path, nc_log_t *log);
pid_t nc_read_pid_file(const char *path);

/* detach: fork, setsid, stdio to /dev/null */
nc_int_t nc_daemon(nc_log_t *log);

nc_int_t nc_init_setproctitle(int argc, char *const *argv, nc_log_t *log);
void nc_setproctitle(const char *fmt, ...) NC_PRINTF(1, 2);
const char *nc_os_cmdline(void);


#endif /* _NC_OS_H_INCLUDED_ */
