/*
 * nacre: a small hand-driven Raft cluster for scenario tests: memory
 * storage, an outbox of encoded messages, and delivery under a filter.
 * Header-only, included by t/unit/test_raft*.c.
 */

#ifndef _RAFT_SIM_HARNESS_H_INCLUDED_
#define _RAFT_SIM_HARNESS_H_INCLUDED_


#include <stdlib.h>
#include <string.h>

#include "nc_raft.h"


#define H_MAX     8
#define H_MSGS    4096


typedef struct {
    nc_raft_entry_t         e;
    unsigned char          *data;         /* stable across array growth */
} h_ent_t;


typedef struct {
    uint64_t                id;
    nc_raft_t              *r;
    nc_raft_hard_state_t    hs;
    h_ent_t                *ents;         /* base + 1 ... */
    size_t                  n;
    uint64_t                base;
    uint64_t                base_term;
    nc_raft_snapshot_t      snap;
    unsigned char           snap_data[256];
    uint64_t                applied[4096];   /* (client << 32) | seq */
    size_t                  n_applied;
    nc_raft_read_state_t    reads[64];
    size_t                  n_reads;
    nc_raft_conf_t          conf;
} h_node_t;


typedef struct {
    uint64_t                from;
    uint64_t                to;
    uint32_t                type;
    size_t                  len;
    unsigned char          *buf;
} h_msg_t;


typedef struct {
    int                     n;
    h_node_t                nodes[H_MAX + 1];
    h_msg_t                 out[H_MSGS];
    size_t                  n_out;
    int                     blocked[H_MAX + 1][H_MAX + 1];
    nc_raft_config_t        base;
    size_t                  snap_image;   /* >0: snapshot on want_snapshot */
} h_cluster_t;


static h_node_t *
h_node(void *ctx)
{
    return ctx;
}


static uint64_t
h_first(void *ctx)
{
    return h_node(ctx)->base + 1;
}


static uint64_t
h_last(void *ctx)
{
    return h_node(ctx)->base + h_node(ctx)->n;
}


static int
h_term(void *ctx, uint64_t i, uint64_t *t)
{
    h_node_t  *nd = h_node(ctx);

    if (i == nd->base) {
        *t = nd->base_term;
        return NC_RAFT_OK;
    }

    if (i < nd->base || i > nd->base + nd->n) {
        return NC_RAFT_DECLINED;
    }

    *t = nd->ents[i - nd->base - 1].e.term;

    return NC_RAFT_OK;
}


static int
h_entries(void *ctx, uint64_t lo, uint64_t hi, nc_raft_entry_t *out,
    size_t *n, size_t max_bytes)
{
    size_t     k, bytes;
    h_node_t  *nd = h_node(ctx);

    if (lo <= nd->base || hi > nd->base + nd->n) {
        return NC_RAFT_DECLINED;
    }

    bytes = 0;

    for (k = 0; lo + k <= hi; k++) {
        out[k] = nd->ents[lo + k - nd->base - 1].e;
        bytes += out[k].len;

        if (bytes >= max_bytes) {
            k++;
            break;
        }
    }

    *n = k;

    return NC_RAFT_OK;
}


static int
h_snapshot(void *ctx, nc_raft_snapshot_t *s)
{
    h_node_t  *nd = h_node(ctx);

    if (nd->snap.index == 0) {
        return NC_RAFT_AGAIN;
    }

    *s = nd->snap;

    return NC_RAFT_OK;
}


static void
h_append(h_node_t *nd, const nc_raft_entry_t *e)
{
    h_ent_t  *he;

    while (nd->n && nd->base + nd->n >= e->index) {
        free(nd->ents[--nd->n].data);
    }

    nd->ents = realloc(nd->ents, (nd->n + 1) * sizeof(h_ent_t));
    he = &nd->ents[nd->n++];
    he->e = *e;
    he->data = malloc(e->len + 1);

    if (e->len) {
        memcpy(he->data, e->data, e->len);
    }

    he->e.data = he->data;
}


/* drop entries from the tail down to n */

static void
h_trim(h_node_t *nd, size_t n)
{
    while (nd->n > n) {
        free(nd->ents[--nd->n].data);
    }
}


/* drop entries up to index from the head: they are in the snapshot */

static void
h_compact(h_node_t *nd, uint64_t index)
{
    size_t  i, k;

    if (index <= nd->base || index > nd->base + nd->n) {
        return;
    }

    k = (size_t) (index - nd->base);
    nd->base_term = nd->ents[k - 1].e.term;

    for (i = 0; i < k; i++) {
        free(nd->ents[i].data);
    }

    memmove(nd->ents, nd->ents + k, (nd->n - k) * sizeof(h_ent_t));
    nd->n -= k;
    nd->base = index;
}


/*
 * The caller's answer to want_snapshot: a snapshot at the applied index,
 * an image of h->snap_image bytes, then compaction up to it.
 */

static void
h_take_snapshot(h_cluster_t *h, int id)
{
    size_t     i;
    uint64_t   idx, term;
    h_node_t  *nd = &h->nodes[id];

    idx = nc_raft_applied(nd->r);

    if (idx <= nd->snap.index || h_term(nd, idx, &term) != NC_RAFT_OK
        || h->snap_image > sizeof(nd->snap_data))
    {
        return;
    }

    for (i = 0; i < h->snap_image; i++) {
        nd->snap_data[i] = (unsigned char) (idx + i);
    }

    nd->snap.index = idx;
    nd->snap.term = term;
    nd->snap.conf = *nc_raft_conf(nd->r);
    nd->snap.data = nd->snap_data;
    nd->snap.len = h->snap_image;
    h_compact(nd, idx);
    nc_raft_compacted(nd->r, idx);
}


/* fill a node's disk before it starts: entries of the given terms */

static void
h_preload(h_cluster_t *h, int id, const uint64_t *terms, size_t n,
    uint64_t term)
{
    size_t           i;
    nc_raft_entry_t  e;
    unsigned char    d[8];
    h_node_t        *nd = &h->nodes[id];

    for (i = 0; i < n; i++) {
        memset(&e, 0, sizeof(e));
        e.index = nd->base + nd->n + 1;
        e.term = terms[i];
        e.type = NC_RAFT_ENTRY_NORMAL;
        d[0] = (unsigned char) id;
        d[1] = (unsigned char) i;
        e.data = d;
        e.len = 2;
        h_append(nd, &e);
    }

    nd->hs.term = term;
}


static int
h_start(h_cluster_t *h, int id)
{
    nc_raft_config_t  cf;
    h_node_t         *nd = &h->nodes[id];

    cf = h->base;
    cf.id = (uint64_t) id;
    cf.storage.ctx = nd;
    cf.storage.entries = h_entries;
    cf.storage.term = h_term;
    cf.storage.first_index = h_first;
    cf.storage.last_index = h_last;
    cf.storage.snapshot = h_snapshot;
    cf.hs = nd->hs;
    cf.conf = nd->snap.index ? nd->snap.conf : nd->conf;
    cf.applied = nd->snap.index;
    nd->id = (uint64_t) id;

    return nc_raft_create(&cf, &nd->r);
}


static void
h_init(h_cluster_t *h, int voters, int learners)
{
    int  i, k;

    memset(h, 0, sizeof(h_cluster_t));
    h->n = voters + learners;
    h->base.election_tick = 10;
    h->base.heartbeat_tick = 1;
    h->base.pre_vote = 1;
    h->base.check_quorum = 1;
    h->base.seed = 42;

    for (i = 1; i <= h->n; i++) {
        for (k = 1; k <= voters; k++) {
            h->nodes[i].conf.voters[h->nodes[i].conf.n_voters++] =
                (uint64_t) k;
        }

        for (k = voters + 1; k <= h->n; k++) {
            h->nodes[i].conf.learners[h->nodes[i].conf.n_learners++] =
                (uint64_t) k;
        }
    }
}


static void
h_start_all(h_cluster_t *h)
{
    int  i;

    for (i = 1; i <= h->n; i++) {
        if (h_start(h, i) != NC_RAFT_OK) {
            abort();
        }
    }
}


static void
h_free(h_cluster_t *h)
{
    int     i;
    size_t  k;

    for (i = 1; i <= h->n; i++) {
        nc_raft_destroy(h->nodes[i].r);
        h_trim(&h->nodes[i], 0);
        free(h->nodes[i].ents);
    }

    for (k = 0; k < h->n_out; k++) {
        free(h->out[k].buf);
    }
}


static void
h_queue(h_cluster_t *h, const nc_raft_msg_t *m)
{
    unsigned char  *buf;
    size_t          len;

    len = nc_raft_msg_size(m);
    buf = malloc(len);

    if (nc_raft_msg_encode(m, buf, len) != len || h->n_out == H_MSGS) {
        abort();
    }

    h->out[h->n_out].from = m->from;
    h->out[h->n_out].to = m->to;
    h->out[h->n_out].type = m->type;
    h->out[h->n_out].len = len;
    h->out[h->n_out].buf = buf;
    h->n_out++;
}


/* persist, send, apply: the caller's side of the ready contract */

static void
h_ready(h_cluster_t *h, int id)
{
    size_t           i;
    uint64_t         v;
    h_node_t        *nd = &h->nodes[id];
    nc_raft_ready_t  rd;

    while (nc_raft_has_ready(nd->r)) {
        nc_raft_ready(nd->r, &rd);

        for (i = 0; i < rd.n_msgs; i++) {
            h_queue(h, &rd.msgs[i]);
        }

        if (rd.snapshot) {
            nd->snap = *rd.snapshot;
            memcpy(nd->snap_data, rd.snapshot->data, rd.snapshot->len);
            nd->snap.data = nd->snap_data;
            h_trim(nd, 0);
            nd->base = rd.snapshot->index;
            nd->base_term = rd.snapshot->term;
        }

        for (i = 0; i < rd.n_entries; i++) {
            h_append(nd, &rd.entries[i]);
        }

        if (rd.hs_changed) {
            nd->hs = rd.hs;
        }

        for (i = 0; i < rd.n_msgs_after; i++) {
            h_queue(h, &rd.msgs_after[i]);
        }

        for (i = 0; i < rd.n_committed; i++) {
            if (rd.committed[i].type == NC_RAFT_ENTRY_NORMAL
                && nd->n_applied < 4096)
            {
                v = (rd.committed[i].client_id << 32) | rd.committed[i].seq;
                nd->applied[nd->n_applied++] = v;
            }
        }

        for (i = 0; i < rd.n_reads && nd->n_reads < 64; i++) {
            nd->reads[nd->n_reads++] = rd.reads[i];
        }

        nc_raft_advance(nd->r);

        if (rd.want_snapshot && h->snap_image) {
            h_take_snapshot(h, id);
        }
    }
}


static void
h_ready_all(h_cluster_t *h)
{
    int  i;

    for (i = 1; i <= h->n; i++) {
        if (h->nodes[i].r) {
            h_ready(h, i);
        }
    }
}


/* deliver one queued message; blocked links drop it */

static int
h_deliver_one(h_cluster_t *h, size_t k)
{
    int              rc;
    h_msg_t          hm;
    nc_raft_msg_t    m;
    static nc_raft_entry_t  ents[1024];

    hm = h->out[k];
    memmove(&h->out[k], &h->out[k + 1], (h->n_out - k - 1) * sizeof(h_msg_t));
    h->n_out--;

    if (h->blocked[hm.from][hm.to] || h->nodes[hm.to].r == NULL) {
        free(hm.buf);
        return 0;
    }

    if (nc_raft_msg_decode(hm.buf, hm.len, &m, ents, 1024) != NC_RAFT_OK) {
        abort();
    }

    rc = nc_raft_step(h->nodes[hm.to].r, &m);
    free(hm.buf);
    h_ready(h, (int) hm.to);

    return rc;
}


static void
h_deliver(h_cluster_t *h)
{
    int  guard;

    h_ready_all(h);

    for (guard = 0; h->n_out && guard < 100000; guard++) {
        (void) h_deliver_one(h, 0);
    }
}


static void
h_drop_all(h_cluster_t *h)
{
    size_t  k;

    for (k = 0; k < h->n_out; k++) {
        free(h->out[k].buf);
    }

    h->n_out = 0;
}


static void
h_isolate(h_cluster_t *h, int id, int on)
{
    int  i;

    for (i = 1; i <= H_MAX; i++) {
        h->blocked[id][i] = on;
        h->blocked[i][id] = on;
    }
}


static void
h_tick(h_cluster_t *h, int id, int n)
{
    while (n-- > 0) {
        nc_raft_tick(h->nodes[id].r);
        h_ready(h, id);
    }
}


/* tick everybody once and deliver, n times */

static void
h_run(h_cluster_t *h, int n)
{
    int  i;

    while (n-- > 0) {
        for (i = 1; i <= h->n; i++) {
            if (h->nodes[i].r) {
                h_tick(h, i, 1);
            }
        }

        h_deliver(h);
    }
}


static void
h_elect(h_cluster_t *h, int id)
{
    (void) nc_raft_campaign(h->nodes[id].r);
    h_deliver(h);
}


static int
h_propose(h_cluster_t *h, int id, uint64_t client, uint64_t seq)
{
    int              rc;
    nc_raft_entry_t  e;
    unsigned char    d[4] = { 1, 2, 3, 4 };

    memset(&e, 0, sizeof(e));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.client_id = client;
    e.seq = seq;
    e.data = d;
    e.len = sizeof(d);

    rc = nc_raft_propose(h->nodes[id].r, &e, 1, NULL);
    h_ready(h, id);

    return rc;
}


static uint64_t
h_log_term(h_cluster_t *h, int id, uint64_t index)
{
    uint64_t  t;

    if (nc_raft_log_term(h->nodes[id].r, index, &t) != NC_RAFT_OK) {
        return (uint64_t) -1;
    }

    return t;
}


#endif /* _RAFT_SIM_HARNESS_H_INCLUDED_ */
