
/*
 * nacre: the store region, its allocator, publication and reclamation.
 * The map has its own tests (test_store_map.c); here objects are raw
 * allocations retired by hand, as the map does it.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>

#include <setjmp.h>
#include <cmocka.h>


#define MB  (1024 * 1024)


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


/* a reader in this process: another slot, as a worker would own it */
static void
test_reader(nc_store_t *s, nc_store_t *r, nc_uint_t slot, int32_t pid)
{
    *r = *s;
    r->writer = NULL;
    r->slot = &s->hdr->slots[slot];
    r->nesting = 0;
    r->entered = NULL;
    atomic_store(&r->slot->pid, pid);
}


static void
test_alloc_classes(void **state)
{
    size_t             sizes[] = { 1, 16, 17, 100, 256, 257, 1000, 4096,
                                   5000, 8192, 8193, 20000, 100000 };
    nc_uint_t          i, j, round;
    nc_shm_off_t       off[nc_nelems(sizes)], again;
    nc_store_t        *s;
    nc_store_stats_t   st;

    s = test_store(64 * MB);

    for (round = 0; round < 2; round++) {

        for (i = 0; i < nc_nelems(sizes); i++) {
            off[i] = nc_store_alloc(s, sizes[i]);
            assert_true(off[i] != 0);
            assert_int_equal(off[i] % NC_STORE_ALIGN, 0);
            assert_true(nc_store_alloc_size(sizes[i]) >= sizes[i]);

            memset(nc_store_ptr(s, off[i]), (int) i + 1, sizes[i]);
        }

        /* no allocation overlaps another */
        for (i = 0; i < nc_nelems(sizes); i++) {
            const u_char  *p = nc_store_ptr(s, off[i]);

            for (j = 0; j < sizes[i]; j++) {
                assert_int_equal(p[j], i + 1);
            }
        }

        nc_store_stats(s, &st);
        assert_true(st.bytes_live >= 100000 + 20000 + 8193);

        for (i = 0; i < nc_nelems(sizes); i++) {
            nc_store_free(s, off[i], sizes[i]);
        }

        nc_store_stats(s, &st);
        assert_int_equal(st.bytes_live, 0);
        assert_int_equal(st.allocs, st.frees);
    }

    /* a freed small object is the next one of its class */
    off[0] = nc_store_alloc(s, 48);
    nc_store_free(s, off[0], 48);
    again = nc_store_alloc(s, 40);
    assert_true(again == off[0]);
    nc_store_free(s, again, 40);

    nc_store_destroy(s);
}


static void
test_alloc_coalesce(void **state)
{
    size_t             run;
    nc_shm_off_t       a, b, c, guard, big, top;
    nc_store_t        *s;
    nc_store_stats_t   st;

    s = test_store(64 * MB);
    run = 3 * NC_STORE_PAGE_SIZE;

    a = nc_store_alloc(s, run);
    b = nc_store_alloc(s, run);
    c = nc_store_alloc(s, run);
    guard = nc_store_alloc(s, run);

    assert_true(b == a + run && c == b + run && guard == c + run);

    nc_store_free(s, a, run);
    nc_store_free(s, c, run);

    /* neither hole fits 9 pages: it comes from the top */
    nc_store_stats(s, &st);
    top = st.bytes_used;
    big = nc_store_alloc(s, 3 * run);
    assert_true(big == top);
    nc_store_free(s, big, 3 * run);

    /* freeing the top lowers it again */
    nc_store_stats(s, &st);
    assert_true(st.bytes_used == top);

    /* b joins both neighbours: one run of 9 pages where a was */
    nc_store_free(s, b, run);
    big = nc_store_alloc(s, 3 * run);
    assert_true(big == a);

    /* a smaller request splits a free run */
    nc_store_free(s, big, 3 * run);
    big = nc_store_alloc(s, 5 * NC_STORE_PAGE_SIZE);
    assert_true(big == a);
    nc_store_free(s, big, 5 * NC_STORE_PAGE_SIZE);

    nc_store_free(s, guard, run);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_live, 0);

    nc_store_destroy(s);
}


static void
test_region_full(void **state)
{
    size_t             n, i, size;
    nc_shm_off_t      *offs, off;
    nc_store_t        *s;
    nc_store_stats_t   st;

    s = test_store(2 * MB);

    offs = malloc(100000 * sizeof(nc_shm_off_t));
    assert_non_null(offs);

    for (n = 0; n < 100000; n++) {
        size = (n % 7 == 0) ? 10000 : 64;
        off = nc_store_alloc(s, size);

        if (off == 0) {
            break;
        }

        offs[n] = off;
    }

    assert_true(n > 100 && n < 100000);

    nc_store_stats(s, &st);
    assert_true(st.failures >= 1);
    assert_true(st.bytes_used <= st.bytes_size);

    for (i = 0; i < n; i++) {
        nc_store_free(s, offs[i], (i % 7 == 0) ? 10000 : 64);
    }

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_live, 0);

    /* the room is back */
    off = nc_store_alloc(s, 10000);
    assert_true(off != 0);
    nc_store_free(s, off, 10000);

    free(offs);
    nc_store_destroy(s);
}


static void
test_publish_and_reclaim(void **state)
{
    uint64_t                   stamp;
    nc_shm_off_t               obj;
    nc_store_t                *s, r;
    nc_store_stats_t           st;
    const nc_store_version_t  *v, *v2;

    s = test_store(16 * MB);
    test_reader(s, &r, 3, 99999);

    /* nothing is published yet */
    assert_null(nc_store_enter(&r));
    nc_store_leave(&r);

    /* version 1 holds an object made in its batch */
    assert_int_equal(nc_store_begin(s), NC_OK);
    stamp = nc_store_stamp(s);
    obj = nc_store_alloc(s, 200);
    assert_int_equal(nc_store_commit(s, 10, 2), NC_OK);

    v = nc_store_enter(&r);
    assert_non_null(v);
    assert_int_equal(v->applied_index, 10);
    assert_int_equal(v->applied_term, 2);
    assert_int_equal(v->generation, 1);

    /* nested enter: the same version */
    assert_ptr_equal(nc_store_enter(&r), v);
    nc_store_leave(&r);

    /* version 2 drops it while the reader still holds version 1 */
    assert_int_equal(nc_store_begin(s), NC_OK);
    nc_store_release(s, obj, 200, stamp);
    assert_int_equal(nc_store_commit(s, 11, 2), NC_OK);

    nc_store_stats(s, &st);
    assert_true(st.bytes_retired >= 200);

    /* more batches: still held */
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(nc_store_commit(s, 12, 2), NC_OK);
    (void) nc_store_reclaim(s);

    nc_store_stats(s, &st);
    assert_true(st.bytes_retired >= 200);
    assert_int_equal(v->applied_index, 10);

    /* a new reader sees the latest version */
    nc_store_leave(&r);
    v2 = nc_store_enter(&r);
    assert_int_equal(v2->applied_index, 12);
    assert_int_equal(v2->generation, 3);

    /* entered after the retirement: it does not hold it back */
    assert_true(nc_store_reclaim(s) >= 200);

    nc_store_leave(&r);
    (void) nc_store_reclaim(s);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);

    nc_store_destroy(s);
}


static void
test_private_objects(void **state)
{
    nc_shm_off_t       obj;
    nc_store_t        *s;
    nc_store_stats_t   st;

    s = test_store(16 * MB);

    /* made and dropped inside one batch: freed at once */
    assert_int_equal(nc_store_begin(s), NC_OK);
    obj = nc_store_alloc(s, 300);
    nc_store_release(s, obj, 300, nc_store_stamp(s));

    /* only the header of the version the batch will publish is live */
    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);
    assert_int_equal(st.bytes_live,
                     nc_store_alloc_size(sizeof(nc_store_version_t)));

    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    /* an abort drops what the batch retired: it stays reachable */
    assert_int_equal(nc_store_begin(s), NC_OK);
    obj = nc_store_alloc(s, 300);
    assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);

    assert_int_equal(nc_store_begin(s), NC_OK);
    nc_store_release(s, obj, 300, nc_store_stamp(s) - 1);
    nc_store_stats(s, &st);
    assert_true(st.bytes_retired >= 300);
    nc_store_abort(s);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);

    /* the version did not move */
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(nc_store_commit(s, 3, 1), NC_OK);
    nc_store_free(s, obj, 300);

    nc_store_destroy(s);
}


static void
test_dead_reader(void **state)
{
    nc_shm_off_t       obj;
    uint64_t           stamp;
    nc_store_t        *s, r;
    nc_store_stats_t   st;

    s = test_store(16 * MB);
    test_reader(s, &r, 7, 424242);

    assert_int_equal(nc_store_begin(s), NC_OK);
    stamp = nc_store_stamp(s);
    obj = nc_store_alloc(s, 1000);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    /* the reader enters and dies without leaving */
    assert_non_null(nc_store_enter(&r));

    assert_int_equal(nc_store_begin(s), NC_OK);
    nc_store_release(s, obj, 1000, stamp);
    assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);

    nc_store_stats(s, &st);
    assert_true(st.bytes_retired >= 1000);

    /* the master reaps it and clears its slot */
    nc_store_release_pid(s, 424242);
    assert_int_equal(atomic_load(&s->hdr->slots[7].pid), 0);
    assert_int_equal(atomic_load(&s->hdr->slots[7].epoch), 0);

    assert_true(nc_store_reclaim(s) >= 1000);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);

    nc_store_destroy(s);
}


static void
test_writer_pin(void **state)
{
    uint64_t                   stamp;
    nc_shm_off_t               obj;
    nc_store_t                *s;
    nc_store_stats_t           st;
    const nc_store_version_t  *v;

    s = test_store(16 * MB);

    assert_null(nc_store_pin(s));
    nc_store_unpin(s);

    assert_int_equal(nc_store_begin(s), NC_OK);
    stamp = nc_store_stamp(s);
    obj = nc_store_alloc(s, 2000);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    /* a snapshot thread would hold v while the writer goes on */
    v = nc_store_pin(s);
    assert_non_null(v);
    assert_int_equal(v->applied_index, 1);

    assert_int_equal(nc_store_begin(s), NC_OK);
    nc_store_release(s, obj, 2000, stamp);
    assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(nc_store_commit(s, 3, 1), NC_OK);

    nc_store_stats(s, &st);
    assert_true(st.bytes_retired >= 2000);
    assert_int_equal(v->applied_index, 1);

    nc_store_unpin(s);
    assert_true(nc_store_reclaim(s) >= 2000);

    nc_store_destroy(s);
}


static void
test_writer_restart(void **state)
{
    nc_store_t        *s, other;
    nc_store_stats_t   st;

    s = test_store(16 * MB);

    assert_int_equal(nc_store_begin(s), NC_OK);
    (void) nc_store_alloc(s, 5000);
    assert_int_equal(nc_store_commit(s, 5, 1), NC_OK);

    /* a second writer is refused while the first one lives */
    other = *s;
    other.writer = NULL;
    assert_int_equal(nc_store_writer_init(&other), NC_ERROR);

    /* the writer dies, its private state with it */
    nc_store_writer_free(s);

    /* the next one withdraws the version and starts on an empty region */
    assert_int_equal(nc_store_writer_init(s), NC_OK);
    assert_int_equal(atomic_load(&s->hdr->current), 0);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_live, 0);
    assert_int_equal(st.bytes_free, 0);

    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(nc_store_commit(s, 6, 1), NC_OK);

    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_alloc_classes),
        cmocka_unit_test(test_alloc_coalesce),
        cmocka_unit_test(test_region_full),
        cmocka_unit_test(test_publish_and_reclaim),
        cmocka_unit_test(test_private_objects),
        cmocka_unit_test(test_dead_reader),
        cmocka_unit_test(test_writer_pin),
        cmocka_unit_test(test_writer_restart),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
