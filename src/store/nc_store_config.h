
/*
 * nacre: configuration items (Nacos' config center) in the store.
 *
 *   cfg/<ns>/<group>/<dataId>                  the item
 *   cfgh/<ns>/<group>/<dataId>/<nid>           its history, nid = the
 *                                              Raft index of the change,
 *                                              16 hex digits (in order)
 *   cfgb/<ns>/<group>/<dataId>                 its gray (beta) version:
 *                                              the same layout, with the
 *                                              client addresses it is for
 *   cfgn/<ns>                                  a namespace: the same
 *                                              layout, its shown name in
 *                                              the content field
 *
 * <ns> is "" for the public namespace.  Names are Nacos' characters
 * ([A-Za-z0-9_.:-], namespaces [A-Za-z0-9_-]): never a '/'.
 *
 * A record's value (host order: the region never leaves the machine) is
 * nc_store_config_head_t, then the fields in NC_STORE_CONFIG_F_* order,
 * each len[f] bytes.  Times are unix milliseconds carried by the command,
 * so every member stores the same ones.
 */

#ifndef _NC_STORE_CONFIG_H_INCLUDED_
#define _NC_STORE_CONFIG_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


#define NC_STORE_T_CONFIG           5

#define NC_STORE_CONFIG_ITEM        "cfg/"
#define NC_STORE_CONFIG_HISTORY     "cfgh/"
#define NC_STORE_CONFIG_NAMESPACE   "cfgn/"
#define NC_STORE_CONFIG_BETA        "cfgb/"

/* fields */
#define NC_STORE_CONFIG_F_CONTENT   0
#define NC_STORE_CONFIG_F_TYPE      1
#define NC_STORE_CONFIG_F_APP       2      /* appName */
#define NC_STORE_CONFIG_F_TAGS      3      /* config_tags, comma list */
#define NC_STORE_CONFIG_F_DESC      4
#define NC_STORE_CONFIG_F_USE       5
#define NC_STORE_CONFIG_F_EFFECT    6
#define NC_STORE_CONFIG_F_SCHEMA    7
#define NC_STORE_CONFIG_F_EDK       8      /* encryptedDataKey */
#define NC_STORE_CONFIG_F_USER      9      /* who made the change */
#define NC_STORE_CONFIG_F_IP        10     /* from where */
#define NC_STORE_CONFIG_F_BETA_IPS  11     /* gray: for these clients */
#define NC_STORE_CONFIG_NFIELDS     12


typedef struct {
    uint64_t            id;              /* the index that created the item */
    uint64_t            created;         /* unix ms */
    uint64_t            modified;
    u_char              md5[16];         /* of the content */
    uint32_t            len[NC_STORE_CONFIG_NFIELDS];
    uint8_t             op;              /* history: 'I', 'U', 'D' */
    uint8_t             pad[3];
} nc_store_config_head_t;


/*
 * commands: key = the item's key, value (little-endian)
 *
 *   u64 time (unix ms), u64 flags, u64 history_max_count,
 *   u64 history_max_age (ms), u8 md5[16] of the content, u8 cas[16]
 *   (compared when flags have NC_STORE_CONFIG_CAS; NC_STORE_CONFIG_CREATE:
 *   declined if the item exists), u32 len[NFIELDS],
 *   the fields
 *
 * PUBLISH creates or replaces the item (declined: the CAS MD5 differs or
 * there is no item to compare with); DELETE removes it (declined: none).
 * Each keeps a history record ('I' holds the new content, 'U' and 'D' the
 * old one, as Nacos does) and prunes the item's history to the count and
 * age the command carries.
 */
#define NC_STORE_CONFIG_PUBLISH     (NC_STORE_OP_DOMAIN + 16)
#define NC_STORE_CONFIG_DELETE      (NC_STORE_OP_DOMAIN + 17)

/*
 * namespaces: key cfgn/<ns>, the same value.  NS_CREATE is declined if it
 * exists, NS_UPDATE if it does not, NS_DELETE if it does not or still has
 * items.  PUBLISH into a namespace other than "" that does not exist is
 * refused (NC_ERROR): namespaces are made first.
 */
#define NC_STORE_CONFIG_NS_CREATE   (NC_STORE_OP_DOMAIN + 18)
#define NC_STORE_CONFIG_NS_UPDATE   (NC_STORE_OP_DOMAIN + 19)
#define NC_STORE_CONFIG_NS_DELETE   (NC_STORE_OP_DOMAIN + 20)

/*
 * gray (beta) versions: key cfgb/<ns>/<group>/<dataId>.  BETA_PUBLISH
 * makes or replaces it (refused like PUBLISH outside a namespace);
 * BETA_DELETE removes it (declined: none).  No history.
 */
#define NC_STORE_CONFIG_BETA_PUBLISH (NC_STORE_OP_DOMAIN + 21)
#define NC_STORE_CONFIG_BETA_DELETE  (NC_STORE_OP_DOMAIN + 22)

#define NC_STORE_CONFIG_CAS         1
#define NC_STORE_CONFIG_CREATE      2      /* PUBLISH: declined if it exists */

#define NC_STORE_CONFIG_CMD_FIXED   (8 + 8 + 8 + 8 + 16 + 16                 \
                                     + 4 * NC_STORE_CONFIG_NFIELDS)


typedef struct {
    uint64_t            time;
    uint64_t            history_max_count;
    uint64_t            history_max_age;
    u_char              md5[16];
    u_char              cas[16];
    nc_flag_t           use_cas;
    nc_flag_t           create_only;
    nc_str_t            field[NC_STORE_CONFIG_NFIELDS];
} nc_store_config_cmd_t;


void nc_store_config_init(void);

/* cfg/<ns>/<group>/<dataId> into buf; its length, 0 if too long */
size_t nc_store_config_key(u_char *buf, size_t size, const char *prefix,
    const nc_str_t *ns, const nc_str_t *group, const nc_str_t *data_id);

/* an encoded command for the record key; NULL on no memory */
u_char *nc_store_config_command(nc_pool_t *pool, nc_uint_t op,
    const u_char *key, size_t key_len, const nc_store_config_cmd_t *cmd,
    size_t *len);

/* MD5 of content, as Nacos keys it (raw bytes; it hexes them) */
void nc_store_config_md5(const u_char *p, size_t len, u_char md5[16]);

/* a field of a record (item or history) */
void nc_store_config_field(const nc_store_record_t *rec, nc_uint_t f,
    nc_str_t *value);

#define nc_store_config_head(rec)                                             \
    ((const nc_store_config_head_t *) nc_store_record_value(rec))


#endif /* _NC_STORE_CONFIG_H_INCLUDED_ */
