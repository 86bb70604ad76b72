
/*
 * nacre: snapshot files of the store (src/store/nc_store_snapshot.c):
 * round trips, corrupt, truncated and hand-made hostile files refused with
 * the target left empty, a snapshot of a held version while the writer
 * goes on, and failed writes that leave no temporary file behind.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>

#include <ftw.h>
#include <zlib.h>
#include <setjmp.h>
#include <cmocka.h>


#define MB          (1024 * 1024)
#define TEST_SIZE   (512 * (size_t) MB)      /* reserved, not touched */


static nc_log_t  test_log = { NC_LOG_WARN, -1, NULL };
static char      test_dir[PATH_MAX];
static char      test_log_path[PATH_MAX];


/* --- data ------------------------------------------------------------- */


static uint64_t
test_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;

    return x;
}


/* key i; unique because it ends with i in 4 big-endian bytes */
static size_t
test_key(u_char *key, uint64_t i)
{
    size_t    len, n;
    uint64_t  x;

    x = test_mix(i + 0x1234);

    switch (i % 4) {

    case 0:
        len = (size_t) snprintf((char *) key, 64,
                                "cfg/public/DEFAULT_GROUP/item-%07u",
                                (unsigned) (x % 10000000));
        break;

    case 1:
        len = x % 61;
        break;

    case 2:
        len = x % 4;                     /* short: crowded near the root */
        break;

    default:
        len = (i % 1000 == 3) ? NC_STORE_MAX_KEY_LEN - 4 : x % 201;
        break;
    }

    if (i % 4 != 0) {
        for (n = 0; n < len; n++) {
            key[n] = (u_char) test_mix(x + n);
        }
    }

    key[len++] = (u_char) (i >> 24);
    key[len++] = (u_char) (i >> 16);
    key[len++] = (u_char) (i >> 8);
    key[len++] = (u_char) i;

    return len;
}


static size_t
test_value_len(uint64_t i, uint64_t gen)
{
    uint64_t  x;

    x = test_mix(i * 31 + gen);

    if (i % 20000 == 7) {
        return 2 * MB + x % (2 * MB);    /* a few MiB: straight to zlib */
    }

    return (i % 97 == 5) ? 0 : x % 300;
}


static void
test_value(u_char *p, size_t len, uint64_t i, uint64_t gen)
{
    size_t    n;
    uint64_t  x, r;

    x = test_mix(i ^ (gen << 40));

    for (n = 0; n + 8 <= len; n += 8) {
        r = test_mix(x + n);
        nc_memcpy(p + n, &r, 8);
    }

    r = test_mix(x + n);
    nc_memcpy(p + n, &r, len - n);
}


/* insert key i as of generation gen; the caller holds a batch */
static void
test_put(nc_store_t *s, uint64_t i, uint64_t gen)
{
    size_t              klen, vlen;
    uint64_t            x;
    nc_store_record_t  *rec;
    u_char              key[NC_STORE_MAX_KEY_LEN];

    klen = test_key(key, i);
    vlen = test_value_len(i, gen);
    x = test_mix(i + gen * 7);

    rec = nc_store_record_alloc(s, key, klen, 1 + (uint32_t) (x % 5), vlen,
                                1000 + i + gen);
    assert_non_null(rec);

    rec->flags = (uint32_t) (x >> 32);
    test_value(nc_store_record_value(rec), vlen, i, gen);

    assert_int_equal(nc_store_insert(s, rec), NC_OK);
}


/* keys [0, n) in batches of `batch`, committed as (index, term) */
static void
test_fill(nc_store_t *s, uint64_t n, uint64_t batch, uint64_t index,
    uint64_t term)
{
    uint64_t  i;

    for (i = 0; i < n; i++) {
        if (i % batch == 0) {
            assert_int_equal(nc_store_begin(s), NC_OK);
        }

        test_put(s, i, 0);

        if (i % batch == batch - 1 || i == n - 1) {
            assert_int_equal(nc_store_commit(s, index, term), NC_OK);
        }
    }
}


/* key i holds generation gen in version v */
static void
test_check_key(nc_store_t *s, const nc_store_version_t *v, uint64_t i,
    uint64_t gen, u_char *buf)
{
    size_t                    klen, vlen;
    uint64_t                  x;
    const nc_store_record_t  *rec;
    u_char                    key[NC_STORE_MAX_KEY_LEN];

    klen = test_key(key, i);
    vlen = test_value_len(i, gen);
    x = test_mix(i + gen * 7);

    rec = nc_store_get(s, v, key, klen);
    assert_non_null(rec);

    assert_int_equal(rec->type, 1 + x % 5);
    assert_int_equal(rec->flags, (uint32_t) (x >> 32));
    assert_int_equal(rec->revision, 1000 + i + gen);
    assert_int_equal(rec->value_len, vlen);

    test_value(buf, vlen, i, gen);
    assert_memory_equal(nc_store_record_value(rec), buf, vlen);
}


/* two versions hold the same records, field by field, in the same order */
static void
test_same_map(nc_store_t *a, const nc_store_version_t *va, nc_store_t *b,
    const nc_store_version_t *vb)
{
    uint64_t                  n;
    nc_store_iter_t          *ia, *ib;
    const nc_store_record_t  *ra, *rb;

    ia = malloc(sizeof(nc_store_iter_t));
    ib = malloc(sizeof(nc_store_iter_t));
    assert_non_null(ia);
    assert_non_null(ib);

    assert_int_equal(va->count, vb->count);

    nc_store_iter_init(ia, a, va->root, NULL, 0, NULL, 0);
    nc_store_iter_init(ib, b, vb->root, NULL, 0, NULL, 0);

    for (n = 0; ; n++) {
        ra = nc_store_iter_next(ia);
        rb = nc_store_iter_next(ib);

        if (ra == NULL || rb == NULL) {
            assert_null(ra);
            assert_null(rb);
            break;
        }

        assert_int_equal(ra->type, rb->type);
        assert_int_equal(ra->flags, rb->flags);
        assert_int_equal(ra->revision, rb->revision);
        assert_int_equal(ra->key_len, rb->key_len);
        assert_int_equal(ra->value_len, rb->value_len);
        assert_memory_equal(nc_store_record_key(ra), nc_store_record_key(rb),
                            ra->key_len);
        assert_memory_equal(nc_store_record_value(ra),
                            nc_store_record_value(rb), ra->value_len);
    }

    assert_int_equal(n, va->count);

    free(ia);
    free(ib);
}


/* --- fixtures ----------------------------------------------------------- */


static nc_store_t *
test_store(void)
{
    nc_store_t  *s;

    s = nc_store_create(TEST_SIZE, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    return s;
}


static void
test_path(char *buf, const char *name)
{
    assert_true(snprintf(buf, PATH_MAX, "%s/%s", test_dir, name)
                < PATH_MAX);
}


static nc_flag_t
test_exists(const char *path)
{
    struct stat  st;

    return stat(path, &st) == 0;
}


static off_t
test_file_size(const char *path)
{
    struct stat  st;

    assert_int_equal(stat(path, &st), 0);

    return st.st_size;
}


static u_char *
test_read_file(const char *path, size_t *len)
{
    FILE    *f;
    u_char  *p;

    *len = (size_t) test_file_size(path);

    p = malloc(*len + 1);
    assert_non_null(p);

    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(p, 1, *len, f), *len);
    fclose(f);

    return p;
}


static void
test_write_file(const char *path, const u_char *p, size_t len)
{
    FILE  *f;

    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}


/* the error log holds `needle`; the log is emptied for the next check */
static void
test_log_has(const char *needle)
{
    size_t   len;
    u_char  *p;

    p = test_read_file(test_log_path, &len);
    p[len] = '\0';

    if (strstr((char *) p, needle) == NULL) {
        fail_msg("the log lacks \"%s\":\n%s", needle, (char *) p);
    }

    free(p);
    assert_int_equal(ftruncate(test_log.fd, 0), 0);
}


/* refused: nothing published, nothing left allocated, a batch opens */
static void
test_still_empty(nc_store_t *s)
{
    nc_store_stats_t           st;
    const nc_store_version_t  *v;

    v = nc_store_enter(s);
    assert_true(v == NULL || v->count == 0);
    nc_store_leave(s);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_live, 0);

    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(*nc_store_batch_count(s), 0);
    nc_store_abort(s);
}


static int
test_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) chmod(path, 0700);
    return remove(path);
}


static int
test_setup(void **state)
{
    const char  *tmp;

    /* the error log stamps lines with the cached time */
    nc_time_init();

    tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0') {
        tmp = "/tmp";
    }

    if (snprintf(test_dir, sizeof(test_dir), "%s/nc_test_snap.XXXXXX", tmp)
        >= (int) sizeof(test_dir)
        || mkdtemp(test_dir) == NULL)
    {
        return -1;
    }

    test_path(test_log_path, "error.log");

    if (nc_log_open(&test_log, test_log_path, NC_LOG_WARN) != NC_OK) {
        return -1;
    }

    return 0;
}


static int
test_teardown(void **state)
{
    nc_log_close(&test_log);

    return nftw(test_dir, test_rm, 16, FTW_DEPTH | FTW_PHYS);
}


/* --- round trips -------------------------------------------------------- */


static void
test_round_trip(void **state)
{
    size_t                     meta_len, i;
    nc_store_t                *src, *dst;
    nc_store_snapshot_info_t   wi, li;
    const nc_store_version_t  *v, *lv;
    u_char                     meta[3000];
    char                       path[PATH_MAX], tmp[PATH_MAX];

    src = test_store();
    dst = test_store();

    /* 100,000 keys in ten batches, so the map is not one batch's shape */
    test_fill(src, 100000, 10000, 777, 9);

    meta_len = sizeof(meta);
    for (i = 0; i < meta_len; i++) {
        meta[i] = (u_char) test_mix(i);
    }

    test_path(path, "round.snap");
    test_path(tmp, "round.snap.tmp");

    v = nc_store_enter(src);
    assert_non_null(v);
    assert_int_equal(v->count, 100000);

    assert_int_equal(nc_store_snapshot_write(src, v, path, meta, meta_len,
                                             &wi), NC_OK);
    assert_false(test_exists(tmp));

    assert_int_equal(wi.applied_index, 777);
    assert_int_equal(wi.applied_term, 9);
    assert_int_equal(wi.count, 100000);
    assert_int_equal(wi.file_bytes, (uint64_t) test_file_size(path));
    assert_true(wi.raw_bytes > 10 * MB);
    assert_int_equal(wi.meta_len, meta_len);

    /* the file is not world-readable: it holds secrets */
    {
        struct stat  st;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 077, 0);
    }

    assert_int_equal(nc_store_snapshot_load(dst, path, &li), NC_OK);

    assert_int_equal(li.applied_index, 777);
    assert_int_equal(li.applied_term, 9);
    assert_int_equal(li.count, 100000);
    assert_int_equal(li.raw_bytes, wi.raw_bytes);
    assert_int_equal(li.file_bytes, wi.file_bytes);
    assert_int_equal(li.meta_len, meta_len);
    assert_non_null(li.meta);
    assert_memory_equal(li.meta, meta, meta_len);
    free(li.meta);

    lv = nc_store_enter(dst);
    assert_non_null(lv);
    assert_int_equal(lv->applied_index, 777);
    assert_int_equal(lv->applied_term, 9);

    test_same_map(src, v, dst, lv);

    nc_store_leave(dst);
    nc_store_leave(src);

    /* the loaded store is an ordinary one: it takes the next batch */
    assert_int_equal(nc_store_begin(dst), NC_OK);
    test_put(dst, 100000, 0);
    assert_int_equal(nc_store_commit(dst, 778, 9), NC_OK);

    /* a second load into a store that is not empty is refused */
    assert_int_equal(nc_store_snapshot_load(dst, path, &li), NC_ERROR);
    test_log_has("the store is not empty");
    assert_null(li.meta);

    lv = nc_store_enter(dst);
    assert_int_equal(lv->count, 100001);
    assert_int_equal(lv->applied_index, 778);
    nc_store_leave(dst);

    nc_store_destroy(src);
    nc_store_destroy(dst);
}


static void
test_round_trip_empty(void **state)
{
    nc_store_t                *src, *dst;
    nc_store_snapshot_info_t   li;
    const nc_store_version_t  *v;
    char                       path[PATH_MAX];

    src = test_store();
    dst = test_store();

    /* a published version with no keys, and no meta */
    assert_int_equal(nc_store_begin(src), NC_OK);
    assert_int_equal(nc_store_commit(src, 1, 1), NC_OK);

    test_path(path, "empty.snap");

    v = nc_store_enter(src);
    assert_int_equal(nc_store_snapshot_write(src, v, path, NULL, 0, NULL),
                     NC_OK);
    nc_store_leave(src);

    assert_int_equal(nc_store_snapshot_load(dst, path, &li), NC_OK);
    assert_int_equal(li.count, 0);
    assert_int_equal(li.meta_len, 0);
    assert_null(li.meta);
    assert_int_equal(li.applied_index, 1);

    v = nc_store_enter(dst);
    assert_non_null(v);
    assert_int_equal(v->count, 0);
    assert_int_equal(v->applied_index, 1);
    nc_store_leave(dst);

    nc_store_destroy(src);
    nc_store_destroy(dst);
}


/* keys at the edges: empty, NUL bytes, 0xff, the longest; empty values */
static void
test_round_trip_edges(void **state)
{
    size_t                     i;
    nc_store_t                *src, *dst;
    nc_store_record_t         *rec;
    const nc_store_record_t   *got;
    const nc_store_version_t  *v;
    char                       path[PATH_MAX];
    static u_char              longest[NC_STORE_MAX_KEY_LEN];

    static const struct {
        size_t       key_len;            /* 0 with a NULL key: `longest` */
        const char  *key;
        const char  *value;
    } keys[] = {
        { 0, "", "the empty key" },
        { 1, "\0", "" },
        { 2, "\0\0", "two NULs" },
        { 1, "\xff", "ff" },
        { 2, "\xff\xff", "" },
        { 3, "a\0b", "inner NUL" },
        { 1, "a", "a prefix of the longest" },
        { NC_STORE_MAX_KEY_LEN, NULL, "longest" },
    };

    nc_memset(longest, 'a', sizeof(longest));

    src = test_store();
    dst = test_store();

    assert_int_equal(nc_store_begin(src), NC_OK);

    for (i = 0; i < nc_nelems(keys); i++) {
        rec = nc_store_record_alloc(src, keys[i].key ? (u_char *) keys[i].key
                                                     : longest,
                                    keys[i].key_len, NC_STORE_T_RAW,
                                    strlen(keys[i].value), i);
        assert_non_null(rec);
        nc_memcpy(nc_store_record_value(rec), keys[i].value,
                  strlen(keys[i].value));
        assert_int_equal(nc_store_insert(src, rec), NC_OK);
    }

    assert_int_equal(nc_store_commit(src, 3, 1), NC_OK);

    test_path(path, "edges.snap");

    v = nc_store_enter(src);
    assert_int_equal(nc_store_snapshot_write(src, v, path, NULL, 0, NULL),
                     NC_OK);
    nc_store_leave(src);

    assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_OK);

    v = nc_store_enter(dst);
    assert_int_equal(v->count, nc_nelems(keys));

    for (i = 0; i < nc_nelems(keys); i++) {
        got = nc_store_get(dst, v, keys[i].key ? (u_char *) keys[i].key
                                               : longest,
                           keys[i].key_len);
        assert_non_null(got);
        assert_int_equal(got->revision, i);
        assert_int_equal(got->value_len, strlen(keys[i].value));
        assert_memory_equal(nc_store_record_value(got), keys[i].value,
                            got->value_len);
    }

    nc_store_leave(dst);

    nc_store_destroy(src);
    nc_store_destroy(dst);
}


/*
 * The writer goes on publishing while version v is written by a process
 * that holds it: a forked child attached as a reader, the region
 * read-only to it, as a snapshot helper would run.
 */
static void
test_held_version(void **state)
{
    int                        status, p2c[2], c2p[2];
    char                       c;
    pid_t                      pid;
    u_char                    *buf;
    uint64_t                   i, n;
    nc_store_t                *src, *dst;
    nc_store_snapshot_info_t   li;
    const nc_store_version_t  *v;
    char                       path[PATH_MAX];

    n = 20000;

    src = test_store();
    dst = test_store();

    test_fill(src, n, 5000, 100, 3);

    test_path(path, "held.snap");

    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        /* no cmocka here: the exit code is the verdict */
        if (nc_store_reader_attach(src) != NC_OK) {
            _exit(2);
        }

        v = nc_store_enter(src);

        if (v == NULL || v->applied_index != 100
            || write(c2p[1], "e", 1) != 1 || read(p2c[0], &c, 1) != 1)
        {
            _exit(3);
        }

        if (nc_store_snapshot_write(src, v, path, (u_char *) "m", 1, NULL)
            != NC_OK)
        {
            _exit(4);
        }

        nc_store_leave(src);
        _exit(0);
    }

    assert_int_equal(read(c2p[0], &c, 1), 1);

    /* every key rewritten, some deleted, more added: v must not see it */
    for (i = 0; i < n + 1000; i++) {
        if (i % 2500 == 0) {
            assert_int_equal(nc_store_begin(src), NC_OK);
        }

        if (i < n && i % 5 == 0) {
            u_char  key[NC_STORE_MAX_KEY_LEN];

            assert_int_equal(nc_store_delete(src, key, test_key(key, i)),
                             NC_OK);

        } else {
            test_put(src, i, 1);
        }

        if (i % 2500 == 2499 || i == n + 999) {
            assert_int_equal(nc_store_commit(src, 101 + i, 4), NC_OK);
        }
    }

    assert_int_equal(write(p2c[1], "w", 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* the master reaps the helper; its epoch no longer holds memory */
    nc_store_release_pid(src, pid);
    (void) nc_store_reclaim(src);

    close(p2c[0]);
    close(p2c[1]);
    close(c2p[0]);
    close(c2p[1]);

    assert_int_equal(nc_store_snapshot_load(dst, path, &li), NC_OK);
    assert_int_equal(li.applied_index, 100);
    assert_int_equal(li.applied_term, 3);
    assert_int_equal(li.count, n);
    assert_int_equal(li.meta_len, 1);
    assert_memory_equal(li.meta, "m", 1);
    free(li.meta);

    buf = malloc(4 * MB);
    assert_non_null(buf);

    v = nc_store_enter(dst);
    assert_int_equal(v->count, n);

    for (i = 0; i < n; i++) {
        test_check_key(dst, v, i, 0, buf);
    }

    nc_store_leave(dst);

    /* and the writer did move on */
    v = nc_store_enter(src);
    assert_int_equal(v->count, n - n / 5 + 1000);
    test_check_key(src, v, 1, 1, buf);
    nc_store_leave(src);

    free(buf);
    nc_store_destroy(src);
    nc_store_destroy(dst);
}


/* --- damaged files ------------------------------------------------------ */


/* a small store with one value of a few MiB: 3000 keys, key 7 is large */
static void
test_small_snapshot(const char *path)
{
    nc_store_t                *s;
    const nc_store_version_t  *v;

    s = test_store();
    test_fill(s, 3000, 3000, 50, 2);

    v = nc_store_enter(s);
    assert_int_equal(nc_store_snapshot_write(s, v, path,
                                             (u_char *) "membership", 10,
                                             NULL), NC_OK);
    nc_store_leave(s);

    nc_store_destroy(s);
}


static void
test_corrupt_byte(void **state)
{
    size_t       len, pos, i, n;
    u_char      *good;
    nc_store_t  *dst;
    size_t       where[200];
    char         path[PATH_MAX], bad[PATH_MAX];

    test_path(path, "small.snap");
    test_path(bad, "bad.snap");

    test_small_snapshot(path);
    good = test_read_file(path, &len);

    n = 0;

    /* every header byte, the meta, every trailer byte ... */
    for (i = 0; i < 64 + 10; i++) {
        where[n++] = i;
    }

    for (i = len - 32; i < len; i++) {
        where[n++] = i;
    }

    /* ... and the compressed records, start, middle and end */
    for (i = 0; i < 90; i++) {
        where[n++] = 74 + (len - 74 - 32) * i / 90;
    }

    where[n++] = len / 2;
    where[n++] = len - 33;

    dst = test_store();

    for (i = 0; i < n; i++) {
        pos = where[i];

        good[pos] ^= 0x10;
        test_write_file(bad, good, len);
        good[pos] ^= 0x10;

        if (nc_store_snapshot_load(dst, bad, NULL) != NC_ERROR) {
            fail_msg("a flipped byte at %zu of %zu was not detected",
                     pos, len);
        }

        test_log_has("bad.snap\" is corrupt: ");
        test_still_empty(dst);
    }

    /* extra bytes after the trailer */
    good[len] = 0;
    test_write_file(bad, good, len + 1);
    assert_int_equal(nc_store_snapshot_load(dst, bad, NULL), NC_ERROR);
    test_log_has("is corrupt");
    test_still_empty(dst);

    /* after all that, the same store takes the intact file */
    assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_OK);
    assert_int_equal(nc_store_enter(dst)->count, 3000);
    nc_store_leave(dst);

    free(good);
    nc_store_destroy(dst);
}


static void
test_truncated(void **state)
{
    size_t       len, i;
    u_char      *good;
    nc_store_t  *dst;
    size_t       cut[16];
    char         path[PATH_MAX], bad[PATH_MAX];

    test_path(path, "trunc.snap");
    test_path(bad, "cut.snap");

    test_small_snapshot(path);
    good = test_read_file(path, &len);

    cut[0] = 0;
    cut[1] = 1;
    cut[2] = 63;
    cut[3] = 64;
    cut[4] = 70;
    cut[5] = 74;                         /* header and meta, no records */
    cut[6] = 75;
    cut[7] = 1000;
    cut[8] = len / 3;
    cut[9] = len / 2;
    cut[10] = len - 100;
    cut[11] = len - 33;
    cut[12] = len - 32;                  /* records whole, no trailer */
    cut[13] = len - 31;
    cut[14] = len - 4;
    cut[15] = len - 1;

    dst = test_store();

    for (i = 0; i < nc_nelems(cut); i++) {
        test_write_file(bad, good, cut[i]);

        if (nc_store_snapshot_load(dst, bad, NULL) != NC_ERROR) {
            fail_msg("a file cut at %zu of %zu was loaded", cut[i], len);
        }

        test_log_has("cut.snap\" is corrupt: ");
        test_still_empty(dst);
    }

    /* a missing file is an error too, not an empty store */
    test_path(bad, "missing.snap");
    assert_int_equal(nc_store_snapshot_load(dst, bad, NULL), NC_ERROR);
    test_log_has("missing.snap\" not loaded: open() failed");

    free(good);
    nc_store_destroy(dst);
}


/* a region too small for the snapshot: refused whole, the store empty */
static void
test_store_full(void **state)
{
    nc_store_t  *dst;
    char         path[PATH_MAX];

    test_path(path, "full-store.snap");
    test_small_snapshot(path);

    /* room for the small records, not for the value of a few MiB */
    dst = nc_store_create(2 * MB, &test_log);
    assert_non_null(dst);
    assert_int_equal(nc_store_writer_init(dst), NC_OK);

    assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_ERROR);
    test_log_has("full-store.snap\" not loaded: the store is full");
    test_still_empty(dst);

    /* room for neither: the first records already fail */
    nc_store_destroy(dst);
    dst = nc_store_create(384 * 1024, &test_log);
    assert_non_null(dst);
    assert_int_equal(nc_store_writer_init(dst), NC_OK);

    assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_ERROR);
    test_log_has("not loaded: the store is full");
    test_still_empty(dst);

    nc_store_destroy(dst);
}


/*
 * Hand-made files with valid checksums whose contents lie: the bounds and
 * order checks, not the CRC, must refuse them.
 */

typedef struct {
    uint32_t     key_len;                /* as the header of the record says */
    uint32_t     value_len;
    const char  *key;                    /* the bytes that follow */
    const char  *value;
} test_rec_t;


typedef struct {
    uint32_t     version;
    uint64_t     count;                  /* in the header */
    uint64_t     meta_len;               /* in the header */
    int64_t      trailer_count;          /* -1: the true one */
    nc_uint_t    n;
    test_rec_t   recs[4];
} test_craft_t;


static void
le32(u_char *p, uint32_t n)
{
    p[0] = (u_char) n;
    p[1] = (u_char) (n >> 8);
    p[2] = (u_char) (n >> 16);
    p[3] = (u_char) (n >> 24);
}


static void
le64(u_char *p, uint64_t n)
{
    le32(p, (uint32_t) n);
    le32(p + 4, (uint32_t) (n >> 32));
}


static void
test_craft(const char *path, const test_craft_t *c)
{
    size_t      len, raw_len, meta;
    uint64_t    raw, stream;
    z_stream    zs;
    nc_uint_t   i;
    u_char     *p, *r;
    u_char      file[8192], recs[4096];

    nc_memzero(file, sizeof(file));

    p = file;
    le64(p, 0x3130504e53524e43ULL);
    le32(p + 8, c->version);
    le32(p + 12, 1);
    le64(p + 16, 40);
    le64(p + 24, 5);
    le64(p + 32, c->count);
    le64(p + 40, c->meta_len);
    le32(p + 60, (uint32_t) crc32(0L, p, 60));
    p += 64;

    meta = (c->meta_len <= 16) ? c->meta_len : 0;
    nc_memset(p, 'M', meta);
    p += meta;

    r = recs;
    raw = 0;

    for (i = 0; i < c->n; i++) {
        le32(r, NC_STORE_T_RAW);
        le32(r + 4, 0);
        le64(r + 8, 40);
        le32(r + 16, c->recs[i].key_len);
        le32(r + 20, c->recs[i].value_len);
        r += 24;
        r = nc_cpymem(r, c->recs[i].key, strlen(c->recs[i].key));
        r = nc_cpymem(r, c->recs[i].value, strlen(c->recs[i].value));
        raw += 24 + c->recs[i].key_len + c->recs[i].value_len;
    }

    raw_len = r - recs;

    nc_memzero(&zs, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, -15, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = recs;
    zs.avail_in = (uInt) raw_len;
    zs.next_out = p;
    zs.avail_out = (uInt) (file + sizeof(file) - 32 - p);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    stream = zs.total_out;
    deflateEnd(&zs);
    p += stream;

    le64(p, c->trailer_count >= 0 ? (uint64_t) c->trailer_count : c->n);
    le64(p + 8, raw);
    le64(p + 16, stream);
    le32(p + 24, 0x444e4553);
    le32(p + 28, (uint32_t) crc32(0L, file, p + 28 - file));
    p += 32;

    len = p - file;
    test_write_file(path, file, len);
}


static void
test_hostile(void **state)
{
    nc_uint_t     i;
    nc_store_t   *dst;
    char          path[PATH_MAX];
    static char   long_key[NC_STORE_MAX_KEY_LEN + 2];

    static const struct {
        test_craft_t   c;
        const char    *err;              /* NULL: accepted */
    } cases[] = {

        /* the sanity case: the crafting is right */
        { { 2, 2, 4, -1, 2, { { 1, 1, "a", "x" }, { 2, 0, "ab", "" } } },
          NULL },

        { { 9, 2, 4, -1, 2, { { 1, 1, "a", "x" }, { 2, 0, "ab", "" } } },
          "format version 9" },

        { { 2, 1, 65 * MB, -1, 1, { { 1, 1, "a", "x" } } },
          "meta length" },

        { { 2, 1, 4000, -1, 1, { { 1, 1, "a", "x" } } },
          "truncated" },

        { { 2, 1, 0, -1, 1, { { NC_STORE_MAX_KEY_LEN + 1, 0, "", "" } } },
          "key_len 1025" },

        { { 2, 1, 0, -1, 1, { { 1, 0xffffffff, "a", "" } } },
          "value_len 4294967295" },

        { { 2, 2, 0, -1, 2, { { 1, 1, "b", "x" }, { 1, 1, "a", "y" } } },
          "out of key order" },

        { { 2, 2, 0, -1, 2, { { 1, 1, "a", "x" }, { 1, 1, "a", "y" } } },
          "out of key order" },

        { { 2, 2, 0, -1, 2, { { 2, 1, "ab", "x" }, { 1, 1, "a", "y" } } },
          "out of key order" },

        { { 2, 3, 0, -1, 2, { { 1, 1, "a", "x" }, { 1, 1, "b", "y" } } },
          "records end after 2 of 3" },

        { { 2, 1, 0, -1, 2, { { 1, 1, "a", "x" }, { 1, 1, "b", "y" } } },
          "more records than the 1 of the header" },

        { { 2, 2, 0, 3, 2, { { 1, 1, "a", "x" }, { 1, 1, "b", "y" } } },
          "trailer disagrees" },

        /* a record header that claims more bytes than the stream has */
        { { 2, 1, 0, -1, 1, { { 1, 100, "a", "short" } } },
          "records end after 0 of 1" },
    };

    test_path(path, "crafted.snap");
    dst = test_store();

    for (i = 0; i < nc_nelems(cases); i++) {
        test_craft(path, &cases[i].c);

        if (cases[i].err == NULL) {
            assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_OK);
            assert_int_equal(nc_store_enter(dst)->count, 2);
            nc_store_leave(dst);

            nc_store_destroy(dst);
            dst = test_store();
            continue;
        }

        if (nc_store_snapshot_load(dst, path, NULL) != NC_ERROR) {
            fail_msg("crafted case %u was loaded", (unsigned) i);
        }

        test_log_has(cases[i].err);
        test_still_empty(dst);
    }

    /* a key of exactly the maximum length is fine */
    nc_memset(long_key, 'k', NC_STORE_MAX_KEY_LEN);
    {
        test_craft_t  c = { 2, 1, 0, -1, 1,
                            { { NC_STORE_MAX_KEY_LEN, 1, long_key, "v" } } };

        test_craft(path, &c);
        assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_OK);
    }

    nc_store_destroy(dst);
}


/* --- failed writes ------------------------------------------------------ */


static void
test_write_failures(void **state)
{
    nc_store_t                *s, *dst;
    struct rlimit              old, lim;
    const nc_store_version_t  *v;
    char                       path[PATH_MAX], tmp[PATH_MAX],
                               dir[PATH_MAX];

    s = test_store();
    test_fill(s, 3000, 3000, 60, 2);
    v = nc_store_enter(s);

    /* a directory that does not exist */
    test_path(path, "no/such/dir/x.snap");
    assert_int_equal(nc_store_snapshot_write(s, v, path, NULL, 0, NULL),
                     NC_ERROR);
    test_log_has("x.snap\" not written: open() ");

    /* a directory without write permission (root ignores the mode) */
    test_path(dir, "ro");
    assert_int_equal(mkdir(dir, 0500), 0);
    test_path(path, "ro/x.snap");
    test_path(tmp, "ro/x.snap.tmp");

    if (geteuid() != 0) {
        assert_int_equal(nc_store_snapshot_write(s, v, path, NULL, 0, NULL),
                         NC_ERROR);
        test_log_has("Permission denied");
        assert_false(test_exists(tmp));
        assert_false(test_exists(path));
    }

    /* a good snapshot, then a write that fails half way (disk full) */
    test_path(path, "full.snap");
    test_path(tmp, "full.snap.tmp");
    assert_int_equal(nc_store_snapshot_write(s, v, path, NULL, 0, NULL),
                     NC_OK);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 200 * 1024;
    (void) signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

    assert_int_equal(nc_store_snapshot_write(s, v, path, NULL, 0, NULL),
                     NC_ERROR);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    (void) signal(SIGXFSZ, SIG_DFL);

    test_log_has("full.snap.tmp\" failed (27: File too large)");
    assert_false(test_exists(tmp));

    /* the previous snapshot is intact */
    dst = test_store();
    assert_int_equal(nc_store_snapshot_load(dst, path, NULL), NC_OK);
    nc_store_destroy(dst);

    /* rename() over a directory fails: the temporary file goes */
    test_path(path, "isdir.snap");
    test_path(tmp, "isdir.snap.tmp");
    assert_int_equal(mkdir(path, 0700), 0);
    test_path(dir, "isdir.snap/f");
    test_write_file(dir, (u_char *) "x", 1);

    assert_int_equal(nc_store_snapshot_write(s, v, path, NULL, 0, NULL),
                     NC_ERROR);
    test_log_has("isdir.snap\" not written: rename() ");
    assert_false(test_exists(tmp));

    nc_store_leave(s);
    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_held_version),
        cmocka_unit_test(test_corrupt_byte),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_store_full),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_write_failures),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
