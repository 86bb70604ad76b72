
/*
 * nacre: applying the auth commands (nc_store_auth.h).  Every result
 * depends on the entry and the store alone, so each member reaches the
 * same one.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_auth.h>


static nc_int_t nc_store_auth_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res);
static nc_int_t nc_store_auth_put(nc_store_t *s, const u_char *key,
    size_t key_len, const u_char *value, size_t value_len, uint64_t index,
    nc_store_result_t *res);
static nc_int_t nc_store_auth_bootstrap(nc_store_t *s,
    const nc_store_cmd_t *c, uint64_t index, nc_store_result_t *res);
static nc_int_t nc_store_auth_role_delete_all(nc_store_t *s,
    const nc_store_cmd_t *c);


#define nc_store_auth_is(c, prefix)                                           \
    ((c)->key_len > sizeof(prefix) - 1                                        \
     && nc_memcmp((c)->key, prefix, sizeof(prefix) - 1) == 0)


void
nc_store_auth_init(void)
{
    nc_uint_t  op;

    for (op = NC_STORE_AUTH_BOOTSTRAP; op <= NC_STORE_AUTH_PERM_DELETE; op++) {
        nc_store_apply_register(op, nc_store_auth_apply,
                                op >= NC_STORE_AUTH_USER_DELETE
                                ? NC_STORE_APPLY_REMOVES : 0);
    }
}


size_t
nc_store_auth_command(u_char *buf, size_t size, nc_uint_t op,
    const nc_str_t *a, const nc_str_t *b, const nc_str_t *c,
    const u_char *value, size_t value_len)
{
    u_char          *p;
    nc_store_cmd_t   cmd;
    u_char           key[NC_STORE_MAX_KEY_LEN];

    p = key;

    switch (op) {

    case NC_STORE_AUTH_BOOTSTRAP:
        p = nc_cpymem(p, NC_STORE_AUTH_KEY, sizeof(NC_STORE_AUTH_KEY) - 1);
        break;

    case NC_STORE_AUTH_USER_ADD:
    case NC_STORE_AUTH_USER_PASSWORD:
    case NC_STORE_AUTH_USER_DELETE:
        if (a->len + sizeof(NC_STORE_AUTH_USER) > sizeof(key)) {
            return 0;
        }

        p = nc_cpymem(p, NC_STORE_AUTH_USER, sizeof(NC_STORE_AUTH_USER) - 1);
        p = nc_cpymem(p, a->data, a->len);
        break;

    case NC_STORE_AUTH_ROLE_ADD:
    case NC_STORE_AUTH_ROLE_DELETE:
        p = nc_cpymem(p, NC_STORE_AUTH_ROLE, sizeof(NC_STORE_AUTH_ROLE) - 1);

        /* no user: ROLE_DELETE of a role for everyone, named in the value */
        if (a == NULL || a->len == 0) {
            break;
        }

        if (a->len + b->len + sizeof(NC_STORE_AUTH_ROLE) + 1 > sizeof(key)) {
            return 0;
        }

        p = nc_cpymem(p, a->data, a->len);
        *p++ = '/';
        p = nc_cpymem(p, b->data, b->len);
        break;

    case NC_STORE_AUTH_PERM_ADD:
    case NC_STORE_AUTH_PERM_DELETE:
        if (a->len + b->len + c->len + sizeof(NC_STORE_AUTH_PERM) + 2
            > sizeof(key))
        {
            return 0;
        }

        p = nc_cpymem(p, NC_STORE_AUTH_PERM, sizeof(NC_STORE_AUTH_PERM) - 1);
        p = nc_cpymem(p, a->data, a->len);
        *p++ = NC_STORE_AUTH_SEP;
        p = nc_cpymem(p, b->data, b->len);
        *p++ = NC_STORE_AUTH_SEP;
        p = nc_cpymem(p, c->data, c->len);
        break;

    default:
        return 0;
    }

    nc_memzero(&cmd, sizeof(nc_store_cmd_t));
    cmd.op = (uint8_t) op;
    cmd.type = NC_STORE_T_AUTH;
    cmd.key = key;
    cmd.key_len = (uint32_t) (p - key);
    cmd.value = value;
    cmd.value_len = (uint32_t) value_len;

    return nc_store_cmd_encode(buf, size, &cmd);
}


static nc_int_t
nc_store_auth_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_store_cmd_t            c;
    const u_char             *name, *slash;
    const nc_store_record_t  *old, *user;
    u_char                    key[NC_STORE_MAX_KEY_LEN];

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK
        || c.type != NC_STORE_T_AUTH)
    {
        return NC_ERROR;
    }

    if (c.op == NC_STORE_AUTH_BOOTSTRAP) {
        return nc_store_auth_bootstrap(s, &c, e->index, res);
    }

    if (c.op == NC_STORE_AUTH_ROLE_DELETE
        && c.key_len == sizeof(NC_STORE_AUTH_ROLE) - 1)
    {
        return nc_store_auth_role_delete_all(s, &c);
    }

    /* each command stays within its own kind of record */
    switch (c.op) {

    case NC_STORE_AUTH_USER_ADD:
    case NC_STORE_AUTH_USER_PASSWORD:
    case NC_STORE_AUTH_USER_DELETE:
        if (!nc_store_auth_is(&c, NC_STORE_AUTH_USER)) {
            return NC_ERROR;
        }
        break;

    case NC_STORE_AUTH_ROLE_ADD:
    case NC_STORE_AUTH_ROLE_DELETE:
        if (!nc_store_auth_is(&c, NC_STORE_AUTH_ROLE)) {
            return NC_ERROR;
        }
        break;

    case NC_STORE_AUTH_PERM_ADD:
    case NC_STORE_AUTH_PERM_DELETE:
        if (!nc_store_auth_is(&c, NC_STORE_AUTH_PERM)) {
            return NC_ERROR;
        }
        break;

    default:
        return NC_ERROR;
    }

    old = nc_store_lookup(s, c.key, c.key_len);

    switch (c.op) {

    case NC_STORE_AUTH_USER_ADD:
    case NC_STORE_AUTH_PERM_ADD:
        if (old) {
            return NC_DECLINED;
        }

        return nc_store_auth_put(s, c.key, c.key_len, c.value, c.value_len,
                                 e->index, res);

    case NC_STORE_AUTH_USER_PASSWORD:
        if (old == NULL) {
            return NC_DECLINED;
        }

        return nc_store_auth_put(s, c.key, c.key_len, c.value, c.value_len,
                                 e->index, res);

    case NC_STORE_AUTH_ROLE_ADD:
        if (old) {
            return NC_DECLINED;
        }

        /* auth/role/<user>/<role>: the user must exist */
        name = c.key + sizeof(NC_STORE_AUTH_ROLE) - 1;
        slash = memchr(name, '/', c.key + c.key_len - name);

        if (slash == NULL) {
            return NC_ERROR;
        }

        nc_memcpy(key, NC_STORE_AUTH_USER, sizeof(NC_STORE_AUTH_USER) - 1);
        nc_memcpy(key + sizeof(NC_STORE_AUTH_USER) - 1, name, slash - name);

        user = nc_store_lookup(s, key, sizeof(NC_STORE_AUTH_USER) - 1
                                       + (slash - name));
        if (user == NULL) {
            return NC_DECLINED;
        }

        return nc_store_auth_put(s, c.key, c.key_len, NULL, 0, e->index, res);

    case NC_STORE_AUTH_USER_DELETE:
        if (old == NULL) {
            return NC_DECLINED;
        }

        /* its roles go with it: auth/role/<user>/ */
        if (sizeof(NC_STORE_AUTH_ROLE) + c.key_len > sizeof(key)) {
            return NC_ERROR;
        }

        nc_memcpy(key, NC_STORE_AUTH_ROLE, sizeof(NC_STORE_AUTH_ROLE) - 1);
        nc_memcpy(key + sizeof(NC_STORE_AUTH_ROLE) - 1,
                  c.key + sizeof(NC_STORE_AUTH_USER) - 1,
                  c.key_len - (sizeof(NC_STORE_AUTH_USER) - 1));
        key[sizeof(NC_STORE_AUTH_ROLE) - 1 + c.key_len
            - (sizeof(NC_STORE_AUTH_USER) - 1)] = '/';

        if (nc_store_apply_delete_prefix(s, key,
                                         sizeof(NC_STORE_AUTH_ROLE) + c.key_len
                                         - (sizeof(NC_STORE_AUTH_USER) - 1))
            == NC_STORE_FULL)
        {
            return NC_STORE_FULL;
        }

        return nc_store_delete(s, c.key, c.key_len);

    default:        /* ROLE_DELETE, PERM_DELETE */
        if (old == NULL) {
            return NC_DECLINED;
        }

        return nc_store_delete(s, c.key, c.key_len);
    }
}


static nc_int_t
nc_store_auth_put(nc_store_t *s, const u_char *key, size_t key_len,
    const u_char *value, size_t value_len, uint64_t index,
    nc_store_result_t *res)
{
    nc_store_record_t  *rec;

    rec = nc_store_record_alloc(s, key, key_len, NC_STORE_T_AUTH, value_len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    if (value_len) {
        nc_memcpy(nc_store_record_value(rec), value, value_len);
    }

    res->revision = index;

    return nc_store_insert(s, rec);
}


/* the key, the admin user and its role, all or nothing, once */
static nc_int_t
nc_store_auth_bootstrap(nc_store_t *s, const nc_store_cmd_t *c,
    uint64_t index, nc_store_result_t *res)
{
    nc_int_t  rc;
    u_char    key[64];
    size_t    len;

    if (c->key_len != sizeof(NC_STORE_AUTH_KEY) - 1
        || nc_memcmp(c->key, NC_STORE_AUTH_KEY, c->key_len) != 0
        || c->value_len <= NC_STORE_AUTH_KEY_LEN)
    {
        return NC_ERROR;
    }

    if (nc_store_lookup(s, c->key, c->key_len) != NULL) {
        return NC_DECLINED;
    }

    rc = nc_store_auth_put(s, c->key, c->key_len, c->value,
                           NC_STORE_AUTH_KEY_LEN, index, res);
    if (rc != NC_OK) {
        return rc;
    }

    len = (size_t) snprintf((char *) key, sizeof(key), "%s%s",
                            NC_STORE_AUTH_USER, NC_STORE_AUTH_ADMIN_USER);

    rc = nc_store_auth_put(s, key, len, c->value + NC_STORE_AUTH_KEY_LEN,
                           c->value_len - NC_STORE_AUTH_KEY_LEN, index, res);
    if (rc != NC_OK) {
        return rc;
    }

    len = (size_t) snprintf((char *) key, sizeof(key), "%s%s/%s",
                            NC_STORE_AUTH_ROLE, NC_STORE_AUTH_ADMIN_USER,
                            NC_STORE_AUTH_ADMIN_ROLE);

    return nc_store_auth_put(s, key, len, NULL, 0, index, res);
}


/* ROLE_DELETE without a user: the role named in the value, for everyone */
static nc_int_t
nc_store_auth_role_delete_all(nc_store_t *s, const nc_store_cmd_t *c)
{
    size_t                    n, i, cap;
    u_char                  **keys, **p;
    size_t                   *lens, *l;
    nc_int_t                  rc;
    nc_store_iter_t          *it;
    const u_char             *k, *slash;
    const nc_store_record_t  *rec;
    u_char                    key[NC_STORE_MAX_KEY_LEN];

    if (c->value_len == 0) {
        return NC_ERROR;
    }

    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_STORE_FULL;
    }

    nc_store_iter_init(it, s, *nc_store_batch_root(s),
                       (u_char *) NC_STORE_AUTH_ROLE,
                       sizeof(NC_STORE_AUTH_ROLE) - 1, NULL, 0);

    keys = NULL;
    lens = NULL;
    n = 0;
    cap = 0;
    rc = NC_OK;

    /* collect first: the tree changes under a delete */
    while ((rec = nc_store_iter_next(it)) != NULL) {
        k = nc_store_record_key(rec);
        slash = memchr(k + sizeof(NC_STORE_AUTH_ROLE) - 1, '/',
                       rec->key_len - (sizeof(NC_STORE_AUTH_ROLE) - 1));

        if (slash == NULL
            || (size_t) (k + rec->key_len - slash - 1) != c->value_len
            || nc_memcmp(slash + 1, c->value, c->value_len) != 0)
        {
            continue;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 16;

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

        keys[n] = (u_char *) k;
        lens[n] = rec->key_len;
        n++;
    }

    free(it);

    for (i = 0; rc == NC_OK && i < n; i++) {
        nc_memcpy(key, keys[i], lens[i]);

        if (nc_store_delete(s, key, lens[i]) == NC_STORE_FULL) {
            rc = NC_STORE_FULL;
        }
    }

    free(keys);
    free(lens);

    if (rc == NC_OK && n == 0) {
        return NC_DECLINED;
    }

    return rc;
}
