
/*
 * nacre: memory pools.
 */

#include <nc_config.h>
#include <nc_core.h>


static void *nc_palloc_small(nc_pool_t *pool, size_t size, nc_uint_t align);
static void *nc_palloc_block(nc_pool_t *pool, size_t size);
static void *nc_palloc_large(nc_pool_t *pool, size_t size);


void *
nc_alloc(size_t size)
{
    void  *p;

    p = malloc(size);
    if (p == NULL) {
        nc_log_error(NC_LOG_EMERG, nc_log_default(), errno,
                     "malloc(%zu) failed", size);
    }

    return p;
}


void *
nc_calloc(size_t size)
{
    void  *p;

    p = nc_alloc(size);
    if (p) {
        nc_memzero(p, size);
    }

    return p;
}


nc_pool_t *
nc_create_pool(size_t size)
{
    nc_pool_t  *p;

    if (size < sizeof(nc_pool_t) + NC_POOL_MIN_SIZE) {
        size = sizeof(nc_pool_t) + NC_POOL_MIN_SIZE;
    }

    p = nc_alloc(size);
    if (p == NULL) {
        return NULL;
    }

    p->block.last = (u_char *) p + sizeof(nc_pool_t);
    p->block.end = (u_char *) p + size;
    p->block.next = NULL;
    p->block.failed = 0;

    size -= sizeof(nc_pool_t);
    p->max = nc_min(size, 4096);

    p->current = &p->block;
    p->large = NULL;
    p->cleanup = NULL;

    return p;
}


void
nc_destroy_pool(nc_pool_t *pool)
{
    nc_pool_block_t    *b, *n;
    nc_pool_large_t    *l;
    nc_pool_cleanup_t  *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = l->next) {
        free(l->alloc);
    }

    for (b = pool->block.next; b; b = n) {
        n = b->next;
        free(b);
    }

    free(pool);
}


void
nc_reset_pool(nc_pool_t *pool)
{
    nc_pool_block_t    *b;
    nc_pool_large_t    *l;
    nc_pool_cleanup_t  *c;

    /*
     * the cleanup records live in the memory being reclaimed, and what
     * they free belongs to the requests that are over: run them now, or
     * the next request overwrites them and destroying the pool later
     * calls garbage (a keep-alive connection's pool is reset per request)
     */
    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    pool->cleanup = NULL;

    for (l = pool->large; l; l = l->next) {
        free(l->alloc);
    }

    pool->block.last = (u_char *) pool + sizeof(nc_pool_t);
    pool->block.failed = 0;

    for (b = pool->block.next; b; b = b->next) {
        b->last = (u_char *) b + sizeof(nc_pool_block_t);
        b->failed = 0;
    }

    pool->current = &pool->block;
    pool->large = NULL;
}


void *
nc_palloc(nc_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return nc_palloc_small(pool, size, 1);
    }

    return nc_palloc_large(pool, size);
}


void *
nc_pnalloc(nc_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return nc_palloc_small(pool, size, 0);
    }

    return nc_palloc_large(pool, size);
}


void *
nc_pcalloc(nc_pool_t *pool, size_t size)
{
    void  *p;

    p = nc_palloc(pool, size);
    if (p) {
        nc_memzero(p, size);
    }

    return p;
}


static void *
nc_palloc_small(nc_pool_t *pool, size_t size, nc_uint_t align)
{
    u_char           *m;
    nc_pool_block_t  *b;

    for (b = pool->current; b; b = b->next) {
        m = b->last;

        if (align) {
            m = nc_align_ptr(m, NC_ALIGNMENT);
        }

        if ((size_t) (b->end - m) >= size) {
            b->last = m + size;
            return m;
        }
    }

    return nc_palloc_block(pool, size);
}


static void *
nc_palloc_block(nc_pool_t *pool, size_t size)
{
    u_char           *m;
    size_t            psize;
    nc_pool_block_t  *b, *nb;

    psize = (size_t) (pool->block.end - (u_char *) pool);

    m = nc_alloc(psize);
    if (m == NULL) {
        return NULL;
    }

    nb = (nc_pool_block_t *) m;
    nb->end = m + psize;
    nb->next = NULL;
    nb->failed = 0;

    m += sizeof(nc_pool_block_t);
    m = nc_align_ptr(m, NC_ALIGNMENT);
    nb->last = m + size;

    /* a block that failed often is skipped by later small allocations */
    for (b = pool->current; b->next; b = b->next) {
        if (b->failed++ > 4) {
            pool->current = b->next;
        }
    }

    b->next = nb;

    return m;
}


static void *
nc_palloc_large(nc_pool_t *pool, size_t size)
{
    void             *p;
    nc_pool_large_t  *large;

    p = nc_alloc(size);
    if (p == NULL) {
        return NULL;
    }

    large = nc_palloc_small(pool, sizeof(nc_pool_large_t), 1);
    if (large == NULL) {
        free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


nc_int_t
nc_pfree(nc_pool_t *pool, void *p)
{
    nc_pool_large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            free(l->alloc);
            l->alloc = NULL;
            return NC_OK;
        }
    }

    return NC_DECLINED;
}


nc_pool_cleanup_t *
nc_pool_cleanup_add(nc_pool_t *p, size_t size)
{
    nc_pool_cleanup_t  *c;

    c = nc_palloc(p, sizeof(nc_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = nc_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;

    p->cleanup = c;

    return c;
}
