
/*
 * nacre: the cycle.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_http.h>


nc_cycle_t  *nc_cycle;

/*
 * Own copies: the originals may point into argv, which setproctitle
 * overwrites before the first reload.
 */
static char       *nc_conf_prefix;
static char       *nc_conf_path;
static nc_flag_t   nc_conf_given;


nc_conf_t *
nc_cycle_load_conf(const char *prefix, const char *path, nc_flag_t given,
    char *err)
{
    struct stat  st;
    char         full[PATH_MAX];

    if (prefix != nc_conf_prefix) {
        free(nc_conf_prefix);
        nc_conf_prefix = strdup(prefix);
    }

    if (path != nc_conf_path) {
        free(nc_conf_path);
        nc_conf_path = strdup(path);
    }

    if (nc_conf_prefix == NULL || nc_conf_path == NULL) {
        (void) snprintf(err, NC_CONF_ERRSTR_SIZE, "out of memory");
        return NULL;
    }

    nc_conf_given = given;

    /* with no file at the default place, run on the embedded defaults */
    if (!given && path[0] != '/') {
        (void) snprintf(full, sizeof(full), "%s%s", prefix, path);

        if (stat(full, &st) == -1 && errno == ENOENT) {
            return nc_conf_load_string(prefix, "(embedded default)", "", 0,
                                       err);
        }
    }

    return nc_conf_load(prefix, path, err);
}


nc_conf_t *
nc_cycle_reload_conf(char *err)
{
    return nc_cycle_load_conf(nc_conf_prefix, nc_conf_path, nc_conf_given,
                              err);
}


static nc_int_t nc_cycle_open_logs(nc_cycle_t *cycle, nc_log_t *log);
static nc_int_t nc_cycle_listen(nc_cycle_t *cycle, nc_cycle_t *old,
    nc_array_t *listen, nc_flag_t gateway, void *servers, nc_log_t *log);
static nc_int_t nc_cycle_open_listening(nc_cycle_t *cycle, nc_cycle_t *old,
    nc_log_t *log);
static nc_flag_t nc_cycle_held(nc_cycle_t *old, nc_listening_t *ls);


nc_cycle_t *
nc_init_cycle(nc_cycle_t *old, nc_conf_t *conf)
{
    nc_uint_t        i;
    nc_log_t        *log;
    nc_listening_t  *ls;
    nc_pool_t       *pool;
    nc_cycle_t      *cycle;

    log = old ? &old->log : nc_log_default();

    pool = nc_create_pool(NC_POOL_DEFAULT_SIZE);
    if (pool == NULL) {
        return NULL;
    }

    cycle = nc_pcalloc(pool, sizeof(nc_cycle_t));
    if (cycle == NULL) {
        nc_destroy_pool(pool);
        return NULL;
    }

    cycle->pool = pool;
    cycle->conf = conf;
    cycle->log.fd = NC_INVALID_FILE;
    cycle->access_log = NC_INVALID_FILE;
    cycle->generation = old ? old->generation + 1 : 0;

    if (nc_array_init(&cycle->listening, pool, 2, sizeof(nc_listening_t))
        != NC_OK)
    {
        goto failed;
    }

    if (nc_cycle_open_logs(cycle, log) != NC_OK) {
        goto failed;
    }

    if (conf->api.tls.certificate.len) {
        cycle->ssl_ctx = nc_ssl_create_ctx(&conf->api.tls, 1, log);
        if (cycle->ssl_ctx == NULL) {
            goto failed;
        }
    }

    if (conf->gateway.tls.certificates.nelts) {
        cycle->gateway_ssl_ctx = nc_ssl_create_ctx(
                                     conf->gateway.tls.certificates.elts,
                                     conf->gateway.tls.certificates.nelts,
                                     log);
        if (cycle->gateway_ssl_ctx == NULL) {
            goto failed;
        }
    }

    if (nc_cycle_open_listening(cycle, old, log) != NC_OK) {
        goto failed;
    }

    return cycle;

failed:

    /* sockets taken over from the running cycle stay with it */
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].open) {
            ls[i].fd = NC_INVALID_FILE;
        }
    }

    nc_close_listening(cycle);

    if (old) {
        ls = old->listening.elts;

        for (i = 0; i < old->listening.nelts; i++) {
            ls[i].remain = 0;
        }
    }

    cycle->conf = NULL;     /* the caller still owns conf */
    nc_destroy_cycle(cycle);

    return NULL;
}


static nc_int_t
nc_cycle_open_logs(nc_cycle_t *cycle, nc_log_t *log)
{
    nc_conf_t  *conf;

    conf = cycle->conf;

    if (nc_create_parent_dirs((char *) conf->error_log.data, 0755) != NC_OK
        || nc_log_open(&cycle->log, (char *) conf->error_log.data,
                       conf->log_level) != NC_OK)
    {
        nc_log_error(NC_LOG_EMERG, log, errno, "could not open error log "
                     "\"%s\"", conf->error_log.data);
        return NC_ERROR;
    }

    if (conf->access_log.len == 0) {
        return NC_OK;
    }

    if (nc_create_parent_dirs((char *) conf->access_log.data, 0755) != NC_OK)
    {
        goto failed;
    }

    cycle->access_log = open((char *) conf->access_log.data,
                             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (cycle->access_log == NC_INVALID_FILE) {
        goto failed;
    }

    return NC_OK;

failed:

    nc_log_error(NC_LOG_EMERG, log, errno, "could not open access log \"%s\"",
                 conf->access_log.data);
    return NC_ERROR;
}


static nc_int_t
nc_cycle_open_listening(nc_cycle_t *cycle, nc_cycle_t *old, nc_log_t *log)
{
    nc_conf_t  *conf;

    conf = cycle->conf;

    if (nc_cycle_listen(cycle, old, &conf->api.listen, 0, cycle->ssl_ctx, log)
        != NC_OK
        || nc_cycle_listen(cycle, old, &conf->gateway.listen, 1, NULL, log)
           != NC_OK)
    {
        return NC_ERROR;
    }

    if (conf->gateway.tls.listen.nelts == 0) {
        return NC_OK;
    }

    return nc_cycle_listen(cycle, old, &conf->gateway.tls.listen, 1,
                           cycle->gateway_ssl_ctx, log);
}


/* the addresses of one role: the API's, or the gateway's (servers: the
 * TLS context, NULL for plain HTTP) */
static nc_int_t
nc_cycle_listen(nc_cycle_t *cycle, nc_cycle_t *old, nc_array_t *listen,
    nc_flag_t gateway, void *servers, nc_log_t *log)
{
    nc_uint_t        i, j, w;
    nc_conf_addr_t  *addr;
    nc_listening_t  *ls, *ols;

    addr = listen->elts;

    /* a socket for each worker on each address */
    for (i = 0; i < listen->nelts * cycle->conf->worker_processes; i++) {
        w = i % cycle->conf->worker_processes;

        ls = nc_array_push(&cycle->listening);
        if (ls == NULL) {
            return NC_ERROR;
        }

        nc_memzero(ls, sizeof(nc_listening_t));

        ls->fd = NC_INVALID_FILE;
        ls->sockaddr = addr[i / cycle->conf->worker_processes].sockaddr;
        ls->socklen = addr[i / cycle->conf->worker_processes].socklen;
        ls->addr_text = addr[i / cycle->conf->worker_processes].text;
        ls->worker = w;
        ls->backlog = 4096;
        ls->handler = nc_http_init_connection;
        ls->servers = servers;
        ls->gateway = gateway;

        /* the same address in the old cycle: hand its socket over */
        if (old) {
            ols = old->listening.elts;

            for (j = 0; j < old->listening.nelts; j++) {
                if (ols[j].fd != NC_INVALID_FILE && !ols[j].remain
                    && ols[j].worker == w
                    && ols[j].socklen == ls->socklen
                    && nc_memcmp(&ols[j].sockaddr, &ls->sockaddr,
                                 ls->socklen) == 0)
                {
                    ls->fd = ols[j].fd;
                    ols[j].remain = 1;
                    ls->open = 1;
                    break;
                }
            }
        }

        if (ls->fd != NC_INVALID_FILE) {
            continue;
        }

        /*
         * An address new to this master: nobody else may hold it.  Our
         * sockets share it by SO_REUSEPORT, which would let another
         * daemon's share it as well, silently splitting the connections;
         * a socket without the option is refused while anyone listens.
         */
        if (w == 0 && !nc_cycle_held(old, ls)
            && nc_probe_listening_socket(ls, log) != NC_OK)
        {
            return NC_ERROR;
        }

        if (nc_open_listening_socket(ls, log) != NC_OK) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


/* does the old cycle listen on ls's address (any worker's socket) */
static nc_flag_t
nc_cycle_held(nc_cycle_t *old, nc_listening_t *ls)
{
    nc_uint_t        j;
    nc_listening_t  *ols;

    if (old == NULL) {
        return 0;
    }

    ols = old->listening.elts;

    for (j = 0; j < old->listening.nelts; j++) {
        if (ols[j].fd != NC_INVALID_FILE && ols[j].socklen == ls->socklen
            && nc_memcmp(&ols[j].sockaddr, &ls->sockaddr, ls->socklen) == 0)
        {
            return 1;
        }
    }

    return 0;
}


void
nc_close_listening(nc_cycle_t *cycle)
{
    nc_uint_t        i;
    nc_listening_t  *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != NC_INVALID_FILE && !ls[i].remain) {
            (void) close(ls[i].fd);
        }

        ls[i].fd = NC_INVALID_FILE;
    }
}


void
nc_destroy_cycle(nc_cycle_t *cycle)
{
    nc_log_close(&cycle->log);

    if (cycle->access_log != NC_INVALID_FILE) {
        (void) close(cycle->access_log);
    }

    if (cycle->ssl_ctx) {
        nc_ssl_free_ctx(cycle->ssl_ctx);
    }

    if (cycle->gateway_ssl_ctx) {
        nc_ssl_free_ctx(cycle->gateway_ssl_ctx);
    }

    if (cycle->conf) {
        nc_conf_free(cycle->conf);
    }

    nc_destroy_pool(cycle->pool);
}


void
nc_reopen_files(nc_cycle_t *cycle)
{
    nc_fd_t     fd;
    nc_conf_t  *conf;

    conf = cycle->conf;

    fd = open((char *) conf->error_log.data,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "could not reopen error log \"%s\"",
                     conf->error_log.data);

    } else {
        (void) dup3(fd, cycle->log.fd, O_CLOEXEC);
        (void) close(fd);
    }

    if (cycle->access_log == NC_INVALID_FILE) {
        return;
    }

    fd = open((char *) conf->access_log.data,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_ALERT, &cycle->log, errno,
                     "could not reopen access log \"%s\"",
                     conf->access_log.data);
        return;
    }

    (void) dup3(fd, cycle->access_log, O_CLOEXEC);
    (void) close(fd);
}
