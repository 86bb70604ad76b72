
/*
 * nacre: applying naming commands (nc_store_naming.h).  Every result
 * depends on the entry and the store alone, so each member reaches the
 * same one.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_json.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_naming.h>

#include <math.h>
#include <openssl/evp.h>


/* a service a batch changed: its list is rendered at the batch's end */
typedef struct {
    u_char             *key;             /* 0: a free slot */
    size_t              len;
    uint64_t            index;           /* the last entry that touched it */
    uint64_t            modified;        /* its lastRefTime so far */
} nc_store_naming_dirty_t;


static nc_int_t nc_store_naming_apply(nc_store_t *s,
    const nc_raft_entry_t *e, nc_store_result_t *res);
static nc_int_t nc_store_naming_finish(nc_store_t *s, nc_flag_t abort);
static nc_int_t nc_store_naming_decode(const nc_store_cmd_t *c,
    nc_store_naming_cmd_t *cmd);
static nc_int_t nc_store_naming_instance_op(nc_store_t *s,
    const nc_store_cmd_t *c, const nc_store_naming_cmd_t *cmd,
    uint64_t index, nc_store_result_t *res);
static nc_int_t nc_store_naming_service_op(nc_store_t *s,
    const nc_store_cmd_t *c, const nc_store_naming_cmd_t *cmd,
    uint64_t index);
static nc_int_t nc_store_naming_cluster_op(nc_store_t *s,
    const nc_store_cmd_t *c, const nc_store_naming_cmd_t *cmd,
    uint64_t index);
static nc_int_t nc_store_naming_put_instance(nc_store_t *s,
    const u_char *key, size_t key_len, uint64_t index, uint32_t flags,
    const nc_store_naming_instance_t *head, const nc_str_t *field);
static nc_int_t nc_store_naming_put_service(nc_store_t *s,
    const u_char *key, size_t key_len, uint64_t index,
    const nc_store_naming_service_t *head, const nc_str_t *field);
static nc_int_t nc_store_naming_touch(nc_store_t *s, const u_char *key,
    size_t len, uint64_t index, uint64_t time);
static nc_int_t nc_store_naming_render(nc_store_t *s,
    nc_store_naming_dirty_t *d);
static const nc_store_record_t *nc_store_naming_first(nc_store_t *s,
    const u_char *prefix, size_t len);
static size_t nc_store_naming_host(u_char *buf,
    const nc_store_naming_name_t *n, const nc_store_naming_instance_t *h,
    uint32_t flags, const nc_str_t *metadata, const nc_str_t *generator,
    nc_flag_t healthy);
static size_t nc_store_naming_service_of(const u_char *key, size_t len,
    u_char *buf);


static nc_store_naming_dirty_t  *nc_store_naming_dirty;
static size_t                    nc_store_naming_ndirty;
static size_t                    nc_store_naming_cap;   /* a power of 2 */
static nc_store_iter_t          *nc_store_naming_iter;
static nc_str_t                 *nc_store_naming_parts;   /* render's */
static size_t                    nc_store_naming_nparts;
static nc_str_t                 *nc_store_naming_cl;
static size_t                    nc_store_naming_ncl;
static nc_store_naming_observer_pt  nc_store_naming_observer;

static const nc_str_t  nc_store_naming_empty_object = nc_string("{}");
static const nc_str_t  nc_store_naming_no_selector =
    nc_string("{\"type\":\"none\"}");


void
nc_store_naming_init(void)
{
    nc_uint_t  op;

    for (op = NC_STORE_NAMING_REGISTER; op <= NC_STORE_NAMING_CLUSTER_SET;
         op++)
    {
        nc_store_apply_register(op, nc_store_naming_apply,
                                op == NC_STORE_NAMING_DEREGISTER
                                || op == NC_STORE_NAMING_EXPIRE
                                || op == NC_STORE_NAMING_SERVICE_DELETE
                                ? NC_STORE_APPLY_REMOVES : 0);
    }

    nc_store_apply_register_finish(nc_store_naming_finish);
}


void
nc_store_naming_observe(nc_store_naming_observer_pt observer)
{
    nc_store_naming_observer = observer;
}


size_t
nc_store_naming_service_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n)
{
    u_char  *p;
    size_t   len;

    len = sizeof(NC_STORE_NAMING_SERVICE) - 1 + n->ns.len + 1 + n->group.len
          + 2 + n->service.len;

    if (len > size) {
        return 0;
    }

    p = nc_cpymem(buf, NC_STORE_NAMING_SERVICE,
                  sizeof(NC_STORE_NAMING_SERVICE) - 1);
    p = nc_cpymem(p, n->ns.data, n->ns.len);
    *p++ = '/';
    p = nc_cpymem(p, n->group.data, n->group.len);
    *p++ = '@';
    *p++ = '@';
    (void) nc_cpymem(p, n->service.data, n->service.len);

    return len;
}


size_t
nc_store_naming_cluster_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n)
{
    size_t  len;

    len = nc_store_naming_service_key(buf, size, n);

    if (len == 0 || len + 1 + n->cluster.len > size) {
        return 0;
    }

    buf[2] = 'c';                        /* nss/ -> nsc/ */
    buf[len] = NC_STORE_NAMING_SEP;
    nc_memcpy(buf + len + 1, n->cluster.data, n->cluster.len);

    return len + 1 + n->cluster.len;
}


size_t
nc_store_naming_instance_key(u_char *buf, size_t size,
    const nc_store_naming_name_t *n)
{
    u_char  *p;
    size_t   len;
    u_char   port[NC_INT_T_LEN + 1];

    len = nc_store_naming_service_key(buf, size, n);

    if (len == 0 || len + 1 + n->cluster.len + 1 + n->ip.len + 1
                    + NC_INT_T_LEN > size)
    {
        return 0;
    }

    buf[1] = 's';
    buf[2] = 'i';                        /* nss/ -> nsi/ */

    p = buf + len;
    *p++ = NC_STORE_NAMING_SEP;

    if (n->cluster.len) {
        p = nc_cpymem(p, n->cluster.data, n->cluster.len);
        *p++ = NC_STORE_NAMING_SEP;

        if (n->ip.len) {
            p = nc_cpymem(p, n->ip.data, n->ip.len);
            *p++ = NC_STORE_NAMING_SEP;
            p = nc_cpymem(p, port,
                          nc_slprintf(port, port + sizeof(port), "%u",
                                      (unsigned) n->port)
                          - port);
        }
    }

    return p - buf;
}


nc_int_t
nc_store_naming_parse_instance(const u_char *key, size_t len,
    nc_store_naming_name_t *n)
{
    const u_char  *p, *end, *at, *sep[3];
    nc_uint_t      i, port;

    p = key + sizeof(NC_STORE_NAMING_INSTANCE) - 1;
    end = key + len;

    if (len <= sizeof(NC_STORE_NAMING_INSTANCE) - 1
        || nc_memcmp(key, NC_STORE_NAMING_INSTANCE,
                     sizeof(NC_STORE_NAMING_INSTANCE) - 1) != 0)
    {
        return NC_ERROR;
    }

    n->ns.data = (u_char *) p;
    p = memchr(p, '/', end - p);
    if (p == NULL) {
        return NC_ERROR;
    }

    n->ns.len = p - n->ns.data;
    n->group.data = (u_char *) ++p;

    at = memmem(p, end - p, "@@", 2);
    if (at == NULL) {
        return NC_ERROR;
    }

    n->group.len = at - p;
    p = at + 2;

    for (i = 0; i < 3; i++) {
        sep[i] = memchr(p, NC_STORE_NAMING_SEP, end - p);
        if (sep[i] == NULL) {
            return NC_ERROR;
        }

        p = sep[i] + 1;
    }

    n->service.data = (u_char *) at + 2;
    n->service.len = sep[0] - (at + 2);
    n->cluster.data = (u_char *) sep[0] + 1;
    n->cluster.len = sep[1] - (sep[0] + 1);
    n->ip.data = (u_char *) sep[1] + 1;
    n->ip.len = sep[2] - (sep[1] + 1);

    port = 0;

    for (p = sep[2] + 1; p < end; p++) {
        if (*p < '0' || *p > '9' || port > 65535) {
            return NC_ERROR;
        }

        port = port * 10 + (*p - '0');
    }

    if (p == sep[2] + 1 || port > 65535 || n->group.len == 0
        || n->service.len == 0 || n->cluster.len == 0 || n->ip.len == 0)
    {
        return NC_ERROR;
    }

    n->port = port;

    return NC_OK;
}


u_char *
nc_store_naming_command(nc_pool_t *pool, nc_uint_t op, const u_char *key,
    size_t key_len, uint64_t revision, const nc_store_naming_cmd_t *cmd,
    size_t *len)
{
    u_char          *buf, *v, *p;
    size_t           size, vlen;
    uint64_t         bits;
    nc_store_cmd_t   c;

    vlen = NC_STORE_NAMING_CMD_FIXED + cmd->metadata.len + cmd->extra.len;
    size = NC_STORE_CMD_HEADER + key_len + vlen;

    v = nc_pnalloc(pool, vlen);
    buf = nc_pnalloc(pool, size);

    if (v == NULL || buf == NULL) {
        return NULL;
    }

    nc_memcpy(&bits, &cmd->weight, 8);

    p = v;
    nc_le64_put(p, cmd->time);
    nc_le32_put(p + 8, (uint32_t) cmd->what);
    nc_le32_put(p + 12, (uint32_t) cmd->flags);
    nc_le64_put(p + 16, bits);
    nc_le32_put(p + 24, cmd->beat_interval);
    nc_le32_put(p + 28, cmd->beat_timeout);
    nc_le32_put(p + 32, cmd->delete_timeout);
    nc_le32_put(p + 36, (uint32_t) cmd->metadata.len);
    nc_le32_put(p + 40, (uint32_t) cmd->extra.len);
    p += NC_STORE_NAMING_CMD_FIXED;

    if (cmd->metadata.len) {
        p = nc_cpymem(p, cmd->metadata.data, cmd->metadata.len);
    }

    if (cmd->extra.len) {
        (void) nc_cpymem(p, cmd->extra.data, cmd->extra.len);
    }

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = (uint8_t) op;
    c.type = NC_STORE_T_NAMING;
    c.key = key;
    c.key_len = (uint32_t) key_len;
    c.value = v;
    c.value_len = (uint32_t) vlen;
    c.revision = revision;

    *len = nc_store_cmd_encode(buf, size, &c);

    return *len ? buf : NULL;
}


void
nc_store_naming_field(const nc_store_record_t *rec, nc_uint_t f,
    nc_str_t *value)
{
    u_char          *p;
    nc_uint_t        i;
    const uint32_t  *len;

    p = (u_char *) nc_store_record_value(rec);

    if (nc_store_record_key(rec)[2] == 's') {             /* nss/ */
        len = nc_store_naming_service(rec)->len;
        p += sizeof(nc_store_naming_service_t);

    } else if (nc_store_record_key(rec)[2] == 'c') {      /* nsc/ */
        len = nc_store_naming_cluster(rec)->len;
        p += sizeof(nc_store_naming_cluster_t);

    } else {
        len = nc_store_naming_instance(rec)->len;
        p += sizeof(nc_store_naming_instance_t);
    }

    for (i = 0; i < f; i++) {
        p += len[i];
    }

    value->data = p;
    value->len = len[f];
}


/* --- rendering ------------------------------------------------------------ */


/* writes when buf is set, counts always */
typedef struct {
    u_char             *p;
    size_t              n;
} nc_store_naming_out_t;


static void
nc_store_naming_put(nc_store_naming_out_t *o, const void *p, size_t len)
{
    if (o->p) {
        o->p = nc_cpymem(o->p, p, len);
    }

    o->n += len;
}


#define nc_store_naming_lit(o, s)  nc_store_naming_put(o, s, sizeof(s) - 1)


static void
nc_store_naming_put_str(nc_store_naming_out_t *o, const nc_str_t *s)
{
    size_t  len;

    len = nc_json_escape_len(s->data, s->len);

    if (o->p) {
        o->p = (u_char *) nc_json_escape(o->p, s->data, s->len);
    }

    o->n += len;
}


static void
nc_store_naming_put_uint(nc_store_naming_out_t *o, uint64_t v)
{
    u_char  buf[NC_INT_T_LEN + 1];

    nc_store_naming_put(o, buf,
                        nc_slprintf(buf, buf + sizeof(buf), "%" PRIu64, v)
                        - buf);
}


size_t
nc_store_naming_double(u_char *buf, double v)
{
    int      prec, exp;
    char     tmp[64];
    size_t   len;
    u_char  *p;

    if (!isfinite(v)) {
        return nc_cpymem(buf, "0.0", 3) - buf;
    }

    if (v == 0) {
        return nc_cpymem(buf, v < 0 || signbit(v) ? "-0.0" : "0.0",
                         signbit(v) ? 4 : 3) - buf;
    }

    /* the shortest digits that read back as v, as Java prints them */
    for (prec = 1; prec <= 17; prec++) {
        (void) snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);

        if (strtod(tmp, NULL) == v) {
            break;
        }
    }

    /* the decimal exponent of those digits (no libm) */
    exp = atoi(strchr(tmp, 'e') + 1);

    if ((v < 0 ? -v : v) >= 1e-3 && (v < 0 ? -v : v) < 1e7) {
        len = (size_t) snprintf(tmp, sizeof(tmp), "%.*f",
                                nc_max(prec - 1 - exp, 1), v);

        /* trailing zeros go, one fractional digit stays */
        while (len > 2 && tmp[len - 1] == '0' && tmp[len - 2] != '.') {
            len--;
        }

        return nc_cpymem(buf, tmp, len) - buf;
    }

    /* 1.0E-4, 1.2345E7 */
    len = (size_t) snprintf(tmp, sizeof(tmp), "%.*e", nc_max(prec - 1, 1), v);
    p = (u_char *) strchr(tmp, 'e');
    if (p == NULL) {
        return nc_cpymem(buf, tmp, len) - buf;
    }

    len = (size_t) (p - (u_char *) tmp);

    while (len > 2 && tmp[len - 1] == '0' && tmp[len - 2] != '.') {
        len--;
    }

    p = nc_cpymem(buf, tmp, len);

    return nc_slprintf(p, p + 8, "E%d", exp) - buf;
}


size_t
nc_store_naming_render_host(u_char *buf, const nc_store_record_t *rec,
    nc_flag_t healthy)
{
    nc_str_t                metadata, generator;
    nc_store_naming_name_t  n;

    if (nc_store_naming_parse_instance(nc_store_record_key(rec),
                                       rec->key_len, &n)
        != NC_OK)
    {
        return 0;
    }

    nc_store_naming_field(rec, NC_STORE_NAMING_I_METADATA, &metadata);
    nc_store_naming_field(rec, NC_STORE_NAMING_I_GENERATOR, &generator);

    return nc_store_naming_host(buf, &n, nc_store_naming_instance(rec),
                                rec->flags, &metadata, &generator, healthy);
}


static size_t
nc_store_naming_host(u_char *buf, const nc_store_naming_name_t *np,
    const nc_store_naming_instance_t *h, uint32_t flags,
    const nc_str_t *mp, const nc_str_t *gp, nc_flag_t healthy)
{
    size_t                  len;
    nc_str_t                metadata, generator;
    nc_store_naming_out_t   o;
    nc_store_naming_name_t  n;
    u_char                  num[64];

    n = *np;
    metadata = *mp;
    generator = *gp;

    o.p = buf;
    o.n = 0;

    nc_store_naming_lit(&o, "{\"instanceId\":\"");
    nc_store_naming_put_str(&o, &n.ip);
    nc_store_naming_lit(&o, "#");
    nc_store_naming_put_uint(&o, n.port);
    nc_store_naming_lit(&o, "#");
    nc_store_naming_put_str(&o, &n.cluster);
    nc_store_naming_lit(&o, "#");
    nc_store_naming_put_str(&o, &n.group);
    nc_store_naming_lit(&o, "@@");
    nc_store_naming_put_str(&o, &n.service);
    nc_store_naming_lit(&o, "\",\"ip\":\"");
    nc_store_naming_put_str(&o, &n.ip);
    nc_store_naming_lit(&o, "\",\"port\":");
    nc_store_naming_put_uint(&o, n.port);
    nc_store_naming_lit(&o, ",\"weight\":");
    len = nc_store_naming_double(num, h->weight);
    nc_store_naming_put(&o, num, len);

    if (healthy) {
        nc_store_naming_lit(&o, ",\"healthy\":true");
    } else {
        nc_store_naming_lit(&o, ",\"healthy\":false");
    }

    if (flags & NC_STORE_NAMING_ENABLED) {
        nc_store_naming_lit(&o, ",\"enabled\":true");
    } else {
        nc_store_naming_lit(&o, ",\"enabled\":false");
    }

    if (flags & NC_STORE_NAMING_EPHEMERAL) {
        nc_store_naming_lit(&o, ",\"ephemeral\":true");
    } else {
        nc_store_naming_lit(&o, ",\"ephemeral\":false");
    }

    nc_store_naming_lit(&o, ",\"clusterName\":\"");
    nc_store_naming_put_str(&o, &n.cluster);
    nc_store_naming_lit(&o, "\",\"serviceName\":\"");
    nc_store_naming_put_str(&o, &n.group);
    nc_store_naming_lit(&o, "@@");
    nc_store_naming_put_str(&o, &n.service);
    nc_store_naming_lit(&o, "\",\"metadata\":");

    if (metadata.len) {
        nc_store_naming_put(&o, metadata.data, metadata.len);
    } else {
        nc_store_naming_lit(&o, "{}");
    }

    nc_store_naming_lit(&o, ",\"instanceHeartBeatInterval\":");
    nc_store_naming_put_uint(&o, h->beat_interval);
    nc_store_naming_lit(&o, ",\"instanceHeartBeatTimeOut\":");
    nc_store_naming_put_uint(&o, h->beat_timeout);
    nc_store_naming_lit(&o, ",\"ipDeleteTimeout\":");
    nc_store_naming_put_uint(&o, h->delete_timeout);

    /* Nacos: "simple" when there is no metadata at all, absent when the
     * metadata does not name one */
    if (generator.len) {
        nc_store_naming_lit(&o, ",\"instanceIdGenerator\":\"");
        nc_store_naming_put_str(&o, &generator);
        nc_store_naming_lit(&o, "\"");
    }

    nc_store_naming_lit(&o, "}");

    return o.n;
}


/* --- apply ---------------------------------------------------------------- */


static nc_int_t
nc_store_naming_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_store_cmd_t         c;
    nc_store_naming_cmd_t  cmd;

    if (nc_store_cmd_decode(&c, e->data, e->len) != NC_OK
        || c.type != NC_STORE_T_NAMING
        || nc_store_naming_decode(&c, &cmd) != NC_OK)
    {
        return NC_ERROR;
    }

    res->revision = e->index;

    if (c.op == NC_STORE_NAMING_CLUSTER_SET) {
        return nc_store_naming_cluster_op(s, &c, &cmd, e->index);
    }

    if (c.op >= NC_STORE_NAMING_SERVICE_CREATE) {
        return nc_store_naming_service_op(s, &c, &cmd, e->index);
    }

    return nc_store_naming_instance_op(s, &c, &cmd, e->index, res);
}


static nc_int_t
nc_store_naming_decode(const nc_store_cmd_t *c, nc_store_naming_cmd_t *cmd)
{
    uint64_t       bits;
    const u_char  *p;

    if (c->value_len < NC_STORE_NAMING_CMD_FIXED) {
        return NC_ERROR;
    }

    p = c->value;

    cmd->time = nc_le64_get(p);
    cmd->what = nc_le32_get(p + 8);
    cmd->flags = nc_le32_get(p + 12);
    bits = nc_le64_get(p + 16);
    nc_memcpy(&cmd->weight, &bits, 8);
    cmd->beat_interval = nc_le32_get(p + 24);
    cmd->beat_timeout = nc_le32_get(p + 28);
    cmd->delete_timeout = nc_le32_get(p + 32);
    cmd->metadata.len = nc_le32_get(p + 36);
    cmd->extra.len = nc_le32_get(p + 40);

    if ((uint64_t) cmd->metadata.len + cmd->extra.len
        != c->value_len - NC_STORE_NAMING_CMD_FIXED
        || !isfinite(cmd->weight)
        || (cmd->flags & ~(NC_STORE_NAMING_EPHEMERAL | NC_STORE_NAMING_HEALTHY
                           | NC_STORE_NAMING_ENABLED)))
    {
        return NC_ERROR;
    }

    cmd->metadata.data = (u_char *) p + NC_STORE_NAMING_CMD_FIXED;
    cmd->extra.data = cmd->metadata.data + cmd->metadata.len;

    return NC_OK;
}


static nc_int_t
nc_store_naming_instance_op(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_naming_cmd_t *cmd, uint64_t index, nc_store_result_t *res)
{
    size_t                             slen, plen;
    uint32_t                           flags;
    nc_int_t                           rc;
    nc_str_t                           field[NC_STORE_NAMING_I_NFIELDS],
                                       sfield[NC_STORE_NAMING_S_NFIELDS];
    nc_store_naming_name_t             n;
    nc_store_naming_service_t          sh;
    nc_store_naming_instance_t         head;
    const nc_store_record_t           *old, *svc, *first;
    const nc_store_naming_instance_t  *oh;
    u_char                             skey[NC_STORE_MAX_KEY_LEN];

    if (nc_store_naming_parse_instance(c->key, c->key_len, &n) != NC_OK) {
        return NC_ERROR;
    }

    slen = nc_store_naming_service_of(c->key, c->key_len, skey);
    plen = slen + 1;                     /* its instances: nsi/...\x1f */

    old = nc_store_lookup(s, c->key, c->key_len);

    if (old && (old->type != NC_STORE_T_NAMING
                || old->value_len < sizeof(nc_store_naming_instance_t)))
    {
        return NC_ERROR;
    }

    oh = old ? nc_store_naming_instance(old) : NULL;

    switch (c->op) {

    case NC_STORE_NAMING_REGISTER:

        /* the kind of a service is the kind of the instances it has */
        first = nc_store_naming_first(s, c->key, plen);

        if (first && first != old
            && (first->flags & NC_STORE_NAMING_EPHEMERAL)
               != (cmd->flags & NC_STORE_NAMING_EPHEMERAL))
        {
            return NC_ERROR;
        }

        svc = nc_store_lookup(s, skey, slen);

        if (svc == NULL) {
            nc_memzero(&sh, sizeof(nc_store_naming_service_t));
            sh.created = cmd->time;      /* modified: at its first list */

            nc_memzero(sfield, sizeof(sfield));
            sfield[NC_STORE_NAMING_S_METADATA] = nc_store_naming_empty_object;
            sfield[NC_STORE_NAMING_S_SELECTOR] = nc_store_naming_no_selector;
            nc_str_set(&sfield[NC_STORE_NAMING_S_HOSTS], "[]");

            rc = nc_store_naming_put_service(s, skey, slen, index, &sh,
                                             sfield);
            if (rc != NC_OK) {
                return rc;
            }
        }

        nc_memzero(&head, sizeof(nc_store_naming_instance_t));
        head.weight = cmd->weight;
        head.registered = cmd->time;
        head.modified = cmd->time;
        head.beat_index = index;
        head.port = (uint32_t) n.port;
        head.beat_interval = cmd->beat_interval;
        head.beat_timeout = cmd->beat_timeout;
        head.delete_timeout = cmd->delete_timeout;

        field[NC_STORE_NAMING_I_METADATA] = cmd->metadata;
        field[NC_STORE_NAMING_I_GENERATOR] = cmd->extra;

        rc = nc_store_naming_put_instance(s, c->key, c->key_len, index,
                                          cmd->flags, &head, field);
        break;

    case NC_STORE_NAMING_DEREGISTER:
    case NC_STORE_NAMING_EXPIRE:
        if (old == NULL
            || (c->op == NC_STORE_NAMING_EXPIRE && old->revision != c->revision))
        {
            return NC_DECLINED;
        }

        rc = nc_store_delete(s, c->key, c->key_len);
        break;

    case NC_STORE_NAMING_UPDATE:
    case NC_STORE_NAMING_HEALTH:
        if (old == NULL
            || (c->op == NC_STORE_NAMING_HEALTH && old->revision != c->revision))
        {
            if (old) {
                res->revision = old->revision;
            }

            return NC_DECLINED;
        }

        head = *oh;
        head.modified = cmd->time;
        flags = old->flags;

        nc_store_naming_field(old, NC_STORE_NAMING_I_METADATA,
                              &field[NC_STORE_NAMING_I_METADATA]);
        nc_store_naming_field(old, NC_STORE_NAMING_I_GENERATOR,
                              &field[NC_STORE_NAMING_I_GENERATOR]);

        if (c->op == NC_STORE_NAMING_HEALTH) {
            flags = (flags & ~NC_STORE_NAMING_HEALTHY)
                    | (cmd->flags & NC_STORE_NAMING_HEALTHY);

        } else {
            if (cmd->what & NC_STORE_NAMING_W_WEIGHT) {
                head.weight = cmd->weight;
            }

            if (cmd->what & NC_STORE_NAMING_W_ENABLED) {
                flags = (flags & ~NC_STORE_NAMING_ENABLED)
                        | (cmd->flags & NC_STORE_NAMING_ENABLED);
            }

            if (cmd->what & NC_STORE_NAMING_W_HEALTHY) {
                flags = (flags & ~NC_STORE_NAMING_HEALTHY)
                        | (cmd->flags & NC_STORE_NAMING_HEALTHY);
            }

            if (cmd->what & NC_STORE_NAMING_W_METADATA) {
                field[NC_STORE_NAMING_I_METADATA] = cmd->metadata;
                field[NC_STORE_NAMING_I_GENERATOR] = cmd->extra;
            }
        }

        if (flags == old->flags && head.weight == oh->weight
            && !(cmd->what & NC_STORE_NAMING_W_METADATA))
        {
            res->revision = old->revision;
            return NC_OK;                /* nothing changes: no push */
        }

        /* the old record may be freed by the insert: fields first */
        rc = nc_store_naming_put_instance(s, c->key, c->key_len, index,
                                          flags, &head, field);
        break;

    default:
        return NC_ERROR;
    }

    if (rc != NC_OK) {
        return rc;
    }

    return nc_store_naming_touch(s, skey, slen, index, cmd->time);
}


static nc_int_t
nc_store_naming_service_op(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_naming_cmd_t *cmd, uint64_t index)
{
    size_t                            len;
    nc_int_t                          rc;
    nc_str_t                          field[NC_STORE_NAMING_S_NFIELDS];
    nc_uint_t                         f;
    nc_store_naming_service_t         head;
    const nc_store_record_t          *old;
    const nc_store_naming_service_t  *oh;
    u_char                            prefix[NC_STORE_MAX_KEY_LEN];

    if (c->key_len <= sizeof(NC_STORE_NAMING_SERVICE) - 1
        || c->key_len >= NC_STORE_MAX_KEY_LEN
        || nc_memcmp(c->key, NC_STORE_NAMING_SERVICE,
                     sizeof(NC_STORE_NAMING_SERVICE) - 1) != 0
        || memchr(c->key, NC_STORE_NAMING_SEP, c->key_len) != NULL
        || memmem(c->key, c->key_len, "@@", 2) == NULL)
    {
        return NC_ERROR;
    }

    old = nc_store_lookup(s, c->key, c->key_len);

    if (old && (old->type != NC_STORE_T_NAMING
                || old->value_len < sizeof(nc_store_naming_service_t)))
    {
        return NC_ERROR;
    }

    oh = old ? nc_store_naming_service(old) : NULL;

    /* the prefix of its instances */
    nc_memcpy(prefix, c->key, c->key_len);
    prefix[2] = 'i';
    prefix[c->key_len] = NC_STORE_NAMING_SEP;
    len = c->key_len + 1;

    switch (c->op) {

    case NC_STORE_NAMING_SERVICE_CREATE:
    case NC_STORE_NAMING_SERVICE_UPDATE:
        if ((c->op == NC_STORE_NAMING_SERVICE_CREATE
             && oh && (oh->flags & NC_STORE_NAMING_S_EXPLICIT))
            || (c->op == NC_STORE_NAMING_SERVICE_UPDATE && old == NULL))
        {
            return NC_DECLINED;
        }

        if (oh) {
            head = *oh;

            for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
                nc_store_naming_field(old, f, &field[f]);
            }

        } else {
            nc_memzero(&head, sizeof(nc_store_naming_service_t));
            head.created = cmd->time;
            head.modified = cmd->time;

            for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
                field[f].len = 0;
            }
        }

        head.flags |= NC_STORE_NAMING_S_EXPLICIT;
        head.protect_threshold = cmd->weight;
        field[NC_STORE_NAMING_S_METADATA] = cmd->metadata.len
                                            ? cmd->metadata
                                            : nc_store_naming_empty_object;
        /* an update without a selector keeps the one there is */
        if (cmd->extra.len) {
            field[NC_STORE_NAMING_S_SELECTOR] = cmd->extra;

        } else if (oh == NULL || c->op == NC_STORE_NAMING_SERVICE_CREATE) {
            field[NC_STORE_NAMING_S_SELECTOR] = nc_store_naming_no_selector;
        }

        return nc_store_naming_put_service(s, c->key, c->key_len, index,
                                           &head, field);

    case NC_STORE_NAMING_SERVICE_DELETE:
        if (old == NULL) {
            return NC_DECLINED;
        }

        if (nc_store_naming_first(s, prefix, len) != NULL) {
            return NC_ERROR;
        }

        /* its clusters' settings go with it */
        prefix[2] = 'c';
        rc = nc_store_apply_delete_prefix(s, prefix, len);
        if (rc != NC_OK) {
            return rc;
        }

        rc = nc_store_delete(s, c->key, c->key_len);
        return rc == NC_DECLINED ? NC_OK : rc;

    default:
        return NC_ERROR;
    }
}


static nc_int_t
nc_store_naming_cluster_op(nc_store_t *s, const nc_store_cmd_t *c,
    const nc_store_naming_cmd_t *cmd, uint64_t index)
{
    u_char                            *sep, *p;
    size_t                             slen, len;
    nc_int_t                           rc;
    nc_uint_t                          f;
    nc_str_t                           field[NC_STORE_NAMING_S_NFIELDS];
    nc_store_record_t                 *rec;
    nc_store_naming_cluster_t         *h;
    nc_store_naming_service_t          sh;
    const nc_store_record_t           *svc;
    u_char                             skey[NC_STORE_MAX_KEY_LEN];

    /* nsc/<ns>/<group>@@<service>\x1f<cluster> */
    sep = c->key_len > sizeof(NC_STORE_NAMING_CLUSTER) - 1
          && nc_memcmp(c->key, NC_STORE_NAMING_CLUSTER,
                       sizeof(NC_STORE_NAMING_CLUSTER) - 1) == 0
          ? memchr(c->key, NC_STORE_NAMING_SEP, c->key_len) : NULL;

    if (sep == NULL || sep + 1 == c->key + c->key_len
        || memchr(sep + 1, NC_STORE_NAMING_SEP, c->key + c->key_len - sep - 1)
        || memmem(c->key, sep - c->key, "@@", 2) == NULL)
    {
        return NC_ERROR;
    }

    slen = sep - c->key;
    nc_memcpy(skey, c->key, slen);
    skey[2] = 's';

    svc = nc_store_lookup(s, skey, slen);

    if (svc == NULL || svc->value_len < sizeof(nc_store_naming_service_t)) {
        return NC_DECLINED;
    }

    /* a service with settings is kept when it empties */
    if (!(nc_store_naming_service(svc)->flags & NC_STORE_NAMING_S_EXPLICIT)) {
        sh = *nc_store_naming_service(svc);
        sh.flags |= NC_STORE_NAMING_S_EXPLICIT;

        for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
            nc_store_naming_field(svc, f, &field[f]);
        }

        rc = nc_store_naming_put_service(s, skey, slen, index, &sh, field);
        if (rc != NC_OK) {
            return rc;
        }
    }

    len = sizeof(nc_store_naming_cluster_t) + cmd->extra.len
          + cmd->metadata.len;

    rec = nc_store_record_alloc(s, c->key, c->key_len, NC_STORE_T_NAMING, len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    h = (nc_store_naming_cluster_t *) nc_store_record_value(rec);
    h->check_port = cmd->beat_interval;
    h->flags = (cmd->what & NC_STORE_NAMING_W_INSTANCE_PORT)
               ? NC_STORE_NAMING_C_INSTANCE_PORT : 0;
    h->len[NC_STORE_NAMING_C_CHECKER] = (uint32_t) cmd->extra.len;
    h->len[NC_STORE_NAMING_C_METADATA] = (uint32_t) cmd->metadata.len;

    p = (u_char *) (h + 1);
    p = nc_cpymem(p, cmd->extra.data, cmd->extra.len);
    (void) nc_cpymem(p, cmd->metadata.data, cmd->metadata.len);

    return nc_store_insert(s, rec);
}


static nc_int_t
nc_store_naming_put_instance(nc_store_t *s, const u_char *key,
    size_t key_len, uint64_t index, uint32_t flags,
    const nc_store_naming_instance_t *head, const nc_str_t *field)
{
    u_char                      *p;
    size_t                       len, host;
    nc_uint_t                    f;
    nc_flag_t                    healthy;
    nc_store_record_t           *rec;
    nc_store_naming_name_t       n;
    nc_store_naming_instance_t  *h;

    if (nc_store_naming_parse_instance(key, key_len, &n) != NC_OK) {
        return NC_ERROR;
    }

    healthy = (flags & NC_STORE_NAMING_HEALTHY) != 0;

    /* the host object is rendered into the record: measured first */
    host = nc_store_naming_host(NULL, &n, head, flags,
                                &field[NC_STORE_NAMING_I_METADATA],
                                &field[NC_STORE_NAMING_I_GENERATOR], healthy);

    len = sizeof(nc_store_naming_instance_t) + host;

    for (f = 0; f < NC_STORE_NAMING_I_HOST; f++) {
        len += field[f].len;
    }

    rec = nc_store_record_alloc(s, key, key_len, NC_STORE_T_NAMING, len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    rec->flags = flags;

    h = (nc_store_naming_instance_t *) nc_store_record_value(rec);
    *h = *head;
    p = (u_char *) (h + 1);

    for (f = 0; f < NC_STORE_NAMING_I_HOST; f++) {
        h->len[f] = (uint32_t) field[f].len;

        if (field[f].len) {
            p = nc_cpymem(p, field[f].data, field[f].len);
        }
    }

    h->len[NC_STORE_NAMING_I_HOST] = (uint32_t) host;

    /* the name points into the caller's key, not into rec */
    (void) nc_store_naming_host(p, &n, h, flags,
                                &field[NC_STORE_NAMING_I_METADATA],
                                &field[NC_STORE_NAMING_I_GENERATOR], healthy);

    return nc_store_insert(s, rec);
}


static nc_int_t
nc_store_naming_put_service(nc_store_t *s, const u_char *key, size_t key_len,
    uint64_t index, const nc_store_naming_service_t *head,
    const nc_str_t *field)
{
    u_char                     *p;
    size_t                      len;
    nc_uint_t                   f;
    nc_store_record_t          *rec;
    nc_store_naming_service_t  *h;

    len = sizeof(nc_store_naming_service_t);

    for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
        len += field[f].len;
    }

    rec = nc_store_record_alloc(s, key, key_len, NC_STORE_T_NAMING, len,
                                index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    h = (nc_store_naming_service_t *) nc_store_record_value(rec);
    *h = *head;
    p = (u_char *) (h + 1);

    for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
        h->len[f] = (uint32_t) field[f].len;

        if (field[f].len) {
            p = nc_cpymem(p, field[f].data, field[f].len);
        }
    }

    return nc_store_insert(s, rec);
}


/* the service key (nss/...) of an instance key */
static size_t
nc_store_naming_service_of(const u_char *key, size_t len, u_char *buf)
{
    const u_char  *sep;

    sep = memchr(key, NC_STORE_NAMING_SEP, len);
    len = sep ? (size_t) (sep - key) : len;

    nc_memcpy(buf, key, len);
    buf[2] = 's';

    return len;
}


/* the first record under a prefix in the open batch, or NULL */
static const nc_store_record_t *
nc_store_naming_first(nc_store_t *s, const u_char *prefix, size_t len)
{
    if (nc_store_naming_iter == NULL) {
        nc_store_naming_iter = malloc(sizeof(nc_store_iter_t));
        if (nc_store_naming_iter == NULL) {
            return NULL;
        }
    }

    nc_store_iter_init(nc_store_naming_iter, s, *nc_store_batch_root(s),
                       prefix, len, NULL, 0);

    return nc_store_iter_next(nc_store_naming_iter);
}


/*
 * A service's instances changed in this batch: its list is rendered at
 * the end.  Its lastRefTime moves on per change (not per batch), so every
 * member reaches the same one however its batches fall.
 */
static nc_int_t
nc_store_naming_touch(nc_store_t *s, const u_char *key, size_t len,
    uint64_t index, uint64_t time)
{
    size_t                        i, cap, mask;
    uint64_t                      hash;
    nc_store_naming_dirty_t      *d, *table;
    const nc_store_record_t      *svc;

    if (nc_store_naming_ndirty * 2 >= nc_store_naming_cap) {
        cap = nc_store_naming_cap ? nc_store_naming_cap * 2 : 64;

        table = calloc(cap, sizeof(nc_store_naming_dirty_t));
        if (table == NULL) {
            return NC_STORE_FULL;
        }

        for (i = 0; i < nc_store_naming_cap; i++) {
            d = &nc_store_naming_dirty[i];

            if (d->key == NULL) {
                continue;
            }

            hash = nc_store_key_hash(d->key, d->len) & (cap - 1);

            while (table[hash].key) {
                hash = (hash + 1) & (cap - 1);
            }

            table[hash] = *d;
        }

        free(nc_store_naming_dirty);
        nc_store_naming_dirty = table;
        nc_store_naming_cap = cap;
    }

    mask = nc_store_naming_cap - 1;
    hash = nc_store_key_hash(key, len) & mask;

    for ( ;; ) {
        d = &nc_store_naming_dirty[hash];

        if (d->key == NULL) {
            break;
        }

        if (d->len == len && nc_memcmp(d->key, key, len) == 0) {
            d->index = index;
            d->modified = nc_max(d->modified + 1, time);
            return NC_OK;
        }

        hash = (hash + 1) & mask;
    }

    d->key = malloc(len);
    if (d->key == NULL) {
        return NC_STORE_FULL;
    }

    nc_memcpy(d->key, key, len);
    d->len = len;
    d->index = index;

    svc = nc_store_lookup(s, key, len);
    d->modified = svc ? nc_max(nc_store_naming_service(svc)->modified + 1,
                               time)
                      : time;

    nc_store_naming_ndirty++;

    return NC_OK;
}


static nc_int_t
nc_store_naming_finish(nc_store_t *s, nc_flag_t abort)
{
    size_t                    i;
    nc_int_t                  rc;
    nc_store_naming_dirty_t  *d;

    rc = NC_OK;

    for (i = 0; i < nc_store_naming_cap && nc_store_naming_ndirty; i++) {
        d = &nc_store_naming_dirty[i];

        if (d->key == NULL) {
            continue;
        }

        if (!abort && rc == NC_OK) {
            rc = nc_store_naming_render(s, d);

            if (rc == NC_OK && nc_store_naming_observer) {
                nc_store_naming_observer(d->key, d->len);
            }
        }

        free(d->key);
        d->key = NULL;
        nc_store_naming_ndirty--;
    }

    return rc;
}


/*
 * The service's list: the host objects of its enabled instances in key
 * order, their count and health, their clusters, the MD5 of the list.  A
 * service nobody made through the service API goes with its last
 * instance.  One walk notes where each host object is; the new record is
 * then written at once, the list straight into it.
 */
static nc_int_t
nc_store_naming_render(nc_store_t *s, nc_store_naming_dirty_t *d)
{
    u_char                           *p, *sep, *hosts;
    size_t                            plen, hlen, clen, len, i, nparts,
                                      nclusters;
    nc_uint_t                         f;
    nc_str_t                          field[NC_STORE_NAMING_S_NFIELDS],
                                      cluster, last, *part;
    unsigned int                      mdlen;
    nc_store_record_t                *rec;
    nc_store_naming_service_t         head, *h;
    const nc_store_record_t          *svc, *ir;
    const nc_store_naming_service_t  *oh;
    u_char                            prefix[NC_STORE_MAX_KEY_LEN];
    u_char                            md5[16];

    svc = nc_store_lookup(s, d->key, d->len);
    if (svc == NULL || svc->value_len < sizeof(nc_store_naming_service_t)) {
        return NC_OK;                    /* deleted in this batch */
    }

    oh = nc_store_naming_service(svc);
    head = *oh;
    head.instances = 0;
    head.hosts = 0;
    head.healthy = 0;
    head.ephemeral = 0;
    head.modified = d->modified;

    nc_memcpy(prefix, d->key, d->len);
    prefix[2] = 'i';
    prefix[d->len] = NC_STORE_NAMING_SEP;
    plen = d->len + 1;

    nparts = 0;
    nclusters = 0;
    hlen = 2;                            /* [] */
    clen = 0;
    last.len = 0;
    last.data = NULL;

    if (nc_store_naming_first(s, prefix, plen) != NULL) {
        nc_store_iter_init(nc_store_naming_iter, s, *nc_store_batch_root(s),
                           prefix, plen, NULL, 0);

        while ((ir = nc_store_iter_next(nc_store_naming_iter)) != NULL) {
            head.instances++;
            head.ephemeral += (ir->flags & NC_STORE_NAMING_EPHEMERAL) != 0;

            if (!(ir->flags & NC_STORE_NAMING_ENABLED)) {
                continue;
            }

            /* the cluster: from the end of the prefix to the next SEP */
            cluster.data = (u_char *) nc_store_record_key(ir) + plen;
            sep = memchr(cluster.data, NC_STORE_NAMING_SEP, ir->key_len - plen);
            if (sep == NULL) {
                continue;
            }

            cluster.len = sep - cluster.data;

            if (nparts == nc_store_naming_nparts) {
                part = realloc(nc_store_naming_parts,
                               (nparts ? 2 * nparts : 64) * sizeof(nc_str_t));
                if (part == NULL) {
                    return NC_STORE_FULL;
                }

                nc_store_naming_parts = part;
                nc_store_naming_nparts = nparts ? 2 * nparts : 64;
            }

            part = &nc_store_naming_parts[nparts++];
            nc_store_naming_field(ir, NC_STORE_NAMING_I_HOST, part);

            hlen += part->len + (nparts > 1);
            head.hosts++;
            head.healthy += (ir->flags & NC_STORE_NAMING_HEALTHY) != 0;

            /* in key order a cluster's instances come together */
            if (last.data == NULL || last.len != cluster.len
                || nc_memcmp(last.data, cluster.data, last.len) != 0)
            {
                if (nclusters == nc_store_naming_ncl) {
                    part = realloc(nc_store_naming_cl,
                                   (nclusters ? 2 * nclusters : 8)
                                   * sizeof(nc_str_t));
                    if (part == NULL) {
                        return NC_STORE_FULL;
                    }

                    nc_store_naming_cl = part;
                    nc_store_naming_ncl = nclusters ? 2 * nclusters : 8;
                }

                nc_store_naming_cl[nclusters++] = cluster;
                clen += cluster.len + (clen != 0);
                last = cluster;
            }
        }
    }

    if (head.instances == 0 && !(oh->flags & NC_STORE_NAMING_S_EXPLICIT)) {
        return nc_store_delete(s, d->key, d->len) == NC_STORE_FULL
               ? NC_STORE_FULL : NC_OK;
    }

    for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
        nc_store_naming_field(svc, f, &field[f]);
    }

    len = sizeof(nc_store_naming_service_t)
          + field[NC_STORE_NAMING_S_METADATA].len
          + field[NC_STORE_NAMING_S_SELECTOR].len + hlen + clen + 32;

    rec = nc_store_record_alloc(s, d->key, d->len, NC_STORE_T_NAMING, len,
                                d->index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    h = (nc_store_naming_service_t *) nc_store_record_value(rec);
    *h = head;
    h->len[NC_STORE_NAMING_S_METADATA] =
                                  (uint32_t) field[NC_STORE_NAMING_S_METADATA].len;
    h->len[NC_STORE_NAMING_S_SELECTOR] =
                                  (uint32_t) field[NC_STORE_NAMING_S_SELECTOR].len;
    h->len[NC_STORE_NAMING_S_HOSTS] = (uint32_t) hlen;
    h->len[NC_STORE_NAMING_S_CLUSTERS] = (uint32_t) clen;
    h->len[NC_STORE_NAMING_S_CHECKSUM] = 32;

    p = (u_char *) (h + 1);
    p = nc_cpymem(p, field[NC_STORE_NAMING_S_METADATA].data,
                  field[NC_STORE_NAMING_S_METADATA].len);
    p = nc_cpymem(p, field[NC_STORE_NAMING_S_SELECTOR].data,
                  field[NC_STORE_NAMING_S_SELECTOR].len);

    hosts = p;
    *p++ = '[';

    for (i = 0; i < nparts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = nc_cpymem(p, nc_store_naming_parts[i].data,
                      nc_store_naming_parts[i].len);
    }

    *p++ = ']';

    for (i = 0; i < nclusters; i++) {
        if (i) {
            *p++ = ',';
        }

        p = nc_cpymem(p, nc_store_naming_cl[i].data, nc_store_naming_cl[i].len);
    }

    mdlen = 16;
    if (EVP_Digest(hosts, hlen, md5, &mdlen, EVP_md5(), NULL) != 1) {
        nc_memzero(md5, 16);
    }

    for (f = 0; f < 16; f++) {
        *p++ = "0123456789abcdef"[md5[f] >> 4];
        *p++ = "0123456789abcdef"[md5[f] & 0xf];
    }

    return nc_store_insert(s, rec);
}
