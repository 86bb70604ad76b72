
/*
 * nacre: zip archives written and read back, and archives that lie.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_zip.h>

#include <setjmp.h>
#include <cmocka.h>


static nc_pool_t  *pool;


static nc_buf_t *
test_archive(nc_zip_writer_t *w)
{
    u_char   noise[4096];
    size_t   i;
    uint32_t x;

    nc_zip_writer_init(w, pool);

    nc_zip_add(w, (u_char *) "G/empty", 7, (u_char *) "", 0);
    nc_zip_add(w, (u_char *) "G/app.yaml", 10,
               (u_char *) "a: 1\na: 1\na: 1\na: 1\na: 1\na: 1\n", 30);

    /* incompressible: stored */
    for (i = 0, x = 12345; i < sizeof(noise); i++) {
        x = x * 1103515245 + 12345;
        noise[i] = (u_char) (x >> 16);
    }

    nc_zip_add(w, (u_char *) "G/noise.bin", 11, noise, sizeof(noise));

    assert_int_equal(nc_zip_finish(w), NC_OK);

    return &w->out;
}


static void
test_round_trip(void **state)
{
    nc_buf_t         *b;
    nc_array_t       *entries;
    const char       *err;
    nc_zip_entry_t   *e;
    nc_zip_writer_t   w;

    b = test_archive(&w);

    assert_int_equal(nc_zip_read(pool, b->pos, nc_buf_size(b), 10, 1 << 20,
                                 1 << 20, &entries, &err), NC_OK);
    assert_int_equal(entries->nelts, 3);

    e = entries->elts;
    assert_int_equal(e[0].name.len, 7);
    assert_memory_equal(e[0].name.data, "G/empty", 7);
    assert_int_equal(e[0].len, 0);
    assert_int_equal(e[1].len, 30);
    assert_memory_equal(e[1].data, "a: 1\na: 1\n", 10);
    assert_int_equal(e[2].len, 4096);

    /* limits */
    assert_int_equal(nc_zip_read(pool, b->pos, nc_buf_size(b), 2, 1 << 20,
                                 1 << 20, &entries, &err), NC_ERROR);
    assert_string_equal(err, "too many entries");
    assert_int_equal(nc_zip_read(pool, b->pos, nc_buf_size(b), 10, 1000,
                                 1 << 20, &entries, &err), NC_ERROR);
    assert_string_equal(err, "an entry too large");
    assert_int_equal(nc_zip_read(pool, b->pos, nc_buf_size(b), 10, 1 << 20,
                                 4000, &entries, &err), NC_ERROR);
}


static void
test_damage(void **state)
{
    u_char           *copy;
    size_t            len, i;
    nc_buf_t         *b;
    nc_array_t       *entries;
    const char       *err;
    nc_zip_writer_t   w;

    b = test_archive(&w);
    len = nc_buf_size(b);

    copy = malloc(len);
    assert_non_null(copy);

    /* every truncation is refused, none reads out of bounds (ASan) */
    for (i = 0; i < len; i += 7) {
        nc_memcpy(copy, b->pos, i);
        assert_int_equal(nc_zip_read(pool, copy, i, 10, 1 << 20, 1 << 20,
                                     &entries, &err), NC_ERROR);
    }

    /* a byte of stored data changed: the CRC tells */
    nc_memcpy(copy, b->pos, len);
    copy[30 + 11 + 30 + 7 + 30 + 10 + 100] ^= 0xff;
    assert_int_equal(nc_zip_read(pool, copy, len, 10, 1 << 20, 1 << 20,
                                 &entries, &err), NC_ERROR);

    /* any single byte flipped: an error, or (in a name) a valid archive */
    for (i = 0; i < len; i++) {
        nc_memcpy(copy, b->pos, len);
        copy[i] ^= 0x55;
        (void) nc_zip_read(pool, copy, len, 10, 1 << 20, 1 << 20, &entries,
                           &err);
    }

    /* not a zip at all */
    assert_int_equal(nc_zip_read(pool, (u_char *) "hello, world, not a zip",
                                 23, 10, 1 << 20, 1 << 20, &entries, &err),
                     NC_ERROR);
    assert_string_equal(err, "not a zip archive");

    free(copy);
}


int
main(void)
{
    int  rc;

    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage),
    };

    pool = nc_create_pool(1024 * 1024);

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    nc_destroy_pool(pool);

    return rc;
}
