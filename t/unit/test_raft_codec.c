/*
 * nacre: the Raft binary encoding: round trips, and hostile or truncated
 * frames rejected.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "nc_raft.h"


static nc_raft_entry_t  dec[16];


static size_t
sample_app(unsigned char *buf, size_t size)
{
    nc_raft_msg_t    m;
    nc_raft_entry_t  e[3];
    int              i;

    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_APP;
    m.from = 1;
    m.to = 2;
    m.term = 7;
    m.index = 10;
    m.log_term = 6;
    m.commit = 9;

    for (i = 0; i < 3; i++) {
        memset(&e[i], 0, sizeof(e[i]));
        e[i].index = 11 + (uint64_t) i;
        e[i].term = 7;
        e[i].type = NC_RAFT_ENTRY_NORMAL;
        e[i].client_id = 42;
        e[i].seq = (uint64_t) i + 1;
        e[i].data = (const unsigned char *) "payload";
        e[i].len = 7;
    }

    m.n_entries = 3;
    m.entries = e;

    return nc_raft_msg_encode(&m, buf, size);
}


static void
test_app_round_trip(void **state)
{
    size_t          n;
    unsigned char   buf[1024];
    nc_raft_msg_t   m;

    (void) state;

    n = sample_app(buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(buf[0], NC_RAFT_CODEC_VERSION);

    assert_int_equal(nc_raft_msg_decode(buf, n, &m, dec, 16), NC_RAFT_OK);
    assert_int_equal(m.type, NC_RAFT_MSG_APP);
    assert_int_equal(m.term, 7);
    assert_int_equal(m.index, 10);
    assert_int_equal(m.commit, 9);
    assert_int_equal(m.n_entries, 3);
    assert_int_equal(m.entries[2].index, 13);
    assert_int_equal(m.entries[2].seq, 3);
    assert_int_equal(m.entries[1].client_id, 42);
    assert_memory_equal(m.entries[0].data, "payload", 7);

    /* little-endian on the wire */
    assert_int_equal(buf[4], 1);
    assert_int_equal(buf[5], 0);

    /* too small a buffer: nothing written */
    assert_int_equal(sample_app(buf, n - 1), 0);
}


static void
test_every_truncation_rejected(void **state)
{
    size_t          n, k;
    unsigned char   buf[1024];
    nc_raft_msg_t   m;

    (void) state;

    n = sample_app(buf, sizeof(buf));

    for (k = 0; k < n; k++) {
        assert_int_equal(nc_raft_msg_decode(buf, k, &m, dec, 16),
                         NC_RAFT_ERROR);
    }

    /* trailing garbage */
    buf[n] = 0;
    assert_int_equal(nc_raft_msg_decode(buf, n + 1, &m, dec, 16),
                     NC_RAFT_ERROR);
}


static void
test_hostile_fields_rejected(void **state)
{
    size_t          n;
    unsigned char   buf[1024], b[1024];
    nc_raft_msg_t   m;

    (void) state;

    n = sample_app(buf, sizeof(buf));

    memcpy(b, buf, n);
    b[0] = 2;                                      /* unknown version */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[1] = 99;                                     /* unknown type */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[3] = 1;                                      /* reserved byte */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[76] = 0xff;                                  /* entry count huge */
    b[77] = 0xff;
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    /* more entries than the caller has room for */
    assert_int_equal(nc_raft_msg_decode(buf, n, &m, dec, 2), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[80 + 8] = 99;                                /* index gap */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[80] = 8;                                     /* term above message */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    b[80 + 33] = 0xff;                             /* length past end */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);

    memcpy(b, buf, n);
    memset(b + 4, 0, 8);                           /* from 0 */
    assert_int_equal(nc_raft_msg_decode(b, n, &m, dec, 16), NC_RAFT_ERROR);
}


static void
test_snapshot_chunk_round_trip_and_bounds(void **state)
{
    size_t          n;
    unsigned char   buf[1024];
    nc_raft_msg_t   m, d;

    (void) state;

    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_SNAP;
    m.from = 3;
    m.to = 1;
    m.term = 4;
    m.flags = NC_RAFT_FLAG_DONE;
    m.snap.index = 100;
    m.snap.term = 3;
    m.snap.conf.n_voters = 2;
    m.snap.conf.voters[0] = 1;
    m.snap.conf.voters[1] = 3;
    m.snap.conf.n_learners = 1;
    m.snap.conf.learners[0] = 9;
    m.snap.data = (const unsigned char *) "chunk";
    m.snap.len = 5;
    m.snap_offset = 20;
    m.snap_total = 25;

    n = nc_raft_msg_encode(&m, buf, sizeof(buf));
    assert_int_equal(n, nc_raft_msg_size(&m));
    assert_int_equal(nc_raft_msg_decode(buf, n, &d, dec, 16), NC_RAFT_OK);
    assert_int_equal(d.snap.index, 100);
    assert_int_equal(d.snap.conf.learners[0], 9);
    assert_int_equal(d.snap_offset, 20);
    assert_memory_equal(d.snap.data, "chunk", 5);
    assert_true(d.flags & NC_RAFT_FLAG_DONE);

    /* a chunk past the announced total */
    m.snap_total = 24;
    n = nc_raft_msg_encode(&m, buf, sizeof(buf));
    assert_int_equal(nc_raft_msg_decode(buf, n, &d, dec, 16), NC_RAFT_ERROR);

    /* the same node twice in a configuration */
    m.snap_total = 25;
    m.snap.conf.learners[0] = 3;
    n = nc_raft_msg_encode(&m, buf, sizeof(buf));
    assert_int_equal(nc_raft_msg_decode(buf, n, &d, dec, 16), NC_RAFT_ERROR);
}


static void
test_entry_and_conf_change_codecs(void **state)
{
    int              op;
    size_t           n, used;
    uint64_t         node;
    unsigned char    buf[256];
    nc_raft_conf_t   c, d;
    nc_raft_entry_t  e, f;

    (void) state;

    memset(&e, 0, sizeof(e));
    e.index = 5;
    e.term = 2;
    e.type = NC_RAFT_ENTRY_CONF;
    e.data = (const unsigned char *) "xy";
    e.len = 2;

    n = nc_raft_entry_encode(&e, buf, sizeof(buf));
    assert_int_equal(nc_raft_entry_decode(buf, n, &f, &used), NC_RAFT_OK);
    assert_int_equal(used, n);
    assert_int_equal(f.index, 5);
    assert_int_equal(f.type, NC_RAFT_ENTRY_CONF);
    assert_int_equal(nc_raft_entry_decode(buf, n - 1, &f, &used),
                     NC_RAFT_ERROR);

    memset(&c, 0, sizeof(c));
    c.n_voters = 3;
    c.voters[0] = 1;
    c.voters[1] = 2;
    c.voters[2] = 3;
    n = nc_raft_conf_change_encode(buf, sizeof(buf), NC_RAFT_CONF_REMOVE, 4,
                                   &c);
    assert_int_equal(nc_raft_conf_change_decode(buf, n, &op, &node, &d),
                     NC_RAFT_OK);
    assert_int_equal(op, NC_RAFT_CONF_REMOVE);
    assert_int_equal(node, 4);
    assert_int_equal(d.n_voters, 3);

    buf[0] = 9;                                   /* unknown operation */
    assert_int_equal(nc_raft_conf_change_decode(buf, n, &op, &node, &d),
                     NC_RAFT_ERROR);
    buf[0] = NC_RAFT_CONF_REMOVE;
    buf[9] = NC_RAFT_MAX_MEMBERS + 1;              /* too many voters */
    assert_int_equal(nc_raft_conf_change_decode(buf, n, &op, &node, &d),
                     NC_RAFT_ERROR);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_app_round_trip),
        cmocka_unit_test(test_every_truncation_rejected),
        cmocka_unit_test(test_hostile_fields_rejected),
        cmocka_unit_test(test_snapshot_chunk_round_trip_and_bounds),
        cmocka_unit_test(test_entry_and_conf_change_codecs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
