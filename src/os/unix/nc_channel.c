
/*
 * nacre: framed message channels between our own processes.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_channel.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>


#define NC_CHANNEL_BUF_MIN   (64 * 1024)


static void nc_channel_read_handler(nc_event_t *ev);
static void nc_channel_write_handler(nc_event_t *ev);
static nc_int_t nc_channel_flush(nc_channel_t *ch);
static void nc_channel_fail(nc_channel_t *ch);
static void nc_channel_free(nc_channel_t *ch);
static nc_int_t nc_channel_tag(nc_channel_t *ch, const u_char *nonce,
    uint64_t seq, const u_char *frame, size_t len, u_char *tag);


nc_channel_t *
nc_channel_create(nc_fd_t fd, size_t max_frame, size_t max_out, nc_log_t *log)
{
    nc_channel_t     *ch;
    nc_connection_t  *c;

    ch = calloc(1, sizeof(nc_channel_t));
    if (ch == NULL) {
        return NULL;
    }

    c = nc_get_connection(fd, log);
    if (c == NULL) {
        free(ch);
        return NULL;
    }

    c->recv = nc_unix_recv;
    c->send = nc_unix_send;
    c->writev = nc_unix_writev;
    c->data = ch;
    c->read->handler = nc_channel_read_handler;
    c->write->handler = nc_channel_write_handler;

    ch->connection = c;
    ch->max_frame = max_frame;
    ch->max_out = max_out;

    if (nc_event_add_conn(c) != NC_OK) {
        nc_close_connection(c);
        free(ch);
        return NULL;
    }

    return ch;
}


nc_int_t
nc_channel_send(nc_channel_t *ch, nc_uint_t type, const u_char *a,
    size_t alen, const u_char *b, size_t blen)
{
    u_char  *p, *frame;
    size_t   need, size, mac;

    if (ch->closing) {
        return NC_ERROR;
    }

    mac = ch->mac ? NC_CHANNEL_MAC : 0;
    need = NC_CHANNEL_HEADER + alen + blen + mac;

    /* max_frame bounds what we accept; the peer bounds what it accepts */
    if (alen + blen + mac > 0xffffffff
        || ch->out_len - ch->out_pos + need > ch->max_out)
    {
        return NC_BUSY;
    }

    /* room at the end, after moving what is left to the front */
    if (ch->out_len + need > ch->out_size && ch->out_pos) {
        memmove(ch->out, ch->out + ch->out_pos, ch->out_len - ch->out_pos);
        ch->out_len -= ch->out_pos;
        ch->out_pos = 0;
    }

    if (ch->out_len + need > ch->out_size) {
        size = nc_max(NC_CHANNEL_BUF_MIN, ch->out_size * 2);
        size = nc_max(size, ch->out_len + need);

        p = realloc(ch->out, size);
        if (p == NULL) {
            return NC_BUSY;
        }

        ch->out = p;
        ch->out_size = size;
    }

    frame = ch->out + ch->out_len;
    p = frame;

    nc_le32_put(p, (uint32_t) (alen + blen + mac));
    p[4] = (u_char) type;
    p[5] = p[6] = p[7] = 0;
    p += NC_CHANNEL_HEADER;

    if (alen) {
        p = nc_cpymem(p, a, alen);
    }

    if (blen) {
        p = nc_cpymem(p, b, blen);
    }

    if (mac) {
        if (nc_channel_tag(ch, ch->nonce_out, ch->seq_out, frame,
                           NC_CHANNEL_HEADER + alen + blen, p)
            != NC_OK)
        {
            return NC_BUSY;
        }

        ch->seq_out++;
    }

    ch->out_len += need;

    if (ch->connection->write->ready && !ch->in_handler) {
        if (nc_channel_flush(ch) == NC_ERROR) {
            nc_channel_fail(ch);
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static void
nc_channel_write_handler(nc_event_t *ev)
{
    nc_channel_t     *ch;
    nc_connection_t  *c;

    c = ev->data;
    ch = c->data;

    if (nc_channel_flush(ch) == NC_ERROR) {
        nc_channel_fail(ch);
    }
}


static nc_int_t
nc_channel_flush(nc_channel_t *ch)
{
    ssize_t           n;
    nc_connection_t  *c;

    c = ch->connection;

    while (ch->out_pos < ch->out_len) {
        n = c->send(c, ch->out + ch->out_pos, ch->out_len - ch->out_pos);

        if (n == NC_AGAIN) {
            return NC_AGAIN;
        }

        if (n <= 0) {
            return NC_ERROR;
        }

        ch->out_pos += n;
    }

    ch->out_pos = 0;
    ch->out_len = 0;

    return NC_OK;
}


static void
nc_channel_read_handler(nc_event_t *ev)
{
    u_char           *p;
    size_t            len, size, pos;
    ssize_t           n;
    nc_channel_t     *ch;
    nc_connection_t  *c;
    u_char            tag[EVP_MAX_MD_SIZE];

    c = ev->data;
    ch = c->data;

    for ( ;; ) {

        if (ch->in_len == ch->in_size) {
            size = nc_max(NC_CHANNEL_BUF_MIN, ch->in_size * 2);
            size = nc_min(size, ch->max_frame + NC_CHANNEL_HEADER);

            if (size <= ch->in_size) {
                nc_log_error(NC_LOG_ALERT, c->log, 0,
                             "channel frame over %zu bytes", ch->max_frame);
                nc_channel_fail(ch);
                return;
            }

            p = realloc(ch->in, size);
            if (p == NULL) {
                nc_channel_fail(ch);
                return;
            }

            ch->in = p;
            ch->in_size = size;
        }

        n = c->recv(c, ch->in + ch->in_len, ch->in_size - ch->in_len);

        if (n == NC_AGAIN) {
            break;
        }

        if (n <= 0) {
            nc_channel_fail(ch);
            return;
        }

        ch->in_len += n;

        /* every complete frame, in order */
        pos = 0;
        ch->in_handler = 1;

        while (ch->in_len - pos >= NC_CHANNEL_HEADER) {
            p = ch->in + pos;
            len = nc_le32_get(p);

            if (len > ch->max_frame) {
                /* from a member's port anyone can send: not our bug then */
                nc_log_error(ch->mac ? NC_LOG_ERR : NC_LOG_ALERT, c->log, 0,
                             "channel frame of %zu bytes from %.*s refused",
                             len, nc_str_fmt(&c->addr_text));
                ch->in_handler = 0;
                nc_channel_fail(ch);
                return;
            }

            if (ch->in_len - pos < NC_CHANNEL_HEADER + len) {
                break;
            }

            if (ch->mac) {
                if (len < NC_CHANNEL_MAC
                    || nc_channel_tag(ch, ch->nonce_in, ch->seq_in, p,
                                      NC_CHANNEL_HEADER + len - NC_CHANNEL_MAC,
                                      tag)
                       != NC_OK
                    || CRYPTO_memcmp(tag, p + NC_CHANNEL_HEADER + len
                                          - NC_CHANNEL_MAC, NC_CHANNEL_MAC)
                       != 0)
                {
                    nc_log_error(NC_LOG_ERR, c->log, 0,
                                 "frame with a bad MAC from %.*s dropped, "
                                 "closing the connection",
                                 nc_str_fmt(&c->addr_text));
                    ch->in_handler = 0;
                    nc_channel_fail(ch);
                    return;
                }

                ch->seq_in++;
                len -= NC_CHANNEL_MAC;
            }

            ch->on_frame(ch, p[4], p + NC_CHANNEL_HEADER, len);
            len += ch->mac ? NC_CHANNEL_MAC : 0;
            pos += NC_CHANNEL_HEADER + len;

            if (ch->closing) {
                ch->in_handler = 0;
                nc_channel_free(ch);
                return;
            }
        }

        ch->in_handler = 0;

        if (pos) {
            memmove(ch->in, ch->in + pos, ch->in_len - pos);
            ch->in_len -= pos;
        }
    }

    /* replies queued by the frame handlers go out in one write */
    if (ch->out_len && nc_channel_flush(ch) == NC_ERROR) {
        nc_channel_fail(ch);
    }
}


static void
nc_channel_fail(nc_channel_t *ch)
{
    if (ch->closing) {
        return;
    }

    ch->closing = 1;

    if (ch->on_close) {
        ch->on_close(ch);
    }

    if (!ch->in_handler) {
        nc_channel_free(ch);
    }
}


void
nc_channel_close(nc_channel_t *ch)
{
    if (ch->closing) {
        return;
    }

    ch->closing = 1;

    if (!ch->in_handler) {
        nc_channel_free(ch);
    }
}


nc_int_t
nc_channel_set_mac(nc_channel_t *ch, const nc_channel_mac_t *key)
{
    ch->mac = EVP_MAC_CTX_dup(key);

    return ch->mac ? NC_OK : NC_ERROR;
}


static nc_int_t
nc_channel_tag(nc_channel_t *ch, const u_char *nonce, uint64_t seq,
    const u_char *frame, size_t len, u_char *tag)
{
    size_t  n;
    u_char  buf[8];

    nc_le64_put(buf, seq);

    /* a NULL key re-initializes the context with the key it holds */
    if (!EVP_MAC_init(ch->mac, NULL, 0, NULL)
        || !EVP_MAC_update(ch->mac, nonce, NC_CHANNEL_NONCE)
        || !EVP_MAC_update(ch->mac, buf, sizeof(buf))
        || !EVP_MAC_update(ch->mac, frame, len)
        || !EVP_MAC_final(ch->mac, tag, &n, EVP_MAX_MD_SIZE)
        || n != NC_CHANNEL_MAC)
    {
        nc_log_error(NC_LOG_ALERT, ch->connection->log, 0,
                     "HMAC-SHA256 failed");
        return NC_ERROR;
    }

    return NC_OK;
}


static void
nc_channel_free(nc_channel_t *ch)
{
    EVP_MAC_CTX_free(ch->mac);
    nc_close_connection(ch->connection);
    free(ch->in);
    free(ch->out);
    free(ch);
}
