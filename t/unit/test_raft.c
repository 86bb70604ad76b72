/*
 * nacre: scenario tests of the Raft core, each named after the rule it
 * checks.  Where a planted bug switch exists, the scenario also runs with it
 * and asserts the bug shows, so the scenario is known to be able to fail.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "raft_sim_harness.h"
#include "nc_raft_session.h"


static int
step(h_cluster_t *h, int to, uint32_t type, int from, uint64_t term,
    uint64_t index, uint64_t log_term, uint64_t commit, uint32_t flags)
{
    int            rc;
    nc_raft_msg_t  m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = (uint64_t) from;
    m.to = (uint64_t) to;
    m.term = term;
    m.index = index;
    m.log_term = log_term;
    m.commit = commit;
    m.flags = flags;

    rc = nc_raft_step(h->nodes[to].r, &m);
    h_ready(h, to);

    return rc;
}


static int
last_out(h_cluster_t *h, nc_raft_msg_t *m)
{
    static nc_raft_entry_t  e[1024];

    if (h->n_out == 0) {
        return -1;
    }

    return nc_raft_msg_decode(h->out[h->n_out - 1].buf,
                              h->out[h->n_out - 1].len, m, e, 1024);
}


/* elect n1 by hand, pre-vote off: returns with the no-op persisted */

static void
hand_elect(h_cluster_t *h, int id, int voter)
{
    h->base.pre_vote = 0;
    h_start_all(h);
    assert_int_equal(nc_raft_campaign(h->nodes[id].r), NC_RAFT_OK);
    h_ready(h, id);
    h_drop_all(h);
    step(h, id, NC_RAFT_MSG_VOTE_RESP, voter, nc_raft_term(h->nodes[id].r),
         0, 0, 0, 0);
    assert_int_equal(nc_raft_role(h->nodes[id].r), NC_RAFT_LEADER);
    h_drop_all(h);
}


static void
test_election_one_leader_and_noop(void **state)
{
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);

    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    assert_int_equal(nc_raft_role(h.nodes[2].r), NC_RAFT_FOLLOWER);
    assert_int_equal(nc_raft_leader(h.nodes[2].r), 1);

    /* the no-op of the new term is committed and replicated */
    assert_int_equal(nc_raft_last_index(h.nodes[1].r), 1);
    assert_int_equal(nc_raft_commit(h.nodes[1].r), 1);
    h_run(&h, 2);
    assert_int_equal(nc_raft_commit(h.nodes[3].r), 1);
    assert_int_equal(h_log_term(&h, 3, 1), nc_raft_term(h.nodes[1].r));

    h_free(&h);
}


static void
test_vote_granted_once_per_term_and_after_persist(void **state)
{
    h_cluster_t    h;
    nc_raft_msg_t  m;

    (void) state;

    h_init(&h, 3, 0);
    h.base.pre_vote = 0;
    h_start_all(&h);

    assert_int_equal(nc_raft_campaign(h.nodes[2].r), NC_RAFT_OK);
    {
        nc_raft_ready_t  rd;

        /* a vote request of a new term waits for the term to be durable */
        nc_raft_ready(h.nodes[2].r, &rd);
        assert_int_equal(rd.n_msgs, 0);
        assert_int_equal(rd.n_msgs_after, 2);
        assert_true(rd.hs_changed);
        assert_int_equal(rd.hs.vote, 2);
        nc_raft_advance(h.nodes[2].r);
    }

    step(&h, 1, NC_RAFT_MSG_VOTE, 2, 5, 0, 0, 0, 0);
    assert_int_equal(h.nodes[1].hs.vote, 2);
    assert_int_equal(last_out(&h, &m), NC_RAFT_OK);
    assert_int_equal(m.type, NC_RAFT_MSG_VOTE_RESP);
    assert_false(m.flags & NC_RAFT_FLAG_REJECT);

    step(&h, 1, NC_RAFT_MSG_VOTE, 3, 5, 0, 0, 0, 0);
    assert_int_equal(h.nodes[1].hs.vote, 2);
    assert_int_equal(last_out(&h, &m), NC_RAFT_OK);
    assert_true(m.flags & NC_RAFT_FLAG_REJECT);

    h_free(&h);
}


static void
test_vote_response_not_before_persist_bug_shows(void **state)
{
    h_cluster_t      h;
    nc_raft_msg_t    m;
    nc_raft_ready_t  rd;

    (void) state;

    h_init(&h, 3, 0);
    h.base.pre_vote = 0;
    h.base.test_bugs = NC_RAFT_BUG_VOTE_NOT_PERSISTED;
    h_start_all(&h);

    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_VOTE;
    m.from = 2;
    m.to = 1;
    m.term = 5;
    assert_int_equal(nc_raft_step(h.nodes[1].r, &m), NC_RAFT_OK);
    nc_raft_ready(h.nodes[1].r, &rd);
    assert_int_equal(rd.n_msgs, 1);             /* planted: sent early */
    nc_raft_advance(h.nodes[1].r);

    h_free(&h);
}


static void
test_vote_needs_up_to_date_log(void **state)
{
    h_cluster_t  h;
    uint64_t     t2[] = { 1, 2 }, t1[] = { 1 };

    (void) state;

    h_init(&h, 3, 0);
    h.base.pre_vote = 0;
    h_preload(&h, 1, t2, 2, 2);
    h_preload(&h, 2, t2, 2, 2);
    h_preload(&h, 3, t1, 1, 2);
    h_start_all(&h);

    h_elect(&h, 3);
    assert_int_not_equal(nc_raft_role(h.nodes[3].r), NC_RAFT_LEADER);

    h_elect(&h, 2);
    assert_int_equal(nc_raft_role(h.nodes[2].r), NC_RAFT_LEADER);

    h_free(&h);
}


/*
 * Figure 8: n1, leader of term 4, has index 2 of term 2 on a majority
 * (itself and n2) but must not commit it by counting; once its own no-op
 * (index 3, term 4) is on a majority, both commit.
 */

static uint64_t
figure8(unsigned bugs)
{
    uint64_t     c;
    h_cluster_t  h;
    uint64_t     t12[] = { 1, 2 };

    h_init(&h, 3, 0);
    h.base.test_bugs = bugs;
    h_preload(&h, 1, t12, 2, 3);
    hand_elect(&h, 1, 2);
    assert_int_equal(nc_raft_term(h.nodes[1].r), 4);
    assert_int_equal(nc_raft_last_index(h.nodes[1].r), 3);

    step(&h, 1, NC_RAFT_MSG_APP_RESP, 2, 4, 2, 0, 0, 0);
    c = nc_raft_commit(h.nodes[1].r);

    if (!bugs) {
        step(&h, 1, NC_RAFT_MSG_APP_RESP, 2, 4, 3, 0, 0, 0);
        assert_int_equal(nc_raft_commit(h.nodes[1].r), 3);
    }

    h_free(&h);

    return c;
}


static void
test_figure8_old_term_entry_not_committed_by_counting(void **state)
{
    (void) state;

    assert_int_equal(figure8(0), 0);
    assert_int_equal(figure8(NC_RAFT_BUG_COMMIT_PREV_TERM), 2);
}


static void
test_prevote_partitioned_node_rejoins_without_disrupting(void **state)
{
    uint64_t     term;
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);
    term = nc_raft_term(h.nodes[1].r);

    h_isolate(&h, 3, 1);
    h_tick(&h, 3, 100);
    h_drop_all(&h);

    /* pre-vote never won, so the term did not grow */
    assert_int_equal(nc_raft_term(h.nodes[3].r), term);

    h_isolate(&h, 3, 0);
    h_run(&h, 5);
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    assert_int_equal(nc_raft_term(h.nodes[1].r), term);
    assert_int_equal(nc_raft_leader(h.nodes[3].r), 1);

    h_free(&h);
}


static void
test_higher_term_rejoin_without_prevote_is_ignored_in_lease(void **state)
{
    h_cluster_t  h;
    uint64_t     term;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);
    term = nc_raft_term(h.nodes[1].r);

    /* a vote of a higher term while n2 hears from its leader: ignored */
    step(&h, 2, NC_RAFT_MSG_VOTE, 3, term + 5, 100, term, 0, 0);
    assert_int_equal(nc_raft_term(h.nodes[2].r), term);
    assert_int_equal(nc_raft_leader(h.nodes[2].r), 1);

    h_free(&h);
}


static void
test_checkquorum_leader_steps_down(void **state)
{
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);

    h_isolate(&h, 1, 1);
    h_tick(&h, 1, 25);
    h_drop_all(&h);

    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_FOLLOWER);

    h_free(&h);
}


static void
test_readindex_confirmed_by_heartbeat_quorum(void **state)
{
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);
    h_propose(&h, 1, 1, 1);
    h_deliver(&h);

    assert_int_equal(nc_raft_read_index(h.nodes[1].r, 77), NC_RAFT_OK);
    h_ready(&h, 1);
    assert_int_equal(h.nodes[1].n_reads, 0);     /* not before the quorum */
    h_deliver(&h);
    assert_int_equal(h.nodes[1].n_reads, 1);
    assert_int_equal(h.nodes[1].reads[0].ctx, 77);
    assert_int_equal(h.nodes[1].reads[0].index, 2);

    /* from a follower, through the leader */
    assert_int_equal(nc_raft_read_index(h.nodes[3].r, 78), NC_RAFT_OK);
    h_deliver(&h);
    assert_int_equal(h.nodes[3].n_reads, 1);
    assert_int_equal(h.nodes[3].reads[0].index, 2);

    h_free(&h);
}


static void
stale_leader_read(unsigned bugs, size_t *reads)
{
    h_cluster_t  h;
    int          i, l;

    h_init(&h, 3, 0);
    h.base.test_bugs = bugs;
    h_start_all(&h);
    h_elect(&h, 1);

    h_isolate(&h, 1, 1);

    /* n1 is paused (no ticks) while n2 and n3 elect a new leader */
    for (i = 0; i < 40; i++) {
        h_tick(&h, 2, 1);
        h_tick(&h, 3, 1);
        h_deliver(&h);
    }

    l = nc_raft_role(h.nodes[2].r) == NC_RAFT_LEADER ? 2 : 3;
    assert_int_equal(nc_raft_role(h.nodes[l].r), NC_RAFT_LEADER);
    h_propose(&h, l, 1, 1);
    h_deliver(&h);

    /* n1 still believes it leads */
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    (void) nc_raft_read_index(h.nodes[1].r, 5);
    h_deliver(&h);
    *reads = h.nodes[1].n_reads;

    h_free(&h);
}


static void
test_readindex_refused_by_stale_leader(void **state)
{
    size_t  n;

    (void) state;

    stale_leader_read(0, &n);
    assert_int_equal(n, 0);

    stale_leader_read(NC_RAFT_BUG_READ_NO_QUORUM, &n);
    assert_int_equal(n, 1);
}


static void
test_readindex_needs_commit_in_current_term(void **state)
{
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    hand_elect(&h, 1, 2);

    /* the no-op is not committed yet: the commit index is unknown */
    assert_int_equal(nc_raft_read_index(h.nodes[1].r, 1), NC_RAFT_AGAIN);

    step(&h, 1, NC_RAFT_MSG_APP_RESP, 2, nc_raft_term(h.nodes[1].r), 1, 0, 0,
         0);
    assert_int_equal(nc_raft_commit(h.nodes[1].r), 1);
    assert_int_equal(nc_raft_read_index(h.nodes[1].r, 1), NC_RAFT_OK);

    h_free(&h);
}


static void
test_conflicting_follower_tail_truncated(void **state)
{
    h_cluster_t  h;
    uint64_t     t1[] = { 1 }, t122[] = { 1, 2, 2 };

    (void) state;

    h_init(&h, 3, 0);
    h.base.pre_vote = 0;
    h_preload(&h, 1, t1, 1, 3);
    h_preload(&h, 2, t1, 1, 3);
    h_preload(&h, 3, t122, 3, 3);
    h_start_all(&h);

    h_isolate(&h, 3, 1);
    h_elect(&h, 1);
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    h_propose(&h, 1, 1, 1);
    h_deliver(&h);
    h_isolate(&h, 3, 0);
    h_run(&h, 5);

    assert_int_equal(h_log_term(&h, 3, 2), nc_raft_term(h.nodes[1].r));
    assert_int_equal(h_log_term(&h, 3, 3), nc_raft_term(h.nodes[1].r));
    assert_int_equal(nc_raft_last_index(h.nodes[3].r), 3);
    assert_int_equal(nc_raft_commit(h.nodes[3].r), 3);

    h_free(&h);
}


/* Figure 2, rule 5: commit = min(leaderCommit, index of last new entry) */

static uint64_t
follower_commit(unsigned bugs)
{
    uint64_t         c;
    h_cluster_t      h;
    nc_raft_msg_t    m;
    uint64_t         t122[] = { 1, 2, 2 };

    h_init(&h, 3, 0);
    h.base.test_bugs = bugs;
    h_preload(&h, 3, t122, 3, 2);
    h_start_all(&h);

    /* leader of term 3 matches at index 1 and knows commit 3 */
    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_APP;
    m.from = 1;
    m.to = 3;
    m.term = 3;
    m.index = 1;
    m.log_term = 1;
    m.commit = 3;
    assert_int_equal(nc_raft_step(h.nodes[3].r, &m), NC_RAFT_OK);
    c = nc_raft_commit(h.nodes[3].r);
    h_ready(&h, 3);
    h_free(&h);

    return c;
}


static void
test_follower_commit_bounded_by_last_new_entry(void **state)
{
    (void) state;

    assert_int_equal(follower_commit(0), 1);
    assert_int_equal(follower_commit(NC_RAFT_BUG_COMMIT_PAST_NEW), 3);
}


static uint64_t
stale_append(unsigned bugs)
{
    uint64_t         t;
    h_cluster_t      h;
    nc_raft_msg_t    m, r;
    nc_raft_entry_t  e;
    uint64_t         t15[] = { 1, 5 };

    h_init(&h, 3, 0);
    h.base.test_bugs = bugs;
    h_preload(&h, 3, t15, 2, 5);
    h_start_all(&h);

    memset(&e, 0, sizeof(e));
    e.term = 4;
    e.index = 2;
    e.type = NC_RAFT_ENTRY_NOOP;

    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_APP;
    m.from = 1;
    m.to = 3;
    m.term = 4;
    m.index = 1;
    m.log_term = 1;
    m.n_entries = 1;
    m.entries = &e;
    assert_int_equal(nc_raft_step(h.nodes[3].r, &m), NC_RAFT_OK);
    h_ready(&h, 3);

    if (!bugs) {
        /* the stale leader hears of term 5 */
        assert_int_equal(last_out(&h, &r), NC_RAFT_OK);
        assert_int_equal(r.term, 5);
    }

    t = h_log_term(&h, 3, 2);
    h_free(&h);

    return t;
}


static void
test_stale_term_append_rejected(void **state)
{
    (void) state;

    assert_int_equal(stale_append(0), 5);
    assert_int_equal(stale_append(NC_RAFT_BUG_STALE_TERM_APPEND), 4);
}


static void
test_missing_entry_has_no_term(void **state)
{
    uint64_t     t;
    h_cluster_t  h;
    uint64_t     t123[] = { 1, 2, 3 };

    (void) state;

    h_init(&h, 1, 0);
    h_preload(&h, 1, t123, 3, 3);

    /* compact index 1 away */
    free(h.nodes[1].ents[0].data);
    memmove(h.nodes[1].ents, h.nodes[1].ents + 1, 2 * sizeof(h_ent_t));
    h.nodes[1].n = 2;
    h.nodes[1].base = 1;
    h.nodes[1].base_term = 1;
    h_start_all(&h);

    assert_int_equal(nc_raft_log_term(h.nodes[1].r, 0, &t), NC_RAFT_OK);
    assert_int_equal(nc_raft_log_term(h.nodes[1].r, 1, &t), NC_RAFT_OK);
    assert_int_equal(t, 1);
    assert_int_equal(nc_raft_log_term(h.nodes[1].r, 4, &t),
                     NC_RAFT_DECLINED);

    free(h.nodes[1].ents[0].data);       /* compacted further */
    h.nodes[1].ents[0] = h.nodes[1].ents[1];
    h.nodes[1].n = 1;
    h.nodes[1].base = 2;
    h.nodes[1].base_term = 2;
    assert_int_equal(nc_raft_log_term(h.nodes[1].r, 1, &t),
                     NC_RAFT_DECLINED);

    h_free(&h);
}


static void
test_prevote_response_term_rules(void **state)
{
    h_cluster_t    h;
    nc_raft_msg_t  r;

    (void) state;

    h_init(&h, 3, 0);
    h.nodes[1].hs.term = 2;
    h_start_all(&h);

    /* granted: the response mirrors the request's term (canonical #281) */
    step(&h, 1, NC_RAFT_MSG_PREVOTE, 2, 3, 0, 0, 0, 0);
    assert_int_equal(last_out(&h, &r), NC_RAFT_OK);
    assert_int_equal(r.type, NC_RAFT_MSG_PREVOTE_RESP);
    assert_false(r.flags & NC_RAFT_FLAG_REJECT);
    assert_int_equal(r.term, 3);
    assert_int_equal(nc_raft_term(h.nodes[1].r), 2);      /* unchanged */
    assert_int_equal(h.nodes[1].hs.vote, 0);              /* no vote */

    /* a lower-term pre-vote is refused with our term */
    step(&h, 1, NC_RAFT_MSG_PREVOTE, 3, 1, 0, 0, 0, 0);
    assert_int_equal(last_out(&h, &r), NC_RAFT_OK);
    assert_true(r.flags & NC_RAFT_FLAG_REJECT);
    assert_int_equal(r.term, 2);

    h_free(&h);
}


static void
test_learner_never_votes_or_campaigns(void **state)
{
    size_t       k;
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 1);
    h_start_all(&h);

    h_tick(&h, 4, 200);
    assert_int_equal(nc_raft_role(h.nodes[4].r), NC_RAFT_FOLLOWER);
    assert_int_equal(nc_raft_term(h.nodes[4].r), 0);

    for (k = 0; k < h.n_out; k++) {
        assert_int_not_equal(h.out[k].from, 4);
    }

    /* a candidate does not send vote requests to the learner */
    h_drop_all(&h);
    (void) nc_raft_campaign(h.nodes[1].r);
    h_ready(&h, 1);

    for (k = 0; k < h.n_out; k++) {
        assert_int_not_equal(h.out[k].to, 4);
    }

    h_deliver(&h);
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    h_run(&h, 3);
    assert_int_equal(nc_raft_commit(h.nodes[4].r), 1);     /* replicated */

    h_free(&h);
}


static void
test_snapshot_install_replaces_diverged_log(void **state)
{
    int          i;
    uint64_t     idx, term;
    h_cluster_t  h;
    h_node_t    *l;
    uint64_t     t1[] = { 1 }, t1222[] = { 1, 2, 2, 2 };

    (void) state;

    h_init(&h, 3, 0);
    h.base.pre_vote = 0;
    h.base.snap_chunk = 7;               /* several chunks */
    h_preload(&h, 1, t1, 1, 3);
    h_preload(&h, 2, t1, 1, 3);
    h_preload(&h, 3, t1222, 4, 3);
    h_start_all(&h);

    h_isolate(&h, 3, 1);
    h_elect(&h, 1);

    for (i = 1; i <= 10; i++) {
        h_propose(&h, 1, 1, (uint64_t) i);
    }

    h_deliver(&h);
    l = &h.nodes[1];
    idx = nc_raft_applied(l->r);
    assert_int_equal(idx, 12);
    term = h_log_term(&h, 1, idx);

    /* the leader snapshots and compacts past what n3 could match */
    l->snap.index = idx;
    l->snap.term = term;
    l->snap.conf = *nc_raft_conf(l->r);
    memcpy(l->snap_data, "state-machine-image-0123456789", 30);
    l->snap.data = l->snap_data;
    l->snap.len = 30;
    l->base_term = term;
    h_trim(l, 0);
    l->base = idx;
    nc_raft_compacted(l->r, idx);
    h_propose(&h, 1, 1, 11);

    h_isolate(&h, 3, 0);
    h_run(&h, 30);

    assert_int_equal(h.nodes[3].snap.index, idx);
    assert_memory_equal(h.nodes[3].snap_data, "state-machine-image", 19);
    assert_int_equal(h_log_term(&h, 3, idx), term);
    assert_int_equal(nc_raft_last_index(h.nodes[3].r), idx + 1);
    assert_int_equal(nc_raft_commit(h.nodes[3].r), idx + 1);
    assert_int_equal(nc_raft_applied(h.nodes[3].r), idx + 1);

    h_free(&h);
}


/* one network hop: everybody ticks once, then what is in flight arrives */

static void
hop(h_cluster_t *h)
{
    int     i;
    size_t  n;

    for (i = 1; i <= h->n; i++) {
        h_tick(h, i, 1);
    }

    for (n = h->n_out; n > 0; n--) {
        (void) h_deliver_one(h, 0);
    }
}


/*
 * n3 misses 20 entries which the leader then compacts away: it needs the
 * snapshot, an image of 200 bytes sent in chunks of 8, one per round trip,
 * while the leader is asked for a new snapshot every 4 entries.
 */

static uint64_t
slow_snapshot_setup(h_cluster_t *h, int check_quorum)
{
    uint64_t  seq;

    h_init(h, 3, 0);
    h->base.check_quorum = check_quorum;
    h->base.snap_chunk = 8;
    h->base.snapshot_entries = 4;
    h->snap_image = 200;
    h_start_all(h);
    h_elect(h, 1);
    assert_int_equal(nc_raft_role(h->nodes[1].r), NC_RAFT_LEADER);

    h_isolate(h, 3, 1);

    for (seq = 1; seq <= 20; seq++) {
        assert_int_equal(h_propose(h, 1, 1, seq), NC_RAFT_OK);
        h_deliver(h);
    }

    assert_true(h->nodes[1].snap.index > 0);
    assert_true(h->nodes[1].base > nc_raft_last_index(h->nodes[3].r));
    h_isolate(h, 3, 0);

    return seq;
}


/*
 * The leader's next snapshot replaced the one being sent and restarted the
 * transfer at offset 0: a follower that takes longer to download the image
 * (25 round trips) than the leader takes to make a new one (4 writes, one
 * per round trip) never caught up.  The leader must hold compaction while
 * the follower acknowledges chunks.
 */

static void
test_slow_snapshot_transfer_not_restarted_by_compaction(void **state)
{
    int          i;
    uint64_t     seq;
    h_cluster_t  h;

    (void) state;

    seq = slow_snapshot_setup(&h, 1);

    for (i = 0; i < 150; i++) {
        assert_int_equal(h_propose(&h, 1, 1, seq++), NC_RAFT_OK);
        hop(&h);
    }

    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    assert_true(h.nodes[3].snap.index > 0);
    assert_true(nc_raft_applied(h.nodes[3].r) + 4
                >= nc_raft_commit(h.nodes[1].r));

    h_free(&h);
}


/*
 * The hold lasts while the receiver acknowledges chunks; once it goes
 * silent for an election timeout the leader compacts again, so a dead
 * follower cannot make the log grow without bound.  Without CheckQuorum
 * the leader still counts n3 as active and restarts the transfer: a
 * transfer that nobody acknowledges must not hold compaction either.
 */

static void
test_snapshot_hold_ends_when_receiver_goes_silent(void **state)
{
    int          i;
    uint64_t     seq, held;
    h_cluster_t  h;

    (void) state;

    seq = slow_snapshot_setup(&h, 0);

    for (i = 0; i < 10; i++) {
        assert_int_equal(h_propose(&h, 1, 1, seq++), NC_RAFT_OK);
        hop(&h);
    }

    held = h.nodes[1].snap.index;

    for (i = 0; i < 20; i++) {
        assert_int_equal(h_propose(&h, 1, 1, seq++), NC_RAFT_OK);
        hop(&h);
    }

    /* 20 more writes applied, no new snapshot, the transfer goes on */
    assert_int_equal(h.nodes[1].snap.index, held);
    assert_int_equal(h.nodes[3].snap.index, 0);
    assert_true(nc_raft_applied(h.nodes[1].r) >= held + 20);

    h_isolate(&h, 3, 1);

    for (i = 0; i < 25; i++) {
        assert_int_equal(h_propose(&h, 1, 1, seq++), NC_RAFT_OK);
        hop(&h);
    }

    assert_true(h.nodes[1].snap.index > held);

    h_free(&h);
}


static void
test_transfer_to_lagging_follower(void **state)
{
    int          i;
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);

    h_isolate(&h, 3, 1);
    for (i = 1; i <= 5; i++) {
        h_propose(&h, 1, 1, (uint64_t) i);
    }
    h_deliver(&h);
    h_isolate(&h, 3, 0);

    assert_int_equal(nc_raft_transfer_leader(h.nodes[1].r, 3), NC_RAFT_OK);

    /* no new writes while transferring */
    assert_int_equal(h_propose(&h, 1, 2, 1), NC_RAFT_BUSY);

    h_deliver(&h);
    h_deliver(&h);

    assert_int_equal(nc_raft_role(h.nodes[3].r), NC_RAFT_LEADER);
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_FOLLOWER);
    assert_true(nc_raft_last_index(h.nodes[3].r) >= 7);

    h_free(&h);
}


static void
test_duplicate_client_request_applied_once(void **state)
{
    int                  effective;
    size_t               k;
    h_cluster_t          h;
    nc_raft_sessions_t   s;
    h_node_t            *nd;

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);
    h_elect(&h, 1);

    /* a client retries (7, 1) after a timeout: both are committed */
    h_propose(&h, 1, 7, 1);
    h_propose(&h, 1, 7, 1);
    h_propose(&h, 1, 7, 2);
    h_run(&h, 3);

    nd = &h.nodes[2];
    assert_int_equal(nd->n_applied, 3);
    assert_int_equal(nc_raft_sessions_init(&s, 4), NC_RAFT_OK);

    effective = 0;

    for (k = 0; k < nd->n_applied; k++) {
        if (nc_raft_session_check(&s, nd->applied[k] >> 32,
                                  nd->applied[k] & 0xffffffff, k + 2)
            == NC_RAFT_OK)
        {
            effective++;
        }
    }

    assert_int_equal(effective, 2);
    nc_raft_sessions_free(&s);
    h_free(&h);
}


static void
test_session_table_survives_snapshot(void **state)
{
    int                 i;
    size_t              n;
    unsigned char       buf[8192];
    nc_raft_sessions_t  s, t;

    (void) state;

    assert_int_equal(nc_raft_sessions_init(&s, 2), NC_RAFT_OK);

    for (i = 1; i <= 100; i++) {
        assert_int_equal(nc_raft_session_check(&s, (uint64_t) i, 1,
                                               (uint64_t) i), NC_RAFT_OK);
    }

    assert_int_equal(nc_raft_session_check(&s, 50, 1, 200),
                     NC_RAFT_DECLINED);
    assert_int_equal(nc_raft_session_check(&s, 50, 0, 200),
                     NC_RAFT_DECLINED);

    n = nc_raft_sessions_encode(&s, buf, sizeof(buf));
    assert_int_equal(n, 8 + 100 * 24);

    memset(&t, 0, sizeof(t));
    assert_int_equal(nc_raft_sessions_decode(&t, buf, n), NC_RAFT_OK);
    assert_int_equal(nc_raft_session_check(&t, 50, 1, 300),
                     NC_RAFT_DECLINED);
    assert_int_equal(nc_raft_session_check(&t, 50, 2, 300), NC_RAFT_OK);

    /* hostile images */
    assert_int_equal(nc_raft_sessions_decode(&t, buf, n - 1), NC_RAFT_ERROR);
    buf[0] = 0xff;
    assert_int_equal(nc_raft_sessions_decode(&t, buf, n), NC_RAFT_ERROR);

    /* expiry by log index, the same on every replica */
    nc_raft_sessions_expire(&s, 90);
    assert_int_equal(s.n, 11);
    assert_int_equal(nc_raft_session_check(&s, 10, 1, 400), NC_RAFT_OK);

    nc_raft_sessions_free(&s);
    nc_raft_sessions_free(&t);
}


static void
test_conf_change_rules(void **state)
{
    int          i;
    uint64_t     idx;
    h_cluster_t  h;

    (void) state;

    h_init(&h, 3, 0);
    h.n = 4;                                  /* n4 starts empty */
    memset(&h.nodes[4].conf, 0, sizeof(nc_raft_conf_t));
    hand_elect(&h, 1, 2);

    /* before an entry of its term commits, a new leader refuses changes */
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_ADD_LEARNER, 4, NULL), NC_RAFT_BUSY);

    h_deliver(&h);
    h_run(&h, 2);
    assert_int_equal(nc_raft_commit(h.nodes[1].r), 1);

    /* a voter must be a learner first */
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_PROMOTE, 4, NULL), NC_RAFT_DECLINED);

    h_isolate(&h, 4, 1);
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_ADD_LEARNER, 4, &idx), NC_RAFT_OK);

    /* one at a time */
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_REMOVE, 3, NULL), NC_RAFT_BUSY);

    /* takes effect when applied, not when appended */
    assert_false(nc_raft_conf_is_learner(nc_raft_conf(h.nodes[1].r), 4));
    h_run(&h, 3);
    assert_true(nc_raft_conf_is_learner(nc_raft_conf(h.nodes[1].r), 4));
    assert_true(nc_raft_conf_is_learner(nc_raft_conf(h.nodes[3].r), 4));

    for (i = 1; i <= 40; i++) {
        h_propose(&h, 1, 1, (uint64_t) i);
    }
    h_run(&h, 2);

    /* n4 has not caught up: it may not vote yet */
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_PROMOTE, 4, NULL), NC_RAFT_AGAIN);

    h_isolate(&h, 4, 0);
    h_run(&h, 10);
    assert_int_equal(nc_raft_commit(h.nodes[4].r),
                     nc_raft_commit(h.nodes[1].r));
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_PROMOTE, 4, NULL), NC_RAFT_OK);
    h_run(&h, 3);
    assert_true(nc_raft_conf_is_voter(nc_raft_conf(h.nodes[4].r), 4));
    assert_int_equal(nc_raft_conf(h.nodes[1].r)->n_voters, 4);

    /* the leader removes itself: it steps down once that applies */
    assert_int_equal(nc_raft_propose_conf_change(h.nodes[1].r,
                     NC_RAFT_CONF_REMOVE, 1, NULL), NC_RAFT_OK);
    h_run(&h, 3);
    assert_int_not_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);
    assert_false(nc_raft_conf_is_voter(nc_raft_conf(h.nodes[2].r), 1));
    h_run(&h, 60);
    assert_true(nc_raft_role(h.nodes[2].r) == NC_RAFT_LEADER
                || nc_raft_role(h.nodes[3].r) == NC_RAFT_LEADER
                || nc_raft_role(h.nodes[4].r) == NC_RAFT_LEADER);

    h_free(&h);
}


static void
test_apply_only_persisted_entries(void **state)
{
    h_cluster_t      h;
    nc_raft_ready_t  rd;
    nc_raft_entry_t  e;

    (void) state;

    h_init(&h, 1, 0);
    h_start_all(&h);
    (void) nc_raft_campaign(h.nodes[1].r);
    assert_int_equal(nc_raft_role(h.nodes[1].r), NC_RAFT_LEADER);

    memset(&e, 0, sizeof(e));
    e.type = NC_RAFT_ENTRY_NORMAL;
    assert_int_equal(nc_raft_propose(h.nodes[1].r, &e, 1, NULL), NC_RAFT_OK);

    /* the single node has not persisted these: nothing to apply yet */
    nc_raft_ready(h.nodes[1].r, &rd);
    assert_int_equal(rd.n_entries, 2);
    assert_int_equal(rd.n_committed, 0);
    assert_int_equal(rd.hs.commit, 0);
    h_append(&h.nodes[1], &rd.entries[0]);
    h_append(&h.nodes[1], &rd.entries[1]);
    nc_raft_advance(h.nodes[1].r);

    nc_raft_ready(h.nodes[1].r, &rd);
    assert_int_equal(rd.hs.commit, 2);
    assert_int_equal(rd.n_committed, 2);
    nc_raft_advance(h.nodes[1].r);
    assert_int_equal(nc_raft_applied(h.nodes[1].r), 2);

    h_free(&h);
}


static void
test_restart_refuses_lost_committed_entries(void **state)
{
    h_cluster_t  h;
    uint64_t     t1[] = { 1 };

    (void) state;

    h_init(&h, 3, 0);
    h_preload(&h, 1, t1, 1, 1);
    h.nodes[1].hs.commit = 5;              /* the log lost 2..5 */
    assert_int_equal(h_start(&h, 1), NC_RAFT_ERROR);
    h_trim(&h.nodes[1], 0);
    free(h.nodes[1].ents);
}


static void
test_hostile_messages_rejected(void **state)
{
    h_cluster_t      h;
    nc_raft_msg_t    m;
    nc_raft_entry_t  e[2];

    (void) state;

    h_init(&h, 3, 0);
    h_start_all(&h);

    memset(&m, 0, sizeof(m));
    m.type = NC_RAFT_MSG_APP;
    m.from = 2;
    m.to = 1;
    m.term = 3;
    m.index = 0;
    m.n_entries = 2;
    m.entries = e;
    memset(e, 0, sizeof(e));
    e[0].index = 1;
    e[0].term = 3;
    e[0].type = NC_RAFT_ENTRY_NOOP;
    e[1] = e[0];
    e[1].index = 3;                                  /* a gap */
    assert_int_equal(nc_raft_step(h.nodes[1].r, &m), NC_RAFT_ERROR);

    e[1].index = 2;
    e[1].term = 9;                                   /* above m.term */
    assert_int_equal(nc_raft_step(h.nodes[1].r, &m), NC_RAFT_ERROR);

    m.to = 3;                                        /* not for us */
    e[1].term = 3;
    assert_int_equal(nc_raft_step(h.nodes[1].r, &m), NC_RAFT_ERROR);

    m.to = 1;
    m.type = 99;
    assert_int_equal(nc_raft_step(h.nodes[1].r, &m), NC_RAFT_ERROR);

    assert_int_equal(nc_raft_last_index(h.nodes[1].r), 0);
    h_free(&h);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_election_one_leader_and_noop),
        cmocka_unit_test(test_vote_granted_once_per_term_and_after_persist),
        cmocka_unit_test(test_vote_response_not_before_persist_bug_shows),
        cmocka_unit_test(test_vote_needs_up_to_date_log),
        cmocka_unit_test(test_figure8_old_term_entry_not_committed_by_counting),
        cmocka_unit_test(
            test_prevote_partitioned_node_rejoins_without_disrupting),
        cmocka_unit_test(
            test_higher_term_rejoin_without_prevote_is_ignored_in_lease),
        cmocka_unit_test(test_checkquorum_leader_steps_down),
        cmocka_unit_test(test_readindex_confirmed_by_heartbeat_quorum),
        cmocka_unit_test(test_readindex_refused_by_stale_leader),
        cmocka_unit_test(test_readindex_needs_commit_in_current_term),
        cmocka_unit_test(test_conflicting_follower_tail_truncated),
        cmocka_unit_test(test_follower_commit_bounded_by_last_new_entry),
        cmocka_unit_test(test_stale_term_append_rejected),
        cmocka_unit_test(test_missing_entry_has_no_term),
        cmocka_unit_test(test_prevote_response_term_rules),
        cmocka_unit_test(test_learner_never_votes_or_campaigns),
        cmocka_unit_test(test_snapshot_install_replaces_diverged_log),
        cmocka_unit_test(
            test_slow_snapshot_transfer_not_restarted_by_compaction),
        cmocka_unit_test(test_snapshot_hold_ends_when_receiver_goes_silent),
        cmocka_unit_test(test_transfer_to_lagging_follower),
        cmocka_unit_test(test_duplicate_client_request_applied_once),
        cmocka_unit_test(test_session_table_survives_snapshot),
        cmocka_unit_test(test_conf_change_rules),
        cmocka_unit_test(test_apply_only_persisted_entries),
        cmocka_unit_test(test_restart_refuses_lost_committed_entries),
        cmocka_unit_test(test_hostile_messages_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
