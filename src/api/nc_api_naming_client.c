
/*
 * nacre: the registry's clients, as Nacos 2.x names them.
 *
 *   GET /nacos/v1/ns/service/subscribers               (console)
 *   GET /nacos/v2/ns/client/list
 *   GET /nacos/v2/ns/client?clientId=
 *   GET /nacos/v2/ns/client/publish/list?clientId=
 *   GET /nacos/v2/ns/client/subscribe/list?clientId=
 *   GET /nacos/v2/ns/client/service/publisher/list
 *   GET /nacos/v2/ns/client/service/subscriber/list
 *
 * An HTTP client is an address: a publisher is "ip:port#ephemeral" of the
 * instances registered (the store has them, every member the same), a
 * subscriber "ip:udpPort#true" of the UDP pushes this node sends (its
 * consensus process has them: subscriptions are the node's own).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_naming.h>
#include <nc_json.h>
#include <nc_api.h>
#include <nc_api_config.h>
#include <nc_api_naming.h>
#include <nc_auth.h>
#include <nc_consensus.h>


#define NC_API_CLIENT_ID_LEN    (NC_STORE_MAX_KEY_LEN + 16)


/* a request waiting for the subscribers its node knows */
typedef struct nc_api_client_s  nc_api_client_t;

typedef nc_int_t (*nc_api_client_pt)(nc_api_client_t *c, u_char *text,
    size_t len);

struct nc_api_client_s {
    nc_http_request_t        *request;
    nc_consensus_req_t       *status;
    nc_api_client_pt          answer;
    nc_api_naming_service_t   s;          /* the service asked about */
    nc_api_page_t             pg;
    nc_str_t                  id;         /* the client asked about */
    nc_str_t                  ip;         /*   its parts */
    nc_str_t                  addr;       /*   ip:port */
    nc_uint_t                 port;
    nc_flag_t                 ephemeral;
};


static nc_int_t nc_api_client_subscribers(nc_http_request_t *r);
static nc_int_t nc_api_client_subscribers_answer(nc_api_client_t *c,
    u_char *text, size_t len);
static nc_int_t nc_api_client_list(nc_http_request_t *r);
static nc_int_t nc_api_client_list_answer(nc_api_client_t *c, u_char *text,
    size_t len);
static nc_int_t nc_api_client_one(nc_http_request_t *r);
static nc_int_t nc_api_client_published(nc_http_request_t *r);
static nc_int_t nc_api_client_subscribed(nc_http_request_t *r);
static nc_int_t nc_api_client_subscribed_answer(nc_api_client_t *c,
    u_char *text, size_t len);
static nc_int_t nc_api_client_publishers(nc_http_request_t *r);
static nc_int_t nc_api_client_service_subscribers(nc_http_request_t *r);
static nc_int_t nc_api_client_service_subscribers_answer(nc_api_client_t *c,
    u_char *text, size_t len);
static nc_int_t nc_api_client_ask(nc_api_client_t *c, nc_uint_t format,
    const u_char *key, size_t len, nc_api_client_pt answer);
static void nc_api_client_text(void *data, nc_int_t status, u_char *text,
    size_t len);
static void nc_api_client_cleanup(nc_http_request_t *r);
static nc_int_t nc_api_client_parse_id(nc_api_client_t *c);
static nc_int_t nc_api_client_line(u_char **p, u_char *end, nc_str_t *key,
    nc_str_t *addr, nc_str_t *clusters);


nc_int_t
nc_api_naming_client_init_routes(nc_cycle_t *cycle)
{
    static const struct {
        const char          *path;
        nc_uint_t            access;
        nc_http_handler_pt   handler;
    } routes[] = {
        { "/nacos/v1/ns/service/subscribers", NC_AUTH_USER,
          nc_api_client_subscribers },
        { "/nacos/v2/ns/client/list", NC_AUTH_ADMIN, nc_api_client_list },
        { "/nacos/v2/ns/client", NC_AUTH_ADMIN, nc_api_client_one },
        { "/nacos/v2/ns/client/publish/list", NC_AUTH_ADMIN,
          nc_api_client_published },
        { "/nacos/v2/ns/client/subscribe/list", NC_AUTH_ADMIN,
          nc_api_client_subscribed },
        { "/nacos/v2/ns/client/service/publisher/list", NC_AUTH_USER,
          nc_api_client_publishers },
        { "/nacos/v2/ns/client/service/subscriber/list", NC_AUTH_USER,
          nc_api_client_service_subscribers },
    };

    nc_uint_t  i;

    for (i = 0; i < nc_nelems(routes); i++) {
        if (nc_http_add_route(NC_HTTP_GET | NC_HTTP_HEAD, routes[i].path, 0,
                              routes[i].access, routes[i].handler)
            != NC_OK)
        {
            return NC_ERROR;
        }
    }

    return NC_OK;
}


static nc_api_client_t *
nc_api_client_new(nc_http_request_t *r)
{
    nc_api_client_t  *c;

    c = nc_pcalloc(r->pool, sizeof(nc_api_client_t));
    if (c == NULL) {
        return NULL;
    }

    c->request = r;
    nc_api_json_init(&c->pg.json, r->pool);

    return c;
}


/* the JSON built so far as the answer: v1 bare, v2 in its envelope */
static nc_int_t
nc_api_client_done(nc_api_client_t *c, nc_uint_t version)
{
    if (c->pg.json.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_config_ok(c->request, version, c->pg.json.out.pos,
                            nc_buf_size(&c->pg.json.out));
}


/* --- subscribers, from the consensus process ------------------------------ */


/*
 * Nacos' console: {"subscribers":[{"addrStr","agent","app","ip","port",
 * "namespaceId","serviceName","cluster"}],"count":n}, a page of them.
 * Each node pushes to its own subscribers: every member's are asked for
 * and listed together, unless aggregation=false (this node's).
 */
static nc_int_t
nc_api_client_subscribers(nc_http_request_t *r)
{
    size_t            len;
    nc_int_t          rc;
    nc_str_t          v;
    nc_uint_t         format;
    nc_api_client_t  *c;
    u_char            key[NC_STORE_MAX_KEY_LEN];

    c = nc_api_client_new(r);
    if (c == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, NC_API_V1, &c->s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    rc = nc_api_page_init(r, &c->pg, 1000, 1000);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    len = nc_store_naming_service_key(key, sizeof(key), &c->s.name);

    format = NC_CONSENSUS_STATUS_SUBSCRIBERS;

    if (nc_http_param(r, "aggregation", &v) != NC_OK || v.len != 5
        || nc_strncasecmp(v.data, (u_char *) "false", 5) != 0)
    {
        format |= NC_CONSENSUS_STATUS_CLUSTER;
    }

    return nc_api_client_ask(c, format, key, len,
                             nc_api_client_subscribers_answer);
}


static nc_int_t
nc_api_client_subscribers_answer(nc_api_client_t *c, u_char *text,
    size_t len)
{
    u_char      *p, *colon;
    nc_str_t     key, addr, clusters;
    nc_api_json_t  *j;

    j = &c->pg.json;
    p = text;

    nc_api_json_open(j, NULL, '{');
    nc_api_json_open(j, "subscribers", '[');

    while (nc_api_client_line(&p, text + len, &key, &addr, &clusters)
           == NC_OK)
    {
        if (!nc_api_page_take(&c->pg)) {
            continue;
        }

        colon = memrchr(addr.data, ':', addr.len);

        nc_api_json_open(j, NULL, '{');
        nc_api_json_str(j, "addrStr", addr.data, addr.len);
        nc_api_json_str(j, "agent", (u_char *) "", 0);
        nc_api_json_str(j, "app", (u_char *) "unknown", 7);
        nc_api_json_str(j, "ip", addr.data, colon ? colon - addr.data : 0);
        nc_api_json_bytes(j, "port", colon ? colon + 1 : addr.data,
                          colon ? addr.data + addr.len - colon - 1 : 1);
        nc_api_json_str(j, "namespaceId", c->s.name.ns.data,
                        c->s.name.ns.len);
        nc_api_json_str(j, "serviceName", c->s.grouped.data,
                        c->s.grouped.len);
        nc_api_json_str(j, "cluster", clusters.data, clusters.len);
        nc_api_json_close(j, '}');
    }

    nc_api_json_close(j, ']');
    nc_api_json_uint(j, "count", c->pg.total);
    nc_api_json_close(j, '}');

    return nc_api_client_done(c, NC_API_V1);
}


/* v2: [{"clientId","ip","port"}] of a service's subscribers */
static nc_int_t
nc_api_client_service_subscribers(nc_http_request_t *r)
{
    size_t            len;
    nc_int_t          rc;
    nc_api_client_t  *c;
    u_char            key[NC_STORE_MAX_KEY_LEN];

    c = nc_api_client_new(r);
    if (c == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, NC_API_V2, &c->s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    len = nc_store_naming_service_key(key, sizeof(key), &c->s.name);

    return nc_api_client_ask(c, NC_CONSENSUS_STATUS_SUBSCRIBERS, key, len,
                             nc_api_client_service_subscribers_answer);
}


static nc_int_t
nc_api_client_service_subscribers_answer(nc_api_client_t *c, u_char *text,
    size_t len)
{
    u_char         *p, *colon;
    nc_str_t        key, addr, clusters;
    nc_api_json_t  *j;
    u_char          id[NC_API_CLIENT_ID_LEN];

    j = &c->pg.json;
    p = text;

    nc_api_json_open(j, NULL, '[');

    while (nc_api_client_line(&p, text + len, &key, &addr, &clusters)
           == NC_OK)
    {
        colon = memrchr(addr.data, ':', addr.len);
        if (colon == NULL || addr.len + 5 > sizeof(id)) {
            continue;
        }

        /* an IP:port client of pushes is ephemeral: "#true" */
        nc_memcpy(id, addr.data, addr.len);
        nc_memcpy(id + addr.len, "#true", 5);

        nc_api_json_open(j, NULL, '{');
        nc_api_json_str(j, "clientId", id, addr.len + 5);
        nc_api_json_str(j, "ip", addr.data, colon - addr.data);
        nc_api_json_bytes(j, "port", colon + 1,
                          addr.data + addr.len - colon - 1);
        nc_api_json_close(j, '}');
    }

    nc_api_json_close(j, ']');

    return nc_api_client_done(c, NC_API_V2);
}


/* what a client subscribed to: [{"namespace","group","serviceName",
 * "subscriberInfo":{"app","agent","addr"}}] */
static nc_int_t
nc_api_client_subscribed(nc_http_request_t *r)
{
    nc_int_t          rc;
    nc_api_client_t  *c;

    c = nc_api_client_new(r);
    if (c == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_client_parse_id(c);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    return nc_api_client_ask(c, NC_CONSENSUS_STATUS_SUBSCRIBERS, NULL, 0,
                             nc_api_client_subscribed_answer);
}


static nc_int_t
nc_api_client_subscribed_answer(nc_api_client_t *c, u_char *text, size_t len)
{
    u_char         *p, *slash, *at;
    nc_str_t        key, addr, clusters;
    nc_api_json_t  *j;

    j = &c->pg.json;
    p = text;

    nc_api_json_open(j, NULL, '[');

    while (nc_api_client_line(&p, text + len, &key, &addr, &clusters)
           == NC_OK)
    {
        /* this client's: ip:port, and only ephemeral ones subscribe */
        if (!c->ephemeral || addr.len != c->addr.len
            || nc_memcmp(addr.data, c->addr.data, addr.len) != 0)
        {
            continue;
        }

        /* nss/<ns>/<group>@@<service> */
        slash = memchr(key.data + 4, '/', key.len - 4);
        at = slash ? memmem(slash, key.data + key.len - slash, "@@", 2)
                   : NULL;
        if (at == NULL) {
            continue;
        }

        nc_api_json_open(j, NULL, '{');
        nc_api_json_str(j, "namespace", key.data + 4, slash - key.data - 4);
        nc_api_json_str(j, "group", slash + 1, at - slash - 1);
        nc_api_json_str(j, "serviceName", at + 2,
                        key.data + key.len - at - 2);
        nc_api_json_open(j, "subscriberInfo", '{');
        nc_api_json_str(j, "app", (u_char *) "unknown", 7);
        nc_api_json_str(j, "agent", (u_char *) "", 0);
        nc_api_json_str(j, "addr", addr.data, addr.len);
        nc_api_json_close(j, '}');
        nc_api_json_close(j, '}');
    }

    nc_api_json_close(j, ']');

    return nc_api_client_done(c, NC_API_V2);
}


/* --- publishers, from the store ------------------------------------------ */


/* each instance key's client id into id: "ip:port#ephemeral"; its length */
static size_t
nc_api_client_id_of(const nc_store_record_t *rec, nc_store_naming_name_t *n,
    u_char *id)
{
    if (nc_store_naming_parse_instance(nc_store_record_key(rec),
                                       rec->key_len, n)
        != NC_OK
        || n->ip.len + 16 > NC_API_CLIENT_ID_LEN)
    {
        return 0;
    }

    return snprintf((char *) id, NC_API_CLIENT_ID_LEN, "%.*s:%u#%s",
                    (int) n->ip.len, n->ip.data, (unsigned) n->port,
                    rec->flags & NC_STORE_NAMING_EPHEMERAL ? "true" : "false");
}


static int
nc_api_client_cmp(const void *a, const void *b)
{
    int              cmp;
    const nc_str_t  *x, *y;

    x = a;
    y = b;
    cmp = memcmp(x->data, y->data, nc_min(x->len, y->len));

    return cmp ? cmp : (x->len > y->len) - (x->len < y->len);
}


/* every client: the publishers in the store and this node's subscribers,
 * each once, in order */
static nc_int_t
nc_api_client_list(nc_http_request_t *r)
{
    nc_api_client_t  *c;

    c = nc_api_client_new(r);
    if (c == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_client_ask(c, NC_CONSENSUS_STATUS_SUBSCRIBERS, NULL, 0,
                             nc_api_client_list_answer);
}


typedef struct {
    nc_pool_t               *pool;
    nc_array_t              *ids;
} nc_api_client_ids_t;


static nc_int_t
nc_api_client_collect(const nc_store_record_t *rec, void *data)
{
    size_t                   len;
    nc_str_t                *id;
    nc_api_client_ids_t     *ids;
    nc_store_naming_name_t   n;
    u_char                   buf[NC_API_CLIENT_ID_LEN];

    ids = data;
    len = nc_api_client_id_of(rec, &n, buf);

    if (len) {
        id = nc_array_push(ids->ids);
        if (id == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        id->data = nc_pnalloc(ids->pool, len);
        if (id->data == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memcpy(id->data, buf, len);
        id->len = len;
    }

    return NC_OK;
}


static nc_int_t
nc_api_client_list_answer(nc_api_client_t *c, u_char *text, size_t len)
{
    u_char               *p;
    nc_int_t              rc;
    nc_str_t              key, addr, clusters, *id, *all;
    nc_uint_t             i;
    nc_api_client_ids_t   ids;

    ids.pool = c->request->pool;
    ids.ids = nc_array_create(ids.pool, 64, sizeof(nc_str_t));
    if (ids.ids == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_each(c->request, (u_char *) NC_STORE_NAMING_INSTANCE,
                     sizeof(NC_STORE_NAMING_INSTANCE) - 1,
                     nc_api_client_collect, &ids);
    if (rc != NC_OK && rc != NC_BUSY) {
        return rc;
    }

    p = text;

    while (nc_api_client_line(&p, text + len, &key, &addr, &clusters)
           == NC_OK)
    {
        id = nc_array_push(ids.ids);
        if (id == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* "ip:port" sits in text, which lives as long as the request */
        id->data = nc_pnalloc(ids.pool, addr.len + 5);
        if (id->data == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memcpy(id->data, addr.data, addr.len);
        nc_memcpy(id->data + addr.len, "#true", 5);
        id->len = addr.len + 5;
    }

    all = ids.ids->elts;
    qsort(all, ids.ids->nelts, sizeof(nc_str_t), nc_api_client_cmp);

    nc_api_json_open(&c->pg.json, NULL, '[');

    for (i = 0; i < ids.ids->nelts; i++) {
        if (i && nc_api_client_cmp(&all[i - 1], &all[i]) == 0) {
            continue;
        }

        nc_api_json_str(&c->pg.json, NULL, all[i].data, all[i].len);
    }

    nc_api_json_close(&c->pg.json, ']');

    return nc_api_client_done(c, NC_API_V2);
}


/* the instances a clientId registered, handed to each() */
typedef struct {
    nc_api_client_t         *client;
    nc_uint_t                found;
    uint64_t                 modified;
} nc_api_client_pub_t;


static nc_int_t
nc_api_client_publication(const nc_store_record_t *rec, void *data)
{
    size_t                   len;
    nc_api_json_t           *j;
    nc_api_client_t         *c;
    nc_api_client_pub_t     *pub;
    nc_store_naming_name_t   n;
    u_char                   id[NC_API_CLIENT_ID_LEN];

    pub = data;
    c = pub->client;
    len = nc_api_client_id_of(rec, &n, id);

    if (len != c->id.len || nc_memcmp(id, c->id.data, len) != 0) {
        return NC_OK;
    }

    pub->found++;
    pub->modified = nc_max(pub->modified,
                           nc_store_naming_instance(rec)->modified);

    j = &c->pg.json;

    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "namespace", n.ns.data, n.ns.len);
    nc_api_json_str(j, "group", n.group.data, n.group.len);
    nc_api_json_str(j, "serviceName", n.service.data, n.service.len);
    nc_api_json_open(j, "registeredInstance", '{');
    nc_api_json_str(j, "ip", n.ip.data, n.ip.len);
    nc_api_json_uint(j, "port", n.port);
    nc_api_json_str(j, "cluster", n.cluster.data, n.cluster.len);
    nc_api_json_close(j, '}');
    nc_api_json_close(j, '}');

    return j->rc;
}


/*
 * The instances the request's clientId registered, as a JSON list in
 * c->pg.json, counted in pub.  NC_OK; NC_DECLINED with the answer set;
 * else an HTTP status.
 */
static nc_int_t
nc_api_client_publications(nc_http_request_t *r, nc_api_client_t **cp,
    nc_api_client_pub_t *pub)
{
    nc_int_t          rc;
    nc_api_client_t  *c;

    c = nc_api_client_new(r);
    if (c == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_client_parse_id(c);
    if (rc != NC_OK) {
        return rc;
    }

    nc_memzero(pub, sizeof(nc_api_client_pub_t));
    pub->client = c;
    *cp = c;

    nc_api_json_open(&c->pg.json, NULL, '[');

    rc = nc_api_each(r, (u_char *) NC_STORE_NAMING_INSTANCE,
                     sizeof(NC_STORE_NAMING_INSTANCE) - 1,
                     nc_api_client_publication, pub);
    if (rc != NC_OK && rc != NC_BUSY) {
        return rc;
    }

    nc_api_json_close(&c->pg.json, ']');

    return NC_OK;
}


/* what a client registered: [{"namespace","group","serviceName",
 * "registeredInstance":{"ip","port","cluster"}}] */
static nc_int_t
nc_api_client_published(nc_http_request_t *r)
{
    nc_int_t              rc;
    nc_api_client_t      *c;
    nc_api_client_pub_t   pub;

    rc = nc_api_client_publications(r, &c, &pub);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    return nc_api_client_done(c, NC_API_V2);
}


/* one client: {"clientId","ephemeral","lastUpdatedTime","clientType",
 * "clientIp","clientPort"}; 404 when it registered nothing */
static nc_int_t
nc_api_client_one(nc_http_request_t *r)
{
    nc_int_t              rc;
    nc_api_json_t        *j;
    nc_api_client_t      *c;
    nc_api_client_pub_t   pub;

    /* its registrations, listed only to be counted */
    rc = nc_api_client_publications(r, &c, &pub);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    if (pub.found == 0) {
        return nc_api_end(nc_api_naming_fail(r, NC_API_V2, NC_HTTP_NOT_FOUND,
                                             NC_API_NAMING_NOT_FOUND,
                                             "clientId %.*s not exist",
                                             (int) c->id.len, c->id.data));
    }

    nc_api_json_init(&c->pg.json, r->pool);
    j = &c->pg.json;

    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "clientId", c->id.data, c->id.len);
    nc_api_json_raw(j, "ephemeral", c->ephemeral ? "true" : "false");
    nc_api_json_uint(j, "lastUpdatedTime", pub.modified);
    nc_api_json_str(j, "clientType", (u_char *) "ipPort", 6);
    nc_api_json_str(j, "clientIp", c->ip.data, c->ip.len);
    nc_api_json_uint(j, "clientPort", c->port);
    nc_api_json_close(j, '}');

    return nc_api_client_done(c, NC_API_V2);
}


/* a service's publishers: [{"clientId","ip","port"}] */
static nc_int_t
nc_api_client_publishers(nc_http_request_t *r)
{
    size_t                     plen, len;
    nc_int_t                   rc;
    nc_api_json_t             *j;
    nc_store_iter_t           *it;
    nc_api_client_t           *c;
    nc_store_naming_name_t     n;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];
    u_char                     id[NC_API_CLIENT_ID_LEN];

    c = nc_api_client_new(r);
    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));

    if (c == NULL || it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = nc_api_naming_service(r, NC_API_V2, &c->s, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    plen = nc_store_naming_instance_key(prefix, sizeof(prefix), &c->s.name);
    if (plen == 0) {
        return nc_api_end(nc_api_naming_illegal(r, NC_API_V2, "serviceName"));
    }

    j = &c->pg.json;
    nc_api_json_open(j, NULL, '[');

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);

        while ((rec = nc_store_iter_next(it)) != NULL) {
            len = nc_api_client_id_of(rec, &n, id);
            if (len == 0) {
                continue;
            }

            nc_api_json_open(j, NULL, '{');
            nc_api_json_str(j, "clientId", id, len);
            nc_api_json_str(j, "ip", n.ip.data, n.ip.len);
            nc_api_json_uint(j, "port", n.port);
            nc_api_json_close(j, '}');
        }
    }

    nc_store_leave(nc_store);

    nc_api_json_close(j, ']');

    return nc_api_client_done(c, NC_API_V2);
}


/* --- shared --------------------------------------------------------------- */


/* clientId "ip:port#true|false" */
static nc_int_t
nc_api_client_parse_id(nc_api_client_t *c)
{
    u_char    *hash, *colon;
    nc_int_t   port;

    nc_api_naming_param(c->request, "clientId", &c->id);

    if (c->id.len == 0) {
        return nc_api_naming_missing(c->request, NC_API_V2, "clientId");
    }

    hash = memrchr(c->id.data, '#', c->id.len);
    colon = hash ? memrchr(c->id.data, ':', hash - c->id.data) : NULL;
    port = colon ? nc_atoi(colon + 1, hash - colon - 1) : -1;

    if (colon == NULL || colon == c->id.data || port < 0 || port > 65535
        || (c->id.data + c->id.len - hash - 1 != 4
            && c->id.data + c->id.len - hash - 1 != 5))
    {
        return nc_api_naming_illegal(c->request, NC_API_V2, "clientId");
    }

    c->ip.data = c->id.data;
    c->ip.len = colon - c->id.data;
    c->addr.data = c->id.data;
    c->addr.len = hash - c->id.data;
    c->port = (nc_uint_t) port;
    c->ephemeral = hash[1] == 't';

    return NC_OK;
}


/* "<key>\x1f<ip:port>\x1f<clusters>\n" of nc_naming_push_subscribers() */
static nc_int_t
nc_api_client_line(u_char **p, u_char *end, nc_str_t *key, nc_str_t *addr,
    nc_str_t *clusters)
{
    u_char  *nl, *s1, *s2;

    if (*p >= end) {
        return NC_DONE;
    }

    nl = memchr(*p, '\n', end - *p);
    s1 = nl ? memchr(*p, NC_STORE_NAMING_SEP, nl - *p) : NULL;
    s2 = s1 ? memchr(s1 + 1, NC_STORE_NAMING_SEP, nl - s1 - 1) : NULL;

    if (s2 == NULL) {
        *p = end;
        return NC_DONE;
    }

    key->data = *p;
    key->len = s1 - *p;
    addr->data = s1 + 1;
    addr->len = s2 - s1 - 1;
    clusters->data = s2 + 1;
    clusters->len = nl - s2 - 1;

    *p = nl + 1;

    return NC_OK;
}


static nc_int_t
nc_api_client_ask(nc_api_client_t *c, nc_uint_t format, const u_char *key,
    size_t len, nc_api_client_pt answer)
{
    nc_http_request_t  *r;

    r = c->request;
    c->answer = answer;

    c->status = nc_consensus_status_of(format, key, len, nc_api_client_text,
                                       c);

    /* no consensus process: nobody pushes, so nobody subscribes */
    if (c->status == NULL) {
        return nc_api_end(answer(c, (u_char *) "", 0));
    }

    r->ctx = c;
    r->cleanup = nc_api_client_cleanup;

    return NC_DONE;
}


static void
nc_api_client_text(void *data, nc_int_t status, u_char *text, size_t len)
{
    nc_api_client_t    *c;
    nc_http_request_t  *r;

    c = data;
    r = c->request;

    c->status = NULL;
    r->cleanup = NULL;

    if (status != NC_OK || text == NULL) {
        text = (u_char *) "";
        len = 0;
    }

    /* the text is the channel's: what the answer keeps is copied */
    nc_http_finalize_request(r, nc_api_end(c->answer(c, text, len)));
}


static void
nc_api_client_cleanup(nc_http_request_t *r)
{
    nc_api_client_t  *c;

    c = r->ctx;

    if (c->status) {
        nc_consensus_cancel(c->status);
        c->status = NULL;
    }
}
