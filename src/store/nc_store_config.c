
/*
 * nacre: applying config commands (nc_store_config.h).  Every result
 * depends on the entry and the store alone, so each member reaches the
 * same one.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_config.h>

#include <openssl/evp.h>


#define NC_STORE_CONFIG_NID_LEN     16       /* hex digits of a history id */


static nc_int_t nc_store_config_apply(nc_store_t *s,
    const nc_raft_entry_t *e, nc_store_result_t *res);
static nc_int_t nc_store_config_decode(const nc_store_cmd_t *c,
    nc_store_config_cmd_t *cmd);
static nc_int_t nc_store_config_put(nc_store_t *s, const u_char *key,
    size_t key_len, uint64_t index, const nc_store_config_head_t *head,
    const nc_str_t *field);
static nc_int_t nc_store_config_history(nc_store_t *s,
    const nc_store_cmd_t *c, const nc_store_config_cmd_t *cmd,
    uint64_t index, const nc_store_record_t *old);
static nc_int_t nc_store_config_prune(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd);
static nc_flag_t nc_store_config_ns_exists(nc_store_t *s,
    const nc_store_cmd_t *c, size_t prefix_len);
static nc_uint_t nc_store_config_slashes(const nc_store_cmd_t *c,
    size_t prefix_len);
static nc_int_t nc_store_config_beta(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd, uint64_t index,
    nc_store_result_t *res);
static nc_int_t nc_store_config_namespace(nc_store_t *s,
    const nc_store_cmd_t *c, const nc_store_config_cmd_t *cmd,
    uint64_t index, nc_store_result_t *res);


void
nc_store_config_init(void)
{
    nc_uint_t  op;

    /* a delete adds a history record: it needs room like a write */
    for (op = NC_STORE_CONFIG_PUBLISH; op <= NC_STORE_CONFIG_BETA_DELETE;
         op++)
    {
        nc_store_apply_register(op, nc_store_config_apply,
                                op == NC_STORE_CONFIG_NS_DELETE
                                || op == NC_STORE_CONFIG_BETA_DELETE
                                ? NC_STORE_APPLY_REMOVES : 0);
    }
}


size_t
nc_store_config_key(u_char *buf, size_t size, const char *prefix,
    const nc_str_t *ns, const nc_str_t *group, const nc_str_t *data_id)
{
    u_char  *p;
    size_t   plen, len;

    plen = strlen(prefix);
    len = plen + ns->len + 1 + group->len + 1 + data_id->len;

    if (len > size) {
        return 0;
    }

    p = nc_cpymem(buf, prefix, plen);

    /* the public namespace is "", maybe with no bytes behind it */
    if (ns->len) {
        p = nc_cpymem(p, ns->data, ns->len);
    }

    *p++ = '/';
    p = nc_cpymem(p, group->data, group->len);
    *p++ = '/';

    if (data_id->len) {
        p = nc_cpymem(p, data_id->data, data_id->len);
    }

    return len;
}


u_char *
nc_store_config_command(nc_pool_t *pool, nc_uint_t op, const u_char *key,
    size_t klen, const nc_store_config_cmd_t *cmd, size_t *len)
{
    u_char          *buf, *v, *p;
    size_t           size, vlen;
    nc_uint_t        f;
    nc_store_cmd_t   c;

    vlen = NC_STORE_CONFIG_CMD_FIXED;

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        vlen += cmd->field[f].len;
    }

    size = NC_STORE_CMD_HEADER + klen + vlen;

    v = nc_pnalloc(pool, vlen);
    buf = nc_pnalloc(pool, size);

    if (v == NULL || buf == NULL) {
        return NULL;
    }

    p = v;
    nc_le64_put(p, cmd->time);
    nc_le64_put(p + 8, (cmd->use_cas ? NC_STORE_CONFIG_CAS : 0)
                       | (cmd->create_only ? NC_STORE_CONFIG_CREATE : 0));
    nc_le64_put(p + 16, cmd->history_max_count);
    nc_le64_put(p + 24, cmd->history_max_age);
    p = nc_cpymem(p + 32, cmd->md5, 16);
    p = nc_cpymem(p, cmd->cas, 16);

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        nc_le32_put(p, (uint32_t) cmd->field[f].len);
        p += 4;
    }

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        if (cmd->field[f].len) {
            p = nc_cpymem(p, cmd->field[f].data, cmd->field[f].len);
        }
    }

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = (uint8_t) op;
    c.type = NC_STORE_T_CONFIG;
    c.key = (u_char *) key;
    c.key_len = (uint32_t) klen;
    c.value = v;
    c.value_len = (uint32_t) vlen;

    *len = nc_store_cmd_encode(buf, size, &c);

    return *len ? buf : NULL;
}


void
nc_store_config_md5(const u_char *p, size_t len, u_char md5[16])
{
    unsigned int  n;

    n = 16;

    if (EVP_Digest(p, len, md5, &n, EVP_md5(), NULL) != 1) {
        nc_memzero(md5, 16);
    }
}


void
nc_store_config_field(const nc_store_record_t *rec, nc_uint_t f,
    nc_str_t *value)
{
    u_char                        *p;
    nc_uint_t                      i;
    const nc_store_config_head_t  *h;

    h = nc_store_config_head(rec);
    p = (u_char *) nc_store_record_value(rec) + sizeof(nc_store_config_head_t);

    for (i = 0; i < f; i++) {
        p += h->len[i];
    }

    value->data = p;
    value->len = h->len[f];
}


static nc_int_t
nc_store_config_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_int_t                    rc;
    nc_store_cmd_t              c;
    nc_store_config_cmd_t       cmd;
    nc_store_config_head_t      head;
    const nc_store_record_t    *old;
    const nc_store_config_head_t  *oh;

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK
        || c.type != NC_STORE_T_CONFIG
        || nc_store_config_decode(&c, &cmd) != NC_OK)
    {
        return NC_ERROR;
    }

    if (c.op >= NC_STORE_CONFIG_BETA_PUBLISH) {
        return nc_store_config_beta(s, &c, &cmd, e->index, res);
    }

    if (c.op >= NC_STORE_CONFIG_NS_CREATE) {
        return nc_store_config_namespace(s, &c, &cmd, e->index, res);
    }

    if (c.key_len <= sizeof(NC_STORE_CONFIG_ITEM) - 1
        || nc_memcmp(c.key, NC_STORE_CONFIG_ITEM,
                     sizeof(NC_STORE_CONFIG_ITEM) - 1) != 0)
    {
        return NC_ERROR;
    }

    /* cfg/<ns>/<group>/<dataId>: exactly two more '/' */
    if (nc_store_config_slashes(&c, sizeof(NC_STORE_CONFIG_ITEM) - 1) != 2
        || c.key_len + 1 + NC_STORE_CONFIG_NID_LEN + 1 > NC_STORE_MAX_KEY_LEN)
    {
        return NC_ERROR;
    }

    old = nc_store_lookup(s, c.key, c.key_len);

    if (old && (old->type != NC_STORE_T_CONFIG
                || old->value_len < sizeof(nc_store_config_head_t)))
    {
        return NC_ERROR;
    }

    oh = old ? nc_store_config_head(old) : NULL;
    res->revision = e->index;

    switch (c.op) {

    case NC_STORE_CONFIG_PUBLISH:
        if ((cmd.use_cas
             && (oh == NULL || nc_memcmp(oh->md5, cmd.cas, 16) != 0))
            || (cmd.create_only && old))
        {
            return NC_DECLINED;
        }

        if (old == NULL
            && !nc_store_config_ns_exists(s, &c,
                                          sizeof(NC_STORE_CONFIG_ITEM) - 1))
        {
            return NC_ERROR;
        }

        /* before the item: a replaced record made in this batch is freed */
        rc = nc_store_config_history(s, &c, &cmd, e->index, old);
        if (rc != NC_OK) {
            return rc;
        }

        nc_memzero(&head, sizeof(nc_store_config_head_t));
        head.id = oh ? oh->id : e->index;
        head.created = oh ? oh->created : cmd.time;
        head.modified = cmd.time;
        nc_memcpy(head.md5, cmd.md5, 16);

        rc = nc_store_config_put(s, c.key, c.key_len, e->index, &head,
                                 cmd.field);
        break;

    case NC_STORE_CONFIG_DELETE:
        if (old == NULL) {
            return NC_DECLINED;
        }

        rc = nc_store_config_history(s, &c, &cmd, e->index, old);

        if (rc == NC_OK) {
            rc = nc_store_delete(s, c.key, c.key_len);
        }

        break;

    default:
        return NC_ERROR;
    }

    if (rc != NC_OK) {
        return rc;
    }

    return nc_store_config_prune(s, &c, &cmd);
}


static nc_int_t
nc_store_config_decode(const nc_store_cmd_t *c, nc_store_config_cmd_t *cmd)
{
    size_t         total;
    nc_uint_t      f;
    const u_char  *p, *end;

    if (c->value_len < NC_STORE_CONFIG_CMD_FIXED) {
        return NC_ERROR;
    }

    p = c->value;
    end = c->value + c->value_len;

    cmd->time = nc_le64_get(p);
    cmd->use_cas = (nc_le64_get(p + 8) & NC_STORE_CONFIG_CAS) != 0;
    cmd->create_only = (nc_le64_get(p + 8) & NC_STORE_CONFIG_CREATE) != 0;
    cmd->history_max_count = nc_le64_get(p + 16);
    cmd->history_max_age = nc_le64_get(p + 24);
    nc_memcpy(cmd->md5, p + 32, 16);
    nc_memcpy(cmd->cas, p + 48, 16);
    p += 64;

    total = 0;

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        cmd->field[f].len = nc_le32_get(p);
        total += cmd->field[f].len;
        p += 4;
    }

    if (total != (size_t) (end - p)) {
        return NC_ERROR;
    }

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        cmd->field[f].data = (u_char *) p;
        p += cmd->field[f].len;
    }

    return NC_OK;
}


static nc_int_t
nc_store_config_put(nc_store_t *s, const u_char *key, size_t key_len,
    uint64_t index, const nc_store_config_head_t *head, const nc_str_t *field)
{
    u_char                  *p;
    size_t                   len;
    nc_uint_t                f;
    nc_store_record_t       *rec;
    nc_store_config_head_t  *h;

    len = sizeof(nc_store_config_head_t);

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        len += field[f].len;
    }

    rec = nc_store_record_alloc(s, key, key_len, NC_STORE_T_CONFIG, len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    h = (nc_store_config_head_t *) nc_store_record_value(rec);
    *h = *head;
    p = (u_char *) (h + 1);

    for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
        h->len[f] = (uint32_t) field[f].len;

        if (field[f].len) {
            p = nc_cpymem(p, field[f].data, field[f].len);
        }
    }

    return nc_store_insert(s, rec);
}


/*
 * The change's history record: 'I' keeps the new item, 'U' and 'D' the
 * one it replaces; who and from where are the change's.
 */
static nc_int_t
nc_store_config_history(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd, uint64_t index,
    const nc_store_record_t *old)
{
    size_t                   len;
    nc_uint_t                f;
    nc_str_t                 field[NC_STORE_CONFIG_NFIELDS];
    nc_store_config_head_t   head;
    u_char                   key[NC_STORE_MAX_KEY_LEN];

    if (cmd->history_max_count == 0) {
        return NC_OK;
    }

    nc_memzero(&head, sizeof(nc_store_config_head_t));
    head.created = cmd->time;
    head.modified = cmd->time;

    if (old) {
        for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
            nc_store_config_field(old, f, &field[f]);
        }

        head.id = nc_store_config_head(old)->id;
        nc_memcpy(head.md5, nc_store_config_head(old)->md5, 16);
        head.op = c->op == NC_STORE_CONFIG_DELETE ? 'D' : 'U';

    } else {
        for (f = 0; f < NC_STORE_CONFIG_NFIELDS; f++) {
            field[f] = cmd->field[f];
        }

        head.id = index;
        nc_memcpy(head.md5, cmd->md5, 16);
        head.op = 'I';
    }

    field[NC_STORE_CONFIG_F_USER] = cmd->field[NC_STORE_CONFIG_F_USER];
    field[NC_STORE_CONFIG_F_IP] = cmd->field[NC_STORE_CONFIG_F_IP];

    /* cfgh/<ns>/<group>/<dataId>/<nid> */
    len = sizeof(NC_STORE_CONFIG_HISTORY) - 1;
    nc_memcpy(key, NC_STORE_CONFIG_HISTORY, len);
    nc_memcpy(key + len, c->key + sizeof(NC_STORE_CONFIG_ITEM) - 1,
              c->key_len - (sizeof(NC_STORE_CONFIG_ITEM) - 1));
    len += c->key_len - (sizeof(NC_STORE_CONFIG_ITEM) - 1);
    len += (size_t) sprintf((char *) key + len, "/%016" PRIx64, index);

    return nc_store_config_put(s, key, len, index, &head, field);
}


/* the item's history: at most max_count records, none older than max_age */
static nc_int_t
nc_store_config_prune(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd)
{
    u_char                   *keys, *k;
    size_t                    plen, n, total, drop, i, cap;
    uint64_t                  cutoff;
    nc_int_t                  rc;
    nc_store_iter_t          *it;
    const nc_store_record_t  *rec;
    u_char                    prefix[NC_STORE_MAX_KEY_LEN];

    plen = sizeof(NC_STORE_CONFIG_HISTORY) - 1;
    nc_memcpy(prefix, NC_STORE_CONFIG_HISTORY, plen);
    nc_memcpy(prefix + plen, c->key + sizeof(NC_STORE_CONFIG_ITEM) - 1,
              c->key_len - (sizeof(NC_STORE_CONFIG_ITEM) - 1));
    plen += c->key_len - (sizeof(NC_STORE_CONFIG_ITEM) - 1);
    prefix[plen++] = '/';

    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_STORE_FULL;
    }

    /* count first: then the oldest records beyond the count, and the aged */
    total = 0;
    nc_store_iter_init(it, s, *nc_store_batch_root(s), prefix, plen, NULL, 0);

    while (nc_store_iter_next(it) != NULL) {
        total++;
    }

    cutoff = cmd->time > cmd->history_max_age
             ? cmd->time - cmd->history_max_age : 0;

    drop = total > cmd->history_max_count
           ? total - cmd->history_max_count : 0;

    cap = total;
    keys = cap ? malloc(cap * (plen + NC_STORE_CONFIG_NID_LEN)) : NULL;

    if (cap && keys == NULL) {
        free(it);
        return NC_STORE_FULL;
    }

    n = 0;
    nc_store_iter_init(it, s, *nc_store_batch_root(s), prefix, plen, NULL, 0);

    /* oldest first: nids are in index order */
    while ((rec = nc_store_iter_next(it)) != NULL) {
        if (n >= drop && (cmd->history_max_age == 0
                          || nc_store_config_head(rec)->modified >= cutoff))
        {
            break;
        }

        if (rec->key_len != plen + NC_STORE_CONFIG_NID_LEN) {
            continue;
        }

        nc_memcpy(keys + n * rec->key_len, nc_store_record_key(rec),
                  rec->key_len);
        n++;
    }

    free(it);

    rc = NC_OK;

    for (i = 0; i < n; i++) {
        k = keys + i * (plen + NC_STORE_CONFIG_NID_LEN);

        if (nc_store_delete(s, k, plen + NC_STORE_CONFIG_NID_LEN)
            == NC_STORE_FULL)
        {
            rc = NC_STORE_FULL;
            break;
        }
    }

    free(keys);

    return rc;
}


/* the key's namespace (<prefix><ns>/...) is "" or has its record */
static nc_flag_t
nc_store_config_ns_exists(nc_store_t *s, const nc_store_cmd_t *c,
    size_t prefix_len)
{
    size_t         len;
    const u_char  *ns, *slash;
    u_char         key[NC_STORE_MAX_KEY_LEN];

    ns = c->key + prefix_len;
    slash = memchr(ns, '/', c->key + c->key_len - ns);

    if (slash == NULL) {
        return 0;
    }

    if (slash == ns) {
        return 1;
    }

    len = sizeof(NC_STORE_CONFIG_NAMESPACE) - 1;
    nc_memcpy(key, NC_STORE_CONFIG_NAMESPACE, len);
    nc_memcpy(key + len, ns, slash - ns);
    len += slash - ns;

    return nc_store_lookup(s, key, len) != NULL;
}


static nc_int_t
nc_store_config_namespace(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd, uint64_t index, nc_store_result_t *res)
{
    size_t                        len;
    nc_store_iter_t              *it;
    nc_store_config_head_t        head;
    const nc_store_record_t      *old, *item;
    const nc_store_config_head_t *oh;
    u_char                        prefix[NC_STORE_MAX_KEY_LEN];

    len = sizeof(NC_STORE_CONFIG_NAMESPACE) - 1;

    /* cfgn/<ns>: a namespace of its characters, never the public one */
    if (c->key_len <= len || c->key_len > len + 128
        || nc_memcmp(c->key, NC_STORE_CONFIG_NAMESPACE, len) != 0
        || memchr(c->key + len, '/', c->key_len - len) != NULL)
    {
        return NC_ERROR;
    }

    old = nc_store_lookup(s, c->key, c->key_len);
    oh = old ? nc_store_config_head(old) : NULL;
    res->revision = index;

    switch (c->op) {

    case NC_STORE_CONFIG_NS_CREATE:
    case NC_STORE_CONFIG_NS_UPDATE:
        if ((c->op == NC_STORE_CONFIG_NS_CREATE) == (old != NULL)) {
            return NC_DECLINED;
        }

        nc_memzero(&head, sizeof(nc_store_config_head_t));
        head.id = oh ? oh->id : index;
        head.created = oh ? oh->created : cmd->time;
        head.modified = cmd->time;

        return nc_store_config_put(s, c->key, c->key_len, index, &head,
                                   cmd->field);

    case NC_STORE_CONFIG_NS_DELETE:
        if (old == NULL) {
            return NC_DECLINED;
        }

        /* cfg/<ns>/: any item left keeps it */
        len = sizeof(NC_STORE_CONFIG_ITEM) - 1;
        nc_memcpy(prefix, NC_STORE_CONFIG_ITEM, len);
        nc_memcpy(prefix + len, c->key + sizeof(NC_STORE_CONFIG_NAMESPACE) - 1,
                  c->key_len - (sizeof(NC_STORE_CONFIG_NAMESPACE) - 1));
        len += c->key_len - (sizeof(NC_STORE_CONFIG_NAMESPACE) - 1);
        prefix[len++] = '/';

        it = malloc(sizeof(nc_store_iter_t));
        if (it == NULL) {
            return NC_STORE_FULL;
        }

        nc_store_iter_init(it, s, *nc_store_batch_root(s), prefix, len, NULL,
                           0);
        item = nc_store_iter_next(it);
        free(it);

        if (item) {
            return NC_DECLINED;
        }

        return nc_store_delete(s, c->key, c->key_len);

    default:
        return NC_ERROR;
    }
}


static nc_uint_t
nc_store_config_slashes(const nc_store_cmd_t *c, size_t prefix_len)
{
    nc_uint_t      n;
    const u_char  *p;

    n = 0;

    for (p = c->key + prefix_len; p < c->key + c->key_len; p++) {
        n += (*p == '/');
    }

    return n;
}


static nc_int_t
nc_store_config_beta(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_config_cmd_t *cmd, uint64_t index, nc_store_result_t *res)
{
    size_t                         len;
    nc_store_config_head_t         head;
    const nc_store_record_t       *old;
    const nc_store_config_head_t  *oh;

    len = sizeof(NC_STORE_CONFIG_BETA) - 1;

    if (c->key_len <= len || nc_memcmp(c->key, NC_STORE_CONFIG_BETA, len) != 0
        || nc_store_config_slashes(c, len) != 2)
    {
        return NC_ERROR;
    }

    old = nc_store_lookup(s, c->key, c->key_len);
    oh = old ? nc_store_config_head(old) : NULL;
    res->revision = index;

    if (c->op == NC_STORE_CONFIG_BETA_DELETE) {
        return old ? nc_store_delete(s, c->key, c->key_len) : NC_DECLINED;
    }

    if (old == NULL && !nc_store_config_ns_exists(s, c, len)) {
        return NC_ERROR;
    }

    nc_memzero(&head, sizeof(nc_store_config_head_t));
    head.id = oh ? oh->id : index;
    head.created = oh ? oh->created : cmd->time;
    head.modified = cmd->time;
    nc_memcpy(head.md5, cmd->md5, 16);

    return nc_store_config_put(s, c->key, c->key_len, index, &head,
                               cmd->field);
}
