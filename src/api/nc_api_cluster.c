
/*
 * nacre: the cluster's state, as the consensus process sees it.
 *
 *   GET /v1/cluster/raft              this member's Raft view (JSON object:
 *                                     self, role, term, leader, commit,
 *                                     applied, last_index, snapshot_index,
 *                                     members [{address, role, match, lag}],
 *                                     fsync latency)
 *   GET /nacos/v1/core/cluster/nodes  Nacos' RestResult of Members
 *   GET /nacos/serverlist             the members' API addresses (Nacos'
 *                                     address server)
 *   PUT /v1/cluster/members/<address>         add a member (learner, then
 *                                             voter once caught up)
 *   DELETE /v1/cluster/members/<address|id>   remove one
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_event.h>
#include <nc_http.h>
#include <nc_consensus.h>
#include <nc_api.h>
#include <nc_auth.h>


typedef struct {
    nc_http_request_t      *request;
    nc_consensus_req_t     *status;
    nc_uint_t               format;
} nc_api_cluster_ctx_t;


static nc_int_t nc_api_cluster_raft(nc_http_request_t *r);
static nc_int_t nc_api_cluster_nodes(nc_http_request_t *r);
static nc_int_t nc_api_cluster_serverlist(nc_http_request_t *r);
static nc_int_t nc_api_cluster_ask(nc_http_request_t *r, nc_uint_t format);
static void nc_api_cluster_answer(void *data, nc_int_t status, u_char *text,
    size_t len);
static void nc_api_cluster_cleanup(nc_http_request_t *r);
static nc_int_t nc_api_cluster_member(nc_http_request_t *r);
static void nc_api_cluster_member_done(void *data, nc_int_t status,
    uint64_t index, uint64_t revision);


#define NC_API_CLUSTER_MEMBERS  "/v1/cluster/members/"


nc_int_t
nc_api_cluster_init_routes(nc_cycle_t *cycle)
{
    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, "/v1/cluster/raft", 0,
                          NC_AUTH_USER, nc_api_cluster_raft) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/nacos/v1/core/cluster/nodes", 0,
                             NC_AUTH_USER, nc_api_cluster_nodes) != NC_OK
        || nc_http_add_route(NC_HTTP_PUT | NC_HTTP_DELETE,
                             NC_API_CLUSTER_MEMBERS, 1, NC_AUTH_ADMIN,
                             nc_api_cluster_member) != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, "/nacos/serverlist",
                             0, NC_AUTH_ANON, nc_api_cluster_serverlist)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_api_cluster_raft(nc_http_request_t *r)
{
    return nc_api_cluster_ask(r, NC_CONSENSUS_STATUS_RAFT);
}


static nc_int_t
nc_api_cluster_nodes(nc_http_request_t *r)
{
    return nc_api_cluster_ask(r, NC_CONSENSUS_STATUS_NACOS);
}


/*
 * Nacos' address server: the members' API addresses, a line each.  CRLF
 * ends each line: the Node naming client splits on "\r\n", the config
 * client trims.  Anyone may ask, as anyone may of an address server.
 */
static nc_int_t
nc_api_cluster_serverlist(nc_http_request_t *r)
{
    return nc_api_cluster_ask(r, NC_CONSENSUS_STATUS_SERVERS);
}


static nc_int_t
nc_api_cluster_ask(nc_http_request_t *r, nc_uint_t format)
{
    nc_api_cluster_ctx_t  *ctx;

    ctx = nc_pcalloc(r->pool, sizeof(nc_api_cluster_ctx_t));
    if (ctx == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->format = format;
    r->ctx = ctx;

    ctx->status = nc_consensus_status(format, nc_api_cluster_answer, ctx);

    if (ctx->status == NULL) {
        return nc_http_set_response(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                    "application/json",
                                    (u_char *) "{\"error\":\"the consensus "
                                    "process is not running\"}",
                                    sizeof("{\"error\":\"the consensus "
                                           "process is not running\"}") - 1);
    }

    r->cleanup = nc_api_cluster_cleanup;

    return NC_DONE;
}


static void
nc_api_cluster_answer(void *data, nc_int_t status, u_char *text, size_t len)
{
    u_char                *p;
    nc_int_t               rc;
    nc_api_cluster_ctx_t  *ctx;
    nc_http_request_t     *r;

    ctx = data;
    r = ctx->request;

    ctx->status = NULL;
    r->cleanup = NULL;

    if (status != NC_OK || text == NULL) {
        nc_http_finalize_request(r,
            nc_http_set_response(r, NC_HTTP_SERVICE_UNAVAILABLE,
                                 "application/json",
                                 (u_char *) "{\"error\":\"no answer from the "
                                 "consensus process\"}",
                                 sizeof("{\"error\":\"no answer from the "
                                        "consensus process\"}") - 1));
        return;
    }

    if (ctx->format == NC_CONSENSUS_STATUS_NACOS) {
        /* RestResult<Collection<Member>> */
        p = nc_pnalloc(r->pool, len + sizeof("{\"code\":200,\"message\":null,"
                                             "\"data\":}"));
        if (p == NULL) {
            nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        len = (size_t) sprintf((char *) p,
                               "{\"code\":200,\"message\":null,\"data\":%.*s}",
                               (int) len, text);

    } else {
        p = nc_pnalloc(r->pool, len);
        if (p == NULL) {
            nc_http_finalize_request(r, NC_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        nc_memcpy(p, text, len);
    }

    rc = nc_http_set_response(r, NC_HTTP_OK,
                              ctx->format == NC_CONSENSUS_STATUS_SERVERS
                              ? "text/plain; charset=utf-8"
                              : "application/json", p, len);

    nc_http_finalize_request(r, rc);
}


static void
nc_api_cluster_cleanup(nc_http_request_t *r)
{
    nc_api_cluster_ctx_t  *ctx;

    ctx = r->ctx;

    if (ctx->status) {
        nc_consensus_cancel(ctx->status);
        ctx->status = NULL;
    }
}


static nc_int_t
nc_api_cluster_member(nc_http_request_t *r)
{
    nc_str_t               text;
    nc_api_cluster_ctx_t  *ctx;

    text.data = r->path.data + sizeof(NC_API_CLUSTER_MEMBERS) - 1;
    text.len = r->path.len - (sizeof(NC_API_CLUSTER_MEMBERS) - 1);

    if (text.len == 0 || text.len > 128) {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST,
                            "expected a peer address "
                            "(or a node id to remove)");
    }

    ctx = nc_pcalloc(r->pool, sizeof(nc_api_cluster_ctx_t));
    if (ctx == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    r->ctx = ctx;

    ctx->status = nc_consensus_member(r->method == NC_HTTP_PUT
                                      ? NC_CONSENSUS_MEMBER_ADD
                                      : NC_CONSENSUS_MEMBER_REMOVE,
                                      text.data, text.len,
                                      nc_api_cluster_member_done, ctx);

    if (ctx->status == NULL) {
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the consensus process is not running");
    }

    r->cleanup = nc_api_cluster_cleanup;

    return NC_DONE;
}


static void
nc_api_cluster_member_done(void *data, nc_int_t status, uint64_t index,
    uint64_t revision)
{
    u_char                *p;
    nc_int_t               rc;
    nc_api_cluster_ctx_t  *ctx;
    nc_http_request_t     *r;

    ctx = data;
    r = ctx->request;

    ctx->status = NULL;
    r->cleanup = NULL;

    switch (status) {

    case NC_OK:
        p = nc_pnalloc(r->pool, sizeof("{\"index\":18446744073709551615}"));
        if (p == NULL) {
            rc = NC_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        rc = nc_http_set_response(r, NC_HTTP_OK, "application/json", p,
                                  (size_t) sprintf((char *) p,
                                                   "{\"index\":%" PRIu64 "}",
                                                   index));
        break;

    case NC_DECLINED:
        rc = nc_api_error(r, NC_HTTP_CONFLICT,
                          r->method == NC_HTTP_PUT
                          ? "already a member"
                          : "not a member");
        break;

    case NC_ERROR:
        rc = nc_api_error(r, NC_HTTP_BAD_REQUEST,
                          "not a peer address like 127.0.0.1:7848");
        break;

    default:
        rc = nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                          "no leader, or the member did not answer "
                          "in time");
        break;
    }

    nc_http_finalize_request(r, rc);
}

