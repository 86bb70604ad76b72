
/*
 * nacre: the store region, its readers and its writer.
 *
 * Publication and reclamation:
 *
 *   writer commit                       reader enter
 *     store current = V   (seq_cst)       e = load epoch      (seq_cst)
 *     G = epoch + 1       (seq_cst)       store slot = e      (seq_cst)
 *     tag retired with G                  v = load current    (seq_cst)
 *     scan slots; free tags <= min
 *
 * An object retired with tag G is unreachable from every version published
 * before the epoch became G.  A reader whose slot holds e >= G stored it
 * after the epoch became G, so its load of `current` (ordered after that
 * store) returns that version or a later one: it cannot reach the object.
 * Readers with e < G may, and hold the object until they leave.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <sys/mman.h>


#define NC_STORE_RETIRE_MIN      1024

/* objects a commit frees at most: a long pin drains over several */
#define NC_STORE_RECLAIM_BATCH   16384

/* a reader that holds memory back this long is a bug: it is killed */
#define NC_STORE_STALL_LOG_MSEC  5000
#define NC_STORE_STALL_KILL_MSEC 30000

/* readers draining after a writer restart: 10 s at 1 ms steps */
#define NC_STORE_DRAIN_STEPS     10000


typedef struct {
    nc_shm_off_t        off;
    uint64_t            size;
    uint64_t            epoch;           /* 0: retired in the open batch */
} nc_store_retired_t;


struct nc_store_writer_s {
    nc_flag_t           open;
    nc_shm_off_t        root;            /* of the open batch */
    uint64_t            count;
    nc_shm_off_t        version;         /* made at begin: commit cannot
                                            fail for want of room */

    nc_store_retired_t *retired;         /* queue in epoch order */
    size_t              head;            /* first not yet freed */
    size_t              n;
    size_t              cap;
    size_t              batch_start;     /* first entry of the open batch */

    uint64_t            pin;             /* epoch of nc_store_pin(), 0 */
    uint64_t            feed_next;       /* the open batch's next change */

    nc_msec_t           stall_logged;
};


nc_store_t  *nc_store;


static nc_int_t nc_store_retire(nc_store_t *s, nc_shm_off_t off,
    uint64_t size);
static nc_int_t nc_store_drain_readers(nc_store_t *s);
static void nc_store_watch_stall(nc_store_t *s, uint64_t min);


#define nc_store_header_size()                                                \
    nc_align(sizeof(nc_store_header_t), NC_STORE_PAGE_SIZE)


nc_store_t *
nc_store_create(size_t size, nc_log_t *log)
{
    u_char             *base;
    nc_store_t         *s;
    nc_store_header_t  *hdr;

    size &= ~((size_t) NC_STORE_PAGE_SIZE - 1);

    if (size < 4 * nc_store_header_size()) {
        nc_log_error(NC_LOG_EMERG, log, 0, "store size %zu is too small",
                     size);
        return NULL;
    }

    s = calloc(1, sizeof(nc_store_t));
    if (s == NULL) {
        return NULL;
    }

    /* reserved, not committed: only touched pages cost memory */
    base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (base == MAP_FAILED) {
        nc_log_error(NC_LOG_EMERG, log, errno,
                     "mmap(%zu) of the store failed", size);
        free(s);
        return NULL;
    }

    s->base = base;
    s->size = size;
    s->hdr = (nc_store_header_t *) base;
    s->log = log;

    hdr = s->hdr;
    hdr->magic = NC_STORE_MAGIC;
    hdr->layout = NC_STORE_LAYOUT;
    hdr->page_size = NC_STORE_PAGE_SIZE;
    hdr->size = size;
    atomic_init(&hdr->current, 0);
    atomic_init(&hdr->epoch, 1);
    atomic_init(&hdr->writer_pid, 0);

    nc_store_alloc_init(s);

    return s;
}


void
nc_store_destroy(nc_store_t *s)
{
    if (s == NULL) {
        return;
    }

    nc_store_writer_free(s);

    (void) munmap(s->base, s->size);
    free(s);
}


void
nc_store_release_pid(nc_store_t *s, pid_t pid)
{
    nc_uint_t         i;
    nc_store_slot_t  *slot;

    for (i = 0; i < NC_STORE_MAX_READERS; i++) {
        slot = &s->hdr->slots[i];

        if (atomic_load_explicit(&slot->pid, memory_order_acquire) == pid) {
            atomic_store_explicit(&slot->epoch, 0, memory_order_seq_cst);
            atomic_store_explicit(&slot->pid, 0, memory_order_release);
        }
    }

    /* a dead writer leaves its role; the next one resets the region */
    if (atomic_load(&s->hdr->writer_pid) == pid) {
        atomic_store(&s->hdr->writer_pid, 0);
    }
}


/* --- readers ----------------------------------------------------------- */


nc_int_t
nc_store_reader_attach(nc_store_t *s)
{
    int32_t           pid, free_pid;
    nc_uint_t         i;
    nc_store_slot_t  *slot;

    pid = (int32_t) getpid();

    for (i = 0; i < NC_STORE_MAX_READERS; i++) {
        slot = &s->hdr->slots[i];
        free_pid = 0;

        if (atomic_compare_exchange_strong(&slot->pid, &free_pid, pid)
            || free_pid == pid)
        {
            atomic_store(&slot->epoch, 0);
            s->slot = slot;
            s->nesting = 0;
            s->entered = NULL;

            /* a reader may write its slot and nothing else */
            if (mprotect(s->base + nc_store_header_size(),
                         s->size - nc_store_header_size(), PROT_READ)
                == -1)
            {
                nc_log_error(NC_LOG_ALERT, s->log, errno,
                             "mprotect() of the store failed");
            }

            return NC_OK;
        }
    }

    nc_log_error(NC_LOG_CRIT, s->log, 0,
                 "no free store reader slot of %d", NC_STORE_MAX_READERS);

    return NC_ERROR;
}


const nc_store_version_t *
nc_store_enter(nc_store_t *s)
{
    uint64_t      e;
    nc_shm_off_t  off;

    if (s->nesting++) {
        return s->entered;
    }

    if (s->slot) {
        e = atomic_load(&s->hdr->epoch);
        atomic_store(&s->slot->epoch, e);
        atomic_store_explicit(&s->slot->entered_msec, nc_current_msec,
                              memory_order_relaxed);

    } else if (s->writer == NULL) {
        /* neither a reader nor the writer: nothing would protect it */
        s->nesting--;
        return NULL;
    }

    off = atomic_load(&s->hdr->current);

    s->entered = off ? nc_store_ptr(s, off) : NULL;

    return s->entered;
}


void
nc_store_leave(nc_store_t *s)
{
    if (s->nesting == 0 || --s->nesting) {
        return;
    }

    s->entered = NULL;

    if (s->slot) {
        atomic_store_explicit(&s->slot->epoch, 0, memory_order_release);
    }
}


void
nc_store_quiesce(nc_store_t *s)
{
    if (s->nesting) {
        s->nesting = 1;
        nc_store_leave(s);
    }
}


/* --- writer ------------------------------------------------------------ */


nc_int_t
nc_store_writer_init(nc_store_t *s)
{
    int32_t             pid;
    nc_store_writer_t  *w;
    nc_store_header_t  *hdr;

    hdr = s->hdr;

    if (hdr->magic != NC_STORE_MAGIC || hdr->layout != NC_STORE_LAYOUT) {
        nc_log_error(NC_LOG_EMERG, s->log, 0, "store region is not formatted");
        return NC_ERROR;
    }

    pid = 0;

    if (!atomic_compare_exchange_strong(&hdr->writer_pid, &pid,
                                        (int32_t) getpid()))
    {
        nc_log_error(NC_LOG_EMERG, s->log, 0,
                     "store already has a writer, pid %d", (int) pid);
        return NC_ERROR;
    }

    w = calloc(1, sizeof(nc_store_writer_t));
    if (w == NULL) {
        atomic_store(&hdr->writer_pid, 0);
        return NC_ERROR;
    }

    w->cap = NC_STORE_RETIRE_MIN;
    w->retired = malloc(w->cap * sizeof(nc_store_retired_t));

    if (w->retired == NULL) {
        free(w);
        atomic_store(&hdr->writer_pid, 0);
        return NC_ERROR;
    }

    s->writer = w;

    if (atomic_load(&hdr->current) == 0 && hdr->stamp == 0) {
        return NC_OK;
    }

    /*
     * A previous writer died: its retire queue died with it.  Withdraw the
     * published version, wait for readers to let go of it, and start over
     * on an empty region; the caller rebuilds the state from disk.
     */

    nc_log_error(NC_LOG_NOTICE, s->log, 0,
                 "store: resetting the region left by a previous writer");

    atomic_store(&hdr->current, 0);
    atomic_fetch_add(&hdr->epoch, 1);

    if (nc_store_drain_readers(s) != NC_OK) {
        nc_store_writer_free(s);
        return NC_ERROR;
    }

    nc_store_alloc_init(s);

    return NC_OK;
}


void
nc_store_writer_free(nc_store_t *s)
{
    if (s->writer == NULL) {
        return;
    }

    free(s->writer->retired);
    free(s->writer);
    s->writer = NULL;

    atomic_store(&s->hdr->writer_pid, 0);
}


static nc_int_t
nc_store_drain_readers(nc_store_t *s)
{
    uint64_t          e, g;
    nc_uint_t         i, step;
    nc_store_slot_t  *slot;

    g = atomic_load(&s->hdr->epoch);
    slot = &s->hdr->slots[0];
    e = 0;

    for (step = 0; step < NC_STORE_DRAIN_STEPS; step++) {

        for (i = 0; i < NC_STORE_MAX_READERS; i++) {
            slot = &s->hdr->slots[i];
            e = atomic_load(&slot->epoch);

            if (e != 0 && e < g) {
                break;
            }
        }

        if (i == NC_STORE_MAX_READERS) {
            return NC_OK;
        }

        (void) usleep(1000);
    }

    nc_log_error(NC_LOG_CRIT, s->log, 0,
                 "store: reader pid %d still holds epoch %" PRIu64
                 " after 10s", (int) atomic_load(&slot->pid), e);

    return NC_ERROR;
}


void
nc_store_release(nc_store_t *s, nc_shm_off_t off, size_t size,
    uint64_t stamp)
{
    if (stamp == s->hdr->stamp && s->writer->open) {
        nc_store_free(s, off, size);
        return;
    }

    if (nc_store_retire(s, off, size) != NC_OK) {
        /* without room to remember it, leaking beats a use after free */
        nc_log_error(NC_LOG_CRIT, s->log, 0,
                     "store: cannot queue %zu retired bytes, leaked", size);
    }
}


static nc_int_t
nc_store_retire(nc_store_t *s, nc_shm_off_t off, uint64_t size)
{
    size_t               cap;
    nc_store_writer_t   *w;
    nc_store_retired_t  *r;

    w = s->writer;

    if (w->n == w->cap) {
        cap = w->cap * 2;
        r = realloc(w->retired, cap * sizeof(nc_store_retired_t));
        if (r == NULL) {
            return NC_ERROR;
        }

        w->retired = r;
        w->cap = cap;
    }

    r = &w->retired[w->n++];
    r->off = off;
    r->size = size;
    r->epoch = 0;

    atomic_fetch_add_explicit(&s->hdr->alloc.bytes_retired,
                              nc_store_alloc_size(size),
                              memory_order_relaxed);

    return NC_OK;
}


const nc_store_version_t *
nc_store_pin(nc_store_t *s)
{
    nc_shm_off_t  off;

    /* what is retired from now on is tagged above this epoch */
    s->writer->pin = atomic_load(&s->hdr->epoch);

    off = atomic_load(&s->hdr->current);

    return off ? nc_store_ptr(s, off) : NULL;
}


void
nc_store_unpin(nc_store_t *s)
{
    s->writer->pin = 0;
}


size_t
nc_store_reclaim(nc_store_t *s)
{
    size_t               freed, bytes, n;
    uint64_t             e, min;
    nc_uint_t            i;
    nc_store_writer_t   *w;
    nc_store_retired_t  *r;

    w = s->writer;

    min = w->pin ? w->pin : UINT64_MAX;

    for (i = 0; i < NC_STORE_MAX_READERS; i++) {
        e = atomic_load(&s->hdr->slots[i].epoch);

        if (e != 0 && e < min) {
            min = e;
        }
    }

    freed = 0;

    /*
     * A bounded amount per call: after a long pin (a snapshot being
     * written) the backlog is drained over the next batches instead of in
     * one pause of the apply path.
     */
    for (n = 0; w->head < w->n && n < NC_STORE_RECLAIM_BATCH; n++) {
        r = &w->retired[w->head];

        if (r->epoch == 0 || r->epoch > min) {
            break;
        }

        bytes = nc_store_alloc_size(r->size);

        nc_store_free(s, r->off, r->size);
        atomic_fetch_sub_explicit(&s->hdr->alloc.bytes_retired, bytes,
                                  memory_order_relaxed);
        freed += bytes;
        w->head++;
    }

    /* keep the queue compact between batches */
    if (!w->open && w->head > w->cap / 2) {
        memmove(w->retired, &w->retired[w->head],
                (w->n - w->head) * sizeof(nc_store_retired_t));
        w->n -= w->head;
        w->head = 0;
    }

    if (w->head < w->n && min != UINT64_MAX) {
        nc_store_watch_stall(s, min);
    }

    return freed;
}


/*
 * A reader that stays in one epoch holds back every retired byte after it.
 * Workers leave at the end of each event-loop iteration, so one that stays
 * for seconds is stuck: say so, and past NC_STORE_STALL_KILL_MSEC, kill it
 * (the master reaps it, clears its slot and starts another).
 */
static void
nc_store_watch_stall(nc_store_t *s, uint64_t min)
{
    pid_t              pid;
    uint64_t           retired;
    nc_msec_t          entered, stalled;
    nc_uint_t          i;
    nc_store_slot_t   *slot;
    nc_store_writer_t *w;

    w = s->writer;

    retired = atomic_load_explicit(&s->hdr->alloc.bytes_retired,
                                   memory_order_relaxed);

    if (retired < nc_max(64 * 1024 * 1024, s->size / 16)) {
        return;
    }

    for (i = 0; i < NC_STORE_MAX_READERS; i++) {
        slot = &s->hdr->slots[i];

        if (atomic_load(&slot->epoch) != min) {
            continue;
        }

        pid = atomic_load(&slot->pid);
        entered = atomic_load_explicit(&slot->entered_msec,
                                       memory_order_relaxed);

        if (pid == 0 || pid == getpid() || nc_current_msec < entered) {
            continue;
        }

        stalled = nc_current_msec - entered;

        if (stalled < NC_STORE_STALL_LOG_MSEC) {
            continue;
        }

        if (stalled >= NC_STORE_STALL_KILL_MSEC) {
            nc_log_error(NC_LOG_CRIT, s->log, 0,
                         "store reader pid %d stalled in epoch %" PRIu64
                         " for %" PRIu64 " ms holding %" PRIu64
                         " retired bytes: killing it",
                         (int) pid, min, (uint64_t) stalled, retired);
            (void) kill(pid, SIGKILL);
            continue;
        }

        if (nc_current_msec - w->stall_logged >= NC_STORE_STALL_LOG_MSEC) {
            w->stall_logged = nc_current_msec;
            nc_log_error(NC_LOG_CRIT, s->log, 0,
                         "store reader pid %d stalled in epoch %" PRIu64
                         " for %" PRIu64 " ms holding %" PRIu64
                         " retired bytes",
                         (int) pid, min, (uint64_t) stalled, retired);
        }
    }
}


/* --- change feed ------------------------------------------------------- */


#define NC_STORE_FEED_AHEAD     64       /* feed_written moves in steps */


uint64_t
nc_store_key_hash(const u_char *key, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


void
nc_store_note_change(nc_store_t *s, const u_char *key, size_t len)
{
    uint64_t            n;
    nc_store_writer_t  *w;

    w = s->writer;
    n = w->feed_next++;

    /*
     * Announce the slot before writing it (a full fence: the store to
     * feed_written is seen before the slot's), a step ahead at a time.
     */
    if (n >= atomic_load_explicit(&s->hdr->feed_written,
                                  memory_order_relaxed))
    {
        atomic_store_explicit(&s->hdr->feed_written, n + NC_STORE_FEED_AHEAD,
                              memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
    }

    s->hdr->feed[n & (NC_STORE_CHANGES - 1)] = nc_store_key_hash(key, len);
}


nc_int_t
nc_store_changes(nc_store_t *s, uint64_t from, uint64_t to,
    void (*handler)(uint64_t hash, void *data), void *data)
{
    uint64_t  n, written;
    uint64_t  batch[64];
    size_t    i, k;

    if (to < from || to - from > NC_STORE_CHANGES) {
        return NC_DECLINED;
    }

    /* read a few, check nothing was overwritten meanwhile, hand them on */
    for (n = from; n < to; n += k) {
        k = nc_min(to - n, 64);

        for (i = 0; i < k; i++) {
            batch[i] = ((volatile uint64_t *) s->hdr->feed)
                           [(n + i) & (NC_STORE_CHANGES - 1)];
        }

        atomic_thread_fence(memory_order_acquire);

        written = atomic_load_explicit(&s->hdr->feed_written,
                                       memory_order_relaxed);

        if (written > n + NC_STORE_CHANGES) {
            return NC_DECLINED;
        }

        for (i = 0; i < k; i++) {
            handler(batch[i], data);
        }
    }

    return NC_OK;
}


/* --- batches ----------------------------------------------------------- */


nc_int_t
nc_store_begin(nc_store_t *s)
{
    nc_shm_off_t               off;
    nc_store_writer_t         *w;
    const nc_store_version_t  *v;

    w = s->writer;

    if (w == NULL || w->open) {
        return NC_ERROR;
    }

    w->version = nc_store_alloc(s, sizeof(nc_store_version_t));
    if (w->version == 0) {
        return NC_STORE_FULL;
    }

    off = atomic_load_explicit(&s->hdr->current, memory_order_relaxed);
    v = off ? nc_store_ptr(s, off) : NULL;

    w->root = v ? v->root : 0;
    w->count = v ? v->count : 0;
    w->feed_next = v ? v->changes : 0;
    w->batch_start = w->n;
    w->open = 1;

    s->hdr->stamp++;

    return NC_OK;
}


uint64_t
nc_store_stamp(nc_store_t *s)
{
    return s->hdr->stamp;
}


nc_shm_off_t *
nc_store_batch_root(nc_store_t *s)
{
    return &s->writer->root;
}


uint64_t *
nc_store_batch_count(nc_store_t *s)
{
    return &s->writer->count;
}


nc_int_t
nc_store_commit(nc_store_t *s, uint64_t applied_index, uint64_t applied_term)
{
    size_t               i;
    uint64_t             g;
    nc_shm_off_t         off, old;
    nc_store_writer_t   *w;
    nc_store_version_t  *v, *prev;

    w = s->writer;

    if (w == NULL || !w->open) {
        return NC_ERROR;
    }

    off = w->version;

    old = atomic_load_explicit(&s->hdr->current, memory_order_relaxed);
    prev = old ? nc_store_ptr(s, old) : NULL;

    v = nc_store_ptr(s, off);
    v->root = w->root;
    v->count = w->count;
    v->applied_index = applied_index;
    v->applied_term = applied_term;
    v->generation = prev ? prev->generation + 1 : 1;
    v->epoch = atomic_load(&s->hdr->epoch) + 1;
    v->changes = w->feed_next;

    if (old && nc_store_retire(s, old, sizeof(nc_store_version_t)) != NC_OK)
    {
        /* out of process memory: the batch stays open, the caller aborts */
        return NC_ERROR;
    }

    atomic_store(&s->hdr->current, off);
    g = atomic_fetch_add(&s->hdr->epoch, 1) + 1;

    for (i = w->batch_start; i < w->n; i++) {
        w->retired[i].epoch = g;
    }

    w->open = 0;

    (void) nc_store_reclaim(s);

    return NC_OK;
}


void
nc_store_abort(nc_store_t *s)
{
    size_t              i;
    nc_store_writer_t  *w;

    w = s->writer;

    if (w == NULL || !w->open) {
        return;
    }

    nc_store_map_free_private(s, w->root);
    nc_store_free(s, w->version, sizeof(nc_store_version_t));

    /* what the batch retired stays reachable from the current version */
    for (i = w->batch_start; i < w->n; i++) {
        atomic_fetch_sub_explicit(&s->hdr->alloc.bytes_retired,
                                  nc_store_alloc_size(w->retired[i].size),
                                  memory_order_relaxed);
    }

    w->n = w->batch_start;
    w->open = 0;
}


void
nc_store_stats(nc_store_t *s, nc_store_stats_t *st)
{
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;

    st->bytes_retired = atomic_load_explicit(&a->bytes_retired,
                                             memory_order_relaxed);

    /* retired objects are still allocated; live means reachable */
    st->bytes_live = atomic_load_explicit(&a->bytes_live,
                                          memory_order_relaxed);
    st->bytes_live -= nc_min(st->bytes_live, st->bytes_retired);
    st->bytes_free = atomic_load_explicit(&a->bytes_free,
                                          memory_order_relaxed);
    st->bytes_used = a->top;
    st->bytes_size = s->size;
    st->allocs = atomic_load_explicit(&a->allocs, memory_order_relaxed);
    st->frees = atomic_load_explicit(&a->frees, memory_order_relaxed);
    st->failures = atomic_load_explicit(&a->failures, memory_order_relaxed);

    st->fragmentation = st->bytes_live + st->bytes_free
                        ? (double) st->bytes_free
                          / (double) (st->bytes_live + st->bytes_free)
                        : 0.0;
}
