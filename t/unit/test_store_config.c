
/*
 * nacre: config items applied to the store: publish, compare-and-set,
 * delete, the history records each change leaves and their pruning by
 * count and by age, and commands the apply must refuse.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_config.h>

#include <setjmp.h>
#include <cmocka.h>


#define HOUR  (3600 * 1000ULL)


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

    nc_store_config_init();

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


/* apply a command to the public namespace, group "G"; its result */
static nc_int_t
test_apply(nc_store_t *s, nc_uint_t op, const char *data_id,
    const char *content, uint64_t time, uint64_t max_count, uint64_t max_age,
    const u_char *cas)
{
    u_char                 *cmd;
    size_t                  len, klen;
    nc_str_t                ns, group, id;
    u_char                  key[NC_STORE_MAX_KEY_LEN];
    nc_raft_entry_t         e;
    nc_store_result_t       res;
    nc_store_config_cmd_t   c;

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));
    c.time = time;
    c.history_max_count = max_count;
    c.history_max_age = max_age;
    c.field[NC_STORE_CONFIG_F_CONTENT] = S(content ? content : "");
    c.field[NC_STORE_CONFIG_F_TYPE] = S("yaml");
    c.field[NC_STORE_CONFIG_F_USER] = S("alice");
    nc_store_config_md5(c.field[0].data, c.field[0].len, c.md5);

    if (cas) {
        c.use_cas = 1;
        nc_memcpy(c.cas, cas, 16);
    }

    ns = S("");
    group = S("G");
    id = S(data_id);

    klen = nc_store_config_key(key, sizeof(key), NC_STORE_CONFIG_ITEM, &ns,
                               &group, &id);
    cmd = nc_store_config_command(test_pool, op, key, klen, &c, &len);
    assert_non_null(cmd);

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = ++test_index;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = cmd;
    e.len = (uint32_t) len;

    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);

    return res.status;
}


static const nc_store_version_t *
current(nc_store_t *s)
{
    nc_shm_off_t  off;

    off = atomic_load(&s->hdr->current);

    return off ? nc_store_ptr(s, off) : NULL;
}


static const nc_store_record_t *
test_get(nc_store_t *s, const char *key)
{
    return nc_store_get(s, current(s), (const u_char *) key, strlen(key));
}


/* "I:content U:content ..." of the item's history, oldest first */
static char *
test_history(nc_store_t *s, const char *data_id)
{
    static char                 out[4096];
    char                        prefix[256];
    size_t                      n;
    nc_str_t                    content;
    nc_store_iter_t            *it;
    const nc_store_record_t    *rec;

    n = (size_t) snprintf(prefix, sizeof(prefix), "cfgh//G/%s/", data_id);

    it = malloc(sizeof(nc_store_iter_t));
    assert_non_null(it);
    nc_store_iter_init(it, s, current(s)->root, (u_char *) prefix, n, NULL,
                       0);

    out[0] = '\0';

    while ((rec = nc_store_iter_next(it)) != NULL) {
        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &content);
        (void) snprintf(out + strlen(out), sizeof(out) - strlen(out),
                        "%s%c:%.*s", out[0] ? " " : "",
                        nc_store_config_head(rec)->op, nc_str_fmt(&content));
    }

    free(it);

    return out;
}


static void
test_publish(void **state)
{
    u_char                        md5[16];
    nc_str_t                      v;
    nc_store_t                   *s;
    const nc_store_record_t      *rec;
    const nc_store_config_head_t *h;

    s = test_store();

    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "app.yaml",
                                "a: 1", 1000, 10, 0, NULL), NC_OK);

    rec = test_get(s, "cfg//G/app.yaml");
    assert_non_null(rec);
    assert_int_equal(rec->type, NC_STORE_T_CONFIG);

    h = nc_store_config_head(rec);
    assert_int_equal(h->id, test_index);
    assert_int_equal(h->created, 1000);
    assert_int_equal(h->modified, 1000);

    nc_store_config_md5((u_char *) "a: 1", 4, md5);
    assert_memory_equal(h->md5, md5, 16);

    nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &v);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.data, "a: 1", 4);
    nc_store_config_field(rec, NC_STORE_CONFIG_F_TYPE, &v);
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.data, "yaml", 4);
    nc_store_config_field(rec, NC_STORE_CONFIG_F_USER, &v);
    assert_memory_equal(v.data, "alice", 5);

    /* an update keeps id and creation time */
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "app.yaml",
                                "a: 2", 2000, 10, 0, NULL), NC_OK);

    h = nc_store_config_head(test_get(s, "cfg//G/app.yaml"));
    assert_int_equal(h->id, test_index - 1);
    assert_int_equal(h->created, 1000);
    assert_int_equal(h->modified, 2000);

    /* CAS: the current MD5 wins, a stale one loses */
    nc_store_config_md5((u_char *) "a: 1", 4, md5);
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "app.yaml",
                                "a: 3", 3000, 10, 0, md5), NC_DECLINED);

    nc_store_config_md5((u_char *) "a: 2", 4, md5);
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "app.yaml",
                                "a: 3", 3000, 10, 0, md5), NC_OK);

    /* CAS with nothing to compare with */
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "none.yaml",
                                "x", 3000, 10, 0, md5), NC_DECLINED);
    assert_null(test_get(s, "cfg//G/none.yaml"));

    /* delete: once */
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_DELETE, "app.yaml", NULL,
                                4000, 10, 0, NULL), NC_OK);
    assert_null(test_get(s, "cfg//G/app.yaml"));
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_DELETE, "app.yaml", NULL,
                                4000, 10, 0, NULL), NC_DECLINED);

    /* Nacos' history: I the new content, U and D the previous one */
    assert_string_equal(test_history(s, "app.yaml"),
                        "I:a: 1 U:a: 1 U:a: 2 D:a: 3");

    nc_store_destroy(s);
}


static void
test_prune(void **state)
{
    int          i;
    char         content[16];
    nc_store_t  *s;

    s = test_store();

    /* by count: the newest three */
    for (i = 1; i <= 6; i++) {
        (void) snprintf(content, sizeof(content), "v%d", i);
        assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "c",
                                    content, i * HOUR, 3, 0, NULL), NC_OK);
    }

    assert_string_equal(test_history(s, "c"), "U:v3 U:v4 U:v5");

    /* by age: nothing older than two hours at the time of the change */
    for (i = 1; i <= 4; i++) {
        (void) snprintf(content, sizeof(content), "w%d", i);
        assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "d",
                                    content, i * HOUR, 100, 2 * HOUR, NULL),
                         NC_OK);
    }

    assert_string_equal(test_history(s, "d"), "U:w1 U:w2 U:w3");
    assert_string_equal(test_history(s, "c"), "U:v3 U:v4 U:v5");

    /* no history at all */
    assert_int_equal(test_apply(s, NC_STORE_CONFIG_PUBLISH, "c", "v7",
                                7 * HOUR, 0, 0, NULL), NC_OK);
    assert_string_equal(test_history(s, "c"), "");

    nc_store_destroy(s);
}


/* commands that are not config commands, or lie about their sizes */
static void
test_malformed(void **state)
{
    u_char              buf[512], value[NC_STORE_CONFIG_CMD_FIXED + 4];
    nc_store_t         *s;
    nc_store_cmd_t      c;
    nc_raft_entry_t     e;
    nc_store_result_t   res;
    const char         *keys[] = { "cfg/dev/G/x", "cfg/dev/G", "cfg/a/b/c/d",
                                   "kv/dev/G/x" };
    nc_uint_t           i;

    s = test_store();

    for (i = 0; i < nc_nelems(keys); i++) {
        nc_memzero(value, sizeof(value));
        /* the first field claims 5 bytes, 4 follow */
        nc_le32_put(value + 64, i == 0 ? 5 : 4);

        nc_memzero(&c, sizeof(nc_store_cmd_t));
        c.op = NC_STORE_CONFIG_PUBLISH;
        c.type = NC_STORE_T_CONFIG;
        c.key = (u_char *) keys[i];
        c.key_len = (uint32_t) strlen(keys[i]);
        c.value = value;
        c.value_len = sizeof(value);

        nc_memzero(&e, sizeof(nc_raft_entry_t));
        e.index = ++test_index;
        e.term = 1;
        e.type = NC_RAFT_ENTRY_NORMAL;
        e.data = buf;
        e.len = (uint32_t) nc_store_cmd_encode(buf, sizeof(buf), &c);

        assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
        assert_int_equal(res.status, NC_ERROR);
        assert_null(test_get(s, keys[i]));
    }

    nc_store_destroy(s);
}


/* a command on any key; the entry's result status */
static nc_int_t
test_apply_key(nc_store_t *s, nc_uint_t op, const char *key,
    const char *content)
{
    u_char                 *cmd;
    size_t                  len;
    nc_raft_entry_t         e;
    nc_store_result_t       res;
    nc_store_config_cmd_t   c;

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));
    c.time = 5000;
    c.history_max_count = 10;
    c.field[NC_STORE_CONFIG_F_CONTENT] = S(content);
    nc_store_config_md5(c.field[0].data, c.field[0].len, c.md5);

    cmd = nc_store_config_command(test_pool, op, (u_char *) key, strlen(key),
                                  &c, &len);
    assert_non_null(cmd);

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = ++test_index;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = cmd;
    e.len = (uint32_t) len;

    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);

    return res.status;
}


static void
test_namespaces(void **state)
{
    nc_str_t     v;
    nc_store_t  *s;

    s = test_store();

    /* items live in namespaces that exist: the public one always does */
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_PUBLISH, "cfg/dev/G/a",
                                    "x"), NC_ERROR);
    assert_null(test_get(s, "cfg/dev/G/a"));
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_PUBLISH, "cfg//G/a",
                                    "x"), NC_OK);

    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_UPDATE, "cfgn/dev",
                                    "Dev"), NC_DECLINED);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_CREATE, "cfgn/dev",
                                    "Dev"), NC_OK);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_CREATE, "cfgn/dev",
                                    "Again"), NC_DECLINED);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_UPDATE, "cfgn/dev",
                                    "Development"), NC_OK);

    nc_store_config_field(test_get(s, "cfgn/dev"), NC_STORE_CONFIG_F_CONTENT,
                          &v);
    assert_int_equal(v.len, 11);
    assert_memory_equal(v.data, "Development", 11);

    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_PUBLISH, "cfg/dev/G/a",
                                    "x"), NC_OK);

    /* a namespace with items stays */
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_DELETE, "cfgn/dev",
                                    ""), NC_DECLINED);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_DELETE, "cfg/dev/G/a",
                                    ""), NC_OK);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_DELETE, "cfgn/dev",
                                    ""), NC_OK);
    assert_null(test_get(s, "cfgn/dev"));
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_DELETE, "cfgn/dev",
                                    ""), NC_DECLINED);

    /* gray versions: under cfgb/, in namespaces that exist, no history */
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_BETA_PUBLISH,
                                    "cfgb//G/a", "gray"), NC_OK);
    assert_non_null(test_get(s, "cfgb//G/a"));
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_BETA_PUBLISH,
                                    "cfgb/nope/G/a", "gray"), NC_ERROR);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_BETA_PUBLISH,
                                    "cfg//G/a", "gray"), NC_ERROR);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_BETA_DELETE,
                                    "cfgb//G/a", ""), NC_OK);
    assert_null(test_get(s, "cfgb//G/a"));
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_BETA_DELETE,
                                    "cfgb//G/a", ""), NC_DECLINED);

    /* no namespace record for "", none with a '/' */
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_CREATE, "cfgn/",
                                    "x"), NC_ERROR);
    assert_int_equal(test_apply_key(s, NC_STORE_CONFIG_NS_CREATE, "cfgn/a/b",
                                    "x"), NC_ERROR);

    nc_store_destroy(s);
}


int
main(void)
{
    int  rc;

    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_namespaces),
    };

    test_pool = nc_create_pool(64 * 1024);

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    nc_destroy_pool(test_pool);

    return rc;
}
