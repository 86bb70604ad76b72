
/*
 * nacre: a growable array of fixed-size elements in a pool.
 */

#ifndef _NC_ARRAY_H_INCLUDED_
#define _NC_ARRAY_H_INCLUDED_


#include <nc_config.h>


typedef struct {
    void        *elts;
    nc_uint_t    nelts;
    size_t       size;
    nc_uint_t    nalloc;
    nc_pool_t   *pool;
} nc_array_t;


nc_array_t *nc_array_create(nc_pool_t *p, nc_uint_t n, size_t size);
nc_int_t nc_array_init(nc_array_t *array, nc_pool_t *pool, nc_uint_t n,
    size_t size);
void *nc_array_push(nc_array_t *a);


#endif /* _NC_ARRAY_H_INCLUDED_ */
