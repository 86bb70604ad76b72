
/*
 * nacre: the registry (Nacos' naming) in the store.
 *
 *   nss/<ns>/<group>@@<service>                      a service
 *   nsi/<ns>/<group>@@<service>\x1f<cluster>\x1f<ip>\x1f<port>
 *                                                    an instance
 *   nsc/<ns>/<group>@@<service>\x1f<cluster>         a cluster's settings:
 *                                                    its health check
 *
 * Names never hold '/', '@@' (but the one) or control characters, so the
 * instances of a service are exactly the keys under its instance prefix
 * (nsi/<ns>/<group>@@<service>\x1f), in (cluster, ip, port) order.
 *
 * Hot answers are made at apply time.  An instance carries its host
 * object as /nacos/v1/ns/instance/list shows it; a service carries the
 * list of its enabled hosts (the JSON array), their count and how many are
 * healthy, their clusters and the MD5 of the list.  The lists of the
 * services a batch touched are rebuilt once, at the end of the batch
 * (nc_store_naming_finish), so a burst of registrations into one service
 * costs one rendering, not one per instance.  Everything rendered depends
 * on the log alone: every member lists the same bytes.
 *
 * Times are unix milliseconds carried by the commands.  A service's
 * `modified` grows by at least 1 with each change: it is the
 * `lastRefTime` clients compare.
 */

#ifndef _NC_STORE_NAMING_H_INCLUDED_
#define _NC_STORE_NAMING_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


#define NC_STORE_T_NAMING           6

#define NC_STORE_NAMING_SERVICE     "nss/"
#define NC_STORE_NAMING_INSTANCE    "nsi/"
#define NC_STORE_NAMING_CLUSTER     "nsc/"
#define NC_STORE_NAMING_SEP         '\x1f'

/* record flags (nc_store_record_t.flags) of an instance */
#define NC_STORE_NAMING_EPHEMERAL   0x01
#define NC_STORE_NAMING_HEALTHY     0x02
#define NC_STORE_NAMING_ENABLED     0x04

/* service flags (head) */
#define NC_STORE_NAMING_S_EXPLICIT  0x01     /* made by the service API: kept
                                                when empty, protect threshold
                                                applies */

/* instance fields */
#define NC_STORE_NAMING_I_METADATA  0        /* a JSON object of strings */
#define NC_STORE_NAMING_I_GENERATOR 1        /* instanceIdGenerator; "": none */
#define NC_STORE_NAMING_I_HOST      2        /* the rendered host object */
#define NC_STORE_NAMING_I_NFIELDS   3

typedef struct {
    double              weight;
    uint64_t            registered;      /* unix ms of the registration */
    uint64_t            modified;
    uint64_t            beat_index;      /* Raft index of the registration:
                                            it counts as a beat */
    uint32_t            port;
    uint32_t            beat_interval;   /* ms: what the client is told */
    uint32_t            beat_timeout;    /* ms: unhealthy after */
    uint32_t            delete_timeout;  /* ms: removed after */
    uint32_t            len[NC_STORE_NAMING_I_NFIELDS];
    uint32_t            pad;
} nc_store_naming_instance_t;

/* cluster fields */
#define NC_STORE_NAMING_C_CHECKER   0        /* healthChecker, a JSON object */
#define NC_STORE_NAMING_C_METADATA  1        /* a JSON object of strings */
#define NC_STORE_NAMING_C_NFIELDS   2

#define NC_STORE_NAMING_C_INSTANCE_PORT  0x01  /* check the instance's port */

typedef struct {
    uint32_t            check_port;
    uint32_t            flags;           /* NC_STORE_NAMING_C_* */
    uint32_t            len[NC_STORE_NAMING_C_NFIELDS];
} nc_store_naming_cluster_t;

/* service fields */
#define NC_STORE_NAMING_S_METADATA  0        /* a JSON object of strings */
#define NC_STORE_NAMING_S_SELECTOR  1        /* a JSON object */
#define NC_STORE_NAMING_S_CLUSTERS  2        /* the clusters of the listed
                                                (enabled) instances, in key
                                                order, ',' between */
#define NC_STORE_NAMING_S_NFIELDS   3

typedef struct {
    double              protect_threshold;
    uint64_t            created;         /* unix ms */
    uint64_t            modified;        /* lastRefTime */
    uint32_t            flags;           /* NC_STORE_NAMING_S_* */
    uint32_t            instances;       /* all of them */
    uint32_t            hosts;           /* enabled: listed */
    uint32_t            healthy;         /* listed and healthy */
    uint32_t            ephemeral;       /* of the instances */
    uint32_t            len[NC_STORE_NAMING_S_NFIELDS];
    uint32_t            pad[2];
} nc_store_naming_service_t;


/*
 * Commands.  key: the instance's or the service's key; value
 * (little-endian):
 *
 *   u64 time (unix ms), u32 what (NC_STORE_NAMING_W_*), u32 flags
 *   (NC_STORE_NAMING_EPHEMERAL, _HEALTHY, _ENABLED), f64 weight (its bits),
 *   u32 beat_interval, u32 beat_timeout, u32 delete_timeout,
 *   u32 len[2] (metadata, generator or selector), the two fields
 *
 *   REGISTER       the instance, made or replaced (a registration counts as
 *                  a beat).  Makes the service when there is none; refused
 *                  (NC_ERROR) when the service's instances are of the other
 *                  kind
 *   DEREGISTER     removes it (declined: none)
 *   UPDATE         changes what `what` names: weight, enabled, healthy,
 *                  metadata (declined: no such instance)
 *   HEALTH         sets healthy from flags; the command's revision is the
 *                  instance's expected one (declined: it changed since)
 *   EXPIRE         removes it if its revision is still the command's
 *   SERVICE_CREATE the service with metadata and selector (fields) and the
 *                  protect threshold (weight); declined if it exists as
 *                  one made by the service API
 *   SERVICE_UPDATE the same (no selector: the one there is stays);
 *                  declined if there is no service
 *   SERVICE_DELETE declined if absent; refused (NC_ERROR) with instances;
 *                  takes its clusters' settings with it
 *   CLUSTER_SET    nsc/...: a cluster's settings, made or replaced: the
 *                  checker (extra), metadata, the check port
 *                  (beat_interval) and NC_STORE_NAMING_W_INSTANCE_PORT in
 *                  what; the service must exist, and is kept from then on
 *                  as one made by the service API (it has settings)
 */
#define NC_STORE_NAMING_REGISTER       (NC_STORE_OP_DOMAIN + 24)
#define NC_STORE_NAMING_DEREGISTER     (NC_STORE_OP_DOMAIN + 25)
#define NC_STORE_NAMING_UPDATE         (NC_STORE_OP_DOMAIN + 26)
#define NC_STORE_NAMING_HEALTH         (NC_STORE_OP_DOMAIN + 27)
#define NC_STORE_NAMING_EXPIRE         (NC_STORE_OP_DOMAIN + 28)
#define NC_STORE_NAMING_SERVICE_CREATE (NC_STORE_OP_DOMAIN + 29)
#define NC_STORE_NAMING_SERVICE_UPDATE (NC_STORE_OP_DOMAIN + 30)
#define NC_STORE_NAMING_SERVICE_DELETE (NC_STORE_OP_DOMAIN + 31)
#define NC_STORE_NAMING_CLUSTER_SET    (NC_STORE_OP_DOMAIN + 32)

#define NC_STORE_NAMING_W_WEIGHT    0x01
#define NC_STORE_NAMING_W_ENABLED   0x02
#define NC_STORE_NAMING_W_HEALTHY   0x04
#define NC_STORE_NAMING_W_METADATA  0x08
#define NC_STORE_NAMING_W_INSTANCE_PORT 0x10

#define NC_STORE_NAMING_CMD_FIXED   (8 + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4)


typedef struct {
    uint64_t            time;
    nc_uint_t           what;
    nc_uint_t           flags;
    double              weight;          /* SERVICE_*: protect threshold */
    uint32_t            beat_interval;
    uint32_t            beat_timeout;
    uint32_t            delete_timeout;
    nc_str_t            metadata;
    nc_str_t            extra;           /* generator, or selector */
} nc_store_naming_cmd_t;


/* the parts of a service's or an instance's name */
typedef struct {
    nc_str_t            ns;
    nc_str_t            group;
    nc_str_t            service;
    nc_str_t            cluster;
    nc_str_t            ip;
    nc_uint_t           port;
} nc_store_naming_name_t;


void nc_store_naming_init(void);

/* told the key of each service whose instances changed (or that went),
 * before the batch is published (the consensus process pushes after) */
typedef void (*nc_store_naming_observer_pt)(const u_char *key, size_t len);

void nc_store_naming_observe(nc_store_naming_observer_pt observer);

/* nss/<ns>/<group>@@<service> into buf: its length, 0 if too long */
size_t nc_store_naming_service_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n);
/* the instance's key; with cluster and ip empty: the prefix of the
 * service's instances; with ip empty: of one cluster's */
size_t nc_store_naming_instance_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n);
/* nsc/<ns>/<group>@@<service>\x1f<cluster>: its length, 0 if too long */
size_t nc_store_naming_cluster_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n);
/* the parts of an instance key, pointing into it; NC_OK or NC_ERROR */
nc_int_t nc_store_naming_parse_instance(const u_char *key, size_t len,
    nc_store_naming_name_t *n);

/* an encoded command; NULL on no memory */
u_char *nc_store_naming_command(nc_pool_t *pool, nc_uint_t op,
    const u_char *key, size_t key_len, uint64_t revision,
    const nc_store_naming_cmd_t *cmd, size_t *len);

void nc_store_naming_field(const nc_store_record_t *rec, nc_uint_t f,
    nc_str_t *value);

/*
 * A host object as /instance/list shows it, into buf (NULL: only count):
 * its length.  healthy overrides the instance's (the protect threshold
 * reports every host healthy).
 */
size_t nc_store_naming_render_host(u_char *buf, const nc_store_record_t *rec,
    nc_flag_t healthy);

/* Java's Double.toString() of a weight or threshold: "1.0", "0.25" */
size_t nc_store_naming_double(u_char *buf, double v);

#define nc_store_naming_instance(rec)                                         \
    ((const nc_store_naming_instance_t *) nc_store_record_value(rec))
#define nc_store_naming_service(rec)                                          \
    ((const nc_store_naming_service_t *) nc_store_record_value(rec))
#define nc_store_naming_cluster(rec)                                          \
    ((const nc_store_naming_cluster_t *) nc_store_record_value(rec))


#endif /* _NC_STORE_NAMING_H_INCLUDED_ */
