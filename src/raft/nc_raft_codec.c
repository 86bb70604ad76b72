/*
 * nacre: binary encoding of Raft messages and entries.
 *
 * Little-endian, versioned.  Decode trusts nothing: every count and length
 * is checked against the bytes left and against sane maxima, and protocol
 * invariants a correct sender never breaks (consecutive indexes, terms not
 * above the message term) are checked too.  Decoded entry and chunk data
 * point into the input buffer.
 */

#include <string.h>

#include "nc_raft.h"


#define NC_RAFT_MSG_HDR    (4 + 9 * 8)
#define NC_RAFT_ENT_HDR    (4 * 8 + 1 + 4)
#define NC_RAFT_FLAGS_ALL  (NC_RAFT_FLAG_REJECT|NC_RAFT_FLAG_TRANSFER       \
                            |NC_RAFT_FLAG_DONE)
#define NC_RAFT_MAX_SNAP   ((uint64_t) 1 << 40)


typedef struct {
    const unsigned char    *p;
    const unsigned char    *end;
    int                     err;
} nc_raft_rd_t;


static unsigned char *
nc_raft_put64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        *p++ = (unsigned char) (v >> (8 * i));
    }

    return p;
}


static unsigned char *
nc_raft_put32(unsigned char *p, uint32_t v)
{
    int  i;

    for (i = 0; i < 4; i++) {
        *p++ = (unsigned char) (v >> (8 * i));
    }

    return p;
}


static uint64_t
nc_raft_get(nc_raft_rd_t *rd, int bytes)
{
    int       i;
    uint64_t  v;

    if (rd->err || rd->end - rd->p < bytes) {
        rd->err = 1;
        return 0;
    }

    v = 0;

    for (i = 0; i < bytes; i++) {
        v |= (uint64_t) rd->p[i] << (8 * i);
    }

    rd->p += bytes;

    return v;
}


static const unsigned char *
nc_raft_get_bytes(nc_raft_rd_t *rd, uint64_t len)
{
    const unsigned char  *p;

    if (rd->err || (uint64_t) (rd->end - rd->p) < len) {
        rd->err = 1;
        return NULL;
    }

    p = rd->p;
    rd->p += len;

    return p;
}


static size_t
nc_raft_conf_size(const nc_raft_conf_t *c)
{
    return 2 + 8 * ((size_t) c->n_voters + c->n_learners);
}


static unsigned char *
nc_raft_put_conf(unsigned char *p, const nc_raft_conf_t *c)
{
    uint32_t  i;

    *p++ = (unsigned char) c->n_voters;
    *p++ = (unsigned char) c->n_learners;

    for (i = 0; i < c->n_voters; i++) {
        p = nc_raft_put64(p, c->voters[i]);
    }

    for (i = 0; i < c->n_learners; i++) {
        p = nc_raft_put64(p, c->learners[i]);
    }

    return p;
}


static int
nc_raft_get_conf(nc_raft_rd_t *rd, nc_raft_conf_t *c)
{
    uint32_t  i, j;

    memset(c, 0, sizeof(nc_raft_conf_t));

    c->n_voters = (uint32_t) nc_raft_get(rd, 1);
    c->n_learners = (uint32_t) nc_raft_get(rd, 1);

    if (rd->err || c->n_voters + c->n_learners > NC_RAFT_MAX_MEMBERS) {
        return NC_RAFT_ERROR;
    }

    for (i = 0; i < c->n_voters; i++) {
        c->voters[i] = nc_raft_get(rd, 8);
    }

    for (i = 0; i < c->n_learners; i++) {
        c->learners[i] = nc_raft_get(rd, 8);
    }

    if (rd->err) {
        return NC_RAFT_ERROR;
    }

    /* ids are nonzero and a node has one role */

    for (i = 0; i < c->n_voters + c->n_learners; i++) {
        uint64_t  a = i < c->n_voters ? c->voters[i]
                                      : c->learners[i - c->n_voters];

        if (a == NC_RAFT_NONE) {
            return NC_RAFT_ERROR;
        }

        for (j = i + 1; j < c->n_voters + c->n_learners; j++) {
            uint64_t  b = j < c->n_voters ? c->voters[j]
                                          : c->learners[j - c->n_voters];
            if (a == b) {
                return NC_RAFT_ERROR;
            }
        }
    }

    return NC_RAFT_OK;
}


size_t
nc_raft_msg_size(const nc_raft_msg_t *m)
{
    size_t    n;
    uint32_t  i;

    n = NC_RAFT_MSG_HDR;

    if (m->type == NC_RAFT_MSG_APP) {
        n += 4;

        for (i = 0; i < m->n_entries; i++) {
            n += NC_RAFT_ENT_HDR + m->entries[i].len;
        }

    } else if (m->type == NC_RAFT_MSG_SNAP) {
        n += 16 + nc_raft_conf_size(&m->snap.conf) + 16 + 4 + m->snap.len;
    }

    return n;
}


size_t
nc_raft_msg_encode(const nc_raft_msg_t *m, unsigned char *buf, size_t size)
{
    size_t                  n;
    uint32_t                i;
    unsigned char          *p;
    const nc_raft_entry_t  *e;

    n = nc_raft_msg_size(m);

    if (n > size) {
        return 0;
    }

    p = buf;
    *p++ = NC_RAFT_CODEC_VERSION;
    *p++ = (unsigned char) m->type;
    *p++ = (unsigned char) m->flags;
    *p++ = 0;
    p = nc_raft_put64(p, m->from);
    p = nc_raft_put64(p, m->to);
    p = nc_raft_put64(p, m->term);
    p = nc_raft_put64(p, m->log_term);
    p = nc_raft_put64(p, m->index);
    p = nc_raft_put64(p, m->commit);
    p = nc_raft_put64(p, m->ctx);
    p = nc_raft_put64(p, m->hint);
    p = nc_raft_put64(p, m->hint_term);

    if (m->type == NC_RAFT_MSG_APP) {
        p = nc_raft_put32(p, m->n_entries);

        for (i = 0; i < m->n_entries; i++) {
            e = &m->entries[i];
            p = nc_raft_put64(p, e->term);
            p = nc_raft_put64(p, e->index);
            p = nc_raft_put64(p, e->client_id);
            p = nc_raft_put64(p, e->seq);
            *p++ = (unsigned char) e->type;
            p = nc_raft_put32(p, e->len);

            if (e->len) {
                memcpy(p, e->data, e->len);
                p += e->len;
            }
        }

    } else if (m->type == NC_RAFT_MSG_SNAP) {
        p = nc_raft_put64(p, m->snap.index);
        p = nc_raft_put64(p, m->snap.term);
        p = nc_raft_put_conf(p, &m->snap.conf);
        p = nc_raft_put64(p, m->snap_offset);
        p = nc_raft_put64(p, m->snap_total);
        p = nc_raft_put32(p, (uint32_t) m->snap.len);

        if (m->snap.len) {
            memcpy(p, m->snap.data, m->snap.len);
            p += m->snap.len;
        }
    }

    return (size_t) (p - buf);
}


static int
nc_raft_get_entry(nc_raft_rd_t *rd, nc_raft_entry_t *e)
{
    e->term = nc_raft_get(rd, 8);
    e->index = nc_raft_get(rd, 8);
    e->client_id = nc_raft_get(rd, 8);
    e->seq = nc_raft_get(rd, 8);
    e->type = (uint32_t) nc_raft_get(rd, 1);
    e->len = (uint32_t) nc_raft_get(rd, 4);

    if (rd->err
        || e->type < NC_RAFT_ENTRY_NORMAL || e->type > NC_RAFT_ENTRY_CONF
        || e->len > NC_RAFT_MAX_ENTRY_SIZE
        || e->index == 0 || e->term == 0)
    {
        return NC_RAFT_ERROR;
    }

    e->data = nc_raft_get_bytes(rd, e->len);

    if (rd->err) {
        return NC_RAFT_ERROR;
    }

    if (e->len == 0) {
        e->data = NULL;
    }

    return NC_RAFT_OK;
}


int
nc_raft_msg_decode(const unsigned char *p, size_t len, nc_raft_msg_t *m,
    nc_raft_entry_t *ents, size_t max_ents)
{
    uint32_t          i, n;
    nc_raft_rd_t      rd;
    nc_raft_entry_t  *e;

    memset(m, 0, sizeof(nc_raft_msg_t));

    rd.p = p;
    rd.end = p + len;
    rd.err = 0;

    if (nc_raft_get(&rd, 1) != NC_RAFT_CODEC_VERSION) {
        return NC_RAFT_ERROR;
    }

    m->type = (uint32_t) nc_raft_get(&rd, 1);
    m->flags = (uint32_t) nc_raft_get(&rd, 1);

    if (nc_raft_get(&rd, 1) != 0) {
        return NC_RAFT_ERROR;            /* reserved */
    }

    m->from = nc_raft_get(&rd, 8);
    m->to = nc_raft_get(&rd, 8);
    m->term = nc_raft_get(&rd, 8);
    m->log_term = nc_raft_get(&rd, 8);
    m->index = nc_raft_get(&rd, 8);
    m->commit = nc_raft_get(&rd, 8);
    m->ctx = nc_raft_get(&rd, 8);
    m->hint = nc_raft_get(&rd, 8);
    m->hint_term = nc_raft_get(&rd, 8);

    if (rd.err
        || m->type == 0 || m->type > NC_RAFT_MSG_MAX
        || (m->flags & ~NC_RAFT_FLAGS_ALL)
        || m->from == NC_RAFT_NONE || m->to == NC_RAFT_NONE)
    {
        return NC_RAFT_ERROR;
    }

    if (m->type == NC_RAFT_MSG_APP) {
        n = (uint32_t) nc_raft_get(&rd, 4);

        if (rd.err || n > NC_RAFT_MAX_MSG_ENTRIES || n > max_ents
            || (uint64_t) n * NC_RAFT_ENT_HDR > (uint64_t) (rd.end - rd.p)
            || (n && m->index > UINT64_MAX - n))
        {
            return NC_RAFT_ERROR;
        }

        for (i = 0; i < n; i++) {
            e = &ents[i];

            if (nc_raft_get_entry(&rd, e) != NC_RAFT_OK
                || e->index != m->index + 1 + i
                || e->term > m->term
                || e->term < (i ? ents[i - 1].term : m->log_term))
            {
                return NC_RAFT_ERROR;
            }
        }

        m->n_entries = n;
        m->entries = n ? ents : NULL;

    } else if (m->type == NC_RAFT_MSG_SNAP) {
        m->snap.index = nc_raft_get(&rd, 8);
        m->snap.term = nc_raft_get(&rd, 8);

        if (nc_raft_get_conf(&rd, &m->snap.conf) != NC_RAFT_OK) {
            return NC_RAFT_ERROR;
        }

        m->snap_offset = nc_raft_get(&rd, 8);
        m->snap_total = nc_raft_get(&rd, 8);
        m->snap.len = (size_t) nc_raft_get(&rd, 4);

        if (rd.err
            || m->snap.index == 0 || m->snap.term == 0
            || m->snap.term > m->term
            || m->snap_total > NC_RAFT_MAX_SNAP
            || m->snap.len > NC_RAFT_MAX_CHUNK_SIZE
            || m->snap_offset > m->snap_total
            || m->snap.len > m->snap_total - m->snap_offset)
        {
            return NC_RAFT_ERROR;
        }

        m->snap.data = nc_raft_get_bytes(&rd, m->snap.len);
    }

    if (rd.err || rd.p != rd.end) {
        return NC_RAFT_ERROR;
    }

    return NC_RAFT_OK;
}


size_t
nc_raft_entry_encode(const nc_raft_entry_t *e, unsigned char *buf,
    size_t size)
{
    unsigned char  *p;

    if (size < 1 + NC_RAFT_ENT_HDR + (size_t) e->len) {
        return 0;
    }

    p = buf;
    *p++ = NC_RAFT_CODEC_VERSION;
    p = nc_raft_put64(p, e->term);
    p = nc_raft_put64(p, e->index);
    p = nc_raft_put64(p, e->client_id);
    p = nc_raft_put64(p, e->seq);
    *p++ = (unsigned char) e->type;
    p = nc_raft_put32(p, e->len);

    if (e->len) {
        memcpy(p, e->data, e->len);
        p += e->len;
    }

    return (size_t) (p - buf);
}


int
nc_raft_entry_decode(const unsigned char *p, size_t len, nc_raft_entry_t *e,
    size_t *used)
{
    nc_raft_rd_t  rd;

    rd.p = p;
    rd.end = p + len;
    rd.err = 0;

    if (nc_raft_get(&rd, 1) != NC_RAFT_CODEC_VERSION
        || nc_raft_get_entry(&rd, e) != NC_RAFT_OK)
    {
        return NC_RAFT_ERROR;
    }

    *used = (size_t) (rd.p - p);

    return NC_RAFT_OK;
}


size_t
nc_raft_conf_change_encode(unsigned char *buf, size_t size, int op,
    uint64_t node, const nc_raft_conf_t *conf)
{
    unsigned char  *p;

    if (size < 1 + 8 + nc_raft_conf_size(conf)) {
        return 0;
    }

    p = buf;
    *p++ = (unsigned char) op;
    p = nc_raft_put64(p, node);
    p = nc_raft_put_conf(p, conf);

    return (size_t) (p - buf);
}


int
nc_raft_conf_change_decode(const unsigned char *p, size_t len, int *op,
    uint64_t *node, nc_raft_conf_t *conf)
{
    nc_raft_rd_t  rd;

    rd.p = p;
    rd.end = p + len;
    rd.err = 0;

    *op = (int) nc_raft_get(&rd, 1);
    *node = nc_raft_get(&rd, 8);

    if (rd.err || *op < NC_RAFT_CONF_ADD_LEARNER || *op > NC_RAFT_CONF_REMOVE
        || *node == NC_RAFT_NONE
        || nc_raft_get_conf(&rd, conf) != NC_RAFT_OK
        || rd.p != rd.end)
    {
        return NC_RAFT_ERROR;
    }

    return NC_RAFT_OK;
}


void
nc_raft_rand_seed(nc_raft_rand_t *rnd, uint64_t seed)
{
    int       i;
    uint64_t  z;

    /* splitmix64 expands the seed into the xoshiro state */

    for (i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rnd->s[i] = z ^ (z >> 31);
    }
}


uint64_t
nc_raft_rand_next(nc_raft_rand_t *rnd)
{
    uint64_t  *s, r, t;

    s = rnd->s;
    r = s[1] * 5;
    r = ((r << 7) | (r >> 57)) * 9;
    t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);

    return r;
}


uint64_t
nc_raft_rand_below(nc_raft_rand_t *rnd, uint64_t n)
{
    return n ? nc_raft_rand_next(rnd) % n : 0;
}
