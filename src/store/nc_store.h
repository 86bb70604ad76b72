
/*
 * nacre: the store in shared memory.
 *
 * One MAP_SHARED region, made by the master before it forks, holds every
 * key of the replicated state.  The consensus process is its only writer;
 * workers read it lock-free.  Inside the region everything is addressed by
 * offsets from the base, so processes may map it at different addresses.
 *
 *   offset 0   nc_store_header_t: magic, layout, the published version,
 *              the global epoch, reader slots, allocator state
 *   then       pages handed out by the allocator (nc_store_alloc.c)
 *
 * The map (nc_store_map.c) is a persistent radix tree ordered by key bytes:
 * an update copies the path from the changed leaf to a new root, so a
 * published root never changes.  Nodes and records made inside the open
 * batch carry the batch's stamp and are private to the writer until the
 * batch is published: the writer may change them in place, and frees them
 * at once when they are replaced.  Anything older is published: replacing
 * it retires it, and it is freed only once every reader has left the epoch
 * in which it was last reachable (nc_store.c).
 */

#ifndef _NC_STORE_H_INCLUDED_
#define _NC_STORE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <stdatomic.h>


typedef uint64_t  nc_shm_off_t;          /* 0: none (the header lives there) */

#define NC_STORE_MAGIC          0x3130525453524e43ULL  /* "CNRSTR01" LE */
#define NC_STORE_LAYOUT         2

#define NC_STORE_PAGE_SIZE      4096
#define NC_STORE_ALIGN          16       /* every allocation */
#define NC_STORE_MAX_KEY_LEN    1024
#define NC_STORE_MAX_VALUE_LEN  (64 * 1024 * 1024)  /* refused at apply */
#define NC_STORE_MAX_READERS    256      /* reader slots */
#define NC_STORE_CHANGES        8192     /* change feed ring, a power of 2 */

#define nc_store_ptr(s, off)    ((void *) ((s)->base + (off)))
#define nc_store_off(s, p)      ((nc_shm_off_t) ((u_char *) (p) - (s)->base))


/*
 * Return codes beyond the core vocabulary: the writer reports a full region
 * as NC_STORE_FULL and changes nothing.
 */
#define NC_STORE_FULL           -100


/*
 * A record: one key with its value, immutable once published.  The value
 * layout belongs to the domain named by `type` (config item, service,
 * user, route...); domains put there the bytes hot reads send as they are
 * (materialized at apply time).
 */
typedef struct {
    uint64_t            stamp;           /* batch that made it */
    uint64_t            revision;        /* Raft index of its last change */
    uint32_t            type;            /* NC_STORE_T_* */
    uint32_t            flags;           /* domain-defined */
    uint32_t            key_len;
    uint32_t            value_len;
    u_char              data[];          /* key, padding to 8, value */
} nc_store_record_t;

#define nc_store_record_key(rec)    ((rec)->data)
#define nc_store_record_value(rec)                                            \
    ((rec)->data + nc_align((rec)->key_len, 8))
#define nc_store_record_size(klen, vlen)                                      \
    (sizeof(nc_store_record_t) + nc_align(klen, 8) + (vlen))

/* record types; the domains add theirs */
#define NC_STORE_T_RAW          1        /* opaque bytes (KV API, tests) */
#define NC_STORE_T_CHECKSUM     2        /* stress test: digest of a batch */


/*
 * A published version: immutable, made by nc_store_commit().  Readers reach
 * it through the header's `current` offset with one acquire load, so they
 * never see half a batch.
 */
typedef struct {
    nc_shm_off_t        root;            /* map root, 0: empty map */
    uint64_t            count;           /* keys in the map */
    uint64_t            applied_index;   /* last Raft index in this version */
    uint64_t            applied_term;
    uint64_t            generation;      /* +1 per publication */
    uint64_t            epoch;           /* global epoch it was published in */
    uint64_t            changes;         /* the change feed's end (below) */
} nc_store_version_t;


/* one reader process; a cache line each so readers do not share lines */
typedef struct {
    _Atomic uint64_t    epoch;           /* 0: idle, else epoch it entered */
    _Atomic int32_t     pid;             /* owner, 0: free */
    uint32_t            pad0;
    _Atomic uint64_t    entered_msec;    /* monotonic ms at entry, stall watch */
    u_char              pad1[40];
} nc_store_slot_t;


#define NC_STORE_NCLASSES       40       /* small size classes, <= 8 KiB */
#define NC_STORE_NRUNS          64       /* free page runs of 1..63 pages, >= */


/*
 * Allocator state: lives in the region, touched by the writer only.
 * Small objects come from slabs (page runs carved for one size class);
 * larger ones are page runs, coalesced with free neighbours on free
 * through a page map (one uint32_t per page, marking free-run ends).
 */
typedef struct {
    nc_shm_off_t        pages;           /* first page (after the page map) */
    nc_shm_off_t        top;             /* first never-used page */
    nc_shm_off_t        end;             /* region size */
    nc_shm_off_t        free_class[NC_STORE_NCLASSES];  /* object lists */
    nc_shm_off_t        slab_cur[NC_STORE_NCLASSES];    /* carving cursor */
    nc_shm_off_t        slab_end[NC_STORE_NCLASSES];
    nc_shm_off_t        free_run[NC_STORE_NRUNS];       /* [n]: runs of n
                                                           pages, [0]: more */

    /* statistics, read by anyone with relaxed loads (metrics) */
    _Atomic uint64_t    bytes_live;      /* handed out, not freed */
    _Atomic uint64_t    bytes_retired;   /* waiting for readers to pass */
    _Atomic uint64_t    bytes_slab;      /* pages carved into small classes */
    _Atomic uint64_t    bytes_free;      /* on free lists, classes + runs */
    _Atomic uint64_t    allocs;
    _Atomic uint64_t    frees;
    _Atomic uint64_t    failures;        /* allocations refused: region full */
} nc_store_alloc_t;


typedef struct {
    uint64_t            magic;
    uint32_t            layout;
    uint32_t            page_size;
    uint64_t            size;            /* of the whole region */

    /* publication: offset of the current nc_store_version_t */
    _Atomic nc_shm_off_t  current;
    _Atomic uint64_t      epoch;         /* global epoch, >= 1 */
    _Atomic int32_t       writer_pid;
    uint32_t              pad0;
    uint64_t              stamp;         /* writer: last batch stamp */

    nc_store_alloc_t    alloc;

    _Alignas(64) nc_store_slot_t  slots[NC_STORE_MAX_READERS];

    /*
     * The change feed: the hash (nc_store_key_hash) of every key a batch
     * inserts or deletes, change n in feed[n % NC_STORE_CHANGES].  A
     * version's `changes` is the end of its batch; feed_written is ahead
     * of any slot being written, so a reader tells when what it read may
     * have been overwritten (nc_store_changes).
     */
    _Atomic uint64_t    feed_written;
    uint64_t            feed[NC_STORE_CHANGES];
} nc_store_header_t;


typedef struct nc_store_writer_s  nc_store_writer_t;


/* a process's handle on the region */
typedef struct {
    u_char             *base;
    size_t              size;
    nc_store_header_t  *hdr;
    nc_log_t           *log;

    nc_store_slot_t    *slot;            /* reader: the slot it owns */
    const nc_store_version_t  *entered;  /* reader: version held */
    nc_uint_t           nesting;         /* reader: enter depth */

    nc_store_writer_t  *writer;          /* writer: its private state */
} nc_store_t;


typedef struct {
    uint64_t            bytes_live;
    uint64_t            bytes_retired;
    uint64_t            bytes_free;
    uint64_t            bytes_used;      /* touched: top - header */
    uint64_t            bytes_size;
    double              fragmentation;   /* free / (live + free) */
    uint64_t            allocs;
    uint64_t            frees;
    uint64_t            failures;
} nc_store_stats_t;


/* --- region (nc_store.c) --------------------------------------------- */

/* the region of this daemon, made by the master, inherited by children */
extern nc_store_t  *nc_store;

/* master, before forking: reserve `size` bytes (MAP_NORESERVE) and format */
nc_store_t *nc_store_create(size_t size, nc_log_t *log);
void nc_store_destroy(nc_store_t *s);

/* master: a child died; free its reader slot (and its epoch) */
void nc_store_release_pid(nc_store_t *s, pid_t pid);

void nc_store_stats(nc_store_t *s, nc_store_stats_t *st);


/* --- readers (nc_store.c) -------------------------------------- */

/* claim a slot for this process: NC_OK, or NC_ERROR when none is free */
nc_int_t nc_store_reader_attach(nc_store_t *s);

/*
 * Enter the current epoch and take the current version.  Everything
 * reachable from it stays valid until nc_store_leave().  Never blocks.
 * Entering twice is allowed (the second returns the same version).
 */
const nc_store_version_t *nc_store_enter(nc_store_t *s);
void nc_store_leave(nc_store_t *s);

/* leave whatever the process still holds: the end of each loop iteration */
void nc_store_quiesce(nc_store_t *s);


/* --- writer (nc_store.c, nc_store_alloc.c) --------------------- */

/* the consensus process takes the writer role; resets the region if a
 * previous writer died (after readers drained) */
nc_int_t nc_store_writer_init(nc_store_t *s);
void nc_store_writer_free(nc_store_t *s);

/* allocator: 16-byte aligned, never 0 on success; 0 when the region is full */
nc_shm_off_t nc_store_alloc(nc_store_t *s, size_t size);
/* free now: only for objects no reader can have seen */
void nc_store_free(nc_store_t *s, nc_shm_off_t off, size_t size);
/*
 * An object stops being reachable in the open batch: free it now if it
 * was made in this batch (stamp), else retire it until readers pass.
 */
void nc_store_release(nc_store_t *s, nc_shm_off_t off, size_t size,
    uint64_t stamp);

/* the bytes an allocation of `size` really takes (its size class) */
size_t nc_store_alloc_size(size_t size);
/* format the allocator of a fresh or reset region */
void nc_store_alloc_init(nc_store_t *s);

/*
 * The writer's own hold on the current version, for a snapshot written by
 * another thread while the writer goes on committing: reclamation spares
 * it until nc_store_unpin().  NULL when nothing is published.
 */
const nc_store_version_t *nc_store_pin(nc_store_t *s);
void nc_store_unpin(nc_store_t *s);

/* free what every reader has moved past; returns bytes freed */
size_t nc_store_reclaim(nc_store_t *s);


/* --- change feed (nc_store.c) --------------------------------------- */

/* FNV-1a: how the feed names a key */
uint64_t nc_store_key_hash(const u_char *key, size_t len);

/* writer, inside a batch: key changed (nc_store_insert, nc_store_delete) */
void nc_store_note_change(nc_store_t *s, const u_char *key, size_t len);

/*
 * Readers: the hashes of the keys changed from feed position `from` to
 * `to` (versions' `changes`), each passed to handler.  NC_OK; NC_DECLINED
 * when some of them are gone (too many changes since `from`): the caller
 * must then assume that anything may have changed.
 */
nc_int_t nc_store_changes(nc_store_t *s, uint64_t from, uint64_t to,
    void (*handler)(uint64_t hash, void *data), void *data);


/* --- batches (nc_store.c) -------------------------------------- */

/*
 * Open a batch on the current version; its stamp marks private objects.
 * NC_STORE_FULL: no room even for the new version's header.
 */
nc_int_t nc_store_begin(nc_store_t *s);
uint64_t nc_store_stamp(nc_store_t *s);

/* publish the open batch as the new version */
nc_int_t nc_store_commit(nc_store_t *s, uint64_t applied_index,
    uint64_t applied_term);

/* drop the open batch: the current version stays as it was */
void nc_store_abort(nc_store_t *s);

/* the writer's in-progress map: root and count (valid inside a batch) */
nc_shm_off_t *nc_store_batch_root(nc_store_t *s);
uint64_t *nc_store_batch_count(nc_store_t *s);


/* --- map (nc_store_map.c) -------------------------------------------- */

/*
 * Writer, inside a batch: make a record for the caller to fill (its value
 * bytes are uninitialized), then insert it.  NULL when the region is full.
 */
nc_store_record_t *nc_store_record_alloc(nc_store_t *s, const u_char *key,
    size_t key_len, uint32_t type, size_t value_len, uint64_t revision);

/* insert or replace by key; NC_OK or NC_STORE_FULL (nothing changed; the
 * record is freed) */
nc_int_t nc_store_insert(nc_store_t *s, nc_store_record_t *rec);

/* NC_OK, NC_DECLINED when absent, NC_STORE_FULL */
nc_int_t nc_store_delete(nc_store_t *s, const u_char *key, size_t key_len);

/* abort: free the objects private to the batch that hang from root */
void nc_store_map_free_private(nc_store_t *s, nc_shm_off_t root);

/* tests, debugging: check the tree's invariants and count its keys;
 * NC_ERROR (logged as an alert) on the first violation */
nc_int_t nc_store_map_verify(nc_store_t *s, nc_shm_off_t root,
    uint64_t *count);

/* writer: look up in the open batch */
const nc_store_record_t *nc_store_lookup(nc_store_t *s, const u_char *key,
    size_t key_len);

/* anyone holding a version: look up in it */
const nc_store_record_t *nc_store_get(nc_store_t *s,
    const nc_store_version_t *v, const u_char *key, size_t key_len);


/* ordered iteration over the keys that start with a prefix */
#define NC_STORE_ITER_DEPTH     (NC_STORE_MAX_KEY_LEN + 2)

typedef struct {
    nc_store_t         *store;
    const u_char       *prefix;
    size_t              prefix_len;
    uint32_t            depth;
    struct {
        nc_shm_off_t    node;
        uint32_t        next;            /* next child slot to visit */
    } stack[NC_STORE_ITER_DEPTH];
} nc_store_iter_t;

/* from the first key >= start (NULL: from the first key of the prefix) */
void nc_store_iter_init(nc_store_iter_t *it, nc_store_t *s, nc_shm_off_t root,
    const u_char *prefix, size_t prefix_len, const u_char *start,
    size_t start_len);
const nc_store_record_t *nc_store_iter_next(nc_store_iter_t *it);


/* --- snapshots (nc_store_snapshot.c) --------------------------------- */

typedef struct {
    uint64_t            applied_index;
    uint64_t            applied_term;
    uint64_t            count;           /* records */
    uint64_t            raw_bytes;       /* uncompressed stream */
    uint64_t            file_bytes;
    size_t              meta_len;
    u_char             *meta;            /* Raft membership, sessions: opaque,
                                            malloc()ed on load */
} nc_store_snapshot_info_t;

/*
 * Write version v to `path` (via path.tmp, fsync, rename, fsync of the
 * directory).  The caller keeps v pinned meanwhile (a reader's epoch, or
 * the writer's nc_store_pin() with the write in another thread); the
 * writer may go on publishing.
 */
nc_int_t nc_store_snapshot_write(nc_store_t *s, const nc_store_version_t *v,
    const char *path, const u_char *meta, size_t meta_len,
    nc_store_snapshot_info_t *info);

/* writer: load a snapshot into the empty map and publish it */
nc_int_t nc_store_snapshot_load(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info);

/* writer: the same over whatever the map holds, in one published batch */
nc_int_t nc_store_snapshot_replace(nc_store_t *s, const char *path,
    nc_store_snapshot_info_t *info);


#endif /* _NC_STORE_H_INCLUDED_ */
