
/*
 * nacre: who is long-polling which config on this node: the clients a
 * worker holds parked (POST /nacos/v1/cs/configs/listener), by the key
 * they listen to, their address and the MD5 they hold, in a table the
 * master maps before forking so any worker can answer "listeners of a
 * config" or "configs of a client" for the whole node.
 */

#ifndef _NC_CONFIG_LISTENERS_H_INCLUDED_
#define _NC_CONFIG_LISTENERS_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


#define NC_CONFIG_LISTENER_IP_LEN   64
#define NC_CONFIG_LISTENER_MD5_LEN  32


typedef struct {
    uint64_t    key;                               /* nc_store_key_hash() */
    size_t      ip_len;
    size_t      md5_len;                           /* 0: the client has none */
    u_char      ip[NC_CONFIG_LISTENER_IP_LEN];
    u_char      md5[NC_CONFIG_LISTENER_MD5_LEN];
} nc_config_listener_t;

typedef void (*nc_config_listener_pt)(const nc_config_listener_t *l,
    void *data);


/* the master, before any child: NC_OK or NC_ERROR */
nc_int_t nc_config_listeners_init(nc_log_t *log);

/*
 * A parked client listens to a key: the slot it takes, to give back with
 * nc_config_listeners_remove(), or -1 when the table is full (the client
 * is still served; it is only not listed, and that is logged once).
 */
nc_int_t nc_config_listeners_add(const nc_config_listener_t *l,
    nc_log_t *log);
void nc_config_listeners_remove(nc_int_t slot);

/* the master, on reaping a worker: the slots it left behind */
void nc_config_listeners_release_pid(pid_t pid);

/*
 * Each listener of one key (key != 0), or each listener whose address is
 * ip (key == 0); a slot changing while it is read is skipped.
 */
void nc_config_listeners_each(uint64_t key, const nc_str_t *ip,
    nc_config_listener_pt handler, void *data);

/*
 * The same as text, for the consensus process to answer for its node
 * (NC_CONSENSUS_STATUS_LISTENERS): arg "k" and a key's hash (8 bytes,
 * little-endian) gives a line "<md5> <ip>\n" a listener, arg "i" and an
 * address gives "<key hash, 16 hex> <md5>\n"; "-" for no MD5.  Whole
 * lines, as many as fit in size: the length written.
 */
size_t nc_config_listeners_text(const u_char *arg, size_t len, u_char *buf,
    size_t size);

/* a line of that text; NC_DONE at its end */
nc_int_t nc_config_listeners_line(u_char **p, u_char *end,
    nc_config_listener_t *l, nc_flag_t by_key);


#endif /* _NC_CONFIG_LISTENERS_H_INCLUDED_ */
