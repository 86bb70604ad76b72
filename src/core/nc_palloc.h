
/*
 * nacre: memory pools. Memory belongs to a lifetime (cycle, connection,
 * request); it is freed all at once when the pool is destroyed or reset.
 */

#ifndef _NC_PALLOC_H_INCLUDED_
#define _NC_PALLOC_H_INCLUDED_


#include <nc_config.h>


#define NC_POOL_DEFAULT_SIZE   (16 * 1024)
#define NC_POOL_MIN_SIZE       256


typedef void (*nc_pool_cleanup_pt)(void *data);

typedef struct nc_pool_cleanup_s  nc_pool_cleanup_t;

struct nc_pool_cleanup_s {
    nc_pool_cleanup_pt   handler;
    void                *data;
    nc_pool_cleanup_t   *next;
};


typedef struct nc_pool_large_s  nc_pool_large_t;

struct nc_pool_large_s {
    nc_pool_large_t     *next;
    void                *alloc;
};


typedef struct nc_pool_block_s  nc_pool_block_t;

struct nc_pool_block_s {
    u_char              *last;
    u_char              *end;
    nc_pool_block_t     *next;
    nc_uint_t            failed;
};


struct nc_pool_s {
    nc_pool_block_t      block;     /* first block; data follows the pool */
    size_t               max;       /* larger requests go to the large list */
    nc_pool_block_t     *current;
    nc_pool_large_t     *large;
    nc_pool_cleanup_t   *cleanup;
};


void *nc_alloc(size_t size);
void *nc_calloc(size_t size);

nc_pool_t *nc_create_pool(size_t size);
void nc_destroy_pool(nc_pool_t *pool);
void nc_reset_pool(nc_pool_t *pool);

void *nc_palloc(nc_pool_t *pool, size_t size);
void *nc_pnalloc(nc_pool_t *pool, size_t size);
void *nc_pcalloc(nc_pool_t *pool, size_t size);
nc_int_t nc_pfree(nc_pool_t *pool, void *p);

nc_pool_cleanup_t *nc_pool_cleanup_add(nc_pool_t *p, size_t size);


#endif /* _NC_PALLOC_H_INCLUDED_ */
