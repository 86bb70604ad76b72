
/*
 * nacre: static files under /nacos/ (the console), served from api.root.
 *
 * The path is already decoded and normalized (no "..", no "//"); files
 * are opened with openat2(RESOLVE_BENEATH) relative to the root, so a
 * symbolic link cannot lead outside it either.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>

#include <linux/openat2.h>
#include <sys/syscall.h>


#define NC_HTTP_STATIC_PREFIX      "/nacos"
#define NC_HTTP_STATIC_GZIP_MAX    (1024 * 1024)


typedef struct {
    const char   *ext;
    const char   *type;
} nc_http_mime_t;


static nc_int_t nc_http_static_open(nc_http_request_t *r, nc_str_t *rel,
    nc_fd_t *fdp);
static const char *nc_http_static_type(const nc_str_t *path);
static nc_uint_t nc_http_static_not_modified(nc_http_request_t *r);


/* the root stays open in each worker: one openat2() per request */
static nc_fd_t  nc_http_static_root = NC_INVALID_FILE;


static nc_http_mime_t  nc_http_mime_types[] = {
    { "html",  "text/html; charset=utf-8" },
    { "htm",   "text/html; charset=utf-8" },
    { "css",   "text/css; charset=utf-8" },
    { "js",    "application/javascript; charset=utf-8" },
    { "mjs",   "application/javascript; charset=utf-8" },
    { "json",  "application/json" },
    { "map",   "application/json" },
    { "txt",   "text/plain; charset=utf-8" },
    { "xml",   "application/xml" },
    { "svg",   "image/svg+xml" },
    { "png",   "image/png" },
    { "jpg",   "image/jpeg" },
    { "jpeg",  "image/jpeg" },
    { "gif",   "image/gif" },
    { "webp",  "image/webp" },
    { "ico",   "image/x-icon" },
    { "woff",  "font/woff" },
    { "woff2", "font/woff2" },
    { "ttf",   "font/ttf" },
    { "wasm",  "application/wasm" },
    { NULL, NULL }
};


nc_int_t
nc_http_static_redirect(nc_http_request_t *r)
{
    nc_str_set(&r->headers_out.location, "/nacos/");

    return nc_http_set_response(r, NC_HTTP_MOVED_PERMANENTLY,
                                "text/plain; charset=utf-8",
                                (u_char *) "301 Moved Permanently\n",
                                sizeof("301 Moved Permanently\n") - 1);
}


nc_int_t
nc_http_static_handler(nc_http_request_t *r)
{
    u_char       *p;
    ssize_t       n;
    nc_fd_t       fd;
    nc_int_t      rc;
    nc_str_t      rel;
    struct stat   st;

    rel.data = r->path.data + sizeof(NC_HTTP_STATIC_PREFIX);
    rel.len = r->path.len - sizeof(NC_HTTP_STATIC_PREFIX);

    rc = nc_http_static_open(r, &rel, &fd);
    if (rc != NC_OK) {
        return rc == NC_ERROR ? NC_HTTP_INTERNAL_SERVER_ERROR : rc;
    }

    if (fstat(fd, &st) == -1) {
        nc_log_error(NC_LOG_CRIT, r->connection->log, errno,
                     "fstat() \"%.*s\" failed", nc_str_fmt(&r->path));
        (void) close(fd);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (S_ISDIR(st.st_mode)) {
        (void) close(fd);

        /* "/nacos/dir" -> "/nacos/dir/", where index.html is looked up */
        p = nc_pnalloc(r->pool, r->path.len + 1);
        if (p == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memcpy(p, r->path.data, r->path.len);
        p[r->path.len] = '/';

        r->headers_out.location.data = p;
        r->headers_out.location.len = r->path.len + 1;

        return nc_http_set_response(r, NC_HTTP_MOVED_PERMANENTLY,
                                    "text/plain; charset=utf-8",
                                    (u_char *) "301 Moved Permanently\n",
                                    sizeof("301 Moved Permanently\n") - 1);
    }

    if (!S_ISREG(st.st_mode)) {
        (void) close(fd);
        return NC_HTTP_NOT_FOUND;
    }

    r->headers_out.status = NC_HTTP_OK;
    r->headers_out.last_modified = st.st_mtime;

    r->headers_out.etag.data = nc_pnalloc(r->pool, 2 * NC_INT_T_LEN + 4);
    if (r->headers_out.etag.data == NULL) {
        (void) close(fd);
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = nc_slprintf(r->headers_out.etag.data,
                    r->headers_out.etag.data + 2 * NC_INT_T_LEN + 4,
                    "\"%jx-%jx\"", (uintmax_t) st.st_mtime,
                    (uintmax_t) st.st_size);
    r->headers_out.etag.len = p - r->headers_out.etag.data;

    r->headers_out.content_type.data =
                          (u_char *) nc_http_static_type(&rel);
    r->headers_out.content_type.len =
                          strlen((char *) r->headers_out.content_type.data);

    if (nc_http_static_not_modified(r)) {
        (void) close(fd);
        r->headers_out.status = NC_HTTP_NOT_MODIFIED;
        return NC_OK;
    }

    r->headers_out.gzip = nc_http_gzip_type(&r->headers_out.content_type);

    if (r->headers_out.gzip && r->headers_in.accept_gzip && !r->header_only
        && st.st_size <= NC_HTTP_STATIC_GZIP_MAX
        && (size_t) st.st_size >= nc_http_cycle->conf->api.gzip_min_length
        && nc_http_cycle->conf->api.gzip)
    {
        /* small enough to compress in memory */
        p = nc_pnalloc(r->pool, st.st_size);
        if (p == NULL) {
            (void) close(fd);
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = pread(fd, p, st.st_size, 0);
        (void) close(fd);

        if (n != st.st_size) {
            nc_log_error(NC_LOG_CRIT, r->connection->log, errno,
                         "pread() \"%.*s\" failed", nc_str_fmt(&r->path));
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->out.start = p;
        r->out.pos = p;
        r->out.last = p + n;
        r->out.end = r->out.last;

        return NC_OK;
    }

    r->file.fd = fd;
    r->file.offset = 0;
    r->file.size = st.st_size;

    return NC_OK;
}


/* NC_OK with the file in *fdp, NC_HTTP_NOT_FOUND / FORBIDDEN, or NC_ERROR */
static nc_int_t
nc_http_static_open(nc_http_request_t *r, nc_str_t *rel, nc_fd_t *fdp)
{
    nc_fd_t           fd;
    size_t            len;
    u_char           *name, *p;
    nc_str_t         *root;
    struct open_how   how;

    root = &nc_http_cycle->conf->api.root;

    len = rel->len;

    name = nc_pnalloc(r->pool, len + sizeof("index.html") + 1);
    if (name == NULL) {
        return NC_ERROR;
    }

    p = nc_cpymem(name, rel->data, len);

    if (len == 0 || rel->data[len - 1] == '/') {
        p = nc_cpymem(p, "index.html", sizeof("index.html") - 1);
    }

    *p = '\0';

    if (name[0] == '\0') {
        return NC_HTTP_NOT_FOUND;
    }

    if (nc_http_static_root == NC_INVALID_FILE) {
        nc_http_static_root = open((char *) root->data,
                                   O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (nc_http_static_root == NC_INVALID_FILE) {
            nc_log_error(NC_LOG_ERR, r->connection->log, errno,
                         "open() root \"%s\" failed", root->data);
            return NC_HTTP_NOT_FOUND;
        }
    }

    nc_memzero(&how, sizeof(struct open_how));
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

    fd = (nc_fd_t) syscall(SYS_openat2, nc_http_static_root, (char *) name,
                           &how, sizeof(struct open_how));

    if (fd >= 0) {
        *fdp = fd;
        return NC_OK;
    }

    switch (errno) {

    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
        return NC_HTTP_NOT_FOUND;

    case EXDEV:
        /* a link leading out of the root */
        nc_log_error(NC_LOG_ERR, r->connection->log, 0,
                     "\"%s\" resolves outside the root, client: %.*s",
                     name, nc_str_fmt(&r->connection->addr_text));
        return NC_HTTP_NOT_FOUND;

    case EACCES:
    case EPERM:
        return NC_HTTP_FORBIDDEN;

    default:
        nc_log_error(NC_LOG_CRIT, r->connection->log, errno,
                     "openat2() \"%s\" failed", name);
        return NC_ERROR;
    }
}


static const char *
nc_http_static_type(const nc_str_t *path)
{
    size_t           n;
    u_char          *p, *dot;
    nc_http_mime_t  *m;

    dot = NULL;

    for (p = path->data + path->len; p > path->data; p--) {
        if (p[-1] == '/') {
            break;
        }

        if (p[-1] == '.') {
            dot = p;
            break;
        }
    }

    if (path->len == 0 || path->data[path->len - 1] == '/') {
        return "text/html; charset=utf-8";
    }

    if (dot == NULL) {
        return "application/octet-stream";
    }

    n = path->data + path->len - dot;

    for (m = nc_http_mime_types; m->ext; m++) {
        if (strlen(m->ext) == n
            && nc_strncasecmp(dot, (u_char *) m->ext, n) == 0)
        {
            return m->type;
        }
    }

    return "application/octet-stream";
}


static nc_uint_t
nc_http_static_not_modified(nc_http_request_t *r)
{
    time_t                  since;
    u_char                 *p, *last, *start;
    nc_str_t               *inm;
    nc_http_headers_out_t  *out;

    out = &r->headers_out;
    inm = &r->headers_in.if_none_match;

    if (inm->len) {
        p = inm->data;
        last = p + inm->len;

        /* a list of entity tags, weak ones compared weakly */
        while (p < last) {
            while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
                p++;
            }

            if (p < last && *p == '*') {
                return 1;
            }

            if (last - p > 2 && p[0] == 'W' && p[1] == '/') {
                p += 2;
            }

            start = p;

            while (p < last && *p != ',') {
                p++;
            }

            while (p > start && (p[-1] == ' ' || p[-1] == '\t')) {
                p--;
            }

            if ((size_t) (p - start) == out->etag.len
                && nc_memcmp(start, out->etag.data, out->etag.len) == 0)
            {
                return 1;
            }

            while (p < last && *p != ',') {
                p++;
            }
        }

        return 0;
    }

    if (r->headers_in.if_modified_since.len) {
        since = nc_parse_http_time(r->headers_in.if_modified_since.data,
                                   r->headers_in.if_modified_since.len);

        if (since != -1 && since >= out->last_modified) {
            return 1;
        }
    }

    return 0;
}
