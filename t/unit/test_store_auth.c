
/*
 * nacre: users, roles, permissions and the token key applied to the store.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>
#include <nc_store_auth.h>
#include <nc_store_kv.h>
#include <nc_auth.h>

#include <setjmp.h>
#include <cmocka.h>


static nc_log_t    test_log = { NC_LOG_WARN, -1, NULL };
static uint64_t    test_index;


static nc_store_t *
test_store(void)
{
    nc_store_t  *s;

    s = nc_store_create(16 * 1024 * 1024, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    nc_store_auth_init();
    nc_store_kv_init();

    return s;
}


/* apply one auth command; the entry's result status */
static nc_int_t
test_apply(nc_store_t *s, nc_uint_t op, const char *a, const char *b,
    const char *c, const char *value)
{
    u_char             buf[1024];
    nc_str_t           sa, sb, sc;
    nc_raft_entry_t    e;
    nc_store_result_t  res;

    sa.data = (u_char *) a;
    sa.len = a ? strlen(a) : 0;
    sb.data = (u_char *) b;
    sb.len = b ? strlen(b) : 0;
    sc.data = (u_char *) c;
    sc.len = c ? strlen(c) : 0;

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = ++test_index;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = buf;
    e.len = (uint32_t) nc_store_auth_command(buf, sizeof(buf), op,
                                             a ? &sa : NULL, &sb, &sc,
                                             (const u_char *) value,
                                             value ? strlen(value) : 0);
    assert_true(e.len > 0);

    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);

    return res.status;
}


static const nc_store_record_t *
test_get(nc_store_t *s, const char *key, size_t len)
{
    nc_shm_off_t               off;
    const nc_store_version_t  *v;

    off = atomic_load(&s->hdr->current);
    v = off ? nc_store_ptr(s, off) : NULL;

    return v ? nc_store_get(s, v, (const u_char *) key, len) : NULL;
}


static const nc_store_record_t *
test_get_str(nc_store_t *s, const char *key)
{
    return test_get(s, key, strlen(key));
}


static void
test_bootstrap(void **state)
{
    char                      value[128];
    nc_store_t               *s;
    const nc_store_record_t  *rec;

    s = test_store();

    /* 32 key bytes, then the admin's hash */
    memset(value, 'k', 32);
    strcpy(value + 32, "$pbkdf2-sha256$i=1000$salt$hash");

    assert_int_equal(test_apply(s, NC_STORE_AUTH_BOOTSTRAP, NULL, NULL, NULL,
                                value), NC_OK);

    rec = test_get_str(s, "auth/key");
    assert_non_null(rec);
    assert_int_equal(rec->type, NC_STORE_T_AUTH);
    assert_int_equal(rec->value_len, 32);
    assert_memory_equal(nc_store_record_value(rec), value, 32);

    rec = test_get_str(s, "auth/user/nacos");
    assert_non_null(rec);
    assert_int_equal(rec->value_len, strlen(value + 32));
    assert_non_null(test_get_str(s, "auth/role/nacos/ROLE_ADMIN"));

    /* a second leader's bootstrap loses: nothing changes */
    memset(value, 'x', 32);
    strcpy(value + 32, "$pbkdf2-sha256$i=1000$other$other");

    assert_int_equal(test_apply(s, NC_STORE_AUTH_BOOTSTRAP, NULL, NULL, NULL,
                                value), NC_DECLINED);

    rec = test_get_str(s, "auth/key");
    assert_memory_equal(nc_store_record_value(rec), "kkkk", 4);

    /* a key without a hash is malformed */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_BOOTSTRAP, NULL, NULL, NULL,
                                "short"), NC_ERROR);

    nc_store_destroy(s);
}


static void
test_users(void **state)
{
    nc_store_t               *s;
    const nc_store_record_t  *rec;

    s = test_store();

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "alice", NULL,
                                NULL, "h1"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "alice", NULL,
                                NULL, "h2"), NC_DECLINED);

    rec = test_get_str(s, "auth/user/alice");
    assert_non_null(rec);
    assert_memory_equal(nc_store_record_value(rec), "h1", 2);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_PASSWORD, "alice", NULL,
                                NULL, "h3"), NC_OK);
    rec = test_get_str(s, "auth/user/alice");
    assert_memory_equal(nc_store_record_value(rec), "h3", 2);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_PASSWORD, "bob", NULL,
                                NULL, "h"), NC_DECLINED);
    assert_null(test_get_str(s, "auth/user/bob"));

    /* roles need the user; deleting the user takes its roles along */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "bob", "R1", NULL,
                                NULL), NC_DECLINED);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "alice", "R1",
                                NULL, NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "alice", "R1",
                                NULL, NULL), NC_DECLINED);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "alice", "R2",
                                NULL, NULL), NC_OK);

    /* a user whose name starts like alice's keeps its roles */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "alice2", NULL,
                                NULL, "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "alice2", "R1",
                                NULL, NULL), NC_OK);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_DELETE, "alice", NULL,
                                NULL, NULL), NC_OK);
    assert_null(test_get_str(s, "auth/user/alice"));
    assert_null(test_get_str(s, "auth/role/alice/R1"));
    assert_null(test_get_str(s, "auth/role/alice/R2"));
    assert_non_null(test_get_str(s, "auth/role/alice2/R1"));

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_DELETE, "alice", NULL,
                                NULL, NULL), NC_DECLINED);

    nc_store_destroy(s);
}


static void
test_roles_and_permissions(void **state)
{
    char         key[128];
    size_t       len;
    nc_store_t  *s;

    s = test_store();

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "u1", NULL, NULL,
                                "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "u2", NULL, NULL,
                                "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "u1", "dev", NULL,
                                NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "u2", "dev", NULL,
                                NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "u2", "ops", NULL,
                                NULL), NC_OK);

    /* one role for everyone: the role named in the value */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_DELETE, NULL, NULL,
                                NULL, "dev"), NC_OK);
    assert_null(test_get_str(s, "auth/role/u1/dev"));
    assert_null(test_get_str(s, "auth/role/u2/dev"));
    assert_non_null(test_get_str(s, "auth/role/u2/ops"));
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_DELETE, NULL, NULL,
                                NULL, "dev"), NC_DECLINED);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_DELETE, "u2", "ops",
                                NULL, NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_DELETE, "u2", "ops",
                                NULL, NULL), NC_DECLINED);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "dev",
                                "public:*:*", "rw", NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "dev",
                                "public:*:*", "rw", NULL), NC_DECLINED);

    len = (size_t) snprintf(key, sizeof(key), "auth/perm/dev%cpublic:*:*%crw",
                            NC_STORE_AUTH_SEP, NC_STORE_AUTH_SEP);
    assert_non_null(test_get(s, key, len));

    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_DELETE, "dev",
                                "public:*:*", "rw", NULL), NC_OK);
    assert_null(test_get(s, key, len));
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_DELETE, "dev",
                                "public:*:*", "rw", NULL), NC_DECLINED);

    nc_store_destroy(s);
}


/* a command cannot reach outside its own kind of record */
static void
test_confined(void **state)
{
    u_char             buf[256];
    nc_raft_entry_t    e;
    nc_store_cmd_t     c;
    nc_store_result_t  res;
    nc_store_t        *s;

    s = test_store();

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = NC_STORE_AUTH_USER_ADD;
    c.type = NC_STORE_T_AUTH;
    c.key = (u_char *) "kv/alice";
    c.key_len = 8;
    c.value = (u_char *) "h";
    c.value_len = 1;

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = ++test_index;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = buf;
    e.len = (uint32_t) nc_store_cmd_encode(buf, sizeof(buf), &c);

    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
    assert_int_equal(res.status, NC_ERROR);
    assert_null(test_get_str(s, "kv/alice"));

    /* and the KV commands cannot touch auth records */
    c.op = NC_STORE_KV_SET;
    c.type = NC_STORE_T_KV;
    c.key = (u_char *) "auth/key";
    c.key_len = 8;
    c.value = (u_char *) "01234567abcdefgh";
    c.value_len = 16;
    e.index = ++test_index;
    e.len = (uint32_t) nc_store_cmd_encode(buf, sizeof(buf), &c);

    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
    assert_int_equal(res.status, NC_ERROR);
    assert_null(test_get_str(s, "auth/key"));

    nc_store_destroy(s);
}


/* nc_auth_permitted: Nacos' pattern model, exactly */
static nc_flag_t
test_may(nc_store_t *s, const char *user, const char *resource, char action)
{
    nc_shm_off_t               off;
    const nc_store_version_t  *v;

    off = atomic_load(&s->hdr->current);
    v = nc_store_ptr(s, off);

    return nc_auth_permitted(s, v, (const u_char *) user, strlen(user),
                             (const u_char *) resource, strlen(resource),
                             action);
}


static void
test_permissions(void **state)
{
    nc_store_t  *s;

    s = test_store();

    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "dev", NULL, NULL,
                                "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "ops", NULL, NULL,
                                "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "root", NULL, NULL,
                                "h"), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_USER_ADD, "none", NULL, NULL,
                                "h"), NC_OK);

    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "dev", "R_DEV",
                                NULL, NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "ops", "R_OPS",
                                NULL, NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "ops", "R_PUB",
                                NULL, NULL), NC_OK);
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_ADD, "root",
                                "ROLE_ADMIN", NULL, NULL), NC_OK);

    /* R_DEV: read and write all of namespace "dev" */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "R_DEV",
                                "dev:*:*", "rw", NULL), NC_OK);
    /* R_OPS: read one group's configs of namespace "prod" */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "R_OPS",
                                "prod:G1:config/*", "r", NULL), NC_OK);
    /* R_PUB: write one data id in the public namespace, named "public" */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "R_PUB",
                                "public:DEFAULT_GROUP:config/app.yaml", "w",
                                NULL), NC_OK);
    /* R_NOBODY holds a permission but no user has the role */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_PERM_ADD, "R_NOBODY",
                                "*", "rw", NULL), NC_OK);

    assert_true(test_may(s, "dev", "dev:G:config/a", 'r'));
    assert_true(test_may(s, "dev", "dev:G:naming/svc", 'w'));
    assert_false(test_may(s, "dev", "prod:G:config/a", 'r'));
    assert_false(test_may(s, "dev", "devx:G:config/a", 'r'));
    assert_false(test_may(s, "dev", ":G:config/a", 'r'));

    assert_true(test_may(s, "ops", "prod:G1:config/x", 'r'));
    assert_false(test_may(s, "ops", "prod:G1:config/x", 'w'));
    assert_false(test_may(s, "ops", "prod:G2:config/x", 'r'));
    assert_false(test_may(s, "ops", "prod:G1:naming/x", 'r'));

    assert_true(test_may(s, "ops", ":DEFAULT_GROUP:config/app.yaml", 'w'));
    assert_false(test_may(s, "ops", ":DEFAULT_GROUP:config/app.yaml", 'r'));
    assert_false(test_may(s, "ops", ":DEFAULT_GROUP:config/app.yml", 'w'));
    assert_false(test_may(s, "ops", "x:DEFAULT_GROUP:config/app.yaml", 'w'));

    assert_true(test_may(s, "root", "anything:at:all/x", 'w'));
    assert_false(test_may(s, "none", ":G:config/a", 'r'));
    assert_false(test_may(s, "ghost", ":G:config/a", 'r'));

    /* a role taken away takes its permissions with it */
    assert_int_equal(test_apply(s, NC_STORE_AUTH_ROLE_DELETE, "dev", "R_DEV",
                                NULL, NULL), NC_OK);
    assert_false(test_may(s, "dev", "dev:G:config/a", 'r'));

    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_roles_and_permissions),
        cmocka_unit_test(test_confined),
        cmocka_unit_test(test_permissions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
