
/*
 * nacre: UDP pushes to Nacos 1.x-protocol subscribers, from the consensus
 * process of the node they poll.
 *
 * A client that lists a service with udpPort > 0 subscribes clientIP:
 * udpPort to that service and cluster string; its worker notes it to the
 * consensus process (NC_CONSENSUS_SUBSCRIBE), which keeps the
 * subscription while the client polls (it goes after 30 s without).
 * Each applied change of a subscribed service is pushed to every
 * subscriber at once, after the batch is published:
 *
 *   {"type":"dom","data":"<the list, as a JSON string>","lastRefTime":n}
 *
 * gzipped when 1024 bytes or more.  n (below 2^53: JavaScript clients
 * read it as a double) names the push; the client answers
 * {"type":"push-ack","lastRefTime":n,...}.  Without an answer in 10 s the
 * push is sent once more, then given up (the client polls anyway).
 */

#ifndef _NC_NAMING_PUSH_H_INCLUDED_
#define _NC_NAMING_PUSH_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_cycle.h>
#include <nc_store.h>


/* a subscription as a worker notes it */
typedef struct {
    nc_str_t            ip;              /* clientIP, IPv4 text */
    nc_uint_t           port;            /* udpPort */
    nc_str_t            service;         /* nss/<ns>/<group>@@<service> */
    nc_str_t            clusters;        /* as the client asked */
} nc_naming_subscription_t;


typedef struct {
    uint64_t            subscribers;
    uint64_t            pushes;
    uint64_t            acks;
    uint64_t            retries;
    uint64_t            lost;            /* given up */
} nc_naming_push_stats_t;


/* worker: encode a subscription note; its length, 0 if it does not fit */
size_t nc_naming_push_note(u_char *buf, size_t size,
    const nc_naming_subscription_t *sub);

/* consensus process: the socket (NC_OK, or NC_ERROR: pushes are off) */
nc_int_t nc_naming_push_init(nc_cycle_t *cycle, nc_log_t *log);

/* a batch of notes (u16 length, note)... */
void nc_naming_push_subscribe(const u_char *p, size_t len, nc_msec_t now);

/* the store rendered this service again (nc_store_naming's observer) */
void nc_naming_push_changed(const u_char *key, size_t len);

/* everything may have changed (a snapshot was installed) */
void nc_naming_push_all(void);

/* after a publication: push what changed */
void nc_naming_push_run(nc_store_t *s);

/* every second or so: retries, expiry */
void nc_naming_push_tick(nc_msec_t now);

void nc_naming_push_stats(nc_naming_push_stats_t *st);

/*
 * The subscribers of a service (its nss/ key; an empty key: of every
 * service) as text, a line each: "<service key>\x1f<ip>:<port>\x1f
 * <clusters>\n"; as many as fit in size.  The length written.
 */
size_t nc_naming_push_subscribers(const u_char *key, size_t len, u_char *buf,
    size_t size);


#endif /* _NC_NAMING_PUSH_H_INCLUDED_ */
