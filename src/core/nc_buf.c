
/*
 * nacre: byte buffers.
 */

#include <nc_config.h>
#include <nc_core.h>


nc_buf_t *
nc_create_temp_buf(nc_pool_t *pool, size_t size)
{
    nc_buf_t  *b;

    b = nc_palloc(pool, sizeof(nc_buf_t));
    if (b == NULL) {
        return NULL;
    }

    b->start = nc_pnalloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;

    return b;
}


nc_int_t
nc_buf_reserve(nc_pool_t *pool, nc_buf_t *b, size_t len)
{
    u_char  *p;
    size_t   size, used, want;

    if ((size_t) (b->end - b->last) >= len) {
        return NC_OK;
    }

    used = b->last - b->pos;
    want = used + len;
    size = (b->end - b->start) ? (size_t) (b->end - b->start) * 2 : 256;

    while (size < want) {
        size *= 2;
    }

    p = nc_pnalloc(pool, size);
    if (p == NULL) {
        return NC_ERROR;
    }

    if (used) {
        nc_memcpy(p, b->pos, used);
    }

    /* old storage, if large, goes back to the heap at once */
    if (b->start) {
        (void) nc_pfree(pool, b->start);
    }

    b->start = p;
    b->pos = p;
    b->last = p + used;
    b->end = p + size;

    return NC_OK;
}


nc_int_t
nc_buf_append(nc_pool_t *pool, nc_buf_t *b, const void *data, size_t len)
{
    if (nc_buf_reserve(pool, b, len) != NC_OK) {
        return NC_ERROR;
    }

    b->last = nc_cpymem(b->last, data, len);

    return NC_OK;
}
