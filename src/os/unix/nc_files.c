
/*
 * nacre: files and directories: pid file, directory creation.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_os.h>


nc_int_t
nc_create_dirs(const char *path, mode_t mode)
{
    char    *p;
    size_t   len;
    char     buf[PATH_MAX];

    len = strlen(path);
    if (len == 0 || len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return NC_ERROR;
    }

    nc_memcpy(buf, path, len + 1);

    for (p = buf + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }

        *p = '\0';

        if (mkdir(buf, mode) == -1 && errno != EEXIST) {
            return NC_ERROR;
        }

        *p = '/';
    }

    if (mkdir(buf, mode) == -1 && errno != EEXIST) {
        return NC_ERROR;
    }

    return NC_OK;
}


nc_int_t
nc_create_parent_dirs(const char *path, mode_t mode)
{
    char    *slash;
    size_t   len;
    char     buf[PATH_MAX];

    len = strlen(path);
    if (len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return NC_ERROR;
    }

    nc_memcpy(buf, path, len + 1);

    slash = strrchr(buf, '/');
    if (slash == NULL || slash == buf) {
        return NC_OK;
    }

    *slash = '\0';

    return nc_create_dirs(buf, mode);
}


nc_int_t
nc_write_pid_file(const char *path, nc_log_t *log)
{
    int      n;
    nc_fd_t  fd;
    char     tmp[PATH_MAX], pid[NC_INT_T_LEN + 2];

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
        nc_log_error(NC_LOG_EMERG, log, 0, "pid file path too long");
        return NC_ERROR;
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "open() \"%s\" failed", tmp);
        return NC_ERROR;
    }

    n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());

    if (write(fd, pid, n) != n) {
        nc_log_error(NC_LOG_EMERG, log, errno, "write() \"%s\" failed", tmp);
        (void) close(fd);
        (void) unlink(tmp);
        return NC_ERROR;
    }

    (void) close(fd);

    /* readers see the old pid or the new one, never an empty file */
    if (rename(tmp, path) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno,
                     "rename() \"%s\" to \"%s\" failed", tmp, path);
        (void) unlink(tmp);
        return NC_ERROR;
    }

    return NC_OK;
}


void
nc_delete_pid_file(const char *path, nc_log_t *log)
{
    if (unlink(path) == -1 && errno != ENOENT) {
        nc_log_error(NC_LOG_ALERT, log, errno, "unlink() \"%s\" failed", path);
    }
}


pid_t
nc_read_pid_file(const char *path)
{
    ssize_t   n;
    nc_fd_t   fd;
    nc_int_t  pid;
    u_char    buf[NC_INT_T_LEN + 2];

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    n = read(fd, buf, sizeof(buf));
    (void) close(fd);

    if (n <= 0) {
        errno = EINVAL;
        return -1;
    }

    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    pid = nc_atoi(buf, n);
    if (pid <= 0) {
        errno = EINVAL;
        return -1;
    }

    return (pid_t) pid;
}


nc_int_t
nc_daemon(nc_log_t *log)
{
    nc_fd_t  fd;

    switch (fork()) {
    case -1:
        nc_log_error(NC_LOG_EMERG, log, errno, "fork() failed");
        return NC_ERROR;

    case 0:
        break;

    default:
        exit(0);
    }

    if (setsid() == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "setsid() failed");
        return NC_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "open(\"/dev/null\") failed");
        return NC_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1) {
        nc_log_error(NC_LOG_EMERG, log, errno, "dup2() failed");
        return NC_ERROR;
    }

    if (fd > STDERR_FILENO) {
        (void) close(fd);
    }

    return NC_OK;
}
