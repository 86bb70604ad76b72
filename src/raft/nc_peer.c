
/*
 * nacre: the transport between members of a cluster (nc_peer.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_os.h>
#include <nc_cycle.h>
#include <nc_channel.h>
#include <nc_peer.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <sys/random.h>


#define NC_PEER_BACKOFF_MIN        100        /* ms */
#define NC_PEER_BACKOFF_MAX        5000
#define NC_PEER_HANDSHAKE          3000       /* ms to answer a HELLO */
#define NC_PEER_HELLO_MIN          (4 + 4 + 8 * 4 + NC_CHANNEL_NONCE + 1)
#define NC_PEER_SECRET_MAX         4096


static void nc_peer_accept(nc_event_t *ev);
static void nc_peer_link_frame(nc_channel_t *ch, nc_uint_t type,
    u_char *body, size_t len);
static void nc_peer_link_closed(nc_channel_t *ch);
static void nc_peer_dial(nc_peer_t *p);
static void nc_peer_retry(nc_event_t *ev);
static void nc_peer_frame(nc_channel_t *ch, nc_uint_t type, u_char *body,
    size_t len);
static void nc_peer_closed(nc_channel_t *ch);
static void nc_peer_down(nc_peer_t *p, const char *why);
static nc_int_t nc_peer_send_hello(nc_channel_t *ch, const u_char *nonce);
static nc_int_t nc_peer_parse_hello(const u_char *p, size_t len,
    nc_peer_hello_t *h);
static nc_int_t nc_peer_read_secret(nc_cycle_t *cycle, u_char *key,
    size_t *len);


static nc_fd_t              nc_peer_listen_fd = NC_INVALID_FILE;

static nc_log_t            *nc_peer_log;
static nc_peer_handlers_t   nc_peer_handlers;
static EVP_MAC_CTX         *nc_peer_key;
static nc_peer_t           *nc_peers[NC_PEER_MAX_PEERS];
static nc_peer_link_t       nc_peer_links[NC_PEER_MAX_LINKS];
static uint64_t             nc_peer_generation;
static u_char               nc_peer_self[NC_CONF_ADDR_STRLEN];
static u_char               nc_peer_api[NC_CONF_ADDR_STRLEN];
static size_t               nc_peer_api_len;
static size_t               nc_peer_self_len;


/* --- master ------------------------------------------------------------ */


nc_int_t
nc_peer_listen(nc_cycle_t *cycle)
{
    int                 on;
    nc_fd_t             fd;
    nc_conf_cluster_t  *cf;

    cf = &cycle->conf->cluster;

    if (!cf->present) {
        return NC_OK;
    }

    fd = socket(cf->self.sockaddr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        nc_log_error(NC_LOG_EMERG, &cycle->log, errno,
                     "socket() for cluster.self %.*s failed",
                     nc_str_fmt(&cf->self.text));
        return NC_ERROR;
    }

    on = 1;

    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1
        || bind(fd, (struct sockaddr *) &cf->self.sockaddr, cf->self.socklen)
           == -1
        || listen(fd, 64) == -1)
    {
        nc_log_error(NC_LOG_EMERG, &cycle->log, errno,
                     "bind() or listen() to cluster.self %.*s failed",
                     nc_str_fmt(&cf->self.text));
        (void) close(fd);
        return NC_ERROR;
    }

    nc_peer_listen_fd = fd;

    return NC_OK;
}


void
nc_peer_close_listener(void)
{
    if (nc_peer_listen_fd != NC_INVALID_FILE) {
        (void) close(nc_peer_listen_fd);
        nc_peer_listen_fd = NC_INVALID_FILE;
    }
}


/* --- consensus process ------------------------------------------------- */


nc_int_t
nc_peer_init(nc_cycle_t *cycle, const nc_peer_handlers_t *h)
{
    size_t              len;
    EVP_MAC            *mac;
    nc_uint_t           i;
    OSSL_PARAM          params[2];
    u_char             *port, *host;
    nc_str_t            text;
    nc_conf_addr_t     *a, *api;
    nc_connection_t    *c;
    nc_conf_cluster_t  *cf;
    u_char              key[NC_PEER_SECRET_MAX];

    cf = &cycle->conf->cluster;

    nc_peer_log = &cycle->log;
    nc_peer_handlers = *h;

    /* where clients reach this member: its first API address; a
     * wildcard one by the host the members know it by */
    if (cycle->conf->api.listen.nelts) {
        api = cycle->conf->api.listen.elts;
        text = api[0].text;
        port = memrchr(text.data, ':', text.len);
        host = cf->self.text.len
               ? memrchr(cf->self.text.data, ':', cf->self.text.len) : NULL;

        if (port && host
            && ((port - text.data == 7
                 && nc_memcmp(text.data, "0.0.0.0", 7) == 0)
                || (port - text.data == 4
                    && nc_memcmp(text.data, "[::]", 4) == 0)))
        {
            nc_peer_api_len = nc_min((size_t) (host - cf->self.text.data)
                                     + (text.data + text.len - port),
                                     NC_CONF_ADDR_STRLEN);
            nc_memcpy(nc_peer_api, cf->self.text.data,
                      host - cf->self.text.data);
            nc_memcpy(nc_peer_api + (host - cf->self.text.data), port,
                      nc_peer_api_len - (host - cf->self.text.data));

        } else {
            nc_peer_api_len = nc_min(text.len, NC_CONF_ADDR_STRLEN);
            nc_memcpy(nc_peer_api, text.data, nc_peer_api_len);
        }
    }

    if (!cf->present || nc_peer_listen_fd == NC_INVALID_FILE) {
        return NC_OK;
    }

    nc_peer_self_len = nc_min(cf->self.text.len, NC_CONF_ADDR_STRLEN);
    nc_memcpy(nc_peer_self, cf->self.text.data, nc_peer_self_len);

    if (nc_peer_read_secret(cycle, key, &len) != NC_OK) {
        return NC_ERROR;
    }

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        nc_log_error(NC_LOG_EMERG, nc_peer_log, 0, "EVP_MAC_fetch() failed");
        return NC_ERROR;
    }

    nc_peer_key = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (nc_peer_key == NULL
        || !EVP_MAC_init(nc_peer_key, key, len, params))
    {
        OPENSSL_cleanse(key, sizeof(key));
        nc_log_error(NC_LOG_EMERG, nc_peer_log, 0, "EVP_MAC_init() failed");
        return NC_ERROR;
    }

    OPENSSL_cleanse(key, sizeof(key));

    c = nc_get_connection(nc_peer_listen_fd, nc_peer_log);
    if (c == NULL) {
        return NC_ERROR;
    }

    c->read->handler = nc_peer_accept;
    c->read->accept = 1;

    if (nc_event_add_listen(c) != NC_OK) {
        return NC_ERROR;
    }

    a = cf->members.elts;

    for (i = 0; i < cf->members.nelts; i++) {
        if (a[i].text.len == nc_peer_self_len
            && nc_memcmp(a[i].text.data, nc_peer_self, nc_peer_self_len)
               == 0)
        {
            continue;
        }

        if (nc_peer_add(a[i].text.data, a[i].text.len) == NULL) {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


/*
 * The secret file holds the key bytes; a trailing newline is not part of
 * it, so `echo`ed and editor-saved files give the same key.  Without a
 * file (a cluster of one) nobody else can know a random key: no member
 * can join until the operator gives the cluster a secret.
 */
static nc_int_t
nc_peer_read_secret(nc_cycle_t *cycle, u_char *key, size_t *len)
{
    ssize_t             n;
    nc_fd_t             fd;
    nc_conf_cluster_t  *cf;

    cf = &cycle->conf->cluster;

    if (cf->secret_file.len == 0) {
        if (getrandom(key, 32, 0) != 32) {
            nc_log_error(NC_LOG_EMERG, nc_peer_log, errno,
                         "getrandom() failed");
            return NC_ERROR;
        }

        *len = 32;
        return NC_OK;
    }

    fd = open((char *) cf->secret_file.data, O_RDONLY | O_CLOEXEC);
    if (fd == NC_INVALID_FILE) {
        nc_log_error(NC_LOG_EMERG, nc_peer_log, errno,
                     "open() \"%s\" failed", cf->secret_file.data);
        return NC_ERROR;
    }

    n = read(fd, key, NC_PEER_SECRET_MAX);
    (void) close(fd);

    if (n == -1) {
        nc_log_error(NC_LOG_EMERG, nc_peer_log, errno,
                     "read() \"%s\" failed", cf->secret_file.data);
        return NC_ERROR;
    }

    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r')) {
        n--;
    }

    if (n < 16) {
        nc_log_error(NC_LOG_EMERG, nc_peer_log, 0,
                     "\"%s\" holds fewer than 16 bytes of secret",
                     cf->secret_file.data);
        return NC_ERROR;
    }

    *len = (size_t) n;

    return NC_OK;
}


uint64_t
nc_peer_members_hash(nc_conf_cluster_t *cf)
{
    int              c;
    size_t           j;
    uint64_t         h;
    nc_uint_t        i, k, n;
    nc_conf_addr_t  *a;
    const nc_str_t  *s[NC_PEER_MAX_PEERS + 1], *t;

    a = cf->members.elts;
    n = nc_min(cf->members.nelts, NC_PEER_MAX_PEERS + 1);

    for (i = 0; i < n; i++) {
        s[i] = &a[i].text;
    }

    /* insertion sort: a handful of names */
    for (i = 1; i < n; i++) {
        for (k = i; k > 0; k--) {
            j = nc_min(s[k - 1]->len, s[k]->len);
            c = nc_memcmp(s[k - 1]->data, s[k]->data, j);

            if (c < 0 || (c == 0 && s[k - 1]->len <= s[k]->len)) {
                break;
            }

            t = s[k];
            s[k] = s[k - 1];
            s[k - 1] = t;
        }
    }

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < n; i++) {
        for (j = 0; j <= s[i]->len; j++) {
            h ^= j < s[i]->len ? s[i]->data[j] : '\n';
            h *= 0x100000001b3ULL;
        }
    }

    return h;
}


/* --- accepted connections ---------------------------------------------- */


static void
nc_peer_accept(nc_event_t *ev)
{
    nc_fd_t                  fd;
    nc_uint_t                i, n;
    socklen_t                socklen;
    nc_channel_t            *ch;
    nc_peer_link_t          *l;
    nc_connection_t         *c;
    struct sockaddr_storage  sa;

    for (n = 0; n < 16; n++) {
        socklen = sizeof(sa);
        fd = accept4(nc_peer_listen_fd, (struct sockaddr *) &sa, &socklen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                nc_log_error(NC_LOG_CRIT, nc_peer_log, errno,
                             "accept4() of a peer failed");
            }

            return;
        }

        l = NULL;

        for (i = 0; i < NC_PEER_MAX_LINKS; i++) {
            if (nc_peer_links[i].channel == NULL) {
                l = &nc_peer_links[i];
                break;
            }

            /* a connection that never said who it is makes room */
            if (nc_peer_links[i].id == 0
                && nc_current_msec - nc_peer_links[i].since
                   > NC_PEER_HANDSHAKE)
            {
                nc_channel_close(nc_peer_links[i].channel);
                nc_peer_links[i].channel = NULL;
                l = &nc_peer_links[i];
                break;
            }
        }

        if (l == NULL) {
            nc_log_error(NC_LOG_ERR, nc_peer_log, 0,
                         "too many peer connections, one refused");
            (void) close(fd);
            continue;
        }

        ch = nc_channel_create(fd, NC_PEER_MAX_FRAME, NC_PEER_MAX_OUT,
                               nc_peer_log);
        if (ch == NULL) {
            (void) close(fd);
            continue;
        }

        if (nc_channel_set_mac(ch, nc_peer_key) != NC_OK) {
            nc_channel_close(ch);
            continue;
        }

        c = ch->connection;
        c->addr_text.data = c->addr_buf;
        c->addr_text.len = nc_sock_ntop((struct sockaddr *) &sa, c->addr_buf,
                                        sizeof(c->addr_buf), 1);

        ch->on_frame = nc_peer_link_frame;
        ch->on_close = nc_peer_link_closed;
        ch->data = l;

        nc_memzero(l, sizeof(nc_peer_link_t));
        l->channel = ch;
        l->generation = ++nc_peer_generation;
        l->since = nc_current_msec;
    }
}


static void
nc_peer_link_frame(nc_channel_t *ch, nc_uint_t type, u_char *body,
    size_t len)
{
    nc_peer_link_t   *l;
    nc_peer_hello_t   h;
    u_char            nonce[NC_CHANNEL_NONCE];

    l = ch->data;

    if (l->id) {
        nc_peer_handlers.link_frame(l, type, body, len);
        return;
    }

    if (type != NC_PEER_HELLO || nc_peer_parse_hello(body, len, &h) != NC_OK)
    {
        nc_log_error(NC_LOG_ERR, nc_peer_log, 0,
                     "peer %.*s: bad handshake, closing",
                     nc_str_fmt(&ch->connection->addr_text));
        goto failed;
    }

    if (h.addr_len == nc_peer_self_len
        && nc_memcmp(h.addr, nc_peer_self, nc_peer_self_len) == 0)
    {
        nc_log_error(NC_LOG_ERR, nc_peer_log, 0,
                     "peer %.*s claims our own address %.*s, closing",
                     nc_str_fmt(&ch->connection->addr_text),
                     (int) nc_peer_self_len, nc_peer_self);
        goto failed;
    }

    if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t) sizeof(nonce)) {
        goto failed;
    }

    /* our answer is bound to its nonce, what follows from it to ours */
    nc_memcpy(ch->nonce_out, h.nonce, NC_CHANNEL_NONCE);

    if (nc_peer_send_hello(ch, nonce) != NC_OK) {
        goto failed;
    }

    nc_memcpy(ch->nonce_in, nonce, NC_CHANNEL_NONCE);

    l->id = h.id;
    l->addr_len = h.addr_len;
    nc_memcpy(l->addr, h.addr, h.addr_len);

    return;

failed:

    l->channel = NULL;
    nc_channel_close(ch);
}


static void
nc_peer_link_closed(nc_channel_t *ch)
{
    nc_peer_link_t  *l;

    l = ch->data;
    l->channel = NULL;
}


nc_uint_t
nc_peer_link_slot(nc_peer_link_t *l)
{
    return (nc_uint_t) (l - nc_peer_links);
}


nc_int_t
nc_peer_link_send(nc_uint_t slot, uint64_t generation, nc_uint_t type,
    const u_char *a, size_t alen)
{
    nc_peer_link_t  *l;

    if (slot >= NC_PEER_MAX_LINKS) {
        return NC_ERROR;
    }

    l = &nc_peer_links[slot];

    if (l->channel == NULL || l->generation != generation) {
        return NC_DECLINED;
    }

    return nc_channel_send(l->channel, type, a, alen, NULL, 0);
}


/* --- dialed connections ------------------------------------------------ */


nc_peer_t *
nc_peer_add(const u_char *addr, size_t len)
{
    nc_uint_t       i;
    nc_str_t        text;
    nc_peer_t      *p;
    nc_conf_addr_t  a;

    if ((p = nc_peer_find_addr(addr, len)) != NULL) {
        return p;
    }

    text.data = (u_char *) addr;
    text.len = len;

    if (len > NC_CONF_ADDR_STRLEN || nc_parse_addr(&text, &a) != NC_OK) {
        nc_log_error(NC_LOG_ERR, nc_peer_log, 0, "bad peer address \"%.*s\"",
                     (int) len, addr);
        return NULL;
    }

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        if (nc_peers[i] == NULL) {
            break;
        }
    }

    if (i == NC_PEER_MAX_PEERS) {
        nc_log_error(NC_LOG_ERR, nc_peer_log, 0, "too many peers");
        return NULL;
    }

    p = calloc(1, sizeof(nc_peer_t));
    if (p == NULL) {
        return NULL;
    }

    nc_memcpy(p->addr, addr, len);
    p->addr_len = len;
    p->sockaddr = a.sockaddr;
    p->socklen = a.socklen;
    p->backoff = NC_PEER_BACKOFF_MIN;
    p->retry.handler = nc_peer_retry;
    p->retry.data = p;
    p->retry.timer_index = NC_INVALID_INDEX;

    nc_peers[i] = p;

    nc_peer_dial(p);

    return p;
}


void
nc_peer_remove(nc_peer_t *p)
{
    nc_uint_t  i;

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        if (nc_peers[i] == p) {
            nc_peers[i] = NULL;
        }
    }

    if (p->retry.timer_set) {
        nc_del_timer(&p->retry);
    }

    if (p->out) {
        nc_channel_close(p->out);
        p->out = NULL;
    }

    free(p);
}


nc_peer_t *
nc_peer_find(uint64_t id)
{
    nc_uint_t  i;

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        if (nc_peers[i] && nc_peers[i]->seen && nc_peers[i]->hello.id == id) {
            return nc_peers[i];
        }
    }

    return NULL;
}


nc_peer_t *
nc_peer_find_addr(const u_char *addr, size_t len)
{
    nc_uint_t  i;

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        if (nc_peers[i] && nc_peers[i]->addr_len == len
            && nc_memcmp(nc_peers[i]->addr, addr, len) == 0)
        {
            return nc_peers[i];
        }
    }

    return NULL;
}


nc_peer_t *
nc_peer_at(nc_uint_t i)
{
    return i < NC_PEER_MAX_PEERS ? nc_peers[i] : NULL;
}


static void
nc_peer_dial(nc_peer_t *p)
{
    int            on;
    nc_fd_t        fd;
    nc_channel_t  *ch;

    fd = socket(p->sockaddr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        nc_log_error(NC_LOG_ALERT, nc_peer_log, errno, "socket() failed");
        goto retry;
    }

    on = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int));

    if (connect(fd, (struct sockaddr *) &p->sockaddr, p->socklen) == -1
        && errno != EINPROGRESS)
    {
        (void) close(fd);
        goto retry;
    }

    ch = nc_channel_create(fd, NC_PEER_MAX_FRAME, NC_PEER_MAX_OUT,
                           nc_peer_log);
    if (ch == NULL) {
        (void) close(fd);
        goto retry;
    }

    ch->connection->addr_text.data = p->addr;
    ch->connection->addr_text.len = p->addr_len;
    ch->on_frame = nc_peer_frame;
    ch->on_close = nc_peer_closed;
    ch->data = p;

    if (getrandom(p->nonce, sizeof(p->nonce), 0) != (ssize_t) sizeof(p->nonce)
        || nc_channel_set_mac(ch, nc_peer_key) != NC_OK
        || nc_peer_send_hello(ch, p->nonce) != NC_OK)
    {
        nc_channel_close(ch);
        goto retry;
    }

    /* its answer is tagged with our nonce */
    nc_memcpy(ch->nonce_in, p->nonce, NC_CHANNEL_NONCE);

    p->out = ch;
    p->ready = 0;

    /* the handshake deadline; the same timer retries afterwards */
    nc_add_timer(&p->retry, NC_PEER_HANDSHAKE);

    return;

retry:

    nc_add_timer(&p->retry, p->backoff);
    p->backoff = nc_min(p->backoff * 2, NC_PEER_BACKOFF_MAX);
}


static void
nc_peer_retry(nc_event_t *ev)
{
    nc_peer_t  *p;

    p = ev->data;

    if (p->out) {
        /* connected or not, it did not answer our HELLO in time */
        nc_channel_close(p->out);
        nc_peer_down(p, "no handshake");
        return;
    }

    nc_peer_dial(p);
}


static void
nc_peer_frame(nc_channel_t *ch, nc_uint_t type, u_char *body, size_t len)
{
    nc_peer_t        *p;
    nc_peer_hello_t   h;

    p = ch->data;

    if (p->ready) {
        nc_peer_handlers.peer_frame(p, type, body, len);
        return;
    }

    if (type != NC_PEER_HELLO || nc_peer_parse_hello(body, len, &h) != NC_OK)
    {
        nc_log_error(NC_LOG_ERR, nc_peer_log, 0,
                     "peer %.*s: bad handshake answer",
                     (int) p->addr_len, p->addr);
        nc_channel_close(ch);
        nc_peer_down(p, NULL);
        return;
    }

    if (p->seen && p->hello.id != h.id) {
        nc_log_error(NC_LOG_NOTICE, nc_peer_log, 0,
                     "peer %.*s is now node %016" PRIx64 " (was %016" PRIx64
                     ")", (int) p->addr_len, p->addr, h.id, p->hello.id);
    }

    if (p->failures || !p->seen) {
        nc_log_error(NC_LOG_INFO, nc_peer_log, 0,
                     "peer %.*s (node %016" PRIx64 ") connected",
                     (int) p->addr_len, p->addr, h.id);
    }

    nc_memcpy(ch->nonce_out, h.nonce, NC_CHANNEL_NONCE);

    p->hello = h;
    p->seen = 1;
    p->ready = 1;
    p->failures = 0;
    p->backoff = NC_PEER_BACKOFF_MIN;

    if (p->retry.timer_set) {
        nc_del_timer(&p->retry);
    }

    /* the handshake may be what a fresh member waited for */
    nc_peer_handlers.peer_frame(p, NC_PEER_HELLO, NULL, 0);
}


static void
nc_peer_closed(nc_channel_t *ch)
{
    nc_peer_down(ch->data, "connection closed");
}


static void
nc_peer_down(nc_peer_t *p, const char *why)
{
    nc_flag_t  was_ready;

    was_ready = p->ready;

    p->out = NULL;
    p->ready = 0;

    /* once per outage, not once per attempt */
    if (was_ready || (why && p->failures == 0)) {
        nc_log_error(NC_LOG_WARN, nc_peer_log, 0, "peer %.*s: %s",
                     (int) p->addr_len, p->addr,
                     why ? why : "handshake failed");
    }

    p->failures++;

    if (was_ready) {
        nc_peer_handlers.peer_down(p);
    }

    if (p->retry.timer_set) {
        nc_del_timer(&p->retry);
    }

    nc_add_timer(&p->retry, p->backoff);
    p->backoff = nc_min(p->backoff * 2, NC_PEER_BACKOFF_MAX);
}


nc_int_t
nc_peer_send(nc_peer_t *p, nc_uint_t type, const u_char *a, size_t alen,
    const u_char *b, size_t blen)
{
    if (p->out == NULL || !p->ready) {
        return NC_BUSY;
    }

    return nc_channel_send(p->out, type, a, alen, b, blen);
}


void
nc_peer_close_all(void)
{
    nc_uint_t  i;

    for (i = 0; i < NC_PEER_MAX_PEERS; i++) {
        if (nc_peers[i]) {
            nc_peer_remove(nc_peers[i]);
        }
    }

    for (i = 0; i < NC_PEER_MAX_LINKS; i++) {
        if (nc_peer_links[i].channel) {
            nc_channel_close(nc_peer_links[i].channel);
            nc_peer_links[i].channel = NULL;
        }
    }

    EVP_MAC_CTX_free(nc_peer_key);
    nc_peer_key = NULL;
}


/* --- HELLO --------------------------------------------------------------- */


/*
 *   0   u32 version
 *   4   u32 flags
 *   8   u64 node id
 *   16  u64 members hash
 *   24  u64 last index
 *   32  u64 term
 *   40  nonce[16]
 *   56  u8 address length, address
 */
size_t
nc_peer_api_addr(const u_char **addr)
{
    *addr = nc_peer_api;
    return nc_peer_api_len;
}


static nc_int_t
nc_peer_send_hello(nc_channel_t *ch, const u_char *nonce)
{
    u_char           *p;
    nc_peer_hello_t   h;
    u_char            buf[NC_PEER_HELLO_MIN + 2 * NC_CONF_ADDR_STRLEN + 1];

    nc_memzero(&h, sizeof(nc_peer_hello_t));
    nc_peer_handlers.hello(&h);

    p = buf;
    nc_le32_put(p, NC_PEER_VERSION);
    nc_le32_put(p + 4, h.flags);
    nc_le64_put(p + 8, h.id);
    nc_le64_put(p + 16, h.members_hash);
    nc_le64_put(p + 24, h.last_index);
    nc_le64_put(p + 32, h.term);
    nc_memcpy(p + 40, nonce, NC_CHANNEL_NONCE);
    p[56] = (u_char) nc_peer_self_len;
    nc_memcpy(p + 57, nc_peer_self, nc_peer_self_len);

    /* then the API address: the members' clients' server list */
    p += 57 + nc_peer_self_len;
    *p++ = (u_char) nc_peer_api_len;
    p = nc_cpymem(p, nc_peer_api, nc_peer_api_len);

    return nc_channel_send(ch, NC_PEER_HELLO, buf, p - buf, NULL, 0);
}


static nc_int_t
nc_peer_parse_hello(const u_char *p, size_t len, nc_peer_hello_t *h)
{
    if (len < 57) {
        return NC_ERROR;
    }

    h->version = nc_le32_get(p);
    h->flags = nc_le32_get(p + 4);
    h->id = nc_le64_get(p + 8);
    h->members_hash = nc_le64_get(p + 16);
    h->last_index = nc_le64_get(p + 24);
    h->term = nc_le64_get(p + 32);
    nc_memcpy(h->nonce, p + 40, NC_CHANNEL_NONCE);
    h->addr_len = p[56];

    if (h->version != NC_PEER_VERSION || h->id == 0
        || h->addr_len == 0 || h->addr_len > NC_CONF_ADDR_STRLEN
        || len < 57 + h->addr_len + 1)
    {
        return NC_ERROR;
    }

    nc_memcpy(h->addr, p + 57, h->addr_len);

    p += 57 + h->addr_len;
    h->api_len = *p++;

    if (h->api_len > NC_CONF_ADDR_STRLEN
        || len != 57 + h->addr_len + 1 + h->api_len)
    {
        return NC_ERROR;
    }

    nc_memcpy(h->api, p, h->api_len);

    return NC_OK;
}
