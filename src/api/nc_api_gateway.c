
/*
 * nacre: the gateway's routes, administered over the native API (the
 * admin role only):
 *
 *   GET    /v1/gateway/routes        every route, a JSON array
 *   GET    /v1/gateway/routes/<id>   one route, 404 when there is none
 *   PUT    /v1/gateway/routes/<id>   write it: the body is checked as the
 *                                    gateway will compile it (a bad regex
 *                                    is a 400 naming PCRE2's message and
 *                                    offset) before it is ever stored
 *   DELETE /v1/gateway/routes/<id>   404 when there is none
 *   GET    /v1/gateway/stats         each route's counters on this node:
 *                                    {"<id>": {"requests", "1xx" .. "5xx"}}
 *   GET    /v1/gateway/upstreams     each upstream address's, on this node:
 *                                    [{"address", "requests", "1xx" ..
 *                                    "5xx", "failures" (tries without an
 *                                    answer), "ejected"}]
 *
 * Routes are Raft writes: every worker of every member takes a change as
 * soon as its member applies it, without a reload.  Routes declared in
 * this node's conf (gateway.routes) are listed too, with "source":"conf";
 * they are the conf's to change: a PUT or DELETE of one is a 409.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_gateway.h>
#include <nc_gateway_route.h>
#include <nc_gateway_shared.h>
#include <nc_api.h>
#include <nc_auth.h>
#include <nc_connection.h>


#define NC_API_GATEWAY_ROUTES   "/v1/gateway/routes"


static nc_int_t nc_api_gateway_list(nc_http_request_t *r);
static nc_int_t nc_api_gateway_stats(nc_http_request_t *r);
static nc_int_t nc_api_gateway_stat(const nc_store_record_t *rec,
    void *data);
static nc_int_t nc_api_gateway_route(nc_http_request_t *r);
static nc_int_t nc_api_gateway_each(const nc_store_record_t *rec,
    void *data);
static void nc_api_gateway_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_gateway_conf_json(nc_http_request_t *r, nc_buf_t *out,
    const nc_conf_route_t *cr);
static nc_int_t nc_api_gateway_counts(nc_api_json_t *j, const u_char *id,
    size_t len);
static nc_int_t nc_api_gateway_upstreams(nc_http_request_t *r);
static nc_int_t nc_api_gateway_upstream(const struct sockaddr *sa,
    socklen_t len, const uint64_t counts[NC_GATEWAY_UPSTREAM_COUNTERS],
    void *data);


static const nc_array_t  *nc_api_gateway_declared;


nc_int_t
nc_api_gateway_init_routes(nc_cycle_t *cycle)
{
    nc_api_gateway_declared = &cycle->conf->gateway.routes;

    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, NC_API_GATEWAY_ROUTES,
                          0, NC_AUTH_ADMIN, nc_api_gateway_list)
        != NC_OK)
    {
        return NC_ERROR;
    }

    if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, "/v1/gateway/stats", 0,
                          NC_AUTH_ADMIN, nc_api_gateway_stats)
        != NC_OK
        || nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD,
                             "/v1/gateway/upstreams", 0, NC_AUTH_ADMIN,
                             nc_api_gateway_upstreams)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD | NC_HTTP_PUT
                             | NC_HTTP_DELETE, NC_API_GATEWAY_ROUTES "/", 1,
                             NC_AUTH_ADMIN, nc_api_gateway_route);
}


static nc_int_t
nc_api_gateway_stats(nc_http_request_t *r)
{
    nc_int_t          rc;
    nc_uint_t         i;
    nc_api_json_t    *j;
    nc_conf_route_t  *cr;

    j = nc_palloc(r->pool, sizeof(nc_api_json_t));
    if (j == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_init(j, r->pool);
    nc_api_json_open(j, NULL, '{');

    cr = nc_api_gateway_declared->elts;

    for (i = 0; i < nc_api_gateway_declared->nelts; i++) {
        (void) nc_api_gateway_counts(j, cr[i].id.data, cr[i].id.len);
    }

    rc = nc_api_each(r, (u_char *) NC_STORE_GATEWAY_ROUTE,
                     NC_STORE_GATEWAY_ROUTE_LEN, nc_api_gateway_stat, j);

    if (rc == NC_BUSY) {
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the store is not ready");
    }

    nc_api_json_close(j, '}');

    if (rc != NC_OK || j->rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                j->out.pos, nc_buf_size(&j->out));
}


static nc_int_t
nc_api_gateway_upstreams(nc_http_request_t *r)
{
    nc_api_json_t  *j;

    j = nc_palloc(r->pool, sizeof(nc_api_json_t));
    if (j == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_init(j, r->pool);
    nc_api_json_open(j, NULL, '[');

    if (nc_gateway_shared_upstreams(nc_api_gateway_upstream, j) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_close(j, ']');

    if (j->rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                j->out.pos, nc_buf_size(&j->out));
}


static nc_int_t
nc_api_gateway_upstream(const struct sockaddr *sa, socklen_t len,
    const uint64_t counts[NC_GATEWAY_UPSTREAM_COUNTERS], void *data)
{
    size_t          n;
    uint64_t        requests;
    nc_uint_t       i;
    nc_api_json_t  *j;
    u_char          text[NC_SOCKADDR_STRLEN];

    static const char  *names[NC_GATEWAY_UPSTREAM_COUNTERS] = {
        "1xx", "2xx", "3xx", "4xx", "5xx", "failures"
    };

    j = data;
    n = nc_sock_ntop(sa, text, sizeof(text), 1);

    requests = 0;

    for (i = 0; i < NC_GATEWAY_UPSTREAM_COUNTERS; i++) {
        requests += counts[i];
    }

    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "address", text, n);
    nc_api_json_uint(j, "requests", requests);

    for (i = 0; i < NC_GATEWAY_UPSTREAM_COUNTERS; i++) {
        nc_api_json_uint(j, names[i], counts[i]);
    }

    nc_api_json_raw(j, "ejected",
                    nc_gateway_shared_ejected((const u_char *) sa, len)
                    ? "true" : "false");
    nc_api_json_close(j, '}');

    return j->rc;
}


static nc_int_t
nc_api_gateway_stat(const nc_store_record_t *rec, void *data)
{
    nc_str_t  id;

    if (rec->type != NC_STORE_T_GATEWAY) {
        return NC_OK;
    }

    id.data = (u_char *) nc_store_record_key(rec) + NC_STORE_GATEWAY_ROUTE_LEN;
    id.len = rec->key_len - NC_STORE_GATEWAY_ROUTE_LEN;

    if (nc_gateway_route_declared(nc_api_gateway_declared, &id)) {
        return NC_OK;                    /* counted as the conf's */
    }

    return nc_api_gateway_counts(data, id.data, id.len);
}


static nc_int_t
nc_api_gateway_counts(nc_api_json_t *j, const u_char *id, size_t len)
{
    nc_uint_t       i;
    uint64_t        counts[NC_GATEWAY_COUNTERS];
    char            name[NC_GATEWAY_ROUTE_MAX_ID + 1];

    static const char  *names[NC_GATEWAY_COUNTERS] = {
        "requests", "1xx", "2xx", "3xx", "4xx", "5xx"
    };

    len = nc_min(len, NC_GATEWAY_ROUTE_MAX_ID);
    nc_memcpy(name, id, len);
    name[len] = '\0';

    nc_gateway_shared_counts(id, len, counts);

    nc_api_json_open(j, name, '{');

    for (i = 0; i < NC_GATEWAY_COUNTERS; i++) {
        nc_api_json_uint(j, names[i], counts[i]);
    }

    nc_api_json_close(j, '}');

    return j->rc;
}


static nc_int_t
nc_api_gateway_list(nc_http_request_t *r)
{
    nc_int_t          rc;
    nc_uint_t         i;
    nc_buf_t         *out;
    nc_conf_route_t  *cr;

    out = nc_pcalloc(r->pool, sizeof(nc_buf_t));
    if (out == NULL || nc_buf_append(r->pool, out, "[", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->ctx = out;
    cr = nc_api_gateway_declared->elts;

    for (i = 0; i < nc_api_gateway_declared->nelts; i++) {
        if ((i && nc_buf_append(r->pool, out, ",", 1) != NC_OK)
            || nc_api_gateway_conf_json(r, out, &cr[i]) != NC_OK)
        {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = nc_api_each(r, (u_char *) NC_STORE_GATEWAY_ROUTE,
                     NC_STORE_GATEWAY_ROUTE_LEN, nc_api_gateway_each, r);

    if (rc == NC_BUSY) {
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the store is not ready");
    }

    if (rc != NC_OK || nc_buf_append(r->pool, out, "]", 1) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", out->pos,
                                nc_buf_size(out));
}


static nc_int_t
nc_api_gateway_each(const nc_store_record_t *rec, void *data)
{
    nc_str_t            id;
    nc_buf_t           *out;
    nc_http_request_t  *r;

    r = data;
    out = r->ctx;

    if (rec->type != NC_STORE_T_GATEWAY) {
        return NC_OK;
    }

    id.data = (u_char *) nc_store_record_key(rec) + NC_STORE_GATEWAY_ROUTE_LEN;
    id.len = rec->key_len - NC_STORE_GATEWAY_ROUTE_LEN;

    if (nc_gateway_route_declared(nc_api_gateway_declared, &id)) {
        return NC_OK;                    /* the conf's wins */
    }

    if ((nc_buf_size(out) > 1
         && nc_buf_append(r->pool, out, ",", 1) != NC_OK)
        || nc_buf_append(r->pool, out, nc_store_record_value(rec),
                         rec->value_len)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


static nc_int_t
nc_api_gateway_route(nc_http_request_t *r)
{
    u_char                    *cmd, *json;
    size_t                     len;
    nc_buf_t                  *out;
    nc_str_t                   id, canonical, *route;
    const nc_conf_route_t     *cr;
    nc_gateway_route_t         rt;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     key[NC_STORE_GATEWAY_ROUTE_LEN
                                   + NC_GATEWAY_ROUTE_MAX_ID];
    u_char                     err[512];

    id.data = r->path.data + sizeof(NC_API_GATEWAY_ROUTES);
    id.len = r->path.len - sizeof(NC_API_GATEWAY_ROUTES);

    if (!nc_gateway_route_id_valid(&id)) {
        return nc_api_error(r, NC_HTTP_BAD_REQUEST, "a route id is 1 to 128 "
                            "characters of A-Z a-z 0-9 . _ -");
    }

    cr = nc_gateway_route_declared(nc_api_gateway_declared, &id);

    if (cr && r->method != NC_HTTP_GET && r->method != NC_HTTP_HEAD) {
        return nc_api_error(r, NC_HTTP_CONFLICT, "the route is declared in "
                            "this node's conf (gateway.routes)");
    }

    if (cr) {
        out = nc_pcalloc(r->pool, sizeof(nc_buf_t));
        if (out == NULL || nc_api_gateway_conf_json(r, out, cr) != NC_OK) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        return nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                    out->pos, nc_buf_size(out));
    }

    if (r->method == NC_HTTP_PUT) {
        if (nc_buf_size(&r->body) == 0) {
            return nc_api_error(r, NC_HTTP_BAD_REQUEST,
                                "the body is the route, a JSON object");
        }

        if (nc_gateway_route_parse(r->pool, &id, r->body.pos,
                                   nc_buf_size(&r->body), &rt, &canonical, err,
                                   sizeof(err))
            != NC_OK)
        {
            return nc_api_error(r, NC_HTTP_BAD_REQUEST, (char *) err);
        }

        route = nc_palloc(r->pool, sizeof(nc_str_t));
        cmd = nc_store_gateway_command(r->pool, NC_STORE_GATEWAY_PUT, &id,
                                       canonical.data, canonical.len, &len);
        if (route == NULL || cmd == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        *route = canonical;

        return nc_api_propose(r, cmd, len, nc_api_gateway_written, route);
    }

    if (r->method == NC_HTTP_DELETE) {
        cmd = nc_store_gateway_command(r->pool, NC_STORE_GATEWAY_DELETE, &id,
                                       NULL, 0, &len);
        if (cmd == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        return nc_api_propose(r, cmd, len, nc_api_gateway_written, NULL);
    }

    nc_memcpy(key, NC_STORE_GATEWAY_ROUTE, NC_STORE_GATEWAY_ROUTE_LEN);
    nc_memcpy(key + NC_STORE_GATEWAY_ROUTE_LEN, id.data, id.len);

    v = nc_store_enter(nc_store);

    if (v == NULL) {
        nc_store_leave(nc_store);
        return nc_api_error(r, NC_HTTP_SERVICE_UNAVAILABLE,
                            "the store is not ready");
    }

    rec = nc_store_get(nc_store, v, key, NC_STORE_GATEWAY_ROUTE_LEN + id.len);
    json = NULL;
    len = 0;

    if (rec && rec->type == NC_STORE_T_GATEWAY) {
        len = rec->value_len;
        json = nc_pnalloc(r->pool, len);

        if (json) {
            nc_memcpy(json, nc_store_record_value(rec), len);
        }
    }

    nc_store_leave(nc_store);

    if (rec == NULL) {
        return nc_api_error(r, NC_HTTP_NOT_FOUND, "no such route");
    }

    if (json == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", json, len);
}


/* a route of the conf as the API shows it: its JSON, and where it is */
static nc_int_t
nc_api_gateway_conf_json(nc_http_request_t *r, nc_buf_t *out,
    const nc_conf_route_t *cr)
{
    /* the canonical JSON is an object: its "}" makes room */
    if (nc_buf_append(r->pool, out, cr->json.data, cr->json.len - 1) != NC_OK
        || nc_buf_append(r->pool, out, ",\"source\":\"conf\"}", 17)
           != NC_OK)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/* data: the route written (PUT), NULL (DELETE) */
static void
nc_api_gateway_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_int_t   rc;
    nc_str_t  *route;

    route = data;

    switch (status) {

    case NC_OK:
        if (route) {
            rc = nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                      route->data, route->len);
        } else {
            rc = nc_http_set_response(r, NC_HTTP_OK, "application/json",
                                      (u_char *) "{\"deleted\":true}", 16);
        }

        break;

    case NC_DECLINED:
        rc = nc_api_error(r, NC_HTTP_NOT_FOUND, "no such route");
        break;

    default:
        rc = nc_api_write_failed(r, status);
        break;
    }

    nc_http_finalize_request(r, rc);
}
