
/*
 * nacre: a framed message channel over a stream socket between two of our
 * own processes (a worker and the consensus process).
 *
 * A frame is { u32 length of what follows, u8 type, 3 zero bytes, body },
 * little-endian.  Both directions are buffered and bounded: a frame coming
 * in larger than max_frame closes the channel; a sender that would queue
 * more than max_out bytes is told NC_BUSY and decides what to drop.
 *
 * Between members over TCP every frame also ends with an HMAC-SHA256 tag
 * (the length counts it) over { nonce, u64 sequence, header, body }: the
 * key is the cluster secret, the nonce one the receiver chose for this
 * connection, the sequence counts frames in that direction.  A frame with
 * a bad tag closes the channel: it was not sent by a member, or it is a
 * replay from another connection.
 */

#ifndef _NC_CHANNEL_H_INCLUDED_
#define _NC_CHANNEL_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>


#define NC_CHANNEL_HEADER   8
#define NC_CHANNEL_MAC      32
#define NC_CHANNEL_NONCE    16


typedef struct nc_channel_s  nc_channel_t;
typedef struct evp_mac_ctx_st  nc_channel_mac_t;         /* EVP_MAC_CTX */

typedef void (*nc_channel_frame_pt)(nc_channel_t *ch, nc_uint_t type,
    u_char *body, size_t len);
typedef void (*nc_channel_close_pt)(nc_channel_t *ch);


struct nc_channel_s {
    nc_connection_t       *connection;
    void                  *data;

    nc_channel_frame_pt    on_frame;
    nc_channel_close_pt    on_close;     /* the channel is freed after it */

    size_t                 max_frame;
    size_t                 max_out;

    u_char                *in;
    size_t                 in_len;
    size_t                 in_size;

    u_char                *out;
    size_t                 out_pos;
    size_t                 out_len;
    size_t                 out_size;

    /* authenticated frames: NULL for a channel between our processes */
    nc_channel_mac_t      *mac;
    u_char                 nonce_out[NC_CHANNEL_NONCE];
    u_char                 nonce_in[NC_CHANNEL_NONCE];
    uint64_t               seq_out;
    uint64_t               seq_in;

    unsigned               closing:1;
    unsigned               in_handler:1;
};


/* take over a connected, non-blocking socket */
nc_channel_t *nc_channel_create(nc_fd_t fd, size_t max_frame, size_t max_out,
    nc_log_t *log);

/* queue a frame made of a header, then parts a and b; NC_OK, NC_BUSY, or
 * NC_ERROR (the channel is closing) */
nc_int_t nc_channel_send(nc_channel_t *ch, nc_uint_t type, const u_char *a,
    size_t alen, const u_char *b, size_t blen);

/*
 * Authenticate every frame from now on with a keyed HMAC-SHA256 context
 * (the channel keeps a copy).  Nonces start as zeros: set nonce_out and
 * nonce_in when the handshake tells them.
 */
nc_int_t nc_channel_set_mac(nc_channel_t *ch, const nc_channel_mac_t *key);

/* close without calling on_close */
void nc_channel_close(nc_channel_t *ch);


#endif /* _NC_CHANNEL_H_INCLUDED_ */
