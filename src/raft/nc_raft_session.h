/*
 * nacre: client sessions for at-most-once writes (thesis 6.3).
 *
 * The state machine keeps, per client id, the highest sequence number it
 * applied; a retried write carries the same (client id, seq) and is
 * recognised as a duplicate.  Expiry uses the leader-assigned index of the
 * write that last touched the session, never a local clock, so that every
 * replica expires the same sessions.
 */

#ifndef _NC_RAFT_SESSION_H_INCLUDED_
#define _NC_RAFT_SESSION_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint64_t                client_id;
    uint64_t                seq;
    uint64_t                last_index;
} nc_raft_session_t;


typedef struct {
    nc_raft_session_t      *slots;
    size_t                  cap;          /* power of two */
    size_t                  n;
} nc_raft_sessions_t;


int nc_raft_sessions_init(nc_raft_sessions_t *s, size_t cap);
void nc_raft_sessions_free(nc_raft_sessions_t *s);

/*
 * NC_RAFT_OK: apply the write (and the session is updated);
 * NC_RAFT_DECLINED: a duplicate or an older retry, do not apply.
 */
int nc_raft_session_check(nc_raft_sessions_t *s, uint64_t client_id,
    uint64_t seq, uint64_t index);

/* drop sessions not touched since before index */
void nc_raft_sessions_expire(nc_raft_sessions_t *s, uint64_t index);

size_t nc_raft_sessions_encode(nc_raft_sessions_t *s, unsigned char *buf,
    size_t size);
int nc_raft_sessions_decode(nc_raft_sessions_t *s, const unsigned char *p,
    size_t len);


#endif /* _NC_RAFT_SESSION_H_INCLUDED_ */
