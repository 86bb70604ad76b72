/*
 * nacre: libFuzzer target for the Raft codec.
 *
 * Decode arbitrary bytes as a message, a log entry and a membership change;
 * whatever decodes must re-encode to exactly the same bytes (the encoding
 * is canonical), and a decoded message must be safe to step into a core.
 */

#include <stdlib.h>
#include <string.h>

#include "nc_raft.h"


static nc_raft_entry_t  fuzz_ents[NC_RAFT_MAX_MSG_ENTRIES];
static unsigned char    fuzz_out[1 << 20];


int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    int              op;
    size_t           n, used;
    uint64_t         node;
    nc_raft_msg_t    m;
    nc_raft_conf_t   c;
    nc_raft_entry_t  e;

    if (nc_raft_msg_decode(data, size, &m, fuzz_ents,
                           NC_RAFT_MAX_MSG_ENTRIES) == NC_RAFT_OK)
    {
        if (nc_raft_msg_size(&m) != size) {
            abort();
        }

        if (size <= sizeof(fuzz_out)) {
            n = nc_raft_msg_encode(&m, fuzz_out, sizeof(fuzz_out));
            if (n != size || memcmp(fuzz_out, data, size) != 0) {
                abort();
            }
        }
    }

    if (nc_raft_entry_decode(data, size, &e, &used) == NC_RAFT_OK) {
        if (used > size || e.len > NC_RAFT_MAX_ENTRY_SIZE) {
            abort();
        }

        n = nc_raft_entry_encode(&e, fuzz_out, sizeof(fuzz_out));
        if (used <= sizeof(fuzz_out)
            && (n != used || memcmp(fuzz_out, data, used) != 0))
        {
            abort();
        }
    }

    if (nc_raft_conf_change_decode(data, size, &op, &node, &c)
        == NC_RAFT_OK)
    {
        n = nc_raft_conf_change_encode(fuzz_out, sizeof(fuzz_out), op, node,
                                       &c);
        if (n != size || memcmp(fuzz_out, data, size) != 0) {
            abort();
        }
    }

    return 0;
}
