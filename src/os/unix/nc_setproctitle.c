
/*
 * nacre: process titles. Linux shows argv[] as the title, so the title is
 * written over the argv area, which is made longer by moving environ[]
 * (contiguous after argv) to the heap first.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_os.h>


extern char  **environ;

static char   *nc_title_start;
static char   *nc_title_end;
static char   *nc_cmdline;        /* the original command line */


nc_int_t
nc_init_setproctitle(int argc, char *const *argv, nc_log_t *log)
{
    int      i;
    char    *p, *last;
    size_t   size, len;

    if (argc == 0 || argv[0] == NULL) {
        return NC_OK;
    }

    /* the title overwrites argv: keep the command line for the master's */
    size = 0;

    for (i = 0; i < argc; i++) {
        size += strlen(argv[i]) + 1;
    }

    nc_cmdline = nc_alloc(size);
    if (nc_cmdline == NULL) {
        return NC_ERROR;
    }

    p = nc_cmdline;

    for (i = 0; i < argc; i++) {
        len = strlen(argv[i]);
        nc_memcpy(p, argv[i], len);
        p += len;
        *p++ = (i == argc - 1) ? '\0' : ' ';
    }

    last = argv[0];

    for (i = 0; i < argc; i++) {
        if (argv[i] == last) {
            last = argv[i] + strlen(argv[i]) + 1;
        }
    }

    size = 0;

    for (i = 0; environ[i]; i++) {
        if (environ[i] == last) {
            size += strlen(environ[i]) + 1;
            last = environ[i] + strlen(environ[i]) + 1;
        }
    }

    p = nc_alloc(size ? size : 1);
    if (p == NULL) {
        return NC_ERROR;
    }

    for (i = 0; environ[i]; i++) {
        if (environ[i] >= argv[0] && environ[i] < last) {
            len = strlen(environ[i]) + 1;
            nc_memcpy(p, environ[i], len);
            environ[i] = p;
            p += len;
        }
    }

    nc_title_start = argv[0];
    nc_title_end = last;

    (void) log;

    return NC_OK;
}


const char *
nc_os_cmdline(void)
{
    return nc_cmdline ? nc_cmdline : "nacre";
}


void
nc_setproctitle(const char *fmt, ...)
{
    int      n;
    size_t   size;
    va_list  args;
    char     name[16];

    if (nc_title_start == NULL) {
        return;
    }

    size = nc_title_end - nc_title_start;

    va_start(args, fmt);
    n = vsnprintf(nc_title_start, size, fmt, args);
    va_end(args);

    if (n >= 0 && (size_t) n + 1 < size) {
        nc_memzero(nc_title_start + n + 1, size - n - 1);
    }

    /* also the short name top(1) and ps -o comm show */
    (void) snprintf(name, sizeof(name), "%s",
                    strstr(nc_title_start, "worker") ? "nacre: worker"
                                                     : "nacre: master");
    (void) prctl(PR_SET_NAME, name);
}
