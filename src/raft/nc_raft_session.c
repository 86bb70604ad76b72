/*
 * nacre: client session table, an open-addressing hash keyed by client id.
 */

#include <stdlib.h>
#include <string.h>

#include "nc_raft.h"
#include "nc_raft_session.h"


static size_t
nc_raft_session_hash(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;

    return (size_t) id & (cap - 1);
}


int
nc_raft_sessions_init(nc_raft_sessions_t *s, size_t cap)
{
    size_t  c;

    for (c = 16; c < cap; c *= 2) { /* void */ }

    s->slots = calloc(c, sizeof(nc_raft_session_t));
    if (s->slots == NULL) {
        return NC_RAFT_ERROR;
    }

    s->cap = c;
    s->n = 0;

    return NC_RAFT_OK;
}


void
nc_raft_sessions_free(nc_raft_sessions_t *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->n = 0;
}


static nc_raft_session_t *
nc_raft_session_slot(nc_raft_sessions_t *s, uint64_t id)
{
    size_t  i;

    for (i = nc_raft_session_hash(id, s->cap); ; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].client_id == id || s->slots[i].client_id == 0) {
            return &s->slots[i];
        }
    }
}


static int
nc_raft_sessions_grow(nc_raft_sessions_t *s)
{
    size_t              i;
    nc_raft_sessions_t  ns;
    nc_raft_session_t  *sl;

    if (nc_raft_sessions_init(&ns, s->cap * 2) != NC_RAFT_OK) {
        return NC_RAFT_ERROR;
    }

    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].client_id) {
            sl = nc_raft_session_slot(&ns, s->slots[i].client_id);
            *sl = s->slots[i];
            ns.n++;
        }
    }

    free(s->slots);
    *s = ns;

    return NC_RAFT_OK;
}


int
nc_raft_session_check(nc_raft_sessions_t *s, uint64_t client_id,
    uint64_t seq, uint64_t index)
{
    nc_raft_session_t  *sl;

    if (client_id == 0) {
        return NC_RAFT_OK;              /* no session: always applied */
    }

    sl = nc_raft_session_slot(s, client_id);

    if (sl->client_id == client_id) {
        if (seq <= sl->seq) {
            return NC_RAFT_DECLINED;
        }

        sl->seq = seq;
        sl->last_index = index;
        return NC_RAFT_OK;
    }

    if ((s->n + 1) * 4 > s->cap * 3) {
        if (nc_raft_sessions_grow(s) != NC_RAFT_OK) {
            return NC_RAFT_ERROR;
        }

        sl = nc_raft_session_slot(s, client_id);
    }

    sl->client_id = client_id;
    sl->seq = seq;
    sl->last_index = index;
    s->n++;

    return NC_RAFT_OK;
}


void
nc_raft_sessions_expire(nc_raft_sessions_t *s, uint64_t index)
{
    size_t              i, n;
    nc_raft_session_t  *old;

    old = s->slots;
    n = s->cap;

    if (nc_raft_sessions_init(s, n) != NC_RAFT_OK) {
        s->slots = old;
        return;
    }

    for (i = 0; i < n; i++) {
        if (old[i].client_id && old[i].last_index >= index) {
            *nc_raft_session_slot(s, old[i].client_id) = old[i];
            s->n++;
        }
    }

    free(old);
}


size_t
nc_raft_sessions_encode(nc_raft_sessions_t *s, unsigned char *buf,
    size_t size)
{
    int             k;
    size_t          i, need;
    uint64_t        v[3];
    unsigned char  *p;

    need = 8 + s->n * 24;

    if (size < need) {
        return 0;
    }

    p = buf;

    for (k = 0; k < 8; k++) {
        *p++ = (unsigned char) ((uint64_t) s->n >> (8 * k));
    }

    for (i = 0; i < s->cap; i++) {
        if (s->slots[i].client_id == 0) {
            continue;
        }

        v[0] = s->slots[i].client_id;
        v[1] = s->slots[i].seq;
        v[2] = s->slots[i].last_index;

        for (k = 0; k < 24; k++) {
            *p++ = (unsigned char) (v[k / 8] >> (8 * (k % 8)));
        }
    }

    return need;
}


int
nc_raft_sessions_decode(nc_raft_sessions_t *s, const unsigned char *p,
    size_t len)
{
    int                 k;
    size_t              i;
    uint64_t            n, v[3];
    nc_raft_session_t  *sl;

    if (len < 8) {
        return NC_RAFT_ERROR;
    }

    n = 0;

    for (k = 0; k < 8; k++) {
        n |= (uint64_t) p[k] << (8 * k);
    }

    if (n > (len - 8) / 24 || len != 8 + n * 24) {
        return NC_RAFT_ERROR;
    }

    nc_raft_sessions_free(s);

    if (nc_raft_sessions_init(s, (size_t) n * 2) != NC_RAFT_OK) {
        return NC_RAFT_ERROR;
    }

    p += 8;

    for (i = 0; i < n; i++) {
        v[0] = v[1] = v[2] = 0;

        for (k = 0; k < 24; k++) {
            v[k / 8] |= (uint64_t) p[k] << (8 * (k % 8));
        }

        p += 24;
        sl = nc_raft_session_slot(s, v[0]);

        if (v[0] == 0 || sl->client_id == v[0]) {
            return NC_RAFT_ERROR;           /* zero or duplicate id */
        }

        sl->client_id = v[0];
        sl->seq = v[1];
        sl->last_index = v[2];
        s->n++;
    }

    return NC_RAFT_OK;
}
