/*
 * nacre: throughput of the Raft core alone.
 *
 * A 3-member cluster in memory: no disk, no network, messages handed
 * straight from one core to another.  The leader gets batches of 128-byte
 * proposals; the figure is entries committed and applied by the leader per
 * second, and allocations per entry counted through the allocator hook.
 */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nc_raft.h"


#define B_NODES   3
#define B_RING    (1u << 20)


typedef struct {
    uint64_t        last;
    uint64_t        first;
    uint64_t       *terms;                 /* ring by index */
    nc_raft_t      *r;
    uint64_t        applied;
} b_node_t;


static b_node_t  nodes[B_NODES + 1];
static uint64_t  n_alloc;


static void *
b_alloc(void *ctx, size_t size)
{
    (void) ctx;
    n_alloc++;
    return malloc(size);
}


static void *
b_realloc(void *ctx, void *p, size_t size)
{
    (void) ctx;
    n_alloc++;
    return realloc(p, size);
}


static void
b_free(void *ctx, void *p)
{
    (void) ctx;
    free(p);
}


static int
b_entries(void *ctx, uint64_t lo, uint64_t hi, nc_raft_entry_t *out,
    size_t *n, size_t max_bytes)
{
    (void) ctx; (void) lo; (void) hi; (void) out; (void) n; (void) max_bytes;

    /* entry bodies are not kept: the cluster never lags that far */
    return NC_RAFT_DECLINED;
}


static int
b_term(void *ctx, uint64_t i, uint64_t *t)
{
    b_node_t  *nd = ctx;

    if (i == 0) {
        *t = 0;
        return NC_RAFT_OK;
    }

    if (i > nd->last || i + B_RING <= nd->last) {
        return NC_RAFT_DECLINED;
    }

    *t = nd->terms[i % B_RING];

    return NC_RAFT_OK;
}


static uint64_t
b_first(void *ctx)
{
    return ((b_node_t *) ctx)->first;
}


static uint64_t
b_last(void *ctx)
{
    return ((b_node_t *) ctx)->last;
}


static int
b_snapshot(void *ctx, nc_raft_snapshot_t *s)
{
    (void) ctx; (void) s;
    return NC_RAFT_AGAIN;
}


static void
b_process(int id)
{
    size_t           i;
    b_node_t        *nd = &nodes[id];
    nc_raft_ready_t  rd;

    while (nc_raft_has_ready(nd->r)) {
        nc_raft_ready(nd->r, &rd);

        for (i = 0; i < rd.n_msgs; i++) {
            (void) nc_raft_step(nodes[rd.msgs[i].to].r, &rd.msgs[i]);
        }

        for (i = 0; i < rd.n_entries; i++) {
            nd->terms[rd.entries[i].index % B_RING] = rd.entries[i].term;
        }

        if (rd.n_entries) {
            nd->last = rd.entries[rd.n_entries - 1].index;
        }

        for (i = 0; i < rd.n_msgs_after; i++) {
            (void) nc_raft_step(nodes[rd.msgs_after[i].to].r,
                                &rd.msgs_after[i]);
        }

        if (rd.n_committed) {
            nd->applied = rd.committed[rd.n_committed - 1].index;
        }

        nc_raft_advance(nd->r);
    }
}


int
main(int argc, char **argv)
{
    int                  i, k, batch;
    double               secs;
    uint64_t             total, start_applied, allocs0, target;
    unsigned char        payload[128];
    nc_raft_entry_t      ents[1024];
    nc_raft_config_t     cf;
    nc_raft_allocator_t  al = { b_alloc, b_realloc, b_free, NULL };
    struct timespec      t0, t1;

    total = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    batch = argc > 2 ? atoi(argv[2]) : 256;

    if (batch < 1 || batch > 1024) {
        batch = 256;
    }

    memset(payload, 'x', sizeof(payload));

    for (k = 0; k < batch; k++) {
        memset(&ents[k], 0, sizeof(nc_raft_entry_t));
        ents[k].type = NC_RAFT_ENTRY_NORMAL;
        ents[k].data = payload;
        ents[k].len = sizeof(payload);
    }

    for (i = 1; i <= B_NODES; i++) {
        memset(&cf, 0, sizeof(cf));
        cf.id = (uint64_t) i;
        cf.pre_vote = 1;
        cf.check_quorum = 1;
        cf.seed = 1;
        cf.max_inflight = 256;
        cf.max_msg_bytes = 1 << 20;
        cf.allocator = &al;
        cf.storage.ctx = &nodes[i];
        cf.storage.entries = b_entries;
        cf.storage.term = b_term;
        cf.storage.first_index = b_first;
        cf.storage.last_index = b_last;
        cf.storage.snapshot = b_snapshot;

        for (k = 1; k <= B_NODES; k++) {
            cf.conf.voters[cf.conf.n_voters++] = (uint64_t) k;
        }

        nodes[i].first = 1;
        nodes[i].terms = calloc(B_RING, sizeof(uint64_t));

        if (nc_raft_create(&cf, &nodes[i].r) != NC_RAFT_OK) {
            fprintf(stderr, "raft_core: create failed\n");
            return 1;
        }
    }

    (void) nc_raft_campaign(nodes[1].r);

    for (k = 0; k < 50 && nc_raft_role(nodes[1].r) != NC_RAFT_LEADER; k++) {
        for (i = 1; i <= B_NODES; i++) {
            b_process(i);
        }
    }

    if (nc_raft_role(nodes[1].r) != NC_RAFT_LEADER) {
        fprintf(stderr, "raft_core: no leader\n");
        return 1;
    }

    /* warm up: rings, blocks and vectors reach their steady size */
    for (k = 0; k < 2000; k++) {
        (void) nc_raft_propose(nodes[1].r, ents, (size_t) batch, NULL);
        for (i = 1; i <= B_NODES; i++) {
            b_process(i);
        }
    }

    start_applied = nodes[1].applied;
    target = start_applied + total;
    allocs0 = n_alloc;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    while (nodes[1].applied < target) {
        if (nc_raft_propose(nodes[1].r, ents, (size_t) batch, NULL)
            != NC_RAFT_OK)
        {
            fprintf(stderr, "raft_core: propose refused\n");
            return 1;
        }

        for (i = 1; i <= B_NODES; i++) {
            b_process(i);
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double) (t1.tv_sec - t0.tv_sec)
           + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    total = nodes[1].applied - start_applied;

    printf("raft_core: 3 members, batch %d x 128 bytes: %" PRIu64
           " entries committed in %.3f s = %.0f entries/s\n", batch, total,
           secs, (double) total / secs);
    printf("raft_core: %" PRIu64 " allocations in the measured run = %.6f"
           " per entry\n", n_alloc - allocs0,
           (double) (n_alloc - allocs0) / (double) total);

    for (i = 1; i <= B_NODES; i++) {
        nc_raft_destroy(nodes[i].r);
        free(nodes[i].terms);
    }

    return 0;
}
