
/*
 * nacre: the store's map, a persistent radix tree ordered by key bytes.
 *
 * A reference is an offset whose low bit says what it points at: set, a
 * record; clear, a node; 0, nothing.  A node branches on the key byte at
 * `depth`:
 *
 *   slot[0]       the record whose key ends at depth (a proper prefix of
 *                 every other key below), or 0
 *   slot[1..n]    one reference per next byte, in byte order; the bitmap
 *                 marks the bytes present and a popcount finds the slot
 *
 * Paths are compressed optimistically: a node keeps its depth, not the
 * bytes it skips, since every key below shares them with any record below.
 * A lookup follows the byte at each depth and then compares the whole key
 * with the record it reaches; an insert or a seek compares with one record
 * of the subtree where it stopped to learn where the key leaves the tree.
 * Expansion is lazy: a record hangs where its key is the only one, so a
 * node always has two entries or more, and depths grow strictly downwards
 * (a bound every walk checks, so even a damaged tree cannot loop).
 *
 * An update copies the path from the root to the node it changes.  Nodes
 * made in the open batch carry its stamp and are changed in place; a node
 * is only made while copying a path from the root, so the private nodes of
 * a batch form a connected top of the tree and a copy stops at the first
 * private node.  Every allocation an operation needs is made before it
 * changes anything: a full region leaves the map as it was.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>


#define NC_STORE_REF_REC        1        /* low bit of a record reference */

#define nc_store_ref_is_rec(ref)    ((ref) & NC_STORE_REF_REC)
#define nc_store_ref_node(s, ref)   ((nc_store_node_t *) nc_store_ptr(s, ref))
#define nc_store_ref_rec(s, ref)                                              \
    ((nc_store_record_t *) nc_store_ptr(s, (ref) & ~(nc_shm_off_t) 1))

/* depths grow strictly and the deepest node branches below the longest key */
#define NC_STORE_PATH_MAX       (NC_STORE_MAX_KEY_LEN + 1)


typedef struct {
    uint16_t            depth;           /* the key byte it branches on */
    uint16_t            n;               /* children, 1..256 */
    uint16_t            cap;             /* child slots allocated */
    uint16_t            pad;
    uint64_t            bitmap[4];       /* bytes that have a child */
    uint64_t            stamp;           /* batch that made it */
    nc_shm_off_t        slot[];          /* [0]: value, [1..n]: children */
} nc_store_node_t;

#define nc_store_node_size(cap)                                               \
    (sizeof(nc_store_node_t) + ((cap) + 1) * sizeof(nc_shm_off_t))

#define nc_store_prefetch(p)    __builtin_prefetch((const void *) (p))

#define nc_store_node_has(node, b)                                            \
    ((node)->bitmap[(b) >> 6] & ((uint64_t) 1 << ((b) & 63)))


/* a node on the path of a key, the slot the key takes there, its copy */
typedef struct {
    nc_shm_off_t        node;
    nc_shm_off_t        copy;
    nc_uint_t           slot;
} nc_store_step_t;

typedef struct {
    nc_uint_t           n;               /* nodes on the path */
    nc_flag_t           absent;          /* the last has no child for it */
    nc_shm_off_t        end;             /* record, 0, or a node below the
                                            key's end */
    nc_store_step_t     step[NC_STORE_PATH_MAX];
} nc_store_path_t;


static const nc_store_record_t *nc_store_map_find(nc_store_t *s,
    nc_shm_off_t ref, const u_char *key, size_t len);
static nc_int_t nc_store_map_walk(nc_store_t *s, nc_store_path_t *p,
    const u_char *key, size_t len);
static const nc_store_record_t *nc_store_map_leaf(nc_store_t *s,
    nc_shm_off_t ref);
static nc_int_t nc_store_map_reserve(nc_store_t *s, nc_store_path_t *p,
    nc_uint_t j, uint64_t stamp, size_t size, nc_shm_off_t *fresh);
static void nc_store_map_set(nc_store_t *s, nc_store_path_t *p, nc_uint_t j,
    nc_shm_off_t ref, uint64_t stamp);
static nc_int_t nc_store_map_split(nc_store_t *s, nc_store_path_t *p,
    nc_uint_t j, nc_shm_off_t old, const nc_store_record_t *leaf,
    nc_shm_off_t ref, nc_store_record_t *rec, size_t lcp, uint64_t stamp);
static nc_int_t nc_store_map_add(nc_store_t *s, nc_store_path_t *p,
    nc_shm_off_t ref, nc_store_record_t *rec, uint64_t stamp);
static void nc_store_map_free(nc_store_t *s, nc_shm_off_t ref,
    uint64_t stamp);
static nc_int_t nc_store_map_check(nc_store_t *s, nc_shm_off_t ref,
    const u_char *prefix, size_t prefix_len, nc_int_t byte, uint64_t *count);
static nc_int_t nc_store_map_check_key(nc_store_t *s,
    const nc_store_record_t *rec, const u_char *prefix, size_t prefix_len,
    nc_int_t byte);

static nc_uint_t nc_store_node_cap(nc_uint_t n);
static void nc_store_node_init(nc_store_node_t *node, size_t depth,
    nc_uint_t n, uint64_t stamp);
static void nc_store_node_insert(nc_store_node_t *node, nc_uint_t b,
    nc_shm_off_t ref);
static void nc_store_node_release(nc_store_t *s, nc_shm_off_t off);
static void nc_store_record_release(nc_store_t *s, nc_shm_off_t ref);

static void nc_store_iter_seek(nc_store_iter_t *it, nc_shm_off_t ref,
    const u_char *key, size_t len);
static void nc_store_iter_push(nc_store_iter_t *it, nc_shm_off_t ref,
    uint32_t next);

static size_t nc_store_lcp(const u_char *a, size_t a_len, const u_char *b,
    size_t b_len);
static int nc_store_key_cmp(const u_char *a, size_t a_len, const u_char *b,
    size_t b_len);


#if (defined __POPCNT__ || defined __aarch64__)

#define nc_store_popcount(w)    ((nc_uint_t) __builtin_popcountll(w))

#else

/* without the instruction gcc calls a table-driven libgcc routine */
static inline nc_uint_t
nc_store_popcount(uint64_t w)
{
    w -= (w >> 1) & 0x5555555555555555ULL;
    w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;

    return (nc_uint_t) ((w * 0x0101010101010101ULL) >> 56);
}

#endif


/* children with a byte below b */
static inline nc_uint_t
nc_store_node_rank(const nc_store_node_t *node, nc_uint_t b)
{
    nc_uint_t  i, r;

    r = nc_store_popcount(node->bitmap[b >> 6]
                          & (((uint64_t) 1 << (b & 63)) - 1));

    for (i = 0; i < (b >> 6); i++) {
        r += nc_store_popcount(node->bitmap[i]);
    }

    return r;
}


/* --- records --------------------------------------------------------- */


nc_store_record_t *
nc_store_record_alloc(nc_store_t *s, const u_char *key, size_t key_len,
    uint32_t type, size_t value_len, uint64_t revision)
{
    size_t              size;
    nc_shm_off_t        off;
    nc_store_record_t  *rec;

    if (key_len > NC_STORE_MAX_KEY_LEN || value_len > UINT32_MAX) {
        return NULL;
    }

    size = nc_store_record_size(key_len, value_len);

    off = nc_store_alloc(s, size);
    if (off == 0) {
        return NULL;
    }

    rec = nc_store_ptr(s, off);

    rec->stamp = nc_store_stamp(s);
    rec->revision = revision;
    rec->type = type;
    rec->flags = 0;
    rec->key_len = (uint32_t) key_len;
    rec->value_len = (uint32_t) value_len;

    if (key_len) {
        nc_memcpy(rec->data, key, key_len);
    }

    /* the padding too: snapshots copy records as they are */
    nc_memzero(rec->data + key_len, nc_align(key_len, 8) - key_len);

    return rec;
}


/* --- lookups ---------------------------------------------------------- */


const nc_store_record_t *
nc_store_get(nc_store_t *s, const nc_store_version_t *v, const u_char *key,
    size_t key_len)
{
    if (v == NULL || key_len > NC_STORE_MAX_KEY_LEN) {
        return NULL;
    }

    return nc_store_map_find(s, v->root, key, key_len);
}


const nc_store_record_t *
nc_store_lookup(nc_store_t *s, const u_char *key, size_t key_len)
{
    if (key_len > NC_STORE_MAX_KEY_LEN) {
        return NULL;
    }

    return nc_store_map_find(s, *nc_store_batch_root(s), key, key_len);
}


static const nc_store_record_t *
nc_store_map_find(nc_store_t *s, nc_shm_off_t ref, const u_char *key,
    size_t len)
{
    size_t                    min;
    nc_uint_t                 b;
    const nc_store_node_t    *node;
    const nc_store_record_t  *rec;

    min = 0;

    while (ref && !nc_store_ref_is_rec(ref)) {
        node = nc_store_ref_node(s, ref);

        if (node->depth < min) {
            return NULL;                /* damaged: depths must grow */
        }

        if (node->depth >= len) {
            if (node->depth > len) {
                return NULL;
            }

            ref = node->slot[0];
            break;
        }

        b = key[node->depth];

        if (!nc_store_node_has(node, b)) {
            return NULL;
        }

        ref = node->slot[1 + nc_store_node_rank(node, b)];
        min = node->depth + 1;

        /*
         * At a million keys the walk waits on memory, the header line then
         * the slot's; ask for the child's next lines now so they overlap
         * (a prefetch past the region's end does not fault).
         */
        nc_store_prefetch(s->base + (ref & ~(nc_shm_off_t) 1) + 64);

        if (!nc_store_ref_is_rec(ref)) {
            nc_store_prefetch(s->base + ref + 128);
        }
    }

    if (ref == 0) {
        return NULL;
    }

    rec = nc_store_ref_rec(s, ref);

    if (rec->key_len != len
        || (len && nc_memcmp(nc_store_record_key(rec), key, len) != 0))
    {
        return NULL;
    }

    return rec;
}


/*
 * The writer's walk: the nodes from the batch root along the key, and
 * where it stopped (p->end): the record reached, 0 (no entry for the key
 * in the last node), or a node deeper than the key, not on the path.
 */
static nc_int_t
nc_store_map_walk(nc_store_t *s, nc_store_path_t *p, const u_char *key,
    size_t len)
{
    size_t            min;
    nc_uint_t         b, slot;
    nc_shm_off_t      ref;
    nc_store_node_t  *node;

    p->n = 0;
    p->absent = 0;

    ref = *nc_store_batch_root(s);
    min = 0;

    while (ref && !nc_store_ref_is_rec(ref)) {
        node = nc_store_ref_node(s, ref);

        if (node->depth < min) {
            nc_log_error(NC_LOG_ALERT, s->log, 0,
                         "store map: node at %" PRIu64 " has depth %d "
                         "under depth %d", ref, (int) node->depth,
                         (int) min - 1);
            return NC_ERROR;
        }

        if (node->depth > len) {
            break;
        }

        if (node->depth == len) {
            slot = 0;

        } else {
            b = key[node->depth];
            slot = 1 + nc_store_node_rank(node, b);
            p->absent = !nc_store_node_has(node, b);
        }

        p->step[p->n].node = ref;
        p->step[p->n].copy = 0;
        p->step[p->n].slot = slot;
        p->n++;

        if (p->absent) {
            ref = 0;
            break;
        }

        ref = node->slot[slot];
        min = node->depth + 1;
    }

    p->end = ref;

    return NC_OK;
}


/* the first record of a subtree: any one shares the bytes its nodes skip */
static const nc_store_record_t *
nc_store_map_leaf(nc_store_t *s, nc_shm_off_t ref)
{
    const nc_store_node_t  *node;

    while (!nc_store_ref_is_rec(ref)) {
        node = nc_store_ref_node(s, ref);
        ref = node->slot[0] ? node->slot[0] : node->slot[1];
    }

    return nc_store_ref_rec(s, ref);
}


/* --- updates ---------------------------------------------------------- */


nc_int_t
nc_store_insert(nc_store_t *s, nc_store_record_t *rec)
{
    size_t                    len, lcp;
    u_char                   *key;
    uint64_t                  stamp;
    nc_uint_t                 i;
    nc_shm_off_t              ref, old;
    nc_store_node_t          *node;
    nc_store_path_t           path;
    const nc_store_record_t  *leaf;

    key = nc_store_record_key(rec);
    len = rec->key_len;

    if (len > NC_STORE_MAX_KEY_LEN) {
        return NC_ERROR;
    }

    stamp = nc_store_stamp(s);
    ref = nc_store_off(s, rec) | NC_STORE_REF_REC;

    if (rec->stamp != stamp) {
        /*
         * An older record may have been retired (deleted or replaced in
         * this batch): back in the tree it would be freed under readers.
         */
        if (nc_store_map_find(s, *nc_store_batch_root(s), key, len) == rec) {
            return NC_OK;
        }

        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: insert of a record made in batch %" PRIu64
                     ", not in the open batch %" PRIu64, rec->stamp, stamp);
        return NC_ERROR;
    }

    if (nc_store_map_walk(s, &path, key, len) != NC_OK) {
        return NC_ERROR;
    }

    /* noted even if the insert fails: the batch is then undone */
    nc_store_note_change(s, key, len);

    old = path.end;

    if (path.n == 0 && old == 0) {
        *nc_store_batch_root(s) = ref;
        (*nc_store_batch_count(s))++;
        return NC_OK;
    }

    /* where the key leaves the tree */

    leaf = nc_store_map_leaf(s, old ? old : path.step[path.n - 1].node);
    lcp = nc_store_lcp(key, len, nc_store_record_key(leaf), leaf->key_len);

    for (i = 0; i < path.n; i++) {
        node = nc_store_ref_node(s, path.step[i].node);

        if (node->depth > lcp) {
            /* above a node whose skipped bytes differ from the key */
            return nc_store_map_split(s, &path, i, path.step[i].node, leaf,
                                      ref, rec, lcp, stamp);
        }
    }

    if (old == 0) {
        return nc_store_map_add(s, &path, ref, rec, stamp);
    }

    if (!nc_store_ref_is_rec(old) || lcp != len || leaf->key_len != len) {
        /* a node deeper than the key, or a record with another key */
        return nc_store_map_split(s, &path, path.n, old, leaf, ref, rec, lcp,
                                  stamp);
    }

    /* the same key: replace the record */

    if (old == ref) {
        return NC_OK;
    }

    if (nc_store_map_reserve(s, &path, path.n, stamp, 0, NULL) != NC_OK) {
        nc_store_free(s, ref & ~(nc_shm_off_t) 1,
                      nc_store_record_size(len, rec->value_len));
        return NC_STORE_FULL;
    }

    nc_store_map_set(s, &path, path.n, ref, stamp);
    nc_store_record_release(s, old);

    return NC_OK;
}


/*
 * A new node at depth lcp takes the place of `old` (the j-th entry of the
 * path) and holds both it and the new record.
 */
static nc_int_t
nc_store_map_split(nc_store_t *s, nc_store_path_t *p, nc_uint_t j,
    nc_shm_off_t old, const nc_store_record_t *leaf, nc_shm_off_t ref,
    nc_store_record_t *rec, size_t lcp, uint64_t stamp)
{
    const u_char     *key;
    nc_shm_off_t      off;
    nc_store_node_t  *node;

    if (nc_store_map_reserve(s, p, j, stamp, nc_store_node_size(2), &off)
        != NC_OK)
    {
        nc_store_free(s, ref & ~(nc_shm_off_t) 1,
                      nc_store_record_size(rec->key_len, rec->value_len));
        return NC_STORE_FULL;
    }

    node = nc_store_ptr(s, off);
    nc_store_node_init(node, lcp, 2, stamp);

    /* the old subtree's keys all go on at lcp, unless it is one record */
    key = nc_store_record_key(leaf);

    if (leaf->key_len == lcp) {
        node->slot[0] = old;

    } else {
        nc_store_node_insert(node, key[lcp], old);
    }

    key = nc_store_record_key(rec);

    if (rec->key_len == lcp) {
        node->slot[0] = ref;

    } else {
        nc_store_node_insert(node, key[lcp], ref);
    }

    nc_store_map_set(s, p, j, off, stamp);
    (*nc_store_batch_count(s))++;

    return NC_OK;
}


/* the key's node is on the path and has no entry for it yet */
static nc_int_t
nc_store_map_add(nc_store_t *s, nc_store_path_t *p, nc_shm_off_t ref,
    nc_store_record_t *rec, uint64_t stamp)
{
    size_t            size;
    nc_uint_t         b;
    nc_shm_off_t      off, fresh;
    nc_store_node_t  *node, *copy;
    nc_store_step_t  *last;

    last = &p->step[p->n - 1];
    off = last->node;
    node = nc_store_ref_node(s, off);

    if (!p->absent) {
        /* the value slot */

        if (nc_store_map_reserve(s, p, p->n, stamp, 0, NULL) != NC_OK) {
            goto full;
        }

        nc_store_map_set(s, p, p->n, ref, stamp);
        (*nc_store_batch_count(s))++;

        return NC_OK;
    }

    b = nc_store_record_key(rec)[node->depth];

    if (node->stamp == stamp && node->n < node->cap) {
        nc_store_node_insert(node, b, ref);
        (*nc_store_batch_count(s))++;
        return NC_OK;
    }

    /* a copy with one slot more replaces the node */

    size = nc_store_node_size(node->n + 1);

    if (nc_store_map_reserve(s, p, p->n - 1, stamp, size, &fresh) != NC_OK) {
        goto full;
    }

    copy = nc_store_ptr(s, fresh);
    nc_memcpy(copy, node, nc_store_node_size(node->n));
    copy->cap = nc_store_node_cap(node->n + 1);
    copy->stamp = stamp;

    nc_store_node_insert(copy, b, ref);

    nc_store_map_set(s, p, p->n - 1, fresh, stamp);
    nc_store_node_release(s, off);
    (*nc_store_batch_count(s))++;

    return NC_OK;

full:

    nc_store_free(s, ref & ~(nc_shm_off_t) 1,
                  nc_store_record_size(rec->key_len, rec->value_len));

    return NC_STORE_FULL;
}


nc_int_t
nc_store_delete(nc_store_t *s, const u_char *key, size_t key_len)
{
    nc_uint_t           i, b;
    uint64_t            stamp;
    nc_shm_off_t        old, off, fresh, other;
    nc_store_node_t    *node, *copy;
    nc_store_step_t    *last;
    nc_store_path_t     path;
    nc_store_record_t  *rec;

    if (key_len > NC_STORE_MAX_KEY_LEN) {
        return NC_ERROR;
    }

    if (nc_store_map_walk(s, &path, key, key_len) != NC_OK) {
        return NC_ERROR;
    }

    old = path.end;

    if (old == 0 || !nc_store_ref_is_rec(old)) {
        return NC_DECLINED;
    }

    rec = nc_store_ref_rec(s, old);

    if (rec->key_len != key_len
        || (key_len && nc_memcmp(nc_store_record_key(rec), key, key_len)))
    {
        return NC_DECLINED;
    }

    nc_store_note_change(s, key, key_len);

    stamp = nc_store_stamp(s);

    if (path.n == 0) {
        *nc_store_batch_root(s) = 0;
        goto done;
    }

    last = &path.step[path.n - 1];
    off = last->node;
    node = nc_store_ref_node(s, off);

    if (node->n + (node->slot[0] != 0) == 2) {

        /* the node goes: its other entry takes its place */

        if (last->slot == 0) {
            other = node->slot[1];

        } else if (node->slot[0]) {
            other = node->slot[0];

        } else {
            other = node->slot[last->slot == 1 ? 2 : 1];
        }

        if (nc_store_map_reserve(s, &path, path.n - 1, stamp, 0, NULL)
            != NC_OK)
        {
            return NC_STORE_FULL;
        }

        nc_store_map_set(s, &path, path.n - 1, other, stamp);
        nc_store_node_release(s, off);

        goto done;
    }

    if (last->slot == 0) {
        if (nc_store_map_reserve(s, &path, path.n, stamp, 0, NULL) != NC_OK) {
            return NC_STORE_FULL;
        }

        nc_store_map_set(s, &path, path.n, 0, stamp);

        goto done;
    }

    b = key[node->depth];

    if (node->stamp == stamp) {
        nc_memmove(&node->slot[last->slot], &node->slot[last->slot + 1],
                   (node->n - last->slot) * sizeof(nc_shm_off_t));
        node->bitmap[b >> 6] &= ~((uint64_t) 1 << (b & 63));
        node->n--;

        goto done;
    }

    /* a copy without the slot replaces the node */

    if (nc_store_map_reserve(s, &path, path.n - 1, stamp,
                             nc_store_node_size(node->n - 1), &fresh)
        != NC_OK)
    {
        return NC_STORE_FULL;
    }

    copy = nc_store_ptr(s, fresh);
    i = last->slot;

    nc_memcpy(copy, node, nc_store_node_size(i - 1));
    nc_memcpy(&copy->slot[i], &node->slot[i + 1],
              (node->n - i) * sizeof(nc_shm_off_t));

    copy->bitmap[b >> 6] &= ~((uint64_t) 1 << (b & 63));
    copy->n = node->n - 1;
    copy->cap = nc_store_node_cap(copy->n);
    copy->stamp = stamp;

    nc_store_map_set(s, &path, path.n - 1, fresh, stamp);
    nc_store_node_release(s, off);

done:

    nc_store_record_release(s, old);
    (*nc_store_batch_count(s))--;

    return NC_OK;
}


/*
 * Allocate, before anything changes, the copies that nc_store_map_set()
 * needs for the published nodes among the first j of the path, and one
 * node of `size` bytes if size is not 0.  On failure nothing is kept.
 */
static nc_int_t
nc_store_map_reserve(nc_store_t *s, nc_store_path_t *p, nc_uint_t j,
    uint64_t stamp, size_t size, nc_shm_off_t *fresh)
{
    nc_uint_t         i, k;
    nc_shm_off_t      off;
    nc_store_node_t  *node;

    if (size) {
        *fresh = nc_store_alloc(s, size);
        if (*fresh == 0) {
            return NC_STORE_FULL;
        }
    }

    /* the private nodes are on top: copies are needed below the last one */
    for (i = j; i > 0; i--) {
        node = nc_store_ref_node(s, p->step[i - 1].node);

        if (node->stamp == stamp) {
            break;
        }

        off = nc_store_alloc(s, nc_store_node_size(node->n));
        if (off == 0) {
            goto failed;
        }

        p->step[i - 1].copy = off;
    }

    return NC_OK;

failed:

    for (k = j; k > i; k--) {
        node = nc_store_ref_node(s, p->step[k - 1].node);
        nc_store_free(s, p->step[k - 1].copy, nc_store_node_size(node->n));
        p->step[k - 1].copy = 0;
    }

    if (size) {
        nc_store_free(s, *fresh, size);
    }

    return NC_STORE_FULL;
}


/*
 * Make the j-th entry of the path `ref`: store it in its parent's slot,
 * copying the published nodes above up to the first private one (or to
 * the root), with the copies that nc_store_map_reserve() made.
 */
static void
nc_store_map_set(nc_store_t *s, nc_store_path_t *p, nc_uint_t j,
    nc_shm_off_t ref, uint64_t stamp)
{
    nc_store_node_t  *node, *copy;
    nc_store_step_t  *st;

    while (j > 0) {
        st = &p->step[--j];
        node = nc_store_ref_node(s, st->node);

        if (node->stamp == stamp) {
            node->slot[st->slot] = ref;
            return;
        }

        copy = nc_store_ref_node(s, st->copy);
        nc_memcpy(copy, node, nc_store_node_size(node->n));
        copy->cap = nc_store_node_cap(node->n);
        copy->stamp = stamp;
        copy->slot[st->slot] = ref;

        nc_store_node_release(s, st->node);

        ref = st->copy;
    }

    *nc_store_batch_root(s) = ref;
}


void
nc_store_map_free_private(nc_store_t *s, nc_shm_off_t root)
{
    nc_store_map_free(s, root, nc_store_stamp(s));
}


/* private objects hang only from private nodes: recursion stops early */
static void
nc_store_map_free(nc_store_t *s, nc_shm_off_t ref, uint64_t stamp)
{
    nc_uint_t           i;
    nc_store_node_t    *node;
    nc_store_record_t  *rec;

    if (ref == 0) {
        return;
    }

    if (nc_store_ref_is_rec(ref)) {
        rec = nc_store_ref_rec(s, ref);

        if (rec->stamp == stamp) {
            nc_store_free(s, ref & ~(nc_shm_off_t) 1,
                          nc_store_record_size(rec->key_len,
                                               rec->value_len));
        }

        return;
    }

    node = nc_store_ref_node(s, ref);

    if (node->stamp != stamp) {
        return;
    }

    for (i = 0; i <= node->n; i++) {
        nc_store_map_free(s, node->slot[i], stamp);
    }

    nc_store_free(s, ref, nc_store_node_size(node->cap));
}


/* --- nodes ------------------------------------------------------------ */


/* child slots an allocation for n children really has room for */
static nc_uint_t
nc_store_node_cap(nc_uint_t n)
{
    size_t  size;

    size = nc_store_alloc_size(nc_store_node_size(n));
    size = (size - sizeof(nc_store_node_t)) / sizeof(nc_shm_off_t) - 1;

    return nc_min(size, 256);
}


/* an empty node with room for n children */
static void
nc_store_node_init(nc_store_node_t *node, size_t depth, nc_uint_t n,
    uint64_t stamp)
{
    node->depth = (uint16_t) depth;
    node->n = 0;
    node->cap = nc_store_node_cap(n);
    node->pad = 0;
    node->bitmap[0] = 0;
    node->bitmap[1] = 0;
    node->bitmap[2] = 0;
    node->bitmap[3] = 0;
    node->stamp = stamp;
    node->slot[0] = 0;
}


/* a child for byte b, in a node that has room */
static void
nc_store_node_insert(nc_store_node_t *node, nc_uint_t b, nc_shm_off_t ref)
{
    nc_uint_t  slot;

    slot = 1 + nc_store_node_rank(node, b);

    nc_memmove(&node->slot[slot + 1], &node->slot[slot],
               (node->n + 1 - slot) * sizeof(nc_shm_off_t));

    node->slot[slot] = ref;
    node->bitmap[b >> 6] |= (uint64_t) 1 << (b & 63);
    node->n++;
}


static void
nc_store_node_release(nc_store_t *s, nc_shm_off_t off)
{
    nc_store_node_t  *node;

    node = nc_store_ref_node(s, off);

    nc_store_release(s, off, nc_store_node_size(node->cap), node->stamp);
}


static void
nc_store_record_release(nc_store_t *s, nc_shm_off_t ref)
{
    nc_store_record_t  *rec;

    rec = nc_store_ref_rec(s, ref);

    nc_store_release(s, ref & ~(nc_shm_off_t) 1,
                     nc_store_record_size(rec->key_len, rec->value_len),
                     rec->stamp);
}


/* --- iteration -------------------------------------------------------- */


void
nc_store_iter_init(nc_store_iter_t *it, nc_store_t *s, nc_shm_off_t root,
    const u_char *prefix, size_t prefix_len, const u_char *start,
    size_t start_len)
{
    it->store = s;
    it->prefix = prefix;
    it->prefix_len = prefix_len;
    it->depth = 0;

    if (root == 0 || prefix_len > NC_STORE_MAX_KEY_LEN) {
        return;
    }

    /* the first key to return is the greater of the prefix and start */
    if (start == NULL
        || nc_store_key_cmp(start, start_len, prefix, prefix_len) < 0)
    {
        start = prefix;
        start_len = prefix_len;
    }

    nc_store_iter_seek(it, root, start, start_len);
}


/*
 * Leave on the stack what remains from the first key >= key: each node on
 * the way down resumes after the slot taken, and the subtree where the key
 * leaves the tree is pushed whole or not at all (its keys share the bytes
 * up to its depth, so they are all on one side of the key).
 */
static void
nc_store_iter_seek(nc_store_iter_t *it, nc_shm_off_t ref, const u_char *key,
    size_t len)
{
    size_t                    min, lcp;
    nc_uint_t                 b, i, slot;
    nc_store_t               *s;
    const u_char             *lkey;
    nc_store_node_t          *node;
    const nc_store_record_t  *leaf;

    s = it->store;
    min = 0;

    while (!nc_store_ref_is_rec(ref)) {
        node = nc_store_ref_node(s, ref);

        if (node->depth < min) {
            it->depth = 0;
            return;
        }

        if (node->depth >= len) {
            break;
        }

        b = key[node->depth];

        if (!nc_store_node_has(node, b)) {
            break;
        }

        slot = 1 + nc_store_node_rank(node, b);
        nc_store_iter_push(it, ref, slot + 1);

        ref = node->slot[slot];
        min = node->depth + 1;
    }

    leaf = nc_store_map_leaf(s, ref);
    lkey = nc_store_record_key(leaf);
    lcp = nc_store_lcp(key, len, lkey, leaf->key_len);

    for (i = 0; i < it->depth; i++) {
        node = nc_store_ref_node(s, it->stack[i].node);

        if (node->depth > lcp) {
            ref = it->stack[i].node;
            it->depth = i;
            goto whole;
        }
    }

    if (!nc_store_ref_is_rec(ref)) {
        node = nc_store_ref_node(s, ref);

        if (node->depth <= lcp) {
            /*
             * The key agrees with the node's bytes and ends here, or its
             * byte has no child: the greater children follow it.
             */

            if (node->depth >= len) {
                nc_store_iter_push(it, ref, 0);

            } else {
                b = key[node->depth];
                nc_store_iter_push(it, ref,
                                   1 + nc_store_node_rank(node, b));
            }

            return;
        }
    }

whole:

    if (lcp == len || (lcp < leaf->key_len && lkey[lcp] > key[lcp])) {
        nc_store_iter_push(it, ref, 0);
    }
}


const nc_store_record_t *
nc_store_iter_next(nc_store_iter_t *it)
{
    nc_shm_off_t              ref;
    nc_store_node_t          *node;
    const nc_store_record_t  *rec;

    while (it->depth) {
        ref = it->stack[it->depth - 1].node;

        /* a record pushed alone by the seek */
        if (nc_store_ref_is_rec(ref)) {
            it->depth--;
            goto found;
        }

        node = nc_store_ref_node(it->store, ref);

        if (it->stack[it->depth - 1].next > node->n) {
            it->depth--;
            continue;
        }

        ref = node->slot[it->stack[it->depth - 1].next++];

        if (ref == 0) {
            continue;
        }

        if (nc_store_ref_is_rec(ref)) {
            goto found;
        }

        nc_store_iter_push(it, ref, 0);
    }

    return NULL;

found:

    rec = nc_store_ref_rec(it->store, ref);

    /* keys come in order: the first without the prefix ends the range */
    if (it->prefix_len
        && (rec->key_len < it->prefix_len
            || nc_memcmp(nc_store_record_key(rec), it->prefix,
                         it->prefix_len) != 0))
    {
        it->depth = 0;
        return NULL;
    }

    return rec;
}


/* a sound tree needs a frame per node on a path and one for a record */
static void
nc_store_iter_push(nc_store_iter_t *it, nc_shm_off_t ref, uint32_t next)
{
    if (it->depth == NC_STORE_ITER_DEPTH) {
        nc_log_error(NC_LOG_ALERT, it->store->log, 0,
                     "store map: iteration deeper than %d",
                     NC_STORE_ITER_DEPTH);
        return;
    }

    it->stack[it->depth].node = ref;
    it->stack[it->depth].next = next;
    it->depth++;
}


/* --- checks ----------------------------------------------------------- */


nc_int_t
nc_store_map_verify(nc_store_t *s, nc_shm_off_t root, uint64_t *count)
{
    *count = 0;

    if (root == 0) {
        return NC_OK;
    }

    return nc_store_map_check(s, root, NULL, 0, -1, count);
}


/*
 * Every key below ref starts with prefix[0..prefix_len), then byte (unless
 * -1); nodes are deeper than that, hold two entries or more, agree with
 * their bitmaps and are no newer than the open batch.
 */
static nc_int_t
nc_store_map_check(nc_store_t *s, nc_shm_off_t ref, const u_char *prefix,
    size_t prefix_len, nc_int_t byte, uint64_t *count)
{
    nc_uint_t                 i, b, n;
    const u_char             *key;
    nc_store_node_t          *node;
    const nc_store_record_t  *leaf;

    if ((ref & (NC_STORE_ALIGN - 2)) || ref >= s->size || ref == 0) {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: bad reference %" PRIu64, ref);
        return NC_ERROR;
    }

    if (nc_store_ref_is_rec(ref)) {
        if (nc_store_map_check_key(s, nc_store_ref_rec(s, ref), prefix,
                                   prefix_len, byte)
            != NC_OK)
        {
            return NC_ERROR;
        }

        (*count)++;
        return NC_OK;
    }

    node = nc_store_ref_node(s, ref);

    n = 0;
    for (i = 0; i < 4; i++) {
        n += nc_store_popcount(node->bitmap[i]);
    }

    if (node->depth < prefix_len + (byte >= 0)
        || node->n == 0
        || node->n > node->cap
        || node->cap > 256
        || n != node->n
        || node->n + (node->slot[0] != 0) < 2
        || node->stamp > nc_store_stamp(s))
    {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: bad node at %" PRIu64 ": depth %d, "
                     "%d of %d children, %d bits, value %s",
                     ref, (int) node->depth, (int) node->n,
                     (int) node->cap, (int) n,
                     node->slot[0] ? "yes" : "no");
        return NC_ERROR;
    }

    /* entries are held to the leftmost key, once it is known to belong */

    leaf = nc_store_map_leaf(s, ref);

    if (leaf->key_len < node->depth
        || nc_store_map_check_key(s, leaf, prefix, prefix_len, byte) != NC_OK)
    {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: node at %" PRIu64 " has a foreign key",
                     ref);
        return NC_ERROR;
    }

    key = nc_store_record_key(leaf);

    if (node->slot[0]
        && (!nc_store_ref_is_rec(node->slot[0])
            || nc_store_ref_rec(s, node->slot[0])->key_len != node->depth
            || nc_store_map_check(s, node->slot[0], key, node->depth, -1,
                                  count)
               != NC_OK))
    {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: bad value in node at %" PRIu64, ref);
        return NC_ERROR;
    }

    for (b = 0, i = 1; b < 256; b++) {
        if (!nc_store_node_has(node, b)) {
            continue;
        }

        if (nc_store_map_check(s, node->slot[i], key, node->depth,
                               (nc_int_t) b, count)
            != NC_OK)
        {
            return NC_ERROR;
        }

        i++;
    }

    return NC_OK;
}


static nc_int_t
nc_store_map_check_key(nc_store_t *s, const nc_store_record_t *rec,
    const u_char *prefix, size_t prefix_len, nc_int_t byte)
{
    const u_char  *key;

    key = nc_store_record_key(rec);

    if (rec->key_len < prefix_len + (byte >= 0)
        || rec->key_len > NC_STORE_MAX_KEY_LEN
        || rec->stamp > nc_store_stamp(s)
        || (prefix_len && nc_memcmp(key, prefix, prefix_len) != 0)
        || (byte >= 0 && key[prefix_len] != byte))
    {
        nc_log_error(NC_LOG_ALERT, s->log, 0,
                     "store map: record at %" PRIu64 " is misplaced",
                     nc_store_off(s, rec));
        return NC_ERROR;
    }

    return NC_OK;
}


/* --- keys ------------------------------------------------------------- */


static size_t
nc_store_lcp(const u_char *a, size_t a_len, const u_char *b, size_t b_len)
{
    size_t    i, n;
    uint64_t  x, y;

    n = nc_min(a_len, b_len);

    for (i = 0; i + 8 <= n; i += 8) {
        nc_memcpy(&x, a + i, 8);
        nc_memcpy(&y, b + i, 8);

        if (x != y) {
            break;
        }
    }

    while (i < n && a[i] == b[i]) {
        i++;
    }

    return i;
}


static int
nc_store_key_cmp(const u_char *a, size_t a_len, const u_char *b,
    size_t b_len)
{
    int  rc;

    rc = nc_min(a_len, b_len) ? nc_memcmp(a, b, nc_min(a_len, b_len)) : 0;

    if (rc != 0) {
        return rc;
    }

    return (a_len > b_len) - (a_len < b_len);
}
