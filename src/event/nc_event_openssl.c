
/*
 * nacre: TLS over OpenSSL. The context is built in the master when a
 * configuration is loaded (so a bad certificate fails the reload, not a
 * worker) and inherited by the workers through fork().
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>


#define NC_SSL_BUFSIZE  16384


static ssize_t nc_ssl_recv(nc_connection_t *c, u_char *buf, size_t size);
static ssize_t nc_ssl_send(nc_connection_t *c, u_char *buf, size_t size);
static ssize_t nc_ssl_writev(nc_connection_t *c, struct iovec *iov, int n);
static ssize_t nc_ssl_sendfile(nc_connection_t *c, nc_fd_t fd, off_t *offset,
    size_t size);
static void nc_ssl_error(nc_uint_t level, nc_log_t *log, nc_err_t err,
    const char *what);
static SSL_CTX *nc_ssl_create_one(nc_conf_tls_t *tls, nc_log_t *log);
static int nc_ssl_servername(SSL *ssl, int *alert, void *arg);


/*
 * Several certificates: one SSL_CTX each, the first taking the handshake;
 * the name the client asks (SNI) moves the connection to the first whose
 * certificate holds that name (X509_check_host: RFC 6125 wildcards too).
 */
typedef struct {
    nc_uint_t   n;
    SSL_CTX    *ctx[];
} nc_ssl_names_t;


static int  nc_ssl_names_index = -1;


void *
nc_ssl_create_ctx(nc_conf_tls_t *tls, nc_uint_t n, nc_log_t *log)
{
    nc_uint_t        i;
    nc_ssl_names_t  *names;

    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) == 0) {
        nc_ssl_error(NC_LOG_EMERG, log, 0, "OPENSSL_init_ssl() failed");
        return NULL;
    }

    if (n == 1) {
        return nc_ssl_create_one(tls, log);
    }

    if (nc_ssl_names_index == -1) {
        nc_ssl_names_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
                                                      NULL);
        if (nc_ssl_names_index == -1) {
            nc_ssl_error(NC_LOG_EMERG, log, 0,
                         "SSL_CTX_get_ex_new_index() failed");
            return NULL;
        }
    }

    names = calloc(1, sizeof(nc_ssl_names_t) + n * sizeof(SSL_CTX *));
    if (names == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        names->ctx[i] = nc_ssl_create_one(&tls[i], log);
        if (names->ctx[i] == NULL) {
            goto failed;
        }

        names->n++;
    }

    if (SSL_CTX_set_ex_data(names->ctx[0], nc_ssl_names_index, names) != 1) {
        nc_ssl_error(NC_LOG_EMERG, log, 0, "SSL_CTX_set_ex_data() failed");
        goto failed;
    }

    SSL_CTX_set_tlsext_servername_callback(names->ctx[0], nc_ssl_servername);
    SSL_CTX_set_tlsext_servername_arg(names->ctx[0], names);

    return names->ctx[0];

failed:

    for (i = 0; i < names->n; i++) {
        SSL_CTX_free(names->ctx[i]);
    }

    free(names);

    return NULL;
}


static int
nc_ssl_servername(SSL *ssl, int *alert, void *arg)
{
    X509            *cert;
    nc_uint_t        i;
    const char      *name;
    nc_ssl_names_t  *names;

    names = arg;
    name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    if (name == NULL) {
        return SSL_TLSEXT_ERR_NOACK;     /* the first certificate */
    }

    for (i = 0; i < names->n; i++) {
        cert = SSL_CTX_get0_certificate(names->ctx[i]);

        if (cert && X509_check_host(cert, name, 0, 0, NULL) == 1) {
            if (i && SSL_set_SSL_CTX(ssl, names->ctx[i]) == NULL) {
                return SSL_TLSEXT_ERR_ALERT_FATAL;
            }

            return SSL_TLSEXT_ERR_OK;
        }
    }

    return SSL_TLSEXT_ERR_OK;            /* none holds it: the first */
}


static SSL_CTX *
nc_ssl_create_one(nc_conf_tls_t *tls, nc_log_t *log)
{
    SSL_CTX  *ctx;

    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        nc_ssl_error(NC_LOG_EMERG, log, 0, "SSL_CTX_new() failed");
        return NULL;
    }

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        nc_ssl_error(NC_LOG_EMERG, log, 0,
                     "SSL_CTX_set_min_proto_version() failed");
        goto failed;
    }

    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE
                             | SSL_OP_NO_COMPRESSION);

    /* partial writes and moving buffers: our writer resumes from iovecs */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                          | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                          | SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_use_certificate_chain_file(ctx,
                                           (char *) tls->certificate.data)
        != 1)
    {
        nc_ssl_error(NC_LOG_EMERG, log, 0, "cannot load the certificate");
        nc_log_error(NC_LOG_EMERG, log, 0, "certificate: \"%s\"",
                     tls->certificate.data);
        goto failed;
    }

    if (SSL_CTX_use_PrivateKey_file(ctx, (char *) tls->certificate_key.data,
                                    SSL_FILETYPE_PEM)
        != 1)
    {
        nc_ssl_error(NC_LOG_EMERG, log, 0, "cannot load the certificate key");
        nc_log_error(NC_LOG_EMERG, log, 0, "certificate_key: \"%s\"",
                     tls->certificate_key.data);
        goto failed;
    }

    if (SSL_CTX_check_private_key(ctx) != 1) {
        nc_ssl_error(NC_LOG_EMERG, log, 0,
                     "the certificate key does not match the certificate");
        goto failed;
    }

    return ctx;

failed:

    SSL_CTX_free(ctx);
    return NULL;
}


void
nc_ssl_free_ctx(void *ctx)
{
    nc_uint_t        i;
    nc_ssl_names_t  *names;

    names = nc_ssl_names_index == -1
            ? NULL : SSL_CTX_get_ex_data(ctx, nc_ssl_names_index);

    if (names) {
        for (i = 1; i < names->n; i++) {
            SSL_CTX_free(names->ctx[i]);
        }

        free(names);
    }

    SSL_CTX_free(ctx);
}


const char *
nc_ssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}


nc_int_t
nc_ssl_create_connection(void *ctx, nc_connection_t *c)
{
    SSL  *ssl;

    ssl = SSL_new(ctx);
    if (ssl == NULL) {
        nc_ssl_error(NC_LOG_ALERT, c->log, 0, "SSL_new() failed");
        return NC_ERROR;
    }

    if (SSL_set_fd(ssl, c->fd) != 1) {
        nc_ssl_error(NC_LOG_ALERT, c->log, 0, "SSL_set_fd() failed");
        SSL_free(ssl);
        return NC_ERROR;
    }

    SSL_set_accept_state(ssl);

    c->ssl = ssl;
    c->recv = nc_ssl_recv;
    c->send = nc_ssl_send;
    c->writev = nc_ssl_writev;
    c->sendfile = nc_ssl_sendfile;

    return NC_OK;
}


nc_int_t
nc_ssl_handshake(nc_connection_t *c)
{
    int   n, sslerr;
    SSL  *ssl;

    ssl = c->ssl;

    if (SSL_is_init_finished(ssl)) {
        return NC_OK;
    }

    ERR_clear_error();

    n = SSL_do_handshake(ssl);

    if (n == 1) {
        return NC_OK;
    }

    sslerr = SSL_get_error(ssl, n);

    if (sslerr == SSL_ERROR_WANT_READ) {
        c->read->ready = 0;
        return NC_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        c->write->ready = 0;
        return NC_AGAIN;
    }

    /* a client speaking plain HTTP or an old protocol: its problem */
    nc_ssl_error(NC_LOG_INFO, c->log, errno, "SSL_do_handshake() failed");
    c->error = 1;

    return NC_ERROR;
}


static ssize_t
nc_ssl_recv(nc_connection_t *c, u_char *buf, size_t size)
{
    int   n, sslerr;

    ERR_clear_error();

    n = SSL_read(c->ssl, buf, (int) nc_min(size, INT_MAX));

    if (n > 0) {
        return n;
    }

    sslerr = SSL_get_error(c->ssl, n);

    switch (sslerr) {

    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        c->read->ready = 0;
        return NC_AGAIN;

    case SSL_ERROR_ZERO_RETURN:
        c->read->ready = 0;
        c->read->eof = 1;
        return 0;

    default:
        c->read->ready = 0;
        c->read->error = 1;
        c->error = 1;
        nc_ssl_error(NC_LOG_INFO, c->log, errno, "SSL_read() failed");
        return NC_ERROR;
    }
}


static ssize_t
nc_ssl_send(nc_connection_t *c, u_char *buf, size_t size)
{
    int   n, sslerr;

    if (size == 0) {
        return 0;
    }

    ERR_clear_error();

    n = SSL_write(c->ssl, buf, (int) nc_min(size, INT_MAX));

    if (n > 0) {
        return n;
    }

    sslerr = SSL_get_error(c->ssl, n);

    if (sslerr == SSL_ERROR_WANT_WRITE || sslerr == SSL_ERROR_WANT_READ) {
        c->write->ready = 0;
        return NC_AGAIN;
    }

    c->write->error = 1;
    c->error = 1;
    nc_ssl_error(NC_LOG_INFO, c->log, errno, "SSL_write() failed");

    return NC_ERROR;
}


static ssize_t
nc_ssl_writev(nc_connection_t *c, struct iovec *iov, int n)
{
    int      i;
    size_t   size, len;
    ssize_t  sent;
    u_char   buf[NC_SSL_BUFSIZE];

    /* coalesce small vectors into one TLS record */
    size = 0;

    for (i = 0; i < n && size < sizeof(buf); i++) {
        len = nc_min(iov[i].iov_len, sizeof(buf) - size);
        nc_memcpy(buf + size, iov[i].iov_base, len);
        size += len;
    }

    if (size == 0) {
        return 0;
    }

    sent = nc_ssl_send(c, buf, size);

    return sent;
}


static ssize_t
nc_ssl_sendfile(nc_connection_t *c, nc_fd_t fd, off_t *offset, size_t size)
{
    ssize_t  n, sent;
    u_char   buf[NC_SSL_BUFSIZE];

    n = pread(fd, buf, nc_min(size, sizeof(buf)), *offset);

    if (n == -1) {
        nc_log_error(NC_LOG_CRIT, c->log, errno, "pread() failed");
        return NC_ERROR;
    }

    if (n == 0) {
        nc_log_error(NC_LOG_CRIT, c->log, 0, "file was truncated while sent");
        return NC_ERROR;
    }

    /* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: a retry may pass other bytes */
    sent = nc_ssl_send(c, buf, n);

    if (sent > 0) {
        *offset += sent;
    }

    return sent;
}


nc_int_t
nc_ssl_shutdown(nc_connection_t *c)
{
    SSL  *ssl;

    ssl = c->ssl;

    if (!c->error && SSL_is_init_finished(ssl)) {
        /* one attempt at close_notify; the socket closes either way */
        ERR_clear_error();
        (void) SSL_shutdown(ssl);
    }

    SSL_free(ssl);
    c->ssl = NULL;

    ERR_clear_error();

    return NC_OK;
}


static void
nc_ssl_error(nc_uint_t level, nc_log_t *log, nc_err_t err, const char *what)
{
    unsigned long  n;
    u_char        *p, *last;
    char           errstr[NC_MAX_ERROR_STR];

    p = (u_char *) errstr;
    last = p + sizeof(errstr);

    p = nc_slprintf(p, last, "%s", what);

    for ( ;; ) {
        n = ERR_get_error();
        if (n == 0) {
            break;
        }

        p = nc_slprintf(p, last, " (SSL: %s)",
                        ERR_error_string(n, NULL));
    }

    nc_log_error(level, log, err, "%s", errstr);
}
