
/*
 * nacre: the durable Raft log of the consensus process.
 *
 * Files under the directory given to nc_raft_log_open() (data_dir/raft):
 *
 *   LOCK                  flock(LOCK_EX|LOCK_NB) while open; holds the pid
 *   IDENTITY              cluster id, node id, format version, CRC32C;
 *                         written once (tmp, fsync, rename, fsync dir)
 *   wal/<seq:016x>.wal    segments, named by a sequence number that only
 *                         grows (never by index: after a conflict index
 *                         ranges overlap), zero-filled when created
 *   wal/next.wal.tmp      the next segment, made ahead by _prepare()
 *
 * A segment is a 64-byte header (magic "NCWALSEG", version, header CRC,
 * cluster id, node id, sequence, first index, a random salt) followed by
 * 8-byte aligned records, little-endian:
 *
 *   0   hdr_crc    CRC32C seeded with the salt over bytes 4..31
 *   4   data_crc   CRC32C seeded with the salt over the payload
 *   8   index      entry index, 0 for the other records
 *   16  term       entry term, 0 for the other records
 *   24  len        payload length L (never 0)
 *   28  type       1 NORMAL, 2 NOOP, 3 CONF (entries), 4 HARDSTATE,
 *                  5 SNAPSHOT_MARKER, 6 SEGMENT_END; 0 is zero fill
 *   29  flags      0 (bit 0 is kept for compressed payloads)
 *   30  reserved   0
 *   32  payload    L bytes, then zeros, and the last 4 bytes of the
 *                  record's extent, align8(32 + L + 4), are the end tag
 *                  "NCRE": a record whose tag is zero was cut by a crash,
 *                  one whose tag is there but whose CRC fails is corrupt
 *
 * Payloads: entries {client_id, seq, data}; HARDSTATE {term, vote,
 * commit}; SNAPSHOT_MARKER {index, term, flags (1 reset, 2 copy),
 * n_voters, n_learners, meta_len, voters, learners, meta}; SEGMENT_END
 * {next sequence}.  Each segment begins with a copy of the hard state and
 * of the snapshot marker, so older segments can be deleted.
 *
 * Replay: a record at index i discards every entry >= i before it
 * (logical truncation: the hot path never truncates a file).  A bad
 * record at the end of the last segment whose end tag never reached the
 * disk, with nothing valid after it, is a torn write: it is zeroed and
 * reported.  Anything else that fails a check refuses the open, and so
 * does an index gap, a term going down, an entry overwriting the
 * committed index, a hard state going back, a commit index past the end.
 * The writer replays each batch on a scratch state first: it never
 * writes what recovery would refuse.
 *
 * After deleted segments the first entry left anchors the log (its term
 * is term(first_index - 1)), so after a restart first_index may be one
 * higher than it was before.
 *
 * Threading.  One writer thread and one loop thread may use a log at the
 * same time; open and close are called while neither does.
 *
 *   writer thread: nc_raft_log_append, _snapshot_taken, _reset, _prepare,
 *     _position.  Each is blocking: it returns once its records are
 *     durable (one pwrite at the tail and one fdatasync; a roll adds the
 *     SEGMENT_END's fdatasync and an fsync of wal/) and already visible
 *     through the storage callbacks.  Calls must not overlap each other.
 *
 *   loop thread: the nc_raft_storage_t callbacks, _hard_state,
 *     _snapshot_marker, _range, _identity, _set_snapshot, _release.
 *     storage.snapshot() and _set_snapshot() belong to this thread
 *     alone; the others take a mutex that the writer holds only to
 *     publish a batch, never across I/O.  Entry data returned by
 *     entries() points into read-only mappings of the segments; it stays
 *     valid until the loop thread calls nc_raft_log_release(), which it
 *     does after nc_raft_advance() (it unmaps segments that compaction
 *     removed since the last call; not calling it only costs mappings).
 *
 * A single thread may of course make all the calls.
 */

#ifndef _NC_RAFT_LOG_H_INCLUDED_
#define _NC_RAFT_LOG_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_raft.h>


#define NC_RAFT_LOG_VERSION        1
#define NC_RAFT_LOG_SEGMENT_SIZE   (64 * 1024 * 1024)
#define NC_RAFT_LOG_MIN_SEGMENT    4096
#define NC_RAFT_LOG_META_MAX       256        /* caller's snapshot meta */
#define NC_RAFT_LOG_TEXT_LEN       1024

/* open: the directory holds a log that must not be used */
#define NC_RAFT_LOG_CORRUPT        -110


typedef struct nc_raft_log_s  nc_raft_log_t;


typedef struct {
    u_char                  cluster_id[16];   /* zeros: take the stored one */
    uint64_t                node_id;          /* 0: take the stored one */
    size_t                  segment_size;     /* 0: 64 MiB */
    unsigned                create:1;         /* make a log if none */
    nc_log_t               *log;              /* NULL: nc_log_default() */
    int                   (*sync)(int fd);    /* TEST ONLY: for fdatasync */
} nc_raft_log_opts_t;


/*
 * What nc_raft_log_open() found.  On failure text says why, naming the
 * file and the offset, and what the operator can do.  On success repair
 * is non-empty if a torn tail was zeroed: the caller logs it (warn).
 */
typedef struct {
    int                     code;
    char                    text[NC_RAFT_LOG_TEXT_LEN];
    char                    repair[NC_RAFT_LOG_TEXT_LEN];
} nc_raft_log_report_t;


/* a snapshot as recorded in the log: no image, that is the caller's file */
typedef struct {
    uint64_t                index;
    uint64_t                term;
    nc_raft_conf_t          conf;
    uint32_t                meta_len;
    u_char                  meta[NC_RAFT_LOG_META_MAX];
} nc_raft_log_snap_t;


/*
 * NC_OK; NC_ERROR (a system call failed); NC_BUSY (LOCK is held);
 * NC_DECLINED (no log here and opts->create is not set);
 * NC_RAFT_LOG_CORRUPT (refused: the files are left exactly as they were).
 */
int nc_raft_log_open(const char *dir, const nc_raft_log_opts_t *opts,
    nc_raft_log_t **logp, nc_raft_log_report_t *rep);
void nc_raft_log_close(nc_raft_log_t *log);

/*
 * Writer thread.  NC_OK once durable; NC_ERROR if the call breaks the log's
 * rules (a bug of the caller: nothing is written) or a write failed (the
 * log then refuses every further write: restart to re-read the disk).
 * An fdatasync or fsync failure logs and aborts: never retried.
 */

/*
 * Entries, then the hard state (either may be absent), in that order in
 * the file: a batch cut by a crash never leaves a commit index beyond the
 * log's end.
 */
int nc_raft_log_append(nc_raft_log_t *log, const nc_raft_hard_state_t *hs,
    const nc_raft_entry_t *ents, size_t n);

/*
 * The snapshot at snap->index is durable: record it, then delete the
 * segments whose entries are all at or below the previous snapshot.
 */
int nc_raft_log_snapshot_taken(nc_raft_log_t *log,
    const nc_raft_log_snap_t *snap);

/* an installed snapshot replaces the whole log */
int nc_raft_log_reset(nc_raft_log_t *log, const nc_raft_log_snap_t *snap);

/* make the next segment ahead, off the append path; NC_OK if one exists */
int nc_raft_log_prepare(nc_raft_log_t *log);

/* writer thread: where the next record goes */
void nc_raft_log_position(nc_raft_log_t *log, uint64_t *seq, uint64_t *off);

/* loop thread */
void nc_raft_log_storage(nc_raft_log_t *log, nc_raft_storage_t *st);
void nc_raft_log_hard_state(nc_raft_log_t *log, nc_raft_hard_state_t *hs);
void nc_raft_log_snapshot_marker(nc_raft_log_t *log, nc_raft_log_snap_t *snap);
void nc_raft_log_range(nc_raft_log_t *log, uint64_t *first, uint64_t *last);
void nc_raft_log_identity(nc_raft_log_t *log, u_char *cluster_id,
    uint64_t *node_id);

/* the image storage.snapshot() serves: NULL or index 0 withdraws it */
void nc_raft_log_set_snapshot(nc_raft_log_t *log,
    const nc_raft_snapshot_t *snap);

void nc_raft_log_release(nc_raft_log_t *log);


#endif /* _NC_RAFT_LOG_H_INCLUDED_ */
