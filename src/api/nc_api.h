
/*
 * nacre: the API room.
 */

#ifndef _NC_API_H_INCLUDED_
#define _NC_API_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>


nc_int_t nc_api_kv_init_routes(nc_cycle_t *cycle);

/* a JSON error answer of the native API: {"error":"<text>"} */
nc_int_t nc_api_error(nc_http_request_t *r, nc_uint_t status,
    const char *text);
nc_int_t nc_api_cluster_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_auth_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_config_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_naming_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_gateway_init_routes(nc_cycle_t *cycle);

/*
 * Each record under prefix in the published version, given to each()
 * while it answers NC_OK.  NC_OK; NC_BUSY when nothing is published yet;
 * else what each() answered.
 */
typedef nc_int_t (*nc_api_each_pt)(const nc_store_record_t *rec, void *data);

nc_int_t nc_api_each(nc_http_request_t *r, const u_char *prefix,
    size_t len, nc_api_each_pt each, void *data);

/* an optional parameter (query or form): empty when absent */
void nc_api_param(nc_http_request_t *r, const char *name, nc_str_t *value);

/* Nacos' v1 error text "caused: <message>;" with status */
nc_int_t nc_api_nacos_error(nc_http_request_t *r, nc_uint_t status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Nacos' v2 error {"code","message","data":"<text>"} with status; the
 * answer is set: NC_DECLINED (nc_api_refused) */
nc_int_t nc_api_v2_fail(nc_http_request_t *r, nc_uint_t status,
    nc_uint_t code, const char *message, const u_char *text, size_t len);

/* Nacos' RestResult {"code":code,"message":null,"data":<data, JSON>};
 * the HTTP status is code */
nc_int_t nc_api_rest_result(nc_http_request_t *r, nc_uint_t code,
    const char *data);

/*
 * Checks that answer for themselves return NC_OK (go on) or, once their
 * answer is set, NC_DECLINED (nc_api_refused() makes it so); a handler
 * passes that on as NC_OK (answered) with nc_api_end().
 */
static inline nc_int_t
nc_api_refused(nc_int_t rc)
{
    return rc == NC_OK ? NC_DECLINED : rc;
}

/* a function: its argument is often a call, which must run once */
static inline nc_int_t
nc_api_end(nc_int_t rc)
{
    return rc == NC_DECLINED ? NC_OK : rc;
}

/*
 * Propose a store command and answer later: written() runs once it is
 * applied on this node (status as nc_consensus_done_pt), unless the
 * request ends first (the proposal is then cancelled; it may still
 * apply).  r->ctx belongs to this until written() runs.  NC_DONE, or a
 * 503 answer when the consensus process cannot take it.
 */
typedef void (*nc_api_written_pt)(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);

nc_int_t nc_api_propose(nc_http_request_t *r, const u_char *cmd, size_t len,
    nc_api_written_pt written, void *data);

/* the native API's answer to a write that did not apply: the store full
 * (503), a malformed command (400), no leader (503) */
nc_int_t nc_api_write_failed(nc_http_request_t *r, nc_int_t status);

/*
 * A JSON writer into a pool buffer.  Errors stick: check j->rc at the end.
 * Names are NULL inside arrays; strings are escaped.
 */
typedef struct {
    nc_pool_t              *pool;
    nc_buf_t                out;
    nc_int_t                rc;
    unsigned                comma:1;
} nc_api_json_t;

void nc_api_json_init(nc_api_json_t *j, nc_pool_t *pool);
void nc_api_json_open(nc_api_json_t *j, const char *name, u_char bracket);
/* a name given as bytes (escaped): the next value goes with it */
void nc_api_json_key(nc_api_json_t *j, const u_char *p, size_t len);
void nc_api_json_close(nc_api_json_t *j, u_char bracket);
void nc_api_json_str(nc_api_json_t *j, const char *name, const u_char *p,
    size_t len);
void nc_api_json_uint(nc_api_json_t *j, const char *name, uint64_t v);
/* a value written as it is: true, false, null, a number */
void nc_api_json_raw(nc_api_json_t *j, const char *name, const char *raw);
/* the same of a length: JSON rendered before (an object the store keeps) */
void nc_api_json_bytes(nc_api_json_t *j, const char *name, const u_char *p,
    size_t len);

/* Nacos' search: blank matches all; accurate: equal; blur: '*' globs */
nc_flag_t nc_api_match(nc_flag_t blur, const nc_str_t *want, const u_char *p,
    size_t len);
/* any of the comma-separated wanted items is among those of the list */
nc_flag_t nc_api_match_list(const nc_str_t *want, const u_char *p,
    size_t len);
nc_uint_t nc_api_count(const nc_str_t *s, u_char c);

/* append s as Java's URLEncoder writes it (Nacos' listener answers) */
nc_int_t nc_api_urlencode(nc_pool_t *pool, nc_buf_t *out, const nc_str_t *s);

/*
 * One page of a listing, answered as Nacos' Page {"totalCount",
 * "pageNumber", "pagesAvailable", "pageItems"}: every match is counted
 * (nc_api_page_take), those on the page written into json.
 */
typedef struct {
    nc_api_json_t           json;
    nc_uint_t               total;
    nc_uint_t               page_no;         /* from 1 */
    nc_uint_t               page_size;
} nc_api_page_t;

/* pageNo (default 1), pageSize (default def, at most max); NC_OK, or
 * NC_DECLINED with the 400 set */
nc_int_t nc_api_page_init(nc_http_request_t *r, nc_api_page_t *pg,
    nc_uint_t def, nc_uint_t max);
/* count a match; whether it is on the page */
nc_flag_t nc_api_page_take(nc_api_page_t *pg);
nc_int_t nc_api_page_done(nc_http_request_t *r, nc_api_page_t *pg);


#if (NC_DEBUG)
/* test-only endpoints under /nacre/debug/, built with --with-debug */
nc_int_t nc_api_debug_init_routes(nc_cycle_t *cycle);
#endif


#endif /* _NC_API_H_INCLUDED_ */
