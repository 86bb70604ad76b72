
/*
 * nacre: the state machine the consensus process feeds with committed
 * Raft entries.
 *
 * Deterministic by construction: an apply reads only the entry and the
 * store (time, when a domain needs it, travels inside the entry), so every
 * member builds the same store from the same log.
 *
 * A NORMAL entry carries one command:
 *
 *   u8   op             NC_STORE_OP_*, or a domain's op (>= NC_STORE_OP_DOMAIN)
 *   u8   flags          0
 *   u16  type           record type (NC_STORE_T_*)
 *   u32  key_len
 *   u32  value_len
 *   u32  reserved       0
 *   u64  revision       CAS: the revision expected (0: the key must not exist)
 *   key, value
 *
 * All integers little-endian.  Domains (config, naming, auth, gateway)
 * register handlers for their ops and decode the rest themselves.
 */

#ifndef _NC_STORE_APPLY_H_INCLUDED_
#define _NC_STORE_APPLY_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_raft.h>


#define NC_STORE_OP_PUT         1
#define NC_STORE_OP_DELETE      2
#define NC_STORE_OP_CAS         3        /* put if the revision matches */
#define NC_STORE_OP_DOMAIN      16
#define NC_STORE_OP_MAX         64

#define NC_STORE_CMD_HEADER     24


typedef struct {
    uint8_t             op;
    uint8_t             flags;
    uint16_t            type;
    uint32_t            key_len;
    uint32_t            value_len;
    uint64_t            revision;
    const u_char       *key;
    const u_char       *value;
} nc_store_cmd_t;


typedef struct {
    nc_int_t            status;          /* NC_OK, NC_DECLINED (absent key or
                                            revision mismatch), NC_ERROR
                                            (malformed command) */
    uint64_t            revision;        /* of the key after the apply */
} nc_store_result_t;


/*
 * A domain's apply: runs inside the open batch.  It returns NC_STORE_FULL
 * only when the region is full (the whole batch is then undone), anything
 * else is the entry's result.
 */
typedef nc_int_t (*nc_store_apply_pt)(nc_store_t *s,
    const nc_raft_entry_t *e, nc_store_result_t *res);


/* the op only removes records: a full store still admits it */
#define NC_STORE_APPLY_REMOVES  1

void nc_store_apply_register(nc_uint_t op, nc_store_apply_pt handler,
    nc_uint_t flags);

/*
 * May a proposal of this command be accepted now?  NC_OK, or
 * NC_STORE_FULL.  Writes stop with an eighth of the region left, removals
 * (which need room only for path copies) with a thirty-second: a full
 * store can always be emptied, and an apply never runs out of room on
 * the node that admitted it.
 */
nc_int_t nc_store_admit(nc_store_t *s, const u_char *cmd, size_t len);

/* encode a command; returns its size, or 0 when buf is too small */
size_t nc_store_cmd_encode(u_char *buf, size_t size, const nc_store_cmd_t *c);

/* NC_OK, or NC_ERROR when the bytes are not a well-formed command */
nc_int_t nc_store_cmd_decode(nc_store_cmd_t *c, const u_char *p, size_t len);

/*
 * Apply committed entries as one batch and publish it.  results[i] is the
 * outcome of entries[i].  NC_OK, or NC_STORE_FULL when the region cannot
 * hold the batch: nothing is applied, and the caller retries later (after
 * reclamation, or after the operator grows store.shm_size).
 */
nc_int_t nc_store_apply(nc_store_t *s, const nc_raft_entry_t *entries,
    size_t n, nc_store_result_t *results);

/* for domain handlers: delete every key under a prefix in the open batch;
 * NC_OK or NC_STORE_FULL */
nc_int_t nc_store_apply_delete_prefix(nc_store_t *s, const u_char *prefix,
    size_t len);


#endif /* _NC_STORE_APPLY_H_INCLUDED_ */
