
/*
 * nacre: the YAML configuration loader.
 *
 * Two passes. libfyaml's event parser first builds a small tree of the
 * document in a temporary pool, so a syntax error anywhere wins over any
 * semantic error and every node keeps its own position (libfyaml 0.7 has no
 * public way to ask a document node where it came from). Command tables
 * then walk the tree and set typed fields of a conf whose fields all start
 * UNSET; a last pass fills defaults, parsed by the same setters from the
 * text in the tables.
 *
 * Scalars are read by their text: quoting does not change their meaning,
 * only a plain "", "~" or "null" is null. Booleans are true|false|on|off.
 * Tags are ignored, anchors are harmless, aliases are refused.
 */

#include <nc_config.h>
#include <nc_core.h>

#include <nc_json.h>
#include <nc_gateway_route.h>

#include <libfyaml.h>


#define NC_CONF_MAX_DEPTH       32
#define NC_CONF_MAX_FILE_SIZE   (16 * 1024 * 1024)
#define NC_CONF_QUOTE_LEN       64
#define NC_CONF_HOST_LEN        253

#define NC_CONF_NODE_SCALAR     1
#define NC_CONF_NODE_MAP        2
#define NC_CONF_NODE_SEQ        3

/* value types, indexes into nc_conf_types[] */
#define NC_CONF_T_FLAG          0
#define NC_CONF_T_UINT          1
#define NC_CONF_T_SIZE          2
#define NC_CONF_T_MSEC          3
#define NC_CONF_T_PATH          4
#define NC_CONF_T_LEVEL         5
#define NC_CONF_T_LISTEN        6
#define NC_CONF_T_MAP           7
#define NC_CONF_T_ADDR          8
#define NC_CONF_T_ROUTES        9
#define NC_CONF_T_CERTS         10

#define NC_CONF_F_AUTO          0x01    /* a number also takes "auto" */
#define NC_CONF_F_OFF           0x02    /* a path or a listen list also
                                           takes "off" */
#define NC_CONF_F_READABLE      0x04    /* a path names a readable file */
#define NC_CONF_F_REQUIRED      0x08
#define NC_CONF_F_OPTIONAL      0x10    /* a map that may be absent */
#define NC_CONF_F_DIAL          0x20    /* an address others connect to */

/*
 * Cluster secrets: the consensus process uses the first 4096 bytes of the
 * file without the newlines that end them, and refuses fewer than 16.
 */
#define NC_CONF_SECRET_MIN      16
#define NC_CONF_SECRET_MAX      4096


typedef struct nc_conf_node_s     nc_conf_node_t;
typedef struct nc_conf_cmd_s      nc_conf_cmd_t;
typedef struct nc_conf_section_s  nc_conf_section_t;

struct nc_conf_node_s {
    nc_uint_t                 type;
    nc_uint_t                 line;        /* 1-based; 0: unknown */
    nc_uint_t                 column;
    nc_uint_t                 quoted;      /* a quoted "" is not null */
    nc_str_t                  value;       /* scalars, NUL-terminated */
    nc_conf_node_t           *child;       /* maps: key, value, key ... */
    nc_conf_node_t           *last;
    nc_conf_node_t           *next;
};


typedef struct {
    nc_conf_t                *conf;
    nc_pool_t                *temp;        /* the tree, the file */
    const char               *name;        /* for messages */
    char                     *err;
    nc_uint_t                 failed;
} nc_conf_ctx_t;


struct nc_conf_cmd_s {
    nc_str_t                  name;
    nc_uint_t                 type;
    nc_uint_t                 flags;
    size_t                    offset;
    uint64_t                  min;
    uint64_t                  max;         /* 0: no upper bound */
    const char               *def;         /* parsed like the file's text */
    const nc_conf_section_t  *section;     /* NC_CONF_T_MAP */
};


typedef nc_int_t (*nc_conf_check_pt)(nc_conf_ctx_t *ctx,
    const nc_conf_section_t *section, nc_conf_node_t *node, u_char *base);

struct nc_conf_section_s {
    const char               *name;        /* "api", "api.tls"; NULL: top */
    const nc_conf_cmd_t      *cmds;
    nc_uint_t                 ncmds;
    nc_conf_check_pt          check;       /* across keys, after defaults */
};


typedef nc_int_t (*nc_conf_set_pt)(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
typedef void (*nc_conf_dump_pt)(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);

typedef struct {
    nc_conf_set_pt            set;
    nc_conf_dump_pt           dump;
} nc_conf_type_t;


static nc_conf_t *nc_conf_create(nc_conf_ctx_t *ctx, const char *prefix,
    const char *name, char *err);
static nc_int_t nc_conf_set_prefix(nc_conf_ctx_t *ctx, const char *prefix);
static nc_int_t nc_conf_read_file(nc_conf_ctx_t *ctx, u_char **buf,
    size_t *len);
static nc_conf_t *nc_conf_finish(nc_conf_ctx_t *ctx, nc_int_t rc);
static nc_int_t nc_conf_parse(nc_conf_ctx_t *ctx, const char *yaml,
    size_t len);
static nc_int_t nc_conf_parse_stream(nc_conf_ctx_t *ctx,
    struct fy_parser *fyp, nc_conf_node_t **root);
static nc_conf_node_t *nc_conf_build(nc_conf_ctx_t *ctx,
    struct fy_parser *fyp, struct fy_event *fye, nc_uint_t depth);
static void nc_conf_diag_output(struct fy_diag *diag, void *user,
    const char *buf, size_t len);

static void nc_conf_error(nc_conf_ctx_t *ctx, nc_conf_node_t *node,
    const char *fmt, ...) NC_PRINTF(3, 4);
static void nc_conf_nomem(nc_conf_ctx_t *ctx);
static const char *nc_conf_quote(const nc_str_t *s, char *buf);
static const char *nc_conf_in(const nc_conf_section_t *section, char *buf,
    size_t size);
static nc_uint_t nc_conf_is_null(nc_conf_node_t *node);
static nc_uint_t nc_conf_is_scalar(nc_conf_node_t *node);

static void nc_conf_reset(const nc_conf_section_t *section, u_char *base);
static nc_int_t nc_conf_check_listeners(nc_conf_ctx_t *ctx);
static nc_uint_t nc_conf_is_unset(const nc_conf_cmd_t *cmd, void *field);
static nc_int_t nc_conf_read_section(nc_conf_ctx_t *ctx,
    const nc_conf_section_t *section, nc_conf_node_t *node, u_char *base);
static nc_int_t nc_conf_init_section(nc_conf_ctx_t *ctx,
    const nc_conf_section_t *section, u_char *base);
static void nc_conf_dump_section(const nc_conf_section_t *section,
    u_char *base, FILE *out, int indent);
static nc_conf_node_t *nc_conf_value(nc_conf_node_t *map, const char *key);
static nc_int_t nc_conf_check_cluster(nc_conf_ctx_t *ctx,
    const nc_conf_section_t *section, nc_conf_node_t *node, u_char *base);
static nc_int_t nc_conf_check_secret(nc_conf_ctx_t *ctx,
    nc_conf_node_t *node, nc_str_t *path, const char *name, size_t min,
    size_t max);
static nc_int_t nc_conf_check_auth(nc_conf_ctx_t *ctx,
    const nc_conf_section_t *section, nc_conf_node_t *node, u_char *base);

static nc_int_t nc_conf_set_flag(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_uint(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_size(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_msec(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_path(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_check_readable(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, nc_str_t *path);
static int nc_conf_open_file(nc_conf_ctx_t *ctx, const nc_str_t *key,
    nc_conf_node_t *node, nc_str_t *path);
static nc_int_t nc_conf_set_level(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_listen(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_add_listen(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, nc_array_t *listen);
static nc_int_t nc_conf_set_routes(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_set_certs(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_json(nc_conf_ctx_t *ctx, nc_conf_node_t *node,
    nc_buf_t *b);
static nc_int_t nc_conf_json_string(nc_pool_t *pool, const nc_str_t *v,
    nc_buf_t *b);
static nc_flag_t nc_conf_is_number(const nc_str_t *v);
static nc_int_t nc_conf_set_addr(nc_conf_ctx_t *ctx,
    const nc_conf_cmd_t *cmd, nc_conf_node_t *node, void *field);
static nc_int_t nc_conf_addr(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, nc_conf_addr_t *addr);

static void nc_conf_dump_flag(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_uint(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_size(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_msec(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_path(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_level(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_listen(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_routes(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_certs(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_addr(const nc_conf_cmd_t *cmd, void *field,
    FILE *out, int indent);
static void nc_conf_dump_string(const nc_str_t *s, FILE *out);

static u_char *nc_conf_size_text(u_char *buf, size_t size, uint64_t n);
static u_char *nc_conf_msec_text(u_char *buf, size_t size, uint64_t n);


static const nc_conf_type_t  nc_conf_types[] = {
    { nc_conf_set_flag, nc_conf_dump_flag },
    { nc_conf_set_uint, nc_conf_dump_uint },
    { nc_conf_set_size, nc_conf_dump_size },
    { nc_conf_set_msec, nc_conf_dump_msec },
    { nc_conf_set_path, nc_conf_dump_path },
    { nc_conf_set_level, nc_conf_dump_level },
    { nc_conf_set_listen, nc_conf_dump_listen },
    { NULL, NULL },
    { nc_conf_set_addr, nc_conf_dump_addr },
    { nc_conf_set_routes, nc_conf_dump_routes },
    { nc_conf_set_certs, nc_conf_dump_certs }
};


static const nc_conf_cmd_t  nc_conf_tls_cmds[] = {

    { nc_string("certificate"), NC_CONF_T_PATH,
      NC_CONF_F_READABLE | NC_CONF_F_REQUIRED,
      offsetof(nc_conf_tls_t, certificate), 0, 0, NULL, NULL },

    { nc_string("certificate_key"), NC_CONF_T_PATH,
      NC_CONF_F_READABLE | NC_CONF_F_REQUIRED,
      offsetof(nc_conf_tls_t, certificate_key), 0, 0, NULL, NULL }
};


static const nc_conf_section_t  nc_conf_tls_section = {
    "api.tls", nc_conf_tls_cmds, nc_nelems(nc_conf_tls_cmds), NULL
};


static const nc_conf_cmd_t  nc_conf_api_cmds[] = {

    { nc_string("listen"), NC_CONF_T_LISTEN, 0,
      offsetof(nc_conf_api_t, listen), 0, 0, "127.0.0.1:8848", NULL },

    { nc_string("tls"), NC_CONF_T_MAP, NC_CONF_F_OPTIONAL,
      offsetof(nc_conf_api_t, tls), 0, 0, NULL, &nc_conf_tls_section },

    { nc_string("client_max_body_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_api_t, client_max_body_size), 0, 0, "10m", NULL },

    { nc_string("client_header_buffer_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_api_t, client_header_buffer_size),
      1024, 1024 * 1024, "16k", NULL },

    { nc_string("client_header_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_api_t, client_header_timeout), 0, 0, "60s", NULL },

    { nc_string("client_body_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_api_t, client_body_timeout), 0, 0, "60s", NULL },

    { nc_string("send_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_api_t, send_timeout), 0, 0, "60s", NULL },

    { nc_string("keepalive_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_api_t, keepalive_timeout), 0, 0, "75s", NULL },

    { nc_string("keepalive_requests"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_api_t, keepalive_requests), 1, 0, "1000", NULL },

    { nc_string("gzip"), NC_CONF_T_FLAG, 0,
      offsetof(nc_conf_api_t, gzip), 0, 0, "true", NULL },

    { nc_string("gzip_min_length"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_api_t, gzip_min_length), 0, 0, "1k", NULL },

    { nc_string("gzip_comp_level"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_api_t, gzip_comp_level), 1, 9, "1", NULL },

    { nc_string("root"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_api_t, root), 0, 0, "html", NULL }
};


static const nc_conf_section_t  nc_conf_api_section = {
    "api", nc_conf_api_cmds, nc_nelems(nc_conf_api_cmds), NULL
};


static const nc_conf_cmd_t  nc_conf_store_cmds[] = {

    /* reserved with MAP_NORESERVE: only what is used costs memory */
    { nc_string("shm_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_store_t, shm_size), 16 * 1024 * 1024,
      (uint64_t) 1 << 40, "1g", NULL }
};


static const nc_conf_section_t  nc_conf_store_section = {
    "store", nc_conf_store_cmds, nc_nelems(nc_conf_store_cmds), NULL
};


/*
 * self comes first: an optional map counts as absent while its first key
 * is unset. members has no default: without it members.nelts is 0 and
 * members.elts is NULL (standalone), and so is it with the whole section
 * absent, whose timings still get their defaults.
 */

static const nc_conf_cmd_t  nc_conf_cluster_cmds[] = {

    { nc_string("self"), NC_CONF_T_ADDR, NC_CONF_F_DIAL,
      offsetof(nc_conf_cluster_t, self), 0, 0, NULL, NULL },

    { nc_string("members"), NC_CONF_T_LISTEN, NC_CONF_F_DIAL,
      offsetof(nc_conf_cluster_t, members), 0, 0, NULL, NULL },

    { nc_string("secret_file"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_cluster_t, secret_file), 0, 0, NULL, NULL },

    { nc_string("election_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_cluster_t, election_timeout), 0, 60 * 1000,
      "1s", NULL },

    { nc_string("heartbeat_interval"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_cluster_t, heartbeat_interval), 10, 0,
      "100ms", NULL },

    { nc_string("snapshot_entries"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_cluster_t, snapshot_entries), 100, 100000000,
      "100000", NULL },

    /* a segment is deleted once a snapshot covers all of it */
    { nc_string("wal_segment_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_cluster_t, wal_segment_size), 64 * 1024,
      1024 * 1024 * 1024, "64m", NULL }
};


static const nc_conf_section_t  nc_conf_cluster_section = {
    "cluster", nc_conf_cluster_cmds, nc_nelems(nc_conf_cluster_cmds),
    nc_conf_check_cluster
};


static const nc_conf_cmd_t  nc_conf_auth_cmds[] = {

    { nc_string("enabled"), NC_CONF_T_FLAG, 0,
      offsetof(nc_conf_auth_t, enabled), 0, 0, "true", NULL },

    { nc_string("admin_password_file"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_auth_t, admin_password_file), 0, 0, NULL, NULL },

    { nc_string("token_ttl"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_auth_t, token_ttl), 1000, 30 * 24 * 3600 * 1000LL,
      "5h", NULL }
};


static const nc_conf_section_t  nc_conf_auth_section = {
    "auth", nc_conf_auth_cmds, nc_nelems(nc_conf_auth_cmds),
    nc_conf_check_auth
};


static const nc_conf_cmd_t  nc_conf_config_cmds[] = {

    /* a Raft entry holds one item: 12 MiB with its fields */
    { nc_string("max_content_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_config_t, max_content_size), 1, 11 * 1024 * 1024,
      "10m", NULL },

    { nc_string("history_max_age"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_config_t, history_max_age), 1000,
      3650 * 24 * 3600 * 1000LL, "30d", NULL },

    { nc_string("history_max_count"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_config_t, history_max_count), 0, 100000, "100", NULL }
};


static const nc_conf_section_t  nc_conf_config_section = {
    "config", nc_conf_config_cmds, nc_nelems(nc_conf_config_cmds), NULL
};


static nc_int_t
nc_conf_check_naming(nc_conf_ctx_t *ctx, const nc_conf_section_t *section,
    nc_conf_node_t *node, u_char *base)
{
    nc_conf_naming_t  *ncf;

    ncf = (nc_conf_naming_t *) base;

    if (ncf->remove_after < ncf->unhealthy_after
        || ncf->unhealthy_after < ncf->beat_interval)
    {
        nc_conf_error(ctx, node, "naming: expected beat_interval <= "
                      "unhealthy_after <= remove_after");
        return NC_ERROR;
    }

    return NC_OK;
}


static const nc_conf_cmd_t  nc_conf_naming_cmds[] = {

    { nc_string("beat_interval"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_naming_t, beat_interval), 100, 3600 * 1000, "5s",
      NULL },

    { nc_string("unhealthy_after"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_naming_t, unhealthy_after), 100, 24 * 3600 * 1000,
      "15s", NULL },

    { nc_string("remove_after"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_naming_t, remove_after), 100, 24 * 3600 * 1000,
      "30s", NULL },

    { nc_string("health_check"), NC_CONF_T_FLAG, 0,
      offsetof(nc_conf_naming_t, health_check), 0, 0, "true", NULL },

    { nc_string("check_interval"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_naming_t, check_interval), 100, 3600 * 1000, "5s",
      NULL },

    { nc_string("check_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_naming_t, check_timeout), 10, 60 * 1000, "2s", NULL },

    { nc_string("check_times"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_naming_t, check_times), 1, 100, "3", NULL },

    { nc_string("check_concurrency"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_naming_t, check_concurrency), 1, 1024, "64", NULL },

    { nc_string("list_cache"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_naming_t, list_cache), 0, 0, "64m", NULL }
};


static const nc_conf_section_t  nc_conf_certificate_section = {
    "gateway.tls.certificates", nc_conf_tls_cmds, nc_nelems(nc_conf_tls_cmds),
    NULL
};


static const nc_conf_cmd_t  nc_conf_gateway_tls_cmds[] = {

    { nc_string("listen"), NC_CONF_T_LISTEN, NC_CONF_F_REQUIRED,
      offsetof(nc_conf_gateway_tls_t, listen), 0, 0, NULL, NULL },

    { nc_string("certificates"), NC_CONF_T_CERTS, NC_CONF_F_REQUIRED,
      offsetof(nc_conf_gateway_tls_t, certificates), 0, 0, NULL, NULL }
};


static const nc_conf_section_t  nc_conf_gateway_tls_section = {
    "gateway.tls", nc_conf_gateway_tls_cmds,
    nc_nelems(nc_conf_gateway_tls_cmds), NULL
};


static const nc_conf_cmd_t  nc_conf_gateway_cmds[] = {

    { nc_string("listen"), NC_CONF_T_LISTEN, NC_CONF_F_OFF,
      offsetof(nc_conf_gateway_t, listen), 0, 0, "127.0.0.1:9080", NULL },

    { nc_string("tls"), NC_CONF_T_MAP, NC_CONF_F_OPTIONAL,
      offsetof(nc_conf_gateway_t, tls), 0, 0, NULL,
      &nc_conf_gateway_tls_section },

    { nc_string("routes"), NC_CONF_T_ROUTES, 0,
      offsetof(nc_conf_gateway_t, routes), 0, 0, NULL, NULL },

    { nc_string("upstream_keepalive"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_gateway_t, upstream_keepalive), 0, 10000, "128",
      NULL },

    { nc_string("upstream_keepalive_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_gateway_t, upstream_keepalive_timeout), 0, 0, "60s",
      NULL },

    { nc_string("buffer_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_gateway_t, buffer_size), 4096, 1024 * 1024, "16k",
      NULL },

    { nc_string("client_max_body_size"), NC_CONF_T_SIZE, 0,
      offsetof(nc_conf_gateway_t, client_max_body_size), 0, 0, "100m",
      NULL },

    { nc_string("max_fails"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_gateway_t, max_fails), 0, 1000, "3", NULL },

    { nc_string("fail_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_gateway_t, fail_timeout), 0, 0, "10s", NULL }
};


static const nc_conf_section_t  nc_conf_gateway_section = {
    "gateway", nc_conf_gateway_cmds, nc_nelems(nc_conf_gateway_cmds), NULL
};


static const nc_conf_section_t  nc_conf_naming_section = {
    "naming", nc_conf_naming_cmds, nc_nelems(nc_conf_naming_cmds),
    nc_conf_check_naming
};


static const nc_conf_cmd_t  nc_conf_main_cmds[] = {

    { nc_string("daemon"), NC_CONF_T_FLAG, 0,
      offsetof(nc_conf_t, daemon), 0, 0, "false", NULL },

    { nc_string("worker_processes"), NC_CONF_T_UINT, NC_CONF_F_AUTO,
      offsetof(nc_conf_t, worker_processes), 1, 1024, "auto", NULL },

    { nc_string("worker_connections"), NC_CONF_T_UINT, 0,
      offsetof(nc_conf_t, worker_connections), 16, 1048576, "4096", NULL },

    { nc_string("worker_shutdown_timeout"), NC_CONF_T_MSEC, 0,
      offsetof(nc_conf_t, worker_shutdown_timeout), 0, 0, "10s", NULL },

    { nc_string("pid"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_t, pid), 0, 0, "logs/nacre.pid", NULL },

    { nc_string("error_log"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_t, error_log), 0, 0, "logs/error.log", NULL },

    { nc_string("log_level"), NC_CONF_T_LEVEL, 0,
      offsetof(nc_conf_t, log_level), 0, 0, "info", NULL },

    { nc_string("access_log"), NC_CONF_T_PATH, NC_CONF_F_OFF,
      offsetof(nc_conf_t, access_log), 0, 0, "logs/access.log", NULL },

    { nc_string("data_dir"), NC_CONF_T_PATH, 0,
      offsetof(nc_conf_t, data_dir), 0, 0, "data", NULL },

    { nc_string("api"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, api), 0, 0, NULL, &nc_conf_api_section },

    { nc_string("cluster"), NC_CONF_T_MAP, NC_CONF_F_OPTIONAL,
      offsetof(nc_conf_t, cluster), 0, 0, NULL, &nc_conf_cluster_section },

    { nc_string("auth"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, auth), 0, 0, NULL, &nc_conf_auth_section },
    { nc_string("gateway"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, gateway), 0, 0, NULL, &nc_conf_gateway_section },

    { nc_string("store"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, store), 0, 0, NULL, &nc_conf_store_section },

    { nc_string("naming"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, naming), 0, 0, NULL, &nc_conf_naming_section },

    { nc_string("config"), NC_CONF_T_MAP, 0,
      offsetof(nc_conf_t, config), 0, 0, NULL, &nc_conf_config_section }
};


static const nc_conf_section_t  nc_conf_main_section = {
    NULL, nc_conf_main_cmds, nc_nelems(nc_conf_main_cmds), NULL
};


nc_conf_t *
nc_conf_load(const char *prefix, const char *path, char *err)
{
    size_t          len;
    u_char         *buf;
    nc_int_t        rc;
    nc_conf_ctx_t   ctx;

    if (nc_conf_create(&ctx, prefix, path ? path : "", err) == NULL) {
        return NULL;
    }

    rc = nc_conf_read_file(&ctx, &buf, &len);

    if (rc == NC_OK) {
        rc = nc_conf_parse(&ctx, (const char *) buf, len);
    }

    return nc_conf_finish(&ctx, rc);
}


nc_conf_t *
nc_conf_load_string(const char *prefix, const char *name, const char *yaml,
    size_t len, char *err)
{
    nc_int_t        rc;
    nc_str_t        file;
    nc_conf_ctx_t   ctx;

    if (nc_conf_create(&ctx, prefix, NULL, err) == NULL) {
        return NULL;
    }

    /* a name, not a path: messages show it as given */

    file.data = (u_char *) (name ? name : "<string>");
    file.len = nc_strlen(file.data);

    ctx.conf->file.data = nc_pstrdup(ctx.conf->pool, &file);
    if (ctx.conf->file.data == NULL) {
        nc_conf_nomem(&ctx);
        return nc_conf_finish(&ctx, NC_ERROR);
    }

    ctx.conf->file.len = file.len;
    ctx.name = (const char *) ctx.conf->file.data;

    rc = nc_conf_parse(&ctx, yaml ? yaml : "", yaml ? len : 0);

    return nc_conf_finish(&ctx, rc);
}


void
nc_conf_free(nc_conf_t *conf)
{
    if (conf) {
        nc_destroy_pool(conf->pool);
    }
}


void
nc_conf_dump(nc_conf_t *conf, FILE *out)
{
    nc_conf_dump_section(&nc_conf_main_section, (u_char *) conf, out, 0);
    fflush(out);
}


/*
 * Sets up ctx with a fresh conf (fields UNSET) and its prefix; with path,
 * also the absolute file name. NULL when even that fails: err is filled.
 */

static nc_conf_t *
nc_conf_create(nc_conf_ctx_t *ctx, const char *prefix, const char *path,
    char *err)
{
    static char   dummy[NC_CONF_ERRSTR_SIZE];

    nc_pool_t    *pool;
    nc_conf_t    *conf;
    nc_str_t      file;

    nc_memzero(ctx, sizeof(nc_conf_ctx_t));

    ctx->err = err ? err : dummy;
    ctx->err[0] = '\0';
    ctx->name = path ? path : "<string>";

    pool = nc_create_pool(NC_POOL_DEFAULT_SIZE);
    if (pool == NULL) {
        nc_conf_nomem(ctx);
        return NULL;
    }

    ctx->temp = nc_create_pool(NC_POOL_DEFAULT_SIZE);
    if (ctx->temp == NULL) {
        nc_destroy_pool(pool);
        nc_conf_nomem(ctx);
        return NULL;
    }

    conf = nc_pcalloc(pool, sizeof(nc_conf_t));
    if (conf == NULL) {
        goto nomem;
    }

    conf->pool = pool;
    ctx->conf = conf;

    nc_conf_reset(&nc_conf_main_section, (u_char *) conf);

    if (nc_conf_set_prefix(ctx, prefix) != NC_OK) {
        goto failed;
    }

    if (path == NULL) {
        return conf;
    }

    if (path[0] == '\0') {
        nc_conf_error(ctx, NULL, "empty configuration file name");
        goto failed;
    }

    if (path[0] == '/') {
        file.len = nc_strlen(path);
        file.data = nc_pstrdup(pool, &(nc_str_t) { file.len,
                                                   (u_char *) path });

    } else {
        file.len = conf->prefix.len + nc_strlen(path);
        file.data = nc_pnalloc(pool, file.len + 1);

        if (file.data) {
            nc_memcpy(file.data, conf->prefix.data, conf->prefix.len);
            nc_memcpy(file.data + conf->prefix.len, path,
                      file.len - conf->prefix.len + 1);
        }
    }

    if (file.data == NULL) {
        goto nomem;
    }

    conf->file = file;
    ctx->name = (const char *) file.data;

    return conf;

nomem:

    nc_conf_nomem(ctx);

failed:

    nc_destroy_pool(ctx->temp);
    nc_destroy_pool(pool);

    return NULL;
}


static nc_int_t
nc_conf_set_prefix(nc_conf_ctx_t *ctx, const char *prefix)
{
    size_t      len, cwdlen;
    u_char     *p;
    char       *cwd;
    nc_conf_t  *conf;

    conf = ctx->conf;
    cwd = NULL;
    cwdlen = 0;

    if (prefix == NULL) {
        prefix = "";
    }

    if (prefix[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (cwd == NULL) {
            nc_conf_error(ctx, NULL, "getcwd() failed (%d: %s)",
                          errno, strerror(errno));
            return NC_ERROR;
        }

        cwdlen = nc_strlen(cwd);
    }

    len = nc_strlen(prefix);

    p = nc_pnalloc(conf->pool, cwdlen + len + 3);
    if (p == NULL) {
        free(cwd);
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    conf->prefix.data = p;

    if (cwd) {
        p = nc_cpymem(p, cwd, cwdlen);
        free(cwd);

        if (len && p[-1] != '/') {
            *p++ = '/';
        }
    }

    p = nc_cpymem(p, prefix, len);

    if (p[-1] != '/') {
        *p++ = '/';
    }

    *p = '\0';
    conf->prefix.len = p - conf->prefix.data;

    return NC_OK;
}


static nc_int_t
nc_conf_read_file(nc_conf_ctx_t *ctx, u_char **buf, size_t *len)
{
    int           fd;
    size_t        size;
    ssize_t       n;
    u_char       *p;
    struct stat   st;

    fd = open(ctx->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        nc_conf_error(ctx, NULL, "open() \"%s\" failed (%d: %s)",
                      ctx->name, errno, strerror(errno));
        return NC_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        nc_conf_error(ctx, NULL, "fstat() \"%s\" failed (%d: %s)",
                      ctx->name, errno, strerror(errno));
        goto failed;
    }

    if (!S_ISREG(st.st_mode)) {
        nc_conf_error(ctx, NULL, "\"%s\" is not a regular file", ctx->name);
        goto failed;
    }

    if (st.st_size > NC_CONF_MAX_FILE_SIZE) {
        nc_conf_error(ctx, NULL, "\"%s\" is larger than %d bytes",
                      ctx->name, NC_CONF_MAX_FILE_SIZE);
        goto failed;
    }

    p = nc_pnalloc(ctx->temp, (size_t) st.st_size + 1);
    if (p == NULL) {
        nc_conf_nomem(ctx);
        goto failed;
    }

    /* the file may shrink under us: what was read is what counts */

    for (size = 0; size < (size_t) st.st_size; size += n) {
        n = read(fd, p + size, (size_t) st.st_size - size);

        if (n == -1) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            nc_conf_error(ctx, NULL, "read() \"%s\" failed (%d: %s)",
                          ctx->name, errno, strerror(errno));
            goto failed;
        }

        if (n == 0) {
            break;
        }
    }

    p[size] = '\0';
    close(fd);

    *buf = p;
    *len = size;

    return NC_OK;

failed:

    close(fd);

    return NC_ERROR;
}


static nc_conf_t *
nc_conf_finish(nc_conf_ctx_t *ctx, nc_int_t rc)
{
    nc_destroy_pool(ctx->temp);

    if (rc != NC_OK) {
        if (!ctx->failed) {
            nc_conf_error(ctx, NULL, "invalid configuration");
        }

        nc_destroy_pool(ctx->conf->pool);
        return NULL;
    }

    return ctx->conf;
}


static nc_int_t
nc_conf_parse(nc_conf_ctx_t *ctx, const char *yaml, size_t len)
{
    void                  *iter;
    nc_int_t               rc;
    const char            *nul, *p;
    nc_conf_node_t        *root, pos;
    struct fy_diag        *diag;
    struct fy_parser      *fyp;
    struct fy_diag_cfg     dcfg;
    struct fy_parse_cfg    pcfg;
    struct fy_diag_error  *de;

    /* libfyaml stops at a NUL as if the file ended there */

    nul = memchr(yaml, '\0', len);

    if (nul) {
        nc_memzero(&pos, sizeof(nc_conf_node_t));
        pos.line = 1;
        pos.column = 1;

        for (p = yaml; p < nul; p++) {
            if (*p == '\n') {
                pos.line++;
                pos.column = 1;

            } else {
                pos.column++;
            }
        }

        nc_conf_error(ctx, &pos, "NUL byte in the configuration");
        return NC_ERROR;
    }

    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = nc_conf_diag_output;
    dcfg.level = FYET_ERROR;
    dcfg.colorize = false;

    diag = fy_diag_create(&dcfg);
    if (diag == NULL) {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    /* collected errors carry 1-based positions and nothing hits stderr */
    fy_diag_set_collect_errors(diag, true);

    nc_memzero(&pcfg, sizeof(struct fy_parse_cfg));
    pcfg.flags = FYPCF_QUIET;
    pcfg.diag = diag;

    fyp = fy_parser_create(&pcfg);
    if (fyp == NULL) {
        fy_diag_destroy(diag);
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    root = NULL;

    if (fy_parser_set_string(fyp, yaml, len) != 0) {
        nc_conf_nomem(ctx);
        rc = NC_ERROR;

    } else {
        rc = nc_conf_parse_stream(ctx, fyp, &root);
    }

    if (rc != NC_OK && !ctx->failed) {
        iter = NULL;
        de = fy_diag_errors_iterate(diag, &iter);

        if (de && de->line > 0 && de->column > 0) {
            nc_conf_error(ctx, &(nc_conf_node_t) {
                              .line = de->line, .column = de->column },
                          "%s", de->msg ? de->msg : "invalid YAML");

        } else {
            nc_conf_error(ctx, NULL, "invalid YAML");
        }
    }

    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);

    if (rc != NC_OK) {
        return NC_ERROR;
    }

    if (root && !nc_conf_is_null(root)) {
        if (root->type != NC_CONF_NODE_MAP) {
            nc_conf_error(ctx, root, "expected a map of keys at the top");
            return NC_ERROR;
        }

        if (nc_conf_read_section(ctx, &nc_conf_main_section, root,
                                 (u_char *) ctx->conf)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    if (nc_conf_init_section(ctx, &nc_conf_main_section, (u_char *) ctx->conf)
        != NC_OK)
    {
        return NC_ERROR;
    }

    return nc_conf_check_listeners(ctx);
}


/*
 * An address in two roles would be bound twice without an error (each
 * worker's sockets are SO_REUSEPORT) and the kernel would split its
 * connections between them: refused.
 */
static nc_int_t
nc_conf_check_listeners(nc_conf_ctx_t *ctx)
{
    nc_uint_t        i, j, k, l;
    nc_conf_addr_t  *a, *b;
    nc_array_t      *roles[3];

    static const char  *names[3] = {
        "api.listen", "gateway.listen", "gateway.tls.listen"
    };

    roles[0] = &ctx->conf->api.listen;
    roles[1] = &ctx->conf->gateway.listen;
    roles[2] = &ctx->conf->gateway.tls.listen;

    for (i = 0; i < 3; i++) {
        for (j = i + 1; j < 3; j++) {
            a = roles[i]->elts;
            b = roles[j]->elts;

            for (k = 0; a && k < roles[i]->nelts; k++) {
                for (l = 0; b && l < roles[j]->nelts; l++) {
                    if (a[k].text.len == b[l].text.len
                        && nc_memcmp(a[k].text.data, b[l].text.data,
                                     a[k].text.len) == 0)
                    {
                        nc_conf_error(ctx, NULL, "%s is in both %s and %s",
                                      a[k].text.data, names[i], names[j]);
                        return NC_ERROR;
                    }
                }
            }
        }
    }

    return NC_OK;
}


static void
nc_conf_diag_output(struct fy_diag *diag, void *user, const char *buf,
    size_t len)
{
    /* errors are collected, never printed */

    (void) diag;
    (void) user;
    (void) buf;
    (void) len;
}


static nc_int_t
nc_conf_parse_stream(nc_conf_ctx_t *ctx, struct fy_parser *fyp,
    nc_conf_node_t **root)
{
    nc_uint_t              ndocs;
    nc_conf_node_t        *node, pos;
    struct fy_event       *fye;
    const struct fy_mark  *mark;

    ndocs = 0;

    for ( ;; ) {
        fye = fy_parser_parse(fyp);
        if (fye == NULL) {
            return NC_ERROR;
        }

        switch (fye->type) {

        case FYET_STREAM_END:
            fy_parser_event_free(fyp, fye);
            return NC_OK;

        case FYET_DOCUMENT_START:

            if (ndocs++) {
                nc_memzero(&pos, sizeof(nc_conf_node_t));
                mark = fy_event_start_mark(fye);

                if (mark) {
                    pos.line = mark->line + 1;
                    pos.column = mark->column + 1;
                }

                fy_parser_event_free(fyp, fye);
                nc_conf_error(ctx, &pos,
                              "only one YAML document is allowed");
                return NC_ERROR;
            }

            fy_parser_event_free(fyp, fye);

            fye = fy_parser_parse(fyp);
            if (fye == NULL) {
                return NC_ERROR;
            }

            node = nc_conf_build(ctx, fyp, fye, 0);
            fy_parser_event_free(fyp, fye);

            if (node == NULL) {
                return NC_ERROR;
            }

            *root = node;
            break;

        default:
            /* stream start, document end */
            fy_parser_event_free(fyp, fye);
            break;
        }
    }
}


static nc_conf_node_t *
nc_conf_build(nc_conf_ctx_t *ctx, struct fy_parser *fyp,
    struct fy_event *fye, nc_uint_t depth)
{
    size_t                 len;
    nc_uint_t              n;
    const char            *text;
    nc_conf_node_t        *node, *child;
    struct fy_event       *ev;
    enum fy_event_type     end;
    const struct fy_mark  *mark;
    enum fy_scalar_style   style;

    node = nc_pcalloc(ctx->temp, sizeof(nc_conf_node_t));
    if (node == NULL) {
        nc_conf_nomem(ctx);
        return NULL;
    }

    mark = fy_event_start_mark(fye);
    if (mark) {
        node->line = mark->line + 1;
        node->column = mark->column + 1;
    }

    switch (fye->type) {

    case FYET_SCALAR:
        node->type = NC_CONF_NODE_SCALAR;

        text = fy_token_get_text(fye->scalar.value, &len);
        if (text == NULL) {
            text = "";
            len = 0;
        }

        node->value.len = len;
        node->value.data = nc_pstrdup(ctx->temp,
                                      &(nc_str_t) { len, (u_char *) text });
        if (node->value.data == NULL) {
            nc_conf_nomem(ctx);
            return NULL;
        }

        style = fy_token_scalar_style(fye->scalar.value);

        /* libfyaml marks the first character inside the quotes */

        if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED)
            && node->column > 1)
        {
            node->column--;
        }

        node->quoted = (style != FYSS_PLAIN);

        return node;

    case FYET_MAPPING_START:
        node->type = NC_CONF_NODE_MAP;
        end = FYET_MAPPING_END;
        break;

    case FYET_SEQUENCE_START:
        node->type = NC_CONF_NODE_SEQ;
        end = FYET_SEQUENCE_END;
        break;

    case FYET_ALIAS:
        /* the mark is past the '*', as it is past a quote */

        if (node->column > 1) {
            node->column--;
        }

        nc_conf_error(ctx, node, "YAML aliases are not supported");
        return NULL;

    default:
        nc_conf_error(ctx, node, "unexpected YAML event %d", fye->type);
        return NULL;
    }

    if (depth >= NC_CONF_MAX_DEPTH) {
        nc_conf_error(ctx, node, "nested too deeply");
        return NULL;
    }

    for (n = 0; /* void */; n++) {
        ev = fy_parser_parse(fyp);
        if (ev == NULL) {
            return NULL;
        }

        if (ev->type == end) {
            fy_parser_event_free(fyp, ev);
            return node;
        }

        child = nc_conf_build(ctx, fyp, ev, depth + 1);
        fy_parser_event_free(fyp, ev);

        if (child == NULL) {
            return NULL;
        }

        /*
         * A value left empty ("key:") has no position of its own: it takes
         * its key's, an empty sequence entry takes the sequence's.
         */

        if (child->line == 0) {
            if (node->type == NC_CONF_NODE_MAP && (n & 1)) {
                child->line = node->last->line;
                child->column = node->last->column;

            } else {
                child->line = node->line;
                child->column = node->column;
            }
        }

        if (node->last) {
            node->last->next = child;

        } else {
            node->child = child;
        }

        node->last = child;
    }
}


static void
nc_conf_error(nc_conf_ctx_t *ctx, nc_conf_node_t *node, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    /* the first error is the one that explains the rest */

    if (ctx->failed) {
        return;
    }

    ctx->failed = 1;

    p = (u_char *) ctx->err;
    last = p + NC_CONF_ERRSTR_SIZE;

    if (node && node->line) {
        p = nc_slprintf(p, last, "%s:%lu:%lu: ", ctx->name,
                        (unsigned long) node->line,
                        (unsigned long) node->column);

    } else if (ctx->name) {
        p = nc_slprintf(p, last, "%s: ", ctx->name);
    }

    va_start(args, fmt);
    p = nc_vslprintf(p, last, fmt, args);
    va_end(args);

    *p = '\0';
}


static void
nc_conf_nomem(nc_conf_ctx_t *ctx)
{
    nc_conf_error(ctx, NULL, "out of memory");
}


/*
 * User text in a message: escaped so that a hostile key cannot forge log
 * lines, and cut at NC_CONF_QUOTE_LEN bytes. buf holds 4 bytes per input
 * byte plus "..." and the NUL.
 */

static const char *
nc_conf_quote(const nc_str_t *s, char *buf)
{
    u_char  *p, c;
    size_t   i, n;

    p = (u_char *) buf;
    n = nc_min(s->len, NC_CONF_QUOTE_LEN);

    for (i = 0; i < n; i++) {
        c = s->data[i];

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            p += sprintf((char *) p, "\\x%02x", c);

        } else {
            *p++ = c;
        }
    }

    if (s->len > n) {
        p = nc_cpymem(p, "...", 3);
    }

    *p = '\0';

    return buf;
}


#define NC_CONF_QUOTE_SIZE  (NC_CONF_QUOTE_LEN * 4 + sizeof("..."))


static const char *
nc_conf_in(const nc_conf_section_t *section, char *buf, size_t size)
{
    if (section == NULL || section->name == NULL) {
        return "";
    }

    snprintf(buf, size, " in \"%s\"", section->name);

    return buf;
}


static nc_uint_t
nc_conf_is_null(nc_conf_node_t *node)
{
    nc_str_t  *v;

    if (node->type != NC_CONF_NODE_SCALAR || node->quoted) {
        return 0;
    }

    v = &node->value;

    return v->len == 0 || nc_str_eq(v, "~") || nc_str_eq(v, "null")
           || nc_str_eq(v, "Null") || nc_str_eq(v, "NULL");
}


static nc_uint_t
nc_conf_is_scalar(nc_conf_node_t *node)
{
    return node->type == NC_CONF_NODE_SCALAR && !nc_conf_is_null(node);
}


static void
nc_conf_reset(const nc_conf_section_t *section, u_char *base)
{
    void                 *field;
    nc_uint_t             i;
    const nc_conf_cmd_t  *cmd;

    for (i = 0; i < section->ncmds; i++) {
        cmd = &section->cmds[i];
        field = base + cmd->offset;

        switch (cmd->type) {

        case NC_CONF_T_FLAG:
            *(nc_flag_t *) field = NC_CONF_UNSET;
            break;

        case NC_CONF_T_UINT:
        case NC_CONF_T_LEVEL:
            *(nc_uint_t *) field = NC_CONF_UNSET_UINT;
            break;

        case NC_CONF_T_SIZE:
            *(size_t *) field = NC_CONF_UNSET_SIZE;
            break;

        case NC_CONF_T_MSEC:
            *(nc_msec_t *) field = NC_CONF_UNSET_MSEC;
            break;

        case NC_CONF_T_MAP:
            nc_conf_reset(cmd->section, field);
            break;

        default:
            /* paths and listen: zeroed by nc_pcalloc(), data NULL */
            break;
        }
    }
}


static nc_uint_t
nc_conf_is_unset(const nc_conf_cmd_t *cmd, void *field)
{
    switch (cmd->type) {

    case NC_CONF_T_FLAG:
        return *(nc_flag_t *) field == NC_CONF_UNSET;

    case NC_CONF_T_UINT:
    case NC_CONF_T_LEVEL:
        return *(nc_uint_t *) field == NC_CONF_UNSET_UINT;

    case NC_CONF_T_SIZE:
        return *(size_t *) field == NC_CONF_UNSET_SIZE;

    case NC_CONF_T_MSEC:
        return *(nc_msec_t *) field == NC_CONF_UNSET_MSEC;

    case NC_CONF_T_PATH:
        return ((nc_str_t *) field)->data == NULL;

    case NC_CONF_T_LISTEN:
    case NC_CONF_T_ROUTES:
    case NC_CONF_T_CERTS:
        /* "off" (NC_CONF_F_OFF) is set and empty */
        return ((nc_array_t *) field)->elts == NULL;

    case NC_CONF_T_ADDR:
        return ((nc_conf_addr_t *) field)->socklen == 0;

    case NC_CONF_T_MAP:
        /* an optional map is present when its first key is */
        return nc_conf_is_unset(&cmd->section->cmds[0],
                                (u_char *) field
                                + cmd->section->cmds[0].offset);

    default:
        return 0;
    }
}


static nc_int_t
nc_conf_read_section(nc_conf_ctx_t *ctx, const nc_conf_section_t *section,
    nc_conf_node_t *node, u_char *base)
{
    void                 *field;
    nc_int_t              rc;
    nc_uint_t             i;
    nc_conf_node_t       *key, *value, *prev;
    const nc_conf_cmd_t  *cmd;
    char                  in[64], quoted[NC_CONF_QUOTE_SIZE];

    if (nc_conf_is_null(node)) {
        /* "api:", "api: ~": an empty map */
        key = NULL;

    } else if (node->type == NC_CONF_NODE_MAP) {
        key = node->child;

    } else {
        nc_conf_error(ctx, node, "expected a map for \"%s\"", section->name);
        return NC_ERROR;
    }

    for ( /* void */ ; key; key = value->next) {
        value = key->next;

        if (key->type != NC_CONF_NODE_SCALAR) {
            nc_conf_error(ctx, key, "a key must be a string%s",
                          nc_conf_in(section, in, sizeof(in)));
            return NC_ERROR;
        }

        for (prev = node->child; prev != key; prev = prev->next->next) {
            if (prev->value.len == key->value.len
                && nc_memcmp(prev->value.data, key->value.data,
                             key->value.len) == 0)
            {
                nc_conf_error(ctx, key, "duplicate key \"%s\"%s",
                              nc_conf_quote(&key->value, quoted),
                              nc_conf_in(section, in, sizeof(in)));
                return NC_ERROR;
            }
        }

        cmd = NULL;

        for (i = 0; i < section->ncmds; i++) {
            if (section->cmds[i].name.len == key->value.len
                && nc_memcmp(section->cmds[i].name.data, key->value.data,
                             key->value.len) == 0)
            {
                cmd = &section->cmds[i];
                break;
            }
        }

        if (cmd == NULL) {
            nc_conf_error(ctx, key, "unknown key \"%s\"%s",
                          nc_conf_quote(&key->value, quoted),
                          nc_conf_in(section, in, sizeof(in)));
            return NC_ERROR;
        }

        field = base + cmd->offset;

        if (cmd->type == NC_CONF_T_MAP) {
            rc = nc_conf_read_section(ctx, cmd->section, value, field);

        } else {
            rc = nc_conf_types[cmd->type].set(ctx, cmd, value, field);
        }

        if (rc != NC_OK) {
            return NC_ERROR;
        }
    }

    for (i = 0; i < section->ncmds; i++) {
        cmd = &section->cmds[i];

        if ((cmd->flags & NC_CONF_F_REQUIRED)
            && nc_conf_is_unset(cmd, base + cmd->offset))
        {
            nc_conf_error(ctx, node, "\"%.*s\" is required%s",
                          nc_str_fmt(&cmd->name),
                          nc_conf_in(section, in, sizeof(in)));
            return NC_ERROR;
        }
    }

    if (section->check == NULL) {
        return NC_OK;
    }

    /* the rules across keys hold for the effective values */

    if (nc_conf_init_section(ctx, section, base) != NC_OK) {
        return NC_ERROR;
    }

    return section->check(ctx, section, node, base);
}


static nc_int_t
nc_conf_init_section(nc_conf_ctx_t *ctx, const nc_conf_section_t *section,
    u_char *base)
{
    void                 *field;
    nc_uint_t             i;
    nc_conf_node_t        node;
    const nc_conf_cmd_t  *cmd;

    for (i = 0; i < section->ncmds; i++) {
        cmd = &section->cmds[i];
        field = base + cmd->offset;

        if (cmd->type == NC_CONF_T_MAP) {
            /*
             * An absent optional map gets its defaults too: a standalone
             * node runs with the cluster timings. Its required keys have
             * none, so it stays absent.
             */

            if (nc_conf_init_section(ctx, cmd->section, field) != NC_OK) {
                return NC_ERROR;
            }

            continue;
        }

        if (cmd->def == NULL || !nc_conf_is_unset(cmd, field)) {
            continue;
        }

        nc_memzero(&node, sizeof(nc_conf_node_t));
        node.type = NC_CONF_NODE_SCALAR;
        node.value.len = nc_strlen(cmd->def);
        node.value.data = (u_char *) cmd->def;

        if (nc_conf_types[cmd->type].set(ctx, cmd, &node, field) != NC_OK) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


/* the value of key in a map node, NULL if the key is not there */

static nc_conf_node_t *
nc_conf_value(nc_conf_node_t *map, const char *key)
{
    size_t           len;
    nc_conf_node_t  *k;

    if (map->type != NC_CONF_NODE_MAP) {
        return NULL;
    }

    len = nc_strlen(key);

    for (k = map->child; k; k = k->next->next) {
        if (k->value.len == len && nc_memcmp(k->value.data, key, len) == 0) {
            return k->next;
        }
    }

    return NULL;
}


/*
 * "cluster: {}" and a bare "cluster:" still mean no cluster, as while the
 * section was reserved: confs made from the shipped nacre.yaml say so.
 */

static nc_int_t
nc_conf_check_cluster(nc_conf_ctx_t *ctx, const nc_conf_section_t *section,
    nc_conf_node_t *node, u_char *base)
{
    nc_uint_t           i, self, others;
    nc_conf_node_t     *value;
    nc_conf_addr_t     *member;
    nc_conf_cluster_t  *cluster;
    u_char              et[32], hb[32];
    char                in[64];

    cluster = (nc_conf_cluster_t *) base;

    if (nc_conf_is_null(node) || node->child == NULL) {
        return NC_OK;
    }

    cluster->present = 1;

    if (cluster->self.socklen == 0) {
        nc_conf_error(ctx, node, "\"self\" is required%s",
                      nc_conf_in(section, in, sizeof(in)));
        return NC_ERROR;
    }

    self = 0;
    others = 0;
    member = cluster->members.elts;

    for (i = 0; i < cluster->members.nelts; i++) {
        if (member[i].text.len == cluster->self.text.len
            && nc_memcmp(member[i].text.data, cluster->self.text.data,
                         member[i].text.len) == 0)
        {
            self = 1;

        } else {
            others++;
        }
    }

    if (cluster->members.nelts && !self) {
        nc_conf_error(ctx, nc_conf_value(node, "members"),
                      "\"members\" must include \"self\" (%s)",
                      cluster->self.text.data);
        return NC_ERROR;
    }

    if (others && cluster->secret_file.data == NULL) {
        nc_conf_error(ctx, node, "\"secret_file\" is required%s when "
                      "\"members\" names other nodes",
                      nc_conf_in(section, in, sizeof(in)));
        return NC_ERROR;
    }

    /* the followers' election timers must outlast a few lost heartbeats */

    if (cluster->election_timeout / 3 < cluster->heartbeat_interval) {
        value = nc_conf_value(node, "election_timeout");

        if (value == NULL) {
            value = nc_conf_value(node, "heartbeat_interval");
        }

        *nc_conf_msec_text(et, sizeof(et), cluster->election_timeout) = '\0';
        *nc_conf_msec_text(hb, sizeof(hb), cluster->heartbeat_interval) = '\0';

        nc_conf_error(ctx, value ? value : node,
                      "\"election_timeout\" (%s) must be at least 3 times "
                      "\"heartbeat_interval\" (%s)", et, hb);
        return NC_ERROR;
    }

    if (cluster->secret_file.data) {
        return nc_conf_check_secret(ctx, nc_conf_value(node, "secret_file"),
                                    &cluster->secret_file, "secret_file",
                                    NC_CONF_SECRET_MIN, NC_CONF_SECRET_MAX);
    }

    return NC_OK;
}


/* the admin password stays out of the conf too: checked, not kept */
static nc_int_t
nc_conf_check_auth(nc_conf_ctx_t *ctx, const nc_conf_section_t *section,
    nc_conf_node_t *node, u_char *base)
{
    nc_conf_auth_t  *auth;

    auth = (nc_conf_auth_t *) base;

    if (auth->admin_password_file.data == NULL) {
        return NC_OK;
    }

    return nc_conf_check_secret(ctx,
                                nc_conf_value(node, "admin_password_file"),
                                &auth->admin_password_file,
                                "admin_password_file", 8, 1024);
}


/*
 * The secret stays out of the conf: the consensus process reads the file
 * itself. Its length is checked here so that a short or unreadable file
 * stops "nacre -t", not the first connection between members. A file
 * given for a standalone node is checked too: members may join later.
 */

static nc_int_t
nc_conf_check_secret(nc_conf_ctx_t *ctx, nc_conf_node_t *node,
    nc_str_t *path, const char *name, size_t min, size_t max)
{
    int        fd, err;
    size_t     len;
    ssize_t    n;
    nc_str_t   key;
    u_char     buf[NC_CONF_SECRET_MAX + 1];

    key.data = (u_char *) name;
    key.len = strlen(name);

    fd = nc_conf_open_file(ctx, &key, node, path);
    if (fd == -1) {
        return NC_ERROR;
    }

    /* what the consensus process reads, so that both judge alike */

    for (len = 0; len < sizeof(buf); len += n) {
        n = read(fd, buf + len, sizeof(buf) - len);

        if (n == -1) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            err = errno;
            close(fd);
            explicit_bzero(buf, sizeof(buf));

            nc_conf_error(ctx, node, "read() \"%s\" for \"%s\" "
                          "failed (%d: %s)", path->data, name, err,
                          strerror(err));
            return NC_ERROR;
        }

        if (n == 0) {
            break;
        }
    }

    close(fd);

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }

    explicit_bzero(buf, sizeof(buf));

    if (len < min || len > max) {
        nc_conf_error(ctx, node, "the secret in \"%s\" for \"%s\" "
                      "is %zu bytes long without its newline, %zu to %zu "
                      "are needed", path->data, name, len, min, max);
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_conf_set_flag(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    nc_str_t  *v;

    v = &node->value;

    if (nc_conf_is_scalar(node)) {
        if (nc_str_eq(v, "true") || nc_str_eq(v, "on")) {
            *(nc_flag_t *) field = 1;
            return NC_OK;
        }

        if (nc_str_eq(v, "false") || nc_str_eq(v, "off")) {
            *(nc_flag_t *) field = 0;
            return NC_OK;
        }
    }

    nc_conf_error(ctx, node, "expected true, false, on or off for \"%.*s\"",
                  nc_str_fmt(&cmd->name));

    return NC_ERROR;
}


static nc_int_t
nc_conf_set_uint(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    long      cpus;
    nc_int_t  n;

    if (!nc_conf_is_scalar(node)) {
        goto invalid;
    }

    if ((cmd->flags & NC_CONF_F_AUTO) && nc_str_eq(&node->value, "auto")) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);

        if (cpus < (long) cmd->min) {
            cpus = (long) cmd->min;
        }

        if (cmd->max && cpus > (long) cmd->max) {
            cpus = (long) cmd->max;
        }

        *(nc_uint_t *) field = (nc_uint_t) cpus;
        return NC_OK;
    }

    n = nc_atoi(node->value.data, node->value.len);

    if (n == NC_ERROR || (uint64_t) n < cmd->min
        || (cmd->max && (uint64_t) n > cmd->max))
    {
        goto invalid;
    }

    *(nc_uint_t *) field = (nc_uint_t) n;

    return NC_OK;

invalid:

    if (cmd->max == 0) {
        nc_conf_error(ctx, node,
                      "expected a number of at least %ju for \"%.*s\"",
                      (uintmax_t) cmd->min, nc_str_fmt(&cmd->name));

    } else {
        nc_conf_error(ctx, node,
                      "expected %sa number from %ju to %ju for \"%.*s\"",
                      (cmd->flags & NC_CONF_F_AUTO) ? "\"auto\" or " : "",
                      (uintmax_t) cmd->min, (uintmax_t) cmd->max,
                      nc_str_fmt(&cmd->name));
    }

    return NC_ERROR;
}


static nc_int_t
nc_conf_set_size(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    ssize_t  n;
    u_char   min[32], max[32];

    n = nc_conf_is_scalar(node) ? nc_parse_size(&node->value) : NC_ERROR;

    if (n == NC_ERROR) {
        nc_conf_error(ctx, node,
                      "expected a size like 512k or 10m for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if ((uint64_t) n < cmd->min || (cmd->max && (uint64_t) n > cmd->max)) {
        *nc_conf_size_text(min, sizeof(min), cmd->min) = '\0';
        *nc_conf_size_text(max, sizeof(max), cmd->max) = '\0';

        nc_conf_error(ctx, node, "expected a size from %s to %s for \"%.*s\"",
                      min, max, nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    *(size_t *) field = (size_t) n;

    return NC_OK;
}


static nc_int_t
nc_conf_set_msec(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    u_char         min[32], max[32];
    nc_msec_int_t  n;

    n = nc_conf_is_scalar(node) ? nc_parse_msec(&node->value) : NC_ERROR;

    if (n == NC_ERROR) {
        nc_conf_error(ctx, node,
                      "expected a duration like 500ms, 60s or 5m for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if ((uint64_t) n < cmd->min || (cmd->max && (uint64_t) n > cmd->max)) {
        *nc_conf_msec_text(min, sizeof(min), cmd->min) = '\0';
        *nc_conf_msec_text(max, sizeof(max), cmd->max) = '\0';

        if (cmd->max == 0) {
            nc_conf_error(ctx, node,
                          "expected a duration of at least %s for \"%.*s\"",
                          min, nc_str_fmt(&cmd->name));

        } else {
            nc_conf_error(ctx, node,
                          "expected a duration from %s to %s for \"%.*s\"",
                          min, max, nc_str_fmt(&cmd->name));
        }

        return NC_ERROR;
    }

    *(nc_msec_t *) field = (nc_msec_t) n;

    return NC_OK;
}


static nc_int_t
nc_conf_set_path(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    u_char     *p;
    nc_str_t   *path, *v, *prefix;

    path = field;
    v = &node->value;
    prefix = &ctx->conf->prefix;

    if (!nc_conf_is_scalar(node) || v->len == 0
        || memchr(v->data, '\0', v->len) != NULL)
    {
        nc_conf_error(ctx, node, "expected a path%s for \"%.*s\"",
                      (cmd->flags & NC_CONF_F_OFF) ? " or off" : "",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if ((cmd->flags & NC_CONF_F_OFF) && nc_str_eq(v, "off")) {
        path->len = 0;
        path->data = (u_char *) "";
        return NC_OK;
    }

    if (v->data[0] == '/') {
        path->len = v->len;
        path->data = nc_pstrdup(ctx->conf->pool, v);

    } else {
        path->len = prefix->len + v->len;
        path->data = nc_pnalloc(ctx->conf->pool, path->len + 1);

        if (path->data) {
            p = nc_cpymem(path->data, prefix->data, prefix->len);
            p = nc_cpymem(p, v->data, v->len);
            *p = '\0';
        }
    }

    if (path->data == NULL) {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    if (cmd->flags & NC_CONF_F_READABLE) {
        return nc_conf_check_readable(ctx, cmd, node, path);
    }

    return NC_OK;
}


/*
 * A certificate that cannot be read should stop "nacre -t" and a reload,
 * not the first TLS handshake.
 */

static nc_int_t
nc_conf_check_readable(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, nc_str_t *path)
{
    int  fd;

    fd = nc_conf_open_file(ctx, &cmd->name, node, path);
    if (fd == -1) {
        return NC_ERROR;
    }

    close(fd);

    return NC_OK;
}


/* a regular file open for reading, or -1 with the error set */

static int
nc_conf_open_file(nc_conf_ctx_t *ctx, const nc_str_t *key,
    nc_conf_node_t *node, nc_str_t *path)
{
    int          fd, err;
    struct stat  st;

    fd = open((const char *) path->data, O_RDONLY | O_CLOEXEC | O_NOCTTY
                                         | O_NONBLOCK);
    if (fd == -1) {
        err = errno;
        nc_conf_error(ctx, node, "cannot open \"%s\" for \"%.*s\" (%d: %s)",
                      path->data, nc_str_fmt(key), err, strerror(err));
        return -1;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        close(fd);
        nc_conf_error(ctx, node, "\"%s\" for \"%.*s\" is not a regular file",
                      path->data, nc_str_fmt(key));
        return -1;
    }

    return fd;
}


static nc_int_t
nc_conf_set_level(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    nc_int_t  level;

    level = nc_conf_is_scalar(node) ? nc_log_level_by_name(&node->value)
                                    : NC_ERROR;

    if (level <= NC_LOG_STDERR) {
        nc_conf_error(ctx, node, "expected debug, info, notice, warn, error, "
                      "crit, alert or emerg for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    *(nc_uint_t *) field = (nc_uint_t) level;

    return NC_OK;
}


/* gateway.tls.certificates: a list of {certificate, certificate_key} */
static nc_int_t
nc_conf_set_certs(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    nc_array_t      *certs;
    nc_conf_tls_t   *tls;
    nc_conf_node_t  *item;

    certs = field;

    if (node->type != NC_CONF_NODE_SEQ || node->child == NULL) {
        nc_conf_error(ctx, node, "expected a list of {certificate, "
                      "certificate_key} for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if (nc_array_init(certs, ctx->conf->pool, 2, sizeof(nc_conf_tls_t))
        != NC_OK)
    {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    for (item = node->child; item; item = item->next) {
        if (item->type != NC_CONF_NODE_MAP) {
            nc_conf_error(ctx, item, "expected {certificate, "
                          "certificate_key} in \"%.*s\"",
                          nc_str_fmt(&cmd->name));
            return NC_ERROR;
        }

        tls = nc_array_push(certs);
        if (tls == NULL) {
            nc_conf_nomem(ctx);
            return NC_ERROR;
        }

        nc_memzero(tls, sizeof(nc_conf_tls_t));

        if (nc_conf_read_section(ctx, &nc_conf_certificate_section, item,
                                 (u_char *) tls)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static void
nc_conf_dump_certs(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    nc_uint_t       i;
    nc_array_t     *certs;
    nc_conf_tls_t  *tls;

    certs = field;
    tls = certs->elts;

    if (certs->nelts == 0) {
        return;
    }

    fprintf(out, "%*s%.*s:\n", indent, "", nc_str_fmt(&cmd->name));

    for (i = 0; i < certs->nelts; i++) {
        fprintf(out, "%*s- certificate: ", indent + 4, "");
        nc_conf_dump_string(&tls[i].certificate, out);
        fprintf(out, "\n%*s  certificate_key: ", indent + 4, "");
        nc_conf_dump_string(&tls[i].certificate_key, out);
        fputc('\n', out);
    }
}


/*
 * gateway.routes: a map of id to route, each as the routes API takes it
 * (written in YAML, kept as JSON) and checked as the gateway will compile
 * it, so `nacre -t` names a bad regex with its line.
 */
static nc_int_t
nc_conf_set_routes(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    nc_buf_t             b;
    nc_str_t             canonical;
    nc_array_t          *routes;
    nc_conf_node_t      *key, *value;
    nc_conf_route_t     *rt;
    nc_gateway_route_t   route;
    u_char               err[512];
    char                 quoted[NC_CONF_QUOTE_SIZE];

    routes = field;

    if (node->type != NC_CONF_NODE_MAP && !nc_conf_is_null(node)) {
        nc_conf_error(ctx, node, "expected a map of route ids to routes for "
                      "\"%.*s\"", nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if (nc_array_init(routes, ctx->conf->pool, 4, sizeof(nc_conf_route_t))
        != NC_OK)
    {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    if (node->type != NC_CONF_NODE_MAP) {
        return NC_OK;
    }

    for (key = node->child; key; key = value->next) {
        value = key->next;

        if (!nc_gateway_route_id_valid(&key->value)) {
            nc_conf_error(ctx, key, "gateway.routes: \"%s\" is not a route "
                          "id (1..128 of A-Z a-z 0-9 . _ -)",
                          nc_conf_quote(&key->value, quoted));
            return NC_ERROR;
        }

        if (value->type != NC_CONF_NODE_MAP) {
            nc_conf_error(ctx, value, "gateway.routes: expected a map for "
                          "route \"%s\"", key->value.data);
            return NC_ERROR;
        }

        nc_memzero(&b, sizeof(nc_buf_t));

        if (nc_conf_json(ctx, value, &b) != NC_OK) {
            return NC_ERROR;
        }

        /* compiled once here for its errors, then by each worker */
        if (nc_gateway_route_parse(ctx->temp, &key->value, b.pos,
                                   nc_buf_size(&b), &route, &canonical, err,
                                   sizeof(err))
            != NC_OK)
        {
            nc_conf_error(ctx, value, "gateway.routes: route \"%s\": %s",
                          key->value.data, err);
            return NC_ERROR;
        }

        rt = nc_array_push(routes);
        if (rt == NULL) {
            nc_conf_nomem(ctx);
            return NC_ERROR;
        }

        /* the tree goes with the temp pool: the conf keeps copies */
        rt->id.len = key->value.len;
        rt->id.data = nc_pstrdup(ctx->conf->pool, &key->value);
        rt->json.len = canonical.len;
        rt->json.data = nc_pstrdup(ctx->conf->pool, &canonical);

        if (rt->id.data == NULL || rt->json.data == NULL) {
            nc_conf_nomem(ctx);
            return NC_ERROR;
        }
    }

    return NC_OK;
}


/*
 * A YAML subtree as JSON text: unquoted true, false, null and numbers keep
 * their type, every other scalar is a string.
 */
static nc_int_t
nc_conf_json(nc_conf_ctx_t *ctx, nc_conf_node_t *node, nc_buf_t *b)
{
    nc_pool_t        *pool;
    nc_conf_node_t   *item;
    nc_str_t         *v;
    const char       *open, *close;

    pool = ctx->temp;

    if (node->type == NC_CONF_NODE_SCALAR) {
        v = &node->value;

        if (nc_conf_is_null(node)) {
            return nc_buf_append(pool, b, "null", 4);
        }

        if (!node->quoted
            && (nc_str_eq(v, "true") || nc_str_eq(v, "false")
                || nc_conf_is_number(v)))
        {
            return nc_buf_append(pool, b, v->data, v->len);
        }

        return nc_conf_json_string(pool, v, b);
    }

    open = node->type == NC_CONF_NODE_MAP ? "{" : "[";
    close = node->type == NC_CONF_NODE_MAP ? "}" : "]";

    if (nc_buf_append(pool, b, open, 1) != NC_OK) {
        return NC_ERROR;
    }

    for (item = node->child; item; item = item->next) {
        if (item != node->child
            && nc_buf_append(pool, b, ",", 1) != NC_OK)
        {
            return NC_ERROR;
        }

        if (node->type == NC_CONF_NODE_MAP) {
            /* a key is a string whatever it looks like */
            if (nc_conf_json_string(pool, &item->value, b) != NC_OK
                || nc_buf_append(pool, b, ":", 1) != NC_OK)
            {
                return NC_ERROR;
            }

            item = item->next;
        }

        if (nc_conf_json(ctx, item, b) != NC_OK) {
            return NC_ERROR;
        }
    }

    return nc_buf_append(pool, b, close, 1);
}


static nc_int_t
nc_conf_json_string(nc_pool_t *pool, const nc_str_t *v, nc_buf_t *b)
{
    u_char  *p;
    size_t   len;

    len = nc_json_escape_len(v->data, v->len);

    if (nc_buf_reserve(pool, b, len + 2) != NC_OK) {
        return NC_ERROR;
    }

    p = b->last;
    *p++ = '"';
    p = nc_json_escape(p, v->data, v->len);
    *p++ = '"';
    b->last = p;

    return NC_OK;
}


/* a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static nc_flag_t
nc_conf_is_number(const nc_str_t *v)
{
    u_char  *p, *end;

    p = v->data;
    end = p + v->len;

    if (p < end && *p == '-') {
        p++;
    }

    if (p == end || *p < '0' || *p > '9') {
        return 0;
    }

    if (*p++ == '0' && p < end && *p >= '0' && *p <= '9') {
        return 0;
    }

    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }

    if (p < end && *p == '.') {
        if (++p == end || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    return p == end;
}


static nc_int_t
nc_conf_set_listen(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    nc_array_t      *listen;
    nc_conf_node_t  *item;

    listen = field;

    if (listen->elts == NULL
        && nc_array_init(listen, ctx->conf->pool, 2, sizeof(nc_conf_addr_t))
           != NC_OK)
    {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    if (nc_conf_is_scalar(node)) {
        if ((cmd->flags & NC_CONF_F_OFF) && nc_str_eq(&node->value, "off")) {
            return NC_OK;
        }

        return nc_conf_add_listen(ctx, cmd, node, listen);
    }

    if (node->type != NC_CONF_NODE_SEQ) {
        nc_conf_error(ctx, node,
                      "expected an address or a list of addresses for "
                      "\"%.*s\"", nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if (node->child == NULL) {
        nc_conf_error(ctx, node, "expected at least one address for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    for (item = node->child; item; item = item->next) {

        if (!nc_conf_is_scalar(item)) {
            nc_conf_error(ctx, item,
                          "expected an address like 127.0.0.1:8848 for "
                          "\"%.*s\"", nc_str_fmt(&cmd->name));
            return NC_ERROR;
        }

        if (nc_conf_add_listen(ctx, cmd, item, listen) != NC_OK) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static nc_int_t
nc_conf_add_listen(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, nc_array_t *listen)
{
    size_t           len;
    nc_uint_t        i;
    nc_conf_addr_t   addr, *a;

    if (nc_conf_addr(ctx, cmd, node, &addr) != NC_OK) {
        return NC_ERROR;
    }

    /* the canonical text: "localhost:1" and "127.0.0.1:1" are one address */

    a = listen->elts;
    len = addr.text.len;

    for (i = 0; i < listen->nelts; i++) {
        if (a[i].text.len == len
            && nc_memcmp(a[i].text.data, addr.text.data, len) == 0)
        {
            nc_conf_error(ctx, node, "duplicate address \"%s\" for \"%.*s\"",
                          addr.text.data, nc_str_fmt(&cmd->name));
            return NC_ERROR;
        }
    }

    a = nc_array_push(listen);
    if (a == NULL) {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    *a = addr;

    return NC_OK;
}


static nc_int_t
nc_conf_set_addr(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, void *field)
{
    if (!nc_conf_is_scalar(node)) {
        nc_conf_error(ctx, node,
                      "expected an address like 127.0.0.1:7848 for \"%.*s\"",
                      nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    return nc_conf_addr(ctx, cmd, node, field);
}


/* one address with its canonical text in the conf pool */

static nc_int_t
nc_conf_addr(nc_conf_ctx_t *ctx, const nc_conf_cmd_t *cmd,
    nc_conf_node_t *node, nc_conf_addr_t *addr)
{
    size_t                 len;
    nc_str_t              *v;
    nc_uint_t              any;
    struct sockaddr_in    *sin;
    struct sockaddr_in6   *sin6;
    char                   quoted[NC_CONF_QUOTE_SIZE];
    u_char                 text[NC_CONF_ADDR_STRLEN];

    v = &node->value;

    if (nc_parse_addr(v, addr) != NC_OK
        || (len = nc_conf_addr_text(addr, text, sizeof(text))) == 0)
    {
        nc_conf_error(ctx, node, "invalid address \"%s\" for \"%.*s\"",
                      nc_conf_quote(v, quoted), nc_str_fmt(&cmd->name));
        return NC_ERROR;
    }

    if (cmd->flags & NC_CONF_F_DIAL) {
        /*
         * Other members connect to it: a bare port would be each one's
         * own loopback, a wildcard no address at all.
         */

        if (v->data[0] != '[' && memchr(v->data, ':', v->len) == NULL) {
            nc_conf_error(ctx, node, "expected host:port for \"%.*s\", "
                          "not the bare port \"%s\"",
                          nc_str_fmt(&cmd->name), nc_conf_quote(v, quoted));
            return NC_ERROR;
        }

        if (addr->sockaddr.ss_family == AF_INET6) {
            sin6 = (struct sockaddr_in6 *) &addr->sockaddr;
            any = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);

        } else {
            sin = (struct sockaddr_in *) &addr->sockaddr;
            any = (sin->sin_addr.s_addr == htonl(INADDR_ANY));
        }

        if (any) {
            nc_conf_error(ctx, node, "the wildcard address \"%s\" for "
                          "\"%.*s\": other members cannot connect to it",
                          nc_conf_quote(v, quoted), nc_str_fmt(&cmd->name));
            return NC_ERROR;
        }
    }

    addr->text.len = len;
    addr->text.data = nc_pstrdup(ctx->conf->pool,
                                 &(nc_str_t) { len, text });

    if (addr->text.data == NULL) {
        nc_conf_nomem(ctx);
        return NC_ERROR;
    }

    return NC_OK;
}


static void
nc_conf_dump_section(const nc_conf_section_t *section, u_char *base,
    FILE *out, int indent)
{
    void                 *field;
    nc_uint_t             i;
    const nc_conf_cmd_t  *cmd;

    for (i = 0; i < section->ncmds; i++) {
        cmd = &section->cmds[i];
        field = base + cmd->offset;

        if (cmd->type != NC_CONF_T_MAP) {
            nc_conf_types[cmd->type].dump(cmd, field, out, indent);
            continue;
        }

        if ((cmd->flags & NC_CONF_F_OPTIONAL) && nc_conf_is_unset(cmd, field))
        {
            fprintf(out, "%*s# %.*s: not configured\n", indent, "",
                    nc_str_fmt(&cmd->name));
            continue;
        }

        fprintf(out, "%*s%.*s:\n", indent, "", nc_str_fmt(&cmd->name));
        nc_conf_dump_section(cmd->section, field, out, indent + 4);
    }
}


static void
nc_conf_dump_flag(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    fprintf(out, "%*s%.*s: %s\n", indent, "", nc_str_fmt(&cmd->name),
            *(nc_flag_t *) field ? "true" : "false");
}


static void
nc_conf_dump_uint(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    fprintf(out, "%*s%.*s: %ju\n", indent, "", nc_str_fmt(&cmd->name),
            (uintmax_t) *(nc_uint_t *) field);
}


static void
nc_conf_dump_size(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    u_char  text[32];

    *nc_conf_size_text(text, sizeof(text), *(size_t *) field) = '\0';

    fprintf(out, "%*s%.*s: %s\n", indent, "", nc_str_fmt(&cmd->name), text);
}


static void
nc_conf_dump_msec(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    u_char  text[32];

    *nc_conf_msec_text(text, sizeof(text), *(nc_msec_t *) field) = '\0';

    fprintf(out, "%*s%.*s: %s\n", indent, "", nc_str_fmt(&cmd->name), text);
}


static void
nc_conf_dump_path(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    nc_str_t  *path;

    path = field;

    if (path->data == NULL) {
        /* no default and not given; len 0 with data is "off" */
        fprintf(out, "%*s# %.*s: not configured\n", indent, "",
                nc_str_fmt(&cmd->name));
        return;
    }

    fprintf(out, "%*s%.*s: ", indent, "", nc_str_fmt(&cmd->name));

    if (path->len == 0) {
        fputs("off\n", out);
        return;
    }

    nc_conf_dump_string(path, out);
    fputc('\n', out);
}


static void
nc_conf_dump_level(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    fprintf(out, "%*s%.*s: %s\n", indent, "", nc_str_fmt(&cmd->name),
            nc_log_level_name(*(nc_uint_t *) field));
}


static void
nc_conf_dump_listen(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    nc_uint_t        i;
    nc_array_t      *listen;
    nc_conf_addr_t  *addr;

    listen = field;
    addr = listen->elts;

    if (listen->nelts == 0) {
        if ((cmd->flags & NC_CONF_F_OFF) && listen->elts) {
            fprintf(out, "%*s%.*s: off\n", indent, "",
                    nc_str_fmt(&cmd->name));
            return;
        }

        fprintf(out, "%*s# %.*s: not configured\n", indent, "",
                nc_str_fmt(&cmd->name));
        return;
    }

    fprintf(out, "%*s%.*s:\n", indent, "", nc_str_fmt(&cmd->name));

    for (i = 0; i < listen->nelts; i++) {
        fprintf(out, "%*s- ", indent + 4, "");
        nc_conf_dump_string(&addr[i].text, out);
        fputc('\n', out);
    }
}


/* one route per line, as the JSON the routes API would take */
static void
nc_conf_dump_routes(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    nc_uint_t         i;
    nc_array_t       *routes;
    nc_conf_route_t  *rt;

    routes = field;

    if (routes->nelts == 0) {
        fprintf(out, "%*s# %.*s: none\n", indent, "", nc_str_fmt(&cmd->name));
        return;
    }

    fprintf(out, "%*s%.*s:\n", indent, "", nc_str_fmt(&cmd->name));
    rt = routes->elts;

    for (i = 0; i < routes->nelts; i++) {
        fprintf(out, "%*s", indent + 4, "");
        nc_conf_dump_string(&rt[i].id, out);
        fprintf(out, ": %.*s\n", nc_str_fmt(&rt[i].json));
    }
}


static void
nc_conf_dump_addr(const nc_conf_cmd_t *cmd, void *field, FILE *out,
    int indent)
{
    nc_conf_addr_t  *addr;

    addr = field;

    if (addr->socklen == 0) {
        fprintf(out, "%*s# %.*s: not configured\n", indent, "",
                nc_str_fmt(&cmd->name));
        return;
    }

    fprintf(out, "%*s%.*s: ", indent, "", nc_str_fmt(&cmd->name));
    nc_conf_dump_string(&addr->text, out);
    fputc('\n', out);
}


/*
 * Plain when every byte is safe in a plain YAML scalar that cannot be read
 * as anything but a string here (paths start with '/', addresses with a
 * digit); double-quoted with escapes otherwise ("[::1]:8848").
 */

static void
nc_conf_dump_string(const nc_str_t *s, FILE *out)
{
    u_char  c;
    size_t  i;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!isalnum(c) && c != '/' && c != '.' && c != '_' && c != '-'
            && c != '+' && !(c == ':' && i > 0 && i + 1 < s->len))
        {
            break;
        }
    }

    if (i == s->len && i > 0 && (isalnum(s->data[0]) || s->data[0] == '/')) {
        fwrite(s->data, 1, s->len, out);
        return;
    }

    fputc('"', out);

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);

        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);

        } else {
            fputc(c, out);
        }
    }

    fputc('"', out);
}


static u_char *
nc_conf_size_text(u_char *buf, size_t size, uint64_t n)
{
    if (n && n % (1024 * 1024 * 1024) == 0) {
        return nc_slprintf(buf, buf + size, "%jug",
                           (uintmax_t) (n / (1024 * 1024 * 1024)));
    }

    if (n && n % (1024 * 1024) == 0) {
        return nc_slprintf(buf, buf + size, "%jum",
                           (uintmax_t) (n / (1024 * 1024)));
    }

    if (n && n % 1024 == 0) {
        return nc_slprintf(buf, buf + size, "%juk", (uintmax_t) (n / 1024));
    }

    return nc_slprintf(buf, buf + size, "%ju", (uintmax_t) n);
}


static u_char *
nc_conf_msec_text(u_char *buf, size_t size, uint64_t n)
{
    /* minutes are left as seconds: "60s" reads better than "1m" */

    static const struct {
        uint64_t     scale;
        const char  *unit;
    } units[] = {
        { 86400000, "d" }, { 3600000, "h" }, { 1000, "s" }
    };

    nc_uint_t  i;

    if (n == 0) {
        return nc_slprintf(buf, buf + size, "0s");
    }

    for (i = 0; i < nc_nelems(units); i++) {
        if (n % units[i].scale == 0) {
            return nc_slprintf(buf, buf + size, "%ju%s",
                               (uintmax_t) (n / units[i].scale),
                               units[i].unit);
        }
    }

    return nc_slprintf(buf, buf + size, "%jums", (uintmax_t) n);
}


ssize_t
nc_parse_size(const nc_str_t *line)
{
    size_t    len;
    ssize_t   scale, max;
    nc_int_t  size;

    len = line->len;

    if (len == 0) {
        return NC_ERROR;
    }

    switch (line->data[len - 1]) {

    case 'k':
    case 'K':
        len--;
        scale = 1024;
        break;

    case 'm':
    case 'M':
        len--;
        scale = 1024 * 1024;
        break;

    case 'g':
    case 'G':
        len--;
        scale = 1024 * 1024 * 1024;
        break;

    default:
        scale = 1;
    }

    /* nc_atoi() refuses empty input, signs, spaces and overflow */

    size = nc_atoi(line->data, len);
    if (size == NC_ERROR) {
        return NC_ERROR;
    }

    max = SSIZE_MAX / scale;

    if (size > max) {
        return NC_ERROR;
    }

    return size * scale;
}


nc_msec_int_t
nc_parse_msec(const nc_str_t *line)
{
    size_t         len;
    nc_int_t       n;
    nc_msec_int_t  scale;

    len = line->len;

    if (len == 0) {
        return NC_ERROR;
    }

    switch (line->data[len - 1]) {

    case 's':
        if (len > 1 && line->data[len - 2] == 'm') {
            len -= 2;
            scale = 1;

        } else {
            len--;
            scale = 1000;
        }

        break;

    case 'm':
        len--;
        scale = 60 * 1000;
        break;

    case 'h':
        len--;
        scale = 60 * 60 * 1000;
        break;

    case 'd':
        len--;
        scale = 24 * 60 * 60 * 1000;
        break;

    default:
        /* a bare number is seconds, as in nginx */
        scale = 1000;
    }

    n = nc_atoi(line->data, len);
    if (n == NC_ERROR) {
        return NC_ERROR;
    }

    if ((nc_msec_int_t) n > INT64_MAX / scale) {
        return NC_ERROR;
    }

    return (nc_msec_int_t) n * scale;
}


nc_int_t
nc_parse_addr(const nc_str_t *text, nc_conf_addr_t *addr)
{
    int                  rc;
    size_t               len, hlen, plen, i;
    u_char              *p, *last, *host, *port, *close;
    nc_int_t             n;
    nc_uint_t            v6, digits, name;
    struct addrinfo      hints, *res;
    struct sockaddr_in  *sin;
    char                 hbuf[NC_CONF_HOST_LEN + 1], pbuf[sizeof("65535")];

    nc_memzero(addr, sizeof(nc_conf_addr_t));

    len = text->len;
    p = text->data;

    if (len == 0 || len > NC_CONF_HOST_LEN + sizeof("[]:65535") - 1) {
        return NC_ERROR;
    }

    last = p + len;
    v6 = 0;

    if (p[0] == '[') {
        close = memchr(p, ']', len);

        if (close == NULL || close == p + 1 || close + 1 == last
            || close[1] != ':')
        {
            return NC_ERROR;
        }

        v6 = 1;
        host = p + 1;
        hlen = close - host;
        port = close + 2;

    } else {
        port = memrchr(p, ':', len);

        if (port == NULL) {
            /* a bare port: loopback, secure by default */
            host = NULL;
            hlen = 0;
            port = p;

        } else {
            host = p;
            hlen = port - p;
            port++;

            if (hlen == 0) {
                return NC_ERROR;
            }
        }
    }

    plen = last - port;

    if (plen == 0 || plen > 5) {
        return NC_ERROR;
    }

    n = nc_atoi(port, plen);

    if (n < 1 || n > 65535) {
        return NC_ERROR;
    }

    if (host == NULL || (hlen == 1 && host[0] == '*')) {
        sin = (struct sockaddr_in *) &addr->sockaddr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((in_port_t) n);
        sin->sin_addr.s_addr = htonl(host ? INADDR_ANY : INADDR_LOOPBACK);
        addr->socklen = sizeof(struct sockaddr_in);

        return NC_OK;
    }

    if (hlen > NC_CONF_HOST_LEN) {
        return NC_ERROR;
    }

    digits = 1;
    name = 1;

    for (i = 0; i < hlen; i++) {
        if (host[i] <= 0x20 || host[i] >= 0x7f) {
            return NC_ERROR;
        }

        if (!isdigit(host[i]) && host[i] != '.') {
            digits = 0;
        }

        if (!isalnum(host[i]) && host[i] != '.' && host[i] != '-'
            && host[i] != '_')
        {
            name = 0;
        }
    }

    nc_memcpy(hbuf, host, hlen);
    hbuf[hlen] = '\0';

    nc_memcpy(pbuf, port, plen);
    pbuf[plen] = '\0';

    if (!v6 && digits) {
        /*
         * Dotted digits are an IPv4 address or nothing: no inet_aton()
         * forms like "127.1", and no DNS lookup of "256.0.0.1".
         */

        sin = (struct sockaddr_in *) &addr->sockaddr;

        if (inet_pton(AF_INET, hbuf, &sin->sin_addr) != 1) {
            return NC_ERROR;
        }

        sin->sin_family = AF_INET;
        sin->sin_port = htons((in_port_t) n);
        addr->socklen = sizeof(struct sockaddr_in);

        return NC_OK;
    }

    if (!v6 && (!name || inet_aton(hbuf, &(struct in_addr) { 0 }) != 0)) {
        /*
         * An IPv6 address without brackets, junk, or an inet_aton() form
         * such as "0x7f.1" that getaddrinfo() would quietly take.
         */
        return NC_ERROR;
    }

    nc_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    hints.ai_family = AF_UNSPEC;

    if (v6) {
        hints.ai_family = AF_INET6;
        hints.ai_flags |= AI_NUMERICHOST;
    }

    rc = getaddrinfo(hbuf, pbuf, &hints, &res);
    if (rc != 0) {
        return NC_ERROR;
    }

    if (res == NULL || res->ai_addrlen > sizeof(struct sockaddr_storage)) {
        if (res) {
            freeaddrinfo(res);
        }

        return NC_ERROR;
    }

    nc_memcpy(&addr->sockaddr, res->ai_addr, res->ai_addrlen);
    addr->socklen = res->ai_addrlen;

    freeaddrinfo(res);

    return NC_OK;
}


size_t
nc_conf_addr_text(const nc_conf_addr_t *addr, u_char *buf, size_t size)
{
    int                   n;
    in_port_t             port;
    const struct sockaddr  *sa;
    char                  host[NI_MAXHOST];

    sa = (const struct sockaddr *) &addr->sockaddr;

    if (getnameinfo(sa, addr->socklen, host, sizeof(host), NULL, 0,
                    NI_NUMERICHOST)
        != 0)
    {
        return 0;
    }

    switch (sa->sa_family) {

    case AF_INET:
        port = ntohs(((const struct sockaddr_in *) sa)->sin_port);
        n = snprintf((char *) buf, size, "%s:%u", host, (unsigned) port);
        break;

    case AF_INET6:
        port = ntohs(((const struct sockaddr_in6 *) sa)->sin6_port);
        n = snprintf((char *) buf, size, "[%s]:%u", host, (unsigned) port);
        break;

    default:
        return 0;
    }

    if (n < 0 || (size_t) n >= size) {
        return 0;
    }

    return (size_t) n;
}
