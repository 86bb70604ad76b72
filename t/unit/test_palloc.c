
/*
 * nacre: pools.  A reset pool (a keep-alive connection's, between two
 * requests) runs the cleanups of what it held, once, and forgets them:
 * their records are in the memory the next request reuses.
 */

#include <nc_config.h>
#include <nc_core.h>

#include <setjmp.h>
#include <cmocka.h>


static void
test_count(void *data)
{
    (*(nc_uint_t *) data)++;
}


static void
test_reset_runs_cleanups(void **state)
{
    u_char             *p;
    nc_uint_t           runs;
    nc_pool_t          *pool;
    nc_pool_cleanup_t  *cln;

    runs = 0;

    pool = nc_create_pool(1024);
    assert_non_null(pool);

    cln = nc_pool_cleanup_add(pool, 0);
    assert_non_null(cln);
    cln->handler = test_count;
    cln->data = &runs;

    nc_reset_pool(pool);
    assert_int_equal(runs, 1);
    assert_null(pool->cleanup);

    /* the next request writes over where the record was */
    p = nc_palloc(pool, 512);
    assert_non_null(p);
    memset(p, 'x', 512);

    nc_destroy_pool(pool);
    assert_int_equal(runs, 1);
}


static void
test_destroy_runs_cleanups(void **state)
{
    nc_uint_t           runs;
    nc_pool_t          *pool;
    nc_pool_cleanup_t  *cln;

    runs = 0;

    pool = nc_create_pool(1024);
    assert_non_null(pool);

    cln = nc_pool_cleanup_add(pool, 0);
    assert_non_null(cln);
    cln->handler = test_count;
    cln->data = &runs;

    nc_destroy_pool(pool);
    assert_int_equal(runs, 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_reset_runs_cleanups),
        cmocka_unit_test(test_destroy_runs_cleanups),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
