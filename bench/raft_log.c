
/*
 * nacre: the durable Raft log on the real disk.
 *
 * Appends of 200-byte entries in batches of 1, 16 and 256, each batch one
 * pwrite and one fdatasync, as the consensus process's writer thread will
 * make them.  The next segment is made ahead outside the timed calls, as
 * an idle writer thread would (nc_raft_log_prepare), and a snapshot is
 * recorded every 64k entries, so that compaction keeps the disk bounded.
 * Figures: batches/s,
 * entries/s and MB/s of entry data over the time spent in append, and the
 * p50/p99 of the fdatasync calls alone.  Then CRC-32C speed.
 *
 *   raft_log [seconds per case] [directory]
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_crc32c.h>
#include <nc_raft_log.h>

#include <ftw.h>


#define B_ENTRY        200
#define B_MAX_BATCH    256
#define B_MAX_SYNCS    (1 << 20)


static double    *b_syncs;
static size_t     b_nsyncs;
static int        b_timing;
static uint64_t   b_snap_index;


static double
b_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static int
b_sync(int fd)
{
    int     rc;
    double  t;

    t = b_now();
    rc = fdatasync(fd);

    if (b_timing && b_nsyncs < B_MAX_SYNCS) {
        b_syncs[b_nsyncs++] = b_now() - t;
    }

    return rc;
}


static int
b_cmp(const void *a, const void *b)
{
    double  x, y;

    x = *(const double *) a;
    y = *(const double *) b;

    return (x > y) - (x < y);
}


static int
b_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}


static void
b_case(nc_raft_log_t *log, size_t batch, double seconds, uint64_t *index)
{
    size_t                 i, n, entries;
    double                 spent, t, p50, p99;
    uint64_t               batches;
    nc_raft_entry_t        e[B_MAX_BATCH];
    nc_raft_log_snap_t     snap;
    nc_raft_hard_state_t   hs;
    static u_char          data[B_MAX_BATCH][B_ENTRY];

    for (i = 0; i < batch; i++) {
        memset(data[i], 'a' + (int) (i % 26), B_ENTRY);
        memset(&e[i], 0, sizeof(nc_raft_entry_t));
        e[i].term = 1;
        e[i].type = NC_RAFT_ENTRY_NORMAL;
        e[i].client_id = 1000 + i;
        e[i].len = B_ENTRY;
        e[i].data = data[i];
    }

    memset(&snap, 0, sizeof(snap));
    snap.term = 1;
    snap.conf.n_voters = 1;
    snap.conf.voters[0] = 1;

    b_nsyncs = 0;
    spent = 0;
    batches = 0;
    entries = 0;

    while (spent < seconds) {
        for (i = 0; i < batch; i++) {
            e[i].index = *index + i;
            e[i].seq = *index + i;
        }

        /* the commit of a follower: whatever the leader said, here all */
        hs.term = 1;
        hs.vote = 1;
        hs.commit = *index + batch - 1;

        if (nc_raft_log_prepare(log) != NC_OK) {
            fprintf(stderr, "raft_log: prepare failed\n");
            exit(1);
        }

        if (*index - b_snap_index > 65536) {
            b_snap_index = *index - 1;
            snap.index = b_snap_index;

            if (nc_raft_log_snapshot_taken(log, &snap) != NC_OK) {
                fprintf(stderr, "raft_log: snapshot_taken failed\n");
                exit(1);
            }

            nc_raft_log_release(log);
        }

        b_timing = 1;
        t = b_now();

        if (nc_raft_log_append(log, &hs, e, batch) != NC_OK) {
            fprintf(stderr, "raft_log: append failed\n");
            exit(1);
        }

        spent += b_now() - t;
        b_timing = 0;

        *index += batch;
        batches++;
        entries += batch;
    }

    n = b_nsyncs;
    qsort(b_syncs, n, sizeof(double), b_cmp);
    p50 = n ? b_syncs[n / 2] : 0;
    p99 = n ? b_syncs[n * 99 / 100] : 0;

    printf("batch %3zu: %7.0f batches/s %9.0f entries/s %7.2f MB/s"
           "   fdatasync p50 %6.0f us p99 %6.0f us   (%" PRIu64 " batches,"
           " %zu syncs)\n", batch, batches / spent, entries / spent,
           entries * (double) B_ENTRY / spent / 1e6, p50 * 1e6, p99 * 1e6,
           batches, n);
}


static void
b_crc(void)
{
    int       k;
    double    t, hw, sw;
    size_t    len;
    u_char   *buf;
    uint32_t  c;

    len = 1 << 20;
    buf = malloc(len);
    memset(buf, 0x5a, len);
    c = 0;

    t = b_now();
    for (k = 0; k < 256; k++) {
        c = nc_crc32c(c, buf, len);
    }
    hw = 256.0 * len / (b_now() - t) / 1e9;

    t = b_now();
    for (k = 0; k < 32; k++) {
        c = nc_crc32c_sw(c, buf, len);
    }
    sw = 32.0 * len / (b_now() - t) / 1e9;

    printf("crc32c: %.1f GB/s (%s), slicing-by-8 %.1f GB/s   [%08x]\n", hw,
           nc_crc32c_hw_available() ? "sse4.2" : "no sse4.2: tables", sw, c);

    free(buf);
}


int
main(int argc, char **argv)
{
    char                  dir[PATH_MAX];
    double                seconds;
    uint64_t              index;
    const char           *base;
    nc_raft_log_t        *log;
    nc_raft_log_opts_t    opts;
    nc_raft_log_report_t  rep;
    static const size_t   batches[] = { 1, 16, 256 };
    size_t                i;

    seconds = argc > 1 ? atof(argv[1]) : 3;
    base = argc > 2 ? argv[2] : getenv("TMPDIR");

    if (base == NULL || *base == '\0') {
        base = "/tmp";
    }

    snprintf(dir, sizeof(dir), "%s/nacre-raft-log-bench.XXXXXX", base);

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    b_syncs = malloc(B_MAX_SYNCS * sizeof(double));

    memset(&opts, 0, sizeof(opts));
    memcpy(opts.cluster_id, "nacre-bench-clus", 16);
    opts.node_id = 1;
    opts.create = 1;
    opts.sync = b_sync;

    if (nc_raft_log_open(dir, &opts, &log, &rep) != NC_OK) {
        fprintf(stderr, "raft_log: %s\n", rep.text);
        return 1;
    }

    printf("raft log in %s, 64 MiB segments, %d-byte entries, %.1f s per"
           " case\n", dir, B_ENTRY, seconds);

    index = 1;

    for (i = 0; i < nc_nelems(batches); i++) {
        b_case(log, batches[i], seconds, &index);
    }

    nc_raft_log_close(log);
    (void) nftw(dir, b_rm, 16, FTW_DEPTH | FTW_PHYS);

    b_crc();

    return 0;
}
