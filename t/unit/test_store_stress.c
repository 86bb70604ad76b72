
/*
 * nacre: the store under concurrent readers, across processes.
 *
 * One writer (this process) applies random batches of puts and deletes
 * over a small key space; four forked readers check, on every read, that
 * what they see is exactly one published version.  Each batch also writes
 * a checksum record: the batch number, the keys it wrote, and a digest of
 * the whole map (XOR of per-record hashes, and the key count).  A reader
 * that saw half a batch, a freed node or a torn record fails the digest.
 *
 * A fifth reader enters an epoch and is killed with SIGKILL while inside;
 * the retired memory it holds is freed once the "master" (this process)
 * clears its slot.
 *
 * NACRE_STRESS_SECONDS sets the duration (default 3).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>

#include <setjmp.h>
#include <cmocka.h>


#define NKEYS       1000
#define NREADERS    4
#define MAXBATCH    64
#define SUM_KEY     "~sum"


typedef struct {
    uint64_t    batch;
    uint64_t    digest;             /* XOR of record hashes, sum excluded */
    uint64_t    count;              /* records, sum excluded */
    uint32_t    nwritten;
    uint32_t    written[MAXBATCH];  /* key ids put in this batch */
} test_sum_t;


typedef struct {
    uint64_t    batch;              /* that wrote it */
    uint32_t    id;
    uint32_t    len;                /* of the payload that follows */
} test_value_t;


static nc_log_t  test_log = { NC_LOG_WARN, -1, NULL };


static uint64_t
test_rand(uint64_t *x)
{
    /* xorshift64*: reproducible from the seed */
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ULL;
}


static uint64_t
test_hash(const u_char *p, size_t len)
{
    uint64_t  h;

    h = 1469598103934665603ULL;

    while (len--) {
        h ^= *p++;
        h *= 1099511628211ULL;
    }

    return h;
}


static uint64_t
test_record_hash(const nc_store_record_t *rec)
{
    return test_hash(nc_store_record_key(rec), rec->key_len)
           ^ (test_hash(nc_store_record_value(rec), rec->value_len) << 1)
           ^ rec->revision;
}


static size_t
test_key(u_char *buf, uint32_t id)
{
    return (size_t) sprintf((char *) buf, "k/%04u", id);
}


/* one check of one version; returns 0 when it is consistent */
static int
test_check_version(nc_store_t *s, const nc_store_version_t *v)
{
    size_t                    klen;
    u_char                    key[32];
    uint32_t                  i;
    uint64_t                  digest, count;
    nc_store_iter_t          *it;
    const test_sum_t         *sum;
    const test_value_t       *val;
    const nc_store_record_t  *rec, *srec;

    srec = nc_store_get(s, v, (u_char *) SUM_KEY, sizeof(SUM_KEY) - 1);
    if (srec == NULL || srec->value_len != sizeof(test_sum_t)) {
        return v->count == 0 ? 0 : 1;
    }

    sum = (const test_sum_t *) nc_store_record_value(srec);

    /* every key of the batch shows this batch: not half of it */
    for (i = 0; i < sum->nwritten; i++) {
        klen = test_key(key, sum->written[i]);
        rec = nc_store_get(s, v, key, klen);

        if (rec == NULL) {
            return 2;
        }

        val = (const test_value_t *) nc_store_record_value(rec);

        if (val->batch != sum->batch || val->id != sum->written[i]) {
            return 3;
        }
    }

    /* and the whole map is exactly the one the writer described */
    it = malloc(sizeof(nc_store_iter_t));
    if (it == NULL) {
        return 4;
    }

    nc_store_iter_init(it, s, v->root, (u_char *) "k/", 2, NULL, 0);

    digest = 0;
    count = 0;

    while ((rec = nc_store_iter_next(it)) != NULL) {
        val = (const test_value_t *) nc_store_record_value(rec);

        if (rec->value_len != sizeof(test_value_t) + val->len) {
            free(it);
            return 5;
        }

        digest ^= test_record_hash(rec);
        count++;
    }

    free(it);

    if (digest != sum->digest || count != sum->count
        || count + 1 != v->count)
    {
        return 6;
    }

    return 0;
}


static void
test_reader_process(nc_store_t *w, int fd, nc_msec_t until)
{
    int                        rc;
    uint64_t                   checks, last;
    nc_store_t                 r;
    struct timespec            ts;
    const nc_store_version_t  *v;

    r = *w;
    r.writer = NULL;

    if (nc_store_reader_attach(&r) != NC_OK) {
        _exit(10);
    }

    checks = 0;
    last = 0;

    for ( ;; ) {
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((nc_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > until) {
            break;
        }

        v = nc_store_enter(&r);

        if (v) {
            /* versions only move forward */
            if (v->generation < last) {
                _exit(11);
            }

            last = v->generation;

            rc = test_check_version(&r, v);
            if (rc != 0) {
                _exit(20 + rc);
            }

            checks++;
        }

        nc_store_leave(&r);
    }

    if (write(fd, &checks, sizeof(checks)) != sizeof(checks)) {
        _exit(12);
    }

    _exit(0);
}


static nc_int_t
test_apply_batch(nc_store_t *s, uint64_t batch, uint64_t *rnd,
    test_sum_t *sum)
{
    size_t                    klen, plen;
    u_char                    key[32];
    uint32_t                  i, j, n, id;
    nc_int_t                  rc;
    test_value_t             *val;
    nc_store_record_t        *rec;
    const nc_store_record_t  *old;

    if (nc_store_begin(s) != NC_OK) {
        return NC_ERROR;
    }

    n = 1 + test_rand(rnd) % MAXBATCH;
    sum->batch = batch;
    sum->nwritten = 0;

    for (i = 0; i < n; i++) {
        id = test_rand(rnd) % NKEYS;
        klen = test_key(key, id);

        old = nc_store_lookup(s, key, klen);

        if (old) {
            sum->digest ^= test_record_hash(old);
            sum->count--;
        }

        if (test_rand(rnd) % 5 == 0) {
            rc = nc_store_delete(s, key, klen);
            if (rc != (old ? NC_OK : NC_DECLINED)) {
                return NC_ERROR;
            }

            /* a later put of the same key in this batch must win */
            for (j = 0; j < sum->nwritten; j++) {
                if (sum->written[j] == id) {
                    sum->written[j] = sum->written[--sum->nwritten];
                    break;
                }
            }

            continue;
        }

        /* payloads of all sizes, some past the small classes */
        plen = test_rand(rnd) % 7 == 0 ? test_rand(rnd) % 20000
                                       : test_rand(rnd) % 200;

        rec = nc_store_record_alloc(s, key, klen, NC_STORE_T_RAW,
                                    sizeof(test_value_t) + plen, batch);
        if (rec == NULL) {
            return NC_ERROR;
        }

        val = (test_value_t *) nc_store_record_value(rec);
        val->batch = batch;
        val->id = id;
        val->len = (uint32_t) plen;
        memset(val + 1, (int) (batch & 0xff), plen);

        if (nc_store_insert(s, rec) != NC_OK) {
            return NC_ERROR;
        }

        sum->digest ^= test_record_hash(nc_store_lookup(s, key, klen));
        sum->count++;

        for (j = 0; j < sum->nwritten; j++) {
            if (sum->written[j] == id) {
                goto next;
            }
        }

        sum->written[sum->nwritten++] = id;

    next:
        continue;
    }

    rec = nc_store_record_alloc(s, (u_char *) SUM_KEY, sizeof(SUM_KEY) - 1,
                                NC_STORE_T_CHECKSUM, sizeof(test_sum_t),
                                batch);
    if (rec == NULL) {
        return NC_ERROR;
    }

    nc_memcpy(nc_store_record_value(rec), sum, sizeof(test_sum_t));

    if (nc_store_insert(s, rec) != NC_OK) {
        return NC_ERROR;
    }

    return nc_store_commit(s, batch, 1);
}


static void
test_stress(void **state)
{
    int                status, fds[2], i, ready[2];
    char               c;
    pid_t              pids[NREADERS], stuck;
    uint64_t           rnd, batch, checks, total, held;
    nc_msec_t          now, until;
    nc_store_t        *s, r;
    test_sum_t         sum;
    const char        *env;
    struct timespec    ts;
    nc_store_stats_t   st;

    env = getenv("NACRE_STRESS_SECONDS");

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (nc_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    until = now + (env ? (nc_msec_t) atoi(env) : 3) * 1000;

    s = nc_store_create(256 * 1024 * 1024, &test_log);
    assert_non_null(s);
    assert_int_equal(nc_store_writer_init(s), NC_OK);

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(pipe(ready), 0);

    nc_memzero(&sum, sizeof(test_sum_t));

    rnd = 0x9e3779b97f4a7c15ULL;
    print_message("stress: seed 0x%016llx\n", (unsigned long long) rnd);

    /* one version before any reader starts: the stuck one holds it */
    assert_int_equal(test_apply_batch(s, 1, &rnd, &sum), NC_OK);

    for (i = 0; i < NREADERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);

        if (pids[i] == 0) {
            /* a failed assertion in the writer must not leave us behind */
            (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
            close(fds[0]);
            close(ready[0]);
            close(ready[1]);
            test_reader_process(s, fds[1], until);
        }
    }

    /* the reader that dies inside its epoch */
    stuck = fork();
    assert_true(stuck >= 0);

    if (stuck == 0) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(ready[0]);
        close(fds[0]);
        close(fds[1]);

        r = *s;
        r.writer = NULL;

        if (nc_store_reader_attach(&r) != NC_OK
            || nc_store_enter(&r) == NULL)
        {
            _exit(1);
        }

        c = 'x';
        if (write(ready[1], &c, 1) != 1) {
            _exit(1);
        }

        for ( ;; ) {
            pause();
        }
    }

    close(fds[1]);
    close(ready[1]);

    /* a stuck reader that failed to start closes the pipe: no hang here */
    assert_int_equal(read(ready[0], &c, 1), 1);

    for (batch = 2; ; batch++) {
        assert_int_equal(test_apply_batch(s, batch, &rnd, &sum), NC_OK);

        if (batch == 200) {
            /* the stuck reader holds everything retired since batch 1 */
            (void) nc_store_reclaim(s);
            nc_store_stats(s, &st);
            assert_true(st.bytes_retired > 0);
            held = st.bytes_retired;

            /* killed inside its epoch; the master clears its slot */
            assert_int_equal(kill(stuck, SIGKILL), 0);
            assert_int_equal(waitpid(stuck, &status, 0), stuck);
            assert_true(WIFSIGNALED(status));
            nc_store_release_pid(s, stuck);

            (void) nc_store_reclaim(s);
            nc_store_stats(s, &st);
            assert_true(st.bytes_retired < held);
        }

        if (batch % 64 == 0) {
            (void) clock_gettime(CLOCK_MONOTONIC, &ts);
            now = (nc_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

            if (now > until && batch > 200) {
                break;
            }
        }
    }

    total = 0;

    for (i = 0; i < NREADERS; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        nc_store_release_pid(s, pids[i]);

        assert_int_equal(read(fds[0], &checks, sizeof(checks)),
                         sizeof(checks));
        assert_true(checks > 0);
        total += checks;
    }

    print_message("stress: %llu batches, %llu consistent reads\n",
                  (unsigned long long) batch, (unsigned long long) total);

    /* every reader is gone: nothing is held back */
    (void) nc_store_reclaim(s);
    nc_store_stats(s, &st);
    assert_int_equal(st.bytes_retired, 0);

    close(fds[0]);
    close(ready[0]);
    nc_store_destroy(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_stress),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
