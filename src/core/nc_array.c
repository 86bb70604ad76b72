
/*
 * nacre: a growable array of fixed-size elements in a pool.
 */

#include <nc_config.h>
#include <nc_core.h>


nc_array_t *
nc_array_create(nc_pool_t *p, nc_uint_t n, size_t size)
{
    nc_array_t  *a;

    a = nc_palloc(p, sizeof(nc_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (nc_array_init(a, p, n, size) != NC_OK) {
        return NULL;
    }

    return a;
}


nc_int_t
nc_array_init(nc_array_t *array, nc_pool_t *pool, nc_uint_t n, size_t size)
{
    array->nelts = 0;
    array->size = size;
    array->nalloc = n;
    array->pool = pool;

    array->elts = nc_palloc(pool, n * size);
    if (array->elts == NULL) {
        return NC_ERROR;
    }

    return NC_OK;
}


void *
nc_array_push(nc_array_t *a)
{
    void    *elt, *new;
    size_t   size;

    if (a->nelts == a->nalloc) {

        /* the old storage stays in the pool until the pool dies */
        size = a->size * a->nalloc;

        new = nc_palloc(a->pool, 2 * size);
        if (new == NULL) {
            return NULL;
        }

        nc_memcpy(new, a->elts, size);
        a->elts = new;
        a->nalloc *= 2;
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts++;

    return elt;
}
