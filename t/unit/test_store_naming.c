
/*
 * nacre: the registry applied to the store: registration makes the
 * service, whose counts, health and clusters follow each change without a
 * walk (checked against a walk after every one of random changes), the
 * list holds enabled hosts in key order, rendered once per revision and
 * kept (the kept list is the list rendered anew), kinds do not mix,
 * health and expiry compare revisions, lastRefTime does not depend on how
 * entries fall into batches, and bad commands are refused.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_naming.h>
#include <nc_naming_list.h>

#include <setjmp.h>
#include <cmocka.h>


static nc_log_t    test_log = { NC_LOG_WARN, -1, NULL };
static uint64_t    test_index;
static nc_pool_t  *test_pool;


static nc_store_t *
test_store(void)
{
    nc_store_t  *s;

    s = nc_store_create(32 * 1024 * 1024, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    nc_store_naming_init();
    test_index = 0;

    return s;
}


static nc_str_t
S(const char *p)
{
    nc_str_t  s;

    s.data = (u_char *) p;
    s.len = strlen(p);

    return s;
}


static nc_store_naming_name_t
test_name(const char *service, const char *cluster, const char *ip,
    nc_uint_t port)
{
    nc_store_naming_name_t  n;

    n.ns = S("public");
    n.group = S("G");
    n.service = S(service);
    n.cluster = S(cluster ? cluster : "");
    n.ip = S(ip ? ip : "");
    n.port = port;

    return n;
}


/* one encoded command for an instance (ip set) or a service */
static u_char *
test_cmd(nc_uint_t op, const nc_store_naming_name_t *n, uint64_t revision,
    const nc_store_naming_cmd_t *c, size_t *len)
{
    size_t   klen;
    u_char   key[NC_STORE_MAX_KEY_LEN];

    klen = n->ip.len ? nc_store_naming_instance_key(key, sizeof(key), n)
                     : nc_store_naming_service_key(key, sizeof(key), n);
    assert_true(klen > 0);

    return nc_store_naming_command(test_pool, op, key, klen, revision, c,
                                   len);
}


static void
test_default(nc_store_naming_cmd_t *c, uint64_t time)
{
    nc_memzero(c, sizeof(nc_store_naming_cmd_t));
    c->time = time;
    c->flags = NC_STORE_NAMING_EPHEMERAL | NC_STORE_NAMING_HEALTHY
               | NC_STORE_NAMING_ENABLED;
    c->weight = 1.0;
    c->beat_interval = 5000;
    c->beat_timeout = 15000;
    c->delete_timeout = 30000;
    c->extra = S("simple");
}


/* apply commands as one batch; the results */
static void
test_batch(nc_store_t *s, u_char **cmds, size_t *lens, size_t n,
    nc_store_result_t *res)
{
    size_t           i;
    nc_raft_entry_t  e[16];

    assert_true(n <= 16);

    for (i = 0; i < n; i++) {
        nc_memzero(&e[i], sizeof(nc_raft_entry_t));
        e[i].type = NC_RAFT_ENTRY_NORMAL;
        e[i].index = ++test_index;
        e[i].term = 1;
        e[i].data = cmds[i];
        e[i].len = (uint32_t) lens[i];
    }

    assert_int_equal(nc_store_apply(s, e, n, res), NC_OK);
}


static nc_int_t
test_apply(nc_store_t *s, nc_uint_t op, const nc_store_naming_name_t *n,
    uint64_t revision, const nc_store_naming_cmd_t *c)
{
    u_char             *cmd;
    size_t              len;
    nc_store_result_t   res;

    cmd = test_cmd(op, n, revision, c, &len);
    assert_non_null(cmd);

    test_batch(s, &cmd, &len, 1, &res);

    return res.status;
}


static const nc_store_record_t *
test_get(nc_store_t *s, const nc_store_naming_name_t *n)
{
    size_t         klen;
    nc_shm_off_t   off;
    u_char         key[NC_STORE_MAX_KEY_LEN];

    klen = n->ip.len ? nc_store_naming_instance_key(key, sizeof(key), n)
                     : nc_store_naming_service_key(key, sizeof(key), n);

    /* the writer reads what it published; nothing is reclaimed here */
    off = atomic_load(&s->hdr->current);

    return off ? nc_store_get(s, nc_store_ptr(s, off), key, klen) : NULL;
}


static void
test_field_eq(const nc_store_record_t *rec, nc_uint_t f, const char *want)
{
    nc_str_t  v;

    nc_store_naming_field(rec, f, &v);

    if (v.len != strlen(want) || nc_memcmp(v.data, want, v.len) != 0) {
        print_error("field %u: \"%.*s\", want \"%s\"\n", (unsigned) f,
                    (int) v.len, v.data, want);
        fail();
    }
}


/* the hosts array of the service's /instance/list answer */
static nc_str_t
test_hosts(nc_store_t *s, const nc_store_naming_name_t *svc,
    const char *clusters, nc_uint_t flags)
{
    u_char        *p, *q;
    nc_str_t       out, cl, grouped;
    nc_shm_off_t   off;

    off = atomic_load(&s->hdr->current);
    assert_true(off != 0);

    grouped = S("G@@svc");
    cl = S(clusters);

    assert_int_equal(nc_naming_list(test_pool, s, nc_store_ptr(s, off), svc,
                                    &grouped, &cl, flags, &out), NC_OK);

    p = memmem(out.data, out.len, "\"hosts\":", 8);
    q = memmem(out.data, out.len, ",\"lastRefTime\":", 15);
    assert_non_null(p);
    assert_non_null(q);

    out.data = p + 8;
    out.len = q - out.data;

    return out;
}


static void
test_register_renders(void **state)
{
    nc_store_t                       *s;
    nc_str_t                          v;
    nc_store_naming_cmd_t             c;
    nc_store_naming_name_t            n, svc;
    const nc_store_record_t          *rec;
    const nc_store_naming_service_t  *h;

    (void) state;

    s = test_store();

    test_default(&c, 1000);
    n = test_name("svc", "DEFAULT", "10.0.0.2", 80);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &n, 0, &c),
                     NC_OK);

    c.weight = 2.5;
    c.metadata = S("{\"k\":\"v\"}");
    c.extra = S("");
    n = test_name("svc", "DEFAULT", "10.0.0.1", 8080);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &n, 0, &c),
                     NC_OK);

    rec = test_get(s, &n);
    assert_non_null(rec);
    assert_int_equal(rec->flags, NC_STORE_NAMING_EPHEMERAL
                                 | NC_STORE_NAMING_HEALTHY
                                 | NC_STORE_NAMING_ENABLED);
    test_field_eq(rec, NC_STORE_NAMING_I_HOST,
        "{\"instanceId\":\"10.0.0.1#8080#DEFAULT#G@@svc\","
        "\"ip\":\"10.0.0.1\",\"port\":8080,\"weight\":2.5,"
        "\"healthy\":true,\"enabled\":true,\"ephemeral\":true,"
        "\"clusterName\":\"DEFAULT\",\"serviceName\":\"G@@svc\","
        "\"metadata\":{\"k\":\"v\"},\"instanceHeartBeatInterval\":5000,"
        "\"instanceHeartBeatTimeOut\":15000,\"ipDeleteTimeout\":30000}");

    svc = test_name("svc", NULL, NULL, 0);
    rec = test_get(s, &svc);
    assert_non_null(rec);
    h = nc_store_naming_service(rec);
    assert_int_equal(h->instances, 2);
    assert_int_equal(h->hosts, 2);
    assert_int_equal(h->healthy, 2);
    assert_int_equal(h->ephemeral, 2);
    assert_int_equal(h->created, 1000);
    assert_int_equal(h->modified, 1001);      /* +1 per change in a ms */
    assert_int_equal(rec->revision, 2);
    test_field_eq(rec, NC_STORE_NAMING_S_CLUSTERS, "DEFAULT");
    test_field_eq(rec, NC_STORE_NAMING_S_SELECTOR, "{\"type\":\"none\"}");

    /* key order: 10.0.0.1 before 10.0.0.2 */
    v = test_hosts(s, &svc, "", 0);
    assert_true(v.len > 2 && v.data[0] == '[' && v.data[v.len - 1] == ']');
    assert_non_null(memmem(v.data, v.len, "10.0.0.1#8080", 13));
    assert_true((u_char *) memmem(v.data, v.len, "10.0.0.1#8080", 13)
                < (u_char *) memmem(v.data, v.len, "10.0.0.2#80", 11));
    assert_non_null(memmem(v.data, v.len, "\"instanceIdGenerator\":\"simple\"",
                           30));

    nc_store_destroy(s);
}


static void
test_list_filters_disabled_and_health(void **state)
{
    nc_store_t                       *s;
    nc_str_t                          v;
    nc_store_naming_cmd_t             c;
    nc_store_naming_name_t            a, b, svc;
    const nc_store_record_t          *rec;
    const nc_store_naming_service_t  *h;

    (void) state;

    s = test_store();
    test_default(&c, 5000);

    a = test_name("svc", "A", "10.0.0.1", 1);
    b = test_name("svc", "B", "10.0.0.1", 1);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &a, 0, &c),
                     NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &b, 0, &c),
                     NC_OK);

    /* disable a: it leaves the list, not the service */
    c.what = NC_STORE_NAMING_W_ENABLED;
    c.flags = NC_STORE_NAMING_EPHEMERAL;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_UPDATE, &a, 0, &c), NC_OK);

    svc = test_name("svc", NULL, NULL, 0);
    rec = test_get(s, &svc);
    h = nc_store_naming_service(rec);
    assert_int_equal(h->instances, 2);
    assert_int_equal(h->hosts, 1);
    test_field_eq(rec, NC_STORE_NAMING_S_CLUSTERS, "B");
    v = test_hosts(s, &svc, "", 0);
    assert_null(memmem(v.data, v.len, "#A#", 3));
    assert_non_null(memmem(v.data, v.len, "#B#", 3));

    /* health with the wrong revision is declined, with the right one not */
    rec = test_get(s, &b);
    c.flags = 0;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_HEALTH, &b,
                                rec->revision + 100, &c), NC_DECLINED);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_HEALTH, &b,
                                rec->revision, &c), NC_OK);

    rec = test_get(s, &b);
    assert_false(rec->flags & NC_STORE_NAMING_HEALTHY);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "B");
    assert_int_equal(nc_store_naming_service(test_get(s, &svc))->healthy, 0);

    /* expiry compares the revision too */
    assert_int_equal(test_apply(s, NC_STORE_NAMING_EXPIRE, &b,
                                rec->revision - 1, &c), NC_DECLINED);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_EXPIRE, &b,
                                rec->revision, &c), NC_OK);
    assert_null(test_get(s, &b));

    /* the last instance gone: the implied service goes too */
    assert_int_equal(test_apply(s, NC_STORE_NAMING_DEREGISTER, &a, 0, &c),
                     NC_OK);
    assert_null(test_get(s, &svc));
    assert_int_equal(test_apply(s, NC_STORE_NAMING_DEREGISTER, &a, 0, &c),
                     NC_DECLINED);

    nc_store_destroy(s);
}


static void
test_kinds_and_services(void **state)
{
    nc_str_t                  v;
    nc_store_t               *s;
    nc_store_naming_cmd_t     c;
    nc_store_naming_name_t    a, p, svc;
    const nc_store_record_t  *rec;

    (void) state;

    s = test_store();
    test_default(&c, 1);

    a = test_name("svc", "DEFAULT", "10.0.0.1", 1);
    p = test_name("svc", "DEFAULT", "10.0.0.2", 1);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &a, 0, &c),
                     NC_OK);

    /* a persistent instance in a service of ephemeral ones: refused */
    c.flags &= ~NC_STORE_NAMING_EPHEMERAL;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &p, 0, &c),
                     NC_ERROR);
    assert_null(test_get(s, &p));

    /* ... but the same instance may change its kind alone */
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &a, 0, &c),
                     NC_OK);
    assert_false(test_get(s, &a)->flags & NC_STORE_NAMING_EPHEMERAL);

    /* the service API: made explicit, kept when empty, not deleted with
     * instances */
    svc = test_name("svc", NULL, NULL, 0);
    test_default(&c, 2);
    c.weight = 0.5;
    c.metadata = S("{\"owner\":\"x\"}");
    assert_int_equal(test_apply(s, NC_STORE_NAMING_SERVICE_CREATE, &svc, 0,
                                &c), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_SERVICE_CREATE, &svc, 0,
                                &c), NC_DECLINED);
    assert_int_equal(test_apply(s, NC_STORE_NAMING_SERVICE_DELETE, &svc, 0,
                                &c), NC_ERROR);

    rec = test_get(s, &svc);
    assert_true(nc_store_naming_service(rec)->protect_threshold == 0.5);
    assert_int_equal(nc_store_naming_service(rec)->instances, 1);
    test_field_eq(rec, NC_STORE_NAMING_S_METADATA, "{\"owner\":\"x\"}");

    assert_int_equal(test_apply(s, NC_STORE_NAMING_DEREGISTER, &a, 0, &c),
                     NC_OK);
    rec = test_get(s, &svc);
    assert_non_null(rec);
    assert_int_equal(nc_store_naming_service(rec)->instances, 0);
    test_field_eq(rec, NC_STORE_NAMING_S_CLUSTERS, "");
    v = test_hosts(s, &svc, "", 0);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.data, "[]", 2);

    assert_int_equal(test_apply(s, NC_STORE_NAMING_SERVICE_DELETE, &svc, 0,
                                &c), NC_OK);
    assert_null(test_get(s, &svc));
    assert_int_equal(test_apply(s, NC_STORE_NAMING_SERVICE_UPDATE, &svc, 0,
                                &c), NC_DECLINED);

    nc_store_destroy(s);
}


/* the same entries, one batch or one each: the same bytes */
static void
test_batches_agree(void **state)
{
    size_t                  i, len[4];
    u_char                 *cmd[4];
    nc_str_t                v1, v2;
    nc_store_t             *s1, *s2;
    nc_store_result_t       res[4];
    nc_store_naming_cmd_t   c;
    nc_store_naming_name_t  n, svc;
    const nc_store_record_t  *r1, *r2;
    char                    ip[32];

    (void) state;

    s1 = test_store();
    s2 = nc_store_create(32 * 1024 * 1024, &test_log);
    assert_non_null(s2);

    /* four changes in the same millisecond */
    for (i = 0; i < 4; i++) {
        test_default(&c, 7000);
        snprintf(ip, sizeof(ip), "10.0.0.%u", (unsigned) i + 1);
        n = test_name("svc", "DEFAULT", ip, 80);
        cmd[i] = test_cmd(NC_STORE_NAMING_REGISTER, &n, 0, &c, &len[i]);
    }

    test_batch(s1, cmd, len, 4, res);

    for (i = 0; i < 4; i++) {
        assert_int_equal(res[i].status, NC_OK);
    }

    /* s2 is the writer now */
    assert_int_equal(nc_store_writer_init(s2), NC_OK);
    test_index = 0;

    for (i = 0; i < 4; i++) {
        test_batch(s2, &cmd[i], &len[i], 1, &res[i]);
    }

    svc = test_name("svc", NULL, NULL, 0);
    r1 = test_get(s1, &svc);
    r2 = test_get(s2, &svc);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_int_equal(nc_store_naming_service(r1)->modified, 7003);
    assert_int_equal(nc_store_naming_service(r2)->modified, 7003);
    assert_int_equal(r1->revision, r2->revision);

    v1 = test_hosts(s1, &svc, "", 0);
    v2 = test_hosts(s2, &svc, "", 0);
    assert_int_equal(v1.len, v2.len);
    assert_memory_equal(v1.data, v2.data, v1.len);

    nc_store_destroy(s1);
    nc_store_destroy(s2);
}


/* the service's counts and clusters, as a walk of its instances finds them */
static void
test_check_service(nc_store_t *s, const nc_store_naming_name_t *svc)
{
    size_t                            plen, clen;
    uint32_t                          instances, ephemeral, hosts, healthy;
    nc_str_t                          field;
    nc_store_iter_t                   it;
    nc_shm_off_t                      off;
    nc_store_naming_name_t            n, prefix;
    const nc_store_record_t          *rec, *svc_rec;
    const nc_store_version_t         *v;
    const nc_store_naming_service_t  *h;
    u_char                            key[NC_STORE_MAX_KEY_LEN];
    char                              clusters[256], last[64];

    off = atomic_load(&s->hdr->current);
    v = nc_store_ptr(s, off);

    prefix = *svc;
    prefix.cluster.len = 0;
    prefix.ip.len = 0;
    plen = nc_store_naming_instance_key(key, sizeof(key), &prefix);

    instances = ephemeral = hosts = healthy = 0;
    clen = 0;
    clusters[0] = '\0';
    last[0] = '\0';

    nc_store_iter_init(&it, s, v->root, key, plen, NULL, 0);

    while ((rec = nc_store_iter_next(&it)) != NULL) {
        assert_int_equal(nc_store_naming_parse_instance(
                             nc_store_record_key(rec), rec->key_len, &n),
                         NC_OK);
        instances++;
        ephemeral += (rec->flags & NC_STORE_NAMING_EPHEMERAL) != 0;

        if (!(rec->flags & NC_STORE_NAMING_ENABLED)) {
            continue;
        }

        hosts++;
        healthy += (rec->flags & NC_STORE_NAMING_HEALTHY) != 0;

        if (strlen(last) != n.cluster.len
            || memcmp(last, n.cluster.data, n.cluster.len) != 0)
        {
            clen += snprintf(clusters + clen, sizeof(clusters) - clen,
                             "%s%.*s", clen ? "," : "", (int) n.cluster.len,
                             n.cluster.data);
            snprintf(last, sizeof(last), "%.*s", (int) n.cluster.len,
                     n.cluster.data);
        }
    }

    svc_rec = test_get(s, svc);

    if (instances == 0) {
        assert_null(svc_rec);            /* implied: it went with the last */
        return;
    }

    assert_non_null(svc_rec);
    h = nc_store_naming_service(svc_rec);
    assert_int_equal(h->instances, instances);
    assert_int_equal(h->ephemeral, ephemeral);
    assert_int_equal(h->hosts, hosts);
    assert_int_equal(h->healthy, healthy);

    nc_store_naming_field(svc_rec, NC_STORE_NAMING_S_CLUSTERS, &field);
    if (field.len != strlen(clusters)
        || memcmp(field.data, clusters, field.len) != 0)
    {
        print_error("clusters \"%.*s\", the walk finds \"%s\"\n",
                    (int) field.len, field.data, clusters);
        fail();
    }
}


/* clusters sort as their keys: "A" before "A-b" before "B" */
static void
test_clusters_follow(void **state)
{
    nc_store_t              *s;
    nc_store_naming_cmd_t    c;
    nc_store_naming_name_t   b, ab, a, a2, svc;

    (void) state;

    s = test_store();
    test_default(&c, 100);
    svc = test_name("svc", NULL, NULL, 0);

    b = test_name("svc", "B", "10.0.0.1", 1);
    ab = test_name("svc", "A-b", "10.0.0.1", 1);
    a = test_name("svc", "A", "10.0.0.9", 1);
    a2 = test_name("svc", "A", "10.0.0.1", 1);

    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &b, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "B");
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &ab, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A-b,B");
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &a, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A,A-b,B");
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &a2, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A,A-b,B");

    /* A keeps a listed instance while one of two goes; then loses it */
    assert_int_equal(test_apply(s, NC_STORE_NAMING_DEREGISTER, &a2, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A,A-b,B");

    c.what = NC_STORE_NAMING_W_ENABLED;
    c.flags = NC_STORE_NAMING_EPHEMERAL;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_UPDATE, &a, 0, &c), NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A-b,B");

    assert_int_equal(test_apply(s, NC_STORE_NAMING_DEREGISTER, &b, 0, &c),
                     NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A-b");

    c.flags = NC_STORE_NAMING_EPHEMERAL | NC_STORE_NAMING_ENABLED;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_UPDATE, &a, 0, &c), NC_OK);
    test_field_eq(test_get(s, &svc), NC_STORE_NAMING_S_CLUSTERS, "A,A-b");
    test_check_service(s, &svc);

    nc_store_destroy(s);
}


/*
 * Random registrations, deregistrations, expiries, updates and health
 * flips over three clusters, some in one batch: after each batch the
 * service's counts and clusters are what a walk finds.
 */
static void
test_accounting_random(void **state)
{
    size_t                  i, k, len[8], n;
    u_char                 *cmd[8];
    uint64_t                seed;
    nc_uint_t               op, r;
    nc_store_t             *s;
    nc_store_result_t       res[8];
    nc_store_naming_cmd_t   c;
    nc_store_naming_name_t  in, svc;
    const nc_store_record_t *rec;
    char                    ip[32];
    static const char      *clusters[] = { "A", "A-b", "B" };

    (void) state;

    s = test_store();
    svc = test_name("svc", NULL, NULL, 0);
    seed = 0x9e3779b97f4a7c15ULL;

#define test_rand()                                                           \
    (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17,               \
     (nc_uint_t) (seed >> 11))

    for (i = 0; i < 3000; i++) {
        n = 1 + test_rand() % 4;

        for (k = 0; k < n; k++) {
            r = test_rand();
            snprintf(ip, sizeof(ip), "10.0.0.%u", (unsigned) (r % 6));
            in = test_name("svc", clusters[(r >> 4) % 3], ip, 80);
            test_default(&c, 1000 + i);

            switch ((r >> 8) % 6) {
            case 0:
            case 1:
                op = NC_STORE_NAMING_REGISTER;
                c.flags = NC_STORE_NAMING_EPHEMERAL
                          | ((r >> 12) & 1 ? NC_STORE_NAMING_ENABLED : 0)
                          | ((r >> 13) & 1 ? NC_STORE_NAMING_HEALTHY : 0);
                break;
            case 2:
                op = NC_STORE_NAMING_DEREGISTER;
                break;
            case 3:
                op = NC_STORE_NAMING_UPDATE;
                c.what = NC_STORE_NAMING_W_ENABLED | NC_STORE_NAMING_W_HEALTHY;
                c.flags = NC_STORE_NAMING_EPHEMERAL
                          | ((r >> 12) & 1 ? NC_STORE_NAMING_ENABLED : 0)
                          | ((r >> 13) & 1 ? NC_STORE_NAMING_HEALTHY : 0);
                break;
            case 4:
                op = NC_STORE_NAMING_HEALTH;
                c.flags = (r >> 13) & 1 ? NC_STORE_NAMING_HEALTHY : 0;
                break;
            default:
                op = NC_STORE_NAMING_EXPIRE;
                break;
            }

            rec = test_get(s, &in);
            cmd[k] = test_cmd(op, &in, rec ? rec->revision : 0, &c, &len[k]);
            assert_non_null(cmd[k]);
        }

        test_batch(s, cmd, len, n, res);
        test_check_service(s, &svc);
    }

#undef test_rand

    nc_store_destroy(s);
}


/* a kept list is the list rendered anew; a change is seen at once */
static void
test_list_cache(void **state)
{
    nc_uint_t               i, round;
    nc_str_t                kept, fresh;
    nc_store_t             *s;
    nc_store_naming_cmd_t   c;
    nc_store_naming_name_t  n, svc;
    u_char                  copy[16384];
    char                    ip[32];

    (void) state;

    s = test_store();
    svc = test_name("svc", NULL, NULL, 0);

    for (round = 0; round < 2; round++) {
        /* round 1: so small a budget that lists are evicted all along */
        nc_naming_list_cache(round == 0 ? 1024 * 1024 : 4096);

        for (i = 0; i < 20; i++) {
            test_default(&c, 2000 + i);
            snprintf(ip, sizeof(ip), "10.1.%u.%u", (unsigned) round,
                     (unsigned) i);
            n = test_name("svc", i % 2 ? "A" : "B", ip, 80);
            assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &n, 0,
                                        &c), NC_OK);

            kept = test_hosts(s, &svc, "", 0);
            kept = test_hosts(s, &svc, "", 0);   /* the kept one, if kept */
            assert_true(kept.len < sizeof(copy));
            nc_memcpy(copy, kept.data, kept.len);
            assert_non_null(memmem(kept.data, kept.len, ip, strlen(ip)));

            nc_naming_list_cache(0);
            fresh = test_hosts(s, &svc, "", 0);
            nc_naming_list_cache(round == 0 ? 1024 * 1024 : 4096);

            assert_int_equal(kept.len, fresh.len);
            assert_memory_equal(copy, fresh.data, fresh.len);

            /* the same hosts asked with every cluster named */
            fresh = test_hosts(s, &svc, "A,B", 0);
            assert_int_equal(kept.len, fresh.len);
            assert_memory_equal(copy, fresh.data, fresh.len);
        }
    }

    nc_naming_list_cache(0);
    nc_store_destroy(s);
}


static void
test_bad_commands(void **state)
{
    u_char                 *cmd;
    size_t                  len;
    nc_store_t             *s;
    nc_store_result_t       res;
    nc_store_naming_cmd_t   c;
    nc_store_cmd_t          sc;
    nc_store_naming_name_t  n;
    u_char                  buf[256];

    (void) state;

    s = test_store();
    test_default(&c, 1);
    n = test_name("svc", "DEFAULT", "10.0.0.1", 80);

    /* a short value */
    cmd = test_cmd(NC_STORE_NAMING_REGISTER, &n, 0, &c, &len);
    assert_int_equal(nc_store_cmd_decode(&sc, cmd, len), NC_OK);
    sc.value_len = 8;
    len = nc_store_cmd_encode(buf, sizeof(buf), &sc);
    cmd = buf;
    test_batch(s, &cmd, &len, 1, &res);
    assert_int_equal(res.status, NC_ERROR);

    /* a key that is not an instance's */
    cmd = test_cmd(NC_STORE_NAMING_REGISTER, &n, 0, &c, &len);
    assert_int_equal(nc_store_cmd_decode(&sc, cmd, len), NC_OK);
    sc.key = (u_char *) "nsi/public/G@@svc";
    sc.key_len = 17;
    len = nc_store_cmd_encode(buf, sizeof(buf), &sc);
    cmd = buf;
    test_batch(s, &cmd, &len, 1, &res);
    assert_int_equal(res.status, NC_ERROR);

    /* unknown flags */
    c.flags |= 0x80;
    assert_int_equal(test_apply(s, NC_STORE_NAMING_REGISTER, &n, 0, &c),
                     NC_ERROR);

    nc_store_destroy(s);
}


static void
test_double(void **state)
{
    u_char  buf[64];

    (void) state;

#define D(v, want)                                                            \
    assert_int_equal(nc_store_naming_double(buf, v), strlen(want));           \
    assert_memory_equal(buf, want, strlen(want))

    D(1.0, "1.0");
    D(0.0, "0.0");
    D(2.5, "2.5");
    D(0.1, "0.1");
    D(100.0, "100.0");
    D(10000.0, "10000.0");
    D(0.25, "0.25");
    D(0.001, "0.001");
    D(0.0001, "1.0E-4");
    D(1.23456789, "1.23456789");
}


int
main(void)
{
    int                      rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_register_renders),
        cmocka_unit_test(test_list_filters_disabled_and_health),
        cmocka_unit_test(test_kinds_and_services),
        cmocka_unit_test(test_batches_agree),
        cmocka_unit_test(test_clusters_follow),
        cmocka_unit_test(test_accounting_random),
        cmocka_unit_test(test_list_cache),
        cmocka_unit_test(test_bad_commands),
        cmocka_unit_test(test_double),
    };

    test_pool = nc_create_pool(1024 * 1024);

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    nc_destroy_pool(test_pool);

    return rc;
}
