
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


/* not a record flag: "the instance exists", in nc_store_naming_account() */
#define NC_STORE_NAMING_PRESENT  0x80000000


static nc_int_t nc_store_naming_apply(nc_store_t *s,
    const nc_raft_entry_t *e, nc_store_result_t *res);
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
static nc_int_t nc_store_naming_account(nc_store_t *s, const u_char *key,
    size_t key_len, const nc_str_t *cluster, uint32_t was, uint32_t now,
    uint64_t index, uint64_t time);
static size_t nc_store_naming_clusters(const nc_str_t *list,
    const nc_str_t *cluster, nc_flag_t add, u_char *buf);
static u_char *nc_store_naming_list_put(u_char *p, const u_char *buf,
    const u_char *name, size_t len);
static nc_flag_t nc_store_naming_cluster_listed(nc_store_t *s,
    const u_char *key, size_t key_len, const nc_str_t *cluster);
static const nc_store_record_t *nc_store_naming_first(nc_store_t *s,
    const u_char *prefix, size_t len);
static size_t nc_store_naming_host(u_char *buf,
    const nc_store_naming_name_t *n, const nc_store_naming_instance_t *h,
    uint32_t flags, const nc_str_t *metadata, const nc_str_t *generator,
    nc_flag_t healthy);
static size_t nc_store_naming_service_of(const u_char *key, size_t len,
    u_char *buf);


static nc_store_iter_t          *nc_store_naming_iter;
static u_char                   *nc_store_naming_buf;   /* clusters */
static size_t                    nc_store_naming_buf_size;
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
    uint32_t                           flags, was, now;
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
    was = old ? old->flags | NC_STORE_NAMING_PRESENT : 0;

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

        now = cmd->flags | NC_STORE_NAMING_PRESENT;
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

        now = 0;
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
        now = flags | NC_STORE_NAMING_PRESENT;
        rc = nc_store_naming_put_instance(s, c->key, c->key_len, index,
                                          flags, &head, field);
        break;

    default:
        return NC_ERROR;
    }

    if (rc != NC_OK) {
        return rc;
    }

    return nc_store_naming_account(s, c->key, c->key_len, &n.cluster, was,
                                   now, index, cmd->time);
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
 * One of a service's instances changed (`was`, `now`: its record flags
 * before and after, NC_STORE_NAMING_PRESENT when it exists): the service
 * follows at once, its counts by the difference, its clusters when one
 * gains its first listed instance or loses its last, its lastRefTime +1
 * per change (not per batch, so every member reaches the same one however
 * its batches fall).  Nothing here walks the service's instances: a
 * registration costs the same in a service of 5 or of 5,000.  A service
 * nobody made through the service API goes with its last instance.
 */
static nc_int_t
nc_store_naming_account(nc_store_t *s, const u_char *key, size_t key_len,
    const nc_str_t *cluster, uint32_t was, uint32_t now, uint64_t index,
    uint64_t time)
{
    size_t                            slen, len;
    nc_int_t                          rc;
    nc_uint_t                         f;
    nc_flag_t                         was_listed, listed;
    nc_str_t                          field[NC_STORE_NAMING_S_NFIELDS];
    nc_store_naming_service_t         head;
    const nc_store_record_t          *svc;
    u_char                            skey[NC_STORE_MAX_KEY_LEN];

    slen = nc_store_naming_service_of(key, key_len, skey);

    svc = nc_store_lookup(s, skey, slen);
    if (svc == NULL || svc->value_len < sizeof(nc_store_naming_service_t)) {
        return NC_ERROR;                 /* an instance without a service */
    }

    head = *nc_store_naming_service(svc);

    for (f = 0; f < NC_STORE_NAMING_S_NFIELDS; f++) {
        nc_store_naming_field(svc, f, &field[f]);
    }

#define nc_store_naming_has(flags, bits)                                      \
    (((flags) & (NC_STORE_NAMING_PRESENT | (bits)))                           \
     == (NC_STORE_NAMING_PRESENT | (bits)))

    was_listed = nc_store_naming_has(was, NC_STORE_NAMING_ENABLED);
    listed = nc_store_naming_has(now, NC_STORE_NAMING_ENABLED);

    head.instances += nc_store_naming_has(now, 0)
                      - nc_store_naming_has(was, 0);
    head.ephemeral += nc_store_naming_has(now, NC_STORE_NAMING_EPHEMERAL)
                      - nc_store_naming_has(was, NC_STORE_NAMING_EPHEMERAL);
    head.hosts += listed - was_listed;
    head.healthy += nc_store_naming_has(now, NC_STORE_NAMING_ENABLED
                                             | NC_STORE_NAMING_HEALTHY)
                    - nc_store_naming_has(was, NC_STORE_NAMING_ENABLED
                                               | NC_STORE_NAMING_HEALTHY);
    head.modified = nc_max(head.modified + 1, time);

#undef nc_store_naming_has

    if (head.instances == 0 && !(head.flags & NC_STORE_NAMING_S_EXPLICIT)) {
        rc = nc_store_delete(s, skey, slen);
        goto done;
    }

    /* the clusters with listed instances, in key order */
    if (listed != was_listed
        && (listed || !nc_store_naming_cluster_listed(s, key, key_len,
                                                      cluster)))
    {
        len = field[NC_STORE_NAMING_S_CLUSTERS].len + cluster->len + 1;

        if (len > nc_store_naming_buf_size) {
            free(nc_store_naming_buf);
            nc_store_naming_buf_size = 0;

            nc_store_naming_buf = malloc(len);
            if (nc_store_naming_buf == NULL) {
                return NC_STORE_FULL;
            }

            nc_store_naming_buf_size = len;
        }

        field[NC_STORE_NAMING_S_CLUSTERS].len =
            nc_store_naming_clusters(&field[NC_STORE_NAMING_S_CLUSTERS],
                                     cluster, listed, nc_store_naming_buf);
        field[NC_STORE_NAMING_S_CLUSTERS].data = nc_store_naming_buf;
    }

    rc = nc_store_naming_put_service(s, skey, slen, index, &head, field);

done:

    if (rc == NC_OK && nc_store_naming_observer) {
        nc_store_naming_observer(skey, slen);
    }

    return rc;
}


/*
 * The comma list with the cluster added (in its place: names sort as
 * their keys do, SEP sorting below every character a name may hold) or
 * removed; written to buf, its length returned.
 */
static size_t
nc_store_naming_clusters(const nc_str_t *list, const nc_str_t *cluster,
    nc_flag_t add, u_char *buf)
{
    int            cmp;
    u_char        *p;
    size_t         len;
    nc_flag_t      placed;
    const u_char  *c, *end, *next;

    p = buf;
    placed = !add;

    for (c = list->data, end = c + list->len; c < end; c = next + 1) {
        next = memchr(c, ',', end - c);
        next = next ? next : end;
        len = next - c;

        cmp = nc_memcmp(c, cluster->data, nc_min(len, cluster->len));
        cmp = cmp ? cmp : (len > cluster->len) - (len < cluster->len);

        if (cmp == 0) {
            if (!add) {
                continue;
            }

            placed = 1;
        }

        if (!placed && cmp > 0) {
            p = nc_store_naming_list_put(p, buf, cluster->data, cluster->len);
            placed = 1;
        }

        p = nc_store_naming_list_put(p, buf, c, len);
    }

    if (!placed) {
        p = nc_store_naming_list_put(p, buf, cluster->data, cluster->len);
    }

    return p - buf;
}


static u_char *
nc_store_naming_list_put(u_char *p, const u_char *buf, const u_char *name,
    size_t len)
{
    if (p != buf) {
        *p++ = ',';
    }

    return nc_cpymem(p, name, len);
}


/* does the instance's cluster still have a listed (enabled) instance */
static nc_flag_t
nc_store_naming_cluster_listed(nc_store_t *s, const u_char *key,
    size_t key_len, const nc_str_t *cluster)
{
    size_t                    plen;
    const nc_store_record_t  *rec;

    /* nsi/<ns>/<group>@@<service>\x1f<cluster>\x1f: the name is in key */
    plen = cluster->data + cluster->len + 1 - key;

    if (plen > key_len) {
        return 0;
    }

    rec = nc_store_naming_first(s, key, plen);

    while (rec && !(rec->flags & NC_STORE_NAMING_ENABLED)) {
        rec = nc_store_iter_next(nc_store_naming_iter);
    }

    return rec != NULL;
}
