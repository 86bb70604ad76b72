
/*
 * nacre: committed entries applied to the store.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>

#include <setjmp.h>
#include <cmocka.h>


static nc_log_t  test_log = { NC_LOG_WARN, -1, NULL };


static nc_store_t *
test_store(size_t size)
{
    nc_store_t  *s;

    s = nc_store_create(size, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    return s;
}


/* an entry holding one command; buf must outlive the entry */
static nc_raft_entry_t
test_entry(u_char *buf, size_t size, uint64_t index, uint8_t op,
    const char *key, const char *value, uint64_t revision)
{
    nc_store_cmd_t   c;
    nc_raft_entry_t  e;

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = op;
    c.type = NC_STORE_T_RAW;
    c.key = (const u_char *) key;
    c.key_len = (uint32_t) strlen(key);
    c.value = (const u_char *) value;
    c.value_len = value ? (uint32_t) strlen(value) : 0;
    c.revision = revision;

    nc_memzero(&e, sizeof(nc_raft_entry_t));
    e.index = index;
    e.term = 1;
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.data = buf;
    e.len = (uint32_t) nc_store_cmd_encode(buf, size, &c);
    assert_true(e.len > 0);

    return e;
}


static const nc_store_record_t *
test_get(nc_store_t *s, const char *key)
{
    nc_shm_off_t               off;
    const nc_store_version_t  *v;

    off = atomic_load(&s->hdr->current);
    v = off ? nc_store_ptr(s, off) : NULL;

    return v ? nc_store_get(s, v, (const u_char *) key, strlen(key)) : NULL;
}


static void
test_codec(void **state)
{
    u_char          buf[256];
    size_t          len;
    nc_store_cmd_t  c, d;

    nc_memzero(&c, sizeof(nc_store_cmd_t));
    c.op = NC_STORE_OP_CAS;
    c.type = 0x1234;
    c.key = (const u_char *) "cfg/a";
    c.key_len = 5;
    c.value = (const u_char *) "hello";
    c.value_len = 5;
    c.revision = 0x0102030405060708ULL;

    len = nc_store_cmd_encode(buf, sizeof(buf), &c);
    assert_int_equal(len, NC_STORE_CMD_HEADER + 10);

    /* little-endian on the wire, whatever the host */
    assert_int_equal(buf[2], 0x34);
    assert_int_equal(buf[16], 0x08);
    assert_int_equal(buf[23], 0x01);

    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_OK);
    assert_int_equal(d.op, NC_STORE_OP_CAS);
    assert_int_equal(d.type, 0x1234);
    assert_int_equal(d.revision, c.revision);
    assert_memory_equal(d.key, "cfg/a", 5);
    assert_memory_equal(d.value, "hello", 5);

    /* too small a buffer */
    assert_int_equal(nc_store_cmd_encode(buf, len - 1, &c), 0);

    /* every truncation and every extension is refused */
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(nc_store_cmd_decode(&d, buf, n), NC_ERROR);
    }

    assert_int_equal(nc_store_cmd_decode(&d, buf, len + 1), NC_ERROR);

    /* lengths that do not add up, huge ones, junk in reserved fields */
    buf[4] = 0xff;
    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_ERROR);
    buf[4] = 5;
    buf[11] = 0x80;
    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_ERROR);
    buf[11] = 0;
    buf[1] = 1;
    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_ERROR);
    buf[1] = 0;
    buf[13] = 1;
    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_ERROR);
    buf[13] = 0;
    assert_int_equal(nc_store_cmd_decode(&d, buf, len), NC_OK);
}


static void
test_put_delete_cas(void **state)
{
    u_char                    b[6][128];
    nc_store_t               *s;
    nc_raft_entry_t           e[6];
    nc_store_result_t         res[6];
    const nc_store_record_t  *rec;

    s = test_store(16 * 1024 * 1024);

    e[0] = test_entry(b[0], 128, 1, NC_STORE_OP_PUT, "a", "one", 0);
    e[1] = test_entry(b[1], 128, 2, NC_STORE_OP_PUT, "b", "two", 0);
    e[2] = test_entry(b[2], 128, 3, NC_STORE_OP_CAS, "a", "uno", 1);
    e[3] = test_entry(b[3], 128, 4, NC_STORE_OP_CAS, "b", "dos", 1);
    e[4] = test_entry(b[4], 128, 5, NC_STORE_OP_CAS, "c", "tres", 0);
    e[5] = test_entry(b[5], 128, 6, NC_STORE_OP_DELETE, "b", NULL, 0);

    assert_int_equal(nc_store_apply(s, e, 6, res), NC_OK);

    assert_int_equal(res[0].status, NC_OK);
    assert_int_equal(res[0].revision, 1);
    assert_int_equal(res[2].status, NC_OK);         /* a was at 1 */
    assert_int_equal(res[2].revision, 3);
    assert_int_equal(res[3].status, NC_DECLINED);   /* b is at 2, not 1 */
    assert_int_equal(res[3].revision, 2);
    assert_int_equal(res[4].status, NC_OK);         /* c did not exist */
    assert_int_equal(res[5].status, NC_OK);

    rec = test_get(s, "a");
    assert_non_null(rec);
    assert_int_equal(rec->revision, 3);
    assert_int_equal(rec->value_len, 3);
    assert_memory_equal(nc_store_record_value(rec), "uno", 3);

    assert_null(test_get(s, "b"));
    assert_non_null(test_get(s, "c"));

    /* the version says how far the log was applied */
    assert_int_equal(((nc_store_version_t *) nc_store_ptr(s,
                      atomic_load(&s->hdr->current)))->applied_index, 6);

    /* deleting an absent key is a result, not a failure */
    e[0] = test_entry(b[0], 128, 7, NC_STORE_OP_DELETE, "zz", NULL, 0);
    assert_int_equal(nc_store_apply(s, e, 1, res), NC_OK);
    assert_int_equal(res[0].status, NC_DECLINED);

    nc_store_destroy(s);
}


static void
test_malformed_and_other_entries(void **state)
{
    u_char              junk[7] = { 1, 2, 3, 4, 5, 6, 7 }, b[2][128];
    nc_store_t         *s;
    nc_raft_entry_t     e[4];
    nc_store_result_t   res[4];

    s = test_store(16 * 1024 * 1024);

    e[0] = test_entry(b[0], 128, 1, NC_STORE_OP_PUT, "a", "one", 0);

    /* junk: an error result for that entry, the batch goes on */
    nc_memzero(&e[1], sizeof(nc_raft_entry_t));
    e[1].index = 2;
    e[1].term = 1;
    e[1].type = NC_RAFT_ENTRY_NORMAL;
    e[1].data = junk;
    e[1].len = sizeof(junk);

    /* a no-op from a new leader */
    nc_memzero(&e[2], sizeof(nc_raft_entry_t));
    e[2].index = 3;
    e[2].term = 2;
    e[2].type = NC_RAFT_ENTRY_NOOP;

    /* an op nobody registered */
    e[3] = test_entry(b[1], 128, 4, 40, "x", "y", 0);
    e[3].term = 2;

    assert_int_equal(nc_store_apply(s, e, 4, res), NC_OK);
    assert_int_equal(res[0].status, NC_OK);
    assert_int_equal(res[1].status, NC_ERROR);
    assert_int_equal(res[2].status, NC_OK);
    assert_int_equal(res[3].status, NC_ERROR);

    assert_non_null(test_get(s, "a"));
    assert_null(test_get(s, "x"));

    nc_store_destroy(s);
}


static nc_int_t
test_domain_apply(nc_store_t *s, const nc_raft_entry_t *e,
    nc_store_result_t *res)
{
    nc_store_cmd_t      c;
    nc_store_record_t  *rec;

    assert_int_equal(nc_store_cmd_decode(&c, e->data, e->len), NC_OK);

    /* a domain writes several records for one command */
    rec = nc_store_record_alloc(s, c.key, c.key_len, 77, 1, e->index);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    *nc_store_record_value(rec) = 'D';

    res->revision = e->index;
    return nc_store_insert(s, rec);
}


static void
test_domain_handler(void **state)
{
    u_char              b[128];
    nc_store_t         *s;
    nc_raft_entry_t     e;
    nc_store_result_t   res;

    s = test_store(16 * 1024 * 1024);

    nc_store_apply_register(NC_STORE_OP_DOMAIN + 1, test_domain_apply, 0);

    e = test_entry(b, sizeof(b), 9, NC_STORE_OP_DOMAIN + 1, "dom", "", 0);
    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
    assert_int_equal(res.status, NC_OK);
    assert_int_equal(test_get(s, "dom")->type, 77);

    nc_store_destroy(s);
}


static void
test_full_applies_nothing(void **state)
{
    u_char              *value, *buf;
    size_t               vlen, n, i;
    nc_int_t             rc;
    uint64_t             index;
    nc_store_t          *s;
    nc_store_cmd_t       c;
    nc_raft_entry_t      e[8];
    nc_store_result_t    res[8];
    nc_store_version_t  *v;
    char                 key[8][16];

    s = test_store(16 * 1024 * 1024);

    vlen = 1024 * 1024;
    value = malloc(vlen);
    buf = malloc(8 * (vlen + 64));
    assert_non_null(value);
    assert_non_null(buf);
    memset(value, 'v', vlen);

    /* batches of 8 MiB until the 16 MiB region cannot take one */
    index = 0;

    for (n = 0; n < 10; n++) {
        for (i = 0; i < 8; i++) {
            nc_memzero(&c, sizeof(nc_store_cmd_t));
            (void) snprintf(key[i], sizeof(key[i]), "k%zu", (n * 8 + i) % 24);
            c.op = NC_STORE_OP_PUT;
            c.type = NC_STORE_T_RAW;
            c.key = (u_char *) key[i];
            c.key_len = (uint32_t) strlen(key[i]);
            c.value = value;
            c.value_len = (uint32_t) vlen;

            nc_memzero(&e[i], sizeof(nc_raft_entry_t));
            e[i].index = ++index;
            e[i].term = 1;
            e[i].type = NC_RAFT_ENTRY_NORMAL;
            e[i].data = buf + i * (vlen + 64);
            e[i].len = (uint32_t) nc_store_cmd_encode(buf + i * (vlen + 64),
                                                      vlen + 64, &c);
        }

        rc = nc_store_apply(s, e, 8, res);

        if (rc == NC_STORE_FULL) {
            break;
        }

        assert_int_equal(rc, NC_OK);
    }

    assert_int_equal(rc, NC_STORE_FULL);

    /* the published version is the last batch that fit, untouched */
    v = nc_store_ptr(s, atomic_load(&s->hdr->current));
    assert_int_equal(v->applied_index, n * 8);
    assert_int_equal(v->count, nc_min(n * 8, 24));

    free(value);
    free(buf);
    nc_store_destroy(s);
}


static void
test_admission(void **state)
{
    u_char              put[128], del[128], *value, *buf;
    size_t              n;
    nc_store_t         *s;
    nc_store_cmd_t      c;
    nc_raft_entry_t     e;
    nc_store_result_t   res;
    char                key[32];

    s = test_store(16 * 1024 * 1024);

    e = test_entry(put, sizeof(put), 1, NC_STORE_OP_PUT, "k", "v", 0);
    assert_int_equal(nc_store_admit(s, put, e.len), NC_OK);

    /* fill past the write reserve, 256 KiB at a time */
    value = calloc(1, 256 * 1024);
    buf = malloc(256 * 1024 + 64);
    assert_non_null(value);
    assert_non_null(buf);

    for (n = 1; nc_store_admit(s, put, e.len) == NC_OK; n++) {
        assert_true(n < 64);

        nc_memzero(&c, sizeof(nc_store_cmd_t));
        (void) snprintf(key, sizeof(key), "big/%zu", n);
        c.op = NC_STORE_OP_PUT;
        c.type = NC_STORE_T_RAW;
        c.key = (u_char *) key;
        c.key_len = (uint32_t) strlen(key);
        c.value = value;
        c.value_len = 256 * 1024 - 64;

        nc_memzero(&e, sizeof(nc_raft_entry_t));
        e.index = n;
        e.term = 1;
        e.type = NC_RAFT_ENTRY_NORMAL;
        e.data = buf;
        e.len = (uint32_t) nc_store_cmd_encode(buf, 256 * 1024 + 64, &c);
        assert_true(e.len > 0);

        assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
        assert_int_equal(res.status, NC_OK);
    }

    /* writes are refused; a removal is still admitted, and makes room */
    e = test_entry(put, sizeof(put), n, NC_STORE_OP_PUT, "k", "v", 0);
    assert_int_equal(nc_store_admit(s, put, e.len), NC_STORE_FULL);

    e = test_entry(del, sizeof(del), n, NC_STORE_OP_DELETE, "big/1", NULL, 0);
    assert_int_equal(nc_store_admit(s, del, e.len), NC_OK);
    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);
    assert_int_equal(res.status, NC_OK);

    e = test_entry(del, sizeof(del), n + 1, NC_STORE_OP_DELETE, "big/2", NULL,
                   0);
    assert_int_equal(nc_store_apply(s, &e, 1, &res), NC_OK);

    e = test_entry(put, sizeof(put), n + 2, NC_STORE_OP_PUT, "k", "v", 0);
    assert_int_equal(nc_store_admit(s, put, e.len), NC_OK);

    free(value);
    free(buf);
    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test(test_put_delete_cas),
        cmocka_unit_test(test_malformed_and_other_entries),
        cmocka_unit_test(test_domain_handler),
        cmocka_unit_test(test_full_applies_nothing),
        cmocka_unit_test(test_admission),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
