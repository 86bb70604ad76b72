
/*
 * nacre: the cycle, everything derived from one configuration: its
 * pool, logs, listening sockets and TLS context. A reload builds a new
 * cycle from the old one; any failure leaves the running one untouched.
 */

#ifndef _NC_CYCLE_H_INCLUDED_
#define _NC_CYCLE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


struct nc_cycle_s {
    nc_pool_t       *pool;
    nc_conf_t       *conf;

    nc_log_t         log;              /* the error log */
    nc_fd_t          access_log;       /* -1: off */

    nc_array_t       listening;        /* of nc_listening_t */

    void            *ssl_ctx;          /* SSL_CTX * of the api listeners */
    void            *gateway_ssl_ctx;  /* ... of the gateway's TLS ones */

    nc_uint_t        generation;       /* 0 at start, +1 per reload */
};


extern nc_cycle_t  *nc_cycle;


/*
 * Load the configuration at path (relative: under prefix). When no path
 * was given and the default file does not exist, the embedded defaults
 * apply. The arguments are kept for nc_cycle_reload_conf().
 */
nc_conf_t *nc_cycle_load_conf(const char *prefix, const char *path,
    nc_flag_t given, char *err);
nc_conf_t *nc_cycle_reload_conf(char *err);

/*
 * Build a cycle for conf (which it then owns), taking over the listening
 * sockets of old whose address is still configured. On failure returns
 * NULL having logged to old's log (or stderr) and closed whatever it
 * opened; conf stays the caller's to free.
 */
nc_cycle_t *nc_init_cycle(nc_cycle_t *old, nc_conf_t *conf);

/* close the listening sockets no successor cycle took over */
void nc_close_listening(nc_cycle_t *cycle);

void nc_destroy_cycle(nc_cycle_t *cycle);

/* reopen the error and access logs (after logrotate renamed them) */
void nc_reopen_files(nc_cycle_t *cycle);


#endif /* _NC_CYCLE_H_INCLUDED_ */
