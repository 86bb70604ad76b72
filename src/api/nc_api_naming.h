
/*
 * nacre: what the naming handlers share (nc_api_naming.c: instances and
 * their lists; nc_api_naming_service.c: services and the operator's
 * endpoints).
 *
 * v1 answers errors as bare text with their status (Nacos' naming
 * ResponseExceptionHandler), v2 as {"code","message","data"} with Nacos'
 * error codes; both from nc_api_naming_fail().
 */

#ifndef _NC_API_NAMING_H_INCLUDED_
#define _NC_API_NAMING_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_api_config.h>


/* Nacos' v2 error codes the registry answers with */
#define NC_API_NAMING_MISSING       10000
#define NC_API_NAMING_INVALID       20002
#define NC_API_NAMING_NOT_FOUND     20004
#define NC_API_NAMING_SERVICE_NAME  21000
#define NC_API_NAMING_WEIGHT        21001
#define NC_API_NAMING_METADATA      21002
#define NC_API_NAMING_NO_INSTANCE   21003
#define NC_API_NAMING_INSTANCE      21004
#define NC_API_NAMING_SELECTOR      21006
#define NC_API_NAMING_EXISTS        21007
#define NC_API_NAMING_NO_SERVICE    21008
#define NC_API_NAMING_NOT_DELETED   21009
#define NC_API_NAMING_CHECKING      21011
#define NC_API_NAMING_NAMESPACE     22000
#define NC_API_NAMING_SERVER        30000


/* the service a request names: ns, group, service of name are set */
typedef struct {
    nc_uint_t                version;
    nc_store_naming_name_t   name;
    nc_str_t                 grouped;     /* group@@service */
} nc_api_naming_service_t;


/* the face a request wears: /nacos/v2/... answers as v2 */
#define nc_api_naming_version(r)                                              \
    ((r)->path.len > 10 && nc_memcmp((r)->path.data, "/nacos/v2/", 10) == 0   \
     ? NC_API_V2 : NC_API_V1)

/* an instance a request names, and what it says of it */
typedef struct {
    nc_api_naming_service_t  s;
    nc_store_naming_cmd_t    cmd;
    size_t                   key_len;
    u_char                   key[NC_STORE_MAX_KEY_LEN];
} nc_api_naming_instance_t;


/* the answer for an error; NC_DECLINED once it is set (nc_api.h) */
nc_int_t nc_api_naming_fail(nc_http_request_t *r, nc_uint_t version,
    nc_uint_t status, nc_uint_t code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* a trimmed parameter; blank counts as absent (len 0) */
void nc_api_naming_param(nc_http_request_t *r, const char *name,
    nc_str_t *value);

/*
 * namespaceId, groupName and serviceName (grouped "g@@s" or plain) of a
 * request, checked as Nacos does, and the right to act on the service
 * (NC_AUTH_READ, NC_AUTH_WRITE).  NC_OK, or NC_DECLINED with the answer
 * set.
 */
nc_int_t nc_api_naming_service(nc_http_request_t *r, nc_uint_t version,
    nc_api_naming_service_t *s, nc_uint_t action);

/*
 * The instance a request names: its service, cluster (clusterName, else
 * the old cluster; DEFAULT), ip and port, and its key; strict: as a
 * registration checks the cluster name (no '_').  NC_OK, or NC_DECLINED
 * with the answer set.
 */
nc_int_t nc_api_naming_parse(nc_http_request_t *r, nc_uint_t version,
    nc_api_naming_instance_t *in, nc_uint_t action, nc_flag_t strict);

/*
 * metadata as Nacos takes it (a JSON object, or k=v,k=v) into a JSON
 * object of strings in out.  NC_OK, or NC_DECLINED with the 400 set.
 */
nc_int_t nc_api_naming_metadata(nc_http_request_t *r, nc_uint_t version,
    const nc_str_t *in, nc_str_t *out);

/* "true" (any case) is true, anything else false, absent is def */
nc_flag_t nc_api_naming_bool(const nc_str_t *v, nc_flag_t def);

/* Nacos' checker texts */
nc_int_t nc_api_naming_missing(nc_http_request_t *r, nc_uint_t version,
    const char *param);
nc_int_t nc_api_naming_illegal(nc_http_request_t *r, nc_uint_t version,
    const char *param);

/* what the consensus process said about a write, as an answer */
nc_int_t nc_api_naming_unavailable(nc_http_request_t *r, nc_uint_t version,
    nc_int_t status);

extern nc_conf_naming_t  *nc_api_naming_conf;

nc_int_t nc_api_naming_service_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_naming_catalog_init_routes(nc_cycle_t *cycle);
nc_int_t nc_api_naming_client_init_routes(nc_cycle_t *cycle);


#endif /* _NC_API_NAMING_H_INCLUDED_ */
