
/*
 * nacre: applying committed entries to the store.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


static nc_int_t nc_store_apply_entry(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res);
static nc_int_t nc_store_apply_put(nc_store_t *s, const nc_store_cmd_t *c,
    uint64_t index, nc_store_result_t *res);


static nc_store_apply_pt   nc_store_handlers[NC_STORE_OP_MAX];
static nc_uint_t          nc_store_op_flags[NC_STORE_OP_MAX] = {
    [NC_STORE_OP_DELETE] = NC_STORE_APPLY_REMOVES
};


void
nc_store_apply_register(nc_uint_t op, nc_store_apply_pt handler,
    nc_uint_t flags)
{
    if (op >= NC_STORE_OP_DOMAIN && op < NC_STORE_OP_MAX) {
        nc_store_handlers[op] = handler;
        nc_store_op_flags[op] = flags;
    }
}


nc_int_t
nc_store_admit(nc_store_t *s, const u_char *cmd, size_t len)
{
    uint64_t          used, reserve;
    nc_store_stats_t  st;

    nc_store_stats(s, &st);

    /* free lists count half: fragments may not fit what comes */
    used = st.bytes_live + st.bytes_retired + st.bytes_free / 2;

    reserve = (len && cmd[0] < NC_STORE_OP_MAX
               && (nc_store_op_flags[cmd[0]] & NC_STORE_APPLY_REMOVES))
              ? st.bytes_size / 32 : st.bytes_size / 8;

    return used + reserve > st.bytes_size ? NC_STORE_FULL : NC_OK;
}


size_t
nc_store_cmd_encode(u_char *buf, size_t size, const nc_store_cmd_t *c)
{
    size_t  len;

    len = NC_STORE_CMD_HEADER + (size_t) c->key_len + c->value_len;

    if (len > size) {
        return 0;
    }

    buf[0] = c->op;
    buf[1] = c->flags;
    buf[2] = (u_char) c->type;
    buf[3] = (u_char) (c->type >> 8);
    nc_le32_put(buf + 4, c->key_len);
    nc_le32_put(buf + 8, c->value_len);
    nc_le32_put(buf + 12, 0);
    nc_le64_put(buf + 16, c->revision);

    if (c->key_len) {
        nc_memcpy(buf + NC_STORE_CMD_HEADER, c->key, c->key_len);
    }

    if (c->value_len) {
        nc_memcpy(buf + NC_STORE_CMD_HEADER + c->key_len, c->value,
                  c->value_len);
    }

    return len;
}


nc_int_t
nc_store_cmd_decode(nc_store_cmd_t *c, const u_char *p, size_t len)
{
    if (len < NC_STORE_CMD_HEADER) {
        return NC_ERROR;
    }

    c->op = p[0];
    c->flags = p[1];
    c->type = (uint16_t) (p[2] | p[3] << 8);
    c->key_len = nc_le32_get(p + 4);
    c->value_len = nc_le32_get(p + 8);
    c->revision = nc_le64_get(p + 16);

    /* the lengths must account for every byte: no more, no less */
    if (c->flags != 0 || nc_le32_get(p + 12) != 0
        || c->key_len > NC_STORE_MAX_KEY_LEN
        || c->value_len > NC_STORE_MAX_VALUE_LEN
        || (uint64_t) c->key_len + c->value_len
           != (uint64_t) len - NC_STORE_CMD_HEADER)
    {
        return NC_ERROR;
    }

    c->key = p + NC_STORE_CMD_HEADER;
    c->value = c->key + c->key_len;

    return NC_OK;
}


nc_int_t
nc_store_apply(nc_store_t *s, const nc_raft_entry_t *entries, size_t n,
    nc_store_result_t *results)
{
    size_t    i;
    nc_int_t  rc;

    if (n == 0) {
        return NC_OK;
    }

    rc = nc_store_begin(s);
    if (rc != NC_OK) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        results[i].status = NC_OK;
        results[i].revision = entries[i].index;

        if (entries[i].type != NC_RAFT_ENTRY_NORMAL || entries[i].len == 0) {
            /* no-ops and membership changes leave the map as it is */
            continue;
        }

        rc = nc_store_apply_entry(s, &entries[i], &results[i]);

        if (rc == NC_STORE_FULL) {
            nc_store_abort(s);
            return NC_STORE_FULL;
        }

        results[i].status = rc;
    }

    rc = nc_store_commit(s, entries[n - 1].index, entries[n - 1].term);

    if (rc != NC_OK) {
        nc_store_abort(s);
    }

    return rc;
}


static nc_int_t
nc_store_apply_entry(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_store_cmd_t            c;
    const nc_store_record_t  *old;

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK) {
        return NC_ERROR;
    }

    if (c.op < NC_STORE_OP_DOMAIN && c.key_len == 0) {
        return NC_ERROR;
    }

    switch (c.op) {

    case NC_STORE_OP_PUT:
        return nc_store_apply_put(s, &c, e->index, res);

    case NC_STORE_OP_CAS:
        old = nc_store_lookup(s, c.key, c.key_len);

        if ((old ? old->revision : 0) != c.revision) {
            res->revision = old ? old->revision : 0;
            return NC_DECLINED;
        }

        return nc_store_apply_put(s, &c, e->index, res);

    case NC_STORE_OP_DELETE:
        return nc_store_delete(s, c.key, c.key_len);

    default:
        if (c.op < NC_STORE_OP_MAX && nc_store_handlers[c.op]) {
            return nc_store_handlers[c.op](s, e, res);
        }

        return NC_ERROR;
    }
}


static nc_int_t
nc_store_apply_put(nc_store_t *s, const nc_store_cmd_t *c, uint64_t index,
    nc_store_result_t *res)
{
    nc_store_record_t  *rec;

    rec = nc_store_record_alloc(s, c->key, c->key_len, c->type, c->value_len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    if (c->value_len) {
        nc_memcpy(nc_store_record_value(rec), c->value, c->value_len);
    }

    res->revision = index;

    return nc_store_insert(s, rec);
}


/* every key under a prefix, inside the open batch */
nc_int_t
nc_store_apply_delete_prefix(nc_store_t *s, const u_char *prefix, size_t len)
{
    u_char                  **keys, **p;
    size_t                   *lens, *l, n, cap, i;
    u_char                    key[NC_STORE_MAX_KEY_LEN];
    nc_int_t                  rc;
    nc_store_iter_t          *it;
    const nc_store_record_t  *rec;

    /* collect first: the tree changes under a delete */
    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_STORE_FULL;
    }

    nc_store_iter_init(it, s, *nc_store_batch_root(s), prefix, len, NULL, 0);

    keys = NULL;
    lens = NULL;
    n = 0;
    cap = 0;
    rc = NC_OK;

    while ((rec = nc_store_iter_next(it)) != NULL) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            p = realloc(keys, cap * sizeof(u_char *));
            if (p == NULL) {
                rc = NC_STORE_FULL;
                break;
            }

            keys = p;

            l = realloc(lens, cap * sizeof(size_t));
            if (l == NULL) {
                rc = NC_STORE_FULL;
                break;
            }

            lens = l;
        }

        /* the record stays put until the deletes below */
        keys[n] = (u_char *) nc_store_record_key(rec);
        lens[n] = rec->key_len;
        n++;
    }

    free(it);

    /* copy the keys: a delete may free the record that holds one */
    for (i = 0; rc == NC_OK && i < n; i++) {
        nc_memcpy(key, keys[i], lens[i]);

        if (nc_store_delete(s, key, lens[i]) == NC_STORE_FULL) {
            rc = NC_STORE_FULL;
        }
    }

    free(keys);
    free(lens);

    return rc;
}
