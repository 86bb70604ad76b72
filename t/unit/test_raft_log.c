
/*
 * nacre: the durable Raft log (src/raft/nc_raft_log.c) and CRC-32C.
 *
 * Round trips through close and reopen, logical truncation, segment rolls,
 * compaction and reset; crashes simulated by cutting the last batch at
 * every 8-byte boundary; corruption of every kind refused with the files
 * left exactly as they were; the writer's own checks; a writer thread
 * against a reading loop thread; fdatasync failure aborting.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_crc32c.h>
#include <nc_raft_log.h>

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <cmocka.h>


/* paths are built into PATH_MAX buffers from shorter ones */
#if (defined __GNUC__ && !defined __clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif


#define T_SEG          8192               /* small segments: many rolls */
#define T_MAX_INDEX    8192
#define T_TAG          0x4552434eU


typedef struct {
    uint64_t                term[T_MAX_INDEX + 1];
    uint64_t                first;
    uint64_t                last;
    nc_raft_hard_state_t    hs;
} t_model_t;


static nc_log_t  test_log = { NC_LOG_WARN, -1, NULL };
static char      test_root[PATH_MAX];
static char      test_log_path[PATH_MAX];

static const u_char  t_cluster[16] = "nacre-test-clust";


/* --- entries -------------------------------------------------------------- */


static uint32_t
t_len(uint64_t index)
{
    switch (index % 7) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return 200;
    default:
        return (uint32_t) ((index * 37) % 300);
    }
}


static u_char
t_byte(uint64_t index, uint64_t term, size_t k)
{
    return (u_char) (index * 131 + term * 7 + k * 13 + (k >> 8));
}


/* entry index of term, its data in buf (at least t_len(index) bytes) */

static void
t_entry(nc_raft_entry_t *e, u_char *buf, uint64_t index, uint64_t term)
{
    size_t  k;

    memset(e, 0, sizeof(nc_raft_entry_t));
    e->index = index;
    e->term = term;
    e->type = index % 11 == 0 ? NC_RAFT_ENTRY_NOOP
              : index % 13 == 0 ? NC_RAFT_ENTRY_CONF : NC_RAFT_ENTRY_NORMAL;
    e->client_id = index % 3 ? index * 1000 + term : 0;
    e->seq = index ^ (term << 32);
    e->len = t_len(index);
    e->data = buf;

    for (k = 0; k < e->len; k++) {
        buf[k] = t_byte(index, term, k);
    }
}


static void
t_check_entry(const nc_raft_entry_t *e, uint64_t index, uint64_t term)
{
    size_t           k;
    u_char           buf[512];
    nc_raft_entry_t  x;

    t_entry(&x, buf, index, term);

    assert_int_equal(e->index, index);
    assert_int_equal(e->term, term);
    assert_int_equal(e->type, x.type);
    assert_int_equal(e->client_id, x.client_id);
    assert_int_equal(e->seq, x.seq);
    assert_int_equal(e->len, x.len);

    for (k = 0; k < e->len; k++) {
        if (e->data[k] != buf[k]) {
            fail_msg("entry %" PRIu64 " byte %zu differs", index, k);
        }
    }
}


/* entries lo .. lo + n - 1 of term, then hs if given, in one append */

static int
t_append_rc(nc_raft_log_t *log, t_model_t *m, const nc_raft_hard_state_t *hs,
    uint64_t lo, size_t n, uint64_t term)
{
    int               rc;
    size_t            i;
    nc_raft_entry_t   e[64];
    static u_char     bufs[64][512];

    assert_true(n <= 64);

    for (i = 0; i < n; i++) {
        t_entry(&e[i], bufs[i], lo + i, term);
    }

    rc = nc_raft_log_append(log, hs, e, n);

    if (rc == NC_OK && m) {
        for (i = 0; i < n; i++) {
            m->term[lo + i] = term;
        }

        if (n) {
            m->last = lo + n - 1;
        }

        if (hs) {
            m->hs = *hs;
        }
    }

    return rc;
}


static void
t_append(nc_raft_log_t *log, t_model_t *m, const nc_raft_hard_state_t *hs,
    uint64_t lo, size_t n, uint64_t term)
{
    assert_int_equal(t_append_rc(log, m, hs, lo, n, term), NC_OK);
}


static nc_raft_hard_state_t *
t_hs(uint64_t term, uint64_t vote, uint64_t commit)
{
    static nc_raft_hard_state_t  hs;

    hs.term = term;
    hs.vote = vote;
    hs.commit = commit;

    return &hs;
}


/* the log serves exactly the model from "first" on */

static void
t_verify(nc_raft_log_t *log, const t_model_t *m, uint64_t first)
{
    size_t                n, k;
    uint64_t              f, l, i, t;
    nc_raft_entry_t       out[16];
    nc_raft_storage_t     st;
    nc_raft_hard_state_t  hs;

    nc_raft_log_storage(log, &st);
    nc_raft_log_range(log, &f, &l);

    assert_int_equal(f, first);
    assert_int_equal(l, m->last);
    assert_int_equal(st.first_index(st.ctx), first);
    assert_int_equal(st.last_index(st.ctx), m->last);

    nc_raft_log_hard_state(log, &hs);
    assert_int_equal(hs.term, m->hs.term);
    assert_int_equal(hs.vote, m->hs.vote);
    assert_int_equal(hs.commit, m->hs.commit);

    if (first > 1 && first - 1 <= m->last && m->term[first - 1]) {
        assert_int_equal(st.term(st.ctx, first - 1, &t), NC_RAFT_OK);
        assert_int_equal(t, m->term[first - 1]);
    }

    for (i = first; i <= m->last; i += n) {
        n = 16;
        assert_int_equal(st.entries(st.ctx, i, m->last, out, &n, SIZE_MAX),
                         NC_RAFT_OK);
        assert_true(n >= 1 && n <= 16);

        for (k = 0; k < n; k++) {
            t_check_entry(&out[k], i + k, m->term[i + k]);
            assert_int_equal(st.term(st.ctx, i + k, &t), NC_RAFT_OK);
            assert_int_equal(t, m->term[i + k]);
        }
    }

    assert_int_equal(st.term(st.ctx, m->last + 1, &t), NC_RAFT_DECLINED);

    if (first > 2) {
        assert_int_equal(st.term(st.ctx, first - 2, &t), NC_RAFT_DECLINED);
        n = 1;
        assert_int_equal(st.entries(st.ctx, first - 1, first, out, &n,
                                    SIZE_MAX), NC_RAFT_DECLINED);
    }
}


/* --- files ---------------------------------------------------------------- */


static int
test_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}


static char *
t_path(char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", test_root, name);
    return buf;
}


/* a fresh directory under the test root */

static char *
t_dir(char *buf, const char *name)
{
    t_path(buf, name);
    (void) nftw(buf, test_rm, 16, FTW_DEPTH | FTW_PHYS);

    return buf;
}


static char *
t_seg(char *buf, const char *dir, uint64_t seq)
{
    snprintf(buf, PATH_MAX, "%s/wal/%016" PRIx64 ".wal", dir, seq);
    return buf;
}


static void
t_opts(nc_raft_log_opts_t *o, size_t seg)
{
    memset(o, 0, sizeof(nc_raft_log_opts_t));
    memcpy(o->cluster_id, t_cluster, 16);
    o->node_id = 1;
    o->segment_size = seg;
    o->create = 1;
    o->log = &test_log;
}


static nc_raft_log_t *
t_open(const char *dir, size_t seg)
{
    int                   rc;
    nc_raft_log_t        *log;
    nc_raft_log_opts_t    o;
    nc_raft_log_report_t  rep;

    t_opts(&o, seg);
    rc = nc_raft_log_open(dir, &o, &log, &rep);

    if (rc != NC_OK) {
        fail_msg("open \"%s\": %d: %s", dir, rc, rep.text);
    }

    assert_string_equal(rep.repair, "");

    return log;
}


static int
t_open_rc(const char *dir, size_t seg, nc_raft_log_report_t *rep)
{
    int                  rc;
    nc_raft_log_t       *log;
    nc_raft_log_opts_t   o;

    t_opts(&o, seg);
    rc = nc_raft_log_open(dir, &o, &log, rep);

    if (rc == NC_OK) {
        nc_raft_log_close(log);
    }

    return rc;
}


static u_char *
t_read(const char *path, size_t *len)
{
    int          fd;
    u_char      *p;
    struct stat  sb;

    fd = open(path, O_RDONLY);
    assert_true(fd != -1);
    assert_int_equal(fstat(fd, &sb), 0);

    p = malloc((size_t) sb.st_size + 1);
    assert_non_null(p);
    assert_int_equal(pread(fd, p, sb.st_size, 0), sb.st_size);
    close(fd);

    *len = (size_t) sb.st_size;

    return p;
}


static void
t_write(const char *path, const void *p, size_t len, off_t off)
{
    int  fd;

    fd = open(path, O_WRONLY);
    assert_true(fd != -1);
    assert_int_equal(pwrite(fd, p, len, off), (ssize_t) len);
    close(fd);
}


static void
t_flip(const char *path, off_t off)
{
    int     fd;
    u_char  c;

    fd = open(path, O_RDWR);
    assert_true(fd != -1);
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}


static void
t_zero(const char *path, off_t off, size_t len)
{
    u_char  *z;

    z = calloc(1, len ? len : 1);
    t_write(path, z, len, off);
    free(z);
}


static uint32_t
t_r32(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint64_t
t_r64(const u_char *p)
{
    return (uint64_t) t_r32(p) | (uint64_t) t_r32(p + 4) << 32;
}


static void
t_w32(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


static void
t_w64(u_char *p, uint64_t v)
{
    t_w32(p, (uint32_t) v);
    t_w32(p + 4, (uint32_t) (v >> 32));
}


typedef struct {
    size_t      off;
    size_t      extent;
    uint32_t    type;
    uint64_t    index;
} t_rec_t;


/* the records of a segment file, read by the documented format alone */

static size_t
t_records(const char *path, t_rec_t *recs, size_t max)
{
    size_t   n, len, off, rlen;
    u_char  *p;

    p = t_read(path, &len);
    n = 0;

    for (off = 64; off + 32 <= len && n < max; off += recs[n++].extent) {
        if (t_r64(p + off + 24) == 0) {
            break;
        }

        rlen = t_r32(p + off + 24);
        recs[n].off = off;
        recs[n].extent = (32 + rlen + 4 + 7) & ~(size_t) 7;
        recs[n].type = p[off + 28];
        recs[n].index = t_r64(p + off + 8);
        assert_int_equal(t_r32(p + off + recs[n].extent - 4), T_TAG);
    }

    free(p);

    return n;
}


/* rewrite a record's index or term and re-seal it with the segment's salt */

static void
t_patch(const char *path, size_t off, uint64_t index, uint64_t term)
{
    size_t    len;
    u_char   *p;
    uint32_t  salt;

    p = t_read(path, &len);
    salt = t_r32(p + 56);

    t_w64(p + off + 8, index);
    t_w64(p + off + 16, term);
    t_w32(p + off, nc_crc32c(salt, p + off + 4, 28));

    t_write(path, p + off, 32, (off_t) off);
    free(p);
}


static uint64_t  t_sum_acc;
static size_t    t_sum_files;


static int
t_sum_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    size_t   len;
    u_char  *p;

    if (flag != FTW_F || strcmp(path + ftw->base, "LOCK") == 0) {
        return 0;
    }

    p = t_read(path, &len);
    t_sum_acc += (uint64_t) nc_crc32c(nc_crc32c(0, path + ftw->base,
                                                strlen(path + ftw->base)),
                                      p, len) * 0x9e3779b97f4a7c15ULL
                 + len;
    t_sum_files++;
    free(p);

    return 0;
}


/* every file's name and bytes, LOCK aside (it holds the pid) */

static uint64_t
t_sum(const char *dir)
{
    t_sum_acc = 0;
    t_sum_files = 0;
    assert_int_equal(nftw(dir, t_sum_one, 16, FTW_PHYS), 0);

    return t_sum_acc ^ t_sum_files;
}


static size_t
t_count_segments(const char *dir)
{
    DIR            *d;
    char            path[PATH_MAX];
    size_t          n;
    struct dirent  *de;

    snprintf(path, sizeof(path), "%s/wal", dir);
    d = opendir(path);
    assert_non_null(d);
    n = 0;

    while ((de = readdir(d)) != NULL) {
        if (strlen(de->d_name) == 20 && strstr(de->d_name, ".wal")) {
            n++;
        }
    }

    closedir(d);

    return n;
}


static void
t_copy_file(const char *from, const char *to)
{
    int      fd;
    size_t   len;
    u_char  *p;

    p = t_read(from, &len);
    fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd != -1);
    assert_int_equal(write(fd, p, len), (ssize_t) len);
    close(fd);
    free(p);
}


/* dst becomes a copy of the log in src (IDENTITY and segments) */

static void
t_copy_log(const char *src, const char *dst)
{
    DIR            *d;
    char            a[PATH_MAX], b[PATH_MAX];
    struct dirent  *de;

    (void) nftw(dst, test_rm, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(mkdir(dst, 0700), 0);
    snprintf(a, sizeof(a), "%s/wal", dst);
    assert_int_equal(mkdir(a, 0700), 0);

    snprintf(a, sizeof(a), "%s/IDENTITY", src);
    snprintf(b, sizeof(b), "%s/IDENTITY", dst);
    t_copy_file(a, b);

    snprintf(a, sizeof(a), "%s/wal", src);
    d = opendir(a);
    assert_non_null(d);

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(a, sizeof(a), "%s/wal/%s", src, de->d_name);
        snprintf(b, sizeof(b), "%s/wal/%s", dst, de->d_name);
        t_copy_file(a, b);
    }

    closedir(d);
}


static void
test_log_has(const char *needle)
{
    size_t   len;
    u_char  *p;

    p = t_read(test_log_path, &len);
    p[len] = '\0';

    if (strstr((char *) p, needle) == NULL) {
        fail_msg("the log lacks \"%s\":\n%s", needle, p);
    }

    free(p);
    assert_int_equal(ftruncate(test_log.fd, 0), 0);
}


/* the open refuses, says where, and changes nothing, twice */

static void
t_refused(const char *dir, const char *file, const char *what)
{
    int                   rc;
    uint64_t              sum;
    nc_raft_log_report_t  rep;

    sum = t_sum(dir);

    rc = t_open_rc(dir, T_SEG, &rep);
    assert_int_equal(rc, NC_RAFT_LOG_CORRUPT);
    assert_int_equal(rep.code, NC_RAFT_LOG_CORRUPT);

    if ((file && strstr(rep.text, file) == NULL)
        || (what && strstr(rep.text, what) == NULL))
    {
        fail_msg("\"%s\" or \"%s\" not in: %s", file, what, rep.text);
    }

    assert_non_null(strstr(rep.text, "new node id"));
    assert_int_equal(t_sum(dir), sum);

    /* never repaired behind the operator's back */
    assert_int_equal(t_open_rc(dir, T_SEG, &rep), NC_RAFT_LOG_CORRUPT);
    assert_int_equal(t_sum(dir), sum);
}


/* --- CRC-32C -------------------------------------------------------------- */


static void
test_crc32c(void **state)
{
    size_t    i, len, off;
    u_char    buf[4096 + 8], zeros[32], ones[32], inc[32], dec[32];
    uint32_t  a;

    assert_int_equal(nc_crc32c(0, "123456789", 9), 0xE3069283);
    assert_int_equal(nc_crc32c_sw(0, "123456789", 9), 0xE3069283);
    assert_int_equal(nc_crc32c(0, "", 0), 0);

    /* RFC 3720 B.4 */
    for (i = 0; i < 32; i++) {
        zeros[i] = 0;
        ones[i] = 0xff;
        inc[i] = (u_char) i;
        dec[i] = (u_char) (31 - i);
    }

    assert_int_equal(nc_crc32c(0, zeros, 32), 0x8A9136AA);
    assert_int_equal(nc_crc32c(0, ones, 32), 0x62A8AB43);
    assert_int_equal(nc_crc32c(0, inc, 32), 0x46DD794E);
    assert_int_equal(nc_crc32c(0, dec, 32), 0x113FDB5C);
    assert_int_equal(nc_crc32c_sw(0, dec, 32), 0x113FDB5C);

    /* chaining, and both paths agree at every length and alignment */

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (u_char) (i * 7 + (i >> 5));
    }

    assert_int_equal(nc_crc32c(nc_crc32c(0, buf, 1000), buf + 1000, 3000),
                     nc_crc32c(0, buf, 4000));

    for (off = 0; off < 8; off++) {
        for (len = 0; len < 300; len++) {
            a = nc_crc32c_sw(0x12345678, buf + off, len);
            assert_int_equal(nc_crc32c(0x12345678, buf + off, len), a);
        }

        assert_int_equal(nc_crc32c(7, buf + off, 4096),
                         nc_crc32c_sw(7, buf + off, 4096));
    }

    print_message("crc32c: sse4.2 %s\n",
                  nc_crc32c_hw_available() ? "used" : "not available");
}


/* --- round trips ---------------------------------------------------------- */


static void
test_round_trip(void **state)
{
    char                path[PATH_MAX];
    uint64_t            i, node;
    t_model_t          *m;
    u_char              cid[16];
    nc_raft_log_t      *log;
    nc_raft_log_snap_t  snap;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "round");

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);

    nc_raft_log_snapshot_marker(log, &snap);
    assert_int_equal(snap.index, 0);

    t_append(log, m, t_hs(1, 1, 0), 1, 1, 1);
    t_append(log, m, NULL, 2, 5, 1);
    t_append(log, m, t_hs(2, 0, 3), 7, 3, 2);
    t_append(log, m, t_hs(2, 3, 6), 0, 0, 2);       /* hard state only */
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);

    nc_raft_log_identity(log, cid, &node);
    assert_memory_equal(cid, t_cluster, 16);
    assert_int_equal(node, 1);

    for (i = 10; i < 200; i += 9) {
        t_append(log, m, t_hs(3, 2, i - 2), i, 9, 3);
    }

    t_verify(log, m, 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    /* the stored identity is taken when the options leave it open */
    {
        nc_raft_log_opts_t    o;
        nc_raft_log_report_t  rep;

        t_opts(&o, T_SEG);
        memset(o.cluster_id, 0, 16);
        o.node_id = 0;
        o.create = 0;
        assert_int_equal(nc_raft_log_open(path, &o, &log, &rep), NC_OK);
        t_verify(log, m, 1);
        nc_raft_log_close(log);
    }

    free(m);
}


static void
test_truncation(void **state)
{
    char             path[PATH_MAX];
    t_model_t       *m;
    nc_raft_log_t   *log;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "trunc");

    log = t_open(path, T_SEG);
    t_append(log, m, t_hs(1, 1, 2), 1, 10, 1);

    /* a new leader of term 2 overwrites 6..: 6..8 of term 2 replace 6..10 */
    m->last = 5;
    t_append(log, m, t_hs(2, 2, 2), 6, 3, 2);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);

    /* again from 4, across the earlier overwrite */
    m->last = 3;
    t_append(log, m, t_hs(3, 3, 3), 4, 2, 3);
    t_append(log, m, NULL, 6, 4, 3);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    free(m);
}


static void
test_roll(void **state)
{
    char              path[PATH_MAX];
    size_t            n;
    uint64_t          i, seq, off;
    t_model_t        *m;
    nc_raft_log_t    *log;
    nc_raft_entry_t   e;
    static u_char     big[3 * T_SEG];

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "roll");

    log = t_open(path, T_SEG);

    for (i = 1, n = 1; i < 1200; i += n, n = n % 13 + 1) {
        t_append(log, m, t_hs(1 + i / 300, 1, i / 2), i, n, 1 + i / 300);

        if (i % 100 == 1) {
            assert_int_equal(nc_raft_log_prepare(log), NC_OK);
        }
    }

    t_verify(log, m, 1);
    nc_raft_log_position(log, &seq, &off);
    assert_true(seq > 20);
    assert_int_equal(t_count_segments(path), seq);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);

    /* an entry larger than a segment gets a segment of its own */

    memset(&e, 0, sizeof(e));
    e.index = m->last + 1;
    e.term = m->term[m->last];
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.len = sizeof(big);
    e.data = big;
    memset(big, 0xab, sizeof(big));

    assert_int_equal(nc_raft_log_append(log, NULL, &e, 1), NC_OK);
    m->last++;
    m->term[m->last] = e.term;

    nc_raft_log_position(log, &off, &i);
    assert_int_equal(off, seq + 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    {
        nc_raft_entry_t    out;
        nc_raft_storage_t  st;

        nc_raft_log_storage(log, &st);
        n = 1;
        assert_int_equal(st.entries(st.ctx, m->last, m->last, &out, &n, 1),
                         NC_RAFT_OK);
        assert_int_equal(n, 1);
        assert_int_equal(out.len, sizeof(big));
        assert_memory_equal(out.data, big, sizeof(big));
    }

    /* overwritten by small ones */
    m->last--;
    t_append(log, m, NULL, m->last + 1, 3, m->term[m->last]);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    free(m);
}


/* the highest entry index in each segment file, by the format alone */

static void
t_seg_max(const char *dir, uint64_t first_seq, uint64_t last_seq,
    uint64_t *max)
{
    char      path[PATH_MAX];
    size_t    i, n;
    uint64_t  seq;
    t_rec_t   recs[512];

    for (seq = first_seq; seq <= last_seq; seq++) {
        n = t_records(t_seg(path, dir, seq), recs, 512);
        max[seq] = 0;

        for (i = 0; i < n; i++) {
            if (recs[i].type <= 3 && recs[i].index > max[seq]) {
                max[seq] = recs[i].index;
            }
        }
    }
}


static void
test_compaction(void **state)
{
    char                path[PATH_MAX], seg[PATH_MAX];
    uint64_t            i, k, seq, off, max[512], first, last, gone;
    t_model_t          *m;
    nc_raft_log_t      *log;
    nc_raft_log_snap_t  snap, got;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "compact");

    log = t_open(path, T_SEG);

    for (i = 1; i < 400; i += 4) {
        t_append(log, m, t_hs(1, 1, i + 3), i, 4, 1);
    }

    nc_raft_log_position(log, &seq, &off);
    t_seg_max(path, 1, seq, max);

    memset(&snap, 0, sizeof(snap));
    snap.index = 100;
    snap.term = 1;
    snap.conf.n_voters = 3;
    snap.conf.voters[0] = 1;
    snap.conf.voters[1] = 2;
    snap.conf.voters[2] = 3;
    snap.conf.n_learners = 1;
    snap.conf.learners[0] = 4;
    snap.meta_len = 9;
    memcpy(snap.meta, "snap-0100", 9);

    /* no previous snapshot: nothing goes yet */
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_OK);
    assert_int_equal(t_count_segments(path), seq);
    t_verify(log, m, 1);

    snap.index = 250;
    memcpy(snap.meta, "snap-0250", 9);
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_OK);

    /* the oldest segments whose entries are all <= 100 are gone */

    for (k = 1; max[k] <= 100; k++) {
        assert_int_equal(access(t_seg(seg, path, k), F_OK), -1);
    }

    assert_true(k > 2);
    assert_int_equal(access(t_seg(seg, path, k), F_OK), 0);
    gone = max[k - 1];

    t_verify(log, m, gone + 1);
    nc_raft_log_release(log);
    t_verify(log, m, gone + 1);

    nc_raft_log_snapshot_marker(log, &got);
    assert_int_equal(got.index, 250);
    assert_int_equal(got.conf.n_voters, 3);
    assert_int_equal(got.conf.learners[0], 4);
    assert_memory_equal(got.meta, "snap-0250", 9);
    nc_raft_log_close(log);

    /* after a restart the first entry left may anchor the log instead */

    log = t_open(path, T_SEG);
    nc_raft_log_range(log, &first, &last);
    assert_true(first == gone + 1 || first == gone + 2);
    t_verify(log, m, first);

    nc_raft_log_snapshot_marker(log, &got);
    assert_int_equal(got.index, 250);
    assert_memory_equal(got.meta, "snap-0250", 9);

    /* and compaction goes on from there */

    for (i = 401; i < 600; i += 4) {
        t_append(log, m, t_hs(1, 1, i + 3), i, 4, 1);
    }

    nc_raft_log_position(log, &seq, &off);
    t_seg_max(path, k, seq, max);

    snap.index = 500;
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_OK);

    for (i = k; max[i] <= 250; i++) {
        assert_int_equal(access(t_seg(seg, path, i), F_OK), -1);
    }

    assert_true(i > k);
    t_verify(log, m, max[i - 1] + 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    nc_raft_log_range(log, &first, &last);
    assert_true(first == max[i - 1] + 1 || first == max[i - 1] + 2);
    t_verify(log, m, first);
    nc_raft_log_close(log);

    free(m);
}


static void
test_reset(void **state)
{
    char                path[PATH_MAX];
    uint64_t            t;
    t_model_t          *m;
    nc_raft_log_t      *log;
    nc_raft_storage_t   st;
    nc_raft_log_snap_t  snap, got;
    nc_raft_snapshot_t  image, out;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "reset");

    log = t_open(path, T_SEG);

    t_append(log, m, t_hs(1, 1, 10), 1, 30, 1);
    t_append(log, m, t_hs(2, 2, 40), 31, 30, 2);
    assert_true(t_count_segments(path) >= 2);

    memset(&snap, 0, sizeof(snap));
    snap.index = 80;
    snap.term = 3;
    snap.conf.n_voters = 2;
    snap.conf.voters[0] = 1;
    snap.conf.voters[1] = 5;
    snap.meta_len = 3;
    memcpy(snap.meta, "abc", 3);

    /* the storage serves no image until the caller gives one */
    nc_raft_log_storage(log, &st);
    assert_int_equal(st.snapshot(st.ctx, &out), NC_RAFT_AGAIN);

    assert_int_equal(nc_raft_log_reset(log, &snap), NC_OK);
    assert_int_equal(t_count_segments(path), 1);

    memset(m->term, 0, sizeof(m->term));
    m->last = 80;
    m->term[80] = 3;
    t_verify(log, m, 81);
    assert_int_equal(st.term(st.ctx, 80, &t), NC_RAFT_OK);
    assert_int_equal(t, 3);

    memset(&image, 0, sizeof(image));
    image.index = 80;
    image.term = 3;
    image.data = (const u_char *) "image";
    image.len = 5;
    nc_raft_log_set_snapshot(log, &image);
    assert_int_equal(st.snapshot(st.ctx, &out), NC_RAFT_OK);
    assert_int_equal(out.index, 80);
    assert_int_equal(out.len, 5);

    t_append(log, m, t_hs(3, 5, 85), 81, 10, 3);
    t_verify(log, m, 81);
    nc_raft_log_release(log);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 81);

    nc_raft_log_snapshot_marker(log, &got);
    assert_int_equal(got.index, 80);
    assert_int_equal(got.term, 3);
    assert_int_equal(got.conf.n_voters, 2);
    assert_int_equal(got.conf.voters[1], 5);
    assert_int_equal(got.meta_len, 3);
    assert_memory_equal(got.meta, "abc", 3);

    /* a reset may not go back */
    snap.index = 70;
    assert_int_equal(nc_raft_log_reset(log, &snap), NC_ERROR);
    test_log_has("the snapshot marker goes back");
    t_verify(log, m, 81);
    nc_raft_log_close(log);

    free(m);
}


/* --- crashes -------------------------------------------------------------- */


/*
 * Several synced batches, then a last one; the files as they were after
 * the last batch are the "disk".  For every 8-byte boundary p inside the
 * last batch, a copy of the disk loses everything from p on (zeroed, or
 * the file cut there): the open repairs, keeps all earlier batches and the
 * records of the last batch that end before p, nothing else.
 */

static void
t_crash(const char *name, int roll)
{
    int                   rc, cut;
    char                  base[PATH_MAX], work[PATH_MAX], seg[PATH_MAX];
    char                  name2[PATH_MAX];
    size_t                i, n, p, start, end, kept_ents, cases, need;
    uint64_t              seq0, off0, seq1, off1, i0, seq;
    t_rec_t               recs[256];
    t_model_t            *m, *x;
    nc_raft_log_t        *log;
    nc_raft_log_report_t  rep;

    m = calloc(1, sizeof(t_model_t));
    x = calloc(1, sizeof(t_model_t));

    snprintf(name2, sizeof(name2), "%s-work", name);
    t_dir(base, name);
    t_dir(work, name2);

    log = t_open(base, T_SEG);

    for (i0 = 1; i0 < 22; i0 += 3) {
        t_append(log, m, t_hs(1, 1, i0), i0, 3, 1);
    }

    /* with roll, fill the segment so that the last batch needs a new one */

    for ( ;; ) {
        nc_raft_log_position(log, &seq0, &off0);
        i0 = m->last + 1;
        need = 64;

        for (i = 0; i < 5; i++) {
            need += (32 + 16 + t_len(i0 + i) + 4 + 7) & ~(size_t) 7;
        }

        if (!roll || T_SEG - off0 - 48 < need) {
            break;
        }

        t_append(log, m, NULL, i0, 1, 1);
    }

    *x = *m;
    t_append(log, m, t_hs(2, 2, i0 + 1), i0, 5, 2);

    nc_raft_log_position(log, &seq1, &off1);
    nc_raft_log_close(log);

    assert_int_equal(seq1, seq0 + (roll ? 1 : 0));

    start = seq1 != seq0 ? 64 : off0;
    end = off1;
    seq = seq1;

    n = t_records(t_seg(seg, base, seq), recs, 256);

    cases = 0;

    for (cut = 0; cut < 2; cut++) {
        for (p = start; p <= end; p += 8) {

            t_copy_log(base, work);
            t_seg(seg, work, seq);

            if (cut) {
                assert_int_equal(truncate(seg, (off_t) p), 0);

            } else {
                t_zero(seg, (off_t) p, end - p);
            }

            rc = nc_raft_log_open(work, &(nc_raft_log_opts_t) {
                                      .segment_size = T_SEG, .log = &test_log,
                                      .node_id = 1 }, &log, &rep);
            if (rc != NC_OK) {
                fail_msg("cut at %zu of [%zu, %zu): %s", p, start, end,
                         rep.text);
            }

            /* what survives: the last batch's records ending by p */

            *m = *x;
            kept_ents = 0;

            for (i = 0; i < n; i++) {
                if (recs[i].off < start || recs[i].off + recs[i].extent > p) {
                    continue;
                }

                if (recs[i].type <= 3) {
                    m->term[recs[i].index] = 2;
                    m->last = recs[i].index;
                    kept_ents++;

                } else if (recs[i].type == 4 && recs[i].off >= start
                           && kept_ents == 5)
                {
                    m->hs = *t_hs(2, 2, i0 + 1);
                }
            }

            t_verify(log, m, 1);

            /* a repair is reported exactly when p cuts a record */

            for (i = 0; i < n; i++) {
                if (recs[i].off == p) {
                    break;
                }
            }

            if (p == end || i < n) {
                assert_string_equal(rep.repair, "");

            } else {
                if (strstr(rep.repair, "truncated torn tail of") == NULL
                    || strstr(rep.repair, seg) == NULL)
                {
                    fail_msg("cut at %zu: repair \"%s\"", p, rep.repair);
                }
            }

            /* the repaired log takes writes and reopens clean */
            t_append(log, m, t_hs(3, 3, 2), m->last + 1, 2, 3);
            nc_raft_log_close(log);

            log = t_open(work, T_SEG);
            t_verify(log, m, 1);
            nc_raft_log_close(log);

            cases++;
        }
    }

    print_message("%s: %zu cuts of the %zu-byte batch at [%zu, %zu) of"
                  " segment %" PRIu64 "\n", name, cases, end - start, start,
                  end, seq);

    free(m);
    free(x);
}


static void
test_crash_tail(void **state)
{
    t_crash("crash", 0);
}


static void
test_crash_roll(void **state)
{
    t_crash("crash-roll", 1);
}


/*
 * A crash in a roll after the SEGMENT_END was synced but before the
 * rename of the next segment reached the disk: the batch that rolled was
 * never written, and the next write starts the next segment itself.
 */

static void
test_crash_after_end(void **state)
{
    char            path[PATH_MAX], seg[PATH_MAX];
    uint64_t        i, seq0, off0, seq1, off1;
    t_model_t      *m, *x;
    nc_raft_log_t  *log;

    m = calloc(1, sizeof(t_model_t));
    x = calloc(1, sizeof(t_model_t));
    t_dir(path, "crash-end");

    log = t_open(path, T_SEG);

    for (i = 1; /* void */; i += 3) {
        *x = *m;
        nc_raft_log_position(log, &seq0, &off0);
        t_append(log, m, t_hs(1, 1, i), i, 3, 1);
        nc_raft_log_position(log, &seq1, &off1);

        if (seq1 != seq0) {
            break;
        }
    }

    nc_raft_log_close(log);

    assert_int_equal(unlink(t_seg(seg, path, seq1)), 0);

    log = t_open(path, T_SEG);
    t_verify(log, x, 1);
    t_append(log, x, t_hs(2, 2, 3), x->last + 1, 2, 2);
    nc_raft_log_position(log, &seq0, &off0);
    assert_int_equal(seq0, seq1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, x, 1);
    nc_raft_log_close(log);

    free(m);
    free(x);
}


/* --- corruption ----------------------------------------------------------- */


static void
t_build(const char *path, t_model_t *m, uint64_t n)
{
    uint64_t        i;
    nc_raft_log_t  *log;

    log = t_open(path, T_SEG);

    for (i = 1; i <= n; i++) {
        t_append(log, m, t_hs(1, 1, i > 2 ? i - 2 : 0), i, 1, 1);
    }

    nc_raft_log_close(log);
}


static void
test_corrupt_middle(void **state)
{
    char        path[PATH_MAX], seg[PATH_MAX], off[64];
    size_t      n;
    t_rec_t     recs[64];
    t_model_t  *m;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "bad-middle");
    t_build(path, m, 8);

    t_seg(seg, path, 1);
    n = t_records(seg, recs, 64);
    assert_true(n > 10);

    /* a payload byte of a record in the middle */
    t_flip(seg, (off_t) (recs[6].off + 40));
    snprintf(off, sizeof(off), "offset %zu", recs[6].off);
    t_refused(path, "0000000000000001.wal", off);
    t_flip(seg, (off_t) (recs[6].off + 40));
    t_open_rc(path, T_SEG, &(nc_raft_log_report_t) { 0 });

    /* a header byte */
    t_flip(seg, (off_t) (recs[5].off + 9));
    t_refused(path, "0000000000000001.wal", "header CRC mismatch");
    t_flip(seg, (off_t) (recs[5].off + 9));

    /* a whole record zeroed, as by a lost write: valid ones follow */
    t_zero(seg, (off_t) recs[4].off, recs[4].extent);
    t_refused(path, "0000000000000001.wal", "a valid record follows");

    free(m);
}


/* the last record is whole (its end tag is there) but a byte changed */

static void
test_corrupt_last(void **state)
{
    char        path[PATH_MAX], seg[PATH_MAX];
    size_t      n;
    t_rec_t     recs[64];
    t_model_t  *m;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "bad-last");
    t_build(path, m, 5);

    t_seg(seg, path, 1);
    n = t_records(seg, recs, 64);

    /* the hard state, unreadable: refused, never taken for a torn write */
    assert_int_equal(recs[n - 1].type, 4);
    t_flip(seg, (off_t) (recs[n - 1].off + 40));
    t_refused(path, "0000000000000001.wal", "payload CRC mismatch");
    t_flip(seg, (off_t) (recs[n - 1].off + 40));

    t_flip(seg, (off_t) (recs[n - 1].off + 3));
    t_refused(path, "0000000000000001.wal", "header CRC mismatch");
    t_flip(seg, (off_t) (recs[n - 1].off + 3));

    /* an end tag changed, not zeroed */
    t_flip(seg, (off_t) (recs[n - 1].off + recs[n - 1].extent - 2));
    t_refused(path, "0000000000000001.wal", "bad end of record");

    free(m);
}


static void
test_corrupt_segments(void **state)
{
    char          path[PATH_MAX], seg[PATH_MAX], other[PATH_MAX];
    char          oseg[PATH_MAX];
    size_t        n, len;
    u_char       *p;
    t_rec_t       recs[128];
    uint64_t      seq, off;
    t_model_t    *m;
    nc_raft_log_t *log;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "bad-segs");
    t_build(path, m, 120);

    log = t_open(path, T_SEG);
    nc_raft_log_position(log, &seq, &off);
    nc_raft_log_close(log);
    assert_true(seq >= 4);

    /* a byte in the last record of a segment that is not the last */
    t_seg(seg, path, 2);
    n = t_records(seg, recs, 128);
    assert_int_equal(recs[n - 1].type, 6);
    t_flip(seg, (off_t) (recs[n - 2].off + 36));
    t_refused(path, "0000000000000002.wal", "not the last");
    t_flip(seg, (off_t) (recs[n - 2].off + 36));

    /* its SEGMENT_END lost */
    p = t_read(seg, &len);
    t_zero(seg, (off_t) recs[n - 1].off, recs[n - 1].extent);
    t_refused(path, "0000000000000002.wal", "without SEGMENT_END");
    t_write(seg, p, len, 0);

    /* another salt: no record of the segment validates any more */
    {
        u_char  h[64];

        memcpy(h, p, 64);
        t_w32(h + 56, t_r32(h + 56) + 1);
        t_w32(h + 12, 0);
        t_w32(h + 12, nc_crc32c(0, h, 64));
        t_write(seg, h, 64, 0);
        t_refused(path, "0000000000000002.wal", "header CRC mismatch");
        t_write(seg, p, len, 0);
    }

    /* the header itself */
    t_flip(seg, 20);
    t_refused(path, "0000000000000002.wal", "segment header refused");
    t_flip(seg, 20);
    free(p);

    /* a missing segment in the middle */
    t_seg(other, path, 1000);
    assert_int_equal(rename(seg, other), 0);
    t_refused(path, "0000000000000002.wal", "is missing");
    assert_int_equal(rename(other, seg), 0);

    /* a segment of another cluster */
    t_dir(other, "bad-segs-other");
    {
        nc_raft_log_opts_t    o;
        nc_raft_log_report_t  rep;

        t_opts(&o, T_SEG);
        o.cluster_id[0] ^= 1;
        assert_int_equal(nc_raft_log_open(other, &o, &log, &rep), NC_OK);
        t_append(log, NULL, t_hs(1, 1, 0), 1, 1, 1);
        nc_raft_log_close(log);
    }

    p = t_read(seg, &len);
    t_copy_file(t_seg(oseg, other, 1), seg);
    t_refused(path, "0000000000000002.wal", "another cluster");
    t_write(seg, p, len, 0);
    free(p);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    free(m);
}


static void
test_corrupt_identity(void **state)
{
    int                   rc;
    char                  path[PATH_MAX], id[PATH_MAX], seg[PATH_MAX];
    t_model_t            *m;
    nc_raft_log_t        *log;
    nc_raft_log_opts_t    o;
    nc_raft_log_report_t  rep;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "bad-id");
    t_build(path, m, 4);

    /* another node id */
    t_opts(&o, T_SEG);
    o.node_id = 2;
    rc = nc_raft_log_open(path, &o, &log, &rep);
    assert_int_equal(rc, NC_RAFT_LOG_CORRUPT);
    assert_non_null(strstr(rep.text, "belongs to node 1"));

    /* another cluster */
    t_opts(&o, T_SEG);
    o.cluster_id[3] = 'X';
    assert_int_equal(nc_raft_log_open(path, &o, &log, &rep),
                     NC_RAFT_LOG_CORRUPT);

    /* IDENTITY damaged, then gone */
    snprintf(id, sizeof(id), "%s/IDENTITY", path);
    t_flip(id, 33);
    t_refused(path, "IDENTITY", "is corrupt");
    t_flip(id, 33);

    assert_int_equal(rename(id, t_path(seg, "saved-identity")), 0);
    t_refused(path, "IDENTITY", "is missing");
    assert_int_equal(rename(seg, id), 0);

    /* every segment gone */
    assert_int_equal(rename(t_seg(seg, path, 1), t_path(id, "saved-seg")),
                     0);
    t_refused(path, "wal", "holds no segments");
    assert_int_equal(rename(id, seg), 0);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    free(m);
}


/* records rewritten with valid CRCs but breaking the log's rules */

static void
test_corrupt_rules(void **state)
{
    char        path[PATH_MAX], seg[PATH_MAX];
    size_t      n, i, e[8], k;
    t_rec_t     recs[64];
    t_model_t  *m;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "bad-rules");

    {
        nc_raft_log_t  *log;

        log = t_open(path, T_SEG);
        t_append(log, m, t_hs(2, 1, 3), 1, 3, 1);
        t_append(log, m, t_hs(2, 1, 4), 4, 3, 2);
        nc_raft_log_close(log);
    }

    t_seg(seg, path, 1);
    n = t_records(seg, recs, 64);

    for (i = 0, k = 0; i < n; i++) {
        if (recs[i].type <= 3) {
            e[k++] = i;
        }
    }

    assert_int_equal(k, 6);

    /* index 5 written as 6: a gap */
    t_patch(seg, recs[e[4]].off, 6, 2);
    t_refused(path, "0000000000000001.wal", "a gap in the indexes");
    t_patch(seg, recs[e[4]].off, 5, 2);

    /* index 5 of term 1 after index 4 of term 2 */
    t_patch(seg, recs[e[4]].off, 5, 1);
    t_refused(path, "0000000000000001.wal", "the term goes down");
    t_patch(seg, recs[e[4]].off, 5, 2);

    /* index 6 written as 2: overwrites the committed index 2 */
    t_patch(seg, recs[e[5]].off, 2, 2);
    t_refused(path, "0000000000000001.wal", "overwrites a committed");
    t_patch(seg, recs[e[5]].off, 6, 2);

    /* index 6 written as 0: no entry has index 0 */
    t_patch(seg, recs[e[5]].off, 0, 2);
    t_refused(path, "0000000000000001.wal", "bad payload");
    t_patch(seg, recs[e[5]].off, 6, 2);

    {
        nc_raft_log_t  *log;

        log = t_open(path, T_SEG);
        t_verify(log, m, 1);
        nc_raft_log_close(log);
    }

    free(m);
}


/* --- the writer's own checks, failures ------------------------------------ */


static void
test_writer_refuses(void **state)
{
    char                  path[PATH_MAX];
    uint64_t              seq, off, seq2, off2;
    t_model_t            *m;
    nc_raft_log_t        *log;
    nc_raft_entry_t       e;
    nc_raft_log_snap_t    snap;
    struct rlimit         rl, old;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "writer");

    log = t_open(path, T_SEG);
    t_append(log, m, t_hs(2, 1, 4), 1, 6, 2);
    nc_raft_log_position(log, &seq, &off);

    /* a gap */
    assert_int_equal(t_append_rc(log, NULL, NULL, 8, 1, 2), NC_ERROR);
    test_log_has("a gap in the indexes");

    /* overwriting committed entries */
    assert_int_equal(t_append_rc(log, NULL, NULL, 3, 2, 3), NC_ERROR);
    test_log_has("overwrites a committed");

    /* a lower term */
    assert_int_equal(t_append_rc(log, NULL, NULL, 7, 1, 1), NC_ERROR);
    test_log_has("the term goes down");

    /* hard states that go back or vote twice */
    assert_int_equal(t_append_rc(log, NULL, t_hs(1, 1, 4), 0, 0, 0),
                     NC_ERROR);
    test_log_has("term goes down");
    assert_int_equal(t_append_rc(log, NULL, t_hs(2, 3, 4), 0, 0, 0),
                     NC_ERROR);
    test_log_has("changes the vote");

    /* commit beyond the log */
    assert_int_equal(t_append_rc(log, NULL, t_hs(2, 1, 9), 0, 0, 0),
                     NC_ERROR);
    test_log_has("committed but the log ends");

    /* a snapshot beyond the log, or of another term */
    memset(&snap, 0, sizeof(snap));
    snap.index = 9;
    snap.term = 2;
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_ERROR);
    test_log_has("beyond the end of the log");
    snap.index = 5;
    snap.term = 1;
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_ERROR);
    test_log_has("term differs");

    /* a snapshot with too many members */
    snap.index = 5;
    snap.term = 2;
    snap.conf.n_voters = NC_RAFT_MAX_MEMBERS;
    snap.conf.n_learners = 1;
    assert_int_equal(nc_raft_log_snapshot_taken(log, &snap), NC_ERROR);
    test_log_has("refused: 16 voters, 1 learners");

    /* a bad entry type */
    memset(&e, 0, sizeof(e));
    e.index = 7;
    e.term = 2;
    e.type = 9;
    assert_int_equal(nc_raft_log_append(log, NULL, &e, 1), NC_ERROR);

    /* nothing of that was written */
    nc_raft_log_position(log, &seq2, &off2);
    assert_int_equal(seq2, seq);
    assert_int_equal(off2, off);
    t_verify(log, m, 1);

    /* a failed write (the file size limit): the log stops taking writes */

    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    rl = old;
    rl.rlim_cur = off;
    assert_int_equal(ftruncate(test_log.fd, 0), 0);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);

    assert_int_equal(t_append_rc(log, NULL, NULL, 7, 1, 2), NC_ERROR);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);

    test_log_has("refuses further writes");
    assert_int_equal(t_append_rc(log, NULL, NULL, 7, 1, 2), NC_ERROR);
    test_log_has("write refused after an earlier write failed");
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    t_append(log, m, NULL, 7, 1, 2);
    nc_raft_log_close(log);

    free(m);
}


static void
test_lock_and_create(void **state)
{
    char                  path[PATH_MAX];
    t_model_t            *m;
    nc_raft_log_t        *log, *log2;
    nc_raft_log_opts_t    o;
    nc_raft_log_report_t  rep;

    m = calloc(1, sizeof(t_model_t));
    t_dir(path, "lock");

    /* no log and no create: nothing made */
    t_opts(&o, T_SEG);
    o.create = 0;
    assert_int_equal(nc_raft_log_open(path, &o, &log, &rep), NC_DECLINED);
    assert_int_equal(access(path, F_OK), -1);

    /* create needs an identity */
    t_opts(&o, T_SEG);
    o.node_id = 0;
    assert_int_equal(nc_raft_log_open(path, &o, &log, &rep), NC_ERROR);
    assert_non_null(strstr(rep.text, "node id are needed"));

    log = t_open(path, T_SEG);
    t_append(log, m, t_hs(1, 1, 0), 1, 2, 1);

    t_opts(&o, T_SEG);
    assert_int_equal(nc_raft_log_open(path, &o, &log2, &rep), NC_BUSY);
    assert_non_null(strstr(rep.text, "LOCK\" is locked by another process"));

    {
        char  pid[32];

        snprintf(pid, sizeof(pid), "(pid %d)", (int) getpid());
        assert_non_null(strstr(rep.text, pid));
    }

    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    t_verify(log, m, 1);
    nc_raft_log_close(log);

    free(m);
}


static int  t_sync_fail;


static int
t_sync(int fd)
{
    if (t_sync_fail) {
        errno = EIO;
        return -1;
    }

    return fdatasync(fd);
}


static void
test_sync_failure_aborts(void **state)
{
    int                   status;
    char                  path[PATH_MAX];
    pid_t                 pid;
    nc_raft_log_t        *log;
    nc_raft_log_opts_t    o;
    nc_raft_log_report_t  rep;

    t_dir(path, "fsyncgate");

    t_opts(&o, T_SEG);
    o.sync = t_sync;
    assert_int_equal(nc_raft_log_open(path, &o, &log, &rep), NC_OK);
    t_append(log, NULL, t_hs(1, 1, 0), 1, 2, 1);

    pid = fork();
    assert_true(pid != -1);

    if (pid == 0) {
        t_sync_fail = 1;
        (void) t_append_rc(log, NULL, NULL, 3, 1, 1);
        _exit(0);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    test_log_has("fdatasync() \"");
    nc_raft_log_close(log);
}


/* --- one writer thread, one loop thread ----------------------------------- */


#define T_THREAD_LAST  3000


static int  t_writer_done;


static uint64_t
t_thread_term(uint64_t i)
{
    return 1 + i / 700;
}


static void *
t_writer(void *arg)
{
    size_t               n, k;
    uint64_t             i;
    nc_raft_log_t       *log;
    nc_raft_entry_t      e[16];
    nc_raft_log_snap_t   snap;
    static u_char        bufs[16][512];

    log = arg;
    memset(&snap, 0, sizeof(snap));

    for (i = 1, n = 1; i <= T_THREAD_LAST; i += n, n = n % 16 + 1) {
        n = nc_min(n, T_THREAD_LAST + 1 - i);

        for (k = 0; k < n; k++) {
            t_entry(&e[k], bufs[k], i + k, t_thread_term(i + k));
        }

        if (nc_raft_log_append(log, t_hs(t_thread_term(i + n - 1), 1, i), e,
                               n) != NC_OK)
        {
            abort();
        }

        if (i / 400 != (i + n) / 400) {
            snap.index = i;
            snap.term = t_thread_term(i);

            if (nc_raft_log_snapshot_taken(log, &snap) != NC_OK) {
                abort();
            }
        }
    }

    __atomic_store_n(&t_writer_done, 1, __ATOMIC_RELEASE);

    return NULL;
}


static void
test_threads(void **state)
{
    char                path[PATH_MAX];
    size_t              n, k, reads;
    uint64_t            first, last, i, t, x;
    pthread_t           th;
    nc_raft_log_t      *log;
    nc_raft_entry_t     out[8];
    nc_raft_storage_t   st;

    t_dir(path, "threads");
    log = t_open(path, T_SEG);
    nc_raft_log_storage(log, &st);

    t_writer_done = 0;
    assert_int_equal(pthread_create(&th, NULL, t_writer, log), 0);

    reads = 0;
    x = 12345;

    while (!__atomic_load_n(&t_writer_done, __ATOMIC_ACQUIRE)) {
        nc_raft_log_range(log, &first, &last);

        if (last < first) {
            continue;
        }

        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        i = first + (x >> 33) % (last - first + 1);

        /* the log may be compacted past i meanwhile: then DECLINED */

        if (st.term(st.ctx, i, &t) == NC_RAFT_OK) {
            assert_int_equal(t, t_thread_term(i));
        }

        n = 8;

        if (st.entries(st.ctx, i, nc_min(i + 7, last), out, &n, SIZE_MAX)
            == NC_RAFT_OK)
        {
            for (k = 0; k < n; k++) {
                t_check_entry(&out[k], i + k, t_thread_term(i + k));
            }

            reads += n;
        }

        /* as after nc_raft_advance(): nothing read before is held */
        if (reads % 64 == 0) {
            nc_raft_log_release(log);
        }
    }

    assert_int_equal(pthread_join(th, NULL), 0);

    nc_raft_log_range(log, &first, &last);
    assert_int_equal(last, T_THREAD_LAST);
    assert_true(first > 1);
    nc_raft_log_close(log);

    log = t_open(path, T_SEG);
    nc_raft_log_range(log, &first, &last);
    assert_int_equal(last, T_THREAD_LAST);

    for (i = first; i <= last; i++) {
        n = 1;
        assert_int_equal(st.entries(log, i, i, out, &n, SIZE_MAX),
                         NC_RAFT_OK);
        t_check_entry(&out[0], i, t_thread_term(i));
    }

    nc_raft_log_close(log);

    print_message("threads: %zu entries read while writing\n", reads);
}


/* --- with the Raft core --------------------------------------------------- */


typedef struct {
    nc_raft_t          *r;
    nc_raft_log_t      *log;
    uint64_t            applied;
    uint64_t            sum;              /* of applied client ids */
} t_node_t;


/* the caller's side of the ready contract, synchronously */

static void
t_node_ready(t_node_t *nd)
{
    size_t           i;
    nc_raft_ready_t  rd;

    while (nc_raft_has_ready(nd->r)) {
        nc_raft_ready(nd->r, &rd);

        assert_null(rd.snapshot);
        assert_int_equal(nc_raft_log_append(nd->log,
                                            rd.hs_changed ? &rd.hs : NULL,
                                            rd.entries, rd.n_entries),
                         NC_OK);

        for (i = 0; i < rd.n_committed; i++) {
            assert_int_equal(rd.committed[i].index, nd->applied + 1);
            nd->applied++;
            nd->sum += rd.committed[i].client_id;
        }

        nc_raft_advance(nd->r);
        nc_raft_log_release(nd->log);
    }
}


static void
t_node_start(t_node_t *nd, const char *path)
{
    nc_raft_config_t  cf;

    nd->log = t_open(path, T_SEG);
    nd->applied = 0;
    nd->sum = 0;

    memset(&cf, 0, sizeof(cf));
    cf.id = 1;
    cf.election_tick = 10;
    cf.heartbeat_tick = 1;
    cf.seed = 7;
    cf.conf.n_voters = 1;
    cf.conf.voters[0] = 1;
    nc_raft_log_storage(nd->log, &cf.storage);
    nc_raft_log_hard_state(nd->log, &cf.hs);

    assert_int_equal(nc_raft_create(&cf, &nd->r), NC_RAFT_OK);
}


static void
test_with_core(void **state)
{
    char                  path[PATH_MAX];
    size_t                i, k;
    u_char                data[16][64];
    uint64_t              last, sum, commit;
    t_node_t              nd;
    nc_raft_entry_t       e[16];
    nc_raft_hard_state_t  hs;

    t_dir(path, "core");
    t_node_start(&nd, path);

    assert_int_equal(nc_raft_campaign(nd.r), NC_RAFT_OK);
    t_node_ready(&nd);
    assert_int_equal(nc_raft_role(nd.r), NC_RAFT_LEADER);

    for (i = 0; i < 40; i++) {
        for (k = 0; k < 16; k++) {
            memset(&e[k], 0, sizeof(nc_raft_entry_t));
            e[k].type = NC_RAFT_ENTRY_NORMAL;
            e[k].client_id = i * 16 + k + 1;
            e[k].seq = 1;
            e[k].len = (uint32_t) (i + k) % 64;
            e[k].data = data[k];
            memset(data[k], (int) (i + k), 64);
        }

        assert_int_equal(nc_raft_propose(nd.r, e, 1 + i % 16, &last),
                         NC_RAFT_OK);
        t_node_ready(&nd);
    }

    last = nc_raft_last_index(nd.r);
    commit = nc_raft_commit(nd.r);
    sum = nd.sum;
    assert_int_equal(commit, last);
    assert_int_equal(nd.applied, last);

    nc_raft_destroy(nd.r);
    nc_raft_log_close(nd.log);

    /* restarted from the disk: the committed entries come back in order */

    t_node_start(&nd, path);
    nc_raft_log_hard_state(nd.log, &hs);
    assert_int_equal(hs.commit, commit);
    assert_int_equal(nc_raft_last_index(nd.r), last);
    assert_int_equal(nc_raft_term(nd.r), hs.term);

    t_node_ready(&nd);
    assert_int_equal(nd.applied, commit);
    assert_int_equal(nd.sum, sum);

    /* and it leads again, in a higher term, appending after the old log */

    assert_int_equal(nc_raft_campaign(nd.r), NC_RAFT_OK);
    t_node_ready(&nd);
    assert_int_equal(nc_raft_role(nd.r), NC_RAFT_LEADER);
    assert_true(nc_raft_term(nd.r) > hs.term);
    assert_true(nc_raft_last_index(nd.r) > last);

    nc_raft_destroy(nd.r);
    nc_raft_log_close(nd.log);
}


/* --- setup ---------------------------------------------------------------- */


static int
test_setup(void **state)
{
    const char  *tmp;

    tmp = getenv("TMPDIR");
    snprintf(test_root, sizeof(test_root), "%s/nacre-raft-log.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");

    if (mkdtemp(test_root) == NULL) {
        return -1;
    }

    t_path(test_log_path, "error.log");

    if (nc_log_open(&test_log, test_log_path, NC_LOG_WARN) != NC_OK) {
        return -1;
    }

    return 0;
}


static int
test_teardown(void **state)
{
    nc_log_close(&test_log);

    return nftw(test_root, test_rm, 16, FTW_DEPTH | FTW_PHYS);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_roll),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_crash_tail),
        cmocka_unit_test(test_crash_roll),
        cmocka_unit_test(test_crash_after_end),
        cmocka_unit_test(test_corrupt_middle),
        cmocka_unit_test(test_corrupt_last),
        cmocka_unit_test(test_corrupt_segments),
        cmocka_unit_test(test_corrupt_identity),
        cmocka_unit_test(test_corrupt_rules),
        cmocka_unit_test(test_writer_refuses),
        cmocka_unit_test(test_lock_and_create),
        cmocka_unit_test(test_sync_failure_aborts),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_with_core),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
