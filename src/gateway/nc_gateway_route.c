
/*
 * nacre: gateway routes: parsing and checking their JSON (jansson),
 * compiling their regexes (PCRE2 with JIT, once per table, never per
 * request), and matching requests against a table sorted most specific
 * first.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_store.h>
#include <nc_store_gateway.h>
#include <nc_gateway_route.h>

#include <jansson.h>
#include <arpa/inet.h>


typedef struct {
    nc_pool_t              *pool;
    nc_gateway_route_t     *rt;
    u_char                 *err;
    size_t                  errlen;
} nc_gateway_parse_t;


static nc_int_t nc_gateway_parse_match(nc_gateway_parse_t *ps,
    json_t *root);
static nc_int_t nc_gateway_parse_upstream(nc_gateway_parse_t *ps,
    json_t *up);
static nc_int_t nc_gateway_parse_options(nc_gateway_parse_t *ps,
    json_t *root);
static nc_int_t nc_gateway_parse_headers(nc_gateway_parse_t *ps,
    json_t *o, const char *what, nc_gateway_headers_t *h);
static nc_int_t nc_gateway_parse_pairs(nc_gateway_parse_t *ps, json_t *o,
    const char *what, nc_gateway_pair_t **pairs, nc_uint_t *n);
static nc_int_t nc_gateway_parse_msec(nc_gateway_parse_t *ps, json_t *v,
    const char *what, nc_msec_t *ms);
static nc_int_t nc_gateway_parse_node(nc_gateway_parse_t *ps, json_t *v,
    nc_gateway_node_t *node);
static nc_int_t nc_gateway_parse_keys(nc_gateway_parse_t *ps, json_t *o,
    const char *what, const char *const *keys);
static nc_int_t nc_gateway_str(nc_gateway_parse_t *ps, json_t *v,
    const char *what, nc_str_t *s);
static pcre2_code *nc_gateway_regex(nc_gateway_parse_t *ps,
    const nc_str_t *pattern, const char *what);
static void nc_gateway_regex_free(void *data);
static nc_int_t nc_gateway_fail(nc_gateway_parse_t *ps, const char *fmt,
    ...) NC_PRINTF(2, 3);
static nc_int_t nc_gateway_table_add(nc_pool_t *pool, nc_array_t *routes,
    const nc_str_t *id, const u_char *json, size_t len, nc_log_t *log);
static int nc_gateway_route_cmp(const void *a, const void *b);
static nc_flag_t nc_gateway_host_matches(const nc_gateway_route_t *rt,
    const nc_str_t *host);
static nc_flag_t nc_gateway_path_matches(nc_gateway_table_t *t,
    const nc_gateway_route_t *rt, const nc_str_t *path);


static const char *const  nc_gateway_route_keys[] = {
    "id", "priority", "hosts", "path", "path_type", "methods", "headers",
    "query", "upstream", "timeouts", "retries", "retry_on", "retry_timeout",
    "retry_non_idempotent", "strip_prefix", "rewrite", "request_headers",
    "response_headers", "rate_limit", "token", "gzip", NULL
};


nc_flag_t
nc_gateway_route_id_valid(const nc_str_t *id)
{
    size_t  i;
    u_char  c;

    if (id->len == 0 || id->len > NC_GATEWAY_ROUTE_MAX_ID) {
        return 0;
    }

    for (i = 0; i < id->len; i++) {
        c = id->data[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
            return 0;
        }
    }

    return 1;
}


nc_int_t
nc_gateway_route_parse(nc_pool_t *pool, const nc_str_t *id,
    const u_char *json, size_t len, nc_gateway_route_t *rt,
    nc_str_t *canonical, u_char *err, size_t errlen)
{
    char                *dump;
    nc_int_t             rc;
    json_t              *root, *v;
    json_error_t         jerr;
    nc_gateway_parse_t   ps;

    ps.pool = pool;
    ps.rt = rt;
    ps.err = err;
    ps.errlen = errlen;

    nc_memzero(rt, sizeof(nc_gateway_route_t));

    if (!nc_gateway_route_id_valid(id)) {
        return nc_gateway_fail(&ps, "a route id is 1 to %d characters of "
                               "A-Z a-z 0-9 . _ -", NC_GATEWAY_ROUTE_MAX_ID);
    }

    if (len > NC_GATEWAY_ROUTE_MAX_SIZE) {
        return nc_gateway_fail(&ps, "a route is at most %d bytes of JSON",
                               NC_GATEWAY_ROUTE_MAX_SIZE);
    }

    root = json_loadb((const char *) json, len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        return nc_gateway_fail(&ps, "not JSON: %s (line %d, column %d)",
                               jerr.text, jerr.line, jerr.column);
    }

    rc = NC_ERROR;

    if (!json_is_object(root)) {
        (void) nc_gateway_fail(&ps, "a route is a JSON object");
        goto done;
    }

    if (nc_gateway_parse_keys(&ps, root, "route", nc_gateway_route_keys)
        != NC_OK)
    {
        goto done;
    }

    /* the id is the URL's; a body may repeat it, not contradict it */
    v = json_object_get(root, "id");
    if (v && (!json_is_string(v)
              || json_string_length(v) != id->len
              || nc_memcmp(json_string_value(v), id->data, id->len) != 0))
    {
        (void) nc_gateway_fail(&ps, "\"id\" differs from the route's id in "
                               "the URL");
        goto done;
    }

    rt->id.data = nc_pstrdup(pool, id);
    if (rt->id.data == NULL) {
        goto nomem;
    }

    rt->id.len = id->len;

    if (nc_gateway_parse_match(&ps, root) != NC_OK
        || nc_gateway_parse_options(&ps, root) != NC_OK)
    {
        goto done;
    }

    v = json_object_get(root, "upstream");
    if (v == NULL) {
        (void) nc_gateway_fail(&ps, "\"upstream\" is required");
        goto done;
    }

    if (nc_gateway_parse_upstream(&ps, v) != NC_OK) {
        goto done;
    }

    if (canonical) {
        if (json_object_set_new(root, "id",
                                json_stringn((const char *) id->data,
                                             id->len))
            != 0)
        {
            goto nomem;
        }

        dump = json_dumps(root, JSON_COMPACT);
        if (dump == NULL) {
            goto nomem;
        }

        canonical->len = strlen(dump);
        canonical->data = nc_pnalloc(pool, canonical->len);

        if (canonical->data) {
            nc_memcpy(canonical->data, dump, canonical->len);
        }

        free(dump);

        if (canonical->data == NULL) {
            goto nomem;
        }
    }

    rc = NC_OK;
    goto done;

nomem:

    rc = nc_gateway_fail(&ps, "no memory");

done:

    json_decref(root);

    return rc;
}


/* hosts, path, methods, headers, query */
static nc_int_t
nc_gateway_parse_match(nc_gateway_parse_t *ps, json_t *root)
{
    size_t               i, n;
    nc_str_t             s, *host;
    json_t              *v, *e;
    nc_uint_t            m;
    nc_gateway_route_t  *rt;

    static const struct {
        const char  *name;
        nc_uint_t    method;
    } methods[] = {
        { "GET", NC_HTTP_GET }, { "HEAD", NC_HTTP_HEAD },
        { "POST", NC_HTTP_POST }, { "PUT", NC_HTTP_PUT },
        { "DELETE", NC_HTTP_DELETE }, { "OPTIONS", NC_HTTP_OPTIONS },
        { "PATCH", NC_HTTP_PATCH }, { "TRACE", NC_HTTP_TRACE },
        { "CONNECT", NC_HTTP_CONNECT }
    };

    rt = ps->rt;

    v = json_object_get(root, "priority");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < -1000000
            || json_integer_value(v) > 1000000)
        {
            return nc_gateway_fail(ps, "\"priority\" is an integer of "
                                   "-1000000..1000000");
        }

        rt->priority = (nc_int_t) json_integer_value(v);
    }

    v = json_object_get(root, "hosts");
    if (v) {
        n = json_is_array(v) ? json_array_size(v) : 0;

        if (n == 0 || n > 64) {
            return nc_gateway_fail(ps, "\"hosts\" is an array of 1 to 64 "
                                   "names");
        }

        rt->hosts = nc_palloc(ps->pool, n * sizeof(nc_str_t));
        if (rt->hosts == NULL) {
            return nc_gateway_fail(ps, "no memory");
        }

        json_array_foreach(v, i, e) {
            host = &rt->hosts[i];

            if (nc_gateway_str(ps, e, "hosts", host) != NC_OK) {
                return NC_ERROR;
            }

            /* "*.example.com": any name below; a name: itself */
            s = *host;
            if (s.len > 2 && s.data[0] == '*' && s.data[1] == '.') {
                s.data += 2;
                s.len -= 2;
                rt->host_rank = nc_max(rt->host_rank, 1);

            } else {
                rt->host_rank = 2;
            }

            if (s.len == 0 || s.len > 253
                || strspn((char *) s.data,
                          "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
                   != s.len)
            {
                return nc_gateway_fail(ps, "\"hosts\": \"%.*s\" is not a "
                                       "host name or *.suffix",
                                       (int) host->len, host->data);
            }

            nc_strlow(host->data, host->data, host->len);
            rt->host_len = nc_max(rt->host_len, host->len);
        }

        rt->nhosts = n;
    }

    v = json_object_get(root, "path");
    if (v == NULL) {
        return nc_gateway_fail(ps, "\"path\" is required");
    }

    if (nc_gateway_str(ps, v, "path", &rt->path) != NC_OK) {
        return NC_ERROR;
    }

    rt->path_type = NC_GATEWAY_PATH_PREFIX;

    v = json_object_get(root, "path_type");
    if (v) {
        if (nc_gateway_str(ps, v, "path_type", &s) != NC_OK) {
            return NC_ERROR;
        }

        if (nc_strcmp(s.data, "prefix") == 0) {
            rt->path_type = NC_GATEWAY_PATH_PREFIX;

        } else if (nc_strcmp(s.data, "exact") == 0) {
            rt->path_type = NC_GATEWAY_PATH_EXACT;

        } else if (nc_strcmp(s.data, "regex") == 0) {
            rt->path_type = NC_GATEWAY_PATH_REGEX;

        } else {
            return nc_gateway_fail(ps, "\"path_type\" is \"prefix\", "
                                   "\"exact\" or \"regex\"");
        }
    }

    if (rt->path_type == NC_GATEWAY_PATH_REGEX) {
        rt->path_re = nc_gateway_regex(ps, &rt->path, "path");
        if (rt->path_re == NULL) {
            return NC_ERROR;
        }

    } else if (rt->path.len == 0 || rt->path.data[0] != '/') {
        return nc_gateway_fail(ps, "\"path\" starts with /");
    }

    v = json_object_get(root, "methods");
    if (v) {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            return nc_gateway_fail(ps, "\"methods\" is an array of methods");
        }

        json_array_foreach(v, i, e) {
            if (nc_gateway_str(ps, e, "methods", &s) != NC_OK) {
                return NC_ERROR;
            }

            for (m = 0; m < nc_nelems(methods); m++) {
                if (strcasecmp((char *) s.data, methods[m].name) == 0) {
                    rt->methods |= methods[m].method;
                    break;
                }
            }

            if (m == nc_nelems(methods)) {
                return nc_gateway_fail(ps, "\"methods\": unknown method "
                                       "\"%s\"", s.data);
            }
        }

        rt->conditions++;
    }

    if (nc_gateway_parse_pairs(ps, json_object_get(root, "headers"),
                               "headers", &rt->headers, &rt->nheaders)
        != NC_OK
        || nc_gateway_parse_pairs(ps, json_object_get(root, "query"),
                                  "query", &rt->query, &rt->nquery)
           != NC_OK)
    {
        return NC_ERROR;
    }

    rt->conditions += rt->nheaders + rt->nquery;

    return NC_OK;
}


static nc_int_t
nc_gateway_parse_upstream(nc_gateway_parse_t *ps, json_t *up)
{
    size_t               i, n;
    u_char              *p;
    nc_str_t             s;
    json_t              *svc, *nodes, *v, *e;
    nc_gateway_route_t  *rt;

    static const char *const  up_keys[] = {
        "service", "nodes", "balance", "hash_on", NULL
    };
    static const char *const  svc_keys[] = {
        "namespace", "group", "name", "clusters", NULL
    };

    rt = ps->rt;

    if (!json_is_object(up)
        || nc_gateway_parse_keys(ps, up, "upstream", up_keys) != NC_OK)
    {
        return json_is_object(up)
               ? NC_ERROR
               : nc_gateway_fail(ps, "\"upstream\" is an object");
    }

    svc = json_object_get(up, "service");
    nodes = json_object_get(up, "nodes");

    if ((svc == NULL) == (nodes == NULL)) {
        return nc_gateway_fail(ps, "\"upstream\" names a \"service\" or "
                               "\"nodes\", one of them");
    }

    if (svc) {
        if (!json_is_object(svc)
            || nc_gateway_parse_keys(ps, svc, "upstream.service", svc_keys)
               != NC_OK)
        {
            return json_is_object(svc)
                   ? NC_ERROR
                   : nc_gateway_fail(ps, "\"upstream.service\" is an object");
        }

        nc_str_set(&rt->ns, "public");
        nc_str_set(&rt->group, "DEFAULT_GROUP");

        v = json_object_get(svc, "name");
        if (v == NULL) {
            return nc_gateway_fail(ps, "\"upstream.service\" needs "
                                   "\"name\"");
        }

        if (nc_gateway_str(ps, v, "upstream.service.name", &rt->service)
            != NC_OK
            || ((v = json_object_get(svc, "namespace"))
                && nc_gateway_str(ps, v, "upstream.service.namespace",
                                  &rt->ns) != NC_OK)
            || ((v = json_object_get(svc, "group"))
                && nc_gateway_str(ps, v, "upstream.service.group",
                                  &rt->group) != NC_OK))
        {
            return NC_ERROR;
        }

        if (rt->service.len == 0 || rt->group.len == 0
            || memchr(rt->service.data, '@', rt->service.len)
            || memchr(rt->group.data, '@', rt->group.len))
        {
            return nc_gateway_fail(ps, "\"upstream.service\": a name and a "
                                   "group, not empty, without '@'");
        }

        v = json_object_get(svc, "clusters");
        if (v) {
            n = json_is_array(v) ? json_array_size(v) : 0;
            if (n == 0 || n > 64) {
                return nc_gateway_fail(ps, "\"upstream.service.clusters\" "
                                       "is an array of 1 to 64 names");
            }

            /* kept as the comma list the registry's lists take */
            json_array_foreach(v, i, e) {
                if (nc_gateway_str(ps, e, "upstream.service.clusters", &s)
                    != NC_OK)
                {
                    return NC_ERROR;
                }

                if (s.len == 0 || memchr(s.data, ',', s.len)) {
                    return nc_gateway_fail(ps, "\"upstream.service."
                                           "clusters\": a name is not empty "
                                           "and has no ','");
                }

                p = nc_pnalloc(ps->pool, rt->clusters.len + 1 + s.len);
                if (p == NULL) {
                    return nc_gateway_fail(ps, "no memory");
                }

                if (rt->clusters.len) {
                    nc_memcpy(p, rt->clusters.data, rt->clusters.len);
                    p[rt->clusters.len++] = ',';
                }

                nc_memcpy(p + rt->clusters.len, s.data, s.len);
                rt->clusters.data = p;
                rt->clusters.len += s.len;
            }
        }

    } else {
        n = json_is_array(nodes) ? json_array_size(nodes) : 0;
        if (n == 0 || n > 1024) {
            return nc_gateway_fail(ps, "\"upstream.nodes\" is an array of 1 "
                                   "to 1024 nodes");
        }

        rt->nodes = nc_pcalloc(ps->pool, n * sizeof(nc_gateway_node_t));
        if (rt->nodes == NULL) {
            return nc_gateway_fail(ps, "no memory");
        }

        json_array_foreach(nodes, i, e) {
            if (nc_gateway_parse_node(ps, e, &rt->nodes[i]) != NC_OK) {
                return NC_ERROR;
            }
        }

        rt->nnodes = n;
    }

    rt->balance = NC_GATEWAY_ROUND_ROBIN;

    v = json_object_get(up, "balance");
    if (v) {
        if (nc_gateway_str(ps, v, "upstream.balance", &s) != NC_OK) {
            return NC_ERROR;
        }

        if (nc_strcmp(s.data, "round_robin") == 0) {
            rt->balance = NC_GATEWAY_ROUND_ROBIN;

        } else if (nc_strcmp(s.data, "least_conn") == 0) {
            rt->balance = NC_GATEWAY_LEAST_CONN;

        } else if (nc_strcmp(s.data, "hash") == 0) {
            rt->balance = NC_GATEWAY_HASH;

        } else if (nc_strcmp(s.data, "two_choices") == 0) {
            rt->balance = NC_GATEWAY_TWO_CHOICES;

        } else {
            return nc_gateway_fail(ps, "\"upstream.balance\" is "
                                   "\"round_robin\", \"least_conn\", "
                                   "\"hash\" or \"two_choices\"");
        }
    }

    rt->hash_on = NC_GATEWAY_HASH_CLIENT_ADDR;

    v = json_object_get(up, "hash_on");
    if (v) {
        if (nc_gateway_str(ps, v, "upstream.hash_on", &s) != NC_OK) {
            return NC_ERROR;
        }

        if (nc_strcmp(s.data, "client_addr") == 0) {
            rt->hash_on = NC_GATEWAY_HASH_CLIENT_ADDR;

        } else if (s.len > 7 && nc_strncmp(s.data, "header:", 7) == 0) {
            rt->hash_on = NC_GATEWAY_HASH_HEADER;
            rt->hash_key.data = s.data + 7;
            rt->hash_key.len = s.len - 7;

        } else if (s.len > 7 && nc_strncmp(s.data, "cookie:", 7) == 0) {
            rt->hash_on = NC_GATEWAY_HASH_COOKIE;
            rt->hash_key.data = s.data + 7;
            rt->hash_key.len = s.len - 7;

        } else {
            return nc_gateway_fail(ps, "\"upstream.hash_on\" is "
                                   "\"client_addr\", \"header:<name>\" or "
                                   "\"cookie:<name>\"");
        }

        if (rt->balance != NC_GATEWAY_HASH) {
            return nc_gateway_fail(ps, "\"upstream.hash_on\" goes with "
                                   "\"balance\": \"hash\"");
        }
    }

    return NC_OK;
}


/* timeouts, retries, rewriting, headers, rate limit, token */
static nc_int_t
nc_gateway_parse_options(nc_gateway_parse_t *ps, json_t *root)
{
    size_t               i;
    json_t              *v, *e;
    nc_str_t             s;
    json_int_t           code;
    nc_gateway_route_t  *rt;

    static const char *const  timeout_keys[] = {
        "connect", "send", "read", NULL
    };
    static const char *const  rewrite_keys[] = {
        "regex", "replacement", NULL
    };
    static const char *const  rate_keys[] = { "rate", "burst", NULL };

    rt = ps->rt;

    rt->connect_timeout = 5000;
    rt->send_timeout = 60000;
    rt->read_timeout = 60000;
    rt->retries = 1;
    rt->retry_timeout = 10000;
    rt->retry_on[0] = 502;
    rt->retry_on[1] = 503;
    rt->retry_on[2] = 504;
    rt->nretry_on = 3;

    v = json_object_get(root, "timeouts");
    if (v) {
        if (!json_is_object(v)
            || nc_gateway_parse_keys(ps, v, "timeouts", timeout_keys)
               != NC_OK)
        {
            return json_is_object(v)
                   ? NC_ERROR
                   : nc_gateway_fail(ps, "\"timeouts\" is an object");
        }

        if (((e = json_object_get(v, "connect"))
             && nc_gateway_parse_msec(ps, e, "timeouts.connect",
                                      &rt->connect_timeout) != NC_OK)
            || ((e = json_object_get(v, "send"))
                && nc_gateway_parse_msec(ps, e, "timeouts.send",
                                         &rt->send_timeout) != NC_OK)
            || ((e = json_object_get(v, "read"))
                && nc_gateway_parse_msec(ps, e, "timeouts.read",
                                         &rt->read_timeout) != NC_OK))
        {
            return NC_ERROR;
        }
    }

    v = json_object_get(root, "retries");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > 10)
        {
            return nc_gateway_fail(ps, "\"retries\" is an integer of 0..10");
        }

        rt->retries = (nc_uint_t) json_integer_value(v);
    }

    v = json_object_get(root, "retry_on");
    if (v) {
        if (!json_is_array(v)
            || json_array_size(v) > NC_GATEWAY_MAX_RETRY_ON)
        {
            return nc_gateway_fail(ps, "\"retry_on\" is an array of at most "
                                   "%d statuses", NC_GATEWAY_MAX_RETRY_ON);
        }

        rt->nretry_on = 0;

        json_array_foreach(v, i, e) {
            code = json_is_integer(e) ? json_integer_value(e) : 0;

            if (code < 400 || code > 599) {
                return nc_gateway_fail(ps, "\"retry_on\": statuses are "
                                       "integers of 400..599");
            }

            rt->retry_on[rt->nretry_on++] = (uint16_t) code;
        }
    }

    v = json_object_get(root, "retry_timeout");
    if (v && nc_gateway_parse_msec(ps, v, "retry_timeout", &rt->retry_timeout)
             != NC_OK)
    {
        return NC_ERROR;
    }

#define nc_gateway_bool(name, field)                                          \
    v = json_object_get(root, name);                                          \
    if (v) {                                                                  \
        if (!json_is_boolean(v)) {                                            \
            return nc_gateway_fail(ps, "\"" name "\" is true or false");      \
        }                                                                     \
        field = json_is_true(v);                                              \
    }

    nc_gateway_bool("retry_non_idempotent", rt->retry_non_idempotent);
    nc_gateway_bool("strip_prefix", rt->strip_prefix);
    nc_gateway_bool("token", rt->token);
    nc_gateway_bool("gzip", rt->gzip);

#undef nc_gateway_bool

    if (rt->strip_prefix && rt->path_type != NC_GATEWAY_PATH_PREFIX) {
        return nc_gateway_fail(ps, "\"strip_prefix\" goes with a \"prefix\" "
                               "path");
    }

    v = json_object_get(root, "rewrite");
    if (v) {
        if (!json_is_object(v)
            || nc_gateway_parse_keys(ps, v, "rewrite", rewrite_keys) != NC_OK)
        {
            return json_is_object(v)
                   ? NC_ERROR
                   : nc_gateway_fail(ps, "\"rewrite\" is an object");
        }

        e = json_object_get(v, "regex");
        if (e == NULL || json_object_get(v, "replacement") == NULL) {
            return nc_gateway_fail(ps, "\"rewrite\" has \"regex\" and "
                                   "\"replacement\"");
        }

        if (nc_gateway_str(ps, e, "rewrite.regex", &s) != NC_OK
            || nc_gateway_str(ps, json_object_get(v, "replacement"),
                              "rewrite.replacement", &rt->rewrite_to)
               != NC_OK)
        {
            return NC_ERROR;
        }

        rt->rewrite_re = nc_gateway_regex(ps, &s, "rewrite.regex");
        if (rt->rewrite_re == NULL) {
            return NC_ERROR;
        }
    }

    if (nc_gateway_parse_headers(ps, json_object_get(root, "request_headers"),
                                 "request_headers", &rt->request_headers)
        != NC_OK
        || nc_gateway_parse_headers(ps,
                                    json_object_get(root, "response_headers"),
                                    "response_headers", &rt->response_headers)
           != NC_OK)
    {
        return NC_ERROR;
    }

    v = json_object_get(root, "rate_limit");
    if (v) {
        if (!json_is_object(v)
            || nc_gateway_parse_keys(ps, v, "rate_limit", rate_keys) != NC_OK)
        {
            return json_is_object(v)
                   ? NC_ERROR
                   : nc_gateway_fail(ps, "\"rate_limit\" is an object");
        }

        e = json_object_get(v, "rate");
        if (e == NULL || !json_is_number(e) || json_number_value(e) <= 0
            || json_number_value(e) > 1000000)
        {
            return nc_gateway_fail(ps, "\"rate_limit.rate\" is a number of "
                                   "requests a second, above 0");
        }

        rt->rate = json_number_value(e);
        rt->burst = nc_max((nc_uint_t) rt->rate, 1);

        e = json_object_get(v, "burst");
        if (e) {
            /* a bucket holds thousandths of a token in 32 bits */
            if (!json_is_integer(e) || json_integer_value(e) < 1
                || json_integer_value(e) > 1000000)
            {
                return nc_gateway_fail(ps, "\"rate_limit.burst\" is an "
                                       "integer above 0");
            }

            rt->burst = (nc_uint_t) json_integer_value(e);
        }
    }

    return NC_OK;
}


static nc_int_t
nc_gateway_parse_headers(nc_gateway_parse_t *ps, json_t *o, const char *what,
    nc_gateway_headers_t *h)
{
    size_t     i, n;
    json_t    *v, *e;
    nc_str_t   s;
    char       name[64];

    static const char *const  keys[] = { "set", "add", "remove", NULL };

    if (o == NULL) {
        return NC_OK;
    }

    if (!json_is_object(o)) {
        return nc_gateway_fail(ps, "\"%s\" is an object", what);
    }

    if (nc_gateway_parse_keys(ps, o, what, keys) != NC_OK) {
        return NC_ERROR;
    }

    (void) snprintf(name, sizeof(name), "%s.set", what);
    if (nc_gateway_parse_pairs(ps, json_object_get(o, "set"), name, &h->set,
                               &h->nset)
        != NC_OK)
    {
        return NC_ERROR;
    }

    (void) snprintf(name, sizeof(name), "%s.add", what);
    if (nc_gateway_parse_pairs(ps, json_object_get(o, "add"), name, &h->add,
                               &h->nadd)
        != NC_OK)
    {
        return NC_ERROR;
    }

    v = json_object_get(o, "remove");
    if (v == NULL) {
        return NC_OK;
    }

    n = json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_array(v) || n > 64) {
        return nc_gateway_fail(ps, "\"%s.remove\" is an array of at most 64 "
                               "names", what);
    }

    h->remove = nc_palloc(ps->pool, (n + 1) * sizeof(nc_str_t));
    if (h->remove == NULL) {
        return nc_gateway_fail(ps, "no memory");
    }

    json_array_foreach(v, i, e) {
        (void) snprintf(name, sizeof(name), "%s.remove", what);

        if (nc_gateway_str(ps, e, name, &s) != NC_OK) {
            return NC_ERROR;
        }

        if (s.len == 0 || strpbrk((char *) s.data, " \t:\r\n")) {
            return nc_gateway_fail(ps, "\"%s\": \"%s\" is not a header name",
                                   name, s.data);
        }

        h->remove[i] = s;
    }

    h->nremove = n;

    return NC_OK;
}


/* {"name": "value", ...}: header names are tokens, values one line */
static nc_int_t
nc_gateway_parse_pairs(nc_gateway_parse_t *ps, json_t *o, const char *what,
    nc_gateway_pair_t **pairs, nc_uint_t *n)
{
    size_t              i;
    json_t             *v;
    const char         *key;
    nc_gateway_pair_t  *p;

    *n = 0;

    if (o == NULL) {
        return NC_OK;
    }

    if (!json_is_object(o) || json_object_size(o) > 64) {
        return nc_gateway_fail(ps, "\"%s\" is an object of at most 64 "
                               "names and their values", what);
    }

    *pairs = nc_palloc(ps->pool,
                        (json_object_size(o) + 1) * sizeof(nc_gateway_pair_t));
    if (*pairs == NULL) {
        return nc_gateway_fail(ps, "no memory");
    }

    i = 0;

    json_object_foreach(o, key, v) {
        p = &(*pairs)[i++];

        p->name.len = strlen(key);
        p->name.data = nc_pnalloc(ps->pool, p->name.len + 1);
        if (p->name.data == NULL) {
            return nc_gateway_fail(ps, "no memory");
        }

        nc_memcpy(p->name.data, key, p->name.len + 1);

        if (p->name.len == 0 || strpbrk(key, " \t:\r\n=&")) {
            return nc_gateway_fail(ps, "\"%s\": \"%s\" is not a name", what,
                                   key);
        }

        if (nc_gateway_str(ps, v, what, &p->value) != NC_OK) {
            return NC_ERROR;
        }

        if (strpbrk((char *) p->value.data, "\r\n")) {
            return nc_gateway_fail(ps, "\"%s\": the value of \"%s\" has a "
                                   "line break", what, key);
        }
    }

    *n = i;

    return NC_OK;
}


/* "1s", "500ms", or a number of milliseconds */
static nc_int_t
nc_gateway_parse_msec(nc_gateway_parse_t *ps, json_t *v, const char *what,
    nc_msec_t *ms)
{
    nc_str_t       s;
    nc_msec_int_t  n;

    if (json_is_integer(v)) {
        n = json_integer_value(v);

    } else if (json_is_string(v)) {
        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);
        n = nc_parse_msec(&s);

    } else {
        n = -1;
    }

    if (n <= 0 || n > 24 * 3600 * 1000) {
        return nc_gateway_fail(ps, "\"%s\" is a time: \"1s\", \"500ms\" or "
                               "milliseconds, above 0 and at most a day",
                               what);
    }

    *ms = (nc_msec_t) n;

    return NC_OK;
}


/* {"address": "127.0.0.1:8080", "weight": 1}: numeric addresses only (a
 * name would need a resolver in the loop) */
static nc_int_t
nc_gateway_parse_node(nc_gateway_parse_t *ps, json_t *v,
    nc_gateway_node_t *node)
{
    u_char              *colon, *end;
    json_t              *a, *w;
    nc_str_t             s;
    nc_int_t             port;
    struct sockaddr_in  *sin;
    struct sockaddr_in6 *sin6;
    char                 host[64];

    static const char *const  keys[] = { "address", "weight", NULL };

    if (!json_is_object(v)) {
        return nc_gateway_fail(ps, "\"upstream.nodes\": a node is an object");
    }

    if (nc_gateway_parse_keys(ps, v, "upstream.nodes", keys) != NC_OK) {
        return NC_ERROR;
    }

    a = json_object_get(v, "address");
    if (a == NULL
        || nc_gateway_str(ps, a, "upstream.nodes.address", &s) != NC_OK)
    {
        return a ? NC_ERROR
                 : nc_gateway_fail(ps, "\"upstream.nodes\": a node needs "
                                   "\"address\"");
    }

    end = s.data + s.len;
    colon = (u_char *) memrchr(s.data, ':', s.len);
    port = colon ? nc_atoi(colon + 1, end - colon - 1) : NC_ERROR;

    if (colon == NULL || port < 1 || port > 65535
        || (size_t) (colon - s.data) >= sizeof(host))
    {
        goto bad;
    }

    nc_memzero(&node->sockaddr, sizeof(node->sockaddr));

    if (s.data[0] == '[' && colon[-1] == ']') {
        nc_memcpy(host, s.data + 1, colon - s.data - 2);
        host[colon - s.data - 2] = '\0';

        sin6 = (struct sockaddr_in6 *) &node->sockaddr;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            goto bad;
        }

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        node->socklen = sizeof(struct sockaddr_in6);

    } else {
        nc_memcpy(host, s.data, colon - s.data);
        host[colon - s.data] = '\0';

        sin = (struct sockaddr_in *) &node->sockaddr;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            goto bad;
        }

        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        node->socklen = sizeof(struct sockaddr_in);
    }

    node->text = s;
    node->weight = 1;

    w = json_object_get(v, "weight");
    if (w) {
        if (!json_is_integer(w) || json_integer_value(w) < 0
            || json_integer_value(w) > 10000)
        {
            return nc_gateway_fail(ps, "\"upstream.nodes\": \"weight\" is an "
                                   "integer of 0..10000");
        }

        node->weight = (nc_uint_t) json_integer_value(w);
    }

    return NC_OK;

bad:

    return nc_gateway_fail(ps, "\"upstream.nodes\": \"%s\" is not an "
                           "address:port (numeric; [v6]:port)", s.data);
}


static nc_int_t
nc_gateway_parse_keys(nc_gateway_parse_t *ps, json_t *o, const char *what,
    const char *const *keys)
{
    json_t              *v;
    const char          *key;
    const char *const   *k;

    json_object_foreach(o, key, v) {
        for (k = keys; *k; k++) {
            if (strcmp(key, *k) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            return nc_gateway_fail(ps, "%s: unknown key \"%s\"", what, key);
        }
    }

    return NC_OK;
}


/* a JSON string copied into the pool, NUL-terminated, without NULs */
static nc_int_t
nc_gateway_str(nc_gateway_parse_t *ps, json_t *v, const char *what,
    nc_str_t *s)
{
    if (!json_is_string(v)) {
        return nc_gateway_fail(ps, "\"%s\" takes strings", what);
    }

    s->len = json_string_length(v);

    if (s->len > 4096 || memchr(json_string_value(v), '\0', s->len)) {
        return nc_gateway_fail(ps, "\"%s\": a string of at most 4096 bytes, "
                               "without NUL", what);
    }

    s->data = nc_pnalloc(ps->pool, s->len + 1);
    if (s->data == NULL) {
        return nc_gateway_fail(ps, "no memory");
    }

    nc_memcpy(s->data, json_string_value(v), s->len + 1);

    return NC_OK;
}


/* compiled, JIT when it can be, freed with the pool */
static pcre2_code *
nc_gateway_regex(nc_gateway_parse_t *ps, const nc_str_t *pattern,
    const char *what)
{
    int                 code;
    PCRE2_SIZE          offset;
    pcre2_code         *re;
    nc_pool_cleanup_t  *cln;
    PCRE2_UCHAR         msg[256];

    cln = nc_pool_cleanup_add(ps->pool, 0);
    if (cln == NULL) {
        (void) nc_gateway_fail(ps, "no memory");
        return NULL;
    }

    re = pcre2_compile((PCRE2_SPTR) pattern->data, pattern->len, 0, &code,
                       &offset, NULL);
    if (re == NULL) {
        (void) pcre2_get_error_message(code, msg, sizeof(msg));
        (void) nc_gateway_fail(ps, "\"%s\": %s at offset %zu of \"%s\"",
                               what, (char *) msg, (size_t) offset,
                               pattern->data);
        return NULL;
    }

    /* no JIT (a platform without it) still matches, only slower */
    (void) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);

    cln->handler = nc_gateway_regex_free;
    cln->data = re;

    return re;
}


static void
nc_gateway_regex_free(void *data)
{
    pcre2_code_free(data);
}


static nc_int_t
nc_gateway_fail(nc_gateway_parse_t *ps, const char *fmt, ...)
{
    va_list  args;

    if (ps->errlen) {
        va_start(args, fmt);
        (void) vsnprintf((char *) ps->err, ps->errlen, fmt, args);
        va_end(args);
    }

    return NC_ERROR;
}


/* --- the table ------------------------------------------------------------ */


uint64_t
nc_gateway_routes_revision(nc_store_t *st, const nc_store_version_t *v)
{
    const nc_store_record_t  *rec;

    rec = nc_store_get(st, v, (u_char *) NC_STORE_GATEWAY_ROUTES,
                       sizeof(NC_STORE_GATEWAY_ROUTES) - 1);

    return rec ? rec->revision : 0;
}


nc_gateway_table_t *
nc_gateway_table_build(nc_store_t *st, const nc_store_version_t *v,
    const nc_array_t *declared, nc_log_t *log)
{
    nc_int_t                  rc;
    nc_uint_t                 i;
    nc_str_t                  id;
    nc_array_t                routes;
    nc_pool_t                *pool;
    nc_store_iter_t           it;
    nc_gateway_table_t       *t;
    nc_conf_route_t          *cr;
    const nc_store_record_t  *rec;

    pool = nc_create_pool(16 * 1024);
    if (pool == NULL) {
        return NULL;
    }

    if (nc_array_init(&routes, pool, 16, sizeof(nc_gateway_route_t *))
        != NC_OK)
    {
        goto failed;
    }

    /* the conf's first: a stored route of the same id is this node's
     * conf's to override */
    cr = declared ? declared->elts : NULL;

    for (i = 0; declared && i < declared->nelts; i++) {
        if (nc_gateway_table_add(pool, &routes, &cr[i].id, cr[i].json.data,
                                 cr[i].json.len, log)
            == NC_ERROR)
        {
            goto failed;
        }
    }

    nc_store_iter_init(&it, st, v->root, (u_char *) NC_STORE_GATEWAY_ROUTE,
                       NC_STORE_GATEWAY_ROUTE_LEN, NULL, 0);

    while ((rec = nc_store_iter_next(&it)) != NULL) {
        if (rec->type != NC_STORE_T_GATEWAY) {
            continue;
        }

        id.data = (u_char *) nc_store_record_key(rec)
                  + NC_STORE_GATEWAY_ROUTE_LEN;
        id.len = rec->key_len - NC_STORE_GATEWAY_ROUTE_LEN;

        if (nc_gateway_route_declared(declared, &id) != NULL) {
            continue;
        }

        rc = nc_gateway_table_add(pool, &routes, &id,
                                  nc_store_record_value(rec), rec->value_len,
                                  log);
        if (rc == NC_ERROR) {
            goto failed;
        }
    }

    t = nc_gateway_table_create(pool, routes.elts, routes.nelts);
    if (t == NULL) {
        goto failed;
    }

    t->revision = nc_gateway_routes_revision(st, v);

    return t;

failed:

    nc_destroy_pool(pool);

    return NULL;
}


/* compile one route into the list; NC_DECLINED: it does not compile
 * (a newer PCRE2 could refuse what an older one took), logged */
static nc_int_t
nc_gateway_table_add(nc_pool_t *pool, nc_array_t *routes, const nc_str_t *id,
    const u_char *json, size_t len, nc_log_t *log)
{
    nc_gateway_route_t   *rt, **slot;
    u_char                err[512];

    rt = nc_palloc(pool, sizeof(nc_gateway_route_t));
    if (rt == NULL) {
        return NC_ERROR;
    }

    if (nc_gateway_route_parse(pool, id, json, len, rt, NULL, err,
                               sizeof(err))
        != NC_OK)
    {
        nc_log_error(NC_LOG_ERR, log, 0, "gateway: route \"%.*s\" left out: "
                     "%s", nc_str_fmt(id), err);
        return NC_DECLINED;
    }

    slot = nc_array_push(routes);
    if (slot == NULL) {
        return NC_ERROR;
    }

    *slot = rt;

    return NC_OK;
}


const nc_conf_route_t *
nc_gateway_route_declared(const nc_array_t *declared, const nc_str_t *id)
{
    nc_uint_t         i;
    nc_conf_route_t  *cr;

    if (declared == NULL) {
        return NULL;
    }

    cr = declared->elts;

    for (i = 0; i < declared->nelts; i++) {
        if (cr[i].id.len == id->len
            && nc_memcmp(cr[i].id.data, id->data, id->len) == 0)
        {
            return &cr[i];
        }
    }

    return NULL;
}


nc_gateway_table_t *
nc_gateway_table_create(nc_pool_t *pool, nc_gateway_route_t **routes,
    nc_uint_t n)
{
    nc_gateway_table_t  *t;
    nc_pool_cleanup_t   *cln;

    t = nc_pcalloc(pool, sizeof(nc_gateway_table_t));
    cln = nc_pool_cleanup_add(pool, 0);

    if (t == NULL || cln == NULL) {
        return NULL;
    }

    /* enough for any pattern's captures a rewrite refers to */
    t->match = pcre2_match_data_create(32, NULL);
    if (t->match == NULL) {
        return NULL;
    }

    cln->handler = (nc_pool_cleanup_pt) pcre2_match_data_free;
    cln->data = t->match;

    qsort(routes, n, sizeof(nc_gateway_route_t *), nc_gateway_route_cmp);

    t->pool = pool;
    t->routes = routes;
    t->nroutes = n;

    return t;
}


void
nc_gateway_table_free(nc_gateway_table_t *t)
{
    if (t) {
        nc_destroy_pool(t->pool);
    }
}


/* most specific first: see nc_gateway_route.h */
static int
nc_gateway_route_cmp(const void *a, const void *b)
{
    int                        c;
    nc_uint_t                  ra, rb;
    const nc_gateway_route_t  *x, *y;

    x = *(const nc_gateway_route_t *const *) a;
    y = *(const nc_gateway_route_t *const *) b;

    if (x->priority != y->priority) {
        return x->priority > y->priority ? -1 : 1;
    }

    if (x->host_rank != y->host_rank) {
        return x->host_rank > y->host_rank ? -1 : 1;
    }

    if (x->host_rank == 1 && x->host_len != y->host_len) {
        return x->host_len > y->host_len ? -1 : 1;
    }

    /* exact 2, regex 1, prefix 0: nginx's order of locations */
    ra = x->path_type == NC_GATEWAY_PATH_EXACT ? 2
         : x->path_type == NC_GATEWAY_PATH_REGEX;
    rb = y->path_type == NC_GATEWAY_PATH_EXACT ? 2
         : y->path_type == NC_GATEWAY_PATH_REGEX;

    if (ra != rb) {
        return ra > rb ? -1 : 1;
    }

    if (x->path.len != y->path.len) {
        return x->path.len > y->path.len ? -1 : 1;
    }

    if (x->conditions != y->conditions) {
        return x->conditions > y->conditions ? -1 : 1;
    }

    c = nc_memcmp(x->id.data, y->id.data, nc_min(x->id.len, y->id.len));

    return c ? c : (x->id.len > y->id.len) - (x->id.len < y->id.len);
}


nc_gateway_route_t *
nc_gateway_match(nc_gateway_table_t *t, nc_http_request_t *r)
{
    u_char              *colon;
    nc_str_t             host, v;
    nc_uint_t            i, k;
    nc_http_header_t    *h;
    nc_gateway_route_t  *rt;
    u_char               lower[256];

    /* the Host header without its port, in lower case */
    host = r->headers_in.host;

    if (host.len && host.data[0] != '[') {
        colon = memchr(host.data, ':', host.len);
        host.len = colon ? (size_t) (colon - host.data) : host.len;
    }

    host.len = nc_min(host.len, sizeof(lower));
    nc_strlow(lower, host.data, host.len);
    host.data = lower;

    for (i = 0; i < t->nroutes; i++) {
        rt = t->routes[i];

        if ((rt->methods && !(rt->methods & r->method))
            || (rt->nhosts && !nc_gateway_host_matches(rt, &host))
            || !nc_gateway_path_matches(t, rt, &r->path))
        {
            continue;
        }

        for (k = 0; k < rt->nheaders; k++) {
            h = nc_http_find_header(r, (char *) rt->headers[k].name.data);

            if (h == NULL || h->value.len != rt->headers[k].value.len
                || nc_memcmp(h->value.data, rt->headers[k].value.data,
                             h->value.len) != 0)
            {
                break;
            }
        }

        if (k < rt->nheaders) {
            continue;
        }

        for (k = 0; k < rt->nquery; k++) {
            if (nc_http_query_param(r, (char *) rt->query[k].name.data, &v)
                != NC_OK
                || v.len != rt->query[k].value.len
                || nc_memcmp(v.data, rt->query[k].value.data, v.len) != 0)
            {
                break;
            }
        }

        if (k < rt->nquery) {
            continue;
        }

        /* a regex path matched last: t->match holds its captures */
        return rt;
    }

    return NULL;
}


static nc_flag_t
nc_gateway_host_matches(const nc_gateway_route_t *rt, const nc_str_t *host)
{
    size_t          len;
    nc_uint_t       i;
    const nc_str_t  *h;

    for (i = 0; i < rt->nhosts; i++) {
        h = &rt->hosts[i];

        if (h->data[0] == '*') {
            /* "*.example.com": "a.example.com", not "example.com" */
            len = h->len - 1;

            if (host->len > len
                && nc_memcmp(host->data + host->len - len, h->data + 1, len)
                   == 0)
            {
                return 1;
            }

        } else if (h->len == host->len
                   && nc_memcmp(h->data, host->data, h->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static nc_flag_t
nc_gateway_path_matches(nc_gateway_table_t *t, const nc_gateway_route_t *rt,
    const nc_str_t *path)
{
    switch (rt->path_type) {

    case NC_GATEWAY_PATH_EXACT:
        return path->len == rt->path.len
               && nc_memcmp(path->data, rt->path.data, path->len) == 0;

    case NC_GATEWAY_PATH_PREFIX:
        return path->len >= rt->path.len
               && nc_memcmp(path->data, rt->path.data, rt->path.len) == 0;

    default:
        return pcre2_match(rt->path_re, path->data, path->len, 0, 0,
                           t->match, NULL)
               >= 0;
    }
}
