
/*
 * nacre: a framed message channel over a stream socket between two of our
 * own processes (a worker and the consensus process).
 *
 * A frame is { u32 length of what follows, u8 type, 3 zero bytes, body },
 * little-endian.  Both directions are buffered and bounded: a frame coming
 * in larger than max_frame closes the channel; a sender that would queue
 * more than max_out bytes is told NC_BUSY and decides what to drop.
 */

#ifndef _NC_CHANNEL_H_INCLUDED_
#define _NC_CHANNEL_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>


#define NC_CHANNEL_HEADER   8


typedef struct nc_channel_s  nc_channel_t;

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

/* close without calling on_close */
void nc_channel_close(nc_channel_t *ch);


#endif /* _NC_CHANNEL_H_INCLUDED_ */
