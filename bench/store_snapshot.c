
/*
 * nacre: snapshot files of the store, write and load speed.
 *
 * Builds a store of N items (keys like cfg/public/DEFAULT_GROUP/item-0001234,
 * values of V bytes) in batches, then, ROUNDS times: writes a snapshot of
 * it (fsync and rename included) and loads that into an empty store.
 * Prints MB/s of raw record bytes and of file bytes for the write, seconds
 * and items/s for the load; the median round counts.  The loaded map is
 * compared with the original once, untimed.
 *
 * Values are config-like text by default (what the store mostly holds);
 * "random" makes them incompressible, deflate's worst case.
 *
 *   bench/store-snapshot [items] [value_bytes] [text|random] [dir]
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>


#define B_ROUNDS   3
#define B_BATCH    10000


static nc_log_t  b_log = { NC_LOG_WARN, STDERR_FILENO, NULL };


static double
b_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static uint64_t
b_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;

    return x;
}


static void
b_value(u_char *p, size_t len, uint64_t i, int random)
{
    int       n;
    size_t    k;
    uint64_t  x, r;
    char      text[512];

    x = b_mix(i);

    if (random) {
        for (k = 0; k < len; k += 8) {
            r = b_mix(x + k);
            nc_memcpy(p + k, &r, nc_min(8, len - k));
        }

        return;
    }

    n = snprintf(text, sizeof(text),
                 "server.port=%u\nspring.datasource.url=jdbc:mysql://10.0.%u"
                 ".%u:3306/app\nfeature.flag=%s\ntimeout.ms=%u\n",
                 (unsigned) (x % 65536), (unsigned) (x >> 16) % 256,
                 (unsigned) (x >> 24) % 256, (x >> 3) & 1 ? "true" : "false",
                 (unsigned) (x >> 32) % 10000);

    for (k = 0; k < len; k += (size_t) n) {
        nc_memcpy(p + k, text, nc_min((size_t) n, len - k));
    }
}


static nc_store_t *
b_store(uint64_t items, size_t vlen)
{
    size_t       size;
    nc_store_t  *s;

    /* reserved, not committed: room for the records and their nodes */
    size = 256 * 1024 * 1024 + items * (3 * vlen + 512);

    s = nc_store_create(size, &b_log);
    if (s == NULL || nc_store_writer_init(s) != NC_OK) {
        fprintf(stderr, "cannot make a store of %zu bytes\n", size);
        exit(1);
    }

    return s;
}


static int
b_cmp_double(const void *a, const void *b)
{
    double  x, y;

    x = *(const double *) a;
    y = *(const double *) b;

    return (x > y) - (x < y);
}


/* the loaded map holds what the original holds, field by field */
static void
b_verify(nc_store_t *a, nc_store_t *b)
{
    uint64_t                   n;
    nc_store_iter_t           *ia, *ib;
    const nc_store_record_t   *ra, *rb;
    const nc_store_version_t  *va, *vb;

    ia = malloc(sizeof(nc_store_iter_t));
    ib = malloc(sizeof(nc_store_iter_t));

    va = nc_store_enter(a);
    vb = nc_store_enter(b);

    nc_store_iter_init(ia, a, va->root, NULL, 0, NULL, 0);
    nc_store_iter_init(ib, b, vb->root, NULL, 0, NULL, 0);

    for (n = 0; ; n++) {
        ra = nc_store_iter_next(ia);
        rb = nc_store_iter_next(ib);

        if (ra == NULL || rb == NULL) {
            if (ra != rb) {
                break;
            }

            if (n == va->count && n == vb->count) {
                nc_store_leave(a);
                nc_store_leave(b);
                free(ia);
                free(ib);
                return;
            }

            break;
        }

        if (ra->type != rb->type || ra->flags != rb->flags
            || ra->revision != rb->revision || ra->key_len != rb->key_len
            || ra->value_len != rb->value_len
            || memcmp(nc_store_record_key(ra), nc_store_record_key(rb),
                      ra->key_len) != 0
            || memcmp(nc_store_record_value(ra), nc_store_record_value(rb),
                      ra->value_len) != 0)
        {
            break;
        }
    }

    fprintf(stderr, "the loaded map differs at record %" PRIu64 "\n", n);
    exit(1);
}


int
main(int argc, char **argv)
{
    int                        random, k;
    size_t                     vlen, klen;
    uint64_t                   items, i;
    double                     t, build, iter, wr[B_ROUNDS], ld[B_ROUNDS],
                               raw_mb, file_mb;
    const char                *dir;
    nc_store_t                *s, *d;
    nc_store_iter_t           *it;
    nc_store_record_t         *rec;
    nc_store_snapshot_info_t   wi, li;
    const nc_store_version_t  *v;
    u_char                     key[64];
    char                       path[PATH_MAX];

    items = (argc > 1) ? strtoull(argv[1], NULL, 10) : 1000000;
    vlen = (argc > 2) ? strtoull(argv[2], NULL, 10) : 100;
    random = (argc > 3) && strcmp(argv[3], "random") == 0;
    dir = (argc > 4) ? argv[4] : getenv("TMPDIR");

    if (dir == NULL || *dir == '\0') {
        dir = "/tmp";
    }

    snprintf(path, sizeof(path), "%s/nacre-bench-%d.snap", dir,
             (int) getpid());

    nc_time_init();

    s = b_store(items, vlen);

    t = b_now();

    for (i = 0; i < items; i++) {
        if (i % B_BATCH == 0 && nc_store_begin(s) != NC_OK) {
            return 1;
        }

        klen = (size_t) snprintf((char *) key, sizeof(key),
                                 "cfg/public/DEFAULT_GROUP/item-%07" PRIu64,
                                 i);

        rec = nc_store_record_alloc(s, key, klen, NC_STORE_T_RAW, vlen,
                                    i + 1);
        if (rec == NULL) {
            fprintf(stderr, "store full at %" PRIu64 "\n", i);
            return 1;
        }

        b_value(nc_store_record_value(rec), vlen, i, random);

        if (nc_store_insert(s, rec) != NC_OK) {
            return 1;
        }

        if ((i % B_BATCH == B_BATCH - 1 || i == items - 1)
            && nc_store_commit(s, i + 1, 1) != NC_OK)
        {
            return 1;
        }
    }

    build = b_now() - t;

    v = nc_store_enter(s);

    /* the iteration alone: what the map costs the writer */
    it = malloc(sizeof(nc_store_iter_t));
    t = b_now();
    nc_store_iter_init(it, s, v->root, NULL, 0, NULL, 0);
    for (i = 0; nc_store_iter_next(it); i++) { /* void */ }
    iter = b_now() - t;
    free(it);

    printf("store snapshot: %" PRIu64 " items, %zu-byte %s values, "
           "file %s\n", items, vlen, random ? "random" : "text", path);
    printf("  build   %7.3f s  %10.0f items/s (batches of %d)\n",
           build, items / build, B_BATCH);
    printf("  iterate %7.3f s  %10.0f items/s\n", iter, i / iter);

    for (k = 0; k < B_ROUNDS; k++) {
        t = b_now();

        if (nc_store_snapshot_write(s, v, path, (u_char *) "meta", 4, &wi)
            != NC_OK)
        {
            return 1;
        }

        wr[k] = b_now() - t;

        d = b_store(items, vlen);

        t = b_now();

        if (nc_store_snapshot_load(d, path, &li) != NC_OK) {
            return 1;
        }

        ld[k] = b_now() - t;

        free(li.meta);

        if (k == 0) {
            b_verify(s, d);
        }

        nc_store_destroy(d);

        raw_mb = wi.raw_bytes / 1e6;
        file_mb = wi.file_bytes / 1e6;

        printf("  round %d: write %.3f s (%.0f MB/s raw, %.0f MB/s file), "
               "load %.3f s (%.0f items/s)\n", k + 1, wr[k], raw_mb / wr[k],
               file_mb / wr[k], ld[k], items / ld[k]);
    }

    nc_store_leave(s);

    qsort(wr, B_ROUNDS, sizeof(double), b_cmp_double);
    qsort(ld, B_ROUNDS, sizeof(double), b_cmp_double);

    printf("  raw %.1f MB, file %.1f MB (%.1f%%)\n", raw_mb, file_mb,
           100.0 * file_mb / raw_mb);
    printf("  write   %7.3f s  %6.0f MB/s raw  %6.0f MB/s file  (median)\n",
           wr[B_ROUNDS / 2], raw_mb / wr[B_ROUNDS / 2],
           file_mb / wr[B_ROUNDS / 2]);
    printf("  load    %7.3f s  %10.0f items/s  %6.0f MB/s raw  (median)\n",
           ld[B_ROUNDS / 2], items / ld[B_ROUNDS / 2],
           raw_mb / ld[B_ROUNDS / 2]);

    (void) unlink(path);
    nc_store_destroy(s);

    return 0;
}
