
/*
 * nacre: gateway routes: what a route's JSON may say and the errors for
 * what it may not (a bad regex names PCRE2's message and offset), the
 * canonical JSON stored, and matching: hosts exact and wildcard, paths
 * exact, prefix and regex, methods, headers, query, and the precedence
 * that makes the most specific route win whatever order routes come in.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_gateway_route.h>

#include <setjmp.h>
#include <cmocka.h>


static nc_pool_t  *test_pool;
static u_char      test_err[512];


static nc_gateway_route_t *
test_route(const char *id, const char *json)
{
    nc_str_t             sid;
    nc_gateway_route_t  *rt;

    sid.data = (u_char *) id;
    sid.len = strlen(id);

    rt = nc_palloc(test_pool, sizeof(nc_gateway_route_t));
    assert_non_null(rt);

    if (nc_gateway_route_parse(test_pool, &sid, (u_char *) json, strlen(json),
                               rt, NULL, test_err, sizeof(test_err))
        != NC_OK)
    {
        print_error("route %s refused: %s\n", id, test_err);
        fail();
    }

    return rt;
}


/* the route is refused with an error containing want */
static void
test_refused(const char *json, const char *want)
{
    nc_str_t            id;
    nc_gateway_route_t  rt;

    nc_str_set(&id, "r");
    test_err[0] = '\0';

    assert_int_equal(nc_gateway_route_parse(test_pool, &id, (u_char *) json,
                                            strlen(json), &rt, NULL, test_err,
                                            sizeof(test_err)),
                     NC_ERROR);

    if (strstr((char *) test_err, want) == NULL) {
        print_error("%s: error \"%s\", want \"%s\"\n", json, test_err, want);
        fail();
    }
}


/* a request as the HTTP server would hand it over */
static nc_http_request_t *
test_request(nc_uint_t method, const char *host, const char *path,
    const char *args, const char *hname, const char *hvalue)
{
    nc_http_header_t   *h;
    nc_http_request_t  *r;

    r = nc_pcalloc(test_pool, sizeof(nc_http_request_t));
    assert_non_null(r);

    r->pool = test_pool;
    r->method = method;
    r->headers_in.host.data = (u_char *) host;
    r->headers_in.host.len = strlen(host);
    r->path.data = (u_char *) path;
    r->path.len = strlen(path);
    r->args.data = (u_char *) args;
    r->args.len = strlen(args);

    assert_int_equal(nc_array_init(&r->headers_in.headers, test_pool, 2,
                                   sizeof(nc_http_header_t)), NC_OK);

    if (hname) {
        h = nc_array_push(&r->headers_in.headers);
        h->name.data = (u_char *) hname;
        h->name.len = strlen(hname);
        h->value.data = (u_char *) hvalue;
        h->value.len = strlen(hvalue);
    }

    return r;
}


static const char *
test_match(nc_gateway_table_t *t, nc_uint_t method, const char *host,
    const char *path, const char *args, const char *hname, const char *hvalue)
{
    nc_gateway_route_t  *rt;

    rt = nc_gateway_match(t, test_request(method, host, path, args, hname,
                                          hvalue));

    return rt ? (const char *) rt->id.data : "none";
}


#define UP  "\"upstream\":{\"nodes\":[{\"address\":\"127.0.0.1:1\"}]}"


static void
test_parse_all(void **state)
{
    nc_str_t             id, canonical;
    nc_gateway_route_t   rt;
    const char          *json;

    (void) state;

    json = "{\"priority\":5,\"hosts\":[\"API.example.com\",\"*.example.org\"],"
           "\"path\":\"/orders/\",\"methods\":[\"get\",\"POST\"],"
           "\"headers\":{\"X-Env\":\"blue\"},\"query\":{\"v\":\"2\"},"
           "\"upstream\":{\"service\":{\"namespace\":\"dev\","
           "\"group\":\"G\",\"name\":\"orders\",\"clusters\":[\"A\",\"B\"]},"
           "\"balance\":\"hash\",\"hash_on\":\"header:X-User\"},"
           "\"timeouts\":{\"connect\":\"250ms\",\"send\":2000,\"read\":\"3s\"},"
           "\"retries\":2,\"retry_on\":[500,503],\"retry_timeout\":\"5s\","
           "\"retry_non_idempotent\":true,\"strip_prefix\":true,"
           "\"request_headers\":{\"set\":{\"X-A\":\"1\"},\"add\":{\"X-B\":"
           "\"2\"},\"remove\":[\"Cookie\"]},"
           "\"response_headers\":{\"remove\":[\"Server\"]},"
           "\"rate_limit\":{\"rate\":10.5,\"burst\":20},"
           "\"token\":true}";

    nc_str_set(&id, "orders-v1.2_x");

    assert_int_equal(nc_gateway_route_parse(test_pool, &id, (u_char *) json,
                                            strlen(json), &rt, &canonical,
                                            test_err, sizeof(test_err)),
                     NC_OK);

    assert_int_equal(rt.priority, 5);
    assert_int_equal(rt.nhosts, 2);
    assert_string_equal(rt.hosts[0].data, "api.example.com");
    assert_int_equal(rt.host_rank, 2);
    assert_int_equal(rt.methods, NC_HTTP_GET | NC_HTTP_POST);
    assert_int_equal(rt.nheaders, 1);
    assert_int_equal(rt.nquery, 1);
    assert_int_equal(rt.conditions, 3);
    assert_string_equal(rt.ns.data, "dev");
    assert_string_equal(rt.group.data, "G");
    assert_string_equal(rt.service.data, "orders");
    assert_int_equal(rt.clusters.len, 3);
    assert_memory_equal(rt.clusters.data, "A,B", 3);
    assert_int_equal(rt.balance, NC_GATEWAY_HASH);
    assert_int_equal(rt.hash_on, NC_GATEWAY_HASH_HEADER);
    assert_int_equal(rt.hash_key.len, 6);
    assert_int_equal(rt.connect_timeout, 250);
    assert_int_equal(rt.send_timeout, 2000);
    assert_int_equal(rt.read_timeout, 3000);
    assert_int_equal(rt.retries, 2);
    assert_int_equal(rt.nretry_on, 2);
    assert_int_equal(rt.retry_on[1], 503);
    assert_int_equal(rt.retry_timeout, 5000);
    assert_true(rt.retry_non_idempotent && rt.strip_prefix
                && rt.token);
    assert_int_equal(rt.request_headers.nset, 1);
    assert_int_equal(rt.request_headers.nadd, 1);
    assert_int_equal(rt.request_headers.nremove, 1);
    assert_int_equal(rt.response_headers.nremove, 1);
    assert_true(rt.rate == 10.5);
    assert_int_equal(rt.burst, 20);

    /* stored compact, with the id, keys in the order given */
    assert_true(canonical.len > 20);
    assert_memory_equal(canonical.data, "{\"priority\":5,", 14);
    assert_non_null(memmem(canonical.data, canonical.len,
                           "\"id\":\"orders-v1.2_x\"", 20));

    /* defaults */
    test_route("d", "{\"path\":\"/\"," UP "}");
}


static void
test_parse_refusals(void **state)
{
    nc_str_t            id;
    nc_gateway_route_t  rt;

    (void) state;

    test_refused("[1]", "a route is a JSON object");
    test_refused("{\"path\":", "not JSON");
    test_refused("{\"path\":\"/\"}", "\"upstream\" is required");
    test_refused("{" UP "}", "\"path\" is required");
    test_refused("{\"path\":\"/\",\"colour\":1," UP "}",
                 "unknown key \"colour\"");
    test_refused("{\"path\":\"x\"," UP "}", "starts with /");
    test_refused("{\"path\":\"/(a\",\"path_type\":\"regex\"," UP "}",
                 "missing closing parenthesis at offset 3");
    test_refused("{\"path\":\"/\",\"path_type\":\"glob\"," UP "}",
                 "\"path_type\" is");
    test_refused("{\"path\":\"/\",\"methods\":[\"FETCH\"]," UP "}",
                 "unknown method \"FETCH\"");
    test_refused("{\"path\":\"/\",\"hosts\":[\"a b\"]," UP "}",
                 "not a host name");
    test_refused("{\"path\":\"/\",\"hosts\":[]," UP "}", "\"hosts\" is");
    test_refused("{\"path\":\"/\",\"upstream\":{}}", "one of them");
    test_refused("{\"path\":\"/\",\"upstream\":{\"nodes\":[{\"address\":"
                 "\"localhost:80\"}]}}", "not an address:port");
    test_refused("{\"path\":\"/\",\"upstream\":{\"nodes\":[{\"address\":"
                 "\"10.0.0.1:70000\"}]}}", "not an address:port");
    test_refused("{\"path\":\"/\",\"upstream\":{\"nodes\":[{\"address\":"
                 "\"10.0.0.1:80\",\"weight\":-1}]}}", "\"weight\" is");
    test_refused("{\"path\":\"/\",\"upstream\":{\"service\":{\"name\":"
                 "\"a@@b\"}}}", "without '@'");
    test_refused("{\"path\":\"/\",\"upstream\":{\"service\":{\"name\":\"s\"},"
                 "\"balance\":\"random\"}}", "\"upstream.balance\" is");
    test_refused("{\"path\":\"/\",\"upstream\":{\"service\":{\"name\":\"s\"},"
                 "\"hash_on\":\"client_addr\"}}", "goes with");
    test_refused("{\"path\":\"/\",\"timeouts\":{\"connect\":\"soon\"}," UP "}",
                 "\"timeouts.connect\" is a time");
    test_refused("{\"path\":\"/\",\"retries\":11," UP "}", "\"retries\" is");
    test_refused("{\"path\":\"/\",\"retry_on\":[200]," UP "}", "400..599");
    test_refused("{\"path\":\"/\",\"path_type\":\"exact\",\"strip_prefix\":"
                 "true," UP "}", "\"strip_prefix\" goes with");
    test_refused("{\"path\":\"/\",\"rewrite\":{\"regex\":\"[\","
                 "\"replacement\":\"/\"}," UP "}",
                 "\"rewrite.regex\": missing terminating ]");
    test_refused("{\"path\":\"/\",\"request_headers\":{\"set\":{\"A\":"
                 "\"x\\r\\ny: z\"}}," UP "}", "line break");
    test_refused("{\"path\":\"/\",\"rate_limit\":{\"rate\":0}," UP "}",
                 "\"rate_limit.rate\"");
    test_refused("{\"path\":\"/\",\"token\":\"yes\"," UP "}",
                 "\"token\" is true or false");
    test_refused("{\"id\":\"other\",\"path\":\"/\"," UP "}",
                 "differs from the route's id");
    test_refused("{\"path\":\"/\",\"path\":\"/x\"," UP "}", "not JSON");

    /* ids */
    nc_str_set(&id, "a/b");
    assert_int_equal(nc_gateway_route_parse(test_pool, &id, (u_char *) "{}", 2,
                                            &rt, NULL, test_err,
                                            sizeof(test_err)), NC_ERROR);
    assert_non_null(strstr((char *) test_err, "a route id"));
}


static void
test_precedence(void **state)
{
    nc_uint_t            i, k, n;
    nc_gateway_route_t  *routes[8], *shuffled[8];
    nc_gateway_table_t  *t;
    nc_pool_t           *pool;

    (void) state;

    routes[0] = test_route("any", "{\"path\":\"/\"," UP "}");
    routes[1] = test_route("api", "{\"path\":\"/api/\"," UP "}");
    routes[2] = test_route("api-v2", "{\"path\":\"/api/v2/\"," UP "}");
    routes[3] = test_route("exact", "{\"path\":\"/api/v2/ping\","
                           "\"path_type\":\"exact\"," UP "}");
    routes[4] = test_route("regex", "{\"path\":\"^/api/v[0-9]+/items/\\\\d+$\","
                           "\"path_type\":\"regex\"," UP "}");
    routes[5] = test_route("host", "{\"hosts\":[\"shop.example.com\"],"
                           "\"path\":\"/\"," UP "}");
    routes[6] = test_route("wild", "{\"hosts\":[\"*.example.com\"],"
                           "\"path\":\"/\",\"methods\":[\"POST\"]," UP "}");
    routes[7] = test_route("beta", "{\"path\":\"/api/\",\"headers\":"
                           "{\"X-Env\":\"beta\"},\"query\":{\"q\":\"a b\"},"
                           UP "}");
    n = 8;

    /* the same answers whatever order the routes come in */
    for (k = 0; k < n; k++) {
        for (i = 0; i < n; i++) {
            shuffled[i] = routes[(i * 3 + k) % n];
        }

        pool = nc_create_pool(4096);
        t = nc_gateway_table_create(pool, shuffled, n);
        assert_non_null(t);

#define M(want, method, host, path, args, hn, hv)                             \
        assert_string_equal(test_match(t, method, host, path, args, hn, hv),  \
                            want)

        M("any", NC_HTTP_GET, "x", "/", "", NULL, NULL);
        M("api", NC_HTTP_GET, "x", "/api/x", "", NULL, NULL);
        M("api-v2", NC_HTTP_GET, "x", "/api/v2/x", "", NULL, NULL);
        M("exact", NC_HTTP_GET, "x", "/api/v2/ping", "", NULL, NULL);
        M("api-v2", NC_HTTP_GET, "x", "/api/v2/ping/x", "", NULL, NULL);
        /* a regex beats any prefix, an exact path beats a regex */
        M("regex", NC_HTTP_GET, "x", "/api/v2/items/7", "", NULL, NULL);
        M("regex", NC_HTTP_GET, "x", "/api/v3/items/7", "", NULL, NULL);
        M("api", NC_HTTP_GET, "x", "/api/v3/items/x", "", NULL, NULL);
        /* a host beats any path of a route for any host */
        M("host", NC_HTTP_GET, "Shop.Example.com:8080", "/api/v2/ping", "",
          NULL, NULL);
        M("wild", NC_HTTP_POST, "a.example.com", "/api/", "", NULL, NULL);
        M("api", NC_HTTP_GET, "a.example.com", "/api/", "", NULL, NULL);
        M("any", NC_HTTP_POST, "example.com", "/", "", NULL, NULL);
        /* more conditions first; all of them must hold */
        M("beta", NC_HTTP_GET, "x", "/api/x", "q=a+b", "x-env", "beta");
        M("beta", NC_HTTP_GET, "x", "/api/x", "z=1&q=a%20b", "X-Env", "beta");
        M("api", NC_HTTP_GET, "x", "/api/x", "q=a+b", "X-Env", "blue");
        M("api", NC_HTTP_GET, "x", "/api/x", "", "X-Env", "beta");

#undef M

        nc_destroy_pool(pool);
    }

    /* an explicit priority beats everything */
    routes[0] = test_route("first", "{\"priority\":1,\"path\":\"/\"," UP "}");
    pool = nc_create_pool(4096);
    t = nc_gateway_table_create(pool, routes, n);
    assert_string_equal(test_match(t, NC_HTTP_GET, "shop.example.com",
                                   "/api/v2/ping", "", NULL, NULL), "first");
    nc_destroy_pool(pool);

    /* equal routes: the smaller id, always */
    routes[0] = test_route("b", "{\"path\":\"/same\"," UP "}");
    routes[1] = test_route("a", "{\"path\":\"/same\"," UP "}");
    pool = nc_create_pool(4096);
    t = nc_gateway_table_create(pool, routes, 2);
    assert_string_equal(test_match(t, NC_HTTP_GET, "x", "/same", "", NULL,
                                   NULL), "a");
    assert_string_equal(test_match(t, NC_HTTP_GET, "x", "/other", "", NULL,
                                   NULL), "none");
    nc_destroy_pool(pool);
}


int
main(void)
{
    int                      rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_all),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_precedence),
    };

    test_pool = nc_create_pool(1024 * 1024);

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    nc_destroy_pool(test_pool);

    return rc;
}
