
/*
 * nacre: the transport between members of a cluster (consensus process).
 *
 * Every member listens on its cluster.self address and dials every other
 * member it knows of.  Each pair is joined by two TCP connections: the one
 * a member dialed carries its Raft messages and its requests to that peer
 * (forwarded proposals, reads); the one it accepted carries the answers to
 * the requests that came in on it.  Frames are nc_channel frames with an
 * HMAC-SHA256 tag keyed by the cluster secret (nc_channel.h).
 *
 * Handshake: the dialer sends HELLO (tag over a zero nonce); the acceptor
 * answers with its own HELLO, tagged with the dialer's nonce; from then on
 * each side tags with the nonce the other chose.  A HELLO says who the
 * member is (node id, peer address), the hash of its bootstrap member
 * list, and how far its log goes: a fresh member uses that to decide
 * whether it bootstraps a new cluster or waits to be brought up to date.
 *
 * A peer that cannot be reached is retried with a backoff from 100 ms,
 * doubling to 5 s.  Sends never block: a peer whose connection has more
 * than NC_PEER_MAX_OUT bytes queued loses the message (Raft retries).
 */

#ifndef _NC_PEER_H_INCLUDED_
#define _NC_PEER_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_channel.h>
#include <nc_conf.h>


/* frame types */
#define NC_PEER_HELLO              1
#define NC_PEER_RAFT               2          /* an encoded nc_raft_msg_t */
#define NC_PEER_FORWARD            3          /* u64 id, client, seq, cmd */
#define NC_PEER_RESULT             5          /* u64 id, i64 status, u64
                                                 index, u64 revision */
#define NC_PEER_MEMBER             6          /* u64 id, u8 op, text */
#define NC_PEER_BEAT               7          /* beats for the leader
                                                 (NC_CONSENSUS_BEAT's body) */
#define NC_PEER_STATUS             8          /* u64 id, u8 format, arg:
                                                 this member's own answer */
#define NC_PEER_TEXT               9          /* u64 id, the answer's text */

#define NC_PEER_VERSION            2          /* 2: HELLO names the
                                                 API address */
#define NC_PEER_MAX_PEERS          16         /* NC_RAFT_MAX_MEMBERS */
#define NC_PEER_MAX_LINKS          64         /* accepted connections */
#define NC_PEER_MAX_FRAME          (20 * 1024 * 1024)
#define NC_PEER_MAX_OUT            (64 * 1024 * 1024)

#define NC_PEER_HELLO_FRESH        0x01       /* an empty log */


typedef struct {
    uint32_t                version;
    uint32_t                flags;
    uint64_t                id;
    uint64_t                members_hash;     /* of its bootstrap list */
    uint64_t                last_index;
    uint64_t                term;
    u_char                  nonce[NC_CHANNEL_NONCE];
    size_t                  addr_len;
    u_char                  addr[NC_CONF_ADDR_STRLEN];
    size_t                  api_len;          /* its API address: where */
    u_char                  api[NC_CONF_ADDR_STRLEN];  /* clients go */
} nc_peer_hello_t;


/* a member we dial */
typedef struct {
    u_char                  addr[NC_CONF_ADDR_STRLEN];
    size_t                  addr_len;
    struct sockaddr_storage sockaddr;
    socklen_t               socklen;

    nc_channel_t           *out;
    unsigned                ready:1;          /* its HELLO answered ours */
    unsigned                seen:1;           /* hello is valid */
    nc_peer_hello_t         hello;            /* the last it sent */
    u_char                  nonce[NC_CHANNEL_NONCE];

    nc_msec_t               backoff;
    nc_event_t              retry;
    nc_uint_t               failures;         /* in a row, for the log */
} nc_peer_t;


/* a connection a member made to us */
typedef struct {
    nc_channel_t           *channel;
    uint64_t                generation;       /* tells a reused slot apart */
    uint64_t                id;               /* 0 until its HELLO */
    nc_msec_t               since;
    u_char                  addr[NC_CONF_ADDR_STRLEN];
    size_t                  addr_len;
} nc_peer_link_t;


typedef struct {
    /* a frame from a peer we dialed (answers) */
    void                  (*peer_frame)(nc_peer_t *p, nc_uint_t type,
                                        u_char *body, size_t len);
    /* a frame on an accepted connection, after its HELLO */
    void                  (*link_frame)(nc_peer_link_t *l, nc_uint_t type,
                                        u_char *body, size_t len);
    /* a dialed connection is gone: its requests will not be answered */
    void                  (*peer_down)(nc_peer_t *p);
    /* what our HELLO says (id, flags, last index, ...; not the nonce) */
    void                  (*hello)(nc_peer_hello_t *h);
} nc_peer_handlers_t;


/* --- master ----------------------------------------------------------- */

nc_int_t nc_peer_listen(nc_cycle_t *cycle);
void nc_peer_close_listener(void);


/* --- consensus process ------------------------------------------------ */

nc_int_t nc_peer_init(nc_cycle_t *cycle, const nc_peer_handlers_t *h);

/* start dialing addr (canonical text); NULL if the table is full */
nc_peer_t *nc_peer_add(const u_char *addr, size_t len);
void nc_peer_remove(nc_peer_t *p);

nc_peer_t *nc_peer_find(uint64_t id);

/* this member's API address (its HELLO tells the others) */
size_t nc_peer_api_addr(const u_char **addr);
nc_peer_t *nc_peer_find_addr(const u_char *addr, size_t len);
nc_peer_t *nc_peer_at(nc_uint_t i);           /* NULL past the end */

/* on the connection we dialed: NC_OK, NC_BUSY (not ready or full) */
nc_int_t nc_peer_send(nc_peer_t *p, nc_uint_t type, const u_char *a,
    size_t alen, const u_char *b, size_t blen);

/* an answer on the accepted connection l (slot, generation) */
nc_int_t nc_peer_link_send(nc_uint_t slot, uint64_t generation,
    nc_uint_t type, const u_char *a, size_t alen);
nc_uint_t nc_peer_link_slot(nc_peer_link_t *l);

/* FNV-1a over the sorted canonical member addresses */
uint64_t nc_peer_members_hash(nc_conf_cluster_t *cf);

void nc_peer_close_all(void);


#endif /* _NC_PEER_H_INCLUDED_ */
