
/*
 * nacre: the store's map (src/store/nc_store_map.c) against a sorted-array
 * model: seeded random inserts, replaces, deletes, lookups and ranged
 * iteration over keys that share long prefixes, are prefixes of each
 * other, are empty, are as long as allowed, or hold any byte; old versions
 * read as they were while new batches publish (from another process too);
 * every byte comes back after deleting all; a full region changes nothing.
 *
 * NC_TEST_SEED=n runs the random test with that seed only.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>

#include <setjmp.h>
#include <cmocka.h>


#define MB  (1024 * 1024)


typedef struct {
    u_char             *key;
    size_t              len;
    uint64_t            tag;             /* revision; the value follows it */
    size_t              value_len;
} test_ent_t;


/* the model: entries sorted by key */
typedef struct {
    test_ent_t         *e;
    size_t              n;
    size_t              cap;
} test_model_t;


static nc_log_t         test_log = { NC_LOG_WARN, -1, NULL };

static unsigned         test_seed;
static unsigned long    test_op;
static uint64_t         test_rng;

static u_char           test_stem[NC_STORE_MAX_KEY_LEN];
static nc_store_iter_t  test_it;


#define check(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fail_msg("seed %u, op %lu: %s at line %d",                        \
                     test_seed, test_op, #cond, __LINE__);                    \
        }                                                                     \
    } while (0)


static uint64_t
rnd(void)
{
    test_rng ^= test_rng >> 12;
    test_rng ^= test_rng << 25;
    test_rng ^= test_rng >> 27;

    return test_rng * 2685821657736338717ULL;
}


static size_t
rnd_n(size_t n)
{
    return (size_t) (rnd() % n);
}


static void
rnd_seed(unsigned seed)
{
    test_seed = seed;
    test_rng = 0x9e3779b97f4a7c15ULL
               ^ ((uint64_t) seed * 0x2545f4914f6cdd1dULL);

    if (test_rng == 0) {
        test_rng = 1;
    }
}


static int
key_cmp(const u_char *a, size_t a_len, const u_char *b, size_t b_len)
{
    int  rc;

    rc = nc_min(a_len, b_len) ? memcmp(a, b, nc_min(a_len, b_len)) : 0;

    if (rc) {
        return rc;
    }

    return (a_len > b_len) - (a_len < b_len);
}


static nc_store_t *
test_store(size_t size)
{
    nc_store_t  *s;

    s = nc_store_create(size, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    return s;
}


static const nc_store_version_t *
current(nc_store_t *s)
{
    nc_shm_off_t  off;

    off = atomic_load(&s->hdr->current);

    return off ? nc_store_ptr(s, off) : NULL;
}


/* --- the model -------------------------------------------------------- */


/* the index of key, or where it would go (found: 0) */
static size_t
model_find(test_model_t *m, const u_char *key, size_t len, int *found)
{
    int     rc;
    size_t  lo, hi, mid;

    lo = 0;
    hi = m->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = key_cmp(m->e[mid].key, m->e[mid].len, key, len);

        if (rc == 0) {
            *found = 1;
            return mid;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    *found = 0;

    return lo;
}


static void
model_put(test_model_t *m, const u_char *key, size_t len, uint64_t tag,
    size_t value_len)
{
    int          found;
    size_t       i;
    test_ent_t  *e;

    i = model_find(m, key, len, &found);

    if (!found) {
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 64;
            m->e = realloc(m->e, m->cap * sizeof(test_ent_t));
            assert_non_null(m->e);
        }

        memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(test_ent_t));
        m->n++;

        e = &m->e[i];
        e->key = malloc(len + 1);
        assert_non_null(e->key);
        if (len) {
            memcpy(e->key, key, len);
        }
        e->len = len;
    }

    m->e[i].tag = tag;
    m->e[i].value_len = value_len;
}


static int
model_del(test_model_t *m, const u_char *key, size_t len)
{
    int     found;
    size_t  i;

    i = model_find(m, key, len, &found);

    if (!found) {
        return 0;
    }

    free(m->e[i].key);
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(test_ent_t));
    m->n--;

    return 1;
}


static void
model_free(test_model_t *m)
{
    size_t  i;

    for (i = 0; i < m->n; i++) {
        free(m->e[i].key);
    }

    free(m->e);
    nc_memzero(m, sizeof(test_model_t));
}


static void
model_copy(test_model_t *dst, test_model_t *src)
{
    size_t  i;

    dst->n = src->n;
    dst->cap = src->n ? src->n : 1;
    dst->e = malloc(dst->cap * sizeof(test_ent_t));
    assert_non_null(dst->e);

    for (i = 0; i < src->n; i++) {
        dst->e[i] = src->e[i];
        dst->e[i].key = malloc(src->e[i].len + 1);
        assert_non_null(dst->e[i].key);
        memcpy(dst->e[i].key, src->e[i].key, src->e[i].len);
    }
}


/* --- records ---------------------------------------------------------- */


static u_char
value_byte(uint64_t tag, size_t i)
{
    return (u_char) (tag * 31 + i * 7 + (tag >> 9));
}


/* insert key with a value made from tag; the model follows on success */
static nc_int_t
put(nc_store_t *s, test_model_t *m, const u_char *key, size_t len,
    uint64_t tag, size_t value_len)
{
    size_t              i;
    u_char             *v;
    nc_int_t            rc;
    nc_store_record_t  *rec;

    rec = nc_store_record_alloc(s, key, len, NC_STORE_T_RAW, value_len, tag);
    if (rec == NULL) {
        return NC_STORE_FULL;
    }

    check(rec->key_len == len && rec->value_len == value_len);
    check(rec->stamp == nc_store_stamp(s));

    v = nc_store_record_value(rec);
    for (i = 0; i < value_len; i++) {
        v[i] = value_byte(tag, i);
    }

    rc = nc_store_insert(s, rec);

    if (rc == NC_OK && m) {
        model_put(m, key, len, tag, value_len);
    }

    return rc;
}


/* the record is the model's entry, value and all */
static int
same(const nc_store_record_t *rec, const test_ent_t *e)
{
    size_t         i;
    const u_char  *v;

    if (rec == NULL
        || rec->key_len != e->len
        || (e->len && memcmp(nc_store_record_key(rec), e->key, e->len))
        || rec->revision != e->tag
        || rec->type != NC_STORE_T_RAW
        || rec->value_len != e->value_len)
    {
        return 0;
    }

    v = nc_store_record_value(rec);

    for (i = 0; i < e->value_len; i++) {
        if (v[i] != value_byte(e->tag, i)) {
            return 0;
        }
    }

    return 1;
}


/* --- keys ------------------------------------------------------------- */


static const u_char  test_alpha[] = { 0x00, 0x01, 'a', 'b', 'c', 0x7f, 0x80,
                                      0xff };


/*
 * Keys that collide often: short ones over a small alphabet (prefixes of
 * each other), long ones on a shared stem, the empty key, keys of the
 * maximum length, and sparse ones over every byte.
 */
static size_t
gen_key(u_char *key)
{
    size_t  r, i, len, stem;

    static const size_t  stems[] = { 8, 64, 300, 1000, 1020 };

    r = rnd_n(100);

    if (r < 3) {
        return 0;
    }

    if (r < 50) {
        len = 1 + rnd_n(5);

        for (i = 0; i < len; i++) {
            key[i] = test_alpha[rnd_n(sizeof(test_alpha))];
        }

        return len;
    }

    if (r < 90) {
        stem = stems[rnd_n(nc_nelems(stems))];
        len = stem + rnd_n(5);
        memcpy(key, test_stem, stem);

        for (i = stem; i < len; i++) {
            key[i] = test_alpha[rnd_n(sizeof(test_alpha))];
        }

        return len;
    }

    len = 1 + rnd_n(24);

    for (i = 0; i < len; i++) {
        key[i] = (u_char) rnd();
    }

    return len;
}


static void
gen_stem(void)
{
    size_t  i;

    for (i = 0; i < sizeof(test_stem); i++) {
        test_stem[i] = test_alpha[rnd_n(sizeof(test_alpha))];
    }
}


/*
 * An existing key (when there is one) or a new one; a quarter of the new
 * ones are an existing key with one byte changed, which passes the bytes
 * the tree checks on the way down and differs in one it skipped.
 */
static size_t
pick_key(test_model_t *m, u_char *key, size_t pct_existing)
{
    size_t       len;
    test_ent_t  *e;

    if (m->n && rnd_n(100) < pct_existing) {
        e = &m->e[rnd_n(m->n)];
        if (e->len) {
            memcpy(key, e->key, e->len);
        }
        return e->len;
    }

    if (m->n == 0 || rnd_n(4)) {
        return gen_key(key);
    }

    e = &m->e[rnd_n(m->n)];
    len = e->len;

    if (len == 0) {
        return gen_key(key);
    }

    memcpy(key, e->key, len);
    key[rnd_n(len)] = rnd_n(2) ? test_alpha[rnd_n(sizeof(test_alpha))]
                               : (u_char) rnd();

    return len;
}


/* --- checks ----------------------------------------------------------- */


/*
 * Iterate root within prefix from start (or not), at most limit records
 * (0: all), and compare with the model; returns the records seen.
 */
static size_t
check_iter(nc_store_t *s, nc_shm_off_t root, test_model_t *m,
    const u_char *prefix, size_t prefix_len, const u_char *start,
    size_t start_len, size_t limit, u_char *last, size_t *last_len)
{
    size_t                    i, seen;
    test_ent_t               *e;
    const nc_store_record_t  *rec;

    nc_store_iter_init(&test_it, s, root, prefix, prefix_len, start,
                       start_len);

    seen = 0;

    for (i = 0; i < m->n; i++) {
        e = &m->e[i];

        if (e->len < prefix_len
            || (prefix_len && memcmp(e->key, prefix, prefix_len) != 0))
        {
            continue;
        }

        if (start && key_cmp(e->key, e->len, start, start_len) < 0) {
            continue;
        }

        if (limit && seen == limit) {
            return seen;
        }

        rec = nc_store_iter_next(&test_it);
        check(same(rec, e));
        seen++;

        if (last) {
            memcpy(last, e->key, e->len);
            *last_len = e->len;
        }
    }

    check(nc_store_iter_next(&test_it) == NULL);

    return seen;
}


/* the whole map: invariants, count, every key, full iteration */
static void
check_all(nc_store_t *s, nc_shm_off_t root, uint64_t count, test_model_t *m,
    const nc_store_version_t *v)
{
    size_t       i;
    uint64_t     n;
    test_ent_t  *e;

    check(nc_store_map_verify(s, root, &n) == NC_OK);
    check(n == m->n);
    check(count == m->n);

    for (i = 0; i < m->n; i++) {
        e = &m->e[i];

        if (v) {
            check(same(nc_store_get(s, v, e->key, e->len), e));

        } else {
            check(same(nc_store_lookup(s, e->key, e->len), e));
        }
    }

    check(check_iter(s, root, m, NULL, 0, NULL, 0, 0, NULL, NULL) == m->n);
}


/* a prefix taken from a key or made up, a start likewise, or none */
static void
random_iter(nc_store_t *s, test_model_t *m)
{
    size_t   plen, slen, limit, n, last_len;
    u_char  *start;
    u_char   prefix[NC_STORE_MAX_KEY_LEN + 1], from[NC_STORE_MAX_KEY_LEN + 2],
             last[NC_STORE_MAX_KEY_LEN + 1];

    plen = pick_key(m, prefix, 70);
    plen = plen ? rnd_n(plen + 1) : 0;

    if (plen > 8 && rnd_n(2)) {
        plen = rnd_n(8);
    }

    start = NULL;
    slen = 0;

    if (rnd_n(2)) {
        slen = pick_key(m, from, 60);
        start = from;

        if (rnd_n(3) == 0) {
            slen = slen ? rnd_n(slen + 1) : 0;
        }

        if (rnd_n(4) == 0 && slen <= NC_STORE_MAX_KEY_LEN) {
            from[slen++] = (u_char) rnd();
        }
    }

    if (rnd_n(4)) {
        (void) check_iter(s, *nc_store_batch_root(s), m, prefix, plen, start,
                          slen, 0, NULL, NULL);
        return;
    }

    /* pages of 7 from the key after the last one: last + "\0" */

    limit = 1 + rnd_n(7);

    for ( ;; ) {
        n = check_iter(s, *nc_store_batch_root(s), m, prefix, plen, start,
                       slen, limit, last, &last_len);

        if (n < limit) {
            break;
        }

        memcpy(from, last, last_len);
        from[last_len] = '\0';
        start = from;
        slen = last_len + 1;
    }
}


/* --- tests ------------------------------------------------------------ */


static void
test_edges(void **state)
{
    size_t                    n;
    uint64_t                  count;
    nc_store_t               *s;
    test_model_t              m;
    u_char                    big[NC_STORE_MAX_KEY_LEN + 1];
    const nc_store_record_t  *rec;

    static const struct {
        const char  *key;
        size_t       len;
    } keys[] = {
        { "", 0 }, { "a", 1 }, { "ab", 2 }, { "abc", 3 }, { "abd", 3 },
        { "abcdefgh", 8 }, { "b", 1 }, { "\0", 1 }, { "\0\0", 2 },
        { "\xff", 1 }, { "\xff\xff", 2 }, { "a\0", 2 }, { "a\xff", 2 },
    };

    test_seed = 0;
    test_op = 0;
    nc_memzero(&m, sizeof(test_model_t));

    s = test_store(16 * MB);

    /* an empty map */

    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_null(nc_store_lookup(s, (u_char *) "a", 1));
    assert_int_equal(nc_store_delete(s, (u_char *) "a", 1), NC_DECLINED);
    assert_int_equal(nc_store_delete(s, NULL, 0), NC_DECLINED);
    check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m, NULL);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);
    assert_null(nc_store_get(s, current(s), (u_char *) "", 0));
    assert_null(nc_store_get(s, NULL, (u_char *) "a", 1));

    /* one key, then the keys above in and out, in two orders */

    assert_int_equal(nc_store_begin(s), NC_OK);

    for (n = 0; n < nc_nelems(keys); n++) {
        assert_int_equal(put(s, &m, (u_char *) keys[n].key, keys[n].len,
                             n + 1, n),
                         NC_OK);
        check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m,
                  NULL);
    }

    /* the same record again changes nothing */
    rec = nc_store_lookup(s, (u_char *) "ab", 2);
    assert_int_equal(nc_store_insert(s, (nc_store_record_t *) rec), NC_OK);
    check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m, NULL);

    /* the order: "" < "\0" < "\0\0" < "a" < "a\0" < "ab" ... < "\xff\xff" */
    nc_store_iter_init(&test_it, s, *nc_store_batch_root(s), NULL, 0, NULL,
                       0);
    rec = nc_store_iter_next(&test_it);
    assert_int_equal(rec->key_len, 0);
    rec = nc_store_iter_next(&test_it);
    assert_int_equal(rec->key_len, 1);
    assert_int_equal(nc_store_record_key(rec)[0], 0);

    (void) check_iter(s, *nc_store_batch_root(s), &m, (u_char *) "ab", 2,
                      NULL, 0, 0, NULL, NULL);
    (void) check_iter(s, *nc_store_batch_root(s), &m, (u_char *) "a", 1,
                      (u_char *) "abca", 4, 0, NULL, NULL);
    (void) check_iter(s, *nc_store_batch_root(s), &m, (u_char *) "ab", 2,
                      (u_char *) "a", 1, 0, NULL, NULL);
    (void) check_iter(s, *nc_store_batch_root(s), &m, (u_char *) "ab", 2,
                      (u_char *) "b", 1, 0, NULL, NULL);
    (void) check_iter(s, *nc_store_batch_root(s), &m, (u_char *) "abz", 3,
                      NULL, 0, 0, NULL, NULL);
    (void) check_iter(s, *nc_store_batch_root(s), &m, NULL, 0,
                      (u_char *) "\xff\xff\xff", 3, 0, NULL, NULL);

    assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);
    check_all(s, current(s)->root, current(s)->count, &m, current(s));

    /* a published record: again where it is, fine; back after a delete
     * (retired, to be freed), refused */
    assert_int_equal(nc_store_begin(s), NC_OK);
    rec = nc_store_lookup(s, (u_char *) "abc", 3);
    assert_int_equal(nc_store_insert(s, (nc_store_record_t *) rec), NC_OK);
    assert_int_equal(nc_store_delete(s, (u_char *) "abc", 3), NC_OK);
    assert_int_equal(nc_store_insert(s, (nc_store_record_t *) rec),
                     NC_ERROR);
    assert_null(nc_store_lookup(s, (u_char *) "abc", 3));
    nc_store_abort(s);
    check_all(s, current(s)->root, current(s)->count, &m, current(s));

    /* out again: every shape of collapse, published nodes copied */
    assert_int_equal(nc_store_begin(s), NC_OK);

    for (n = nc_nelems(keys); n-- > 0; /* void */) {
        if (n % 2) {
            continue;
        }

        assert_int_equal(nc_store_delete(s, (u_char *) keys[n].key,
                                         keys[n].len),
                         NC_OK);
        assert_int_equal(nc_store_delete(s, (u_char *) keys[n].key,
                                         keys[n].len),
                         NC_DECLINED);
        assert_true(model_del(&m, (u_char *) keys[n].key, keys[n].len));
        check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m,
                  NULL);
    }

    for (n = 0; n < nc_nelems(keys); n++) {
        if (n % 2 == 0) {
            continue;
        }

        assert_int_equal(nc_store_delete(s, (u_char *) keys[n].key,
                                         keys[n].len),
                         NC_OK);
        assert_true(model_del(&m, (u_char *) keys[n].key, keys[n].len));
        check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m,
                  NULL);
    }

    assert_int_equal(*nc_store_batch_root(s), 0);
    assert_int_equal(nc_store_commit(s, 3, 1), NC_OK);

    /* the longest key, and one byte more refused everywhere */

    assert_int_equal(nc_store_begin(s), NC_OK);
    memset(big, 'k', sizeof(big));

    assert_int_equal(put(s, &m, big, NC_STORE_MAX_KEY_LEN, 7, 3), NC_OK);
    assert_int_equal(put(s, &m, big, NC_STORE_MAX_KEY_LEN - 1, 8, 0), NC_OK);
    assert_null(nc_store_record_alloc(s, big, NC_STORE_MAX_KEY_LEN + 1,
                                      NC_STORE_T_RAW, 1, 1));
    assert_null(nc_store_lookup(s, big, NC_STORE_MAX_KEY_LEN + 1));
    assert_int_equal(nc_store_delete(s, big, NC_STORE_MAX_KEY_LEN + 1),
                     NC_ERROR);
    check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m, NULL);

    /* a start one byte past the longest key: paging after it */
    big[NC_STORE_MAX_KEY_LEN] = 0;
    (void) check_iter(s, *nc_store_batch_root(s), &m, NULL, 0, big,
                      NC_STORE_MAX_KEY_LEN + 1, 0, NULL, NULL);

    assert_int_equal(nc_store_commit(s, 4, 1), NC_OK);
    assert_null(nc_store_get(s, current(s), big, NC_STORE_MAX_KEY_LEN + 1));
    check(nc_store_map_verify(s, current(s)->root, &count) == NC_OK);
    assert_int_equal(count, 2);

    model_free(&m);
    nc_store_destroy(s);
}


static void
random_run(unsigned seed, unsigned long ops)
{
    int            rc, found;
    size_t         len, i;
    uint64_t       tag;
    nc_store_t    *s;
    test_model_t   m, saved;
    u_char         key[NC_STORE_MAX_KEY_LEN];

    rnd_seed(seed);
    gen_stem();

    nc_memzero(&m, sizeof(test_model_t));
    model_copy(&saved, &m);

    s = test_store(64 * MB);
    assert_int_equal(nc_store_begin(s), NC_OK);

    tag = 0;

    for (test_op = 0; test_op < ops; test_op++) {

        switch (rnd_n(20)) {

        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            len = pick_key(&m, key, 40);
            check(put(s, &m, key, len, ++tag, rnd_n(48)) == NC_OK);
            break;

        case 8: case 9: case 10: case 11:
            len = pick_key(&m, key, 70);
            found = model_del(&m, key, len);
            rc = nc_store_delete(s, key, len);
            check(rc == (found ? NC_OK : NC_DECLINED));
            break;

        case 12: case 13: case 14:
            len = pick_key(&m, key, 60);
            i = model_find(&m, key, len, &found);

            if (found) {
                check(same(nc_store_lookup(s, key, len), &m.e[i]));

            } else {
                check(nc_store_lookup(s, key, len) == NULL);
            }

            break;

        case 15: case 16:
            random_iter(s, &m);
            break;

        case 17: case 18:
            if (rnd_n(4)) {
                break;
            }

            check(nc_store_commit(s, test_op, 1) == NC_OK);
            check_all(s, current(s)->root, current(s)->count, &m,
                      current(s));
            check(nc_store_begin(s) == NC_OK);

            model_free(&saved);
            model_copy(&saved, &m);
            break;

        default:
            if (rnd_n(8)) {
                break;
            }

            /* abort: back to the last commit */
            nc_store_abort(s);
            model_free(&m);
            model_copy(&m, &saved);
            check(nc_store_begin(s) == NC_OK);
            break;
        }

        if (test_op % 256 == 0) {
            check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s),
                      &m, NULL);
        }
    }

    check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m, NULL);
    check(nc_store_commit(s, ops, 1) == NC_OK);
    check_all(s, current(s)->root, current(s)->count, &m, current(s));

    model_free(&m);
    model_free(&saved);
    nc_store_destroy(s);
}


static void
test_random(void **state)
{
    unsigned     seed;
    const char  *env;

    env = getenv("NC_TEST_SEED");

    if (env) {
        seed = (unsigned) strtoul(env, NULL, 10);
        print_message("test_store_map: seed %u\n", seed);
        random_run(seed, 30000);
        return;
    }

    random_run(1, 20000);
    random_run(2, 20000);

    seed = (unsigned) time(NULL) ^ (unsigned) getpid();
    print_message("test_store_map: seed %u (NC_TEST_SEED=%u to repeat)\n",
                  seed, seed);
    random_run(seed, 20000);
}


/* key i of a config-like family */
static size_t
cfg_key(u_char *key, unsigned long i)
{
    return (size_t) snprintf((char *) key, 64,
                             "cfg/public/DEFAULT_GROUP/item-%07lu", i);
}


static void
fill(nc_store_t *s, test_model_t *m, unsigned long from, unsigned long to,
    uint64_t tag)
{
    size_t         len;
    unsigned long  i;
    u_char         key[64];

    for (i = from; i < to; i++) {
        len = cfg_key(key, i * 7919 % 100003);
        check(put(s, m, key, len, tag + i, 10 + i % 90) == NC_OK);
    }
}


/*
 * A reader process enters version 1 and holds it while the writer replaces,
 * deletes and adds keys over many batches: version 1 still reads exactly
 * as it was, in the writer and in the reader, and the memory it holds is
 * retired, not freed, until the reader leaves.
 */
static void
test_persistence(void **state)
{
    int                        a[2], b[2], status;
    char                       c;
    pid_t                      pid;
    size_t                     i, len;
    uint64_t                   count;
    nc_store_t                *s;
    test_model_t               m1, m2;
    nc_store_stats_t           st;
    u_char                     key[64];
    const nc_store_version_t  *v, *v1;

    test_seed = 0;
    rnd_seed(5);
    nc_memzero(&m1, sizeof(test_model_t));

    s = test_store(64 * MB);

    assert_int_equal(nc_store_begin(s), NC_OK);
    fill(s, &m1, 0, 3000, 1000);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    v1 = current(s);

    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        /* EOF on b if the parent fails, and a backstop */
        close(a[0]);
        close(b[1]);
        alarm(120);

        if (nc_store_reader_attach(s) != NC_OK) {
            _exit(2);
        }

        v = nc_store_enter(s);
        if (v != v1) {
            _exit(3);
        }

        if (write(a[1], "r", 1) != 1 || read(b[0], &c, 1) != 1) {
            _exit(4);
        }

        for (i = 0; i < m1.n; i++) {
            if (!same(nc_store_get(s, v, m1.e[i].key, m1.e[i].len),
                      &m1.e[i]))
            {
                _exit(5);
            }
        }

        nc_store_iter_init(&test_it, s, v->root, NULL, 0, NULL, 0);

        for (i = 0; i < m1.n; i++) {
            if (!same(nc_store_iter_next(&test_it), &m1.e[i])) {
                _exit(6);
            }
        }

        if (nc_store_iter_next(&test_it) != NULL
            || nc_store_map_verify(s, v->root, &count) != NC_OK
            || count != m1.n)
        {
            _exit(7);
        }

        nc_store_leave(s);
        _exit(0);
    }

    close(a[1]);
    close(b[0]);

    assert_int_equal(read(a[0], &c, 1), 1);

    model_copy(&m2, &m1);

    for (test_op = 0; test_op < 20; test_op++) {
        assert_int_equal(nc_store_begin(s), NC_OK);

        for (i = 0; i < 150; i++) {
            len = pick_key(&m2, key, 100);
            check(put(s, &m2, key, len, 50000 + test_op * 1000 + i,
                      rnd_n(120)) == NC_OK);

            len = pick_key(&m2, key, 100);
            check(nc_store_delete(s, key, len) == NC_OK);
            check(model_del(&m2, key, len));
        }

        fill(s, &m2, 3000 + test_op * 100, 3100 + test_op * 100, 90000);

        check(nc_store_commit(s, 2 + test_op, 1) == NC_OK);
        (void) nc_store_reclaim(s);
    }

    nc_store_stats(s, &st);
    assert_true(st.bytes_retired > 0);

    /* the writer reads both: the reader's epoch keeps version 1 alive */
    check_all(s, v1->root, v1->count, &m1, v1);
    check_all(s, current(s)->root, current(s)->count, &m2, current(s));

    assert_int_equal(write(b[1], "g", 1), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    nc_store_release_pid(s, pid);
    (void) nc_store_reclaim(s);

    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);

    check_all(s, current(s)->root, current(s)->count, &m2, current(s));

    close(a[0]);
    close(b[1]);

    model_free(&m1);
    model_free(&m2);
    nc_store_destroy(s);
}


/*
 * Refusals in the middle of an operation: a chain of 40 published nodes
 * (keys "aX", "aaX", ... a^40 "X", a^41), and the node class exhausted
 * but for a few objects, so that some copies of the path are made before
 * one is refused; all must be given back and the map left as it was.
 */
static void
test_full_midway(void **state)
{
    size_t              len, i, n, cls, vlen;
    nc_int_t            rc;
    nc_uint_t           op;
    nc_store_t         *s;
    test_model_t        m;
    nc_shm_off_t       *held;
    nc_store_stats_t    st0, st;
    nc_store_record_t  *rec, *again;
    u_char              key[64];

    test_seed = 0;
    test_op = 0;
    nc_memzero(&m, sizeof(test_model_t));

    s = test_store(4 * MB);

    assert_int_equal(nc_store_begin(s), NC_OK);

    for (i = 1; i <= 40; i++) {
        memset(key, 'a', i);
        key[i] = 'X';
        assert_int_equal(put(s, &m, key, i + 1, i, 8), NC_OK);
    }

    memset(key, 'a', 41);
    assert_int_equal(put(s, &m, key, 41, 41, 8), NC_OK);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    /* the class of a node with two children, as the chain's nodes are */
    cls = 80;
    held = malloc(4 * MB / cls * sizeof(nc_shm_off_t));
    assert_non_null(held);

    for (op = 0; op < 3; op++) {
        assert_int_equal(nc_store_begin(s), NC_OK);

        /* a grown node (one allocation) and copies; a collapse (copies);
         * a value slot (copies) */
        switch (op) {
        case 0:
            memset(key, 'a', 40);
            key[40] = 'Y';
            len = 41;
            break;
        case 1:
            memset(key, 'a', 20);
            key[20] = 'X';
            len = 21;
            break;
        default:
            memset(key, 'a', 30);
            len = 30;
            break;
        }

        vlen = 8;
        rec = NULL;
        again = NULL;

        /* records first: the region will have room for nothing else */
        if (op != 1) {
            rec = nc_store_record_alloc(s, key, len, NC_STORE_T_RAW, vlen,
                                        100 + op);
            again = nc_store_record_alloc(s, key, len, NC_STORE_T_RAW, vlen,
                                          100 + op);
            assert_non_null(rec);
            assert_non_null(again);

            for (i = 0; i < vlen; i++) {
                nc_store_record_value(rec)[i] = value_byte(100 + op, i);
                nc_store_record_value(again)[i] = value_byte(100 + op, i);
            }
        }

        for (n = 0; (held[n] = nc_store_alloc(s, cls)) != 0; n++) {
            /* void */
        }

        /* 10 objects free: the operation needs more than that */
        for (i = 0; i < 10; i++) {
            nc_store_free(s, held[--n], cls);
        }

        nc_store_stats(s, &st0);

        if (op == 1) {
            rc = nc_store_delete(s, key, len);

        } else {
            rc = nc_store_insert(s, rec);
        }

        assert_int_equal(rc, NC_STORE_FULL);

        nc_store_stats(s, &st);

        if (op == 1) {
            assert_int_equal(st.bytes_live, st0.bytes_live);

        } else {
            assert_int_equal(st.bytes_live + nc_store_alloc_size(
                                 nc_store_record_size(len, vlen)),
                             st0.bytes_live);
        }

        check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m,
                  NULL);

        /* with room, the same operation goes through */
        while (n) {
            nc_store_free(s, held[--n], cls);
        }

        if (op == 1) {
            assert_int_equal(nc_store_delete(s, key, len), NC_OK);
            assert_true(model_del(&m, key, len));

        } else {
            assert_int_equal(nc_store_insert(s, again), NC_OK);
            model_put(&m, key, len, 100 + op, vlen);
        }

        check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m,
                  NULL);
        assert_int_equal(nc_store_commit(s, 2 + op, 1), NC_OK);
        check_all(s, current(s)->root, current(s)->count, &m, current(s));
    }

    free(held);
    model_free(&m);
    nc_store_destroy(s);
}


/* deleting everything, and aborting, gives every byte back */
static void
test_accounting(void **state)
{
    size_t             len, i, round;
    nc_store_t        *s;
    test_model_t       m;
    nc_store_stats_t   base, st0, st;
    u_char             key[NC_STORE_MAX_KEY_LEN];

    test_seed = 0;
    rnd_seed(7);
    gen_stem();
    nc_memzero(&m, sizeof(test_model_t));

    s = test_store(64 * MB);

    /* the baseline holds one (empty) version */
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);
    (void) nc_store_reclaim(s);
    nc_store_stats(s, &base);

    for (round = 0; round < 3; round++) {

        for (i = 0; i < 5; i++) {
            assert_int_equal(nc_store_begin(s), NC_OK);
            fill(s, &m, i * 1000, i * 1000 + 1000, round * 10000);

            for (test_op = 0; test_op < 300; test_op++) {
                len = gen_key(key);
                check(put(s, &m, key, len, test_op, rnd_n(64)) == NC_OK);
            }

            assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);
        }

        check_all(s, current(s)->root, current(s)->count, &m, current(s));

        /* a batch that changes much, aborted */
        nc_store_stats(s, &st0);
        assert_int_equal(nc_store_begin(s), NC_OK);

        for (test_op = 0; test_op < 2000; test_op++) {
            len = pick_key(&m, key, 50);

            if (rnd_n(3) == 0) {
                (void) nc_store_delete(s, key, len);

            } else {
                check(put(s, NULL, key, len, 1, rnd_n(200)) == NC_OK);
            }
        }

        nc_store_abort(s);
        (void) nc_store_reclaim(s);
        nc_store_stats(s, &st);
        assert_int_equal(st.bytes_live, st0.bytes_live);
        assert_int_equal(st.bytes_retired, st0.bytes_retired);
        check_all(s, current(s)->root, current(s)->count, &m, current(s));

        /* out in a random order, over three batches */
        for (i = 0; i < 3; i++) {
            assert_int_equal(nc_store_begin(s), NC_OK);

            while (m.n > (2 - i) * 2000) {
                test_ent_t  *e = &m.e[rnd_n(m.n)];

                len = e->len;
                memcpy(key, e->key, len);
                check(nc_store_delete(s, key, len) == NC_OK);
                check(model_del(&m, key, len));
            }

            assert_int_equal(nc_store_commit(s, 3, 1), NC_OK);
        }

        assert_int_equal(m.n, 0);
        assert_int_equal(current(s)->root, 0);

        (void) nc_store_reclaim(s);
        nc_store_stats(s, &st);

        assert_int_equal(st.bytes_live, base.bytes_live);
        assert_int_equal(st.bytes_retired, 0);
    }

    model_free(&m);
    nc_store_destroy(s);
}


/*
 * A small region filled until the allocator refuses: each refused insert
 * or delete leaves the map and bytes_live as they were, the batch still
 * commits, and deletes make room again.
 */
static void
test_full(void **state)
{
    size_t                    len, i, fulls, vlen;
    nc_int_t                  rc;
    uint64_t                  tag;
    nc_store_t               *s;
    test_model_t              m;
    nc_store_stats_t          st0, st;
    u_char                    key[NC_STORE_MAX_KEY_LEN];
    const nc_store_record_t  *before;

    test_seed = 0;
    rnd_seed(11);
    gen_stem();
    nc_memzero(&m, sizeof(test_model_t));

    s = test_store(1 * MB);

    assert_int_equal(nc_store_begin(s), NC_OK);

    tag = 0;
    fulls = 0;

    /* fill: in one batch, then across batches where nodes are published */

    for (test_op = 0; fulls < 200 && test_op < 100000; test_op++) {

        if (test_op % 500 == 499) {
            check(nc_store_commit(s, test_op, 1) == NC_OK);
            check(nc_store_begin(s) == NC_OK);
        }

        if (rnd_n(5) == 0 && m.n) {
            /* a delete may need copies of published nodes too */
            i = rnd_n(m.n);
            len = m.e[i].len;
            memcpy(key, m.e[i].key, len);

            before = nc_store_lookup(s, key, len);
            nc_store_stats(s, &st0);

            rc = nc_store_delete(s, key, len);

            if (rc == NC_OK) {
                check(model_del(&m, key, len));
                continue;
            }

            check(rc == NC_STORE_FULL);

        } else {
            len = rnd_n(3) ? cfg_key(key, rnd_n(1000000)) : gen_key(key);
            vlen = rnd_n(4) ? rnd_n(200) : rnd_n(3000);

            before = nc_store_lookup(s, key, len);
            nc_store_stats(s, &st0);

            rc = put(s, &m, key, len, ++tag, vlen);

            if (rc == NC_OK) {
                continue;
            }

            check(rc == NC_STORE_FULL);
        }

        /* refused: nothing changed */
        fulls++;
        nc_store_stats(s, &st);
        check(st.bytes_live == st0.bytes_live);
        check(nc_store_lookup(s, key, len) == before);

        if (fulls % 20 == 0) {
            check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s),
                      &m, NULL);
        }
    }

    check(fulls == 200);
    print_message("test_store_map: %zu keys in 1 MiB, %zu refusals\n",
                  m.n, fulls);

    check_all(s, *nc_store_batch_root(s), *nc_store_batch_count(s), &m, NULL);
    check(nc_store_commit(s, test_op, 1) == NC_OK);
    check_all(s, current(s)->root, current(s)->count, &m, current(s));

    /* deletes make room: a third of the keys out, then new ones fit */

    check(nc_store_begin(s) == NC_OK);

    for (i = 0; i < m.n; i += 3) {
        len = m.e[i].len;
        memcpy(key, m.e[i].key, len);
        rc = nc_store_delete(s, key, len);
        check(rc == NC_OK || rc == NC_STORE_FULL);

        if (rc == NC_OK) {
            check(model_del(&m, key, len));
        }
    }

    check(nc_store_commit(s, test_op + 1, 1) == NC_OK);
    (void) nc_store_reclaim(s);

    check(nc_store_begin(s) == NC_OK);

    for (i = 0; i < 50; i++) {
        len = cfg_key(key, 2000000 + i);
        check(put(s, &m, key, len, ++tag, 20) == NC_OK);
    }

    check(nc_store_commit(s, test_op + 2, 1) == NC_OK);
    check_all(s, current(s)->root, current(s)->count, &m, current(s));

    model_free(&m);
    nc_store_destroy(s);
}


/* the change feed: every key a batch touches, then the overflow signal */

typedef struct {
    uint64_t    hashes[16];
    nc_uint_t   n;
} test_feed_t;


static void
feed_collect(uint64_t hash, void *data)
{
    test_feed_t  *f;

    f = data;

    if (f->n < nc_nelems(f->hashes)) {
        f->hashes[f->n] = hash;
    }

    f->n++;
}


static void
test_change_feed(void **state)
{
    u_char                     key[16];
    uint64_t                   from, mid;
    nc_uint_t                  i;
    nc_store_t                *s;
    test_feed_t                f;
    const nc_store_version_t  *v;

    s = test_store(64 * MB);

    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(put(s, NULL, (u_char *) "a", 1, 1, 4), NC_OK);
    assert_int_equal(put(s, NULL, (u_char *) "b", 1, 2, 4), NC_OK);
    assert_int_equal(nc_store_commit(s, 1, 1), NC_OK);

    from = current(s)->changes;
    assert_int_equal(from, 2);

    /* a replace, a delete, a delete of nothing (no change) */
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(put(s, NULL, (u_char *) "a", 1, 3, 4), NC_OK);
    assert_int_equal(nc_store_delete(s, (u_char *) "b", 1), NC_OK);
    assert_int_equal(nc_store_delete(s, (u_char *) "c", 1), NC_DECLINED);
    assert_int_equal(nc_store_commit(s, 2, 1), NC_OK);

    v = current(s);
    nc_memzero(&f, sizeof(test_feed_t));

    assert_int_equal(nc_store_changes(s, from, v->changes, feed_collect, &f),
                     NC_OK);
    assert_int_equal(f.n, 2);
    assert_true(f.hashes[0] == nc_store_key_hash((u_char *) "a", 1));
    assert_true(f.hashes[1] == nc_store_key_hash((u_char *) "b", 1));

    /* an aborted batch leaves no trace */
    mid = v->changes;
    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(put(s, NULL, (u_char *) "x", 1, 4, 4), NC_OK);
    nc_store_abort(s);

    assert_int_equal(nc_store_begin(s), NC_OK);
    assert_int_equal(put(s, NULL, (u_char *) "y", 1, 5, 4), NC_OK);
    assert_int_equal(nc_store_commit(s, 3, 1), NC_OK);

    nc_memzero(&f, sizeof(test_feed_t));
    assert_int_equal(nc_store_changes(s, mid, current(s)->changes,
                                      feed_collect, &f), NC_OK);
    assert_int_equal(f.n, 1);
    assert_true(f.hashes[0] == nc_store_key_hash((u_char *) "y", 1));

    /* more changes than the ring holds: a reader behind is told */
    mid = current(s)->changes;
    assert_int_equal(nc_store_begin(s), NC_OK);

    for (i = 0; i < NC_STORE_CHANGES + 10; i++) {
        (void) snprintf((char *) key, sizeof(key), "k%08u", (unsigned) i);
        assert_int_equal(put(s, NULL, key, 9, 6, 4), NC_OK);
    }

    assert_int_equal(nc_store_commit(s, 4, 1), NC_OK);

    nc_memzero(&f, sizeof(test_feed_t));
    assert_int_equal(nc_store_changes(s, mid, current(s)->changes,
                                      feed_collect, &f), NC_DECLINED);
    assert_int_equal(nc_store_changes(s, from, current(s)->changes,
                                      feed_collect, &f), NC_DECLINED);

    /* the last few are still there for a reader close behind */
    nc_memzero(&f, sizeof(test_feed_t));
    assert_int_equal(nc_store_changes(s, current(s)->changes - 3,
                                      current(s)->changes, feed_collect, &f),
                     NC_OK);
    assert_int_equal(f.n, 3);

    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_full_midway),
        cmocka_unit_test(test_change_feed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
