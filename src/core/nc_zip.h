
/*
 * nacre: zip archives, written and read in memory (Nacos' config export
 * and import).  Plain PKZIP: deflate (zlib) or stored entries, UTF-8
 * names, no ZIP64, no encryption, no spanning.  Reading is bounded: entry
 * count, each entry's size and the total are the caller's limits, and
 * every offset and size in the archive is checked before use; a CRC
 * mismatch is an error.
 */

#ifndef _NC_ZIP_H_INCLUDED_
#define _NC_ZIP_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


typedef struct {
    nc_pool_t              *pool;
    nc_buf_t                out;          /* local headers and data */
    nc_buf_t                central;      /* the central directory */
    nc_uint_t               n;
    nc_int_t                rc;           /* NC_OK until a failure */
} nc_zip_writer_t;


typedef struct {
    nc_str_t                name;
    u_char                 *data;         /* in the pool */
    size_t                  len;
} nc_zip_entry_t;


void nc_zip_writer_init(nc_zip_writer_t *w, nc_pool_t *pool);
void nc_zip_add(nc_zip_writer_t *w, const u_char *name, size_t name_len,
    const u_char *data, size_t len);
/* the archive in w->out; NC_OK or NC_ERROR */
nc_int_t nc_zip_finish(nc_zip_writer_t *w);

/*
 * The entries of the archive in p (directories left out) into an array
 * of nc_zip_entry_t made in pool.  NC_OK, or NC_ERROR with *err saying
 * what is wrong.
 */
nc_int_t nc_zip_read(nc_pool_t *pool, const u_char *p, size_t len,
    nc_uint_t max_entries, size_t max_entry, size_t max_total,
    nc_array_t **entries, const char **err);


#endif /* _NC_ZIP_H_INCLUDED_ */
