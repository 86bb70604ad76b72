
/*
 * nacre: zip archives (nc_zip.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_zip.h>

#include <zlib.h>


#define NC_ZIP_LOCAL        0x04034b50
#define NC_ZIP_CENTRAL      0x02014b50
#define NC_ZIP_END          0x06054b50

#define NC_ZIP_LOCAL_SIZE   30
#define NC_ZIP_CENTRAL_SIZE 46
#define NC_ZIP_END_SIZE     22

#define NC_ZIP_UTF8         0x0800        /* general purpose flag 11 */
#define NC_ZIP_STORED       0
#define NC_ZIP_DEFLATED     8

/* 1980-01-01 00:00, DOS format: archives do not depend on the clock */
#define NC_ZIP_TIME         0
#define NC_ZIP_DATE         ((0 << 9) | (1 << 5) | 1)


static void nc_zip_le16(u_char *p, uint32_t v);
static uint32_t nc_zip_get16(const u_char *p);


void
nc_zip_writer_init(nc_zip_writer_t *w, nc_pool_t *pool)
{
    nc_memzero(w, sizeof(nc_zip_writer_t));
    w->pool = pool;
    w->rc = NC_OK;
}


void
nc_zip_add(nc_zip_writer_t *w, const u_char *name, size_t name_len,
    const u_char *data, size_t len)
{
    u_char     *packed, h[NC_ZIP_CENTRAL_SIZE];
    size_t      plen, offset;
    uint32_t    crc, method;
    z_stream    zs;

    if (w->rc != NC_OK) {
        return;
    }

    if (name_len > 0xffff || len > 0x7fffffff || w->n >= 0xffff
        || nc_buf_size(&w->out) > 0x7fffffff)
    {
        w->rc = NC_ERROR;
        return;
    }

    crc = (uint32_t) crc32(crc32(0L, Z_NULL, 0), data, (uInt) len);

    /* deflated when that is smaller, else stored */
    plen = deflateBound(NULL, (uLong) len) + 16;
    packed = nc_pnalloc(w->pool, plen);

    if (packed == NULL) {
        w->rc = NC_ERROR;
        return;
    }

    nc_memzero(&zs, sizeof(z_stream));

    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
    {
        w->rc = NC_ERROR;
        return;
    }

    zs.next_in = (u_char *) data;
    zs.avail_in = (uInt) len;
    zs.next_out = packed;
    zs.avail_out = (uInt) plen;

    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        (void) deflateEnd(&zs);
        w->rc = NC_ERROR;
        return;
    }

    plen = zs.total_out;
    (void) deflateEnd(&zs);

    method = NC_ZIP_DEFLATED;

    if (plen >= len) {
        packed = (u_char *) data;
        plen = len;
        method = NC_ZIP_STORED;
    }

    offset = nc_buf_size(&w->out);

    /* the local header; the central one repeats it with more */
    nc_le32_put(h, NC_ZIP_LOCAL);
    nc_zip_le16(h + 4, 20);
    nc_zip_le16(h + 6, NC_ZIP_UTF8);
    nc_zip_le16(h + 8, method);
    nc_zip_le16(h + 10, NC_ZIP_TIME);
    nc_zip_le16(h + 12, NC_ZIP_DATE);
    nc_le32_put(h + 14, crc);
    nc_le32_put(h + 18, (uint32_t) plen);
    nc_le32_put(h + 22, (uint32_t) len);
    nc_zip_le16(h + 26, (uint32_t) name_len);
    nc_zip_le16(h + 28, 0);

    if (nc_buf_append(w->pool, &w->out, h, NC_ZIP_LOCAL_SIZE) != NC_OK
        || nc_buf_append(w->pool, &w->out, name, name_len) != NC_OK
        || (plen && nc_buf_append(w->pool, &w->out, packed, plen) != NC_OK))
    {
        w->rc = NC_ERROR;
        return;
    }

    nc_le32_put(h, NC_ZIP_CENTRAL);
    nc_zip_le16(h + 4, 20);
    nc_zip_le16(h + 6, 20);
    nc_zip_le16(h + 8, NC_ZIP_UTF8);
    nc_zip_le16(h + 10, method);
    nc_zip_le16(h + 12, NC_ZIP_TIME);
    nc_zip_le16(h + 14, NC_ZIP_DATE);
    nc_le32_put(h + 16, crc);
    nc_le32_put(h + 20, (uint32_t) plen);
    nc_le32_put(h + 24, (uint32_t) len);
    nc_zip_le16(h + 28, (uint32_t) name_len);
    nc_zip_le16(h + 30, 0);
    nc_zip_le16(h + 32, 0);
    nc_zip_le16(h + 34, 0);
    nc_zip_le16(h + 36, 0);
    nc_le32_put(h + 38, 0);
    nc_le32_put(h + 42, (uint32_t) offset);

    if (nc_buf_append(w->pool, &w->central, h, NC_ZIP_CENTRAL_SIZE) != NC_OK
        || nc_buf_append(w->pool, &w->central, name, name_len) != NC_OK)
    {
        w->rc = NC_ERROR;
        return;
    }

    w->n++;
}


nc_int_t
nc_zip_finish(nc_zip_writer_t *w)
{
    u_char  h[NC_ZIP_END_SIZE];
    size_t  offset, size;

    if (w->rc != NC_OK) {
        return NC_ERROR;
    }

    offset = nc_buf_size(&w->out);
    size = nc_buf_size(&w->central);

    nc_le32_put(h, NC_ZIP_END);
    nc_zip_le16(h + 4, 0);
    nc_zip_le16(h + 6, 0);
    nc_zip_le16(h + 8, (uint32_t) w->n);
    nc_zip_le16(h + 10, (uint32_t) w->n);
    nc_le32_put(h + 12, (uint32_t) size);
    nc_le32_put(h + 16, (uint32_t) offset);
    nc_zip_le16(h + 20, 0);

    if ((size && nc_buf_append(w->pool, &w->out, w->central.pos, size)
                 != NC_OK)
        || nc_buf_append(w->pool, &w->out, h, NC_ZIP_END_SIZE) != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


nc_int_t
nc_zip_read(nc_pool_t *pool, const u_char *p, size_t len,
    nc_uint_t max_entries, size_t max_entry, size_t max_total,
    nc_array_t **entries, const char **err)
{
    size_t           i, n, cd, cd_size, at, data, total, nlen, clen, ulen;
    uint32_t         method, flags, crc;
    const u_char    *e, *c;
    nc_zip_entry_t  *entry;
    z_stream         zs;

    *err = "not a zip archive";

    if (len < NC_ZIP_END_SIZE) {
        return NC_ERROR;
    }

    /* the end record, behind at most a 64 KiB comment */
    e = NULL;

    for (i = len - NC_ZIP_END_SIZE; ; i--) {
        if (nc_le32_get(p + i) == NC_ZIP_END) {
            e = p + i;
            break;
        }

        if (i == 0 || len - i > NC_ZIP_END_SIZE + 0xffff) {
            break;
        }
    }

    if (e == NULL) {
        return NC_ERROR;
    }

    n = nc_zip_get16(e + 10);
    cd_size = nc_le32_get(e + 12);
    cd = nc_le32_get(e + 16);

    if (nc_zip_get16(e + 4) != 0 || nc_zip_get16(e + 6) != 0
        || cd > (size_t) (e - p) || cd_size > (size_t) (e - p) - cd)
    {
        *err = "a multi-disk or damaged archive";
        return NC_ERROR;
    }

    if (n > max_entries) {
        *err = "too many entries";
        return NC_ERROR;
    }

    *entries = nc_array_create(pool, n ? n : 1, sizeof(nc_zip_entry_t));
    if (*entries == NULL) {
        *err = "out of memory";
        return NC_ERROR;
    }

    total = 0;
    at = cd;

    for (i = 0; i < n; i++) {
        *err = "a damaged central directory";

        if (cd + cd_size - at < NC_ZIP_CENTRAL_SIZE) {
            return NC_ERROR;
        }

        c = p + at;

        if (nc_le32_get(c) != NC_ZIP_CENTRAL) {
            return NC_ERROR;
        }

        flags = nc_zip_get16(c + 8);
        method = nc_zip_get16(c + 10);
        crc = nc_le32_get(c + 16);
        clen = nc_le32_get(c + 20);
        ulen = nc_le32_get(c + 24);
        nlen = nc_zip_get16(c + 28);
        data = nc_le32_get(c + 42);

        if (cd + cd_size - at - NC_ZIP_CENTRAL_SIZE
            < nlen + nc_zip_get16(c + 30) + nc_zip_get16(c + 32))
        {
            return NC_ERROR;
        }

        at += NC_ZIP_CENTRAL_SIZE + nlen + nc_zip_get16(c + 30)
              + nc_zip_get16(c + 32);

        if (flags & 1) {
            *err = "an encrypted entry";
            return NC_ERROR;
        }

        if (method != NC_ZIP_STORED && method != NC_ZIP_DEFLATED) {
            *err = "an entry neither stored nor deflated";
            return NC_ERROR;
        }

        if (ulen > max_entry || total + ulen > max_total) {
            *err = "an entry too large";
            return NC_ERROR;
        }

        /* the local header: its own name and extra lengths */
        *err = "a damaged local header";

        if (data > cd || cd - data < NC_ZIP_LOCAL_SIZE
            || nc_le32_get(p + data) != NC_ZIP_LOCAL)
        {
            return NC_ERROR;
        }

        data += NC_ZIP_LOCAL_SIZE + nc_zip_get16(p + data + 26)
                + nc_zip_get16(p + data + 28);

        if (data > cd || cd - data < clen) {
            return NC_ERROR;
        }

        /* directories are left out */
        if (nlen && c[NC_ZIP_CENTRAL_SIZE + nlen - 1] == '/') {
            continue;
        }

        entry = nc_array_push(*entries);
        if (entry == NULL) {
            *err = "out of memory";
            return NC_ERROR;
        }

        entry->name.data = (u_char *) c + NC_ZIP_CENTRAL_SIZE;
        entry->name.len = nlen;
        entry->len = ulen;
        entry->data = nc_pnalloc(pool, ulen + 1);

        if (entry->data == NULL) {
            *err = "out of memory";
            return NC_ERROR;
        }

        if (method == NC_ZIP_STORED) {
            if (clen != ulen) {
                *err = "a stored entry with two sizes";
                return NC_ERROR;
            }

            if (ulen) {
                nc_memcpy(entry->data, p + data, ulen);
            }

        } else {
            nc_memzero(&zs, sizeof(z_stream));

            if (inflateInit2(&zs, -15) != Z_OK) {
                *err = "out of memory";
                return NC_ERROR;
            }

            zs.next_in = (u_char *) p + data;
            zs.avail_in = (uInt) clen;
            zs.next_out = entry->data;
            zs.avail_out = (uInt) ulen + 1;

            /* more than it said it would be is damage too */
            if (inflate(&zs, Z_FINISH) != Z_STREAM_END
                || zs.total_out != ulen)
            {
                (void) inflateEnd(&zs);
                *err = "a damaged deflated entry";
                return NC_ERROR;
            }

            (void) inflateEnd(&zs);
        }

        if ((uint32_t) crc32(crc32(0L, Z_NULL, 0), entry->data, (uInt) ulen)
            != crc)
        {
            *err = "an entry whose CRC does not match";
            return NC_ERROR;
        }

        total += ulen;
    }

    *err = NULL;

    return NC_OK;
}


static void
nc_zip_le16(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
}


static uint32_t
nc_zip_get16(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8;
}
