
/*
 * nacre: the store's map: update throughput, region bytes per item, and
 * lookup latency from a separate reader process.
 *
 * Two families of N keys (1M by default), items of 100 bytes (key + value):
 *
 *   cfg   cfg/public/DEFAULT_GROUP/item-0001234    37-byte key, 63-byte value
 *   hex   16 hex digits of a hash of the index     16-byte key, 84-byte value
 *
 * For each: insert the N keys in random order in 1,000-key batches; replace
 * random keys in 1,000-key batches, then in single-key batches (a commit
 * each); then fork a reader that attaches to the region like a worker and
 * looks up random keys.
 *
 *   bench/store [keys] [lookups]
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>


#define B_BATCH        1000
#define B_ITEM         100
#define B_CFG_PREFIX   "cfg/public/DEFAULT_GROUP/item-"


static nc_log_t  b_log = { NC_LOG_WARN, STDERR_FILENO, NULL };

static uint64_t  b_rng = 0x853c49e6748fea9bULL;


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


static uint64_t
b_rand(void)
{
    return b_mix(b_rng++);
}


/* key i of a family, written cheaply: lookups should time the map */
static size_t
b_key(int hex, uint64_t i, u_char *key)
{
    int       k;
    uint64_t  x;

    static const u_char  digits[] = "0123456789abcdef";

    if (hex) {
        x = b_mix(i + 1);

        for (k = 15; k >= 0; k--) {
            key[k] = digits[x & 0xf];
            x >>= 4;
        }

        return 16;
    }

    nc_memcpy(key, B_CFG_PREFIX, sizeof(B_CFG_PREFIX) - 1);

    for (k = 6; k >= 0; k--) {
        key[sizeof(B_CFG_PREFIX) - 1 + k] = (u_char) ('0' + i % 10);
        i /= 10;
    }

    return sizeof(B_CFG_PREFIX) - 1 + 7;
}


static void
b_put(nc_store_t *s, int hex, uint64_t i, uint64_t revision)
{
    size_t              len;
    u_char              key[64];
    nc_store_record_t  *rec;

    len = b_key(hex, i, key);

    rec = nc_store_record_alloc(s, key, len, NC_STORE_T_RAW, B_ITEM - len,
                                revision);
    if (rec == NULL) {
        fprintf(stderr, "store_map: region full\n");
        exit(1);
    }

    nc_memset(nc_store_record_value(rec), 'v', B_ITEM - len);

    if (nc_store_insert(s, rec) != NC_OK) {
        fprintf(stderr, "store_map: insert failed\n");
        exit(1);
    }
}


/* n updates of keys[0..n) (random key indexes), `batch` per commit */
static double
b_updates(nc_store_t *s, int hex, const uint32_t *keys, size_t n,
    size_t batch, uint64_t revision)
{
    size_t  i;
    double  t;

    t = b_now();

    for (i = 0; i < n; i++) {
        if (i % batch == 0 && nc_store_begin(s) != NC_OK) {
            exit(1);
        }

        b_put(s, hex, keys[i], revision + i);

        if ((i + 1) % batch == 0 || i + 1 == n) {
            if (nc_store_commit(s, revision + i, 1) != NC_OK) {
                fprintf(stderr, "store_map: commit failed\n");
                exit(1);
            }
        }
    }

    return (double) n / (b_now() - t);
}


/* a child attached as a reader, like a worker */
static void
b_lookups(nc_store_t *s, int hex, size_t nkeys, size_t n)
{
    int                        status;
    pid_t                      pid;
    size_t                     i, len, hit;
    u_char                     key[64];
    double                     t;
    uint64_t                   sum;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;

    fflush(stdout);

    pid = fork();

    if (pid == -1) {
        perror("fork");
        exit(1);
    }

    if (pid) {
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
            || WEXITSTATUS(status) != 0)
        {
            fprintf(stderr, "store_map: the reader failed\n");
            exit(1);
        }

        return;
    }

    if (nc_store_reader_attach(s) != NC_OK) {
        _exit(1);
    }

    v = nc_store_enter(s);

    /* warm up the top of the tree, as a long-running worker has it */
    for (i = 0; i < 10000; i++) {
        len = b_key(hex, b_rand() % nkeys, key);
        (void) nc_store_get(s, v, key, len);
    }

    hit = 0;

    t = b_now();

    for (i = 0; i < n; i++) {
        len = b_key(hex, b_rand() % nkeys, key);
        rec = nc_store_get(s, v, key, len);
        hit += (rec != NULL);
    }

    t = b_now() - t;

    /* untimed: the records found are the right ones */
    sum = 0;

    for (i = 0; i < 1000; i++) {
        len = b_key(hex, b_rand() % nkeys, key);
        rec = nc_store_get(s, v, key, len);

        if (rec && rec->key_len == len
            && nc_memcmp(nc_store_record_key(rec), key, len) == 0)
        {
            sum += nc_store_record_value(rec)[0];
        }
    }

    nc_store_leave(s);

    printf("  lookup, reader process:     %8.0f ns/op  (%zu random keys,"
           " %zu found)\n", t * 1e9 / (double) n, n, hit);
    fflush(stdout);

    _exit(hit == n && sum == (uint64_t) 'v' * 1000 ? 0 : 1);
}


static void
b_family(int hex, size_t nkeys, size_t nlookups)
{
    size_t              i, j, klen, rec_bytes, nsingle;
    u_char              key[64];
    uint32_t           *perm, *upd, tmp;
    nc_store_t         *s;
    nc_store_stats_t    st;

    s = nc_store_create((size_t) 4096 * 1024 * 1024, &b_log);
    if (s == NULL || nc_store_writer_init(s) != NC_OK) {
        exit(1);
    }

    perm = malloc(nkeys * sizeof(uint32_t));
    upd = malloc(nkeys * sizeof(uint32_t));
    if (perm == NULL || upd == NULL) {
        exit(1);
    }

    for (i = 0; i < nkeys; i++) {
        perm[i] = (uint32_t) i;
        upd[i] = (uint32_t) (b_rand() % nkeys);
    }

    for (i = nkeys - 1; i > 0; i--) {
        j = b_rand() % (i + 1);
        tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }

    klen = b_key(hex, 0, key);

    printf("map, %s keys (%.*s), %zu items of %d bytes\n",
           hex ? "hex" : "cfg", (int) klen, key, nkeys, B_ITEM);

    printf("  insert, %d-key batches:  %10.0f keys/s\n", B_BATCH,
           b_updates(s, hex, perm, nkeys, B_BATCH, 1));

    (void) nc_store_reclaim(s);
    nc_store_stats(s, &st);

    /* records cost their size class; the rest is the tree (and a version) */
    rec_bytes = nc_store_alloc_size(nc_store_record_size(klen, B_ITEM - klen));

    printf("  region bytes per item:      %8.1f  (record %zu, tree %.1f);"
           " beyond the %d bytes: %.1f\n",
           (double) st.bytes_live / (double) nkeys, rec_bytes,
           (double) st.bytes_live / (double) nkeys - (double) rec_bytes,
           B_ITEM, (double) st.bytes_live / (double) nkeys - B_ITEM);

    printf("  replace, %d-key batches: %10.0f keys/s\n", B_BATCH,
           b_updates(s, hex, upd, nkeys, B_BATCH, 1 + nkeys));

    nsingle = nc_min(nkeys, 100000);

    printf("  replace, 1-key batches:    %10.0f keys/s  (a commit each)\n",
           b_updates(s, hex, upd, nsingle, 1, 1 + 2 * nkeys));

    b_lookups(s, hex, nkeys, nlookups);

    free(perm);
    free(upd);
    nc_store_destroy(s);
}


int
main(int argc, char **argv)
{
    size_t  nkeys, nlookups;

    nkeys = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    nlookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;

    if (nkeys == 0 || nkeys > 10000000 || nlookups == 0) {
        fprintf(stderr, "usage: bench/store [keys (1..10M)] [lookups]\n");
        return 1;
    }

    b_family(0, nkeys, nlookups);
    b_family(1, nkeys, nlookups);

    return 0;
}
