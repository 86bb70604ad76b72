
/*
 * nacre: the key/value records behind the Consul-shaped KV API.
 *
 * A key "k" lives in the store as "kv/k", type NC_STORE_T_KV; the record's
 * revision is the ModifyIndex, and its value is
 *
 *   u64 CreateIndex, u64 Flags, u64 LockIndex, then the bytes
 *
 * (host order: the region never leaves the machine; snapshots carry the
 * records as they are and are read back by the same code).
 */

#ifndef _NC_STORE_KV_H_INCLUDED_
#define _NC_STORE_KV_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


#define NC_STORE_T_KV           3

#define NC_STORE_KV_PREFIX      "kv/"
#define NC_STORE_KV_PREFIX_LEN  (sizeof(NC_STORE_KV_PREFIX) - 1)
#define NC_STORE_KV_MAX_KEY     (NC_STORE_MAX_KEY_LEN - NC_STORE_KV_PREFIX_LEN)
#define NC_STORE_KV_MAX_VALUE   (512 * 1024)

/* commands (nc_store_apply.h layout); the value of SET/CAS is u64 flags
 * then the bytes, LE on the wire */
#define NC_STORE_KV_SET         (NC_STORE_OP_DOMAIN + 0)
#define NC_STORE_KV_CAS         (NC_STORE_OP_DOMAIN + 1)  /* revision: 0 =
                                                             create only */
#define NC_STORE_KV_DELETE      (NC_STORE_OP_DOMAIN + 2)
#define NC_STORE_KV_DELETE_CAS  (NC_STORE_OP_DOMAIN + 3)
#define NC_STORE_KV_DELETE_TREE (NC_STORE_OP_DOMAIN + 4)


typedef struct {
    uint64_t            create_index;
    uint64_t            flags;
    uint64_t            lock_index;
} nc_store_kv_head_t;


/* the consensus process: register the apply handlers */
void nc_store_kv_init(void);

/* an encoded command for key (without the prefix); NULL on no memory */
u_char *nc_store_kv_command(nc_pool_t *pool, nc_uint_t op,
    const u_char *key, size_t key_len, uint64_t flags, uint64_t cas,
    const u_char *value, size_t value_len, size_t *len);


#endif /* _NC_STORE_KV_H_INCLUDED_ */
