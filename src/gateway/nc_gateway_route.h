
/*
 * nacre: gateway routes: their JSON, validated and compiled, and the table
 * a worker matches requests against.
 *
 * A route, as PUT /v1/gateway/routes/<id> takes it (unknown keys are
 * refused, so a typo never passes silently):
 *
 *   {
 *     "priority": 0,                      higher is tried first
 *     "hosts": ["api.example.com", "*.example.com"],
 *     "path": "/orders/",                 required
 *     "path_type": "prefix",              "prefix" (default), "exact",
 *                                         "regex" (PCRE2, anchored by
 *                                         the pattern itself)
 *     "methods": ["GET", "POST"],
 *     "headers": {"X-Env": "blue"},       exact values; names any case
 *     "query": {"v": "2"},                exact (decoded) values
 *     "upstream": {
 *       "service": {"namespace": "public", "group": "DEFAULT_GROUP",
 *                   "name": "orders", "clusters": ["A"]},
 *         or
 *       "nodes": [{"address": "127.0.0.1:8080", "weight": 1}],
 *       "balance": "round_robin",         "least_conn", "hash",
 *                                         "two_choices"
 *       "hash_on": "client_addr"          "header:<name>", "cookie:<name>"
 *     },
 *     "timeouts": {"connect": "1s", "send": "60s", "read": "60s"},
 *     "retries": 1,                       other instances tried after a
 *     "retry_on": [502, 503, 504],        connect failure, a reset, or
 *     "retry_timeout": "10s",             these statuses; idempotent
 *     "retry_non_idempotent": false,      methods only unless told
 *     "strip_prefix": false,              the matched prefix goes
 *     "rewrite": {"regex": "^/api/(.*)", "replacement": "/$1"},
 *     "request_headers": {"set": {}, "add": {}, "remove": []},
 *     "response_headers": {"set": {}, "add": {}, "remove": []},
 *     "rate_limit": {"rate": 100, "burst": 200},   per node, 429 beyond
 *     "token": false,                     ask for a nacre access token
 *     "gzip": false                       compress answers for clients
 *                                         that take gzip (api.gzip_*)
 *   }
 *
 * The most specific route wins, deterministically: higher priority; then
 * a route naming the host exactly, then by a wildcard (the longer suffix
 * first), then one for any host; then an exact path, a regex, a prefix
 * (the longer first) -- nginx's order of locations, so a catch-all "/"
 * never hides a regex, and a priority puts a prefix before a regex; then
 * the route with more conditions (methods, headers, query); then the
 * smaller id.
 */

#ifndef _NC_GATEWAY_ROUTE_H_INCLUDED_
#define _NC_GATEWAY_ROUTE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


#define NC_GATEWAY_ROUTE_MAX_ID     128
#define NC_GATEWAY_ROUTE_MAX_SIZE   (64 * 1024)     /* of its JSON */

#define NC_GATEWAY_PATH_PREFIX      0
#define NC_GATEWAY_PATH_EXACT       1
#define NC_GATEWAY_PATH_REGEX       2

#define NC_GATEWAY_ROUND_ROBIN      0
#define NC_GATEWAY_LEAST_CONN       1
#define NC_GATEWAY_HASH             2
#define NC_GATEWAY_TWO_CHOICES      3

#define NC_GATEWAY_HASH_CLIENT_ADDR 0
#define NC_GATEWAY_HASH_HEADER      1
#define NC_GATEWAY_HASH_COOKIE      2

#define NC_GATEWAY_MAX_RETRY_ON     16


typedef struct {
    nc_str_t                name;            /* NUL-terminated */
    nc_str_t                value;
} nc_gateway_pair_t;


typedef struct {
    struct sockaddr_storage sockaddr;
    socklen_t               socklen;
    nc_str_t                text;            /* "127.0.0.1:8080" */
    nc_uint_t               weight;
} nc_gateway_node_t;


typedef struct {
    nc_gateway_pair_t      *set;
    nc_uint_t               nset;
    nc_gateway_pair_t      *add;
    nc_uint_t               nadd;
    nc_str_t               *remove;
    nc_uint_t               nremove;
} nc_gateway_headers_t;


typedef struct {
    nc_str_t                id;
    nc_int_t                priority;

    nc_str_t               *hosts;           /* lower case; "*.suffix" */
    nc_uint_t               nhosts;
    nc_uint_t               path_type;
    nc_str_t                path;
    pcre2_code             *path_re;
    nc_uint_t               methods;         /* NC_HTTP_* mask, 0: any */
    nc_gateway_pair_t      *headers;
    nc_uint_t               nheaders;
    nc_gateway_pair_t      *query;
    nc_uint_t               nquery;

    /* the upstream: a service of the registry, or nodes */
    nc_str_t                ns;
    nc_str_t                group;
    nc_str_t                service;         /* empty: nodes */
    nc_str_t                clusters;        /* comma list, "": all */
    nc_gateway_node_t      *nodes;
    nc_uint_t               nnodes;
    nc_uint_t               balance;
    nc_uint_t               hash_on;
    nc_str_t                hash_key;        /* header or cookie name */

    nc_msec_t               connect_timeout;
    nc_msec_t               send_timeout;
    nc_msec_t               read_timeout;
    nc_uint_t               retries;
    nc_msec_t               retry_timeout;
    uint16_t                retry_on[NC_GATEWAY_MAX_RETRY_ON];
    nc_uint_t               nretry_on;
    nc_flag_t               retry_non_idempotent;

    nc_flag_t               strip_prefix;
    pcre2_code             *rewrite_re;
    nc_str_t                rewrite_to;
    nc_gateway_headers_t    request_headers;
    nc_gateway_headers_t    response_headers;
    double                  rate;            /* per second, 0: no limit */
    nc_uint_t               burst;
    nc_flag_t               token;
    nc_flag_t               gzip;            /* answers, when taken */

    void                   *balancer;        /* the gateway's state */

    /* the sort key's parts, worked out once */
    nc_uint_t               host_rank;       /* 2 exact, 1 wildcard, 0 */
    size_t                  host_len;        /* the longest named */
    nc_uint_t               conditions;
} nc_gateway_route_t;


/*
 * The route id in the JSON text: checked, every regex compiled (JIT) and
 * freed with the pool.  canonical (may be NULL): the JSON as stored,
 * compact, with "id".  NC_OK, or NC_ERROR with why in err (a regex: PCRE2's
 * message and the offset).
 */
nc_int_t nc_gateway_route_parse(nc_pool_t *pool, const nc_str_t *id,
    const u_char *json, size_t len, nc_gateway_route_t *rt,
    nc_str_t *canonical, u_char *err, size_t errlen);

/* a route id: 1..128 of [A-Za-z0-9._-] */
nc_flag_t nc_gateway_route_id_valid(const nc_str_t *id);


/*
 * The routes of one version of the store, sorted most specific first.
 * A worker keeps one and builds a new one when the routes' revision
 * moves.
 */
typedef struct {
    uint64_t                revision;        /* the route set's */
    nc_uint_t               refs;            /* the worker's, requests' */
    nc_pool_t              *pool;
    nc_gateway_route_t    **routes;
    nc_uint_t               nroutes;
    pcre2_match_data       *match;           /* captures of the last match */
} nc_gateway_table_t;


/* the route set's revision in version v (0: none ever written) */
uint64_t nc_gateway_routes_revision(nc_store_t *st,
    const nc_store_version_t *v);

/* the table of version v with the routes this node's conf declares
 * (gateway.routes: they win over stored ones of the same id); a route
 * that does not compile (a newer PCRE2 could refuse what an older one
 * took) is logged and left out */
nc_gateway_table_t *nc_gateway_table_build(nc_store_t *st,
    const nc_store_version_t *v, const nc_array_t *declared, nc_log_t *log);

/* the conf's route of that id, or NULL */
const nc_conf_route_t *nc_gateway_route_declared(const nc_array_t *declared,
    const nc_str_t *id);
/* the same from routes given (tests, the conf) */
nc_gateway_table_t *nc_gateway_table_create(nc_pool_t *pool,
    nc_gateway_route_t **routes, nc_uint_t n);
void nc_gateway_table_free(nc_gateway_table_t *t);

/* the route the request takes, or NULL; host without its port */
nc_gateway_route_t *nc_gateway_match(nc_gateway_table_t *t,
    nc_http_request_t *r);


#endif /* _NC_GATEWAY_ROUTE_H_INCLUDED_ */
