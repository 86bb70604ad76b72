/*
 * nacre: the Raft core.
 *
 * The structure follows etcd's raft: roles with step functions, per-peer
 * progress in probe/replicate/snapshot state with an in-flight window, an
 * in-memory log split into stable entries (also in the caller's storage)
 * and unstable ones (to be persisted from the next ready), and messages
 * split into those that may leave before the persist and those that must
 * wait for it (responses and vote requests of a new term).
 *
 * Contract with the caller: between nc_raft_ready() and nc_raft_advance()
 * no other function of this file is called, and everything in the ready is
 * persisted (and the committed entries applied) before nc_raft_advance().
 */

#include "nc_raft_int.h"


static void nc_raft_become_follower(nc_raft_t *r, uint64_t term,
    uint64_t lead);
static void nc_raft_send_append(nc_raft_t *r, nc_raft_pr_t *pr, int empty);
static void nc_raft_bcast_append(nc_raft_t *r);
static void nc_raft_bcast_heartbeat(nc_raft_t *r);
static int nc_raft_maybe_commit(nc_raft_t *r);
static void nc_raft_apply_conf(nc_raft_t *r, const nc_raft_conf_t *c);
static void nc_raft_release_reads(nc_raft_t *r);


static void *
nc_raft_alloc(nc_raft_t *r, size_t size)
{
    return r->al.alloc(r->al.ctx, size);
}


static void
nc_raft_free(nc_raft_t *r, void *p)
{
    if (p) {
        r->al.free(r->al.ctx, p);
    }
}


static void *
nc_raft_def_alloc(void *ctx, size_t size)
{
    (void) ctx;
    return malloc(size);
}


static void *
nc_raft_def_realloc(void *ctx, void *p, size_t size)
{
    (void) ctx;
    return realloc(p, size);
}


static void
nc_raft_def_free(void *ctx, void *p)
{
    (void) ctx;
    free(p);
}


static void *
nc_raft_vec_push(nc_raft_t *r, nc_raft_vec_t *v, size_t esz)
{
    size_t   cap;
    void    *p;

    if (v->n == v->cap) {
        cap = v->cap ? v->cap * 2 : 16;
        p = r->al.realloc(r->al.ctx, v->data, cap * esz);

        if (p == NULL) {
            return NULL;
        }

        v->data = p;
        v->cap = cap;
    }

    p = (unsigned char *) v->data + v->n * esz;
    v->n++;
    memset(p, 0, esz);

    return p;
}


/* the log */

static nc_raft_ment_t *
nc_raft_ment(nc_raft_t *r, uint64_t index)
{
    return &r->ring[(r->head + (index - r->mem_first)) & (r->cap - 1)];
}


static size_t
nc_raft_mem_count(nc_raft_t *r)
{
    return (size_t) (r->last + 1 - r->mem_first);
}


static void
nc_raft_blk_release(nc_raft_t *r, nc_raft_blk_t *b)
{
    if (b == NULL) {
        return;
    }

    if (--b->refs == 0 && b != r->blk) {
        /* freed at advance: unsent messages may still point into it */
        b->next = r->blk_dead;
        r->blk_dead = b;
    }
}


static int
nc_raft_copy_data(nc_raft_t *r, nc_raft_ment_t *me, const unsigned char *p,
    uint32_t len)
{
    size_t          size;
    nc_raft_blk_t  *b;

    me->blk = NULL;

    if (len == 0) {
        me->e.data = NULL;
        return NC_RAFT_OK;
    }

    b = r->blk;

    if (b == NULL || b->size - b->used < len) {

        if (b && b->refs == 0) {
            b->used = 0;

        } else {
            size = len > NC_RAFT_BLK_SIZE ? len : NC_RAFT_BLK_SIZE;

            if (r->blk_cache && r->blk_cache->size >= size) {
                b = r->blk_cache;
                r->blk_cache = b->next;
                r->n_cache--;

            } else {
                b = nc_raft_alloc(r, sizeof(nc_raft_blk_t) + size);
                if (b == NULL) {
                    return NC_RAFT_ERROR;
                }

                b->size = size;
            }

            b->used = 0;
            b->refs = 0;
            b->next = NULL;

            if (r->blk && r->blk->refs == 0) {
                r->blk->next = r->blk_dead;
                r->blk_dead = r->blk;
            }

            r->blk = b;
        }
    }

    memcpy(b->data + b->used, p, len);
    me->e.data = b->data + b->used;
    b->used += len;
    b->refs++;
    me->blk = b;

    return NC_RAFT_OK;
}


static int
nc_raft_mem_append(nc_raft_t *r, const nc_raft_entry_t *e)
{
    size_t           i, n, cap;
    nc_raft_ment_t  *ring, *me;

    n = nc_raft_mem_count(r);

    if (n == r->cap) {
        cap = r->cap ? r->cap * 2 : 64;
        ring = nc_raft_alloc(r, cap * sizeof(nc_raft_ment_t));
        if (ring == NULL) {
            return NC_RAFT_ERROR;
        }

        for (i = 0; i < n; i++) {
            ring[i] = r->ring[(r->head + i) & (r->cap - 1)];
        }

        nc_raft_free(r, r->ring);
        r->ring = ring;
        r->cap = cap;
        r->head = 0;
    }

    me = &r->ring[(r->head + n) & (r->cap - 1)];
    me->e = *e;

    if (nc_raft_copy_data(r, me, e->data, e->len) != NC_RAFT_OK) {
        return NC_RAFT_ERROR;
    }

    r->last++;
    me->e.index = r->last;

    return NC_RAFT_OK;
}


/* drop entries >= index from the tail of the in-memory log */

static void
nc_raft_mem_truncate(nc_raft_t *r, uint64_t index)
{
    while (r->last >= index && r->last >= r->mem_first) {
        nc_raft_blk_release(r, nc_raft_ment(r, r->last)->blk);
        r->last--;
    }

    if (index < r->mem_first) {
        /* the conflict lies in stable storage only: restart memory there */
        r->mem_first = index;
        r->last = index - 1;
        r->head = 0;
    }

    if (r->stable > index - 1) {
        r->stable = index - 1;
    }
}


/* drop entries < index from the head of the in-memory log */

static void
nc_raft_mem_trim(nc_raft_t *r, uint64_t index)
{
    while (r->mem_first < index && r->mem_first <= r->last) {
        nc_raft_blk_release(r, r->ring[r->head].blk);
        r->head = (r->head + 1) & (r->cap - 1);
        r->mem_first++;
    }
}


static void
nc_raft_mem_reset(nc_raft_t *r, uint64_t last)
{
    nc_raft_mem_trim(r, r->last + 1);
    r->mem_first = last + 1;
    r->last = last;
    r->head = 0;
}


static uint64_t
nc_raft_first_index(nc_raft_t *r)
{
    if (r->has_psnap) {
        return r->psnap.index + 1;
    }

    return r->cf.storage.first_index(r->cf.storage.ctx);
}


/*
 * The term of an index, or NC_RAFT_DECLINED if the entry is not in the log
 * (compacted or beyond its end): a missing entry never reads as term 0.
 */

static int
nc_raft_term_of(nc_raft_t *r, uint64_t index, uint64_t *term)
{
    if (index == 0) {
        *term = 0;
        return NC_RAFT_OK;
    }

    if (index > r->last) {
        return NC_RAFT_DECLINED;
    }

    if (index >= r->mem_first) {
        *term = nc_raft_ment(r, index)->e.term;
        return NC_RAFT_OK;
    }

    if (r->has_psnap) {
        if (index == r->psnap.index) {
            *term = r->psnap.term;
            return NC_RAFT_OK;
        }

        return NC_RAFT_DECLINED;
    }

    return r->cf.storage.term(r->cf.storage.ctx, index, term);
}


static uint64_t
nc_raft_last_term(nc_raft_t *r)
{
    uint64_t  t;

    if (nc_raft_term_of(r, r->last, &t) != NC_RAFT_OK) {
        return 0;
    }

    return t;
}


static int
nc_raft_match_term(nc_raft_t *r, uint64_t index, uint64_t term)
{
    uint64_t  t;

    return nc_raft_term_of(r, index, &t) == NC_RAFT_OK && t == term;
}


/*
 * Entries [lo, hi] appended to the vector v, at most max_bytes of data but
 * at least one entry.
 */

static int
nc_raft_get_entries(nc_raft_t *r, uint64_t lo, uint64_t hi,
    size_t max_bytes, nc_raft_vec_t *v)
{
    int               rc;
    size_t            bytes, n, i, first;
    uint64_t          shi;
    nc_raft_entry_t  *e;

    bytes = 0;

    if (lo < r->mem_first) {
        if (r->has_psnap) {
            return NC_RAFT_DECLINED;
        }

        shi = hi < r->mem_first ? hi : r->mem_first - 1;
        n = (size_t) (shi - lo + 1);

        /* room for n entries */
        first = v->n;

        for (i = 0; i < n; i++) {
            if (nc_raft_vec_push(r, v, sizeof(nc_raft_entry_t)) == NULL) {
                v->n = first;
                return NC_RAFT_ERROR;
            }
        }

        v->n = first;
        e = (nc_raft_entry_t *) v->data + first;

        rc = r->cf.storage.entries(r->cf.storage.ctx, lo, shi, e, &n,
                                   max_bytes);
        if (rc != NC_RAFT_OK) {
            return rc;
        }

        if (n == 0 || e[0].index != lo) {
            return NC_RAFT_ERROR;
        }

        for (i = 0; i < n; i++) {
            bytes += e[i].len;
        }

        v->n = first + n;

        if (n < (size_t) (shi - lo + 1) || bytes >= max_bytes) {
            return NC_RAFT_OK;
        }

        lo = shi + 1;
    }

    for ( ; lo <= hi; lo++) {
        e = nc_raft_vec_push(r, v, sizeof(nc_raft_entry_t));
        if (e == NULL) {
            return NC_RAFT_ERROR;
        }

        *e = nc_raft_ment(r, lo)->e;
        bytes += e->len;

        if (bytes >= max_bytes) {
            break;
        }
    }

    return NC_RAFT_OK;
}


/* messages */

static nc_raft_msg_t *
nc_raft_send(nc_raft_t *r, uint32_t type, uint64_t to)
{
    nc_raft_imsg_t  *im;

    im = nc_raft_vec_push(r, &r->msgs, sizeof(nc_raft_imsg_t));
    if (im == NULL) {
        return NULL;          /* a lost message, which Raft tolerates */
    }

    im->m.type = type;
    im->m.from = r->id;
    im->m.to = to;
    im->m.term = r->term;

    switch (type) {
    case NC_RAFT_MSG_APP_RESP:
    case NC_RAFT_MSG_PREVOTE_RESP:
    case NC_RAFT_MSG_VOTE:
        im->after = 1;
        break;

    case NC_RAFT_MSG_VOTE_RESP:
        im->after = !(r->bugs & NC_RAFT_BUG_VOTE_NOT_PERSISTED);
        break;

    default:
        im->after = 0;
    }

    return &im->m;
}


/* progress */

static nc_raft_pr_t *
nc_raft_pr(nc_raft_t *r, uint64_t id)
{
    unsigned  i;

    for (i = 0; i < r->n_prs; i++) {
        if (r->prs[i].id == id) {
            return &r->prs[i];
        }
    }

    return NULL;
}


static void
nc_raft_pr_reset(nc_raft_t *r, nc_raft_pr_t *pr, int state)
{
    pr->state = state;
    pr->probe_sent = 0;
    pr->infl_start = 0;
    pr->infl_count = 0;
    pr->snap_index = 0;
    pr->snap_offset = 0;
    pr->snap_wait = 0;
    (void) r;
}


static int
nc_raft_pr_paused(nc_raft_t *r, nc_raft_pr_t *pr)
{
    switch (pr->state) {
    case NC_RAFT_PR_PROBE:
        return pr->probe_sent;
    case NC_RAFT_PR_REPLICATE:
        return pr->infl_count >= r->cf.max_inflight;
    default:
        return 1;
    }
}


static void
nc_raft_infl_free_to(nc_raft_t *r, nc_raft_pr_t *pr, uint64_t index)
{
    while (pr->infl_count
           && pr->infl[pr->infl_start] <= index)
    {
        pr->infl_start = (pr->infl_start + 1) % r->cf.max_inflight;
        pr->infl_count--;
    }
}


static int
nc_raft_is_voter(nc_raft_t *r, uint64_t id)
{
    return nc_raft_conf_is_voter(&r->conf, id);
}


int
nc_raft_conf_is_voter(const nc_raft_conf_t *c, uint64_t id)
{
    uint32_t  i;

    for (i = 0; i < c->n_voters; i++) {
        if (c->voters[i] == id) {
            return 1;
        }
    }

    return 0;
}


int
nc_raft_conf_is_learner(const nc_raft_conf_t *c, uint64_t id)
{
    uint32_t  i;

    for (i = 0; i < c->n_learners; i++) {
        if (c->learners[i] == id) {
            return 1;
        }
    }

    return 0;
}


static unsigned
nc_raft_quorum(nc_raft_t *r)
{
    return r->conf.n_voters / 2 + 1;
}


/* role transitions */

static void
nc_raft_reset(nc_raft_t *r, uint64_t term)
{
    unsigned       i;
    nc_raft_pr_t  *pr;

    if (r->term != term) {
        r->term = term;
        r->vote = NC_RAFT_NONE;
    }

    r->lead = NC_RAFT_NONE;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    r->timeout = r->cf.election_tick
                 + (unsigned) nc_raft_rand_below(&r->rnd, r->cf.election_tick);
    r->transferee = NC_RAFT_NONE;
    r->readq.n = 0;
    r->hb_seq = 0;

    for (i = 0; i < r->n_prs; i++) {
        pr = &r->prs[i];
        nc_raft_pr_reset(r, pr, NC_RAFT_PR_PROBE);
        pr->match = 0;
        pr->next = r->last + 1;
        pr->vote = 0;
        pr->hb_ack = 0;
        pr->recent_active = 0;

        if (pr->id == r->id) {
            pr->match = r->stable;
            pr->recent_active = 1;
        }
    }
}


static void
nc_raft_become_follower(nc_raft_t *r, uint64_t term, uint64_t lead)
{
    nc_raft_reset(r, term);
    r->role = NC_RAFT_FOLLOWER;
    r->lead = lead;
}


static int
nc_raft_tally(nc_raft_t *r, int *rejected)
{
    unsigned  i, yes, no;

    yes = 0;
    no = 0;

    for (i = 0; i < r->n_prs; i++) {
        if (r->prs[i].learner) {
            continue;
        }

        if (r->prs[i].vote > 0) {
            yes++;

        } else if (r->prs[i].vote < 0) {
            no++;
        }
    }

    *rejected = no >= nc_raft_quorum(r);

    return yes >= nc_raft_quorum(r);
}


static void
nc_raft_become_leader(nc_raft_t *r)
{
    nc_raft_entry_t  noop;
    nc_raft_pr_t    *pr;

    nc_raft_reset(r, r->term);
    r->role = NC_RAFT_LEADER;
    r->lead = r->id;

    /* a change may be pending in the uncommitted tail: wait for it */
    r->pending_conf = r->last;

    memset(&noop, 0, sizeof(nc_raft_entry_t));
    noop.type = NC_RAFT_ENTRY_NOOP;
    noop.term = r->term;

    if (nc_raft_mem_append(r, &noop) != NC_RAFT_OK) {
        nc_raft_become_follower(r, r->term, NC_RAFT_NONE);
        return;
    }

    pr = nc_raft_pr(r, r->id);
    if (pr) {
        pr->state = NC_RAFT_PR_REPLICATE;
        pr->next = r->last + 1;
    }

    nc_raft_bcast_append(r);
}


static void
nc_raft_campaign_type(nc_raft_t *r, int pre, int transfer)
{
    unsigned        i;
    uint64_t        term;
    int             rejected;
    nc_raft_pr_t   *pr;
    nc_raft_msg_t  *m;

    if (pre) {
        nc_raft_reset(r, r->term);
        r->role = NC_RAFT_PRE_CANDIDATE;
        term = r->term + 1;

    } else {
        nc_raft_reset(r, r->term + 1);
        r->role = NC_RAFT_CANDIDATE;
        r->vote = r->id;
        term = r->term;
    }

    pr = nc_raft_pr(r, r->id);
    if (pr) {
        pr->vote = 1;
    }

    if (nc_raft_tally(r, &rejected)) {
        if (pre) {
            nc_raft_campaign_type(r, 0, transfer);
        } else {
            nc_raft_become_leader(r);
        }
        return;
    }

    for (i = 0; i < r->n_prs; i++) {
        pr = &r->prs[i];

        if (pr->id == r->id || pr->learner) {
            continue;
        }

        m = nc_raft_send(r, pre ? NC_RAFT_MSG_PREVOTE : NC_RAFT_MSG_VOTE,
                         pr->id);
        if (m == NULL) {
            continue;
        }

        m->term = term;
        m->index = r->last;
        m->log_term = nc_raft_last_term(r);
        m->flags = transfer ? NC_RAFT_FLAG_TRANSFER : 0;
    }
}


static int
nc_raft_has_unapplied_conf(nc_raft_t *r)
{
    uint64_t  i;

    for (i = r->applied + 1; i <= r->commit; i++) {
        if (i < r->mem_first || i > r->last) {
            return 1;          /* not cheaply known: assume there is one */
        }

        if (nc_raft_ment(r, i)->e.type == NC_RAFT_ENTRY_CONF) {
            return 1;
        }
    }

    return 0;
}


static void
nc_raft_hup(nc_raft_t *r, int transfer)
{
    if (r->role == NC_RAFT_LEADER
        || !nc_raft_is_voter(r, r->id)
        || r->has_psnap
        || nc_raft_has_unapplied_conf(r))
    {
        return;
    }

    nc_raft_campaign_type(r, r->cf.pre_vote && !transfer, transfer);
}


int
nc_raft_campaign(nc_raft_t *r)
{
    if (r->role == NC_RAFT_LEADER || !nc_raft_is_voter(r, r->id)) {
        return NC_RAFT_DECLINED;
    }

    nc_raft_hup(r, 0);

    return NC_RAFT_OK;
}


/* replication */

static void
nc_raft_send_snapshot_chunk(nc_raft_t *r, nc_raft_pr_t *pr)
{
    size_t              len;
    nc_raft_msg_t      *m;
    nc_raft_snapshot_t  snap;

    if (r->cf.storage.snapshot(r->cf.storage.ctx, &snap) != NC_RAFT_OK) {
        nc_raft_pr_reset(r, pr, NC_RAFT_PR_PROBE);
        return;
    }

    if (snap.index != pr->snap_index) {
        /* a newer snapshot replaced the one being sent: restart */
        pr->snap_index = snap.index;
        pr->snap_offset = 0;
    }

    len = snap.len - (size_t) pr->snap_offset;
    if (len > r->cf.snap_chunk) {
        len = r->cf.snap_chunk;
    }

    m = nc_raft_send(r, NC_RAFT_MSG_SNAP, pr->id);
    if (m == NULL) {
        return;
    }

    m->snap = snap;
    m->snap.data = snap.data + pr->snap_offset;
    m->snap.len = len;
    m->snap_offset = pr->snap_offset;
    m->snap_total = snap.len;

    if (pr->snap_offset + len == snap.len) {
        m->flags |= NC_RAFT_FLAG_DONE;
    }

    pr->snap_wait = 0;
}


static void
nc_raft_send_snapshot(nc_raft_t *r, nc_raft_pr_t *pr)
{
    nc_raft_snapshot_t  snap;

    if (!pr->recent_active) {
        return;
    }

    if (r->cf.storage.snapshot(r->cf.storage.ctx, &snap) != NC_RAFT_OK) {
        return;                     /* not ready yet: retried later */
    }

    nc_raft_pr_reset(r, pr, NC_RAFT_PR_SNAPSHOT);
    pr->snap_index = snap.index;
    pr->snap_offset = 0;
    nc_raft_send_snapshot_chunk(r, pr);
}


static void
nc_raft_send_append(nc_raft_t *r, nc_raft_pr_t *pr, int empty)
{
    int             rc;
    size_t          off;
    uint64_t        prev, prev_term, last_sent;
    nc_raft_msg_t  *m;

    if (pr->id == r->id || nc_raft_pr_paused(r, pr)
        || (!empty && pr->next > r->last))
    {
        return;
    }

    prev = pr->next - 1;

    if (nc_raft_term_of(r, prev, &prev_term) != NC_RAFT_OK) {
        nc_raft_send_snapshot(r, pr);
        return;
    }

    off = r->msg_ents.n;
    last_sent = prev;

    if (pr->next <= r->last) {
        rc = nc_raft_get_entries(r, pr->next, r->last, r->cf.max_msg_bytes,
                                 &r->msg_ents);
        if (rc == NC_RAFT_DECLINED) {
            r->msg_ents.n = off;
            nc_raft_send_snapshot(r, pr);
            return;
        }

        if (rc != NC_RAFT_OK) {
            r->msg_ents.n = off;
            return;
        }

        last_sent = prev + (r->msg_ents.n - off);
    }

    m = nc_raft_send(r, NC_RAFT_MSG_APP, pr->id);
    if (m == NULL) {
        r->msg_ents.n = off;
        return;
    }

    ((nc_raft_imsg_t *) r->msgs.data)[r->msgs.n - 1].off = off;
    m->index = prev;
    m->log_term = prev_term;
    m->n_entries = (uint32_t) (r->msg_ents.n - off);
    m->commit = r->commit;

    if (pr->state == NC_RAFT_PR_REPLICATE) {
        if (m->n_entries) {
            pr->next = last_sent + 1;
            pr->infl[(pr->infl_start + pr->infl_count) % r->cf.max_inflight]
                = last_sent;
            pr->infl_count++;
        }

    } else {
        pr->probe_sent = 1;
    }
}


static void
nc_raft_bcast_append(nc_raft_t *r)
{
    unsigned  i;

    for (i = 0; i < r->n_prs; i++) {
        nc_raft_send_append(r, &r->prs[i], 1);
    }
}


static void
nc_raft_bcast_heartbeat(nc_raft_t *r)
{
    unsigned        i;
    nc_raft_pr_t   *pr;
    nc_raft_msg_t  *m;

    r->hb_seq++;

    for (i = 0; i < r->n_prs; i++) {
        pr = &r->prs[i];

        if (pr->id == r->id) {
            pr->hb_ack = r->hb_seq;
            continue;
        }

        m = nc_raft_send(r, NC_RAFT_MSG_HEARTBEAT, pr->id);
        if (m == NULL) {
            continue;
        }

        m->commit = pr->match < r->commit ? pr->match : r->commit;
        m->ctx = r->hb_seq;
    }
}


static int
nc_raft_maybe_commit(nc_raft_t *r)
{
    unsigned   i, j, n;
    uint64_t   m[NC_RAFT_MAX_MEMBERS], t, q;

    n = 0;

    for (i = 0; i < r->n_prs; i++) {
        if (!r->prs[i].learner) {
            m[n++] = r->prs[i].match;
        }
    }

    if (n == 0) {
        return 0;
    }

    /* sort descending */
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && m[j - 1] < m[j]; j--) {
            t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    }

    q = m[nc_raft_quorum(r) - 1];

    if (q <= r->commit || nc_raft_term_of(r, q, &t) != NC_RAFT_OK) {
        return 0;
    }

    /* figure 8: only entries of the current term commit by counting */
    if (t != r->term && !(r->bugs & NC_RAFT_BUG_COMMIT_PREV_TERM)) {
        return 0;
    }

    r->commit = q;

    return 1;
}


static int
nc_raft_committed_in_term(nc_raft_t *r)
{
    return nc_raft_match_term(r, r->commit, r->term);
}


static void
nc_raft_send_timeout_now(nc_raft_t *r, uint64_t to)
{
    (void) nc_raft_send(r, NC_RAFT_MSG_TIMEOUT_NOW, to);
}


static void
nc_raft_handle_app_resp(nc_raft_t *r, const nc_raft_msg_t *m,
    nc_raft_pr_t *pr)
{
    uint64_t  next, hint, t;

    pr->recent_active = 1;

    if (m->flags & NC_RAFT_FLAG_REJECT) {

        if (pr->state == NC_RAFT_PR_REPLICATE) {
            if (m->index <= pr->match) {
                return;                         /* stale */
            }

            nc_raft_pr_reset(r, pr, NC_RAFT_PR_PROBE);
            pr->next = pr->match + 1;

        } else if (pr->state == NC_RAFT_PR_PROBE) {
            if (pr->next - 1 != m->index) {
                return;                         /* stale */
            }

            /*
             * fast backtracking: skip every entry whose term is above the
             * follower's term at its hint index
             */
            hint = m->hint;

            if (m->hint_term > 0) {
                for ( ;; ) {
                    if (hint == 0
                        || nc_raft_term_of(r, hint, &t) != NC_RAFT_OK
                        || t <= m->hint_term)
                    {
                        break;
                    }

                    hint--;
                }
            }

            next = m->index < hint + 1 ? m->index : hint + 1;
            pr->next = next > pr->match + 1 ? next : pr->match + 1;
            pr->probe_sent = 0;

        } else {
            return;
        }

        nc_raft_send_append(r, pr, 1);
        return;
    }

    if (m->index > pr->match) {
        pr->match = m->index;
    }

    if (pr->next < pr->match + 1) {
        pr->next = pr->match + 1;
    }

    switch (pr->state) {
    case NC_RAFT_PR_PROBE:
        nc_raft_pr_reset(r, pr, NC_RAFT_PR_REPLICATE);
        break;

    case NC_RAFT_PR_SNAPSHOT:
        if (pr->match >= pr->snap_index) {
            nc_raft_pr_reset(r, pr, NC_RAFT_PR_REPLICATE);
            pr->next = pr->match + 1;
        }
        break;

    default:
        nc_raft_infl_free_to(r, pr, m->index);
    }

    if (nc_raft_maybe_commit(r)) {
        nc_raft_bcast_append(r);

    } else {
        nc_raft_send_append(r, pr, 0);
    }

    /* more to send while the window has room */
    while (pr->state == NC_RAFT_PR_REPLICATE && pr->next <= r->last
           && !nc_raft_pr_paused(r, pr))
    {
        next = pr->next;
        nc_raft_send_append(r, pr, 0);

        if (pr->next == next) {
            break;
        }
    }

    if (pr->id == r->transferee && pr->match == r->last) {
        nc_raft_send_timeout_now(r, pr->id);
    }
}


static void
nc_raft_handle_snap_resp(nc_raft_t *r, const nc_raft_msg_t *m,
    nc_raft_pr_t *pr)
{
    pr->recent_active = 1;

    if (pr->state != NC_RAFT_PR_SNAPSHOT || m->index != pr->snap_index) {
        return;
    }

    pr->snap_offset = m->ctx;
    nc_raft_send_snapshot_chunk(r, pr);
}


static void
nc_raft_handle_heartbeat_resp(nc_raft_t *r, const nc_raft_msg_t *m,
    nc_raft_pr_t *pr)
{
    pr->recent_active = 1;
    pr->probe_sent = 0;

    if (m->ctx > pr->hb_ack && m->ctx <= r->hb_seq) {
        pr->hb_ack = m->ctx;
    }

    if (pr->state == NC_RAFT_PR_REPLICATE
        && pr->infl_count >= r->cf.max_inflight)
    {
        /* the window may be full of lost messages: let one more out */
        pr->infl_start = (pr->infl_start + 1) % r->cf.max_inflight;
        pr->infl_count--;
    }

    if (pr->match < r->last) {
        nc_raft_send_append(r, pr, 1);
    }

    nc_raft_release_reads(r);
}


static void
nc_raft_release_reads(nc_raft_t *r)
{
    size_t                 i, k;
    unsigned               j, acks;
    nc_raft_read_t        *q;
    nc_raft_msg_t         *m;
    nc_raft_read_state_t  *rs;

    q = r->readq.data;

    for (i = 0; i < r->readq.n; i++) {
        acks = 0;

        for (j = 0; j < r->n_prs; j++) {
            if (!r->prs[j].learner && r->prs[j].hb_ack >= q[i].seq) {
                acks++;
            }
        }

        if (acks < nc_raft_quorum(r)) {
            break;
        }

        if (q[i].from == r->id) {
            rs = nc_raft_vec_push(r, &r->reads, sizeof(nc_raft_read_state_t));
            if (rs) {
                rs->ctx = q[i].ctx;
                rs->index = q[i].index;
            }

        } else {
            m = nc_raft_send(r, NC_RAFT_MSG_READ_INDEX_RESP, q[i].from);
            if (m) {
                m->ctx = q[i].ctx;
                m->index = q[i].index;
            }
        }
    }

    if (i) {
        for (k = i; k < r->readq.n; k++) {
            q[k - i] = q[k];
        }

        r->readq.n -= i;
    }
}


static int
nc_raft_leader_read(nc_raft_t *r, uint64_t ctx, uint64_t from)
{
    nc_raft_read_t        *q;
    nc_raft_msg_t         *m;
    nc_raft_read_state_t  *rs;

    /* a new leader does not know its commit index before this */
    if (!nc_raft_committed_in_term(r)) {
        return NC_RAFT_AGAIN;
    }

    if ((r->bugs & NC_RAFT_BUG_READ_NO_QUORUM) || r->conf.n_voters == 1) {
        if (from == r->id) {
            rs = nc_raft_vec_push(r, &r->reads, sizeof(nc_raft_read_state_t));
            if (rs == NULL) {
                return NC_RAFT_ERROR;
            }

            rs->ctx = ctx;
            rs->index = r->commit;

        } else {
            m = nc_raft_send(r, NC_RAFT_MSG_READ_INDEX_RESP, from);
            if (m) {
                m->ctx = ctx;
                m->index = r->commit;
            }
        }

        return NC_RAFT_OK;
    }

    q = nc_raft_vec_push(r, &r->readq, sizeof(nc_raft_read_t));
    if (q == NULL) {
        return NC_RAFT_ERROR;
    }

    q->ctx = ctx;
    q->index = r->commit;
    q->from = from;

    /* a unique, leader-generated heartbeat sequence confirms this read */
    nc_raft_bcast_heartbeat(r);
    q->seq = r->hb_seq;

    return NC_RAFT_OK;
}


static int
nc_raft_step_leader(nc_raft_t *r, const nc_raft_msg_t *m)
{
    nc_raft_pr_t   *pr;
    nc_raft_msg_t  *rm;

    pr = nc_raft_pr(r, m->from);

    switch (m->type) {
    case NC_RAFT_MSG_APP_RESP:
        if (pr) {
            nc_raft_handle_app_resp(r, m, pr);
        }
        break;

    case NC_RAFT_MSG_HEARTBEAT_RESP:
        if (pr) {
            nc_raft_handle_heartbeat_resp(r, m, pr);
        }
        break;

    case NC_RAFT_MSG_SNAP_RESP:
        if (pr) {
            nc_raft_handle_snap_resp(r, m, pr);
        }
        break;

    case NC_RAFT_MSG_READ_INDEX:
        if (pr && nc_raft_leader_read(r, m->ctx, m->from) == NC_RAFT_AGAIN) {
            rm = nc_raft_send(r, NC_RAFT_MSG_READ_INDEX_RESP, m->from);
            if (rm) {
                rm->ctx = m->ctx;
                rm->flags = NC_RAFT_FLAG_REJECT;
            }
        }
        break;

    default:
        break;
    }

    return NC_RAFT_OK;
}


static int
nc_raft_step_candidate(nc_raft_t *r, const nc_raft_msg_t *m)
{
    int            rejected;
    uint32_t       want;
    nc_raft_pr_t  *pr;

    want = r->role == NC_RAFT_PRE_CANDIDATE ? NC_RAFT_MSG_PREVOTE_RESP
                                            : NC_RAFT_MSG_VOTE_RESP;

    if (m->type != want) {
        return NC_RAFT_OK;
    }

    pr = nc_raft_pr(r, m->from);
    if (pr == NULL || pr->vote != 0) {
        return NC_RAFT_OK;
    }

    pr->vote = (m->flags & NC_RAFT_FLAG_REJECT) ? -1 : 1;

    if (nc_raft_tally(r, &rejected)) {
        if (r->role == NC_RAFT_PRE_CANDIDATE) {
            nc_raft_campaign_type(r, 0, 0);
        } else {
            nc_raft_become_leader(r);
        }

    } else if (rejected) {
        nc_raft_become_follower(r, r->term, NC_RAFT_NONE);
    }

    return NC_RAFT_OK;
}


static void
nc_raft_handle_append(nc_raft_t *r, const nc_raft_msg_t *m)
{
    uint32_t        i;
    uint64_t        t, conflict, last_new, hint;
    nc_raft_msg_t  *rm;
    nc_raft_conf_t  c;
    int             op;
    uint64_t        node;

    if (m->index < r->commit) {
        /* all of this is committed here already */
        rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
        if (rm) {
            rm->index = r->commit;
        }
        return;
    }

    if (!nc_raft_match_term(r, m->index, m->log_term)) {
        /* reject with a hint: our last index at or below prev whose term
         * is at most prev's term */
        hint = m->index < r->last ? m->index : r->last;

        for ( ;; ) {
            if (nc_raft_term_of(r, hint, &t) != NC_RAFT_OK) {
                t = 0;
                break;
            }

            if (t <= m->log_term || hint == 0) {
                break;
            }

            hint--;
        }

        rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
        if (rm) {
            rm->flags = NC_RAFT_FLAG_REJECT;
            rm->index = m->index;
            rm->hint = hint;
            rm->hint_term = t;
        }
        return;
    }

    /* find the first entry that is new or conflicts */

    conflict = 0;

    for (i = 0; i < m->n_entries; i++) {
        if (!nc_raft_match_term(r, m->entries[i].index, m->entries[i].term)) {
            conflict = m->entries[i].index;
            break;
        }
    }

    if (conflict) {
        if (conflict <= r->commit) {
            return;          /* never truncate committed entries */
        }

        if (conflict <= r->last) {
            nc_raft_mem_truncate(r, conflict);
        }

        for ( ; i < m->n_entries; i++) {
            if (nc_raft_mem_append(r, &m->entries[i]) != NC_RAFT_OK) {
                return;
            }

            if ((r->bugs & NC_RAFT_BUG_CONF_AT_APPEND)
                && m->entries[i].type == NC_RAFT_ENTRY_CONF
                && nc_raft_conf_change_decode(m->entries[i].data,
                                              m->entries[i].len, &op, &node,
                                              &c)
                   == NC_RAFT_OK)
            {
                nc_raft_apply_conf(r, &c);
            }
        }
    }

    last_new = m->index + m->n_entries;

    /* commit = min(leader commit, index of last new entry) */
    t = (r->bugs & NC_RAFT_BUG_COMMIT_PAST_NEW) ? r->last : last_new;
    t = m->commit < t ? m->commit : t;

    if (t > r->commit) {
        r->commit = t;
    }

    rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
    if (rm) {
        rm->index = last_new;
    }
}


static void
nc_raft_handle_snapshot(nc_raft_t *r, const nc_raft_msg_t *m)
{
    nc_raft_msg_t  *rm;

    if (m->snap.index <= r->commit) {
        rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
        if (rm) {
            rm->index = r->commit;
        }
        return;
    }

    if (m->snap_offset == 0) {
        nc_raft_free(r, r->in_buf);
        r->in_buf = NULL;

        if (m->snap_total) {
            r->in_buf = nc_raft_alloc(r, (size_t) m->snap_total);
            if (r->in_buf == NULL) {
                return;
            }
        }

        r->in_index = m->snap.index;
        r->in_term = m->snap.term;
        r->in_total = m->snap_total;
        r->in_got = 0;
        r->in_conf = m->snap.conf;

    } else if (m->snap.index != r->in_index || m->snap.term != r->in_term
               || m->snap_total != r->in_total || m->snap_offset != r->in_got)
    {
        rm = nc_raft_send(r, NC_RAFT_MSG_SNAP_RESP, m->from);
        if (rm) {
            rm->index = m->snap.index;
            rm->ctx = (m->snap.index == r->in_index) ? r->in_got : 0;
        }
        return;
    }

    if (m->snap.len) {
        memcpy(r->in_buf + r->in_got, m->snap.data, m->snap.len);
        r->in_got += m->snap.len;
    }

    if (r->in_got < r->in_total || !(m->flags & NC_RAFT_FLAG_DONE)) {
        rm = nc_raft_send(r, NC_RAFT_MSG_SNAP_RESP, m->from);
        if (rm) {
            rm->index = m->snap.index;
            rm->ctx = r->in_got;
        }
        return;
    }

    /* complete: receiver rules 6 and 7 */

    if (nc_raft_match_term(r, r->in_index, r->in_term)) {
        r->commit = r->in_index;

    } else {
        nc_raft_free(r, r->psnap_buf);
        r->psnap_buf = r->in_buf;
        r->psnap.index = r->in_index;
        r->psnap.term = r->in_term;
        r->psnap.conf = r->in_conf;
        r->psnap.len = (size_t) r->in_total;
        r->psnap.data = r->psnap_buf;
        r->has_psnap = 1;
        r->in_buf = NULL;

        nc_raft_mem_reset(r, r->psnap.index);
        r->stable = r->psnap.index;
        r->commit = r->psnap.index;
        nc_raft_apply_conf(r, &r->psnap.conf);
    }

    nc_raft_free(r, r->in_buf);
    r->in_buf = NULL;
    r->in_index = 0;

    rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
    if (rm) {
        rm->index = r->last;
    }
}


static int
nc_raft_step_follower(nc_raft_t *r, const nc_raft_msg_t *m)
{
    nc_raft_msg_t         *rm;
    nc_raft_read_state_t  *rs;

    switch (m->type) {
    case NC_RAFT_MSG_APP:
        r->election_elapsed = 0;
        r->lead = m->from;
        nc_raft_handle_append(r, m);
        break;

    case NC_RAFT_MSG_HEARTBEAT:
        r->election_elapsed = 0;
        r->lead = m->from;

        if (m->commit > r->commit && m->commit <= r->last) {
            r->commit = m->commit;
        }

        rm = nc_raft_send(r, NC_RAFT_MSG_HEARTBEAT_RESP, m->from);
        if (rm) {
            rm->ctx = m->ctx;
        }
        break;

    case NC_RAFT_MSG_SNAP:
        r->election_elapsed = 0;
        r->lead = m->from;
        nc_raft_handle_snapshot(r, m);
        break;

    case NC_RAFT_MSG_TIMEOUT_NOW:
        nc_raft_hup(r, 1);
        break;

    case NC_RAFT_MSG_READ_INDEX_RESP:
        if (!(m->flags & NC_RAFT_FLAG_REJECT)) {
            rs = nc_raft_vec_push(r, &r->reads, sizeof(nc_raft_read_state_t));
            if (rs) {
                rs->ctx = m->ctx;
                rs->index = m->index;
            }
        }
        break;

    default:
        break;
    }

    return NC_RAFT_OK;
}


static int
nc_raft_valid_msg(nc_raft_t *r, const nc_raft_msg_t *m)
{
    uint32_t  i;

    if (m->type == 0 || m->type > NC_RAFT_MSG_MAX || m->term == 0
        || m->from == NC_RAFT_NONE || m->from == r->id || m->to != r->id)
    {
        return 0;
    }

    if (m->type == NC_RAFT_MSG_APP) {
        if (m->n_entries > NC_RAFT_MAX_MSG_ENTRIES
            || (m->n_entries && m->entries == NULL))
        {
            return 0;
        }

        for (i = 0; i < m->n_entries; i++) {
            if (m->entries[i].index != m->index + 1 + i
                || m->entries[i].term > m->term
                || m->entries[i].term == 0
                || m->entries[i].term < (i ? m->entries[i - 1].term
                                           : m->log_term)
                || (m->entries[i].len && m->entries[i].data == NULL)
                || m->entries[i].len > NC_RAFT_MAX_ENTRY_SIZE)
            {
                return 0;
            }
        }

    } else if (m->type == NC_RAFT_MSG_SNAP) {
        if (m->snap.index == 0 || m->snap.term == 0
            || m->snap_offset > m->snap_total
            || m->snap.len > m->snap_total - m->snap_offset
            || (m->snap.len && m->snap.data == NULL)
            || m->snap.conf.n_voters + m->snap.conf.n_learners
               > NC_RAFT_MAX_MEMBERS)
        {
            return 0;
        }

    } else if (m->n_entries) {
        return 0;
    }

    return 1;
}


int
nc_raft_step(nc_raft_t *r, const nc_raft_msg_t *m)
{
    int             force, in_lease, grant, uptodate;
    uint64_t        last_term;
    nc_raft_msg_t  *rm;

    if (!nc_raft_valid_msg(r, m)) {
        return NC_RAFT_ERROR;
    }

    if (m->term > r->term) {
        if (m->type == NC_RAFT_MSG_VOTE || m->type == NC_RAFT_MSG_PREVOTE) {
            force = (m->flags & NC_RAFT_FLAG_TRANSFER) != 0;
            in_lease = r->cf.check_quorum && r->lead != NC_RAFT_NONE
                       && r->election_elapsed < r->cf.election_tick;

            if (!force && in_lease) {
                /* a leader is alive: do not let a rejoining node disrupt */
                return NC_RAFT_OK;
            }
        }

        if (m->type == NC_RAFT_MSG_PREVOTE
            || (m->type == NC_RAFT_MSG_PREVOTE_RESP
                && !(m->flags & NC_RAFT_FLAG_REJECT)))
        {
            /* pre-votes never change the term */

        } else if (m->type == NC_RAFT_MSG_APP
                   || m->type == NC_RAFT_MSG_HEARTBEAT
                   || m->type == NC_RAFT_MSG_SNAP)
        {
            nc_raft_become_follower(r, m->term, m->from);

        } else {
            nc_raft_become_follower(r, m->term, NC_RAFT_NONE);
        }

    } else if (m->term < r->term) {

        if ((r->bugs & NC_RAFT_BUG_STALE_TERM_APPEND)
            && m->type == NC_RAFT_MSG_APP && r->role == NC_RAFT_FOLLOWER)
        {
            nc_raft_handle_append(r, m);
            return NC_RAFT_OK;
        }

        if ((r->cf.check_quorum || r->cf.pre_vote)
            && (m->type == NC_RAFT_MSG_APP
                || m->type == NC_RAFT_MSG_HEARTBEAT))
        {
            /* tell the stale leader about the newer term */
            rm = nc_raft_send(r, NC_RAFT_MSG_APP_RESP, m->from);
            (void) rm;

        } else if (m->type == NC_RAFT_MSG_PREVOTE) {
            rm = nc_raft_send(r, NC_RAFT_MSG_PREVOTE_RESP, m->from);
            if (rm) {
                rm->flags = NC_RAFT_FLAG_REJECT;
            }
        }

        return NC_RAFT_OK;
    }

    if (m->type == NC_RAFT_MSG_VOTE || m->type == NC_RAFT_MSG_PREVOTE) {
        last_term = nc_raft_last_term(r);
        uptodate = m->log_term > last_term
                   || (m->log_term == last_term && m->index >= r->last);

        grant = (r->vote == m->from)
                || (r->vote == NC_RAFT_NONE && r->lead == NC_RAFT_NONE)
                || (m->type == NC_RAFT_MSG_PREVOTE && m->term > r->term);

        rm = nc_raft_send(r, m->type == NC_RAFT_MSG_VOTE
                             ? NC_RAFT_MSG_VOTE_RESP
                             : NC_RAFT_MSG_PREVOTE_RESP, m->from);

        if (grant && uptodate) {
            if (rm) {
                rm->term = m->term;
            }

            if (m->type == NC_RAFT_MSG_VOTE) {
                r->election_elapsed = 0;
                r->vote = m->from;
            }

        } else if (rm) {
            rm->flags = NC_RAFT_FLAG_REJECT;
        }

        return NC_RAFT_OK;
    }

    switch (r->role) {
    case NC_RAFT_LEADER:
        return nc_raft_step_leader(r, m);

    case NC_RAFT_FOLLOWER:
        return nc_raft_step_follower(r, m);

    default:
        if (m->type == NC_RAFT_MSG_APP || m->type == NC_RAFT_MSG_HEARTBEAT
            || m->type == NC_RAFT_MSG_SNAP)
        {
            nc_raft_become_follower(r, r->term, m->from);
            return nc_raft_step_follower(r, m);
        }

        return nc_raft_step_candidate(r, m);
    }
}


void
nc_raft_tick(nc_raft_t *r)
{
    unsigned       i, active;
    nc_raft_pr_t  *pr;

    r->election_elapsed++;

    if (r->role != NC_RAFT_LEADER) {
        if (r->election_elapsed >= r->timeout) {
            r->election_elapsed = 0;
            nc_raft_hup(r, 0);
        }
        return;
    }

    r->heartbeat_elapsed++;

    if (r->election_elapsed >= r->cf.election_tick) {
        r->election_elapsed = 0;

        if (r->cf.check_quorum) {
            active = 0;

            for (i = 0; i < r->n_prs; i++) {
                pr = &r->prs[i];

                if (!pr->learner && (pr->recent_active || pr->id == r->id)) {
                    active++;
                }

                pr->recent_active = pr->id == r->id;
            }

            if (active < nc_raft_quorum(r)) {
                nc_raft_become_follower(r, r->term, NC_RAFT_NONE);
                return;
            }
        }

        r->transferee = NC_RAFT_NONE;
    }

    for (i = 0; i < r->n_prs; i++) {
        pr = &r->prs[i];

        if (pr->state == NC_RAFT_PR_SNAPSHOT
            && ++pr->snap_wait > r->cf.election_tick)
        {
            /* a lost chunk or ack: go back to probing */
            nc_raft_pr_reset(r, pr, NC_RAFT_PR_PROBE);
            pr->next = pr->match + 1;
        }
    }

    if (r->heartbeat_elapsed >= r->cf.heartbeat_tick) {
        r->heartbeat_elapsed = 0;
        nc_raft_bcast_heartbeat(r);
    }
}


int
nc_raft_propose(nc_raft_t *r, const nc_raft_entry_t *ents, size_t n,
    uint64_t *last_index)
{
    size_t           i;
    nc_raft_entry_t  e;
    nc_raft_pr_t    *pr;

    if (r->role != NC_RAFT_LEADER) {
        return NC_RAFT_DECLINED;
    }

    if (r->transferee != NC_RAFT_NONE
        || r->last - r->commit + n > r->cf.max_uncommitted)
    {
        return NC_RAFT_BUSY;
    }

    for (i = 0; i < n; i++) {
        if (ents[i].len > NC_RAFT_MAX_ENTRY_SIZE
            || (ents[i].len && ents[i].data == NULL)
            || (ents[i].type != NC_RAFT_ENTRY_NORMAL
                && ents[i].type != NC_RAFT_ENTRY_NOOP))
        {
            return NC_RAFT_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        e = ents[i];
        e.term = r->term;

        if (nc_raft_mem_append(r, &e) != NC_RAFT_OK) {
            return NC_RAFT_ERROR;
        }
    }

    pr = nc_raft_pr(r, r->id);
    if (pr) {
        pr->next = r->last + 1;
    }

    if (last_index) {
        *last_index = r->last;
    }

    nc_raft_bcast_append(r);

    return NC_RAFT_OK;
}


int
nc_raft_propose_conf_change(nc_raft_t *r, int op, uint64_t node,
    uint64_t *index)
{
    uint32_t         i;
    nc_raft_conf_t   c;
    nc_raft_entry_t  e;
    nc_raft_pr_t    *pr;
    unsigned char    buf[16 + 16 * NC_RAFT_MAX_MEMBERS];

    if (r->role != NC_RAFT_LEADER) {
        return NC_RAFT_DECLINED;
    }

    /*
     * one change at a time, and only once this leader has committed an
     * entry of its term (the single-server change bug, raft-dev 2015)
     */
    if (r->transferee != NC_RAFT_NONE || r->pending_conf > r->applied
        || !nc_raft_committed_in_term(r) || node == NC_RAFT_NONE)
    {
        return NC_RAFT_BUSY;
    }

    c = r->conf;

    switch (op) {
    case NC_RAFT_CONF_ADD_LEARNER:
        if (nc_raft_conf_is_voter(&c, node) || nc_raft_conf_is_learner(&c, node)
            || c.n_voters + c.n_learners >= NC_RAFT_MAX_MEMBERS)
        {
            return NC_RAFT_DECLINED;
        }

        c.learners[c.n_learners++] = node;
        break;

    case NC_RAFT_CONF_PROMOTE:
        pr = nc_raft_pr(r, node);

        if (!nc_raft_conf_is_learner(&c, node) || pr == NULL) {
            return NC_RAFT_DECLINED;
        }

        /* a learner votes only once it has caught up */
        if (pr->match + r->cf.promote_lag < r->last) {
            return NC_RAFT_AGAIN;
        }

        for (i = 0; c.learners[i] != node; i++) { /* void */ }
        c.learners[i] = c.learners[--c.n_learners];
        c.voters[c.n_voters++] = node;
        break;

    case NC_RAFT_CONF_REMOVE:
        if (nc_raft_conf_is_learner(&c, node)) {
            for (i = 0; c.learners[i] != node; i++) { /* void */ }
            c.learners[i] = c.learners[--c.n_learners];

        } else if (nc_raft_conf_is_voter(&c, node) && c.n_voters > 1) {
            for (i = 0; c.voters[i] != node; i++) { /* void */ }
            c.voters[i] = c.voters[--c.n_voters];

        } else {
            return NC_RAFT_DECLINED;
        }
        break;

    default:
        return NC_RAFT_ERROR;
    }

    memset(&e, 0, sizeof(nc_raft_entry_t));
    e.type = NC_RAFT_ENTRY_CONF;
    e.term = r->term;
    e.len = (uint32_t) nc_raft_conf_change_encode(buf, sizeof(buf), op, node,
                                                  &c);
    e.data = buf;

    if (nc_raft_mem_append(r, &e) != NC_RAFT_OK) {
        return NC_RAFT_ERROR;
    }

    r->pending_conf = r->last;

    if (index) {
        *index = r->last;
    }

    pr = nc_raft_pr(r, r->id);
    if (pr) {
        pr->next = r->last + 1;
    }

    if (r->bugs & NC_RAFT_BUG_CONF_AT_APPEND) {
        nc_raft_apply_conf(r, &c);
        r->pending_conf = 0;
    }

    nc_raft_bcast_append(r);

    return NC_RAFT_OK;
}


int
nc_raft_read_index(nc_raft_t *r, uint64_t ctx)
{
    nc_raft_msg_t  *m;

    if (r->role == NC_RAFT_LEADER) {
        return nc_raft_leader_read(r, ctx, r->id);
    }

    if (r->lead == NC_RAFT_NONE) {
        return NC_RAFT_AGAIN;
    }

    m = nc_raft_send(r, NC_RAFT_MSG_READ_INDEX, r->lead);
    if (m == NULL) {
        return NC_RAFT_ERROR;
    }

    m->ctx = ctx;

    return NC_RAFT_OK;
}


int
nc_raft_transfer_leader(nc_raft_t *r, uint64_t to)
{
    nc_raft_pr_t  *pr;

    if (r->role != NC_RAFT_LEADER) {
        return NC_RAFT_DECLINED;
    }

    if (to == r->id || !nc_raft_is_voter(r, to)) {
        return NC_RAFT_DECLINED;
    }

    pr = nc_raft_pr(r, to);
    if (pr == NULL) {
        return NC_RAFT_DECLINED;
    }

    r->transferee = to;
    r->election_elapsed = 0;

    /* TimeoutNow only once the target's persisted log is complete */
    if (pr->match == r->last) {
        nc_raft_send_timeout_now(r, to);

    } else {
        nc_raft_send_append(r, pr, 1);
    }

    return NC_RAFT_OK;
}


void
nc_raft_report_unreachable(nc_raft_t *r, uint64_t id)
{
    nc_raft_pr_t  *pr;

    pr = nc_raft_pr(r, id);

    if (r->role == NC_RAFT_LEADER && pr && pr->state == NC_RAFT_PR_REPLICATE) {
        nc_raft_pr_reset(r, pr, NC_RAFT_PR_PROBE);
        pr->next = pr->match + 1;
    }
}


/* membership */

static void
nc_raft_apply_conf(nc_raft_t *r, const nc_raft_conf_t *c)
{
    unsigned        i, j, n;
    uint64_t        id;
    nc_raft_pr_t    prs[NC_RAFT_MAX_MEMBERS], *old;
    uint64_t       *pool[NC_RAFT_MAX_MEMBERS];
    unsigned        n_pool;

    n_pool = 0;

    /* keep the in-flight buffers of the old progress slots */
    for (i = 0; i < NC_RAFT_MAX_MEMBERS; i++) {
        if (r->infl_pool[i]) {
            pool[n_pool++] = r->infl_pool[i];
            r->infl_pool[i] = NULL;
        }
    }

    n = 0;

    for (i = 0; i < c->n_voters + c->n_learners; i++) {
        id = i < c->n_voters ? c->voters[i] : c->learners[i - c->n_voters];
        old = nc_raft_pr(r, id);

        if (old) {
            prs[n] = *old;

        } else {
            memset(&prs[n], 0, sizeof(nc_raft_pr_t));
            prs[n].id = id;
            prs[n].next = r->last + 1;
            prs[n].state = NC_RAFT_PR_PROBE;
            prs[n].recent_active = 1;

            if (id == r->id) {
                prs[n].match = r->stable;
            }

            prs[n].infl = NULL;
        }

        prs[n].learner = i >= c->n_voters;
        n++;
    }

    /* hand out buffers: reuse a slot's own if it survived */
    for (i = 0; i < n; i++) {
        if (prs[i].infl == NULL) {
            continue;
        }

        for (j = 0; j < n_pool; j++) {
            if (pool[j] == prs[i].infl) {
                pool[j] = pool[--n_pool];
                break;
            }
        }
    }

    for (i = 0; i < n; i++) {
        if (prs[i].infl == NULL) {
            if (n_pool) {
                prs[i].infl = pool[--n_pool];

            } else {
                prs[i].infl = nc_raft_alloc(r, r->cf.max_inflight
                                               * sizeof(uint64_t));
            }

            prs[i].infl_start = 0;
            prs[i].infl_count = 0;
        }
    }

    while (n_pool) {
        nc_raft_free(r, pool[--n_pool]);
    }

    memcpy(r->prs, prs, n * sizeof(nc_raft_pr_t));
    r->n_prs = n;
    r->conf = *c;

    for (i = 0; i < n; i++) {
        r->infl_pool[i] = r->prs[i].infl;

        if (r->prs[i].infl == NULL && r->prs[i].state == NC_RAFT_PR_REPLICATE) {
            /* out of memory: probing needs no window */
            r->prs[i].state = NC_RAFT_PR_PROBE;
        }
    }

    if (r->role != NC_RAFT_LEADER) {
        return;
    }

    if (!nc_raft_is_voter(r, r->id)) {
        /* removed: step down, the rest elects a leader among themselves */
        nc_raft_become_follower(r, r->term, NC_RAFT_NONE);
        return;
    }

    if (r->transferee != NC_RAFT_NONE && !nc_raft_is_voter(r, r->transferee)) {
        r->transferee = NC_RAFT_NONE;
    }

    if (nc_raft_maybe_commit(r)) {
        nc_raft_bcast_append(r);
    }
}


/* ready / advance */

int
nc_raft_has_ready(nc_raft_t *r)
{
    return r->msgs.n || r->reads.n || r->has_psnap || r->last > r->stable
           || r->term != r->prev_hs.term || r->vote != r->prev_hs.vote
           || r->commit != r->prev_hs.commit
           || (r->applied < r->commit && r->applied < r->stable);
}


/*
 * A follower is receiving our snapshot and has acknowledged a part of it.
 * A new snapshot would replace the one being sent and restart the transfer
 * at offset 0 (nc_raft_send_snapshot_chunk): a follower that needs longer
 * to download the image than the leader takes to make the next one would
 * never catch up.  So no compaction is asked for until the transfer ends;
 * the entries after the snapshot being sent stay in the log for the
 * follower to catch up from.  A receiver that goes silent falls back to
 * probing after an election timeout (nc_raft_tick), which resets
 * snap_offset and ends the hold; a restarted transfer holds only once the
 * follower acknowledges it again: a dead follower never blocks compaction.
 */

static int
nc_raft_sending_snapshot(nc_raft_t *r)
{
    unsigned  i;

    if (r->role != NC_RAFT_LEADER) {
        return 0;
    }

    for (i = 0; i < r->n_prs; i++) {
        if (r->prs[i].state == NC_RAFT_PR_SNAPSHOT
            && r->prs[i].snap_offset > 0)
        {
            return 1;
        }
    }

    return 0;
}


void
nc_raft_ready(nc_raft_t *r, nc_raft_ready_t *rd)
{
    int               rc;
    size_t            i, n, bytes;
    uint64_t          hi, first;
    nc_raft_imsg_t   *im;
    nc_raft_msg_t    *m;
    nc_raft_vec_t    *v;
    nc_raft_entry_t  *e;

    memset(rd, 0, sizeof(nc_raft_ready_t));

    rd->role = r->role;
    rd->lead = r->lead;
    rd->hs.term = r->term;
    rd->hs.vote = r->vote;
    rd->hs.commit = r->commit;
    rd->hs_changed = memcmp(&rd->hs, &r->prev_hs, sizeof(rd->hs)) != 0;
    r->rd_hs = rd->hs;

    if (r->has_psnap) {
        rd->snapshot = &r->psnap;
    }

    r->rd_snap = r->has_psnap;

    /* unstable entries */

    r->rd_ents.n = 0;

    for (i = r->stable + 1; i <= r->last; i++) {
        e = nc_raft_vec_push(r, &r->rd_ents, sizeof(nc_raft_entry_t));
        if (e == NULL) {
            break;
        }

        *e = nc_raft_ment(r, i)->e;
    }

    rd->entries = r->rd_ents.data;
    rd->n_entries = r->rd_ents.n;
    r->rd_stable = r->stable + r->rd_ents.n;

    /* committed entries: only those already stable (canonical #423) */

    r->rd_committed.n = 0;
    r->rd_applied = r->applied;
    hi = r->commit < r->stable ? r->commit : r->stable;

    if (!r->has_psnap && hi > r->applied) {
        first = nc_raft_first_index(r);

        if (r->applied + 1 >= first) {
            bytes = r->cf.max_msg_bytes * 4;
            rc = nc_raft_get_entries(r, r->applied + 1, hi, bytes,
                                     &r->rd_committed);
            if (rc == NC_RAFT_OK) {
                r->rd_applied = r->applied + r->rd_committed.n;
            } else {
                r->rd_committed.n = 0;
            }
        }
    }

    rd->committed = r->rd_committed.data;
    rd->n_committed = r->rd_committed.n;

    /* messages */

    r->out_now.n = 0;
    r->out_after.n = 0;
    im = r->msgs.data;
    n = r->msgs.n;

    for (i = 0; i < n; i++) {
        v = im[i].after ? &r->out_after : &r->out_now;
        m = nc_raft_vec_push(r, v, sizeof(nc_raft_msg_t));
        if (m == NULL) {
            continue;
        }

        *m = im[i].m;

        if (m->n_entries) {
            m->entries = (nc_raft_entry_t *) r->msg_ents.data + im[i].off;
        }
    }

    rd->msgs = r->out_now.data;
    rd->n_msgs = r->out_now.n;
    rd->msgs_after = r->out_after.data;
    rd->n_msgs_after = r->out_after.n;

    rd->reads = r->reads.data;
    rd->n_reads = r->reads.n;

    /*
     * Counted from the last snapshot: storage may keep entries below it
     * (it drops whole segments), so its first index can stay behind.
     */
    first = nc_raft_first_index(r) - 1;
    first = first > r->compacted ? first : r->compacted;

    if (r->cf.snapshot_entries
        && r->applied >= first + r->cf.snapshot_entries
        && !nc_raft_sending_snapshot(r))
    {
        rd->want_snapshot = 1;
    }

    r->in_ready = 1;
}


void
nc_raft_advance(nc_raft_t *r)
{
    size_t            i;
    uint64_t          node, keep;
    int               op;
    nc_raft_conf_t    c;
    nc_raft_entry_t  *e;
    nc_raft_pr_t     *pr;
    nc_raft_blk_t    *b;

    r->in_ready = 0;
    r->prev_hs = r->rd_hs;
    r->msgs.n = 0;
    r->msg_ents.n = 0;
    r->reads.n = 0;

    if (r->rd_snap) {
        r->has_psnap = 0;
        r->applied = r->psnap.index;
        nc_raft_free(r, r->psnap_buf);
        r->psnap_buf = NULL;
        r->psnap.data = NULL;
    }

    if (r->rd_stable > r->stable) {
        r->stable = r->rd_stable;
    }

    /* the committed entries were applied: conf changes take effect now */

    e = r->rd_committed.data;

    for (i = 0; i < r->rd_committed.n; i++) {
        if (e[i].type == NC_RAFT_ENTRY_CONF
            && !(r->bugs & NC_RAFT_BUG_CONF_AT_APPEND)
            && nc_raft_conf_change_decode(e[i].data, e[i].len, &op, &node, &c)
               == NC_RAFT_OK)
        {
            r->applied = e[i].index;
            nc_raft_apply_conf(r, &c);
        }
    }

    if (r->rd_applied > r->applied) {
        r->applied = r->rd_applied;
    }

    r->rd_committed.n = 0;
    r->rd_ents.n = 0;

    if (r->role == NC_RAFT_LEADER) {
        pr = nc_raft_pr(r, r->id);

        if (pr && r->stable > pr->match) {
            pr->match = r->stable;

            if (nc_raft_maybe_commit(r)) {
                nc_raft_bcast_append(r);
            }
        }
    }

    /* keep a window of stable, applied entries in memory */

    keep = r->stable < r->applied ? r->stable : r->applied;

    if (keep > r->mem_first + NC_RAFT_MEM_WINDOW) {
        nc_raft_mem_trim(r, keep - NC_RAFT_MEM_WINDOW / 2);
    }

    while (r->blk_dead) {
        b = r->blk_dead;
        r->blk_dead = b->next;

        if (r->n_cache < NC_RAFT_BLK_CACHE) {
            b->next = r->blk_cache;
            r->blk_cache = b;
            r->n_cache++;

        } else {
            nc_raft_free(r, b);
        }
    }
}


void
nc_raft_compacted(nc_raft_t *r, uint64_t index)
{
    uint64_t  keep;

    if (index > r->compacted) {
        r->compacted = index;
    }

    keep = r->stable < r->applied ? r->stable : r->applied;
    keep = keep < index ? keep : index;

    nc_raft_mem_trim(r, keep + 1);
}


/* life cycle */

int
nc_raft_create(const nc_raft_config_t *cf, nc_raft_t **rp)
{
    nc_raft_t                  *r;
    const nc_raft_allocator_t  *al;
    nc_raft_allocator_t         def;

    if (cf->id == NC_RAFT_NONE || cf->storage.entries == NULL
        || cf->storage.term == NULL || cf->storage.first_index == NULL
        || cf->storage.last_index == NULL || cf->storage.snapshot == NULL
        || cf->conf.n_voters + cf->conf.n_learners > NC_RAFT_MAX_MEMBERS)
    {
        return NC_RAFT_ERROR;
    }

    def.alloc = nc_raft_def_alloc;
    def.realloc = nc_raft_def_realloc;
    def.free = nc_raft_def_free;
    def.ctx = NULL;

    al = cf->allocator ? cf->allocator : &def;

    r = al->alloc(al->ctx, sizeof(nc_raft_t));
    if (r == NULL) {
        return NC_RAFT_ERROR;
    }

    memset(r, 0, sizeof(nc_raft_t));

    r->al = *al;
    r->cf = *cf;
    r->bugs = cf->test_bugs;

    if (r->cf.election_tick == 0) {
        r->cf.election_tick = 10;
    }

    if (r->cf.heartbeat_tick == 0) {
        r->cf.heartbeat_tick = 1;
    }

    if (r->cf.max_inflight == 0) {
        r->cf.max_inflight = 256;
    }

    if (r->cf.max_msg_bytes == 0) {
        r->cf.max_msg_bytes = 1024 * 1024;
    }

    if (r->cf.max_uncommitted == 0) {
        r->cf.max_uncommitted = 1 << 20;
    }

    if (r->cf.snap_chunk == 0) {
        r->cf.snap_chunk = 1024 * 1024;
    }

    if (r->cf.promote_lag == 0) {
        r->cf.promote_lag = 16;
    }

    nc_raft_rand_seed(&r->rnd, cf->seed ^ (cf->id * 0x9e3779b97f4a7c15ULL));

    r->id = cf->id;
    r->last = cf->storage.last_index(cf->storage.ctx);
    r->mem_first = r->last + 1;
    r->stable = r->last;
    r->applied = cf->applied;

    if (r->applied + 1 < cf->storage.first_index(cf->storage.ctx)) {
        r->applied = cf->storage.first_index(cf->storage.ctx) - 1;
    }

    r->commit = cf->hs.commit > r->applied ? cf->hs.commit : r->applied;

    if (r->commit > r->last) {
        /* the log lost committed entries: not safe to go on */
        al->free(al->ctx, r);
        return NC_RAFT_ERROR;
    }

    r->prev_hs = cf->hs;
    nc_raft_apply_conf(r, &cf->conf);
    nc_raft_become_follower(r, cf->hs.term, NC_RAFT_NONE);
    r->vote = cf->hs.vote;

    *rp = r;

    return NC_RAFT_OK;
}


void
nc_raft_destroy(nc_raft_t *r)
{
    unsigned        i;
    nc_raft_blk_t  *b;

    if (r == NULL) {
        return;
    }

    nc_raft_mem_trim(r, r->last + 1);

    for (i = 0; i < NC_RAFT_MAX_MEMBERS; i++) {
        nc_raft_free(r, r->infl_pool[i]);
    }

    while (r->blk_dead) {
        b = r->blk_dead;
        r->blk_dead = b->next;
        nc_raft_free(r, b);
    }

    while (r->blk_cache) {
        b = r->blk_cache;
        r->blk_cache = b->next;
        nc_raft_free(r, b);
    }

    nc_raft_free(r, r->blk);
    nc_raft_free(r, r->ring);
    nc_raft_free(r, r->psnap_buf);
    nc_raft_free(r, r->in_buf);
    nc_raft_free(r, r->readq.data);
    nc_raft_free(r, r->reads.data);
    nc_raft_free(r, r->msgs.data);
    nc_raft_free(r, r->msg_ents.data);
    nc_raft_free(r, r->out_now.data);
    nc_raft_free(r, r->out_after.data);
    nc_raft_free(r, r->rd_ents.data);
    nc_raft_free(r, r->rd_committed.data);
    nc_raft_free(r, r);
}


/* accessors */

int
nc_raft_role(nc_raft_t *r)
{
    return r->role;
}


uint64_t
nc_raft_leader(nc_raft_t *r)
{
    return r->lead;
}


uint64_t
nc_raft_term(nc_raft_t *r)
{
    return r->term;
}


uint64_t
nc_raft_commit(nc_raft_t *r)
{
    return r->commit;
}


uint64_t
nc_raft_applied(nc_raft_t *r)
{
    return r->applied;
}


uint64_t
nc_raft_last_index(nc_raft_t *r)
{
    return r->last;
}


const nc_raft_conf_t *
nc_raft_conf(nc_raft_t *r)
{
    return &r->conf;
}


int
nc_raft_log_term(nc_raft_t *r, uint64_t index, uint64_t *term)
{
    return nc_raft_term_of(r, index, term);
}


uint64_t
nc_raft_match(nc_raft_t *r, uint64_t id)
{
    nc_raft_pr_t  *pr;

    pr = nc_raft_pr(r, id);

    return pr ? pr->match : 0;
}
