
/*
 * nacre: the error log. Lines look like
 *   2026/11/25 20:00:00 [error] 1234#0: message (13: Permission denied)
 * The level `alert` is reserved for bugs and failed system calls: the test
 * suite fails any run that leaves one.
 */

#ifndef _NC_LOG_H_INCLUDED_
#define _NC_LOG_H_INCLUDED_


#include <nc_config.h>


#define NC_LOG_STDERR   0
#define NC_LOG_EMERG    1
#define NC_LOG_ALERT    2
#define NC_LOG_CRIT     3
#define NC_LOG_ERR      4
#define NC_LOG_WARN     5
#define NC_LOG_NOTICE   6
#define NC_LOG_INFO     7
#define NC_LOG_DEBUG    8

#define NC_MAX_ERROR_STR   2048


struct nc_log_s {
    nc_uint_t     log_level;
    nc_fd_t       fd;
    char         *path;         /* NULL: stderr */
};


#define nc_log_error(level, log, err, ...)                                    \
    do {                                                                      \
        if ((log)->log_level >= (nc_uint_t) (level)) {                        \
            nc_log_error_core(level, log, err, __VA_ARGS__);                  \
        }                                                                     \
    } while (0)

#if (NC_DEBUG)
#define nc_log_debug(log, ...)                                                \
    nc_log_error(NC_LOG_DEBUG, log, 0, __VA_ARGS__)
#else
#define nc_log_debug(log, ...)   /* void */
#endif


void nc_log_error_core(nc_uint_t level, nc_log_t *log, nc_err_t err,
    const char *fmt, ...) NC_PRINTF(4, 5);

/* "info" -> NC_LOG_INFO; NC_ERROR when the name is unknown */
nc_int_t nc_log_level_by_name(const nc_str_t *name);
const char *nc_log_level_name(nc_uint_t level);

/* the log used before a configuration is read: stderr, level notice */
nc_log_t *nc_log_default(void);

/* open path for append; on failure returns NC_ERROR with errno set */
nc_int_t nc_log_open(nc_log_t *log, const char *path, nc_uint_t level);
void nc_log_close(nc_log_t *log);

/* route stderr into the log file so that library messages land there */
nc_int_t nc_log_redirect_stderr(nc_log_t *log);

/* a line to stderr, "nacre: " prefixed, for the command line */
void nc_log_stderr(nc_err_t err, const char *fmt, ...) NC_PRINTF(2, 3);


#endif /* _NC_LOG_H_INCLUDED_ */
