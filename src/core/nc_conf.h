
/*
 * nacre: the configuration, read from YAML (conf/nacre.yaml) with libfyaml.
 *
 * The loader is table driven: every key maps to a typed setter and an
 * offset in one of the structs below. Validation is strict: unknown keys,
 * wrong types, bad units and bad addresses are errors that name the exact
 * position as "file:line:column: message".
 */

#ifndef _NC_CONF_H_INCLUDED_
#define _NC_CONF_H_INCLUDED_


#include <nc_config.h>


#define NC_CONF_UNSET        -1
#define NC_CONF_UNSET_UINT   (nc_uint_t) -1
#define NC_CONF_UNSET_SIZE   (size_t) -1
#define NC_CONF_UNSET_MSEC   (nc_msec_t) -1

#define NC_CONF_ERRSTR_SIZE  1024


/* one listen address */
typedef struct {
    struct sockaddr_storage   sockaddr;
    socklen_t                 socklen;
    nc_str_t                  text;        /* "127.0.0.1:8848", "[::1]:8848" */
} nc_conf_addr_t;


typedef struct {
    nc_str_t        certificate;       /* absolute path; len 0: no TLS */
    nc_str_t        certificate_key;
} nc_conf_tls_t;


typedef struct {
    nc_array_t      listen;                    /* of nc_conf_addr_t */
    nc_conf_tls_t   tls;

    size_t          client_max_body_size;      /* 10m */
    size_t          client_header_buffer_size; /* 16k: request line+headers */
    nc_msec_t       client_header_timeout;     /* 60s */
    nc_msec_t       client_body_timeout;       /* 60s */
    nc_msec_t       send_timeout;              /* 60s */
    nc_msec_t       keepalive_timeout;         /* 75s; 0 disables */
    nc_uint_t       keepalive_requests;        /* 1000 */

    nc_flag_t       gzip;                      /* true */
    size_t          gzip_min_length;           /* 1k */
    nc_uint_t       gzip_comp_level;           /* 1..9, default 1 */

    nc_str_t        root;                      /* html, absolute */
} nc_conf_api_t;


typedef struct {
    size_t          shm_size;                  /* 1g, reserved not used */
} nc_conf_store_t;


/*
 * cluster: the peers of the consensus process.  Without the key, or with
 * members listing only self, the node is a cluster of one (standalone).
 * The member list is the bootstrap list only: the live membership is in
 * the Raft log.
 */
typedef struct {
    nc_flag_t       present;                   /* the key was given */
    nc_conf_addr_t  self;                      /* 127.0.0.1:7848 */
    nc_array_t      members;                   /* of nc_conf_addr_t, with
                                                  self; empty: standalone */
    nc_str_t        secret_file;               /* absolute; required when
                                                  members name others */
    nc_msec_t       election_timeout;          /* 1s */
    nc_msec_t       heartbeat_interval;        /* 100ms */
    nc_uint_t       snapshot_entries;          /* 100000 */
    size_t          wal_segment_size;          /* 64m */
} nc_conf_cluster_t;


/*
 * auth: on by default.  The first leader of a cluster creates the admin
 * user "nacos" with the password in admin_password_file, or a random one
 * it writes to data/initial-admin-password.
 */
typedef struct {
    nc_flag_t       enabled;                   /* true */
    nc_str_t        admin_password_file;       /* absolute; len 0: none */
    nc_msec_t       token_ttl;                 /* 5h */
} nc_conf_auth_t;


/* config: the config center (Nacos' configs) */
typedef struct {
    size_t          max_content_size;          /* 10m */
    nc_msec_t       history_max_age;           /* 30d */
    nc_uint_t       history_max_count;         /* 100 per item */
} nc_conf_config_t;


/*
 * naming: the registry.  Ephemeral instances that stop beating turn
 * unhealthy, then go (an instance's preserved.* metadata may say
 * otherwise for itself).
 */
typedef struct {
    nc_msec_t       beat_interval;             /* 5s: told to clients */
    nc_msec_t       unhealthy_after;           /* 15s */
    nc_msec_t       remove_after;              /* 30s */

    /* persistent instances: the leader's TCP and HTTP checks */
    nc_flag_t       health_check;              /* true; false: health is
                                                  what it was set to */
    nc_msec_t       check_interval;            /* 5s, per instance */
    nc_msec_t       check_timeout;             /* 2s */
    nc_uint_t       check_times;               /* 3 in a row flip health */
    nc_uint_t       check_concurrency;         /* 64 at once */

    size_t          list_cache;                /* 64m of rendered lists
                                                  per process */
} nc_conf_naming_t;


/* a route declared in the conf: its JSON as the routes API takes it */
typedef struct {
    nc_str_t        id;
    nc_str_t        json;
} nc_conf_route_t;


/* the gateway's TLS listeners: the certificate is chosen by the name the
 * client asks (SNI) among the names each certificate holds */
typedef struct {
    nc_array_t      listen;                    /* of nc_conf_addr_t */
    nc_array_t      certificates;              /* of nc_conf_tls_t; the
                                                  first when none fits */
} nc_conf_gateway_tls_t;


/*
 * gateway: the HTTP traffic proxied to registered instances (routes live
 * in the store, see src/gateway, and may be declared here too).
 */
typedef struct {
    nc_array_t      listen;                    /* 127.0.0.1:9080, or off */
    nc_conf_gateway_tls_t tls;                 /* optional */
    nc_array_t      routes;                    /* of nc_conf_route_t: this
                                                  node's own, checked */
    nc_uint_t       upstream_keepalive;        /* 128 idle connections per
                                                  upstream, per worker */
    nc_msec_t       upstream_keepalive_timeout;  /* 60s */
    size_t          buffer_size;               /* 16k: a response header
                                                  must fit; bodies move in
                                                  pieces this big */
    size_t          client_max_body_size;      /* 100m: streamed, never
                                                  held whole */
    nc_uint_t       max_fails;                 /* 3 failures in a row eject
                                                  an instance, 0: never */
    nc_msec_t       fail_timeout;              /* 10s: for this long */
} nc_conf_gateway_t;


struct nc_conf_s {
    nc_pool_t      *pool;                      /* everything below lives here */

    nc_str_t        file;                      /* absolute path of the conf */
    nc_str_t        prefix;                    /* absolute, ends with '/' */

    nc_flag_t       daemon;                    /* false */
    nc_uint_t       worker_processes;          /* "auto": online CPUs */
    nc_uint_t       worker_connections;        /* 4096 */
    nc_msec_t       worker_shutdown_timeout;   /* 10s */
    nc_str_t        pid;                       /* logs/nacre.pid */
    nc_str_t        error_log;                 /* logs/error.log */
    nc_uint_t       log_level;                 /* NC_LOG_INFO */
    nc_str_t        access_log;                /* logs/access.log; len 0: off */
    nc_str_t        data_dir;                  /* data */

    nc_conf_api_t   api;
    nc_conf_store_t store;
    nc_conf_cluster_t cluster;
    nc_conf_auth_t  auth;
    nc_conf_config_t config;
    nc_conf_naming_t naming;
    nc_conf_gateway_t gateway;
};

/*
 * All paths above are absolute and NUL-terminated (relative ones in the
 * file resolve against the prefix); nc_str_t.len excludes the NUL.
 */


/*
 * Read and validate the file at path (relative: against prefix).
 * On error returns NULL and writes "file:line:column: message" into err
 * (NC_CONF_ERRSTR_SIZE bytes).
 */
nc_conf_t *nc_conf_load(const char *prefix, const char *path, char *err);

/* the same from a string in memory, "name" standing for the file name */
nc_conf_t *nc_conf_load_string(const char *prefix, const char *name,
    const char *yaml, size_t len, char *err);

void nc_conf_free(nc_conf_t *conf);

/* the effective configuration as YAML, every key with its value (-T) */
void nc_conf_dump(nc_conf_t *conf, FILE *out);


/* "512", "512k", "10m", "1g" -> bytes; NC_ERROR on junk or overflow */
ssize_t nc_parse_size(const nc_str_t *line);

/* "500ms", "30s", "5m", "1h", "2d" (and a bare number of seconds) */
nc_msec_int_t nc_parse_msec(const nc_str_t *line);

/* "127.0.0.1:8848", "[::1]:8848", "localhost:8848", "*:8848", "8848" */
nc_int_t nc_parse_addr(const nc_str_t *text, nc_conf_addr_t *addr);

/*
 * nc_parse_addr() has no pool, so it leaves addr->text empty; this renders
 * the canonical text ("0.0.0.0:8848", "[::1]:8848") into buf, NUL-terminated,
 * and returns its length, 0 if it does not fit (the loader fills text itself).
 */
#define NC_CONF_ADDR_STRLEN  96

size_t nc_conf_addr_text(const nc_conf_addr_t *addr, u_char *buf,
    size_t size);


#endif /* _NC_CONF_H_INCLUDED_ */
