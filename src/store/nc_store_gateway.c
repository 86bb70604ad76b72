
/*
 * nacre: applying gateway route commands.  The JSON was checked by the
 * worker that took the request; apply stores it as it is, so every member
 * holds the same bytes.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_gateway.h>


static nc_int_t nc_store_gateway_apply(nc_store_t *s,
    const nc_raft_entry_t *e, nc_store_result_t *res);


void
nc_store_gateway_init(void)
{
    nc_store_apply_register(NC_STORE_GATEWAY_PUT, nc_store_gateway_apply, 0);
    nc_store_apply_register(NC_STORE_GATEWAY_DELETE, nc_store_gateway_apply,
                            NC_STORE_APPLY_REMOVES);
}


u_char *
nc_store_gateway_command(nc_pool_t *pool, nc_uint_t op, const nc_str_t *id,
    const u_char *json, size_t json_len, size_t *len)
{
    u_char          *buf, *key;
    size_t           size;
    nc_store_cmd_t   c;

    key = nc_pnalloc(pool, NC_STORE_GATEWAY_ROUTE_LEN + id->len);
    size = NC_STORE_CMD_HEADER + NC_STORE_GATEWAY_ROUTE_LEN + id->len
           + json_len;
    buf = nc_pnalloc(pool, size);

    if (key == NULL || buf == NULL) {
        return NULL;
    }

    nc_memcpy(key, NC_STORE_GATEWAY_ROUTE, NC_STORE_GATEWAY_ROUTE_LEN);
    nc_memcpy(key + NC_STORE_GATEWAY_ROUTE_LEN, id->data, id->len);

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = (uint8_t) op;
    c.type = NC_STORE_T_GATEWAY;
    c.key = key;
    c.key_len = (uint32_t) (NC_STORE_GATEWAY_ROUTE_LEN + id->len);

    if (op == NC_STORE_GATEWAY_PUT) {
        c.value = json;
        c.value_len = (uint32_t) json_len;
    }

    *len = nc_store_cmd_encode(buf, size, &c);

    return *len ? buf : NULL;
}


static nc_int_t
nc_store_gateway_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_int_t            rc;
    nc_store_cmd_t      c;
    nc_store_record_t  *rec;

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK
        || c.type != NC_STORE_T_GATEWAY
        || c.key_len <= NC_STORE_GATEWAY_ROUTE_LEN
        || nc_memcmp(c.key, NC_STORE_GATEWAY_ROUTE,
                     NC_STORE_GATEWAY_ROUTE_LEN) != 0)
    {
        return NC_ERROR;
    }

    if (c.op == NC_STORE_GATEWAY_PUT) {
        if (c.value_len == 0) {
            return NC_ERROR;
        }

        rec = nc_store_record_alloc(s, c.key, c.key_len, NC_STORE_T_GATEWAY,
                                    c.value_len, e->index);
        if (rec == NULL) {
            return NC_STORE_FULL;
        }

        nc_memcpy(nc_store_record_value(rec), c.value, c.value_len);

        rc = nc_store_insert(s, rec);

    } else if (c.op == NC_STORE_GATEWAY_DELETE) {
        if (nc_store_lookup(s, c.key, c.key_len) == NULL) {
            return NC_DECLINED;
        }

        rc = nc_store_delete(s, c.key, c.key_len);

    } else {
        return NC_ERROR;
    }

    if (rc != NC_OK) {
        return rc;
    }

    res->revision = e->index;

    /* the route set moved: workers build their tables again */
    rec = nc_store_record_alloc(s, (u_char *) NC_STORE_GATEWAY_ROUTES,
                                sizeof(NC_STORE_GATEWAY_ROUTES) - 1,
                                NC_STORE_T_GATEWAY, 0, e->index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    return nc_store_insert(s, rec);
}
