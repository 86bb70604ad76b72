
/*
 * nacre: applying KV commands.  Every result depends on the entry and the
 * store alone, so each member reaches the same one.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_kv.h>


static nc_int_t nc_store_kv_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res);
static nc_int_t nc_store_kv_put(nc_store_t *s, const nc_store_cmd_t *c,
    const u_char *key, size_t key_len, uint64_t index,
    const nc_store_record_t *old, nc_store_result_t *res);


void
nc_store_kv_init(void)
{
    nc_uint_t  op;

    for (op = NC_STORE_KV_SET; op <= NC_STORE_KV_DELETE_TREE; op++) {
        nc_store_apply_register(op, nc_store_kv_apply,
                                op >= NC_STORE_KV_DELETE
                                ? NC_STORE_APPLY_REMOVES : 0);
    }
}


u_char *
nc_store_kv_command(nc_pool_t *pool, nc_uint_t op, const u_char *key,
    size_t key_len, uint64_t flags, uint64_t cas, const u_char *value,
    size_t value_len, size_t *len)
{
    u_char          *buf, *full, *v;
    size_t           size;
    nc_store_cmd_t   c;

    full = nc_pnalloc(pool, NC_STORE_KV_PREFIX_LEN + key_len);
    v = nc_pnalloc(pool, 8 + value_len);
    size = NC_STORE_CMD_HEADER + NC_STORE_KV_PREFIX_LEN + key_len + 8
           + value_len;
    buf = nc_pnalloc(pool, size);

    if (full == NULL || v == NULL || buf == NULL) {
        return NULL;
    }

    nc_memcpy(full, NC_STORE_KV_PREFIX, NC_STORE_KV_PREFIX_LEN);
    nc_memcpy(full + NC_STORE_KV_PREFIX_LEN, key, key_len);

    nc_le64_put(v, flags);
    if (value_len) {
        nc_memcpy(v + 8, value, value_len);
    }

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = (uint8_t) op;
    c.type = NC_STORE_T_KV;
    c.key = full;
    c.key_len = (uint32_t) (NC_STORE_KV_PREFIX_LEN + key_len);
    c.revision = cas;

    if (op == NC_STORE_KV_SET || op == NC_STORE_KV_CAS) {
        c.value = v;
        c.value_len = (uint32_t) (8 + value_len);
    }

    *len = nc_store_cmd_encode(buf, size, &c);

    return *len ? buf : NULL;
}


static nc_int_t
nc_store_kv_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_store_cmd_t            c;
    const nc_store_record_t  *old;

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK
        || c.type != NC_STORE_T_KV
        || c.key_len < NC_STORE_KV_PREFIX_LEN
        || nc_memcmp(c.key, NC_STORE_KV_PREFIX, NC_STORE_KV_PREFIX_LEN) != 0)
    {
        return NC_ERROR;
    }

    if (c.op == NC_STORE_KV_DELETE_TREE) {
        return nc_store_apply_delete_prefix(s, c.key, c.key_len);
    }

    old = nc_store_lookup(s, c.key, c.key_len);

    switch (c.op) {

    case NC_STORE_KV_SET:
        return nc_store_kv_put(s, &c, c.key, c.key_len, e->index, old, res);

    case NC_STORE_KV_CAS:
        if ((old ? old->revision : 0) != c.revision) {
            res->revision = old ? old->revision : 0;
            return NC_DECLINED;
        }

        return nc_store_kv_put(s, &c, c.key, c.key_len, e->index, old, res);

    case NC_STORE_KV_DELETE_CAS:
        if (old == NULL || old->revision != c.revision) {
            res->revision = old ? old->revision : 0;
            return NC_DECLINED;
        }

        /* fall through */

    case NC_STORE_KV_DELETE:
        /* deleting what is not there succeeds, as in Consul */
        return old ? nc_store_delete(s, c.key, c.key_len) : NC_OK;

    default:
        return NC_ERROR;
    }
}


static nc_int_t
nc_store_kv_put(nc_store_t *s, const nc_store_cmd_t *c, const u_char *key,
    size_t key_len, uint64_t index, const nc_store_record_t *old,
    nc_store_result_t *res)
{
    size_t               len;
    nc_store_record_t   *rec;
    nc_store_kv_head_t  *h;
    nc_store_kv_head_t  *oh;

    if (c->value_len < 8 || c->value_len - 8 > NC_STORE_KV_MAX_VALUE) {
        return NC_ERROR;
    }

    len = c->value_len - 8;

    rec = nc_store_record_alloc(s, key, key_len, NC_STORE_T_KV,
                                sizeof(nc_store_kv_head_t) + len, index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    h = (nc_store_kv_head_t *) nc_store_record_value(rec);

    if (old && old->type == NC_STORE_T_KV
        && old->value_len >= sizeof(nc_store_kv_head_t))
    {
        oh = (nc_store_kv_head_t *) nc_store_record_value(old);
        h->create_index = oh->create_index;
        h->lock_index = oh->lock_index;

    } else {
        h->create_index = index;
        h->lock_index = 0;
    }

    h->flags = nc_le64_get(c->value);

    if (len) {
        nc_memcpy((u_char *) (h + 1), c->value + 8, len);
    }

    res->revision = index;

    return nc_store_insert(s, rec);
}
