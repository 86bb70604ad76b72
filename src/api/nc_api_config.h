
/*
 * nacre: what the config handlers share (nc_api_config.c: items and the
 * listener; nc_api_config_history.c; nc_api_namespace.c).
 *
 * Nacos has two faces for the same things: v1 answers errors as text
 * ("caused: ...;", or the parameter checker's line) and successes as
 * bare JSON; v2 wraps both in {"code","message","data"} with its error
 * codes.  Handlers say which face they wear and what went wrong; the
 * helpers below write it.
 */

#ifndef _NC_API_CONFIG_H_INCLUDED_
#define _NC_API_CONFIG_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>


#define NC_API_V1                  1
#define NC_API_V2                  2

/* what went wrong: the v1 status and text, the v2 status and code */
#define NC_API_CONFIG_E_MISSING    0       /* 400; v2 10000 */
#define NC_API_CONFIG_E_ILLEGAL    1       /* 400, checker text; v2 20002 */
#define NC_API_CONFIG_E_INVALID    2       /* 400 "caused:"; v2 20002 */
#define NC_API_CONFIG_E_NOT_FOUND  3       /* 404; v2 20004 */
#define NC_API_CONFIG_E_TOO_LARGE  4       /* 413; v2 5034 */
#define NC_API_CONFIG_E_CONFLICT   5       /* v1 500 text; v2 500 20005 */
#define NC_API_CONFIG_E_NAMESPACE  6       /* 400; v2 22001 */
#define NC_API_CONFIG_E_UNAVAILABLE 7      /* 503; v2 30000 */
#define NC_API_CONFIG_E_FORBIDDEN  8       /* 403; v2 10001 */


typedef struct {
    nc_str_t                 ns;          /* "" for the public one */
    nc_str_t                 group;
    nc_str_t                 data_id;
} nc_api_config_name_t;


/* the answer for an error; NC_DECLINED once it is set (nc_api.h) */
nc_int_t nc_api_config_fail(nc_http_request_t *r, nc_uint_t version,
    nc_uint_t error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* a success: v1 the JSON as it is, v2 {"code":0,..,"data":<json>} */
nc_int_t nc_api_config_ok(nc_http_request_t *r, nc_uint_t version,
    const u_char *json, size_t len);

/*
 * dataId, group and the namespace (v1 tenant; v2 namespaceId, else
 * tenant) of a request, checked as Nacos' parameter checker does.  NC_OK
 * or NC_DECLINED.
 */
nc_int_t nc_api_config_name(nc_http_request_t *r, nc_uint_t version,
    nc_api_config_name_t *name, nc_flag_t need_data_id);

/* the item a request names, and the right to act on it (NC_AUTH_READ,
 * NC_AUTH_WRITE): NC_OK, or NC_DECLINED with the answer set */
nc_int_t nc_api_config_item(nc_http_request_t *r, nc_uint_t version,
    nc_api_config_name_t *name, nc_uint_t action);

/* the namespace parameter alone, normalized ("" for public) */
nc_int_t nc_api_config_namespace(nc_http_request_t *r, nc_uint_t version,
    nc_str_t *ns);

/* "cfg/<ns>/", where a namespace's items start, into buf; its length */
size_t nc_api_config_ns_prefix(u_char *buf, const nc_str_t *ns);

const nc_store_record_t *nc_api_config_lookup(const nc_store_version_t *v,
    const char *prefix, const nc_api_config_name_t *name);

void nc_api_config_hex(const u_char *md5, u_char *hex);

/* ISO-8601 of unix ms as Nacos' Jackson writes it: 28 characters and a
 * NUL in out[32] */
void nc_api_config_iso_time(uint64_t ms, u_char *out);

/* wall-clock milliseconds: the times items keep */
uint64_t nc_api_config_now(void);

/* GET ?export=true|exportV2=true and POST ?import=true (transfer.c) */
nc_int_t nc_api_config_export(nc_http_request_t *r, nc_flag_t v2);
nc_int_t nc_api_config_import(nc_http_request_t *r);

extern nc_conf_config_t  *nc_api_config_conf;

nc_int_t nc_api_config_history_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_namespace_init_routes(nc_cycle_t *cycle);

/* does namespace ns exist (the public one always does) */
nc_flag_t nc_api_namespace_exists(const nc_store_version_t *v,
    const nc_str_t *ns);


#endif /* _NC_API_CONFIG_H_INCLUDED_ */
