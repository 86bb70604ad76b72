
/*
 * nacre: snapshot files of the store.
 *
 * A snapshot is one published version written out in key order: the
 * durable copy of the replicated state that lets the consensus process
 * compact its Raft log and seed a new member.  Little-endian throughout:
 *
 *   header    64 bytes with a CRC of its own, so that no length in it is
 *             trusted before it is known to be intact
 *   meta      meta_len bytes as the caller gave them (Raft membership,
 *             client sessions): opaque to the store
 *   records   one raw deflate stream (RFC 1951) of records
 *             {type, flags, revision, key_len, value_len, key, value}
 *   trailer   32 bytes: count, raw bytes, stream bytes, a magic, and the
 *             CRC-32 of every byte of the file before the CRC itself
 *
 * Both directions stream through bounded buffers, so a snapshot never sits
 * whole in memory; large values go between deflate and the region without
 * a copy.  A file that fails any check is refused as a whole: the load
 * runs in one batch that is aborted, never half published.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>

#include <zlib.h>


#define NC_SNAP_MAGIC           0x3130504e53524e43ULL  /* "CNRSNP01" LE */
#define NC_SNAP_TRAILER_MAGIC   0x444e4553U            /* "SEND" LE */
/* the records' layouts are part of the format: 2, a service no longer
 * carries its rendered list */
#define NC_SNAP_VERSION         2
#define NC_SNAP_DEFLATE         1                      /* raw deflate */

#define NC_SNAP_HEADER_SIZE     64
#define NC_SNAP_RECORD_SIZE     24                     /* before the key */
#define NC_SNAP_TRAILER_SIZE    32

/*
 * Hard bounds on what a file may claim, checked before anything is sized.
 * Values are read straight into the region, which bounds them anyway; the
 * cap is far above any value the domains make (Raft entries stop at
 * 8 MiB, rendered instance lists stay well below), and the writer refuses
 * to write what the load would refuse.
 */
#define NC_SNAP_MAX_META        (64 * 1024 * 1024)
#define NC_SNAP_MAX_VALUE       (1024 * 1024 * 1024)

/*
 * Level 1 is the fastest level that compresses: config-like records
 * shrink 8.5 times at ~330 MB/s; level 3 saves 6% more of the file at
 * 80% of the speed, level 6 16% at a quarter (bench/store-snapshot).
 * Incompressible values go through at ~70 MB/s, zlib's own pace.  Deflate
 * dominates, so buffer sizes hardly matter: these stay within L2.
 */
#define NC_SNAP_LEVEL           1
#define NC_SNAP_IN_SIZE         (64 * 1024)
#define NC_SNAP_OUT_SIZE        (128 * 1024)

/* longest run handed to zlib at once: its lengths are 32-bit */
#define NC_SNAP_CHUNK_MAX       (1024 * 1024 * 1024)


typedef struct {
    nc_store_t         *store;
    const char         *path;            /* the temporary file */
    nc_fd_t             fd;
    z_stream            zs;
    nc_flag_t           zs_init;
    uLong               crc;             /* of the file bytes written */
    uint64_t            count;
    uint64_t            raw_bytes;
    uint64_t            file_bytes;
    uint64_t            stream_bytes;
    size_t              in_len;          /* staged, not yet deflated */
    size_t              out_len;         /* file bytes not yet written */
    nc_store_iter_t     it;
    u_char              in[NC_SNAP_IN_SIZE];
    u_char              out[NC_SNAP_OUT_SIZE];
} nc_store_snapshot_writer_t;


typedef struct {
    nc_store_t         *store;
    const char         *path;
    nc_fd_t             fd;
    z_stream            zs;
    nc_flag_t           zs_init;
    nc_flag_t           end;             /* the deflate stream has ended */
    uLong               crc;             /* of the file bytes read */
    uint64_t            left;            /* stream bytes not yet read */
    u_char             *pos;             /* inflated, not yet consumed */
    u_char             *last;
    u_char              key[2][NC_STORE_MAX_KEY_LEN];
    u_char              in[NC_SNAP_IN_SIZE];
    u_char              out[NC_SNAP_OUT_SIZE];
} nc_store_snapshot_reader_t;


static nc_int_t nc_store_snapshot_records(nc_store_snapshot_writer_t *w,
    const nc_store_version_t *v);
static nc_int_t nc_store_snapshot_put(nc_store_snapshot_writer_t *w,
    const u_char *data, size_t len);
static nc_int_t nc_store_snapshot_deflate(nc_store_snapshot_writer_t *w,
    const u_char *data, size_t len, int flush);
static nc_int_t nc_store_snapshot_emit(nc_store_snapshot_writer_t *w,
    const u_char *data, size_t len);
static nc_int_t nc_store_snapshot_flush(nc_store_snapshot_writer_t *w);
static nc_int_t nc_store_snapshot_sync_dir(const char *path, nc_log_t *log);

static nc_int_t nc_store_snapshot_load_records(nc_store_snapshot_reader_t *r,
    uint64_t count, uint64_t *raw_bytes);
static nc_int_t nc_store_snapshot_clear(nc_store_t *s);
static nc_int_t nc_store_snapshot_import(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info, nc_flag_t replace);
static nc_int_t nc_store_snapshot_read(nc_store_snapshot_reader_t *r,
    u_char *dst, size_t n);
static ssize_t nc_store_snapshot_inflate(nc_store_snapshot_reader_t *r,
    u_char *buf, size_t size);
static nc_int_t nc_store_snapshot_read_file(nc_store_snapshot_reader_t *r,
    u_char *buf, size_t n);
static void nc_store_snapshot_corrupt(nc_store_snapshot_reader_t *r,
    const char *fmt, ...) NC_PRINTF(2, 3);

static nc_flag_t nc_store_snapshot_key_after(const u_char *prev,
    size_t prev_len, const u_char *key, size_t key_len);
static void nc_store_snapshot_le32(u_char *p, uint32_t n);
static void nc_store_snapshot_le64(u_char *p, uint64_t n);
static uint32_t nc_store_snapshot_get32(const u_char *p);
static uint64_t nc_store_snapshot_get64(const u_char *p);


/* --- write ------------------------------------------------------------ */


nc_int_t
nc_store_snapshot_write(nc_store_t *s, const nc_store_version_t *v,
    const char *path, const u_char *meta, size_t meta_len,
    nc_store_snapshot_info_t *info)
{
    int                          rc;
    nc_flag_t                    created;
    nc_store_snapshot_writer_t  *w;
    u_char                       h[NC_SNAP_HEADER_SIZE];
    u_char                       t[NC_SNAP_TRAILER_SIZE];
    char                         tmp[PATH_MAX];

    if (v == NULL || meta_len > NC_SNAP_MAX_META) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "snapshot \"%s\" not written: %s", path,
                     v ? "meta too long" : "no version");
        return NC_ERROR;
    }

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not written: path too long", path);
        return NC_ERROR;
    }

    w = nc_calloc(sizeof(nc_store_snapshot_writer_t));
    if (w == NULL) {
        return NC_ERROR;
    }

    w->store = s;
    w->path = tmp;
    w->crc = crc32(0L, Z_NULL, 0);
    created = 0;

    /* 0600: the store holds password hashes and tokens' keys */
    w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                 0600);
    if (w->fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not written: open() \"%s\" failed",
                     path, tmp);
        goto failed;
    }

    created = 1;

    /* raw deflate: the trailer's CRC makes zlib's adler32 redundant */
    rc = deflateInit2(&w->zs, NC_SNAP_LEVEL, Z_DEFLATED, -15, 8,
                      Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "snapshot \"%s\" not written: deflateInit2() failed: %d",
                     path, rc);
        goto failed;
    }

    w->zs_init = 1;

    nc_memzero(h, sizeof(h));
    nc_store_snapshot_le64(h, NC_SNAP_MAGIC);
    nc_store_snapshot_le32(h + 8, NC_SNAP_VERSION);
    nc_store_snapshot_le32(h + 12, NC_SNAP_DEFLATE);
    nc_store_snapshot_le64(h + 16, v->applied_index);
    nc_store_snapshot_le64(h + 24, v->applied_term);
    nc_store_snapshot_le64(h + 32, v->count);
    nc_store_snapshot_le64(h + 40, meta_len);
    nc_store_snapshot_le32(h + 60, (uint32_t) crc32(0L, h, 60));

    if (nc_store_snapshot_emit(w, h, sizeof(h)) != NC_OK
        || nc_store_snapshot_emit(w, meta, meta_len) != NC_OK
        || nc_store_snapshot_records(w, v) != NC_OK)
    {
        goto failed;
    }

    nc_store_snapshot_le64(t, w->count);
    nc_store_snapshot_le64(t + 8, w->raw_bytes);
    nc_store_snapshot_le64(t + 16, w->stream_bytes);
    nc_store_snapshot_le32(t + 24, NC_SNAP_TRAILER_MAGIC);

    /* the CRC covers the trailer up to itself: flush those bytes first */
    if (nc_store_snapshot_emit(w, t, 28) != NC_OK
        || nc_store_snapshot_flush(w) != NC_OK)
    {
        goto failed;
    }

    nc_store_snapshot_le32(t + 28, (uint32_t) w->crc);

    if (nc_store_snapshot_emit(w, t + 28, 4) != NC_OK
        || nc_store_snapshot_flush(w) != NC_OK)
    {
        goto failed;
    }

    if (fsync(w->fd) == -1) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not written: fsync() \"%s\" failed",
                     path, tmp);
        goto failed;
    }

    rc = close(w->fd);
    w->fd = NC_INVALID_FILE;

    if (rc == -1) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not written: close() \"%s\" failed",
                     path, tmp);
        goto failed;
    }

    if (rename(tmp, path) == -1) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not written: rename() \"%s\" failed",
                     path, tmp);
        goto failed;
    }

    created = 0;

    if (info) {
        info->applied_index = v->applied_index;
        info->applied_term = v->applied_term;
        info->count = w->count;
        info->raw_bytes = w->raw_bytes;
        info->file_bytes = w->file_bytes;
        info->meta_len = meta_len;
        info->meta = NULL;                /* the caller's, not copied */
    }

    (void) deflateEnd(&w->zs);
    free(w);

    /*
     * The file is complete and synced, but until the directory is synced
     * the rename may not survive a crash: the caller must not drop the
     * Raft log that this snapshot replaces.
     */
    return nc_store_snapshot_sync_dir(path, s->log);

failed:

    if (w->zs_init) {
        (void) deflateEnd(&w->zs);
    }

    if (w->fd != NC_INVALID_FILE) {
        (void) close(w->fd);
    }

    if (created && unlink(tmp) == -1 && errno != ENOENT) {
        nc_log_error(NC_LOG_CRIT, s->log, errno, "unlink() \"%s\" failed",
                     tmp);
    }

    free(w);

    return NC_ERROR;
}


static nc_int_t
nc_store_snapshot_records(nc_store_snapshot_writer_t *w,
    const nc_store_version_t *v)
{
    nc_store_t               *s;
    const nc_store_record_t  *rec, *prev;
    u_char                    h[NC_SNAP_RECORD_SIZE];

    s = w->store;
    prev = NULL;

    nc_store_iter_init(&w->it, s, v->root, NULL, 0, NULL, 0);

    for ( ;; ) {
        rec = nc_store_iter_next(&w->it);
        if (rec == NULL) {
            break;
        }

        /* never write what the load would refuse: the copy would be lost */
        if (rec->key_len > NC_STORE_MAX_KEY_LEN
            || rec->value_len > NC_SNAP_MAX_VALUE
            || (prev && !nc_store_snapshot_key_after(
                              nc_store_record_key(prev), prev->key_len,
                              nc_store_record_key(rec), rec->key_len)))
        {
            nc_log_error(NC_LOG_ALERT, s->log, 0,
                         "snapshot \"%s\" not written: record #%" PRIu64
                         " has key_len %u, value_len %u, or is out of "
                         "key order", w->path, w->count, rec->key_len,
                         rec->value_len);
            return NC_ERROR;
        }

        prev = rec;

        nc_store_snapshot_le32(h, rec->type);
        nc_store_snapshot_le32(h + 4, rec->flags);
        nc_store_snapshot_le64(h + 8, rec->revision);
        nc_store_snapshot_le32(h + 16, rec->key_len);
        nc_store_snapshot_le32(h + 20, rec->value_len);

        if (nc_store_snapshot_put(w, h, sizeof(h)) != NC_OK
            || nc_store_snapshot_put(w, nc_store_record_key(rec),
                                     rec->key_len) != NC_OK
            || nc_store_snapshot_put(w, nc_store_record_value(rec),
                                     rec->value_len) != NC_OK)
        {
            return NC_ERROR;
        }

        w->count++;
    }

    if (w->count != v->count) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "snapshot \"%s\" not written: version of %" PRIu64
                     " keys iterated as %" PRIu64, w->path, v->count,
                     w->count);
        return NC_ERROR;
    }

    if (nc_store_snapshot_deflate(w, w->in, w->in_len, Z_FINISH) != NC_OK) {
        return NC_ERROR;
    }

    w->in_len = 0;

    return NC_OK;
}


/* record bytes: staged so that deflate() runs on large inputs */

static nc_int_t
nc_store_snapshot_put(nc_store_snapshot_writer_t *w, const u_char *data,
    size_t len)
{
    size_t  n;

    w->raw_bytes += len;

    while (len) {

        if (w->in_len == 0 && len >= NC_SNAP_IN_SIZE) {

            /* a large value goes from the region to deflate, uncopied */

            n = nc_min(len, (size_t) NC_SNAP_CHUNK_MAX);

            if (nc_store_snapshot_deflate(w, data, n, Z_NO_FLUSH) != NC_OK) {
                return NC_ERROR;
            }

        } else {
            n = nc_min(len, NC_SNAP_IN_SIZE - w->in_len);
            nc_memcpy(w->in + w->in_len, data, n);
            w->in_len += n;

            if (w->in_len == NC_SNAP_IN_SIZE) {
                if (nc_store_snapshot_deflate(w, w->in, w->in_len, Z_NO_FLUSH)
                    != NC_OK)
                {
                    return NC_ERROR;
                }

                w->in_len = 0;
            }
        }

        data += n;
        len -= n;
    }

    return NC_OK;
}


static nc_int_t
nc_store_snapshot_deflate(nc_store_snapshot_writer_t *w, const u_char *data,
    size_t len, int flush)
{
    int     rc;
    size_t  room;

    if (len == 0 && flush == Z_NO_FLUSH) {
        return NC_OK;
    }

    w->zs.next_in = (Bytef *) data;
    w->zs.avail_in = (uInt) len;

    for ( ;; ) {

        if (w->out_len == NC_SNAP_OUT_SIZE
            && nc_store_snapshot_flush(w) != NC_OK)
        {
            return NC_ERROR;
        }

        room = NC_SNAP_OUT_SIZE - w->out_len;

        w->zs.next_out = w->out + w->out_len;
        w->zs.avail_out = (uInt) room;

        rc = deflate(&w->zs, flush);

        w->out_len += room - w->zs.avail_out;
        w->stream_bytes += room - w->zs.avail_out;

        if (rc == Z_STREAM_END) {
            return NC_OK;
        }

        /* with room for output and work to do, zlib always progresses */
        if (rc != Z_OK) {
            nc_log_error(NC_LOG_ALERT, w->store->log, 0,
                         "snapshot \"%s\" not written: deflate() failed: %d",
                         w->path, rc);
            return NC_ERROR;
        }

        if (flush == Z_NO_FLUSH && w->zs.avail_in == 0) {
            return NC_OK;
        }
    }
}


/* file bytes outside the deflate stream: header, meta, trailer */

static nc_int_t
nc_store_snapshot_emit(nc_store_snapshot_writer_t *w, const u_char *data,
    size_t len)
{
    size_t  n;

    while (len) {

        if (w->out_len == NC_SNAP_OUT_SIZE
            && nc_store_snapshot_flush(w) != NC_OK)
        {
            return NC_ERROR;
        }

        n = nc_min(len, NC_SNAP_OUT_SIZE - w->out_len);
        nc_memcpy(w->out + w->out_len, data, n);
        w->out_len += n;
        data += n;
        len -= n;
    }

    return NC_OK;
}


static nc_int_t
nc_store_snapshot_flush(nc_store_snapshot_writer_t *w)
{
    u_char   *p;
    size_t    len;
    ssize_t   n;

    p = w->out;
    len = w->out_len;

    w->crc = crc32_z(w->crc, p, len);
    w->file_bytes += len;
    w->out_len = 0;

    while (len) {
        n = write(w->fd, p, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            nc_log_error(NC_LOG_CRIT, w->store->log, errno,
                         "snapshot not written: write() \"%s\" failed",
                         w->path);
            return NC_ERROR;
        }

        p += n;
        len -= n;
    }

    return NC_OK;
}


static nc_int_t
nc_store_snapshot_sync_dir(const char *path, nc_log_t *log)
{
    char      *slash;
    size_t     len;
    nc_fd_t    fd;
    nc_int_t   rc;
    char       dir[PATH_MAX];

    slash = strrchr(path, '/');

    if (slash == NULL) {
        nc_memcpy(dir, ".", 2);

    } else {
        len = (slash == path) ? 1 : (size_t) (slash - path);
        nc_memcpy(dir, path, len);
        dir[len] = '\0';
    }

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_CRIT, log, errno,
                     "snapshot \"%s\" written but maybe not durable: "
                     "open() \"%s\" failed", path, dir);
        return NC_ERROR;
    }

    rc = NC_OK;

    if (fsync(fd) == -1) {
        nc_log_error(NC_LOG_CRIT, log, errno,
                     "snapshot \"%s\" written but maybe not durable: "
                     "fsync() \"%s\" failed", path, dir);
        rc = NC_ERROR;
    }

    (void) close(fd);

    return rc;
}


/* --- load ------------------------------------------------------------- */


nc_int_t
nc_store_snapshot_load(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info)
{
    return nc_store_snapshot_import(s, path, info, 0);
}


nc_int_t
nc_store_snapshot_replace(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info)
{
    return nc_store_snapshot_import(s, path, info, 1);
}


/*
 * Emptying the map inside the batch that loads the image: readers keep the
 * old version until the new one is published whole.  Deleting key by key
 * retires every node through the epochs like any other write does.
 */
static nc_int_t
nc_store_snapshot_clear(nc_store_t *s)
{
    nc_shm_off_t                off;
    nc_store_iter_t             it;
    const nc_store_record_t    *rec;
    const nc_store_version_t   *v;

    /* the published tree: the batch's deletes copy, never touch, its nodes */
    off = atomic_load(&s->hdr->current);

    if (off == 0) {
        return NC_OK;
    }

    v = nc_store_ptr(s, off);

    if (v->root == 0) {
        return NC_OK;
    }

    nc_store_iter_init(&it, s, v->root, NULL, 0, NULL, 0);

    while ((rec = nc_store_iter_next(&it)) != NULL) {
        if (nc_store_delete(s, nc_store_record_key(rec), rec->key_len) == NC_STORE_FULL) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static nc_int_t
nc_store_snapshot_import(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info, nc_flag_t replace)
{
    int                          rc;
    u_char                      *meta;
    uint64_t                     index, term, count, meta_len, raw_bytes,
                                 stream_len;
    uint32_t                     version;
    nc_flag_t                    begun;
    struct stat                  st;
    nc_store_snapshot_reader_t  *r;
    u_char                       h[NC_SNAP_HEADER_SIZE];
    u_char                       t[NC_SNAP_TRAILER_SIZE];

    if (info) {
        nc_memzero(info, sizeof(nc_store_snapshot_info_t));
    }

    r = nc_calloc(sizeof(nc_store_snapshot_reader_t));
    if (r == NULL) {
        return NC_ERROR;
    }

    r->store = s;
    r->path = path;
    r->crc = crc32(0L, Z_NULL, 0);

    meta = NULL;
    begun = 0;

    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not loaded: open() failed", path);
        goto failed;
    }

    if (fstat(r->fd, &st) == -1) {
        nc_log_error(NC_LOG_CRIT, s->log, errno,
                     "snapshot \"%s\" not loaded: fstat() failed", path);
        goto failed;
    }

    (void) posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    if (st.st_size < NC_SNAP_HEADER_SIZE + NC_SNAP_TRAILER_SIZE) {
        nc_store_snapshot_corrupt(r, "truncated to %lld bytes",
                                  (long long) st.st_size);
        goto failed;
    }

    if (nc_store_snapshot_read_file(r, h, sizeof(h)) != NC_OK) {
        goto failed;
    }

    if (nc_store_snapshot_get64(h) != NC_SNAP_MAGIC) {
        nc_store_snapshot_corrupt(r, "bad magic, not a snapshot file");
        goto failed;
    }

    if (nc_store_snapshot_get32(h + 60) != (uint32_t) crc32(0L, h, 60)) {
        nc_store_snapshot_corrupt(r, "header checksum mismatch");
        goto failed;
    }

    version = nc_store_snapshot_get32(h + 8);

    if (version != NC_SNAP_VERSION) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not loaded: format version %u, "
                     "this build reads %d", path, version, NC_SNAP_VERSION);
        goto failed;
    }

    index = nc_store_snapshot_get64(h + 16);
    term = nc_store_snapshot_get64(h + 24);
    count = nc_store_snapshot_get64(h + 32);
    meta_len = nc_store_snapshot_get64(h + 40);

    if (nc_store_snapshot_get32(h + 12) != NC_SNAP_DEFLATE
        || nc_store_snapshot_get64(h + 48) != 0
        || nc_store_snapshot_get32(h + 56) != 0)
    {
        nc_store_snapshot_corrupt(r, "unknown compression or flags");
        goto failed;
    }

    if (meta_len > NC_SNAP_MAX_META) {
        nc_store_snapshot_corrupt(r, "meta length %" PRIu64 " exceeds %d",
                                  meta_len, NC_SNAP_MAX_META);
        goto failed;
    }

    if ((uint64_t) st.st_size
        < NC_SNAP_HEADER_SIZE + meta_len + NC_SNAP_TRAILER_SIZE)
    {
        nc_store_snapshot_corrupt(r, "truncated to %lld bytes",
                                  (long long) st.st_size);
        goto failed;
    }

    /* what lies between the meta and the trailer is the deflate stream */
    stream_len = (uint64_t) st.st_size - NC_SNAP_HEADER_SIZE - meta_len
                 - NC_SNAP_TRAILER_SIZE;

    r->crc = crc32(r->crc, h, sizeof(h));

    if (meta_len) {
        meta = nc_alloc(meta_len);
        if (meta == NULL) {
            goto failed;
        }

        if (nc_store_snapshot_read_file(r, meta, meta_len) != NC_OK) {
            goto failed;
        }

        r->crc = crc32_z(r->crc, meta, meta_len);
    }

    rc = inflateInit2(&r->zs, -15);
    if (rc != Z_OK) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "snapshot \"%s\" not loaded: inflateInit2() failed: %d",
                     path, rc);
        goto failed;
    }

    r->zs_init = 1;
    r->left = stream_len;
    r->pos = r->out;
    r->last = r->out;

    if (nc_store_begin(s) != NC_OK) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not loaded: no batch could be opened",
                     path);
        goto failed;
    }

    begun = 1;

    if (replace && nc_store_snapshot_clear(s) != NC_OK) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not loaded: the store could not be "
                     "emptied", path);
        goto failed;
    }

    if (*nc_store_batch_count(s) != 0 || *nc_store_batch_root(s) != 0) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not loaded: the store is not empty "
                     "(%" PRIu64 " keys)", path, *nc_store_batch_count(s));
        goto failed;
    }

    if (nc_store_snapshot_load_records(r, count, &raw_bytes) != NC_OK) {
        goto failed;
    }

    /* the stream was consumed exactly: the trailer follows */
    if (nc_store_snapshot_read_file(r, t, sizeof(t)) != NC_OK) {
        goto failed;
    }

    r->crc = crc32(r->crc, t, 28);

    if (nc_store_snapshot_get32(t + 28) != (uint32_t) r->crc) {
        nc_store_snapshot_corrupt(r, "checksum mismatch (file %08x, "
                                  "data %08x)",
                                  nc_store_snapshot_get32(t + 28),
                                  (uint32_t) r->crc);
        goto failed;
    }

    if (nc_store_snapshot_get32(t + 24) != NC_SNAP_TRAILER_MAGIC
        || nc_store_snapshot_get64(t) != count
        || nc_store_snapshot_get64(t + 8) != raw_bytes
        || nc_store_snapshot_get64(t + 16) != stream_len)
    {
        nc_store_snapshot_corrupt(r, "trailer disagrees with the data");
        goto failed;
    }

    if (*nc_store_batch_count(s) != count) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "snapshot \"%s\" not loaded: %" PRIu64 " records made "
                     "a map of %" PRIu64 " keys", path, count,
                     *nc_store_batch_count(s));
        goto failed;
    }

    rc = nc_store_commit(s, index, term);

    if (rc != NC_OK) {
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "snapshot \"%s\" not loaded: %s", path,
                     (rc == NC_STORE_FULL) ? "the store is full"
                                           : "commit failed");
        goto failed;
    }

    begun = 0;

    if (info) {
        info->applied_index = index;
        info->applied_term = term;
        info->count = count;
        info->raw_bytes = raw_bytes;
        info->file_bytes = (uint64_t) st.st_size;
        info->meta_len = meta_len;
        info->meta = meta;
        meta = NULL;
    }

    free(meta);
    (void) inflateEnd(&r->zs);
    (void) close(r->fd);
    free(r);

    return NC_OK;

failed:

    if (begun) {
        nc_store_abort(s);
    }

    free(meta);

    if (r->zs_init) {
        (void) inflateEnd(&r->zs);
    }

    if (r->fd != NC_INVALID_FILE) {
        (void) close(r->fd);
    }

    free(r);

    return NC_ERROR;
}


static nc_int_t
nc_store_snapshot_load_records(nc_store_snapshot_reader_t *r, uint64_t count,
    uint64_t *raw_bytes)
{
    u_char             *key, *prev, *tmp;
    size_t              prev_len;
    uint64_t            i, revision, raw;
    uint32_t            type, flags, key_len, value_len;
    nc_int_t            rc;
    nc_store_t         *s;
    nc_store_record_t  *rec;
    u_char              h[NC_SNAP_RECORD_SIZE];

    s = r->store;
    key = r->key[0];
    prev = r->key[1];
    prev_len = 0;
    raw = 0;

    for (i = 0; i < count; i++) {

        rc = nc_store_snapshot_read(r, h, sizeof(h));
        if (rc != NC_OK) {
            goto short_stream;
        }

        type = nc_store_snapshot_get32(h);
        flags = nc_store_snapshot_get32(h + 4);
        revision = nc_store_snapshot_get64(h + 8);
        key_len = nc_store_snapshot_get32(h + 16);
        value_len = nc_store_snapshot_get32(h + 20);

        if (key_len > NC_STORE_MAX_KEY_LEN || value_len > NC_SNAP_MAX_VALUE) {
            nc_store_snapshot_corrupt(r, "record #%" PRIu64 " has key_len %u,"
                                      " value_len %u", i, key_len, value_len);
            return NC_ERROR;
        }

        rc = nc_store_snapshot_read(r, key, key_len);
        if (rc != NC_OK) {
            goto short_stream;
        }

        /* a duplicate key would silently replace its twin */
        if (i > 0
            && !nc_store_snapshot_key_after(prev, prev_len, key, key_len))
        {
            nc_store_snapshot_corrupt(r, "record #%" PRIu64 " is out of "
                                      "key order", i);
            return NC_ERROR;
        }

        rec = nc_store_record_alloc(s, key, key_len, type, value_len,
                                    revision);
        if (rec == NULL) {
            goto full;
        }

        rec->flags = flags;

        rc = nc_store_snapshot_read(r, nc_store_record_value(rec), value_len);
        if (rc != NC_OK) {
            /* never seen by anyone: free it now */
            nc_store_free(s, nc_store_off(s, rec),
                          nc_store_record_size(key_len, value_len));
            goto short_stream;
        }

        rc = nc_store_insert(s, rec);

        if (rc == NC_STORE_FULL) {
            goto full;
        }

        if (rc != NC_OK) {
            nc_log_error(NC_LOG_ALERT, s->log, 0,
                         "snapshot \"%s\" not loaded: insert failed: %d",
                         r->path, (int) rc);
            return NC_ERROR;
        }

        raw += NC_SNAP_RECORD_SIZE + (uint64_t) key_len + value_len;

        tmp = prev;
        prev = key;
        key = tmp;
        prev_len = key_len;
    }

    /* the stream must end with the last record */
    rc = nc_store_snapshot_read(r, h, 1);

    if (rc == NC_OK) {
        nc_store_snapshot_corrupt(r, "more records than the %" PRIu64
                                  " of the header", count);
        return NC_ERROR;
    }

    if (rc == NC_ERROR) {
        return NC_ERROR;
    }

    *raw_bytes = raw;

    return NC_OK;

short_stream:

    if (rc == NC_DECLINED) {
        nc_store_snapshot_corrupt(r, "records end after %" PRIu64 " of %"
                                  PRIu64, i, count);
    }

    return NC_ERROR;

full:

    nc_log_error(NC_LOG_CRIT, s->log, 0,
                 "snapshot \"%s\" not loaded: the store is full (%zu bytes) "
                 "at record #%" PRIu64 " of %" PRIu64, r->path, s->size, i,
                 count);

    return NC_ERROR;
}


/*
 * n bytes of the record stream: NC_OK, NC_DECLINED when the stream ends
 * first, NC_ERROR (logged) on a bad stream or a failed read
 */

static nc_int_t
nc_store_snapshot_read(nc_store_snapshot_reader_t *r, u_char *dst, size_t n)
{
    size_t   k;
    ssize_t  got;

    while (n) {

        if (r->pos == r->last) {

            if (n >= NC_SNAP_OUT_SIZE) {

                /* a large value is inflated straight into the region */

                k = nc_min(n, (size_t) NC_SNAP_CHUNK_MAX);

                got = nc_store_snapshot_inflate(r, dst, k);
                if (got <= 0) {
                    return (got == 0) ? NC_DECLINED : NC_ERROR;
                }

                dst += got;
                n -= got;
                continue;
            }

            got = nc_store_snapshot_inflate(r, r->out, NC_SNAP_OUT_SIZE);
            if (got <= 0) {
                return (got == 0) ? NC_DECLINED : NC_ERROR;
            }

            r->pos = r->out;
            r->last = r->out + got;
        }

        k = nc_min(n, (size_t) (r->last - r->pos));
        dst = nc_cpymem(dst, r->pos, k);
        r->pos += k;
        n -= k;
    }

    return NC_OK;
}


/* up to size bytes inflated: > 0, 0 at the end of the stream, -1 (logged) */

static ssize_t
nc_store_snapshot_inflate(nc_store_snapshot_reader_t *r, u_char *buf,
    size_t size)
{
    int     rc;
    size_t  n;

    r->zs.next_out = buf;
    r->zs.avail_out = (uInt) size;

    while (r->zs.avail_out == size) {

        if (r->end) {
            return 0;
        }

        if (r->zs.avail_in == 0) {

            if (r->left == 0) {
                nc_store_snapshot_corrupt(r, "compressed records end early");
                return -1;
            }

            n = (size_t) nc_min(r->left, (uint64_t) NC_SNAP_IN_SIZE);

            if (nc_store_snapshot_read_file(r, r->in, n) != NC_OK) {
                return -1;
            }

            r->crc = crc32_z(r->crc, r->in, n);
            r->left -= n;

            r->zs.next_in = r->in;
            r->zs.avail_in = (uInt) n;
        }

        rc = inflate(&r->zs, Z_NO_FLUSH);

        switch (rc) {

        case Z_OK:
            break;

        case Z_STREAM_END:
            r->end = 1;

            if (r->zs.avail_in != 0 || r->left != 0) {
                nc_store_snapshot_corrupt(r, "%" PRIu64 " bytes after the "
                                          "compressed records",
                                          r->zs.avail_in + r->left);
                return -1;
            }

            break;

        case Z_MEM_ERROR:
            nc_log_error(NC_LOG_ALERT, r->store->log, 0,
                         "snapshot \"%s\" not loaded: inflate() failed: %d",
                         r->path, rc);
            return -1;

        default:
            /* Z_DATA_ERROR, Z_NEED_DICT; Z_BUF_ERROR cannot happen here */
            nc_store_snapshot_corrupt(r, "bad compressed data: %s",
                                      r->zs.msg ? r->zs.msg : "no detail");
            return -1;
        }
    }

    return (ssize_t) (size - r->zs.avail_out);
}


/* exactly n bytes of the file: short means the file changed under us */

static nc_int_t
nc_store_snapshot_read_file(nc_store_snapshot_reader_t *r, u_char *buf,
    size_t n)
{
    ssize_t  got;

    while (n) {
        got = read(r->fd, buf, n);

        if (got == -1) {
            if (errno == EINTR) {
                continue;
            }

            nc_log_error(NC_LOG_CRIT, r->store->log, errno,
                         "snapshot \"%s\" not loaded: read() failed",
                         r->path);
            return NC_ERROR;
        }

        if (got == 0) {
            nc_store_snapshot_corrupt(r, "file shrank while read");
            return NC_ERROR;
        }

        buf += got;
        n -= got;
    }

    return NC_OK;
}


static void
nc_store_snapshot_corrupt(nc_store_snapshot_reader_t *r, const char *fmt,
    ...)
{
    va_list  args;
    char     reason[256];

    va_start(args, fmt);
    (void) vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);

    nc_log_error(NC_LOG_CRIT, r->store->log, 0,
                 "snapshot \"%s\" is corrupt: %s", r->path, reason);
}


/*
 * Records go in the map's order, strictly ascending by key bytes with a
 * prefix before its extensions: the load checks it, so the writer does too.
 */

static nc_flag_t
nc_store_snapshot_key_after(const u_char *prev, size_t prev_len,
    const u_char *key, size_t key_len)
{
    int  rc;

    rc = nc_memcmp(prev, key, nc_min(prev_len, key_len));

    return rc < 0 || (rc == 0 && prev_len < key_len);
}


/* --- little-endian fields -------------------------------------------- */


static void
nc_store_snapshot_le32(u_char *p, uint32_t n)
{
    p[0] = (u_char) n;
    p[1] = (u_char) (n >> 8);
    p[2] = (u_char) (n >> 16);
    p[3] = (u_char) (n >> 24);
}


static void
nc_store_snapshot_le64(u_char *p, uint64_t n)
{
    nc_store_snapshot_le32(p, (uint32_t) n);
    nc_store_snapshot_le32(p + 4, (uint32_t) (n >> 32));
}


static uint32_t
nc_store_snapshot_get32(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint64_t
nc_store_snapshot_get64(const u_char *p)
{
    return (uint64_t) nc_store_snapshot_get32(p)
           | (uint64_t) nc_store_snapshot_get32(p + 4) << 32;
}
