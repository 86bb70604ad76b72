
/*
 * nacre: main(). Reads the command line and the configuration, then
 * either answers (-t, -T, -s, -v, -V) or becomes the master process.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_process.h>
#include <nc_process_cycle.h>
#include <nc_store.h>
#include <nc_consensus.h>
#include <nc_http.h>
#include <nc_gateway_shared.h>
#include <nc_config_listeners.h>
#include <nacre.h>

#include <libfyaml.h>
#include <pcre2.h>
#include <zlib.h>


typedef struct {
    unsigned      show_help:1;
    unsigned      show_version:1;
    unsigned      show_configure:1;
    unsigned      test_config:1;
    unsigned      dump_config:1;
    unsigned      conf_given:1;

    const char   *prefix;
    const char   *conf_file;
    const char   *signal;
} nc_options_t;


static nc_int_t nc_get_options(int argc, char *const *argv,
    nc_options_t *opt);
static void nc_show_version(nc_options_t *opt);
static char *nc_resolve_prefix(const char *prefix);


int
main(int argc, char *const *argv)
{
    char          *prefix;
    nc_conf_t     *conf;
    nc_cycle_t    *cycle;
    nc_options_t   opt;
    char           err[NC_CONF_ERRSTR_SIZE];

    nc_time_init();

    nc_pid = getpid();
    nc_parent = getppid();
    nc_process = NC_PROCESS_MASTER;

    nc_memzero(&opt, sizeof(nc_options_t));

    if (nc_get_options(argc, argv, &opt) != NC_OK) {
        return 1;
    }

    if (opt.show_version || opt.show_help || opt.show_configure) {
        nc_show_version(&opt);

        if (!opt.test_config) {
            return 0;
        }
    }

    prefix = nc_resolve_prefix(opt.prefix ? opt.prefix : NC_PREFIX);
    if (prefix == NULL) {
        return 1;
    }

    if (opt.conf_file == NULL) {
        opt.conf_file = NC_CONF_PATH;
    }

    conf = nc_cycle_load_conf(prefix, opt.conf_file, opt.conf_given, err);
    free(prefix);                   /* the cycle keeps its own copy */

    if (conf == NULL) {
        nc_log_stderr(0, "%s", err);

        if (opt.test_config) {
            nc_log_stderr(0, "configuration file test failed");
        }

        return 1;
    }

    if (opt.test_config) {
        nc_log_stderr(0, "the configuration file %s syntax is ok",
                      conf->file.data);

        if (opt.dump_config) {
            nc_conf_dump(conf, stdout);
            (void) fflush(stdout);
        }

        nc_log_stderr(0, "configuration file %s test is successful",
                      conf->file.data);
        nc_conf_free(conf);
        return 0;
    }

    if (opt.signal) {
        nc_int_t rc = nc_signal_process((char *) conf->pid.data, opt.signal);
        nc_conf_free(conf);
        return rc == NC_OK ? 0 : 1;
    }

    nc_log_default()->log_level = conf->log_level;

    if (nc_init_signals(nc_log_default()) != NC_OK) {
        return 1;
    }

    if (nc_create_dirs((char *) conf->data_dir.data, 0700) != NC_OK) {
        nc_log_stderr(errno, "could not create data_dir \"%s\"",
                      conf->data_dir.data);
        return 1;
    }

    if (nc_create_parent_dirs((char *) conf->pid.data, 0755) != NC_OK) {
        nc_log_stderr(errno, "could not create the directory of \"%s\"",
                      conf->pid.data);
        return 1;
    }

    cycle = nc_init_cycle(NULL, conf);
    if (cycle == NULL) {
        nc_conf_free(conf);
        return 1;
    }

    nc_cycle = cycle;

    /* before any child exists: every one of them inherits the mapping */
    nc_store = nc_store_create(conf->store.shm_size, &cycle->log);
    if (nc_store == NULL || nc_consensus_listen(cycle) != NC_OK
        || nc_gateway_shared_init(&cycle->log) != NC_OK
        || nc_config_listeners_init(&cycle->log) != NC_OK)
    {
        return 1;
    }

    if (nc_init_setproctitle(argc, argv, &cycle->log) != NC_OK) {
        return 1;
    }

    if (conf->daemon) {
        if (nc_daemon(&cycle->log) != NC_OK) {
            return 1;
        }

        nc_pid = getpid();

        /* library messages and sanitizer reports land in the error log */
        if (nc_log_redirect_stderr(&cycle->log) != NC_OK) {
            nc_log_error(NC_LOG_EMERG, &cycle->log, errno,
                         "dup2(STDERR) failed");
            return 1;
        }
    }

    if (nc_write_pid_file((char *) conf->pid.data, &cycle->log) != NC_OK) {
        return 1;
    }

    nc_log_error(NC_LOG_NOTICE, &cycle->log, 0, "%s started, conf \"%s\"",
                 NACRE_VER, conf->file.data);

    nc_master_process_cycle(cycle);

    return 0;
}


static nc_int_t
nc_get_options(int argc, char *const *argv, nc_options_t *opt)
{
    int          i;
    const char  *p;

    for (i = 1; i < argc; i++) {

        p = argv[i];

        if (*p++ != '-' || *p == '\0') {
            nc_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return NC_ERROR;
        }

        while (*p) {

            switch (*p++) {

            case '?':
            case 'h':
                opt->show_version = 1;
                opt->show_help = 1;
                break;

            case 'v':
                opt->show_version = 1;
                break;

            case 'V':
                opt->show_version = 1;
                opt->show_configure = 1;
                break;

            case 't':
                opt->test_config = 1;
                break;

            case 'T':
                opt->test_config = 1;
                opt->dump_config = 1;
                break;

            case 'p':
            case 'c':
            case 's':
                if (*p == '\0' && argv[i + 1] == NULL) {
                    nc_log_stderr(0, "option \"-%c\" requires an argument",
                                  p[-1]);
                    return NC_ERROR;
                }

                if (p[-1] == 'p') {
                    opt->prefix = *p ? p : argv[++i];

                } else if (p[-1] == 'c') {
                    opt->conf_file = *p ? p : argv[++i];
                    opt->conf_given = 1;

                } else {
                    opt->signal = *p ? p : argv[++i];
                }

                goto next;

            default:
                nc_log_stderr(0, "invalid option: \"%c\"", p[-1]);
                return NC_ERROR;
            }
        }

    next:

        continue;
    }

    return NC_OK;
}


static void
nc_show_version(nc_options_t *opt)
{
    u_char  pcre[64];

    (void) fprintf(stderr, "nacre version: " NACRE_VER NC_LINEFEED);

    if (opt->show_help) {
        (void) fprintf(stderr,
            "Usage: nacre [-?hvVtT] [-s signal] [-p prefix] [-c filename]"
            NC_LINEFEED NC_LINEFEED
            "Options:" NC_LINEFEED
            "  -?,-h         : this help" NC_LINEFEED
            "  -v            : show version and exit" NC_LINEFEED
            "  -V            : show version, build options and libraries"
                               NC_LINEFEED
            "  -t            : test configuration and exit" NC_LINEFEED
            "  -T            : test configuration, dump it and exit"
                               NC_LINEFEED
            "  -s signal     : send signal to a master process: "
                               "stop, quit, reopen, reload" NC_LINEFEED
            "  -p prefix     : set prefix path (default: " NC_PREFIX ")"
                               NC_LINEFEED
            "  -c filename   : set configuration file (default: "
                               NC_CONF_PATH ")" NC_LINEFEED);
    }

    if (opt->show_configure) {
        (void) pcre2_config(PCRE2_CONFIG_VERSION, pcre);

        (void) fprintf(stderr,
            "built by " NC_CC_NAME NC_LINEFEED
            "built with %s" NC_LINEFEED
            "built with zlib %s, pcre2 %s, libfyaml %s" NC_LINEFEED
            "configure arguments: " NC_CONFIGURE NC_LINEFEED,
            nc_ssl_version(), zlibVersion(), (char *) pcre,
            fy_library_version());
    }
}


static char *
nc_resolve_prefix(const char *prefix)
{
    size_t   len;
    char    *p, cwd[PATH_MAX];

    len = strlen(prefix);

    if (prefix[0] == '/') {
        cwd[0] = '\0';

    } else if (getcwd(cwd, sizeof(cwd) - 1) == NULL) {
        nc_log_stderr(errno, "getcwd() failed");
        return NULL;

    } else {
        (void) strcat(cwd, "/");
    }

    p = malloc(strlen(cwd) + len + 2);
    if (p == NULL) {
        return NULL;
    }

    (void) sprintf(p, "%s%s%s", cwd, prefix,
                   (len && prefix[len - 1] == '/') ? "" : "/");

    return p;
}
