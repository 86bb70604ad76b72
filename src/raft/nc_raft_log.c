
/*
 * nacre: the durable Raft log (the format is described in nc_raft_log.h).
 *
 * One state machine, nc_raft_log_apply(), turns records into the log's
 * state: recovery runs it over every record on disk, the writer runs it on
 * a scratch copy of the state to check a batch before writing it (so that
 * nothing is written that recovery would refuse), and again to publish the
 * batch once it is durable.
 *
 * The in-memory index is an array of {term, record, segment} from the
 * first served index to the last; entry data is read straight from
 * read-only shared mappings of the segments, which see the writer's
 * pwrite() through the page cache.  Nothing is copied per entry.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_crc32c.h>
#include <nc_raft_log.h>

#include <dirent.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/random.h>


#define NC_RAFT_LOG_SEG_MAGIC     "NCWALSEG"
#define NC_RAFT_LOG_ID_MAGIC      "NCRAFTID"
#define NC_RAFT_LOG_HDR_SIZE      64          /* segment header */
#define NC_RAFT_LOG_ID_SIZE       64          /* IDENTITY */
#define NC_RAFT_LOG_REC_HDR       32
#define NC_RAFT_LOG_TAG           0x4552434eU /* "NCRE" little-endian */
#define NC_RAFT_LOG_ENT_HDR       16          /* client_id, seq */
#define NC_RAFT_LOG_MARKER_HDR    32
#define NC_RAFT_LOG_HS_LEN        24
#define NC_RAFT_LOG_END_LEN       8
#define NC_RAFT_LOG_MAX_LEN       (NC_RAFT_MAX_ENTRY_SIZE + NC_RAFT_LOG_ENT_HDR)

#define NC_RAFT_LOG_NORMAL        1           /* = NC_RAFT_ENTRY_* */
#define NC_RAFT_LOG_NOOP          2
#define NC_RAFT_LOG_CONF          3
#define NC_RAFT_LOG_HARDSTATE     4
#define NC_RAFT_LOG_MARKER        5
#define NC_RAFT_LOG_SEGMENT_END   6

#define NC_RAFT_LOG_MARK_RESET    1           /* an installed snapshot */
#define NC_RAFT_LOG_MARK_COPY     2           /* a segment's header copy */

/* what nc_raft_log_parse() found at an offset */
#define NC_RAFT_LOG_REC_OK        0
#define NC_RAFT_LOG_REC_ZERO      1           /* zero header: no more data */
#define NC_RAFT_LOG_REC_TORN      2           /* looks cut by a crash */
#define NC_RAFT_LOG_REC_BAD       3           /* corrupt */

#define NC_RAFT_LOG_CHECK         0           /* scratch state, no index */
#define NC_RAFT_LOG_UPDATE        1

#define NC_RAFT_LOG_ZERO_CHUNK    65536

#define nc_raft_log_extent(len)                                               \
    (((size_t) NC_RAFT_LOG_REC_HDR + (len) + 4 + 7) & ~(size_t) 7)

#define NC_RAFT_LOG_HS_SIZE       nc_raft_log_extent(NC_RAFT_LOG_HS_LEN)
#define NC_RAFT_LOG_END_SIZE      nc_raft_log_extent(NC_RAFT_LOG_END_LEN)

#define NC_RAFT_LOG_HINT                                                      \
    "; the files are left as they are.  Do not edit or delete them: a node"   \
    " that forgets acknowledged entries or its vote can break the cluster."   \
    "  Remove this node from the cluster, move the data directory aside and"  \
    " start the node again with a new node id, empty, so that it catches up"  \
    " from a snapshot (raft rejoin)"


typedef struct nc_raft_log_seg_s  nc_raft_log_seg_t;

struct nc_raft_log_seg_s {
    uint64_t                seq;
    uint32_t                salt;
    unsigned                dead:1;       /* deleted by compaction */
    size_t                  size;         /* of the file and the mapping */
    u_char                 *map;          /* PROT_READ, MAP_SHARED */
    uint64_t                max_index;    /* highest entry written here */
    nc_raft_log_seg_t      *next;         /* in the retired list */
};


typedef struct {
    uint64_t                term;
    const u_char           *rec;
    nc_raft_log_seg_t      *seg;
} nc_raft_log_ent_t;


/*
 * What replay knows.  term(base) is known and entries base+1 .. last are
 * in the index.  "open" is set while a replay that starts after deleted
 * segments has not seen its first entry: that entry may follow a gap
 * (the entries before it were compacted) and becomes the base.
 */
typedef struct {
    uint64_t                base;
    uint64_t                base_term;
    uint64_t                last;
    uint64_t                last_term;
    uint64_t                snap_index;
    uint64_t                snap_term;
    nc_raft_hard_state_t    hs;
    unsigned                have_base:1;
    unsigned                open:1;
} nc_raft_log_state_t;


typedef struct {
    uint64_t                index;
    uint64_t                term;
    uint32_t                len;
    uint32_t                type;
    size_t                  extent;
    const u_char           *p;            /* the record, where it is read */
} nc_raft_log_rec_t;


typedef struct {
    const nc_raft_log_snap_t    *reset;
    const nc_raft_entry_t       *ents;
    size_t                       n;
    const nc_raft_hard_state_t  *hs;
    const nc_raft_log_snap_t    *marker;
} nc_raft_log_batch_t;


struct nc_raft_log_s {
    /* set by open */
    nc_log_t               *log;
    char                   *dir;
    char                   *wal;
    size_t                  wal_len;
    u_char                  cluster_id[16];
    uint64_t                node_id;
    size_t                  segment_size;
    int                   (*sync)(int fd);
    nc_fd_t                 lock_fd;
    nc_fd_t                 wal_fd;       /* the wal/ directory */

    /*
     * Written by the writer with the mutex held, read by the loop thread
     * with it held, read by the writer without it.
     */
    pthread_mutex_t         mutex;
    nc_raft_log_state_t     st;
    nc_raft_log_snap_t      snap;
    nc_raft_log_ent_t      *ents;         /* index base+1 is ents[head] */
    size_t                  head;
    size_t                  n;
    size_t                  cap;
    nc_raft_log_seg_t      *retired;

    /* the writer's own */
    nc_raft_log_seg_t     **segs;         /* by sequence; the tail last */
    size_t                  nsegs;
    size_t                  segs_cap;
    nc_fd_t                 tail_fd;
    size_t                  tail_off;
    unsigned                tail_full:1;  /* SEGMENT_END written */
    unsigned                need_header:1;
    unsigned                failed:1;
    nc_fd_t                 next_fd;      /* wal/next.wal.tmp */
    nc_raft_log_seg_t      *next_seg;
    u_char                 *buf;
    size_t                  buf_cap;

    /* the loop thread's own */
    nc_raft_snapshot_t      image;
    unsigned                has_image:1;
};


static int nc_raft_log_lock(nc_raft_log_t *log, const nc_raft_log_opts_t *opts,
    nc_raft_log_report_t *rep);
static int nc_raft_log_load_identity(nc_raft_log_t *log,
    const nc_raft_log_opts_t *opts, nc_raft_log_report_t *rep);
static int nc_raft_log_create(nc_raft_log_t *log, nc_uint_t create,
    nc_raft_log_report_t *rep);
static int nc_raft_log_list(nc_raft_log_t *log, uint64_t **seqs, size_t *n,
    nc_raft_log_report_t *rep);
static int nc_raft_log_recover(nc_raft_log_t *log, nc_raft_log_report_t *rep);
static int nc_raft_log_map(nc_raft_log_t *log, uint64_t seq, int last,
    nc_raft_log_report_t *rep);
static int nc_raft_log_scan(nc_raft_log_t *log, nc_raft_log_seg_t *seg,
    int last, size_t *torn, size_t *torn_end, nc_raft_log_report_t *rep);
static int nc_raft_log_parse(nc_raft_log_seg_t *seg, size_t off,
    nc_raft_log_rec_t *r, const char **why);
static void nc_raft_log_decode(const u_char *p, nc_raft_log_rec_t *r);
static int nc_raft_log_valid_after(nc_raft_log_seg_t *seg, size_t from,
    size_t *at, size_t *nonzero_end);
static const char *nc_raft_log_apply(nc_raft_log_t *log,
    nc_raft_log_state_t *st, const nc_raft_log_rec_t *r,
    nc_raft_log_seg_t *seg, int mode);
static const char *nc_raft_log_apply_entry(nc_raft_log_t *log,
    nc_raft_log_state_t *st, const nc_raft_log_rec_t *r,
    nc_raft_log_seg_t *seg, int mode);
static const char *nc_raft_log_apply_marker(nc_raft_log_t *log,
    nc_raft_log_state_t *st, const nc_raft_log_rec_t *r,
    nc_raft_log_seg_t *seg, int mode);
static const char *nc_raft_log_finish(nc_raft_log_state_t *st, char *buf,
    size_t size);
static uint64_t nc_raft_log_term_at(nc_raft_log_t *log,
    nc_raft_log_state_t *st, uint64_t index);
static void nc_raft_log_decode_marker(const u_char *p, uint32_t len,
    nc_raft_log_snap_t *snap, uint32_t *flags);
static int nc_raft_log_reserve(nc_raft_log_t *log, size_t n);

static int nc_raft_log_write(nc_raft_log_t *log, const nc_raft_log_batch_t *b);
static int nc_raft_log_snap_valid(nc_raft_log_t *log,
    const nc_raft_log_snap_t *snap);
static size_t nc_raft_log_marker_len(const nc_raft_log_snap_t *snap);
static u_char *nc_raft_log_put(u_char *p, uint32_t type, uint64_t index,
    uint64_t term, uint32_t len, uint32_t salt);
static u_char *nc_raft_log_put_entry(u_char *p, const nc_raft_entry_t *e,
    uint32_t salt);
static u_char *nc_raft_log_put_hs(u_char *p, const nc_raft_hard_state_t *hs,
    uint32_t salt);
static u_char *nc_raft_log_put_marker(u_char *p,
    const nc_raft_log_snap_t *snap, uint32_t flags, uint32_t salt);
static u_char *nc_raft_log_put_end(u_char *p, uint64_t next, uint32_t salt);
static int nc_raft_log_roll(nc_raft_log_t *log);
static int nc_raft_log_make_next(nc_raft_log_t *log, size_t size);
static void nc_raft_log_drop_next(nc_raft_log_t *log);
static void nc_raft_log_compact(nc_raft_log_t *log, uint64_t below);
static int nc_raft_log_pwrite(nc_raft_log_t *log, nc_fd_t fd,
    const u_char *p, size_t len, off_t off, uint64_t seq);
static void nc_raft_log_sync_file(nc_raft_log_t *log, nc_fd_t fd,
    uint64_t seq);
static void nc_raft_log_sync_dir(nc_raft_log_t *log);

static int nc_raft_log_seg_file(nc_raft_log_t *log, const char *path,
    uint64_t seq, size_t size, uint64_t first, uint32_t *salt, nc_fd_t *fdp,
    nc_raft_log_report_t *rep);
static int nc_raft_log_fsync_path(const char *path);
static char *nc_raft_log_seg_path(nc_raft_log_t *log, char *buf,
    uint64_t seq);
static void nc_raft_log_free(nc_raft_log_t *log);
static void nc_raft_log_seg_free(nc_raft_log_seg_t *seg);
static int nc_raft_log_fail(nc_raft_log_report_t *rep, int code,
    const char *fmt, ...) NC_PRINTF(3, 4);
static void nc_raft_log_text(char *buf, size_t size, const char *fmt, ...)
    NC_PRINTF(3, 4);

static int nc_raft_log_st_entries(void *ctx, uint64_t lo, uint64_t hi,
    nc_raft_entry_t *out, size_t *n, size_t max_bytes);
static int nc_raft_log_st_term(void *ctx, uint64_t index, uint64_t *term);
static uint64_t nc_raft_log_st_first(void *ctx);
static uint64_t nc_raft_log_st_last(void *ctx);
static int nc_raft_log_st_snapshot(void *ctx, nc_raft_snapshot_t *snap);


static const u_char  nc_raft_log_zeros[NC_RAFT_LOG_ZERO_CHUNK];


/* little-endian fields */

static uint16_t
nc_raft_log_r16(const u_char *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}


static uint32_t
nc_raft_log_r32(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint64_t
nc_raft_log_r64(const u_char *p)
{
    return (uint64_t) nc_raft_log_r32(p)
           | (uint64_t) nc_raft_log_r32(p + 4) << 32;
}


static void
nc_raft_log_w32(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


static void
nc_raft_log_w64(u_char *p, uint64_t v)
{
    nc_raft_log_w32(p, (uint32_t) v);
    nc_raft_log_w32(p + 4, (uint32_t) (v >> 32));
}


static int
nc_raft_log_is_zero(const u_char *p, size_t len)
{
    while (len >= 8) {
        if (nc_raft_log_r64(p) != 0) {
            return 0;
        }

        p += 8;
        len -= 8;
    }

    while (len--) {
        if (*p++) {
            return 0;
        }
    }

    return 1;
}


/* open */

int
nc_raft_log_open(const char *dir, const nc_raft_log_opts_t *opts,
    nc_raft_log_t **logp, nc_raft_log_report_t *rep)
{
    int                    rc;
    size_t                 len;
    nc_raft_log_t         *log;
    nc_raft_log_report_t   local;

    if (rep == NULL) {
        rep = &local;
    }

    memset(rep, 0, sizeof(nc_raft_log_report_t));
    *logp = NULL;

    if (opts->segment_size
        && (opts->segment_size < NC_RAFT_LOG_MIN_SEGMENT
            || opts->segment_size % 4096))
    {
        return nc_raft_log_fail(rep, NC_ERROR, "raft log segment size %zu is"
                                " not a multiple of 4096 of at least %d",
                                opts->segment_size, NC_RAFT_LOG_MIN_SEGMENT);
    }

    log = calloc(1, sizeof(nc_raft_log_t));
    if (log == NULL) {
        return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
    }

    log->log = opts->log ? opts->log : nc_log_default();
    log->segment_size = opts->segment_size ? opts->segment_size
                                           : NC_RAFT_LOG_SEGMENT_SIZE;
    log->sync = opts->sync ? opts->sync : fdatasync;
    log->lock_fd = NC_INVALID_FILE;
    log->wal_fd = NC_INVALID_FILE;
    log->tail_fd = NC_INVALID_FILE;
    log->next_fd = NC_INVALID_FILE;

    len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }

    log->dir = malloc(len + 1);
    log->wal = malloc(len + sizeof("/wal/0123456789abcdef.wal"));

    if (log->dir == NULL || log->wal == NULL
        || pthread_mutex_init(&log->mutex, NULL) != 0)
    {
        free(log->dir);
        free(log->wal);
        free(log);
        return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
    }

    memcpy(log->dir, dir, len);
    log->dir[len] = '\0';
    memcpy(log->wal, dir, len);
    memcpy(log->wal + len, "/wal", sizeof("/wal"));
    log->wal_len = len + 4;

    rc = nc_raft_log_lock(log, opts, rep);

    if (rc == NC_OK) {
        rc = nc_raft_log_load_identity(log, opts, rep);
    }

    if (rc == NC_OK) {
        rc = nc_raft_log_recover(log, rep);
    }

    if (rc != NC_OK) {
        nc_raft_log_free(log);
        return rc;
    }

    *logp = log;

    return NC_OK;
}


static int
nc_raft_log_lock(nc_raft_log_t *log, const nc_raft_log_opts_t *opts,
    nc_raft_log_report_t *rep)
{
    int      n;
    char     path[PATH_MAX], pid[32];
    ssize_t  r;

    if (mkdir(log->dir, 0700) == 0) {
        if (!opts->create) {
            (void) rmdir(log->dir);
            return nc_raft_log_fail(rep, NC_DECLINED, "\"%s\" does not exist:"
                                    " there is no Raft log to open", log->dir);
        }

        /* the directory itself must survive a crash */
        snprintf(path, sizeof(path), "%s/..", log->dir);

        if (nc_raft_log_fsync_path(path) != NC_OK) {
            return nc_raft_log_fail(rep, NC_ERROR, "fsync() of the parent of"
                                    " \"%s\" failed: %s", log->dir,
                                    strerror(errno));
        }

    } else if (errno != EEXIST) {
        return nc_raft_log_fail(rep, NC_ERROR, "mkdir() \"%s\" failed: %s",
                                log->dir, strerror(errno));
    }

    snprintf(path, sizeof(path), "%s/LOCK", log->dir);

    log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (log->lock_fd == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                path, strerror(errno));
    }

    if (flock(log->lock_fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno != EWOULDBLOCK) {
            return nc_raft_log_fail(rep, NC_ERROR, "flock() \"%s\" failed: %s",
                                    path, strerror(errno));
        }

        r = pread(log->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';

        return nc_raft_log_fail(rep, NC_BUSY, "\"%s\" is locked by another"
                                " process (pid %s): another consensus process"
                                " already uses this Raft log; stop it first",
                                path, pid[0] ? pid : "unknown");
    }

    /* the pid is for the message above; not synced */
    n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());

    if (ftruncate(log->lock_fd, 0) == -1
        || pwrite(log->lock_fd, pid, n, 0) != n)
    {
        nc_log_error(NC_LOG_WARN, log->log, errno,
                     "cannot write the pid to \"%s\"", path);
    }

    return NC_OK;
}


static int
nc_raft_log_load_identity(nc_raft_log_t *log,
    const nc_raft_log_opts_t *opts, nc_raft_log_report_t *rep)
{
    int       fd;
    char      path[PATH_MAX];
    u_char    id[NC_RAFT_LOG_ID_SIZE];
    ssize_t   n;
    uint32_t  crc;

    snprintf(path, sizeof(path), "%s/IDENTITY", log->dir);

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        if (errno != ENOENT) {
            return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                    path, strerror(errno));
        }

        memcpy(log->cluster_id, opts->cluster_id, 16);
        log->node_id = opts->node_id;

        return nc_raft_log_create(log, opts->create, rep);
    }

    n = pread(fd, id, sizeof(id), 0);
    (void) close(fd);

    if (n == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "read() \"%s\" failed: %s",
                                path, strerror(errno));
    }

    crc = n == NC_RAFT_LOG_ID_SIZE ? nc_raft_log_r32(id + 12) : 0;

    if (n == NC_RAFT_LOG_ID_SIZE) {
        nc_raft_log_w32(id + 12, 0);
    }

    if (n != NC_RAFT_LOG_ID_SIZE
        || memcmp(id, NC_RAFT_LOG_ID_MAGIC, 8) != 0
        || crc != nc_crc32c(0, id, sizeof(id)))
    {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" is corrupt"
                                " (%zd bytes, bad magic or CRC)"
                                NC_RAFT_LOG_HINT, path, n);
    }

    if (nc_raft_log_r32(id + 8) != NC_RAFT_LOG_VERSION) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" has format"
                                " version %u, this build reads version %d:"
                                " run the matching nacre binary",
                                path, nc_raft_log_r32(id + 8),
                                NC_RAFT_LOG_VERSION);
    }

    memcpy(log->cluster_id, id + 16, 16);
    log->node_id = nc_raft_log_r64(id + 32);

    if ((!nc_raft_log_is_zero(opts->cluster_id, 16)
         && memcmp(opts->cluster_id, log->cluster_id, 16) != 0)
        || (opts->node_id && opts->node_id != log->node_id))
    {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" belongs to"
                                " node %" PRIu64 " of another cluster or to"
                                " another node than the configured node %"
                                PRIu64 ": check the configuration and the"
                                " data directory", path, log->node_id,
                                opts->node_id);
    }

    return NC_OK;
}


/*
 * A new log: the first segment before IDENTITY, so that a log whose
 * IDENTITY exists always has its segments.  A crash in between leaves one
 * empty first segment, which the next creation replaces.
 */

static int
nc_raft_log_create(nc_raft_log_t *log, nc_uint_t create,
    nc_raft_log_report_t *rep)
{
    int        rc, fd;
    char       path[PATH_MAX], tmp[PATH_MAX];
    size_t     i, n;
    u_char     id[NC_RAFT_LOG_ID_SIZE];
    u_char     seg[NC_RAFT_LOG_HDR_SIZE + NC_RAFT_LOG_REC_HDR];
    ssize_t    r;
    uint32_t   salt;
    uint64_t  *seqs;

    rc = nc_raft_log_list(log, &seqs, &n, rep);
    if (rc != NC_OK) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        nc_raft_log_seg_path(log, path, seqs[i]);

        r = -1;
        fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd != -1) {
            r = pread(fd, seg, sizeof(seg), 0);
            (void) close(fd);
        }

        if (seqs[i] != 1 || r != (ssize_t) sizeof(seg)
            || !nc_raft_log_is_zero(seg + NC_RAFT_LOG_HDR_SIZE,
                                    NC_RAFT_LOG_REC_HDR))
        {
            free(seqs);
            return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s/IDENTITY\""
                                    " is missing but \"%s\" holds segments"
                                    NC_RAFT_LOG_HINT, log->dir, log->wal);
        }
    }

    free(seqs);

    if (!create) {
        return nc_raft_log_fail(rep, NC_DECLINED, "there is no Raft log in"
                                " \"%s\" (no IDENTITY)", log->dir);
    }

    if (nc_raft_log_is_zero(log->cluster_id, 16) || log->node_id == 0) {
        return nc_raft_log_fail(rep, NC_ERROR, "a cluster id and a node id"
                                " are needed to create the Raft log in \"%s\"",
                                log->dir);
    }

    if (mkdir(log->wal, 0700) == -1 && errno != EEXIST) {
        return nc_raft_log_fail(rep, NC_ERROR, "mkdir() \"%s\" failed: %s",
                                log->wal, strerror(errno));
    }

    if (nc_raft_log_fsync_path(log->dir) != NC_OK) {
        return nc_raft_log_fail(rep, NC_ERROR, "fsync() \"%s\" failed: %s",
                                log->dir, strerror(errno));
    }

    /* the first segment */

    snprintf(tmp, sizeof(tmp), "%s/next.wal.tmp", log->wal);
    nc_raft_log_seg_path(log, path, 1);

    rc = nc_raft_log_seg_file(log, tmp, 1, log->segment_size, 1, &salt, &fd,
                              rep);
    if (rc != NC_OK) {
        return rc;
    }

    (void) close(fd);

    if (rename(tmp, path) == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "rename() \"%s\" to \"%s\""
                                " failed: %s", tmp, path, strerror(errno));
    }

    if (nc_raft_log_fsync_path(log->wal) != NC_OK) {
        return nc_raft_log_fail(rep, NC_ERROR, "fsync() \"%s\" failed: %s",
                                log->wal, strerror(errno));
    }

    /* then IDENTITY */

    memset(id, 0, sizeof(id));
    memcpy(id, NC_RAFT_LOG_ID_MAGIC, 8);
    nc_raft_log_w32(id + 8, NC_RAFT_LOG_VERSION);
    memcpy(id + 16, log->cluster_id, 16);
    nc_raft_log_w64(id + 32, log->node_id);
    nc_raft_log_w32(id + 12, nc_crc32c(0, id, sizeof(id)));

    snprintf(tmp, sizeof(tmp), "%s/IDENTITY.tmp", log->dir);
    snprintf(path, sizeof(path), "%s/IDENTITY", log->dir);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                tmp, strerror(errno));
    }

    if (pwrite(fd, id, sizeof(id), 0) != (ssize_t) sizeof(id)
        || fsync(fd) == -1)
    {
        rc = errno;
        (void) close(fd);
        (void) unlink(tmp);
        return nc_raft_log_fail(rep, NC_ERROR, "writing \"%s\" failed: %s",
                                tmp, strerror(rc));
    }

    (void) close(fd);

    if (rename(tmp, path) == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "rename() \"%s\" to \"%s\""
                                " failed: %s", tmp, path, strerror(errno));
    }

    if (nc_raft_log_fsync_path(log->dir) != NC_OK) {
        return nc_raft_log_fail(rep, NC_ERROR, "fsync() \"%s\" failed: %s",
                                log->dir, strerror(errno));
    }

    return NC_OK;
}


static int
nc_raft_log_seq_cmp(const void *a, const void *b)
{
    uint64_t  x, y;

    x = *(const uint64_t *) a;
    y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


/* the sequence numbers of wal/<seq:016x>.wal, sorted */

static int
nc_raft_log_list(nc_raft_log_t *log, uint64_t **seqs, size_t *n,
    nc_raft_log_report_t *rep)
{
    DIR            *d;
    size_t          i, cap;
    uint64_t       *s, *ns, seq;
    const char     *name;
    struct dirent  *de;

    *seqs = NULL;
    *n = 0;

    d = opendir(log->wal);
    if (d == NULL) {
        if (errno == ENOENT) {
            return NC_OK;
        }

        return nc_raft_log_fail(rep, NC_ERROR, "opendir() \"%s\" failed: %s",
                                log->wal, strerror(errno));
    }

    s = NULL;
    cap = 0;

    for ( ;; ) {
        errno = 0;
        de = readdir(d);

        if (de == NULL) {
            if (errno) {
                free(s);
                (void) closedir(d);
                return nc_raft_log_fail(rep, NC_ERROR, "readdir() \"%s\""
                                        " failed: %s", log->wal,
                                        strerror(errno));
            }

            break;
        }

        name = de->d_name;

        if (strlen(name) != 20 || strcmp(name + 16, ".wal") != 0) {
            continue;
        }

        seq = 0;

        for (i = 0; i < 16; i++) {
            if (name[i] >= '0' && name[i] <= '9') {
                seq = seq << 4 | (uint64_t) (name[i] - '0');

            } else if (name[i] >= 'a' && name[i] <= 'f') {
                seq = seq << 4 | (uint64_t) (name[i] - 'a' + 10);

            } else {
                break;
            }
        }

        if (i != 16 || seq == 0) {
            continue;
        }

        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            ns = realloc(s, cap * sizeof(uint64_t));

            if (ns == NULL) {
                free(s);
                (void) closedir(d);
                return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
            }

            s = ns;
        }

        s[(*n)++] = seq;
    }

    (void) closedir(d);

    if (*n) {
        qsort(s, *n, sizeof(uint64_t), nc_raft_log_seq_cmp);
    }

    *seqs = s;

    return NC_OK;
}


/*
 * Recovery: every segment in order through nc_raft_log_apply().  A torn
 * tail is only noted while scanning and zeroed at the very end, once
 * every other check has passed: a refused log is never modified.
 */

static int
nc_raft_log_recover(nc_raft_log_t *log, nc_raft_log_report_t *rep)
{
    int                 rc;
    char                path[PATH_MAX], why_buf[160];
    size_t              i, n, torn, torn_end, off, len;
    uint64_t           *seqs;
    const char         *why;
    nc_raft_log_seg_t  *tail;

    rc = nc_raft_log_list(log, &seqs, &n, rep);
    if (rc != NC_OK) {
        return rc;
    }

    if (n == 0) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" holds no"
                                " segments although \"%s/IDENTITY\" exists:"
                                " the log was removed" NC_RAFT_LOG_HINT,
                                log->wal, log->dir);
    }

    for (i = 1; i < n; i++) {
        if (seqs[i] != seqs[i - 1] + 1) {
            nc_raft_log_seg_path(log, path, seqs[i - 1] + 1);
            rc = nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" is missing"
                                  " between segments %016" PRIx64 " and %016"
                                  PRIx64 NC_RAFT_LOG_HINT, path, seqs[i - 1],
                                  seqs[i]);
            free(seqs);
            return rc;
        }
    }

    memset(&log->st, 0, sizeof(nc_raft_log_state_t));

    if (seqs[0] == 1) {
        log->st.have_base = 1;              /* the log began empty here */

    } else {
        log->st.open = 1;                   /* older segments were deleted */
    }

    torn = 0;
    torn_end = 0;

    for (i = 0; i < n; i++) {
        rc = nc_raft_log_map(log, seqs[i], i == n - 1, rep);

        if (rc == NC_OK) {
            rc = nc_raft_log_scan(log, log->segs[log->nsegs - 1], i == n - 1,
                                  &torn, &torn_end, rep);
        }

        if (rc != NC_OK) {
            free(seqs);
            return rc;
        }

        /*
         * The scan touched every page, the zero-filled rest included; give
         * the pages back to the page cache instead of keeping them in our
         * resident set: entries() faults in what it reads.
         */
        (void) madvise(log->segs[log->nsegs - 1]->map,
                       log->segs[log->nsegs - 1]->size, MADV_DONTNEED);
    }

    free(seqs);

    tail = log->segs[log->nsegs - 1];
    nc_raft_log_seg_path(log, path, tail->seq);

    why = nc_raft_log_finish(&log->st, why_buf, sizeof(why_buf));
    if (why) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "the Raft log in"
                                " \"%s\" is inconsistent: %s" NC_RAFT_LOG_HINT,
                                log->wal, why);
    }

    if (torn_end > torn) {
        for (off = torn; off < torn_end; off += len) {
            len = nc_min(torn_end - off, NC_RAFT_LOG_ZERO_CHUNK);

            if (pwrite(log->tail_fd, nc_raft_log_zeros, len, off)
                != (ssize_t) len)
            {
                return nc_raft_log_fail(rep, NC_ERROR, "zeroing the torn tail"
                                        " of \"%s\" failed: %s", path,
                                        strerror(errno ? errno : EIO));
            }
        }

        if (log->sync(log->tail_fd) == -1) {
            return nc_raft_log_fail(rep, NC_ERROR, "fdatasync() \"%s\""
                                    " failed: %s", path, strerror(errno));
        }

        nc_raft_log_text(rep->repair, sizeof(rep->repair), "truncated torn"
                         " tail of \"%s\" at offset %zu (%zu bytes): a write"
                         " that was never acknowledged", path, torn,
                         torn_end - torn);
    }

    /* leftovers of an interrupted segment or IDENTITY creation */

    snprintf(path, sizeof(path), "%s/next.wal.tmp", log->wal);
    (void) unlink(path);
    snprintf(path, sizeof(path), "%s/IDENTITY.tmp", log->dir);
    (void) unlink(path);

    log->wal_fd = open(log->wal, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->wal_fd == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                log->wal, strerror(errno));
    }

    log->need_header = log->tail_off == NC_RAFT_LOG_HDR_SIZE
                       && !log->tail_full;
    log->st.open = 0;

    return NC_OK;
}


/* map a segment and check its header; the last one stays open for writes */

static int
nc_raft_log_map(nc_raft_log_t *log, uint64_t seq, int last,
    nc_raft_log_report_t *rep)
{
    int                  fd, err;
    char                 path[PATH_MAX];
    u_char              *h;
    uint32_t             crc;
    struct stat          sb;
    const char          *why;
    nc_raft_log_seg_t   *seg, **segs;

    nc_raft_log_seg_path(log, path, seq);

    if (log->nsegs == log->segs_cap) {
        log->segs_cap = log->segs_cap ? log->segs_cap * 2 : 16;
        segs = realloc(log->segs, log->segs_cap * sizeof(nc_raft_log_seg_t *));

        if (segs == NULL) {
            return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
        }

        log->segs = segs;
    }

    fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                path, strerror(errno));
    }

    if (fstat(fd, &sb) == -1) {
        err = errno;
        (void) close(fd);
        return nc_raft_log_fail(rep, NC_ERROR, "fstat() \"%s\" failed: %s",
                                path, strerror(err));
    }

    if (sb.st_size < NC_RAFT_LOG_HDR_SIZE) {
        (void) close(fd);
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\" is %jd bytes"
                                " long, shorter than a segment header"
                                NC_RAFT_LOG_HINT, path, (intmax_t) sb.st_size);
    }

    seg = calloc(1, sizeof(nc_raft_log_seg_t));
    if (seg == NULL) {
        (void) close(fd);
        return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
    }

    seg->seq = seq;
    seg->size = (size_t) sb.st_size;
    seg->map = mmap(NULL, seg->size, PROT_READ, MAP_SHARED, fd, 0);

    if (seg->map == MAP_FAILED) {
        err = errno;
        free(seg);
        (void) close(fd);
        return nc_raft_log_fail(rep, NC_ERROR, "mmap() \"%s\" failed: %s",
                                path, strerror(err));
    }

    log->segs[log->nsegs++] = seg;

    if (last) {
        log->tail_fd = fd;

    } else {
        (void) close(fd);
    }

    h = seg->map;
    seg->salt = nc_raft_log_r32(h + 56);

    why = NULL;

    if (memcmp(h, NC_RAFT_LOG_SEG_MAGIC, 8) != 0) {
        why = "bad magic";

    } else {
        crc = nc_crc32c(0, h, 12);
        crc = nc_crc32c(crc, nc_raft_log_zeros, 4);
        crc = nc_crc32c(crc, h + 16, NC_RAFT_LOG_HDR_SIZE - 16);

        if (crc != nc_raft_log_r32(h + 12)) {
            why = "header CRC mismatch";

        } else if (nc_raft_log_r32(h + 8) != NC_RAFT_LOG_VERSION) {
            why = "unknown format version";

        } else if (memcmp(h + 16, log->cluster_id, 16) != 0
                   || nc_raft_log_r64(h + 32) != log->node_id)
        {
            why = "it belongs to another cluster or node than IDENTITY";

        } else if (nc_raft_log_r64(h + 40) != seq) {
            why = "the sequence number in its header differs from its name";
        }
    }

    if (why) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\": segment"
                                " header refused: %s" NC_RAFT_LOG_HINT,
                                path, why);
    }

    return NC_OK;
}


static int
nc_raft_log_scan(nc_raft_log_t *log, nc_raft_log_seg_t *seg, int last,
    size_t *torn, size_t *torn_end, nc_raft_log_report_t *rep)
{
    int                rc;
    char               path[PATH_MAX];
    size_t             off, at, nz;
    const char        *why;
    nc_raft_log_rec_t  r;

    nc_raft_log_seg_path(log, path, seg->seq);

    for (off = NC_RAFT_LOG_HDR_SIZE; /* void */; off += r.extent) {

        rc = nc_raft_log_parse(seg, off, &r, &why);

        if (rc != NC_RAFT_LOG_REC_OK) {
            break;
        }

        if (r.type == NC_RAFT_LOG_SEGMENT_END) {
            if (nc_raft_log_r64(r.p + NC_RAFT_LOG_REC_HDR) != seg->seq + 1) {
                return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\":"
                                        " SEGMENT_END at offset %zu names a"
                                        " wrong next segment" NC_RAFT_LOG_HINT,
                                        path, off);
            }

            if (last) {
                /* a crash in a roll: the writer starts the next one */
                log->tail_full = 1;
                log->tail_off = off + r.extent;
            }

            return NC_OK;
        }

        if (r.type <= NC_RAFT_LOG_CONF
            && nc_raft_log_reserve(log, 1) != NC_OK)
        {
            return nc_raft_log_fail(rep, NC_ERROR, "out of memory");
        }

        why = nc_raft_log_apply(log, &log->st, &r, seg, NC_RAFT_LOG_UPDATE);

        if (why) {
            return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\": record"
                                    " at offset %zu (type %u, index %" PRIu64
                                    ") refused: %s" NC_RAFT_LOG_HINT, path,
                                    off, r.type, r.index, why);
        }
    }

    if (!last) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\": %s at"
                                " offset %zu, in a segment that is not the"
                                " last one" NC_RAFT_LOG_HINT, path,
                                rc == NC_RAFT_LOG_REC_ZERO
                                ? "the segment ends without SEGMENT_END"
                                : why, off);
    }

    if (rc == NC_RAFT_LOG_REC_BAD) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\": %s at"
                                " offset %zu" NC_RAFT_LOG_HINT, path, why, off);
    }

    /*
     * The end of the written data, or a write cut by a crash.  Either way
     * what follows must hold no valid record: that would be acknowledged
     * data behind a damaged one.
     */

    if (nc_raft_log_valid_after(seg, off, &at, &nz) == NC_OK) {
        return nc_raft_log_fail(rep, NC_RAFT_LOG_CORRUPT, "\"%s\": the record"
                                " at offset %zu is damaged (%s) but a valid"
                                " record follows at offset %zu"
                                NC_RAFT_LOG_HINT, path, off,
                                rc == NC_RAFT_LOG_REC_ZERO ? "zeroed" : why,
                                at);
    }

    if (nz > off) {
        *torn = off;
        *torn_end = nz;
    }

    log->tail_off = off;

    return NC_OK;
}


/*
 * One record, verified.  A header whose last word (length and type) is
 * zero, or a record whose end tag is zero or past the end of the file,
 * was cut by a crash (a write tears at 512-byte sectors, so at 8-byte
 * boundaries of the record); every other failure is corruption.
 */

static int
nc_raft_log_parse(nc_raft_log_seg_t *seg, size_t off, nc_raft_log_rec_t *r,
    const char **why)
{
    size_t         len, ext, n;
    uint32_t       type, tag;
    const u_char  *p, *a;

    p = seg->map + off;

    if (off + NC_RAFT_LOG_REC_HDR > seg->size) {
        if (nc_raft_log_is_zero(p, seg->size - off)) {
            return NC_RAFT_LOG_REC_ZERO;
        }

        *why = "header cut by the end of the file";
        return NC_RAFT_LOG_REC_TORN;
    }

    if (nc_raft_log_is_zero(p, NC_RAFT_LOG_REC_HDR)) {
        return NC_RAFT_LOG_REC_ZERO;
    }

    if (nc_crc32c(seg->salt, p + 4, NC_RAFT_LOG_REC_HDR - 4)
        != nc_raft_log_r32(p))
    {
        if (nc_raft_log_r64(p + 24) == 0) {
            *why = "header cut short";
            return NC_RAFT_LOG_REC_TORN;
        }

        *why = "header CRC mismatch";
        return NC_RAFT_LOG_REC_BAD;
    }

    nc_raft_log_decode(p, r);

    len = r->len;
    type = r->type;
    ext = r->extent;

    if (type < NC_RAFT_LOG_NORMAL || type > NC_RAFT_LOG_SEGMENT_END
        || p[29] != 0 || nc_raft_log_r16(p + 30) != 0
        || len == 0 || len > NC_RAFT_LOG_MAX_LEN)
    {
        *why = "bad header fields";
        return NC_RAFT_LOG_REC_BAD;
    }

    if (off + ext > seg->size) {
        *why = "record cut by the end of the file";
        return NC_RAFT_LOG_REC_TORN;
    }

    tag = nc_raft_log_r32(p + ext - 4);

    if (tag == 0) {
        *why = "record cut short";
        return NC_RAFT_LOG_REC_TORN;
    }

    if (tag != NC_RAFT_LOG_TAG
        || !nc_raft_log_is_zero(p + NC_RAFT_LOG_REC_HDR + len,
                                ext - NC_RAFT_LOG_REC_HDR - len - 4))
    {
        *why = "bad end of record";
        return NC_RAFT_LOG_REC_BAD;
    }

    if (nc_crc32c(seg->salt, p + NC_RAFT_LOG_REC_HDR, len)
        != nc_raft_log_r32(p + 4))
    {
        *why = "payload CRC mismatch";
        return NC_RAFT_LOG_REC_BAD;
    }

    a = p + NC_RAFT_LOG_REC_HDR;
    *why = "bad payload";

    switch (type) {

    case NC_RAFT_LOG_NORMAL:
    case NC_RAFT_LOG_NOOP:
    case NC_RAFT_LOG_CONF:
        if (len < NC_RAFT_LOG_ENT_HDR || r->index == 0 || r->term == 0) {
            return NC_RAFT_LOG_REC_BAD;
        }

        break;

    case NC_RAFT_LOG_HARDSTATE:
        if (len != NC_RAFT_LOG_HS_LEN || r->index || r->term) {
            return NC_RAFT_LOG_REC_BAD;
        }

        break;

    case NC_RAFT_LOG_MARKER:
        if (len < NC_RAFT_LOG_MARKER_HDR || r->index || r->term) {
            return NC_RAFT_LOG_REC_BAD;
        }

        n = (size_t) nc_raft_log_r32(a + 20) + nc_raft_log_r32(a + 24);

        if (n > NC_RAFT_MAX_MEMBERS
            || nc_raft_log_r32(a + 28) > NC_RAFT_LOG_META_MAX
            || (nc_raft_log_r32(a + 16) & ~(uint32_t) (NC_RAFT_LOG_MARK_RESET
                                                      | NC_RAFT_LOG_MARK_COPY))
            || len != NC_RAFT_LOG_MARKER_HDR + 8 * n + nc_raft_log_r32(a + 28))
        {
            return NC_RAFT_LOG_REC_BAD;
        }

        break;

    default: /* NC_RAFT_LOG_SEGMENT_END */
        if (len != NC_RAFT_LOG_END_LEN || r->index || r->term) {
            return NC_RAFT_LOG_REC_BAD;
        }

        break;
    }

    *why = NULL;

    return NC_RAFT_LOG_REC_OK;
}


static void
nc_raft_log_decode(const u_char *p, nc_raft_log_rec_t *r)
{
    r->p = p;
    r->index = nc_raft_log_r64(p + 8);
    r->term = nc_raft_log_r64(p + 16);
    r->len = nc_raft_log_r32(p + 24);
    r->type = p[28];
    r->extent = nc_raft_log_extent(r->len);
}


/*
 * After a damaged record at "from": the first valid record at a later
 * 8-byte offset (NC_OK, *at), and in any case the end of the last
 * non-zero byte (*nonzero_end, from if none).
 */

static int
nc_raft_log_valid_after(nc_raft_log_seg_t *seg, size_t from, size_t *at,
    size_t *nonzero_end)
{
    size_t             off;
    const u_char      *p;
    const char        *why;
    nc_raft_log_rec_t  r;

    *nonzero_end = from;

    for (off = from; off + 8 <= seg->size; off += 8) {
        p = seg->map + off;

        if (nc_raft_log_r64(p) == 0) {
            continue;
        }

        *nonzero_end = off + 8;

        if (off > from && off + NC_RAFT_LOG_REC_HDR <= seg->size
            && p[28] >= NC_RAFT_LOG_NORMAL && p[28] <= NC_RAFT_LOG_SEGMENT_END
            && p[29] == 0 && p[30] == 0 && p[31] == 0
            && nc_raft_log_parse(seg, off, &r, &why) == NC_RAFT_LOG_REC_OK)
        {
            *at = off;
            return NC_OK;
        }
    }

    if (off < seg->size && !nc_raft_log_is_zero(seg->map + off,
                                                seg->size - off))
    {
        *nonzero_end = seg->size;
    }

    return NC_DECLINED;
}


/*
 * The state machine.  In NC_RAFT_LOG_CHECK mode st is a scratch copy and
 * neither the index nor the segments change; seg may be NULL.
 */

static const char *
nc_raft_log_apply(nc_raft_log_t *log, nc_raft_log_state_t *st,
    const nc_raft_log_rec_t *r, nc_raft_log_seg_t *seg, int mode)
{
    uint64_t       term, vote, commit;
    const u_char  *a;

    switch (r->type) {

    case NC_RAFT_LOG_NORMAL:
    case NC_RAFT_LOG_NOOP:
    case NC_RAFT_LOG_CONF:
        return nc_raft_log_apply_entry(log, st, r, seg, mode);

    case NC_RAFT_LOG_HARDSTATE:
        a = r->p + NC_RAFT_LOG_REC_HDR;
        term = nc_raft_log_r64(a);
        vote = nc_raft_log_r64(a + 8);
        commit = nc_raft_log_r64(a + 16);

        if (term < st->hs.term) {
            return "the hard state's term goes down";
        }

        if (term == st->hs.term && st->hs.vote && vote != st->hs.vote) {
            return "the hard state changes the vote within a term";
        }

        st->hs.term = term;
        st->hs.vote = vote;
        st->hs.commit = commit;

        return NULL;

    case NC_RAFT_LOG_MARKER:
        return nc_raft_log_apply_marker(log, st, r, seg, mode);

    default:
        return "unexpected record type";
    }
}


static const char *
nc_raft_log_apply_entry(nc_raft_log_t *log, nc_raft_log_state_t *st,
    const nc_raft_log_rec_t *r, nc_raft_log_seg_t *seg, int mode)
{
    uint64_t            i, t;
    nc_raft_log_ent_t  *e;

    i = r->index;
    t = r->term;

    if (!st->have_base) {
        return "an entry before the segment's hard state and snapshot marker";
    }

    if (st->open) {
        st->open = 0;

        if (st->last == st->base && i > st->base + 1) {
            /* the first entry after deleted segments: it anchors the log */

            if (t < st->base_term) {
                return "the term goes down";
            }

            st->base = i;
            st->base_term = t;
            st->last = i;
            st->last_term = t;

            if (mode == NC_RAFT_LOG_UPDATE) {
                log->head = 0;
                log->n = 0;
                seg->max_index = nc_max(seg->max_index, i);
            }

            return NULL;
        }
    }

    if (i <= st->base) {
        return "an entry at or below the start of the log";
    }

    if (i > st->last + 1) {
        return "a gap in the indexes";
    }

    if (i <= st->last && i <= st->hs.commit) {
        return "an entry overwrites a committed one";
    }

    if (t < nc_raft_log_term_at(log, st, i - 1)) {
        return "the term goes down";
    }

    if (mode == NC_RAFT_LOG_UPDATE) {
        log->n = (size_t) (i - 1 - st->base);

        e = &log->ents[log->head + log->n];
        e->term = t;
        e->rec = r->p;
        e->seg = seg;
        log->n++;

        seg->max_index = nc_max(seg->max_index, i);
    }

    st->last = i;
    st->last_term = t;

    return NULL;
}


static const char *
nc_raft_log_apply_marker(nc_raft_log_t *log, nc_raft_log_state_t *st,
    const nc_raft_log_rec_t *r, nc_raft_log_seg_t *seg, int mode)
{
    size_t              i;
    uint32_t            flags;
    nc_raft_log_snap_t  snap;

    nc_raft_log_decode_marker(r->p + NC_RAFT_LOG_REC_HDR, r->len, &snap,
                              &flags);

    if (snap.index < st->snap_index) {
        return "the snapshot marker goes back";
    }

    if (flags & NC_RAFT_LOG_MARK_RESET) {
        /* an installed snapshot: the log restarts after it */

        st->base = snap.index;
        st->base_term = snap.term;
        st->last = snap.index;
        st->last_term = snap.term;
        st->have_base = 1;
        st->open = 0;

        if (mode == NC_RAFT_LOG_UPDATE) {
            log->head = 0;
            log->n = 0;

            /* older segments hold only discarded entries now */
            for (i = 0; i < log->nsegs && log->segs[i] != seg; i++) {
                log->segs[i]->max_index = 0;
            }

            seg->max_index = snap.index;
        }

    } else if (!st->have_base) {
        /* the header copy that starts a log whose older segments are gone */

        st->base = snap.index;
        st->base_term = snap.term;
        st->last = snap.index;
        st->last_term = snap.term;
        st->have_base = 1;

    } else if (snap.index > st->last) {
        return "the snapshot marker is beyond the end of the log";

    } else if (snap.index >= st->base
               && nc_raft_log_term_at(log, st, snap.index) != snap.term)
    {
        return "the snapshot marker's term differs from the log's";
    }

    st->snap_index = snap.index;
    st->snap_term = snap.term;

    if (mode == NC_RAFT_LOG_UPDATE) {
        log->snap = snap;
    }

    return NULL;
}


/* what must hold once every record is replayed */

static const char *
nc_raft_log_finish(nc_raft_log_state_t *st, char *buf, size_t size)
{
    if (!st->have_base) {
        return "no hard state or snapshot marker was found: the segments"
               " that held them are gone";
    }

    if (st->hs.commit > st->last) {
        snprintf(buf, size, "the hard state has index %" PRIu64
                 " committed but the log ends at %" PRIu64, st->hs.commit,
                 st->last);
        return buf;
    }

    if (st->snap_index < st->base) {
        snprintf(buf, size, "the log starts at index %" PRIu64
                 ", after the snapshot at %" PRIu64 ": entries are missing",
                 st->base + 1, st->snap_index);
        return buf;
    }

    return NULL;
}


static uint64_t
nc_raft_log_term_at(nc_raft_log_t *log, nc_raft_log_state_t *st,
    uint64_t index)
{
    if (index == st->last) {
        return st->last_term;
    }

    if (index == st->base) {
        return st->base_term;
    }

    /* in a check, the index still holds the log before the batch */

    if (index > log->st.base && index - log->st.base <= log->n) {
        return log->ents[log->head + (index - log->st.base - 1)].term;
    }

    return 0;
}


static void
nc_raft_log_decode_marker(const u_char *p, uint32_t len,
    nc_raft_log_snap_t *snap, uint32_t *flags)
{
    uint32_t  i;

    memset(snap, 0, sizeof(nc_raft_log_snap_t));

    snap->index = nc_raft_log_r64(p);
    snap->term = nc_raft_log_r64(p + 8);
    *flags = nc_raft_log_r32(p + 16);
    snap->conf.n_voters = nc_raft_log_r32(p + 20);
    snap->conf.n_learners = nc_raft_log_r32(p + 24);
    snap->meta_len = nc_raft_log_r32(p + 28);
    p += NC_RAFT_LOG_MARKER_HDR;

    for (i = 0; i < snap->conf.n_voters; i++) {
        snap->conf.voters[i] = nc_raft_log_r64(p);
        p += 8;
    }

    for (i = 0; i < snap->conf.n_learners; i++) {
        snap->conf.learners[i] = nc_raft_log_r64(p);
        p += 8;
    }

    memcpy(snap->meta, p, snap->meta_len);
}


/*
 * Room in the index for n more entries.  The writer is the only one that
 * changes the index, so it copies without the mutex and takes it only to
 * swap the array.
 */

static int
nc_raft_log_reserve(nc_raft_log_t *log, size_t n)
{
    size_t              cap;
    nc_raft_log_ent_t  *ents, *old;

    if (log->head + log->n + n <= log->cap) {
        return NC_OK;
    }

    if (log->n + n <= log->cap / 2) {
        pthread_mutex_lock(&log->mutex);
        memmove(log->ents, log->ents + log->head,
                log->n * sizeof(nc_raft_log_ent_t));
        log->head = 0;
        pthread_mutex_unlock(&log->mutex);

        return NC_OK;
    }

    cap = log->cap ? log->cap * 2 : 1024;

    while (cap < log->n + n) {
        cap *= 2;
    }

    ents = malloc(cap * sizeof(nc_raft_log_ent_t));
    if (ents == NULL) {
        return NC_ERROR;
    }

    if (log->n) {
        memcpy(ents, log->ents + log->head,
               log->n * sizeof(nc_raft_log_ent_t));
    }

    pthread_mutex_lock(&log->mutex);
    old = log->ents;
    log->ents = ents;
    log->head = 0;
    log->cap = cap;
    pthread_mutex_unlock(&log->mutex);

    free(old);

    return NC_OK;
}


/* the writer */

int
nc_raft_log_append(nc_raft_log_t *log, const nc_raft_hard_state_t *hs,
    const nc_raft_entry_t *ents, size_t n)
{
    nc_raft_log_batch_t  b;

    if (n == 0 && hs == NULL) {
        return NC_OK;
    }

    memset(&b, 0, sizeof(nc_raft_log_batch_t));
    b.ents = ents;
    b.n = n;
    b.hs = hs;

    return nc_raft_log_write(log, &b);
}


int
nc_raft_log_snapshot_taken(nc_raft_log_t *log, const nc_raft_log_snap_t *snap)
{
    uint64_t             prev;
    nc_raft_log_batch_t  b;

    prev = log->st.snap_index;

    if (snap->index == prev && snap->term == log->st.snap_term) {
        return NC_OK;
    }

    memset(&b, 0, sizeof(nc_raft_log_batch_t));
    b.marker = snap;

    if (nc_raft_log_write(log, &b) != NC_OK) {
        return NC_ERROR;
    }

    /* the new marker is durable: the previous snapshot stays a fallback */
    nc_raft_log_compact(log, prev);

    return NC_OK;
}


int
nc_raft_log_reset(nc_raft_log_t *log, const nc_raft_log_snap_t *snap)
{
    nc_raft_log_batch_t  b;

    memset(&b, 0, sizeof(nc_raft_log_batch_t));
    b.reset = snap;

    if (nc_raft_log_write(log, &b) != NC_OK) {
        return NC_ERROR;
    }

    /* every older segment holds discarded entries only */
    nc_raft_log_compact(log, snap->index);

    return NC_OK;
}


int
nc_raft_log_prepare(nc_raft_log_t *log)
{
    if (log->next_seg) {
        return NC_OK;
    }

    return nc_raft_log_make_next(log, log->segment_size);
}


void
nc_raft_log_position(nc_raft_log_t *log, uint64_t *seq, uint64_t *off)
{
    *seq = log->segs[log->nsegs - 1]->seq;
    *off = log->tail_off;
}


/*
 * One batch: encode every record into one buffer with the target
 * segment's salt, replay it on a scratch state (refused: nothing written),
 * roll if it does not fit, then one pwrite and one fdatasync, then publish
 * it to the index under the mutex.
 */

static int
nc_raft_log_write(nc_raft_log_t *log, const nc_raft_log_batch_t *b)
{
    int                   roll, hdr;
    char                  why_buf[160];
    size_t                i, size, need, total, off;
    u_char               *p, *buf;
    uint32_t              salt;
    const char           *why;
    nc_raft_log_rec_t     r;
    nc_raft_log_seg_t    *seg;
    nc_raft_log_state_t   st;

    if (log->failed) {
        nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log \"%s\": write"
                     " refused after an earlier write failed", log->wal);
        return NC_ERROR;
    }

    if ((b->reset && !nc_raft_log_snap_valid(log, b->reset))
        || (b->marker && !nc_raft_log_snap_valid(log, b->marker)))
    {
        return NC_ERROR;
    }

    size = 0;

    if (b->reset) {
        size += nc_raft_log_extent(nc_raft_log_marker_len(b->reset));
    }

    for (i = 0; i < b->n; i++) {
        if (b->ents[i].type < NC_RAFT_ENTRY_NORMAL
            || b->ents[i].type > NC_RAFT_ENTRY_CONF
            || b->ents[i].len > NC_RAFT_MAX_ENTRY_SIZE
            || (b->ents[i].len && b->ents[i].data == NULL))
        {
            nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log: entry %" PRIu64
                         " refused: type %u, %u bytes", b->ents[i].index,
                         b->ents[i].type, b->ents[i].len);
            return NC_ERROR;
        }

        size += nc_raft_log_extent(NC_RAFT_LOG_ENT_HDR + b->ents[i].len);
    }

    if (b->hs) {
        size += NC_RAFT_LOG_HS_SIZE;
    }

    if (b->marker) {
        size += nc_raft_log_extent(nc_raft_log_marker_len(b->marker));
    }

    if (size == 0) {
        return NC_OK;
    }

    /* a new segment begins with the hard state and the snapshot marker */

    need = NC_RAFT_LOG_HS_SIZE
           + nc_raft_log_extent(nc_raft_log_marker_len(&log->snap));

    seg = log->segs[log->nsegs - 1];

    roll = log->tail_full
           || log->tail_off + (log->need_header ? need : 0) + size
              + NC_RAFT_LOG_END_SIZE > seg->size;

    hdr = roll || log->need_header;
    total = size + (hdr ? need : 0);

    if (roll) {
        need = NC_RAFT_LOG_HDR_SIZE + total + NC_RAFT_LOG_END_SIZE;

        if (log->next_seg && log->next_seg->size < need) {
            nc_raft_log_drop_next(log);
        }

        need = (need + 4095) & ~(size_t) 4095;

        if (log->next_seg == NULL
            && nc_raft_log_make_next(log, nc_max(log->segment_size, need))
               != NC_OK)
        {
            return NC_ERROR;
        }

        salt = log->next_seg->salt;

    } else {
        salt = seg->salt;
    }

    if (total > log->buf_cap) {
        buf = malloc(total);
        if (buf == NULL) {
            nc_log_error(NC_LOG_CRIT, log->log, errno, "raft log: malloc(%zu)"
                         " failed", total);
            return NC_ERROR;
        }

        free(log->buf);
        log->buf = buf;
        log->buf_cap = total;
    }

    p = log->buf;

    if (hdr) {
        p = nc_raft_log_put_hs(p, &log->st.hs, salt);
        p = nc_raft_log_put_marker(p, &log->snap, NC_RAFT_LOG_MARK_COPY, salt);
    }

    if (b->reset) {
        p = nc_raft_log_put_marker(p, b->reset, NC_RAFT_LOG_MARK_RESET, salt);
    }

    for (i = 0; i < b->n; i++) {
        p = nc_raft_log_put_entry(p, &b->ents[i], salt);
    }

    if (b->hs) {
        p = nc_raft_log_put_hs(p, b->hs, salt);
    }

    if (b->marker) {
        p = nc_raft_log_put_marker(p, b->marker, 0, salt);
    }

    if ((size_t) (p - log->buf) != total) {
        nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log: batch of %zu bytes"
                     " encoded in %zu", total, (size_t) (p - log->buf));
        return NC_ERROR;
    }

    /* recovery must accept whatever is written: replay it first */

    st = log->st;
    why = NULL;

    for (off = 0; off < total && why == NULL; off += r.extent) {
        nc_raft_log_decode(log->buf + off, &r);
        why = nc_raft_log_apply(log, &st, &r, NULL, NC_RAFT_LOG_CHECK);
    }

    if (why == NULL) {
        why = nc_raft_log_finish(&st, why_buf, sizeof(why_buf));
    }

    if (why) {
        nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log: batch refused,"
                     " nothing written: %s (record at batch offset %zu,"
                     " index %" PRIu64 ", last %" PRIu64 ", commit %" PRIu64
                     ")", why, off - r.extent, r.index, log->st.last,
                     log->st.hs.commit);
        return NC_ERROR;
    }

    if (nc_raft_log_reserve(log, b->n) != NC_OK) {
        nc_log_error(NC_LOG_CRIT, log->log, errno, "raft log: out of memory"
                     " for the index of %zu entries", log->n + b->n);
        return NC_ERROR;
    }

    if (roll && nc_raft_log_roll(log) != NC_OK) {
        return NC_ERROR;
    }

    seg = log->segs[log->nsegs - 1];

    if (nc_raft_log_pwrite(log, log->tail_fd, log->buf, total,
                           (off_t) log->tail_off, seg->seq)
        != NC_OK)
    {
        return NC_ERROR;
    }

    nc_raft_log_sync_file(log, log->tail_fd, seg->seq);

    /* durable: publish, reading the records back through the mapping */

    pthread_mutex_lock(&log->mutex);

    for (off = 0; off < total; off += r.extent) {
        nc_raft_log_decode(seg->map + log->tail_off + off, &r);
        why = nc_raft_log_apply(log, &log->st, &r, seg, NC_RAFT_LOG_UPDATE);

        if (why) {
            /* the check above makes this impossible */
            nc_log_error(NC_LOG_EMERG, log->log, 0, "raft log: a durable batch"
                         " does not replay: %s: aborting", why);
            abort();
        }
    }

    pthread_mutex_unlock(&log->mutex);

    log->tail_off += total;
    log->need_header = 0;

    return NC_OK;
}


static int
nc_raft_log_snap_valid(nc_raft_log_t *log, const nc_raft_log_snap_t *snap)
{
    if ((size_t) snap->conf.n_voters + snap->conf.n_learners
        <= NC_RAFT_MAX_MEMBERS
        && snap->meta_len <= NC_RAFT_LOG_META_MAX)
    {
        return 1;
    }

    nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log: snapshot %" PRIu64
                 " refused: %u voters, %u learners, %u bytes of meta",
                 snap->index, snap->conf.n_voters, snap->conf.n_learners,
                 snap->meta_len);

    return 0;
}


static size_t
nc_raft_log_marker_len(const nc_raft_log_snap_t *snap)
{
    return NC_RAFT_LOG_MARKER_HDR
           + 8 * ((size_t) snap->conf.n_voters + snap->conf.n_learners)
           + snap->meta_len;
}


/* a record's header and tail around a payload of len bytes at p + 32 */

static u_char *
nc_raft_log_put(u_char *p, uint32_t type, uint64_t index, uint64_t term,
    uint32_t len, uint32_t salt)
{
    size_t   ext;
    u_char  *a;

    ext = nc_raft_log_extent(len);
    a = p + NC_RAFT_LOG_REC_HDR;

    memset(a + len, 0, ext - NC_RAFT_LOG_REC_HDR - len - 4);
    nc_raft_log_w32(p + ext - 4, NC_RAFT_LOG_TAG);

    nc_raft_log_w32(p + 4, nc_crc32c(salt, a, len));
    nc_raft_log_w64(p + 8, index);
    nc_raft_log_w64(p + 16, term);
    nc_raft_log_w32(p + 24, len);
    p[28] = (u_char) type;
    p[29] = 0;
    p[30] = 0;
    p[31] = 0;
    nc_raft_log_w32(p, nc_crc32c(salt, p + 4, NC_RAFT_LOG_REC_HDR - 4));

    return p + ext;
}


static u_char *
nc_raft_log_put_entry(u_char *p, const nc_raft_entry_t *e, uint32_t salt)
{
    u_char  *a;

    a = p + NC_RAFT_LOG_REC_HDR;

    nc_raft_log_w64(a, e->client_id);
    nc_raft_log_w64(a + 8, e->seq);

    if (e->len) {
        memcpy(a + NC_RAFT_LOG_ENT_HDR, e->data, e->len);
    }

    return nc_raft_log_put(p, e->type, e->index, e->term,
                           NC_RAFT_LOG_ENT_HDR + e->len, salt);
}


static u_char *
nc_raft_log_put_hs(u_char *p, const nc_raft_hard_state_t *hs, uint32_t salt)
{
    u_char  *a;

    a = p + NC_RAFT_LOG_REC_HDR;

    nc_raft_log_w64(a, hs->term);
    nc_raft_log_w64(a + 8, hs->vote);
    nc_raft_log_w64(a + 16, hs->commit);

    return nc_raft_log_put(p, NC_RAFT_LOG_HARDSTATE, 0, 0, NC_RAFT_LOG_HS_LEN,
                           salt);
}


static u_char *
nc_raft_log_put_marker(u_char *p, const nc_raft_log_snap_t *snap,
    uint32_t flags, uint32_t salt)
{
    uint32_t  i, nv, nl, ml;
    u_char   *a;

    /* checked by nc_raft_log_snap_valid() */
    nv = snap->conf.n_voters;
    nl = snap->conf.n_learners;
    ml = snap->meta_len;

    a = p + NC_RAFT_LOG_REC_HDR;

    nc_raft_log_w64(a, snap->index);
    nc_raft_log_w64(a + 8, snap->term);
    nc_raft_log_w32(a + 16, flags);
    nc_raft_log_w32(a + 20, nv);
    nc_raft_log_w32(a + 24, nl);
    nc_raft_log_w32(a + 28, ml);
    a += NC_RAFT_LOG_MARKER_HDR;

    for (i = 0; i < nv; i++) {
        nc_raft_log_w64(a, snap->conf.voters[i]);
        a += 8;
    }

    for (i = 0; i < nl; i++) {
        nc_raft_log_w64(a, snap->conf.learners[i]);
        a += 8;
    }

    memcpy(a, snap->meta, ml);

    return nc_raft_log_put(p, NC_RAFT_LOG_MARKER, 0, 0,
                           NC_RAFT_LOG_MARKER_HDR + 8 * (nv + nl) + ml, salt);
}


static u_char *
nc_raft_log_put_end(u_char *p, uint64_t next, uint32_t salt)
{
    nc_raft_log_w64(p + NC_RAFT_LOG_REC_HDR, next);

    return nc_raft_log_put(p, NC_RAFT_LOG_SEGMENT_END, 0, 0,
                           NC_RAFT_LOG_END_LEN, salt);
}


/*
 * Close the tail with a durable SEGMENT_END, then put the prepared next
 * segment in place and make the rename durable.  A failure after the
 * SEGMENT_END leaves tail_full set: the next write retries the switch.
 */

static int
nc_raft_log_roll(nc_raft_log_t *log)
{
    char                path[PATH_MAX], tmp[PATH_MAX];
    u_char              end[NC_RAFT_LOG_END_SIZE];
    nc_raft_log_seg_t  *seg, *next;

    seg = log->segs[log->nsegs - 1];
    next = log->next_seg;

    if (!log->tail_full) {
        nc_raft_log_put_end(end, seg->seq + 1, seg->salt);

        if (nc_raft_log_pwrite(log, log->tail_fd, end, sizeof(end),
                               (off_t) log->tail_off, seg->seq)
            != NC_OK)
        {
            return NC_ERROR;
        }

        nc_raft_log_sync_file(log, log->tail_fd, seg->seq);

        log->tail_full = 1;
        log->tail_off += sizeof(end);
    }

    snprintf(tmp, sizeof(tmp), "%s/next.wal.tmp", log->wal);
    nc_raft_log_seg_path(log, path, next->seq);

    if (rename(tmp, path) == -1) {
        nc_log_error(NC_LOG_CRIT, log->log, errno, "rename() \"%s\" to \"%s\""
                     " failed", tmp, path);
        nc_raft_log_drop_next(log);
        return NC_ERROR;
    }

    nc_raft_log_sync_dir(log);

    (void) close(log->tail_fd);

    log->segs[log->nsegs++] = next;     /* room made by make_next */
    log->tail_fd = log->next_fd;
    log->tail_off = NC_RAFT_LOG_HDR_SIZE;
    log->tail_full = 0;
    log->need_header = 1;
    log->next_fd = NC_INVALID_FILE;
    log->next_seg = NULL;

    return NC_OK;
}


/* wal/next.wal.tmp: zero-filled, synced and mapped, not yet in place */

static int
nc_raft_log_make_next(nc_raft_log_t *log, size_t size)
{
    int                    err;
    char                   tmp[PATH_MAX];
    uint64_t               seq;
    nc_raft_log_seg_t     *seg, **segs;
    nc_raft_log_report_t   rep;

    if (log->nsegs == log->segs_cap) {
        segs = realloc(log->segs,
                       2 * log->segs_cap * sizeof(nc_raft_log_seg_t *));
        if (segs == NULL) {
            nc_log_error(NC_LOG_CRIT, log->log, errno, "raft log: out of"
                         " memory");
            return NC_ERROR;
        }

        log->segs = segs;
        log->segs_cap *= 2;
    }

    seg = calloc(1, sizeof(nc_raft_log_seg_t));
    if (seg == NULL) {
        nc_log_error(NC_LOG_CRIT, log->log, errno, "raft log: out of memory");
        return NC_ERROR;
    }

    seq = log->segs[log->nsegs - 1]->seq + 1;
    snprintf(tmp, sizeof(tmp), "%s/next.wal.tmp", log->wal);

    if (nc_raft_log_seg_file(log, tmp, seq, size, log->st.last + 1,
                             &seg->salt, &log->next_fd, &rep)
        != NC_OK)
    {
        nc_log_error(NC_LOG_CRIT, log->log, 0, "raft log: %s", rep.text);
        free(seg);
        return NC_ERROR;
    }

    seg->seq = seq;
    seg->size = size;
    seg->map = mmap(NULL, size, PROT_READ, MAP_SHARED, log->next_fd, 0);

    if (seg->map == MAP_FAILED) {
        err = errno;
        nc_log_error(NC_LOG_CRIT, log->log, err, "mmap() \"%s\" failed", tmp);
        (void) close(log->next_fd);
        (void) unlink(tmp);
        log->next_fd = NC_INVALID_FILE;
        free(seg);
        return NC_ERROR;
    }

    log->next_seg = seg;

    return NC_OK;
}


static void
nc_raft_log_drop_next(nc_raft_log_t *log)
{
    char  tmp[PATH_MAX];

    if (log->next_seg == NULL) {
        return;
    }

    snprintf(tmp, sizeof(tmp), "%s/next.wal.tmp", log->wal);
    (void) unlink(tmp);
    (void) close(log->next_fd);

    nc_raft_log_seg_free(log->next_seg);

    log->next_fd = NC_INVALID_FILE;
    log->next_seg = NULL;
}


/*
 * Delete the oldest segments while every entry in them is at or below
 * "below", never the tail, in order (replay needs a contiguous sequence).
 * Their entries leave the index; the last one removed becomes its base.
 * Mappings are kept until nc_raft_log_release(): the loop may still hold
 * entries read from them.
 */

static void
nc_raft_log_compact(nc_raft_log_t *log, uint64_t below)
{
    char                path[PATH_MAX];
    size_t              i, k;
    nc_raft_log_ent_t  *e;

    for (k = 0; k + 1 < log->nsegs && log->segs[k]->max_index <= below; k++) {
        /* void */
    }

    /*
     * Oldest first, each unlink made durable before the next: a crash
     * leaves a shorter prefix deleted, never a gap, which recovery would
     * rightly refuse.  Compaction is rare, the syncs cheap.
     */

    for (i = 0; i < k; i++) {
        nc_raft_log_seg_path(log, path, log->segs[i]->seq);

        if (unlink(path) == -1 && errno != ENOENT) {
            nc_log_error(NC_LOG_CRIT, log->log, errno, "unlink() \"%s\""
                         " failed", path);
            k = i;
            break;
        }

        nc_raft_log_sync_dir(log);
    }

    if (k == 0) {
        return;
    }

    pthread_mutex_lock(&log->mutex);

    for (i = 0; i < k; i++) {
        log->segs[i]->dead = 1;
    }

    while (log->n && log->ents[log->head].seg->dead) {
        e = &log->ents[log->head];
        log->st.base++;
        log->st.base_term = e->term;
        log->head++;
        log->n--;
    }

    for (i = 0; i < k; i++) {
        log->segs[i]->next = log->retired;
        log->retired = log->segs[i];
    }

    pthread_mutex_unlock(&log->mutex);

    log->nsegs -= k;
    memmove(log->segs, log->segs + k, log->nsegs * sizeof(nc_raft_log_seg_t *));
}


static int
nc_raft_log_pwrite(nc_raft_log_t *log, nc_fd_t fd, const u_char *p,
    size_t len, off_t off, uint64_t seq)
{
    char     path[PATH_MAX];
    ssize_t  n;

    n = pwrite(fd, p, len, off);

    if (n == (ssize_t) len) {
        return NC_OK;
    }

    /* a short write is an I/O error: the tail is unknown until a restart */

    log->failed = 1;

    nc_log_error(NC_LOG_ALERT, log->log, n == -1 ? errno : EIO,
                 "pwrite() of %zu bytes at %jd to \"%s\" failed (%zd): the"
                 " Raft log refuses further writes, restart the consensus"
                 " process", len, (intmax_t) off,
                 nc_raft_log_seg_path(log, path, seq), n);

    return NC_ERROR;
}


/* fsyncgate: after a failed sync the page cache may have dropped the data */

static void
nc_raft_log_sync_file(nc_raft_log_t *log, nc_fd_t fd, uint64_t seq)
{
    char  path[PATH_MAX];

    if (log->sync(fd) == 0) {
        return;
    }

    nc_log_error(NC_LOG_EMERG, log->log, errno, "fdatasync() \"%s\" failed:"
                 " aborting, a retry could report success for data the"
                 " kernel has dropped", nc_raft_log_seg_path(log, path, seq));
    abort();
}


static void
nc_raft_log_sync_dir(nc_raft_log_t *log)
{
    if (fsync(log->wal_fd) == 0) {
        return;
    }

    nc_log_error(NC_LOG_EMERG, log->log, errno, "fsync() \"%s\" failed:"
                 " aborting", log->wal);
    abort();
}


/* create a segment file: header, zeros up to size, synced */

static int
nc_raft_log_seg_file(nc_raft_log_t *log, const char *path, uint64_t seq,
    size_t size, uint64_t first, uint32_t *salt, nc_fd_t *fdp,
    nc_raft_log_report_t *rep)
{
    int      fd, err;
    size_t   off, len;
    u_char   h[NC_RAFT_LOG_HDR_SIZE];
    ssize_t  n;

    if (getrandom(salt, sizeof(uint32_t), 0) != sizeof(uint32_t)) {
        *salt = (uint32_t) (seq * 2654435761u) ^ (uint32_t) time(NULL)
                ^ (uint32_t) getpid();
    }

    memset(h, 0, sizeof(h));
    memcpy(h, NC_RAFT_LOG_SEG_MAGIC, 8);
    nc_raft_log_w32(h + 8, NC_RAFT_LOG_VERSION);
    memcpy(h + 16, log->cluster_id, 16);
    nc_raft_log_w64(h + 32, log->node_id);
    nc_raft_log_w64(h + 40, seq);
    nc_raft_log_w64(h + 48, first);
    nc_raft_log_w32(h + 56, *salt);
    nc_raft_log_w32(h + 12, nc_crc32c(0, h, sizeof(h)));

    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        return nc_raft_log_fail(rep, NC_ERROR, "open() \"%s\" failed: %s",
                                path, strerror(errno));
    }

    /*
     * Real zeros rather than fallocate(): later fdatasyncs need not
     * convert unwritten extents, and zero means never written, which the
     * torn-tail check relies on.
     */

    for (off = 0; off < size; off += (size_t) n) {
        len = nc_min(size - off, NC_RAFT_LOG_ZERO_CHUNK);
        n = pwrite(fd, off ? nc_raft_log_zeros : h,
                   off ? len : sizeof(h), (off_t) off);

        if (n <= 0) {
            err = n == -1 ? errno : EIO;
            goto failed;
        }
    }

    if (log->sync(fd) == -1) {
        err = errno;
        goto failed;
    }

    *fdp = fd;

    return NC_OK;

failed:

    (void) close(fd);
    (void) unlink(path);

    return nc_raft_log_fail(rep, NC_ERROR, "creating \"%s\" (%zu bytes)"
                            " failed: %s", path, size, strerror(err));
}


/* the loop thread */

void
nc_raft_log_storage(nc_raft_log_t *log, nc_raft_storage_t *st)
{
    st->ctx = log;
    st->entries = nc_raft_log_st_entries;
    st->term = nc_raft_log_st_term;
    st->first_index = nc_raft_log_st_first;
    st->last_index = nc_raft_log_st_last;
    st->snapshot = nc_raft_log_st_snapshot;
}


/*
 * Entries lo..hi, at most *n of them and at least one, stopping once
 * max_bytes of data are reached.  Each record's CRCs are checked again:
 * the page cache may have re-read it from a disk that changed since open.
 */

static int
nc_raft_log_st_entries(void *ctx, uint64_t lo, uint64_t hi,
    nc_raft_entry_t *out, size_t *n, size_t max_bytes)
{
    char                path[PATH_MAX];
    size_t              k, max, bytes, len;
    const u_char       *p;
    nc_raft_log_t      *log;
    nc_raft_log_ent_t  *e;

    log = ctx;

    pthread_mutex_lock(&log->mutex);

    if (lo <= log->st.base || hi > log->st.last || lo > hi) {
        pthread_mutex_unlock(&log->mutex);
        return NC_RAFT_DECLINED;
    }

    max = (size_t) (hi - lo + 1);

    if (*n && *n < max) {
        max = *n;
    }

    e = &log->ents[log->head + (lo - log->st.base - 1)];
    bytes = 0;

    for (k = 0; k < max; k++, e++) {
        p = e->rec;
        len = nc_raft_log_r32(p + 24);

        if (nc_crc32c(e->seg->salt, p + 4, NC_RAFT_LOG_REC_HDR - 4)
            != nc_raft_log_r32(p)
            || nc_crc32c(e->seg->salt, p + NC_RAFT_LOG_REC_HDR, len)
               != nc_raft_log_r32(p + 4))
        {
            pthread_mutex_unlock(&log->mutex);

            nc_log_error(NC_LOG_ALERT, log->log, 0, "raft log: entry %" PRIu64
                         " in \"%s\" at offset %td changed on disk since it"
                         " was written or read: CRC mismatch", lo + k,
                         nc_raft_log_seg_path(log, path, e->seg->seq),
                         p - e->seg->map);
            return NC_RAFT_ERROR;
        }

        out[k].index = lo + k;
        out[k].term = e->term;
        out[k].type = p[28];
        out[k].client_id = nc_raft_log_r64(p + NC_RAFT_LOG_REC_HDR);
        out[k].seq = nc_raft_log_r64(p + NC_RAFT_LOG_REC_HDR + 8);
        out[k].len = (uint32_t) (len - NC_RAFT_LOG_ENT_HDR);
        out[k].data = p + NC_RAFT_LOG_REC_HDR + NC_RAFT_LOG_ENT_HDR;

        bytes += out[k].len;

        if (bytes >= max_bytes) {
            k++;
            break;
        }
    }

    pthread_mutex_unlock(&log->mutex);

    *n = k;

    return NC_RAFT_OK;
}


static int
nc_raft_log_st_term(void *ctx, uint64_t index, uint64_t *term)
{
    int             rc;
    nc_raft_log_t  *log;

    log = ctx;
    rc = NC_RAFT_OK;

    pthread_mutex_lock(&log->mutex);

    if (index == log->st.base) {
        *term = log->st.base_term;

    } else if (index < log->st.base || index > log->st.last) {
        rc = NC_RAFT_DECLINED;

    } else {
        *term = log->ents[log->head + (index - log->st.base - 1)].term;
    }

    pthread_mutex_unlock(&log->mutex);

    return rc;
}


static uint64_t
nc_raft_log_st_first(void *ctx)
{
    uint64_t        first;
    nc_raft_log_t  *log;

    log = ctx;

    pthread_mutex_lock(&log->mutex);
    first = log->st.base + 1;
    pthread_mutex_unlock(&log->mutex);

    return first;
}


static uint64_t
nc_raft_log_st_last(void *ctx)
{
    uint64_t        last;
    nc_raft_log_t  *log;

    log = ctx;

    pthread_mutex_lock(&log->mutex);
    last = log->st.last;
    pthread_mutex_unlock(&log->mutex);

    return last;
}


static int
nc_raft_log_st_snapshot(void *ctx, nc_raft_snapshot_t *snap)
{
    nc_raft_log_t  *log;

    log = ctx;

    if (!log->has_image) {
        return NC_RAFT_AGAIN;
    }

    *snap = log->image;

    return NC_RAFT_OK;
}


void
nc_raft_log_hard_state(nc_raft_log_t *log, nc_raft_hard_state_t *hs)
{
    pthread_mutex_lock(&log->mutex);
    *hs = log->st.hs;
    pthread_mutex_unlock(&log->mutex);
}


void
nc_raft_log_snapshot_marker(nc_raft_log_t *log, nc_raft_log_snap_t *snap)
{
    pthread_mutex_lock(&log->mutex);
    *snap = log->snap;
    pthread_mutex_unlock(&log->mutex);
}


void
nc_raft_log_range(nc_raft_log_t *log, uint64_t *first, uint64_t *last)
{
    pthread_mutex_lock(&log->mutex);
    *first = log->st.base + 1;
    *last = log->st.last;
    pthread_mutex_unlock(&log->mutex);
}


void
nc_raft_log_identity(nc_raft_log_t *log, u_char *cluster_id,
    uint64_t *node_id)
{
    memcpy(cluster_id, log->cluster_id, 16);
    *node_id = log->node_id;
}


void
nc_raft_log_set_snapshot(nc_raft_log_t *log, const nc_raft_snapshot_t *snap)
{
    if (snap == NULL || snap->index == 0) {
        log->has_image = 0;
        return;
    }

    log->image = *snap;
    log->has_image = 1;
}


void
nc_raft_log_release(nc_raft_log_t *log)
{
    nc_raft_log_seg_t  *seg, *next;

    pthread_mutex_lock(&log->mutex);
    seg = log->retired;
    log->retired = NULL;
    pthread_mutex_unlock(&log->mutex);

    for ( /* void */ ; seg; seg = next) {
        next = seg->next;
        nc_raft_log_seg_free(seg);
    }
}


void
nc_raft_log_close(nc_raft_log_t *log)
{
    if (log) {
        nc_raft_log_free(log);
    }
}


/* utilities */

static void
nc_raft_log_free(nc_raft_log_t *log)
{
    size_t  i;

    nc_raft_log_release(log);

    for (i = 0; i < log->nsegs; i++) {
        nc_raft_log_seg_free(log->segs[i]);
    }

    if (log->next_seg) {
        nc_raft_log_seg_free(log->next_seg);
    }

    if (log->next_fd != NC_INVALID_FILE) {
        (void) close(log->next_fd);
    }

    if (log->tail_fd != NC_INVALID_FILE) {
        (void) close(log->tail_fd);
    }

    if (log->wal_fd != NC_INVALID_FILE) {
        (void) close(log->wal_fd);
    }

    if (log->lock_fd != NC_INVALID_FILE) {
        (void) close(log->lock_fd);      /* releases the flock */
    }

    (void) pthread_mutex_destroy(&log->mutex);

    free(log->segs);
    free(log->ents);
    free(log->buf);
    free(log->dir);
    free(log->wal);
    free(log);
}


static void
nc_raft_log_seg_free(nc_raft_log_seg_t *seg)
{
    if (seg->map && seg->map != MAP_FAILED) {
        (void) munmap(seg->map, seg->size);
    }

    free(seg);
}


static char *
nc_raft_log_seg_path(nc_raft_log_t *log, char *buf, uint64_t seq)
{
    snprintf(buf, PATH_MAX, "%s/%016" PRIx64 ".wal", log->wal, seq);

    return buf;
}


static int
nc_raft_log_fsync_path(const char *path)
{
    int  fd, rc, err;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return NC_ERROR;
    }

    rc = fsync(fd);
    err = errno;
    (void) close(fd);
    errno = err;

    return rc == 0 ? NC_OK : NC_ERROR;
}


static int
nc_raft_log_fail(nc_raft_log_report_t *rep, int code, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(rep->text, sizeof(rep->text), fmt, args);
    va_end(args);

    rep->code = code;

    return code;
}


/* vsnprintf: a message may be cut, which snprintf() would warn about */

static void
nc_raft_log_text(char *buf, size_t size, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, size, fmt, args);
    va_end(args);
}
