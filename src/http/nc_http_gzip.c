
/*
 * nacre: gzip responses. Bodies are small and in memory (API answers,
 * console files), so they are compressed in one deflate() call into the
 * request's pool.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>

#include <zlib.h>


static const char  *nc_http_gzip_types[] = {
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-javascript",
    "image/svg+xml",
    NULL
};


nc_uint_t
nc_http_gzip_type(const nc_str_t *content_type)
{
    size_t        len;
    const char  **t;

    for (t = nc_http_gzip_types; *t; t++) {
        len = strlen(*t);

        if (content_type->len >= len
            && nc_strncasecmp(content_type->data, (u_char *) *t, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


nc_int_t
nc_http_gzip_body(nc_http_request_t *r)
{
    int             rc;
    size_t          size, bound;
    u_char         *out;
    z_stream        zs;
    nc_conf_api_t  *conf;

    conf = &nc_http_cycle->conf->api;

    size = nc_buf_size(&r->out);

    if (r->file.fd != NC_INVALID_FILE || r->header_only
        || size < conf->gzip_min_length
        || r->headers_out.status != NC_HTTP_OK
        || !nc_http_gzip_type(&r->headers_out.content_type))
    {
        return NC_DECLINED;
    }

    nc_memzero(&zs, sizeof(z_stream));

    /* windowBits 16 + 15: a gzip wrapper, not zlib's */
    rc = deflateInit2(&zs, (int) conf->gzip_comp_level, Z_DEFLATED, 16 + 15,
                      8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        nc_log_error(NC_LOG_ALERT, r->connection->log, 0,
                     "deflateInit2() failed: %d", rc);
        return NC_ERROR;
    }

    bound = deflateBound(&zs, size);

    out = nc_pnalloc(r->pool, bound);
    if (out == NULL) {
        (void) deflateEnd(&zs);
        return NC_ERROR;
    }

    zs.next_in = r->out.pos;
    zs.avail_in = size;
    zs.next_out = out;
    zs.avail_out = bound;

    rc = deflate(&zs, Z_FINISH);

    (void) deflateEnd(&zs);

    if (rc != Z_STREAM_END) {
        nc_log_error(NC_LOG_ALERT, r->connection->log, 0,
                     "deflate() failed: %d", rc);
        return NC_ERROR;
    }

    r->out.start = out;
    r->out.pos = out;
    r->out.last = out + zs.total_out;
    r->out.end = r->out.last;

    r->headers_out.gzipped = 1;
    r->headers_out.content_length_n = -1;

    return NC_OK;
}
