
/*
 * nacre: byte buffers. [pos, last) holds unread data inside [start, end).
 */

#ifndef _NC_BUF_H_INCLUDED_
#define _NC_BUF_H_INCLUDED_


#include <nc_config.h>


struct nc_buf_s {
    u_char      *pos;
    u_char      *last;
    u_char      *start;
    u_char      *end;
};


#define nc_buf_size(b)      (size_t) ((b)->last - (b)->pos)
#define nc_buf_free(b)      (size_t) ((b)->end - (b)->last)
#define nc_buf_reset(b)     (b)->pos = (b)->last = (b)->start

nc_buf_t *nc_create_temp_buf(nc_pool_t *pool, size_t size);

/* append bytes, growing by doubling in the pool: NC_ERROR on no memory */
nc_int_t nc_buf_append(nc_pool_t *pool, nc_buf_t *b, const void *data,
    size_t len);
nc_int_t nc_buf_reserve(nc_pool_t *pool, nc_buf_t *b, size_t len);


#endif /* _NC_BUF_H_INCLUDED_ */
