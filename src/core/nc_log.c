
/*
 * nacre: the error log.
 */

#include <nc_config.h>
#include <nc_core.h>


static const char  *nc_log_levels[] = {
    "", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
};

static nc_log_t  nc_default_log = { NC_LOG_NOTICE, STDERR_FILENO, NULL };


nc_log_t *
nc_log_default(void)
{
    return &nc_default_log;
}


void
nc_log_error_core(nc_uint_t level, nc_log_t *log, nc_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    errstr[NC_MAX_ERROR_STR];

    last = errstr + NC_MAX_ERROR_STR;

    p = nc_cpymem(errstr, nc_cached_err_log_time.data,
                  nc_cached_err_log_time.len);

    p = nc_slprintf(p, last, " [%s] %d#0: ",
                    nc_log_level_name(level), (int) getpid());

    va_start(args, fmt);
    p = nc_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = nc_slprintf(p, last, " (%d: %s)", err, strerror(err));
    }

    if (p > last - 1) {
        p = last - 1;
    }

    *p++ = '\n';

    /* one write() per line keeps lines from several processes whole */
    (void) !write(log->fd, errstr, p - errstr);

    if (log->fd != STDERR_FILENO && level <= NC_LOG_EMERG
        && log != &nc_default_log && isatty(STDERR_FILENO))
    {
        (void) !write(STDERR_FILENO, errstr, p - errstr);
    }
}


nc_int_t
nc_log_level_by_name(const nc_str_t *name)
{
    nc_uint_t  i;

    for (i = 1; i < nc_nelems(nc_log_levels); i++) {
        if (name->len == nc_strlen(nc_log_levels[i])
            && nc_memcmp(name->data, nc_log_levels[i], name->len) == 0)
        {
            return i;
        }
    }

    return NC_ERROR;
}


const char *
nc_log_level_name(nc_uint_t level)
{
    if (level >= nc_nelems(nc_log_levels)) {
        return "debug";
    }

    return nc_log_levels[level];
}


nc_int_t
nc_log_open(nc_log_t *log, const char *path, nc_uint_t level)
{
    nc_fd_t  fd;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        return NC_ERROR;
    }

    log->fd = fd;
    log->path = (char *) path;
    log->log_level = level;

    return NC_OK;
}


void
nc_log_close(nc_log_t *log)
{
    if (log->fd != STDERR_FILENO && log->fd != NC_INVALID_FILE) {
        (void) close(log->fd);
    }

    log->fd = NC_INVALID_FILE;
}


nc_int_t
nc_log_redirect_stderr(nc_log_t *log)
{
    if (log->fd == STDERR_FILENO) {
        return NC_OK;
    }

    if (dup2(log->fd, STDERR_FILENO) == -1) {
        return NC_ERROR;
    }

    return NC_OK;
}


void
nc_log_stderr(nc_err_t err, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    errstr[NC_MAX_ERROR_STR];

    last = errstr + NC_MAX_ERROR_STR;

    p = nc_cpymem(errstr, "nacre: ", 7);

    va_start(args, fmt);
    p = nc_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = nc_slprintf(p, last, " (%d: %s)", err, strerror(err));
    }

    if (p > last - 1) {
        p = last - 1;
    }

    *p++ = '\n';

    (void) !write(STDERR_FILENO, errstr, p - errstr);
}
