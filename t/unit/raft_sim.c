/*
 * nacre: deterministic simulator for the Raft core.
 *
 * One seed drives everything: N cores (3 or 5 voters plus spare nodes that
 * join as learners), an in-memory disk that loses or tears the unsynced
 * part of a write when a node crashes in the middle of a ready, and a
 * network that drops, duplicates, delays and reorders, with symmetric,
 * one-way and bridge partitions, crashes and restarts, clock skew and
 * pauses, membership changes and leadership transfers.  After every event
 * the safety properties are checked; at the end the faults heal and the
 * cluster must elect a leader and commit within a bounded number of ticks.
 *
 * Every message goes through the binary codec, so the codec is exercised
 * with real traffic too.
 *
 *   raft_sim                      default CI budget: the planted-bug
 *                                 campaign, then 1500 seeds
 *   raft_sim --seeds N [--first S]
 *   raft_sim --seed S [--trace]   replay one seed
 *   raft_sim --nodes 3|5
 *   raft_sim --bugs [--budget N]  planted bugs must all be caught
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_raft.h"
#include "nc_raft_session.h"


#define SIM_MAX_NODES     8
#define SIM_SPARES        2
#define SIM_CLIENTS       4
#define SIM_ROUNDS        600
#define SIM_LIVE_ROUNDS   600
#define SIM_MAX_ENTS      4096


typedef struct {
    uint64_t                term;
    uint64_t                index;
    uint64_t                client;
    uint64_t                seq;
    uint32_t                type;
    uint32_t                len;
    unsigned char          *data;
} sim_ent_t;


typedef struct {
    nc_raft_hard_state_t    hs;
    sim_ent_t              *ents;         /* base + 1 ... base + n */
    size_t                  n;
    size_t                  cap;
    uint64_t                base;
    uint64_t                base_term;
    uint64_t                snap_index;
    uint64_t                snap_term;
    nc_raft_conf_t          snap_conf;
    unsigned char          *snap_data;
    size_t                  snap_len;
} sim_disk_t;


typedef struct {
    uint64_t                applied;
    uint64_t                chain;
    nc_raft_sessions_t      sess;
    nc_raft_conf_t          conf;
} sim_fsm_t;


typedef struct {
    uint64_t                id;
    int                     alive;
    int                     retired;
    int                     role;
    uint64_t                term;
    uint64_t                commit;
    nc_raft_t              *r;
    sim_disk_t              disk;
    sim_fsm_t               fsm;
    unsigned                tick_pct;
    unsigned                tick_credit;
    uint64_t                paused_until;
    nc_raft_conf_t          boot_conf;
} sim_node_t;


typedef struct {
    uint64_t                from;
    uint64_t                to;
    uint64_t                at;
    size_t                  len;
    unsigned char          *buf;
} sim_msg_t;


typedef struct {
    uint64_t                seq;
    int                     pending;
    uint64_t                sent_at;
} sim_client_t;


typedef struct {
    uint64_t                term;
    uint64_t                hash;
    uint64_t                chain;
    uint64_t                cterm;        /* a term it was committed by */
} sim_applied_t;


typedef struct {
    uint64_t                floor;
    int                     done;
} sim_read_t;


typedef struct {
    uint64_t                seed;
    unsigned                bugs;
    int                     trace;
    int                     nvoters;
    int                     n;
    nc_raft_rand_t          rnd;
    uint64_t                now;
    int                     faults;

    /* per-seed knobs */
    int                     pre_vote;
    int                     check_quorum;
    size_t                  max_msg_bytes;
    unsigned                max_inflight;
    uint64_t                snapshot_entries;
    size_t                  snap_chunk;
    unsigned                drop_pct;
    unsigned                dup_pct;
    unsigned                max_delay;
    unsigned                crash_ready_pct;
    unsigned                chaos;

    sim_node_t              nodes[SIM_MAX_NODES + 1];
    int                     blocked[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];

    sim_msg_t              *net;
    size_t                  net_n;
    size_t                  net_cap;

    uint64_t               *leaders;      /* by term */
    size_t                  leaders_cap;

    sim_applied_t          *ga;           /* by index */
    size_t                  ga_n;
    size_t                  ga_cap;

    sim_client_t            clients[SIM_CLIENTS + 1];
    uint64_t                max_acked;

    sim_read_t             *reads;
    size_t                  reads_n;
    size_t                  reads_cap;

    uint64_t                events;
    uint64_t                violations;
    char                    why[256];
    int                     failed;
    int                     live_phase;
} sim_t;


static unsigned char  sim_buf[64 * 1024 * 1024];
static nc_raft_entry_t  sim_dec_ents[NC_RAFT_MAX_MSG_ENTRIES];


static void sim_process(sim_t *s, sim_node_t *nd);


static void
sim_trace(sim_t *s, const char *fmt, ...)
{
    va_list  ap;

    if (!s->trace) {
        return;
    }

    printf("t=%" PRIu64 " ", s->now);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}


static void
sim_fail(sim_t *s, const char *fmt, ...)
{
    va_list  ap;

    s->violations++;

    if (s->failed) {
        return;
    }

    s->failed = 1;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);

    if (s->trace) {
        printf("t=%" PRIu64 " VIOLATION: %s\n", s->now, s->why);
    }
}


static uint64_t
sim_rand(sim_t *s, uint64_t n)
{
    return nc_raft_rand_below(&s->rnd, n);
}


static int
sim_pct(sim_t *s, unsigned pct)
{
    return sim_rand(s, 1000) < pct;
}


static void *
sim_grow(void *p, size_t *cap, size_t need, size_t esz)
{
    size_t  c;

    if (need <= *cap) {
        return p;
    }

    c = *cap ? *cap : 64;

    while (c < need) {
        c *= 2;
    }

    p = realloc(p, c * esz);
    if (p == NULL) {
        fprintf(stderr, "raft_sim: out of memory\n");
        exit(2);
    }

    *cap = c;

    return p;
}


static uint64_t
sim_hash(uint64_t h, const void *p, size_t len)
{
    size_t                i;
    const unsigned char  *c;

    c = p;

    for (i = 0; i < len; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static uint64_t
sim_ent_hash(const nc_raft_entry_t *e)
{
    uint64_t  h, v[4];

    v[0] = e->term;
    v[1] = e->type;
    v[2] = e->client_id;
    v[3] = e->seq;
    h = sim_hash(0xcbf29ce484222325ULL, v, sizeof(v));

    return sim_hash(h, e->data, e->len);
}


/* the disk, seen by the core through nc_raft_storage_t */

static sim_disk_t *
sim_disk(void *ctx)
{
    return &((sim_node_t *) ctx)->disk;
}


static uint64_t
sim_first_index(void *ctx)
{
    return sim_disk(ctx)->base + 1;
}


static uint64_t
sim_last_index(void *ctx)
{
    sim_disk_t  *d = sim_disk(ctx);

    return d->base + d->n;
}


static int
sim_term(void *ctx, uint64_t index, uint64_t *term)
{
    sim_disk_t  *d = sim_disk(ctx);

    if (index == d->base) {
        *term = d->base_term;
        return NC_RAFT_OK;
    }

    if (index < d->base || index > d->base + d->n) {
        return NC_RAFT_DECLINED;
    }

    *term = d->ents[index - d->base - 1].term;

    return NC_RAFT_OK;
}


static int
sim_entries(void *ctx, uint64_t lo, uint64_t hi, nc_raft_entry_t *out,
    size_t *n, size_t max_bytes)
{
    size_t       k, bytes;
    uint64_t     i;
    sim_ent_t   *e;
    sim_disk_t  *d = sim_disk(ctx);

    if (lo <= d->base || hi > d->base + d->n || lo > hi) {
        return NC_RAFT_DECLINED;
    }

    bytes = 0;
    k = 0;

    for (i = lo; i <= hi; i++) {
        e = &d->ents[i - d->base - 1];
        out[k].term = e->term;
        out[k].index = e->index;
        out[k].client_id = e->client;
        out[k].seq = e->seq;
        out[k].type = e->type;
        out[k].len = e->len;
        out[k].data = e->data;
        k++;
        bytes += e->len;

        if (bytes >= max_bytes) {
            break;
        }
    }

    *n = k;

    return NC_RAFT_OK;
}


static int
sim_snapshot(void *ctx, nc_raft_snapshot_t *snap)
{
    sim_disk_t  *d = sim_disk(ctx);

    if (d->snap_index == 0) {
        return NC_RAFT_AGAIN;
    }

    snap->index = d->snap_index;
    snap->term = d->snap_term;
    snap->conf = d->snap_conf;
    snap->data = d->snap_data;
    snap->len = d->snap_len;

    return NC_RAFT_OK;
}


static void
sim_disk_truncate(sim_disk_t *d, uint64_t from)
{
    while (d->n && d->base + d->n >= from) {
        free(d->ents[d->n - 1].data);
        d->n--;
    }
}


static void
sim_disk_append(sim_disk_t *d, const nc_raft_entry_t *e)
{
    sim_ent_t  *se;

    d->ents = sim_grow(d->ents, &d->cap, d->n + 1, sizeof(sim_ent_t));
    se = &d->ents[d->n++];
    se->term = e->term;
    se->index = e->index;
    se->client = e->client_id;
    se->seq = e->seq;
    se->type = e->type;
    se->len = e->len;
    se->data = NULL;

    if (e->len) {
        se->data = malloc(e->len);
        memcpy(se->data, e->data, e->len);
    }
}


static void
sim_disk_compact(sim_disk_t *d, uint64_t to)
{
    size_t  k;

    if (to <= d->base || to > d->base + d->n) {
        return;
    }

    k = (size_t) (to - d->base);
    d->base_term = d->ents[k - 1].term;

    for (size_t i = 0; i < k; i++) {
        free(d->ents[i].data);
    }

    memmove(d->ents, d->ents + k, (d->n - k) * sizeof(sim_ent_t));
    d->n -= k;
    d->base = to;
}


static void
sim_disk_free(sim_disk_t *d)
{
    sim_disk_truncate(d, 0);
    free(d->ents);
    free(d->snap_data);
    memset(d, 0, sizeof(sim_disk_t));
}


/* the state machine */

static size_t
sim_fsm_image(sim_fsm_t *f, unsigned char *buf, size_t size)
{
    size_t  n;

    if (size < 16) {
        return 0;
    }

    memcpy(buf, &f->applied, 8);
    memcpy(buf + 8, &f->chain, 8);
    n = nc_raft_sessions_encode(&f->sess, buf + 16, size - 16);

    return n ? n + 16 : 0;
}


static int
sim_fsm_restore(sim_fsm_t *f, const unsigned char *p, size_t len,
    const nc_raft_conf_t *conf)
{
    if (len < 16) {
        return -1;
    }

    memcpy(&f->applied, p, 8);
    memcpy(&f->chain, p + 8, 8);
    f->conf = *conf;

    return nc_raft_sessions_decode(&f->sess, p + 16, len - 16);
}


static void
sim_record_apply(sim_t *s, sim_node_t *nd, const nc_raft_entry_t *e)
{
    uint64_t        h, node;
    int             op;
    nc_raft_conf_t  c;
    sim_applied_t  *a;

    if (e->index != nd->fsm.applied + 1) {
        sim_fail(s, "n%" PRIu64 " applies %" PRIu64 " after %" PRIu64,
                 nd->id, e->index, nd->fsm.applied);
        return;
    }

    h = sim_ent_hash(e);
    nd->fsm.applied = e->index;

    if (e->type == NC_RAFT_ENTRY_NORMAL
        && nc_raft_session_check(&nd->fsm.sess, e->client_id, e->seq,
                                 e->index) == NC_RAFT_OK)
    {
        /* only effective writes change the state */
        nd->fsm.chain = sim_hash(nd->fsm.chain, &h, sizeof(h));
    }

    if (e->type == NC_RAFT_ENTRY_CONF
        && nc_raft_conf_change_decode(e->data, e->len, &op, &node, &c)
           == NC_RAFT_OK)
    {
        nd->fsm.conf = c;

        if (op == NC_RAFT_CONF_REMOVE && node <= (uint64_t) s->n
            && !s->nodes[node].retired)
        {
            /* the operator shuts a removed node down for good */
            s->nodes[node].retired = 1;
            sim_trace(s, "n%" PRIu64 " retired", node);
        }
    }

    if (e->index <= s->ga_n) {
        a = &s->ga[e->index - 1];

        if (nd->term < a->cterm) {
            a->cterm = nd->term;
        }

        if (a->term != e->term || a->hash != h) {
            sim_fail(s, "state machine safety: n%" PRIu64 " applied index %"
                     PRIu64 " term %" PRIu64 ", another node term %" PRIu64,
                     nd->id, e->index, e->term, a->term);
            return;
        }

        if (a->chain != nd->fsm.chain) {
            sim_fail(s, "state diverged at index %" PRIu64 " on n%" PRIu64,
                     e->index, nd->id);
        }

        return;
    }

    if (e->index != s->ga_n + 1) {
        sim_fail(s, "n%" PRIu64 " applied %" PRIu64 " beyond known %zu",
                 nd->id, e->index, s->ga_n);
        return;
    }

    s->ga = sim_grow(s->ga, &s->ga_cap, s->ga_n + 1, sizeof(sim_applied_t));
    a = &s->ga[s->ga_n++];
    a->term = e->term;
    a->hash = h;
    a->chain = nd->fsm.chain;
    a->cterm = nd->term;

    /* the client learns of its write when it is applied */
    if (e->type == NC_RAFT_ENTRY_NORMAL && e->client_id <= SIM_CLIENTS
        && e->client_id && s->clients[e->client_id].pending
        && s->clients[e->client_id].seq == e->seq)
    {
        s->clients[e->client_id].pending = 0;
        if (e->index > s->max_acked) {
            s->max_acked = e->index;
        }
    }

    if (e->type == NC_RAFT_ENTRY_NORMAL && e->client_id > SIM_CLIENTS) {
        if (e->index > s->max_acked) {
            s->max_acked = e->index;
        }
    }
}


/* nodes */

static void
sim_start(sim_t *s, sim_node_t *nd)
{
    nc_raft_config_t  cf;

    memset(&cf, 0, sizeof(cf));
    cf.id = nd->id;
    cf.election_tick = 10;
    cf.heartbeat_tick = 1;
    cf.max_inflight = s->max_inflight;
    cf.max_msg_bytes = s->max_msg_bytes;
    cf.snapshot_entries = s->snapshot_entries;
    cf.snap_chunk = s->snap_chunk;
    cf.pre_vote = s->pre_vote;
    cf.check_quorum = s->check_quorum;
    cf.seed = s->seed * 7919 + s->now;
    cf.test_bugs = s->bugs;
    cf.storage.ctx = nd;
    cf.storage.entries = sim_entries;
    cf.storage.term = sim_term;
    cf.storage.first_index = sim_first_index;
    cf.storage.last_index = sim_last_index;
    cf.storage.snapshot = sim_snapshot;
    cf.hs = nd->disk.hs;

    /* the state machine restarts from the snapshot on disk */
    nc_raft_sessions_free(&nd->fsm.sess);
    nc_raft_sessions_init(&nd->fsm.sess, 16);
    nd->fsm.applied = 0;
    nd->fsm.chain = 0;
    nd->fsm.conf = nd->boot_conf;

    if (nd->disk.snap_index) {
        if (sim_fsm_restore(&nd->fsm, nd->disk.snap_data, nd->disk.snap_len,
                            &nd->disk.snap_conf) != 0)
        {
            sim_fail(s, "n%" PRIu64 " snapshot on disk unreadable", nd->id);
        }
    }

    cf.applied = nd->fsm.applied;
    cf.conf = nd->fsm.conf;

    if (nc_raft_create(&cf, &nd->r) != NC_RAFT_OK) {
        sim_fail(s, "n%" PRIu64 " failed to start (lost committed entries)",
                 nd->id);
        nd->r = NULL;
        nd->alive = 0;
        return;
    }

    nd->alive = 1;
    nd->commit = nc_raft_commit(nd->r);
    nd->role = NC_RAFT_FOLLOWER;
    nd->term = nd->disk.hs.term;
    sim_trace(s, "n%" PRIu64 " start term %" PRIu64 " applied %" PRIu64
              " last %" PRIu64, nd->id, nd->term, nd->fsm.applied,
              nd->disk.base + nd->disk.n);
}


static void
sim_crash(sim_t *s, sim_node_t *nd)
{
    if (!nd->alive) {
        return;
    }

    sim_trace(s, "n%" PRIu64 " crash", nd->id);
    nc_raft_destroy(nd->r);
    nd->r = NULL;
    nd->alive = 0;
}


/* the network */

static void
sim_send(sim_t *s, const nc_raft_msg_t *m)
{
    size_t      len;
    int         copies, i;
    sim_msg_t  *sm;

    if (m->to == 0 || m->to > (uint64_t) s->n) {
        return;
    }

    len = nc_raft_msg_encode(m, sim_buf, sizeof(sim_buf));
    if (len == 0) {
        sim_fail(s, "encode failed for type %u", m->type);
        return;
    }

    copies = 1;

    if (s->faults) {
        if (s->blocked[m->from][m->to] || sim_pct(s, s->drop_pct)) {
            sim_trace(s, "drop %" PRIu64 "->%" PRIu64 " type %u", m->from,
                      m->to, m->type);
            return;
        }

        if (sim_pct(s, s->dup_pct)) {
            copies = 2;
        }
    }

    for (i = 0; i < copies; i++) {
        s->net = sim_grow(s->net, &s->net_cap, s->net_n + 1,
                          sizeof(sim_msg_t));
        sm = &s->net[s->net_n++];
        sm->from = m->from;
        sm->to = m->to;
        sm->at = s->now + 1;

        if (s->faults && s->max_delay) {
            sm->at += sim_rand(s, s->max_delay + 1);

            if (sim_pct(s, 10)) {
                sm->at += sim_rand(s, 30);        /* a long delay */
            }
        }

        sm->len = len;
        sm->buf = malloc(len);
        memcpy(sm->buf, sim_buf, len);
    }
}


static void
sim_check_leader(sim_t *s, sim_node_t *nd)
{
    int       role;
    size_t    i;
    uint64_t  term, t;

    role = nc_raft_role(nd->r);
    term = nc_raft_term(nd->r);

    if (term < nd->term) {
        sim_fail(s, "n%" PRIu64 " term went back %" PRIu64 " -> %" PRIu64,
                 nd->id, nd->term, term);
    }

    if (role == NC_RAFT_LEADER && (nd->role != role || nd->term != term)) {
        if (term >= s->leaders_cap) {
            i = s->leaders_cap;
            s->leaders = sim_grow(s->leaders, &s->leaders_cap, term + 1,
                                  sizeof(uint64_t));
            memset(s->leaders + i, 0, (s->leaders_cap - i) * sizeof(uint64_t));
        }

        if (s->leaders[term] && s->leaders[term] != nd->id) {
            sim_fail(s, "election safety: n%" PRIu64 " and n%" PRIu64
                     " both leaders of term %" PRIu64, s->leaders[term],
                     nd->id, term);
        }

        s->leaders[term] = nd->id;
        sim_trace(s, "n%" PRIu64 " leader term %" PRIu64, nd->id, term);

        /* leader completeness: every applied entry is in its log */
        for (i = 1; i <= s->ga_n; i++) {
            if (nc_raft_log_term(nd->r, i, &t) != NC_RAFT_OK) {
                if (i > nc_raft_last_index(nd->r)
                    && term > s->ga[i - 1].cterm)
                {
                    sim_fail(s, "leader completeness: n%" PRIu64 " leader of"
                             " term %" PRIu64 " lacks index %zu", nd->id,
                             term, i);
                    break;
                }
                continue;              /* compacted into its snapshot */
            }

            if (t != s->ga[i - 1].term && term > s->ga[i - 1].cterm) {
                sim_fail(s, "leader completeness: n%" PRIu64 " term %"
                         PRIu64 " has term %" PRIu64 " at %zu, committed %"
                         PRIu64, nd->id, term, t, i, s->ga[i - 1].term);
                break;
            }
        }

    } else if (nd->role != role) {
        sim_trace(s, "n%" PRIu64 " role %d term %" PRIu64, nd->id, role,
                  term);
    }

    nd->role = role;
    nd->term = term;
}


static void
sim_last(sim_t *s, int id, uint64_t *index, uint64_t *term)
{
    sim_node_t  *nd;

    nd = &s->nodes[id];

    if (nd->alive) {
        *index = nc_raft_last_index(nd->r);
        if (nc_raft_log_term(nd->r, *index, term) != NC_RAFT_OK) {
            *term = 0;
        }

    } else {
        *index = sim_last_index(nd);
        if (sim_term(nd, *index, term) != NC_RAFT_OK) {
            *term = 0;
        }
    }
}


static int
sim_has(sim_t *s, int id, uint64_t index, uint64_t term)
{
    uint64_t     t;
    sim_node_t  *nd;

    nd = &s->nodes[id];

    if (nd->alive) {
        if (nc_raft_log_term(nd->r, index, &t) == NC_RAFT_OK) {
            return t == term;
        }

        return index < nc_raft_last_index(nd->r);     /* compacted */
    }

    if (index <= nd->disk.base) {
        return index < nd->disk.base || nd->disk.base_term == term;
    }

    return sim_term(nd, index, &t) == NC_RAFT_OK && t == term;
}


/*
 * A committed entry must survive any election: no voter lacking it may
 * have a log at least as up to date as a quorum of voters.  Checked when a
 * leader advances its commit index, this catches an unsafe commit at once,
 * before the election that would overwrite it.
 */

static void
sim_check_durable(sim_t *s, sim_node_t *l, uint64_t index)
{
    uint32_t               i, j, n;
    uint64_t               term, xi, xt, vi, vt;
    const nc_raft_conf_t  *c;

    if (nc_raft_log_term(l->r, index, &term) != NC_RAFT_OK) {
        return;
    }

    c = nc_raft_conf(l->r);

    for (i = 0; i < c->n_voters; i++) {
        if (c->voters[i] > (uint64_t) s->n
            || sim_has(s, (int) c->voters[i], index, term))
        {
            continue;
        }

        sim_last(s, (int) c->voters[i], &xi, &xt);
        n = 0;

        for (j = 0; j < c->n_voters; j++) {
            if (c->voters[j] > (uint64_t) s->n) {
                continue;
            }

            sim_last(s, (int) c->voters[j], &vi, &vt);

            if (xt > vt || (xt == vt && xi >= vi)) {
                n++;
            }
        }

        if (n >= c->n_voters / 2 + 1) {
            sim_fail(s, "commit not durable: n%" PRIu64 " committed %" PRIu64
                     " (term %" PRIu64 ") but n%" PRIu64 " lacks it and can"
                     " win an election", l->id, index, term, c->voters[i]);
            return;
        }
    }
}


static void
sim_make_snapshot(sim_t *s, sim_node_t *nd)
{
    size_t       len;
    uint64_t     idx, term, trail;
    sim_disk_t  *d;

    d = &nd->disk;
    idx = nd->fsm.applied;

    if (idx <= d->snap_index || sim_term(nd, idx, &term) != NC_RAFT_OK) {
        return;
    }

    len = sim_fsm_image(&nd->fsm, sim_buf, sizeof(sim_buf));
    if (len == 0) {
        return;
    }

    free(d->snap_data);
    d->snap_data = malloc(len);
    memcpy(d->snap_data, sim_buf, len);
    d->snap_len = len;
    d->snap_index = idx;
    d->snap_term = term;
    d->snap_conf = nd->fsm.conf;

    trail = sim_rand(s, 8);
    if (idx > trail) {
        sim_disk_compact(d, idx - trail);
        nc_raft_compacted(nd->r, idx - trail);
    }

    sim_trace(s, "n%" PRIu64 " snapshot at %" PRIu64, nd->id, idx);
}


static void
sim_process(sim_t *s, sim_node_t *nd)
{
    int               crash, rounds;
    size_t            i, keep, total;
    sim_disk_t       *d;
    nc_raft_ready_t   rd;

    for (rounds = 0; nd->alive && nc_raft_has_ready(nd->r); rounds++) {

        if (rounds > 1000) {
            sim_fail(s, "n%" PRIu64 " ready loop does not settle", nd->id);
            return;
        }

        nc_raft_ready(nd->r, &rd);
        d = &nd->disk;

        crash = s->faults
                && sim_pct(s, rd.hs_changed ? s->crash_ready_pct * 10
                                            : s->crash_ready_pct);

        for (i = 0; i < rd.n_msgs; i++) {
            sim_send(s, &rd.msgs[i]);
        }

        if (rd.snapshot) {
            if (crash && sim_rand(s, 2)) {
                sim_crash(s, nd);
                return;
            }

            free(d->snap_data);
            d->snap_data = malloc(rd.snapshot->len ? rd.snapshot->len : 1);
            memcpy(d->snap_data, rd.snapshot->data, rd.snapshot->len);
            d->snap_len = rd.snapshot->len;
            d->snap_index = rd.snapshot->index;
            d->snap_term = rd.snapshot->term;
            d->snap_conf = rd.snapshot->conf;
            sim_disk_truncate(d, 0);
            d->base = rd.snapshot->index;
            d->base_term = rd.snapshot->term;

            if (sim_fsm_restore(&nd->fsm, d->snap_data, d->snap_len,
                                &d->snap_conf) != 0
                || nd->fsm.applied != rd.snapshot->index)
            {
                sim_fail(s, "n%" PRIu64 " bad snapshot image", nd->id);
            }

            if (rd.snapshot->index <= s->ga_n
                && s->ga[rd.snapshot->index - 1].chain != nd->fsm.chain)
            {
                sim_fail(s, "n%" PRIu64 " installed a diverged snapshot",
                         nd->id);
            }

            sim_trace(s, "n%" PRIu64 " installed snapshot %" PRIu64, nd->id,
                      rd.snapshot->index);
        }

        /* the write is the entries then the hard state, in one stream */

        total = rd.n_entries + (rd.hs_changed ? 1 : 0);
        keep = crash ? (size_t) sim_rand(s, total + 1) : total;

        if (rd.n_entries) {
            if (rd.entries[0].index <= d->hs.commit) {
                sim_fail(s, "n%" PRIu64 " overwrites committed index %"
                         PRIu64, nd->id, rd.entries[0].index);
            }

            if (keep) {
                sim_disk_truncate(d, rd.entries[0].index);
            }

            for (i = 0; i < rd.n_entries && i < keep; i++) {
                sim_disk_append(d, &rd.entries[i]);
            }
        }

        if (rd.hs_changed && keep == total) {
            if (rd.hs.term < d->hs.term
                || (rd.hs.term == d->hs.term && d->hs.vote
                    && rd.hs.vote != d->hs.vote))
            {
                sim_fail(s, "n%" PRIu64 " hard state went back", nd->id);
            }

            d->hs = rd.hs;
        }

        if (crash) {
            sim_trace(s, "n%" PRIu64 " crash during ready, kept %zu/%zu",
                      nd->id, keep, total);
            sim_crash(s, nd);
            return;
        }

        for (i = 0; i < rd.n_msgs_after; i++) {
            sim_send(s, &rd.msgs_after[i]);
        }

        for (i = 0; i < rd.n_committed; i++) {
            sim_record_apply(s, nd, &rd.committed[i]);
        }

        for (i = 0; i < rd.n_reads; i++) {
            if (rd.reads[i].ctx == 0 || rd.reads[i].ctx > s->reads_n) {
                sim_fail(s, "unknown read ctx %" PRIu64, rd.reads[i].ctx);
                continue;
            }

            if (rd.reads[i].index < s->reads[rd.reads[i].ctx - 1].floor) {
                sim_fail(s, "stale read on n%" PRIu64 ": read index %"
                         PRIu64 " below %" PRIu64 " acknowledged before",
                         nd->id, rd.reads[i].index,
                         s->reads[rd.reads[i].ctx - 1].floor);
            }

            s->reads[rd.reads[i].ctx - 1].done = 1;
        }

        nc_raft_advance(nd->r);

        if (nc_raft_applied(nd->r) != nd->fsm.applied) {
            sim_fail(s, "n%" PRIu64 " applied %" PRIu64 " but state machine"
                     " at %" PRIu64, nd->id, nc_raft_applied(nd->r),
                     nd->fsm.applied);
        }

        if (nc_raft_role(nd->r) == NC_RAFT_LEADER
            && nc_raft_commit(nd->r) > nd->commit)
        {
            sim_check_durable(s, nd, nc_raft_commit(nd->r));
        }

        nd->commit = nc_raft_commit(nd->r);

        if (rd.want_snapshot && sim_rand(s, 2)) {
            sim_make_snapshot(s, nd);
        }

        sim_check_leader(s, nd);
    }
}


static void
sim_deliver(sim_t *s, size_t k)
{
    int            rc;
    sim_msg_t      sm;
    sim_node_t    *nd;
    nc_raft_msg_t  m;

    sm = s->net[k];
    s->net[k] = s->net[--s->net_n];
    nd = &s->nodes[sm.to];

    if (!nd->alive || (s->faults && s->blocked[sm.from][sm.to])) {
        free(sm.buf);
        return;
    }

    rc = nc_raft_msg_decode(sm.buf, sm.len, &m, sim_dec_ents,
                            NC_RAFT_MAX_MSG_ENTRIES);
    if (rc != NC_RAFT_OK) {
        sim_fail(s, "decode of an encoded message failed");
        free(sm.buf);
        return;
    }

    s->events++;
    sim_trace(s, "deliver %" PRIu64 "->%" PRIu64 " type %u term %" PRIu64
              " idx %" PRIu64 " lt %" PRIu64 " n %u commit %" PRIu64
              " flags %u ctx %" PRIu64, m.from, m.to, m.type, m.term,
              m.index, m.log_term, m.n_entries, m.commit, m.flags, m.ctx);

    if (nc_raft_step(nd->r, &m) != NC_RAFT_OK) {
        sim_fail(s, "n%" PRIu64 " rejected a valid message", nd->id);
    }

    free(sm.buf);
    sim_process(s, nd);
}


/* clients and operators */

static sim_node_t *
sim_leader(sim_t *s)
{
    int          i;
    uint64_t     best;
    sim_node_t  *l;

    l = NULL;
    best = 0;

    for (i = 1; i <= s->n; i++) {
        if (s->nodes[i].alive && nc_raft_role(s->nodes[i].r) == NC_RAFT_LEADER
            && nc_raft_term(s->nodes[i].r) >= best)
        {
            best = nc_raft_term(s->nodes[i].r);
            l = &s->nodes[i];
        }
    }

    return l;
}


static sim_node_t *
sim_random_alive(sim_t *s)
{
    int  i, k;

    for (k = 0; k < 16; k++) {
        i = 1 + (int) sim_rand(s, s->n);

        if (s->nodes[i].alive) {
            return &s->nodes[i];
        }
    }

    return NULL;
}


static void
sim_propose(sim_t *s, sim_node_t *nd, uint64_t client, uint64_t seq)
{
    int              rc;
    uint64_t         idx, payload[2];
    nc_raft_entry_t  e;

    payload[0] = client;
    payload[1] = seq * 1000003 + s->seed;

    memset(&e, 0, sizeof(e));
    e.type = NC_RAFT_ENTRY_NORMAL;
    e.client_id = client;
    e.seq = seq;
    e.data = (unsigned char *) payload;
    e.len = (uint32_t) (8 + sim_rand(s, 9));

    rc = nc_raft_propose(nd->r, &e, 1, &idx);
    sim_trace(s, "propose c%" PRIu64 " s%" PRIu64 " on n%" PRIu64 ": %d",
              client, seq, nd->id, rc);
    s->events++;
    sim_process(s, nd);
}


static void
sim_clients(sim_t *s)
{
    int            i;
    sim_node_t    *nd;
    sim_client_t  *c;
    sim_read_t    *rd;

    for (i = 1; i <= SIM_CLIENTS; i++) {
        c = &s->clients[i];

        if (c->pending && s->now - c->sent_at < 30) {
            continue;
        }

        if (!sim_pct(s, 300)) {
            continue;
        }

        if (!c->pending) {
            c->seq++;
            c->pending = 1;
        }

        /* a retry of the same (client, seq) must not apply twice */
        c->sent_at = s->now;
        nd = sim_pct(s, 800) ? sim_leader(s) : sim_random_alive(s);

        if (nd) {
            sim_propose(s, nd, (uint64_t) i, c->seq);
        }
    }

    if (sim_pct(s, 80)) {
        nd = sim_random_alive(s);

        if (nd) {
            s->reads = sim_grow(s->reads, &s->reads_cap, s->reads_n + 1,
                                sizeof(sim_read_t));
            rd = &s->reads[s->reads_n++];
            rd->floor = s->max_acked;
            rd->done = 0;
            sim_trace(s, "read %zu on n%" PRIu64 " floor %" PRIu64,
                      s->reads_n, nd->id, rd->floor);
            (void) nc_raft_read_index(nd->r, s->reads_n);
            s->events++;
            sim_process(s, nd);
        }
    }
}


static void
sim_operator(sim_t *s)
{
    int                    i, op, rc, burst;
    uint64_t               node;
    sim_node_t            *l;
    const nc_raft_conf_t  *c;

    l = sim_leader(s);
    if (l == NULL) {
        return;
    }

    c = nc_raft_conf(l->r);

    burst = sim_pct(s, 8) ? 1 + (int) sim_rand(s, 3) : 0;

    /* an operator script may fire several changes back to back */
    while (burst-- > 0) {
        op = 1 + (int) sim_rand(s, 3);
        node = 0;

        if (op == NC_RAFT_CONF_ADD_LEARNER) {
            for (i = s->nvoters + 1; i <= s->n; i++) {
                if (!s->nodes[i].retired
                    && !nc_raft_conf_is_voter(c, (uint64_t) i)
                    && !nc_raft_conf_is_learner(c, (uint64_t) i))
                {
                    node = (uint64_t) i;
                    break;
                }
            }

        } else if (op == NC_RAFT_CONF_PROMOTE) {
            if (c->n_learners) {
                node = c->learners[sim_rand(s, c->n_learners)];
            }

        } else {
            if (c->n_learners && sim_rand(s, 2)) {
                node = c->learners[sim_rand(s, c->n_learners)];

            } else if (c->n_voters > 3) {
                node = c->voters[sim_rand(s, c->n_voters)];
            }
        }

        if (node) {
            rc = nc_raft_propose_conf_change(l->r, op, node, NULL);
            sim_trace(s, "conf change op %d node %" PRIu64 " on n%" PRIu64
                      ": %d", op, node, l->id, rc);
            s->events++;
            sim_process(s, l);

            if (!l->alive || nc_raft_role(l->r) != NC_RAFT_LEADER) {
                break;
            }

            c = nc_raft_conf(l->r);
        }
    }

    if (!l->alive || nc_raft_role(l->r) != NC_RAFT_LEADER) {
        return;
    }

    c = nc_raft_conf(l->r);

    if (sim_pct(s, 5) && c->n_voters > 1) {
        node = c->voters[sim_rand(s, c->n_voters)];
        rc = nc_raft_transfer_leader(l->r, node);
        sim_trace(s, "transfer n%" PRIu64 " -> n%" PRIu64 ": %d", l->id,
                  node, rc);
        s->events++;
        sim_process(s, l);
    }
}


static void
sim_partition(sim_t *s)
{
    int  i, j, kind, side[SIM_MAX_NODES + 1], bridge;

    memset(s->blocked, 0, sizeof(s->blocked));
    kind = (int) sim_rand(s, 3);

    for (i = 1; i <= s->n; i++) {
        side[i] = (int) sim_rand(s, 2);
    }

    if (kind == 0) {
        for (i = 1; i <= s->n; i++) {
            for (j = 1; j <= s->n; j++) {
                s->blocked[i][j] = side[i] != side[j];
            }
        }

        sim_trace(s, "partition: symmetric");

    } else if (kind == 1) {
        for (i = 0; i < 3; i++) {
            s->blocked[1 + sim_rand(s, s->n)][1 + sim_rand(s, s->n)] = 1;
        }

        sim_trace(s, "partition: one-way links");

    } else {
        bridge = 1 + (int) sim_rand(s, s->n);

        for (i = 1; i <= s->n; i++) {
            for (j = 1; j <= s->n; j++) {
                s->blocked[i][j] = side[i] != side[j] && i != bridge
                                   && j != bridge;
            }
        }

        sim_trace(s, "partition: bridge n%d", bridge);
    }
}


static void
sim_faults(sim_t *s)
{
    int          i;
    sim_node_t  *nd;

    if (sim_pct(s, 2 * s->chaos)) {
        nd = sim_random_alive(s);
        if (nd) {
            sim_crash(s, nd);
        }
    }

    for (i = 1; i <= s->n; i++) {
        nd = &s->nodes[i];

        if (!nd->alive && !nd->retired && sim_pct(s, 40)) {
            sim_start(s, nd);
        }
    }

    if (sim_pct(s, 3 * s->chaos)) {
        sim_partition(s);
    }

    if (sim_pct(s, 12)) {
        memset(s->blocked, 0, sizeof(s->blocked));
        sim_trace(s, "heal");
    }

    if (sim_pct(s, 2 * s->chaos)) {
        nd = &s->nodes[1 + sim_rand(s, s->n)];
        nd->paused_until = s->now + 5 + sim_rand(s, 40);
        sim_trace(s, "n%" PRIu64 " paused", nd->id);
    }
}


static void
sim_round(sim_t *s)
{
    int          i;
    size_t       k, due;
    sim_node_t  *nd;

    s->now++;

    for (i = 1; i <= s->n; i++) {
        nd = &s->nodes[i];

        if (!nd->alive || nd->paused_until > s->now) {
            continue;
        }

        nd->tick_credit += nd->tick_pct;

        while (nd->alive && nd->tick_credit >= 100) {
            nd->tick_credit -= 100;
            nc_raft_tick(nd->r);
            s->events++;
            sim_process(s, nd);
        }
    }

    /* deliver what is due, in random order */

    for ( ;; ) {
        due = 0;

        for (k = 0; k < s->net_n; k++) {
            if (s->net[k].at <= s->now
                && s->nodes[s->net[k].to].paused_until <= s->now)
            {
                due++;
            }
        }

        if (due == 0) {
            break;
        }

        due = sim_rand(s, due);

        for (k = 0; k < s->net_n; k++) {
            if (s->net[k].at <= s->now
                && s->nodes[s->net[k].to].paused_until <= s->now)
            {
                if (due-- == 0) {
                    sim_deliver(s, k);
                    break;
                }
            }
        }

        if (s->failed) {
            return;
        }
    }

    sim_clients(s);

    if (s->faults) {
        sim_operator(s);
        sim_faults(s);
    }
}


static void
sim_check_log_matching(sim_t *s)
{
    int       i, j;
    uint64_t  a, b, hi, lo, k, ta, tb;

    for (i = 1; i <= s->n; i++) {
        for (j = i + 1; j <= s->n; j++) {
            if (!s->nodes[i].alive || !s->nodes[j].alive) {
                continue;
            }

            a = nc_raft_last_index(s->nodes[i].r);
            b = nc_raft_last_index(s->nodes[j].r);
            hi = a < b ? a : b;
            lo = hi > 64 ? hi - 64 : 1;

            /* find the highest common (index, term) */
            for (k = hi; k >= lo && k > 0; k--) {
                if (nc_raft_log_term(s->nodes[i].r, k, &ta) == NC_RAFT_OK
                    && nc_raft_log_term(s->nodes[j].r, k, &tb) == NC_RAFT_OK
                    && ta == tb)
                {
                    break;
                }
            }

            for ( ; k >= lo && k > 0; k--) {
                if (nc_raft_log_term(s->nodes[i].r, k, &ta) == NC_RAFT_OK
                    && nc_raft_log_term(s->nodes[j].r, k, &tb) == NC_RAFT_OK
                    && ta != tb)
                {
                    sim_fail(s, "log matching: n%d and n%d differ at %"
                             PRIu64, i, j, k);
                    return;
                }
            }
        }
    }
}


static int
sim_live(sim_t *s)
{
    int                    i, rounds;
    uint64_t               mark, seq, id;
    sim_node_t            *l, *nd;
    const nc_raft_conf_t  *c;

    s->faults = 0;
    s->live_phase = 1;
    memset(s->blocked, 0, sizeof(s->blocked));

    for (i = 1; i <= s->n; i++) {
        nd = &s->nodes[i];
        nd->paused_until = 0;
        nd->tick_pct = 100;

        if (!nd->alive && !nd->retired) {
            sim_start(s, nd);

        } else if (nd->alive && nd->retired) {
            /* removed members are shut down by the operator */
            sim_crash(s, nd);
        }
    }

    mark = 0;
    seq = 1;

    for (rounds = 0; rounds < SIM_LIVE_ROUNDS && !s->failed; rounds++) {
        sim_round(s);

        /*
         * A removal that commits after the heal (proposed just before it)
         * retires its node now: the operator shuts it down, as above.
         * Left running, the removed node never learns of its removal (the
         * leader stops replicating to it once the change applies), so it
         * times out and campaigns at a higher term every election timeout;
         * without PreVote and CheckQuorum every member steps down for it
         * (thesis 4.2.3) and no leader lasts long enough to be checked.
         * That is a fault the heal must not leave active.
         */
        for (i = 1; i <= s->n; i++) {
            if (s->nodes[i].alive && s->nodes[i].retired) {
                sim_crash(s, &s->nodes[i]);
            }
        }

        l = sim_leader(s);
        if (l == NULL) {
            continue;
        }

        if (mark == 0 || nc_raft_term(l->r) != mark >> 40) {
            /* a marker write, as a fresh client */
            sim_propose(s, l, SIM_CLIENTS + 1 + rounds, seq++);
            mark = (nc_raft_term(l->r) << 40) | nc_raft_last_index(l->r);
            continue;
        }

        c = nc_raft_conf(l->r);

        for (i = 0; i < (int) (c->n_voters + c->n_learners); i++) {
            id = i < (int) c->n_voters ? c->voters[i]
                                       : c->learners[i - c->n_voters];
            nd = &s->nodes[id];

            if (nd->alive && nd->fsm.applied < (mark & ((1ULL << 40) - 1))) {
                break;
            }
        }

        if (i == (int) (c->n_voters + c->n_learners)) {
            return 1;
        }
    }

    if (!s->failed) {
        sim_fail(s, "liveness: no leader commit and apply on every member"
                 " within %d ticks after healing", SIM_LIVE_ROUNDS);
    }

    return 0;
}


static void
sim_free(sim_t *s)
{
    int     i;
    size_t  k;

    for (i = 1; i <= s->n; i++) {
        if (s->nodes[i].r) {
            nc_raft_destroy(s->nodes[i].r);
        }

        sim_disk_free(&s->nodes[i].disk);
        nc_raft_sessions_free(&s->nodes[i].fsm.sess);
    }

    for (k = 0; k < s->net_n; k++) {
        free(s->net[k].buf);
    }

    free(s->net);
    free(s->leaders);
    free(s->ga);
    free(s->reads);
}


static int
sim_run(uint64_t seed, int nvoters, unsigned bugs, int trace,
    uint64_t *events, char *why, size_t why_len)
{
    int          i, round;
    sim_t       *s;
    sim_node_t  *nd;
    static const size_t    bytes[] = { 1, 1, 16, 64, 512, 1 << 20 };
    static const unsigned  infl[] = { 1, 2, 4, 256 };

    s = calloc(1, sizeof(sim_t));
    s->seed = seed;
    s->bugs = bugs;
    s->trace = trace;
    nc_raft_rand_seed(&s->rnd, seed);

    s->nvoters = nvoters ? nvoters : (sim_rand(s, 2) ? 5 : 3);
    s->n = s->nvoters + SIM_SPARES;
    s->pre_vote = sim_rand(s, 4) != 0;
    s->check_quorum = sim_rand(s, 4) != 0;
    s->max_msg_bytes = bytes[sim_rand(s, 6)];
    s->max_inflight = infl[sim_rand(s, 4)];
    s->snapshot_entries = sim_rand(s, 3) ? 8 + sim_rand(s, 40) : 0;
    s->snap_chunk = sim_rand(s, 2) ? 8 + sim_rand(s, 40) : 1 << 20;
    s->drop_pct = (unsigned) sim_rand(s, 100);
    s->dup_pct = (unsigned) sim_rand(s, 50);
    s->max_delay = (unsigned) sim_rand(s, 4);
    s->crash_ready_pct = (unsigned) sim_rand(s, 10);
    s->chaos = 1 + (unsigned) sim_rand(s, 4);
    s->faults = 1;

    if (trace) {
        printf("seed %" PRIu64 ": voters %d pre_vote %d check_quorum %d "
               "msg_bytes %zu inflight %u snapshot_entries %" PRIu64
               " chunk %zu drop %u/1000 dup %u/1000 delay %u chaos %u\n", seed,
               s->nvoters, s->pre_vote, s->check_quorum, s->max_msg_bytes,
               s->max_inflight, s->snapshot_entries, s->snap_chunk,
               s->drop_pct, s->dup_pct, s->max_delay, s->chaos);
    }

    for (i = 1; i <= s->n; i++) {
        nd = &s->nodes[i];
        nd->id = (uint64_t) i;
        nd->tick_pct = 70 + (unsigned) sim_rand(s, 61);

        if (i <= s->nvoters) {
            for (int k = 1; k <= s->nvoters; k++) {
                nd->boot_conf.voters[nd->boot_conf.n_voters++] = (uint64_t) k;
            }
        }

        sim_start(s, nd);
    }

    for (round = 0; round < SIM_ROUNDS && !s->failed; round++) {
        sim_round(s);

        if (round % 25 == 0) {
            sim_check_log_matching(s);
        }
    }

    if (!s->failed) {
        sim_live(s);
    }

    *events += s->events;

    if (s->failed) {
        snprintf(why, why_len, "%s", s->why);
    }

    i = s->failed;
    sim_free(s);
    free(s);

    return i ? -1 : 0;
}


static const struct {
    unsigned     bit;
    const char  *name;
} sim_bugs[] = {
    { NC_RAFT_BUG_COMMIT_PREV_TERM, "COMMIT_PREV_TERM" },
    { NC_RAFT_BUG_VOTE_NOT_PERSISTED, "VOTE_NOT_PERSISTED" },
    { NC_RAFT_BUG_STALE_TERM_APPEND, "STALE_TERM_APPEND" },
    { NC_RAFT_BUG_CONF_AT_APPEND, "CONF_AT_APPEND" },
    { NC_RAFT_BUG_READ_NO_QUORUM, "READ_NO_QUORUM" },
    /* NC_RAFT_BUG_COMMIT_PAST_NEW is left to a unit scenario: too rare */
};


int
main(int argc, char **argv)
{
    int       i, nodes, trace, bugs, rc, caught, failed_bugs;
    char      why[256];
    uint64_t  first, seeds, seed, events, passed, failed, budget, one;

    first = 1;
    seeds = 1500;
    nodes = 0;
    trace = 0;
    bugs = 0;
    one = 0;
    budget = 3000;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
            seeds = strtoull(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
            first = strtoull(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            one = strtoull(argv[++i], NULL, 10);

        } else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
            nodes = atoi(argv[++i]);
            if (nodes != 3 && nodes != 5) {
                fprintf(stderr, "raft_sim: --nodes 3 or 5\n");
                return 2;
            }

        } else if (strcmp(argv[i], "--trace") == 0) {
            trace = 1;

        } else if (strcmp(argv[i], "--bugs") == 0) {
            bugs = 1;

        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            budget = strtoull(argv[++i], NULL, 10);

        } else {
            fprintf(stderr, "usage: raft_sim [--seeds N] [--first S] "
                    "[--seed S [--trace]] [--nodes 3|5] [--bugs "
                    "[--budget N]]\n");
            return 2;
        }
    }

    events = 0;

    if (one) {
        rc = sim_run(one, nodes, 0, trace, &events, why, sizeof(why));
        printf("raft_sim: seed %" PRIu64 ": %s%s\n", one,
               rc ? "FAILED: " : "passed", rc ? why : "");
        return rc ? 1 : 0;
    }

    /* the default run checks the simulator itself first */
    if (argc == 1) {
        bugs = 2;
        budget = 2000;
    }

    failed_bugs = 0;

    if (bugs) {

        for (i = 0; i < (int) (sizeof(sim_bugs) / sizeof(sim_bugs[0])); i++) {
            caught = 0;

            for (seed = first; seed < first + budget; seed++) {
                if (sim_run(seed, nodes, sim_bugs[i].bit, 0, &events, why,
                            sizeof(why)) != 0)
                {
                    caught = 1;
                    break;
                }
            }

            if (caught) {
                printf("raft_sim: planted bug %s caught at seed %" PRIu64
                       " (%" PRIu64 " seeds): %s\n", sim_bugs[i].name, seed,
                       seed - first + 1, why);
            } else {
                printf("raft_sim: planted bug %s NOT caught in %" PRIu64
                       " seeds\n", sim_bugs[i].name, budget);
                failed_bugs++;
            }

            fflush(stdout);
        }

        printf("raft_sim: %d planted bugs caught, %d missed\n",
               (int) (sizeof(sim_bugs) / sizeof(sim_bugs[0])) - failed_bugs,
               failed_bugs);

        if (bugs == 1) {
            printf("raft_sim: events %" PRIu64 "\n", events);
            return failed_bugs ? 1 : 0;
        }

        events = 0;
    }

    passed = 0;
    failed = 0;

    for (seed = first; seed < first + seeds; seed++) {
        if (sim_run(seed, nodes, 0, 0, &events, why, sizeof(why)) == 0) {
            passed++;

        } else {
            failed++;
            printf("raft_sim: seed %" PRIu64 " FAILED: %s\n"
                   "raft_sim: replay with: raft_sim --seed %" PRIu64
                   " --trace\n", seed, why, seed);
        }

        if ((seed - first + 1) % 500 == 0) {
            printf("raft_sim: %" PRIu64 "/%" PRIu64 " seeds, %" PRIu64
                   " events\n", seed - first + 1, seeds, events);
            fflush(stdout);
        }
    }

    printf("raft_sim: %" PRIu64 " events, %" PRIu64 " violations\n", events,
           failed);
    printf("raft_sim: %" PRIu64 " passed, %" PRIu64 " failed\n", passed,
           failed);

    return (failed || failed_bugs) ? 1 : 0;
}
