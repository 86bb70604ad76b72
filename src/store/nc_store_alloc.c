
/*
 * nacre: the store's allocator.
 *
 * Only the writer (the consensus process) allocates, so nothing here takes
 * a lock.  Callers pass the size back on free, which spares a header per
 * object: small nodes cost exactly their size class.
 *
 *   small (<= 8 KiB)  36 size classes; each carves slabs (page runs) with a
 *                     bump cursor and keeps a free list threaded through
 *                     the freed objects
 *   large             runs of 4 KiB pages: free lists by length (1..63,
 *                     and one first-fit list for longer runs), coalesced
 *                     with free neighbours through the page map; the
 *                     interior of a freed run of NC_STORE_RELEASE_PAGES or
 *                     more is given back to the kernel (MADV_REMOVE), so
 *                     the region costs what is live, not what it once
 *                     held.  Shorter runs stay: rewritten records (a
 *                     service's list, an item) free and take them again
 *                     at once, and giving them back each time costs a
 *                     system call, then page faults and zeroing
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <sys/mman.h>


#define NC_STORE_SMALL_MAX      8192
#define NC_STORE_RELEASE_PAGES  64       /* 256 KiB: given back when free */
#define NC_STORE_NSMALL         36

#define NC_PAGE_FREE_HEAD       0x80000000u
#define NC_PAGE_FREE_TAIL       0x40000000u
#define NC_PAGE_LEN_MASK        0x3fffffffu

/* free large runs keep their list links in their first page */
typedef struct {
    nc_shm_off_t        next;
    nc_shm_off_t        prev;
    uint64_t            npages;
} nc_store_run_t;


static const uint32_t  nc_store_class_size[NC_STORE_NSMALL] = {
      16,   32,   48,   64,   80,   96,  112,  128,
     144,  160,  176,  192,  208,  224,  240,  256,
     320,  384,  448,  512,
     640,  768,  896, 1024,
    1280, 1536, 1792, 2048,
    2560, 3072, 3584, 4096,
    5120, 6144, 7168, 8192
};


static nc_uint_t nc_store_class(size_t size);
static nc_shm_off_t nc_store_alloc_pages(nc_store_t *s, uint64_t npages);
static void nc_store_free_pages(nc_store_t *s, nc_shm_off_t off,
    uint64_t npages);
static void nc_store_run_link(nc_store_t *s, nc_shm_off_t off,
    uint64_t npages);
static void nc_store_run_unlink(nc_store_t *s, nc_shm_off_t off,
    uint64_t npages);


#define nc_store_page_map(s)                                                  \
    ((uint32_t *) ((s)->base + nc_align(sizeof(nc_store_header_t),          \
                                        NC_STORE_PAGE_SIZE)))
#define nc_store_page_index(a, off)                                           \
    (((off) - (a)->pages) / NC_STORE_PAGE_SIZE)


/* lay out the allocator of a fresh (or reset) region */
void
nc_store_alloc_init(nc_store_t *s)
{
    size_t             npages, map;
    nc_shm_off_t       start;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;

    start = nc_align(sizeof(nc_store_header_t), NC_STORE_PAGE_SIZE);
    npages = (s->size - start) / NC_STORE_PAGE_SIZE;
    map = nc_align(npages * sizeof(uint32_t), NC_STORE_PAGE_SIZE);

    /* the page map may hold marks of a previous writer: drop them */
    if (a->top > a->pages) {
        nc_memzero(s->base + start,
                   nc_store_page_index(a, a->top) * sizeof(uint32_t));
    }

    nc_memzero(a, sizeof(nc_store_alloc_t));

    a->pages = start + map;
    a->top = a->pages;
    a->end = s->size;
}


nc_shm_off_t
nc_store_alloc(nc_store_t *s, size_t size)
{
    uint64_t           npages, slab;
    nc_uint_t          c;
    nc_shm_off_t       off;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;

    if (size > NC_STORE_SMALL_MAX) {
        npages = (size + NC_STORE_PAGE_SIZE - 1) / NC_STORE_PAGE_SIZE;

        off = nc_store_alloc_pages(s, npages);
        if (off == 0) {
            goto full;
        }

        atomic_fetch_add_explicit(&a->bytes_live,
                                  npages * NC_STORE_PAGE_SIZE,
                                  memory_order_relaxed);
        goto done;
    }

    c = nc_store_class(size);
    size = nc_store_class_size[c];

    off = a->free_class[c];

    if (off) {
        a->free_class[c] = *(nc_shm_off_t *) nc_store_ptr(s, off);
        atomic_fetch_sub_explicit(&a->bytes_free, size, memory_order_relaxed);

    } else {
        if (a->slab_cur[c] + size > a->slab_end[c]) {
            /* 16 KiB slabs, or room for 8 objects of the larger classes */
            slab = nc_max(4, (8 * size + NC_STORE_PAGE_SIZE - 1)
                             / NC_STORE_PAGE_SIZE);

            off = nc_store_alloc_pages(s, slab);
            if (off == 0) {
                goto full;
            }

            /* the tail of the previous slab, if any, is lost to rounding */
            a->slab_cur[c] = off;
            a->slab_end[c] = off + slab * NC_STORE_PAGE_SIZE;

            atomic_fetch_add_explicit(&a->bytes_slab,
                                      slab * NC_STORE_PAGE_SIZE,
                                      memory_order_relaxed);
        }

        off = a->slab_cur[c];
        a->slab_cur[c] += size;
    }

    atomic_fetch_add_explicit(&a->bytes_live, size, memory_order_relaxed);

done:

    atomic_fetch_add_explicit(&a->allocs, 1, memory_order_relaxed);
    return off;

full:

    atomic_fetch_add_explicit(&a->failures, 1, memory_order_relaxed);
    return 0;
}


void
nc_store_free(nc_store_t *s, nc_shm_off_t off, size_t size)
{
    uint64_t           npages;
    nc_uint_t          c;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;

    atomic_fetch_add_explicit(&a->frees, 1, memory_order_relaxed);

    if (size > NC_STORE_SMALL_MAX) {
        npages = (size + NC_STORE_PAGE_SIZE - 1) / NC_STORE_PAGE_SIZE;

        atomic_fetch_sub_explicit(&a->bytes_live,
                                  npages * NC_STORE_PAGE_SIZE,
                                  memory_order_relaxed);

        nc_store_free_pages(s, off, npages);
        return;
    }

    c = nc_store_class(size);
    size = nc_store_class_size[c];

    *(nc_shm_off_t *) nc_store_ptr(s, off) = a->free_class[c];
    a->free_class[c] = off;

    atomic_fetch_sub_explicit(&a->bytes_live, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->bytes_free, size, memory_order_relaxed);
}


/* the bytes an allocation of `size` really takes */
size_t
nc_store_alloc_size(size_t size)
{
    if (size > NC_STORE_SMALL_MAX) {
        return nc_align(size, NC_STORE_PAGE_SIZE);
    }

    return nc_store_class_size[nc_store_class(size)];
}


static nc_uint_t
nc_store_class(size_t size)
{
    nc_uint_t  c;

    if (size <= 256) {
        return size ? (size - 1) / 16 : 0;
    }

    /* four classes per power of two from 256 up */
    for (c = 16; nc_store_class_size[c] < size; c++) {
        /* void */
    }

    return c;
}


static nc_shm_off_t
nc_store_alloc_pages(nc_store_t *s, uint64_t npages)
{
    uint64_t           have;
    nc_shm_off_t       off, best;
    nc_store_run_t    *run;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;

    off = 0;

    /* an exact fit first, then the smallest longer list that has one */
    for (have = npages; have < NC_STORE_NRUNS; have++) {
        if (a->free_run[have]) {
            off = a->free_run[have];
            break;
        }
    }

    if (off == 0) {
        best = 0;

        for (off = a->free_run[0]; off; off = run->next) {
            run = nc_store_ptr(s, off);

            if (run->npages >= npages
                && (best == 0
                    || run->npages
                       < ((nc_store_run_t *) nc_store_ptr(s, best))->npages))
            {
                best = off;

                if (run->npages == npages) {
                    break;
                }
            }
        }

        off = best;
    }

    if (off) {
        run = nc_store_ptr(s, off);
        have = run->npages;

        nc_store_run_unlink(s, off, have);

        if (have > npages) {
            nc_store_run_link(s, off + npages * NC_STORE_PAGE_SIZE,
                              have - npages);
        }

        return off;
    }

    if (a->end - a->top < npages * NC_STORE_PAGE_SIZE) {
        return 0;
    }

    off = a->top;
    a->top += npages * NC_STORE_PAGE_SIZE;

    return off;
}


static void
nc_store_free_pages(nc_store_t *s, nc_shm_off_t off, uint64_t npages)
{
    uint64_t           p, n, m;
    uint32_t          *map;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;
    map = nc_store_page_map(s);

    p = nc_store_page_index(a, off);
    n = npages;

    /* merge with a free run that follows */
    if (off + n * NC_STORE_PAGE_SIZE < a->top
        && (map[p + n] & NC_PAGE_FREE_HEAD))
    {
        m = map[p + n] & NC_PAGE_LEN_MASK;
        nc_store_run_unlink(s, off + n * NC_STORE_PAGE_SIZE, m);
        n += m;
    }

    /* and with one that precedes */
    if (p > 0 && (map[p - 1] & NC_PAGE_FREE_TAIL)) {
        m = map[p - 1] & NC_PAGE_LEN_MASK;
        p -= m;
        off -= m * NC_STORE_PAGE_SIZE;
        nc_store_run_unlink(s, off, m);
        n += m;
    }

    /* a run that ends at the top lowers the top instead */
    if (off + n * NC_STORE_PAGE_SIZE == a->top) {
        a->top = off;

        if (n >= NC_STORE_RELEASE_PAGES) {
            (void) madvise(nc_store_ptr(s, off), n * NC_STORE_PAGE_SIZE,
                           MADV_REMOVE);
        }

        return;
    }

    /* the kernel takes a long run's pages back; the first keeps the links */
    if (n >= NC_STORE_RELEASE_PAGES) {
        (void) madvise(nc_store_ptr(s, off + NC_STORE_PAGE_SIZE),
                       (n - 1) * NC_STORE_PAGE_SIZE, MADV_REMOVE);
    }

    nc_store_run_link(s, off, n);
}


static void
nc_store_run_link(nc_store_t *s, nc_shm_off_t off, uint64_t npages)
{
    uint64_t           p;
    uint32_t          *map;
    nc_uint_t          list;
    nc_store_run_t    *run, *next;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;
    map = nc_store_page_map(s);
    p = nc_store_page_index(a, off);

    list = npages < NC_STORE_NRUNS ? npages : 0;

    run = nc_store_ptr(s, off);
    run->npages = npages;
    run->prev = 0;
    run->next = a->free_run[list];

    if (run->next) {
        next = nc_store_ptr(s, run->next);
        next->prev = off;
    }

    a->free_run[list] = off;

    if (npages == 1) {
        map[p] = 1 | NC_PAGE_FREE_HEAD | NC_PAGE_FREE_TAIL;

    } else {
        map[p] = (uint32_t) npages | NC_PAGE_FREE_HEAD;
        map[p + npages - 1] = (uint32_t) npages | NC_PAGE_FREE_TAIL;
    }

    atomic_fetch_add_explicit(&a->bytes_free, npages * NC_STORE_PAGE_SIZE,
                              memory_order_relaxed);
}


static void
nc_store_run_unlink(nc_store_t *s, nc_shm_off_t off, uint64_t npages)
{
    uint64_t           p;
    uint32_t          *map;
    nc_uint_t          list;
    nc_store_run_t    *run;
    nc_store_alloc_t  *a;

    a = &s->hdr->alloc;
    map = nc_store_page_map(s);
    p = nc_store_page_index(a, off);

    list = npages < NC_STORE_NRUNS ? npages : 0;

    run = nc_store_ptr(s, off);

    if (run->prev) {
        ((nc_store_run_t *) nc_store_ptr(s, run->prev))->next = run->next;

    } else {
        a->free_run[list] = run->next;
    }

    if (run->next) {
        ((nc_store_run_t *) nc_store_ptr(s, run->next))->prev = run->prev;
    }

    map[p] = 0;
    map[p + npages - 1] = 0;

    atomic_fetch_sub_explicit(&a->bytes_free, npages * NC_STORE_PAGE_SIZE,
                              memory_order_relaxed);
}
