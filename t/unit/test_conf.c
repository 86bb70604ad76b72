
/*
 * nacre: unit tests of the YAML configuration loader (src/core/nc_conf.c).
 */

#include <nc_config.h>
#include <nc_core.h>

#include <setjmp.h>
#include <cmocka.h>


#define PREFIX  "/usr/local/nacre"
#define NAME    "t.yaml"


typedef struct {
    const char  *yaml;
    const char  *err;
} test_error_case_t;


typedef struct {
    const char  *text;
    int64_t      value;        /* NC_ERROR: refused */
} test_unit_case_t;


typedef struct {
    const char  *text;
    const char  *canonical;    /* NULL: refused */
} test_addr_case_t;


static char  test_dir[] = "/tmp/nc_test_conf.XXXXXX";


static nc_conf_t *
load(const char *yaml, char *err)
{
    return nc_conf_load_string(PREFIX, NAME, yaml, strlen(yaml), err);
}


static nc_conf_t *
load_ok(const char *yaml)
{
    nc_conf_t  *conf;
    char        err[NC_CONF_ERRSTR_SIZE];

    conf = load(yaml, err);

    if (conf == NULL) {
        fail_msg("unexpected error: %s\nfor yaml:\n%s", err, yaml);
    }

    return conf;
}


static void
assert_str(const nc_str_t *s, const char *expected)
{
    assert_non_null(s->data);
    assert_int_equal(s->len, strlen(expected));
    assert_memory_equal(s->data, expected, s->len);

    /* every path is NUL-terminated past len */
    assert_int_equal(s->data[s->len], '\0');
}


static nc_conf_addr_t *
listen_addr(nc_conf_t *conf, nc_uint_t i)
{
    assert_true(i < conf->api.listen.nelts);

    return (nc_conf_addr_t *) conf->api.listen.elts + i;
}


static nc_conf_addr_t *
member(nc_conf_t *conf, nc_uint_t i)
{
    assert_true(i < conf->cluster.members.nelts);

    return (nc_conf_addr_t *) conf->cluster.members.elts + i;
}


static void
write_file(const char *path, const char *data)
{
    FILE  *f;

    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
}


static int
setup_dir(void **state)
{
    char  path[256];

    (void) state;

    nc_time_init();

    if (mkdtemp(test_dir) == NULL) {
        return -1;
    }

    snprintf(path, sizeof(path), "%s/cert.pem", test_dir);
    write_file(path, "-----BEGIN CERTIFICATE-----\n");

    snprintf(path, sizeof(path), "%s/key.pem", test_dir);
    write_file(path, "-----BEGIN PRIVATE KEY-----\n");

    /*
     * cluster secrets: 44 bytes; 16 and CR LF; 15 and newlines, which the
     * consensus process strips all of
     */

    snprintf(path, sizeof(path), "%s/cluster.key", test_dir);
    write_file(path, "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlYw==\n");

    snprintf(path, sizeof(path), "%s/16.key", test_dir);
    write_file(path, "0123456789abcdef\r\n");

    snprintf(path, sizeof(path), "%s/15.key", test_dir);
    write_file(path, "0123456789abcde\r\n\n");

    snprintf(path, sizeof(path), "%s/sub", test_dir);

    return mkdir(path, 0755);
}


static int
teardown_dir(void **state)
{
    char  cmd[512];

    (void) state;

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);

    return system(cmd) == 0 ? 0 : -1;
}


static void
test_defaults(void **state)
{
    long             cpus;
    nc_uint_t        i;
    nc_conf_t       *conf;
    nc_conf_addr_t  *addr;

    static const char  *empty[] = {
        "", "\n", "# nothing\n", "---\n", "---\n...\n", "~\n", "null\n",
        "{}\n", "---\n{}\n"
    };

    (void) state;

    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpus = nc_max(1, nc_min(cpus, 1024));

    for (i = 0; i < nc_nelems(empty); i++) {
        conf = load_ok(empty[i]);

        assert_str(&conf->prefix, PREFIX "/");
        assert_str(&conf->file, NAME);

        assert_int_equal(conf->daemon, 0);
        assert_int_equal(conf->worker_processes, cpus);
        assert_int_equal(conf->worker_connections, 4096);
        assert_int_equal(conf->worker_shutdown_timeout, 10000);
        assert_str(&conf->pid, PREFIX "/logs/nacre.pid");
        assert_str(&conf->error_log, PREFIX "/logs/error.log");
        assert_int_equal(conf->log_level, NC_LOG_INFO);
        assert_str(&conf->access_log, PREFIX "/logs/access.log");
        assert_str(&conf->data_dir, PREFIX "/data");

        assert_int_equal(conf->api.listen.nelts, 1);
        addr = listen_addr(conf, 0);
        assert_str(&addr->text, "127.0.0.1:8848");
        assert_int_equal(addr->socklen, sizeof(struct sockaddr_in));
        assert_int_equal(addr->sockaddr.ss_family, AF_INET);
        assert_int_equal(
            ntohs(((struct sockaddr_in *) &addr->sockaddr)->sin_port), 8848);
        assert_int_equal(
            ((struct sockaddr_in *) &addr->sockaddr)->sin_addr.s_addr,
            htonl(INADDR_LOOPBACK));

        assert_int_equal(conf->api.tls.certificate.len, 0);
        assert_int_equal(conf->api.tls.certificate_key.len, 0);
        assert_int_equal(conf->api.client_max_body_size, 10 * 1024 * 1024);
        assert_int_equal(conf->api.client_header_buffer_size, 16 * 1024);
        assert_int_equal(conf->api.client_header_timeout, 60000);
        assert_int_equal(conf->api.client_body_timeout, 60000);
        assert_int_equal(conf->api.send_timeout, 60000);
        assert_int_equal(conf->api.keepalive_timeout, 75000);
        assert_int_equal(conf->api.keepalive_requests, 1000);
        assert_int_equal(conf->api.gzip, 1);
        assert_int_equal(conf->api.gzip_min_length, 1024);
        assert_int_equal(conf->api.gzip_comp_level, 1);
        assert_str(&conf->api.root, PREFIX "/html");

        /* no cluster: standalone, with the timings all the same */
        assert_int_equal(conf->cluster.present, 0);
        assert_int_equal(conf->cluster.self.socklen, 0);
        assert_int_equal(conf->cluster.self.text.len, 0);
        assert_int_equal(conf->cluster.members.nelts, 0);
        assert_null(conf->cluster.members.elts);
        assert_null(conf->cluster.secret_file.data);
        assert_int_equal(conf->cluster.election_timeout, 1000);
        assert_int_equal(conf->cluster.heartbeat_interval, 100);
        assert_int_equal(conf->cluster.snapshot_entries, 100000);

        nc_conf_free(conf);
    }
}


static void
test_every_key(void **state)
{
    nc_conf_t  *conf;
    char        yaml[2048], path[256];

    (void) state;

    snprintf(yaml, sizeof(yaml),
             "daemon: true\n"
             "worker_processes: 3\n"
             "worker_connections: 16\n"
             "worker_shutdown_timeout: 1500ms\n"
             "pid: run/n.pid\n"
             "error_log: /var/log/nacre/error.log\n"
             "log_level: debug\n"
             "access_log: off\n"
             "data_dir: /var/lib/nacre\n"
             "api:\n"
             "  listen: \"*:9000\"\n"
             "  tls:\n"
             "    certificate: %s/cert.pem\n"
             "    certificate_key: %s/key.pem\n"
             "  client_max_body_size: 1g\n"
             "  client_header_buffer_size: 1m\n"
             "  client_header_timeout: 5m\n"
             "  client_body_timeout: 2h\n"
             "  send_timeout: 1d\n"
             "  keepalive_timeout: 0\n"
             "  keepalive_requests: 1\n"
             "  gzip: off\n"
             "  gzip_min_length: 0\n"
             "  gzip_comp_level: 9\n"
             "  root: 'www'\n"
             "cluster: {}\n"
             "auth: ~\n"
             "gateway:\n"
             "store: null\n"
             "naming: {}\n"
             "config:\n",
             test_dir, test_dir);

    conf = load_ok(yaml);

    assert_int_equal(conf->daemon, 1);
    assert_int_equal(conf->worker_processes, 3);
    assert_int_equal(conf->worker_connections, 16);
    assert_int_equal(conf->worker_shutdown_timeout, 1500);
    assert_str(&conf->pid, PREFIX "/run/n.pid");
    assert_str(&conf->error_log, "/var/log/nacre/error.log");
    assert_int_equal(conf->log_level, NC_LOG_DEBUG);
    assert_int_equal(conf->access_log.len, 0);
    assert_non_null(conf->access_log.data);
    assert_str(&conf->data_dir, "/var/lib/nacre");

    assert_int_equal(conf->api.listen.nelts, 1);
    assert_str(&listen_addr(conf, 0)->text, "0.0.0.0:9000");

    snprintf(path, sizeof(path), "%s/cert.pem", test_dir);
    assert_str(&conf->api.tls.certificate, path);
    snprintf(path, sizeof(path), "%s/key.pem", test_dir);
    assert_str(&conf->api.tls.certificate_key, path);

    assert_int_equal(conf->api.client_max_body_size, 1024 * 1024 * 1024);
    assert_int_equal(conf->api.client_header_buffer_size, 1024 * 1024);
    assert_int_equal(conf->api.client_header_timeout, 5 * 60 * 1000);
    assert_int_equal(conf->api.client_body_timeout, 2 * 3600 * 1000);
    assert_int_equal(conf->api.send_timeout, 86400 * 1000);
    assert_int_equal(conf->api.keepalive_timeout, 0);
    assert_int_equal(conf->api.keepalive_requests, 1);
    assert_int_equal(conf->api.gzip, 0);
    assert_int_equal(conf->api.gzip_min_length, 0);
    assert_int_equal(conf->api.gzip_comp_level, 9);
    assert_str(&conf->api.root, PREFIX "/www");

    /* "cluster: {}", once the reserved placeholder, is no cluster */
    assert_int_equal(conf->cluster.present, 0);
    assert_int_equal(conf->cluster.members.nelts, 0);
    assert_int_equal(conf->cluster.election_timeout, 1000);

    nc_conf_free(conf);

    /* the other spellings of flags, levels and worker counts */

    conf = load_ok("daemon: on\nworker_processes: auto\n"
                   "log_level: alert\napi:\n  gzip: \"true\"\n");
    assert_int_equal(conf->daemon, 1);
    assert_true(conf->worker_processes >= 1);
    assert_int_equal(conf->worker_processes,
                     nc_max(1, nc_min(sysconf(_SC_NPROCESSORS_ONLN), 1024)));
    assert_int_equal(conf->log_level, NC_LOG_ALERT);
    assert_int_equal(conf->api.gzip, 1);
    nc_conf_free(conf);

    conf = load_ok("daemon: false\nworker_processes: 1024\n"
                   "worker_connections: 1048576\nlog_level: error\n"
                   "api: {gzip: false, keepalive_requests: 4294967296}\n");
    assert_int_equal(conf->daemon, 0);
    assert_int_equal(conf->worker_processes, 1024);
    assert_int_equal(conf->worker_connections, 1048576);
    assert_int_equal(conf->log_level, NC_LOG_ERR);
    assert_int_equal(conf->api.gzip, 0);
    assert_int_equal(conf->api.keepalive_requests, 4294967296ULL);
    nc_conf_free(conf);

    /* an empty api map and null api keep the defaults */

    conf = load_ok("api:\n");
    assert_int_equal(conf->api.listen.nelts, 1);
    assert_int_equal(conf->api.gzip_comp_level, 1);
    nc_conf_free(conf);
}


static void
test_listen(void **state)
{
    nc_conf_t        *conf;
    nc_conf_addr_t   *a;
    struct sockaddr_in6  *sin6;

    (void) state;

    conf = load_ok("api:\n"
                   "  listen:\n"
                   "    - 127.0.0.1:8848\n"
                   "    - \"[::1]:8848\"\n"
                   "    - 9000\n"
                   "    - '*:80'\n");

    assert_int_equal(conf->api.listen.nelts, 4);
    assert_str(&listen_addr(conf, 0)->text, "127.0.0.1:8848");
    assert_str(&listen_addr(conf, 1)->text, "[::1]:8848");
    assert_str(&listen_addr(conf, 2)->text, "127.0.0.1:9000");
    assert_str(&listen_addr(conf, 3)->text, "0.0.0.0:80");

    a = listen_addr(conf, 1);
    assert_int_equal(a->sockaddr.ss_family, AF_INET6);
    assert_int_equal(a->socklen, sizeof(struct sockaddr_in6));
    sin6 = (struct sockaddr_in6 *) &a->sockaddr;
    assert_int_equal(ntohs(sin6->sin6_port), 8848);
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

    nc_conf_free(conf);

    /* flow style, and the same port on two addresses is no duplicate */

    conf = load_ok("api: {listen: [\"127.0.0.1:1\", \"[::1]:1\", 2]}\n");
    assert_int_equal(conf->api.listen.nelts, 3);
    assert_str(&listen_addr(conf, 2)->text, "127.0.0.1:2");
    nc_conf_free(conf);

    conf = load_ok("api:\n  listen: localhost:8848\n");
    a = listen_addr(conf, 0);
    assert_true(a->text.len);
    assert_true(strcmp((char *) a->text.data, "127.0.0.1:8848") == 0
                || strcmp((char *) a->text.data, "[::1]:8848") == 0);
    nc_conf_free(conf);
}


static const test_error_case_t  test_errors[] = {

    /* unknown keys, at the key */
    { "foo: 1\n", NAME ":1:1: unknown key \"foo\"" },
    { "daemon: true\n  # c\nbar: 2\n", NAME ":3:1: unknown key \"bar\"" },
    { "api:\n  listen: 80\n  lisen: 81\n",
      NAME ":3:3: unknown key \"lisen\" in \"api\"" },
    { "api:\n  tls:\n    cert: x\n",
      NAME ":3:5: unknown key \"cert\" in \"api.tls\"" },
    { "Daemon: true\n", NAME ":1:1: unknown key \"Daemon\"" },
    { "\"a\\tb\\\"\": 1\n", NAME ":1:1: unknown key \"a\\x09b\\x22\"" },
    { "? [a]\n: 1\n", NAME ":1:3: a key must be a string" },

    /* duplicates */
    { "daemon: true\ndaemon: false\n", NAME ":2:1: duplicate key \"daemon\"" },
    { "api:\n  gzip: on\n  gzip: on\n",
      NAME ":3:3: duplicate key \"gzip\" in \"api\"" },
    { "api: {}\napi: {}\n", NAME ":2:1: duplicate key \"api\"" },

    /* wrong types, at the value */
    { "daemon: yes\n",
      NAME ":1:9: expected true, false, on or off for \"daemon\"" },
    { "daemon:\n",
      NAME ":1:1: expected true, false, on or off for \"daemon\"" },
    { "daemon: [true]\n",
      NAME ":1:9: expected true, false, on or off for \"daemon\"" },
    { "api: 1\n", NAME ":1:6: expected a map for \"api\"" },
    { "api: [a]\n", NAME ":1:6: expected a map for \"api\"" },
    { "api:\n  tls: on\n", NAME ":2:8: expected a map for \"api.tls\"" },
    { "- a\n- b\n", NAME ":1:1: expected a map of keys at the top" },
    { "just a string\n", NAME ":1:1: expected a map of keys at the top" },
    { "pid: {a: 1}\n", NAME ":1:6: expected a path for \"pid\"" },
    { "pid: \"\"\n", NAME ":1:6: expected a path for \"pid\"" },
    { "pid: \"a\\0b\"\n", NAME ":1:6: expected a path for \"pid\"" },
    { "access_log: ~\n",
      NAME ":1:13: expected a path or off for \"access_log\"" },
    { "log_level: verbose\n",
      NAME ":1:12: expected debug, info, notice, warn, error, crit, alert "
      "or emerg for \"log_level\"" },
    { "log_level: INFO\n",
      NAME ":1:12: expected debug, info, notice, warn, error, crit, alert "
      "or emerg for \"log_level\"" },

    /* numbers and bounds */
    { "worker_processes: 0\n",
      NAME ":1:19: expected \"auto\" or a number from 1 to 1024 for "
      "\"worker_processes\"" },
    { "worker_processes: 1025\n",
      NAME ":1:19: expected \"auto\" or a number from 1 to 1024 for "
      "\"worker_processes\"" },
    { "worker_processes: -1\n",
      NAME ":1:19: expected \"auto\" or a number from 1 to 1024 for "
      "\"worker_processes\"" },
    { "worker_connections: 15\n",
      NAME ":1:21: expected a number from 16 to 1048576 for "
      "\"worker_connections\"" },
    { "worker_connections: 1048577\n",
      NAME ":1:21: expected a number from 16 to 1048576 for "
      "\"worker_connections\"" },
    { "worker_connections: auto\n",
      NAME ":1:21: expected a number from 16 to 1048576 for "
      "\"worker_connections\"" },
    { "worker_connections: 4k\n",
      NAME ":1:21: expected a number from 16 to 1048576 for "
      "\"worker_connections\"" },
    { "worker_connections: 99999999999999999999999\n",
      NAME ":1:21: expected a number from 16 to 1048576 for "
      "\"worker_connections\"" },
    { "api:\n  keepalive_requests: 0\n",
      NAME ":2:23: expected a number of at least 1 for "
      "\"keepalive_requests\"" },
    { "api:\n  gzip_comp_level: 10\n",
      NAME ":2:20: expected a number from 1 to 9 for \"gzip_comp_level\"" },

    /* units */
    { "api:\n  client_max_body_size: 10mb\n",
      NAME ":2:25: expected a size like 512k or 10m for "
      "\"client_max_body_size\"" },
    { "api:\n  client_max_body_size: 9999999999999999999999k\n",
      NAME ":2:25: expected a size like 512k or 10m for "
      "\"client_max_body_size\"" },
    { "api:\n  client_max_body_size: 8589934592g\n",
      NAME ":2:25: expected a size like 512k or 10m for "
      "\"client_max_body_size\"" },
    { "api:\n  client_header_buffer_size: 1023\n",
      NAME ":2:30: expected a size from 1k to 1m for "
      "\"client_header_buffer_size\"" },
    { "api:\n  client_header_buffer_size: 2m\n",
      NAME ":2:30: expected a size from 1k to 1m for "
      "\"client_header_buffer_size\"" },
    { "worker_shutdown_timeout: 1.5s\n",
      NAME ":1:26: expected a duration like 500ms, 60s or 5m for "
      "\"worker_shutdown_timeout\"" },
    { "api:\n  send_timeout: 10 s\n",
      NAME ":2:17: expected a duration like 500ms, 60s or 5m for "
      "\"send_timeout\"" },
    { "api:\n  send_timeout: 106751991167301d\n",
      NAME ":2:17: expected a duration like 500ms, 60s or 5m for "
      "\"send_timeout\"" },

    /* listen */
    { "api:\n  listen: 127.0.0.1:0\n",
      NAME ":2:11: invalid address \"127.0.0.1:0\" for \"listen\"" },
    { "api:\n  listen: 70000\n",
      NAME ":2:11: invalid address \"70000\" for \"listen\"" },
    { "api:\n  listen: 256.1.1.1:80\n",
      NAME ":2:11: invalid address \"256.1.1.1:80\" for \"listen\"" },
    { "api:\n  listen: ::1:80\n",
      NAME ":2:11: invalid address \"::1:80\" for \"listen\"" },
    { "api:\n  listen:\n    - 80\n    - \"[::1]\"\n",
      NAME ":4:7: invalid address \"[::1]\" for \"listen\"" },
    { "api:\n  listen: []\n",
      NAME ":2:11: expected at least one address for \"listen\"" },
    { "api:\n  listen:\n",
      NAME ":2:3: expected an address or a list of addresses for "
      "\"listen\"" },
    { "api:\n  listen: {a: 1}\n",
      NAME ":2:11: expected an address or a list of addresses for "
      "\"listen\"" },
    { "api:\n  listen: [80, [81]]\n",
      NAME ":2:16: expected an address like 127.0.0.1:8848 for "
      "\"listen\"" },
    { "api:\n  listen: [80, \"127.0.0.1:80\"]\n",
      NAME ":2:16: duplicate address \"127.0.0.1:80\" for \"listen\"" },
    { "api:\n  listen: [\"*:80\", \"0.0.0.0:80\"]\n",
      NAME ":2:20: duplicate address \"0.0.0.0:80\" for \"listen\"" },

    /* tls */
    { "api:\n  tls: {}\n",
      NAME ":2:8: \"certificate\" is required in \"api.tls\"" },
    { "api:\n  tls:\n",
      NAME ":2:3: \"certificate\" is required in \"api.tls\"" },
    { "api:\n  tls:\n    certificate: /nonexistent/cert.pem\n",
      NAME ":3:18: cannot open \"/nonexistent/cert.pem\" for "
      "\"certificate\" (2: No such file or directory)" },
    { "api:\n  tls:\n    certificate: /\n",
      NAME ":3:18: \"/\" for \"certificate\" is not a regular file" },

    /* cluster */
    { "cluster:\n  peers: [a]\n",
      NAME ":2:3: unknown key \"peers\" in \"cluster\"" },
    { "cluster: []\n", NAME ":1:10: expected a map for \"cluster\"" },
    { "cluster:\n  election_timeout: 2s\n",
      NAME ":2:3: \"self\" is required in \"cluster\"" },
    { "cluster:\n  self: [127.0.0.1:7848]\n",
      NAME ":2:9: expected an address like 127.0.0.1:7848 for \"self\"" },
    { "cluster:\n  self: 127.0.0.1:70000\n",
      NAME ":2:9: invalid address \"127.0.0.1:70000\" for \"self\"" },
    { "cluster:\n  self: '*:7848'\n",
      NAME ":2:9: the wildcard address \"*:7848\" for \"self\": other "
      "members cannot connect to it" },
    { "cluster:\n  self: 0.0.0.0:7848\n",
      NAME ":2:9: the wildcard address \"0.0.0.0:7848\" for \"self\": "
      "other members cannot connect to it" },
    { "cluster:\n  self: \"[::]:7848\"\n",
      NAME ":2:9: the wildcard address \"[::]:7848\" for \"self\": "
      "other members cannot connect to it" },
    { "cluster:\n  self: 7848\n",
      NAME ":2:9: expected host:port for \"self\", not the bare port "
      "\"7848\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n"
      "  members: [127.0.0.1:7848, '*:7849']\n",
      NAME ":3:29: the wildcard address \"*:7849\" for \"members\": "
      "other members cannot connect to it" },
    { "cluster:\n  self: 127.0.0.1:7848\n  members: [7848]\n",
      NAME ":3:13: expected host:port for \"members\", not the bare port "
      "\"7848\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n"
      "  members: [127.0.0.1:7849, 127.0.0.1:7850]\n",
      NAME ":3:12: \"members\" must include \"self\" (127.0.0.1:7848)" },
    { "cluster:\n  self: 127.0.0.1:7848\n  members:\n"
      "    - 127.0.0.1:7849\n    - 127.0.0.1:7850\n",
      NAME ":4:5: \"members\" must include \"self\" (127.0.0.1:7848)" },
    { "cluster:\n  self: 127.0.0.1:7848\n  members:\n"
      "    - 127.0.0.1:7848\n    - 127.0.0.1:7849\n    - 127.0.0.1:7848\n",
      NAME ":6:7: duplicate address \"127.0.0.1:7848\" for \"members\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n  members: []\n",
      NAME ":3:12: expected at least one address for \"members\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n"
      "  members: [127.0.0.1:7848, 127.0.0.1:7849]\n",
      NAME ":2:3: \"secret_file\" is required in \"cluster\" when "
      "\"members\" names other nodes" },
    { "cluster:\n  self: 127.0.0.1:7848\n"
      "  secret_file: /nonexistent/cluster.key\n",
      NAME ":3:16: cannot open \"/nonexistent/cluster.key\" for "
      "\"secret_file\" (2: No such file or directory)" },
    { "cluster:\n  self: 127.0.0.1:7848\n  secret_file: /\n",
      NAME ":3:16: \"/\" for \"secret_file\" is not a regular file" },
    { "cluster:\n  self: 127.0.0.1:7848\n  election_timeout: 250ms\n",
      NAME ":3:21: \"election_timeout\" (250ms) must be at least 3 times "
      "\"heartbeat_interval\" (100ms)" },
    { "cluster:\n  self: 127.0.0.1:7848\n  heartbeat_interval: 500ms\n",
      NAME ":3:23: \"election_timeout\" (1s) must be at least 3 times "
      "\"heartbeat_interval\" (500ms)" },
    { "cluster:\n  self: 127.0.0.1:7848\n  heartbeat_interval: 9ms\n",
      NAME ":3:23: expected a duration of at least 10ms for "
      "\"heartbeat_interval\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n  election_timeout: 61s\n",
      NAME ":3:21: expected a duration from 0s to 60s for "
      "\"election_timeout\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n  snapshot_entries: 99\n",
      NAME ":3:21: expected a number from 100 to 100000000 for "
      "\"snapshot_entries\"" },
    { "cluster:\n  self: 127.0.0.1:7848\n  snapshot_entries: 100000001\n",
      NAME ":3:21: expected a number from 100 to 100000000 for "
      "\"snapshot_entries\"" },

    /* reserved sections */
    { "config: {x: 1}\n", NAME ":1:10: unknown key \"x\" in \"config\"" },
    { "auth: 1\n", NAME ":1:7: expected a map for \"auth\"" },
    { "auth:\n  token_ttl: 500ms\n",
      NAME ":2:14: expected a duration from 1s to 30d for \"token_ttl\"" },
    { "auth:\n  enabled: maybe\n",
      NAME ":2:12: expected true, false, on or off for \"enabled\"" },
    { "auth:\n  user: x\n", NAME ":2:3: unknown key \"user\" in \"auth\"" },
    { "gateway: []\n", NAME ":1:10: expected a map for \"gateway\"" },
    { "gateway:\n  listen: []\n",
      NAME ":2:11: expected at least one address for \"listen\"" },
    { "gateway:\n  routes: [a]\n",
      NAME ":2:11: expected a map of route ids to routes for \"routes\"" },
    { "gateway:\n  routes:\n    a/b: {path: /}\n",
      NAME ":3:5: gateway.routes: \"a/b\" is not a route id "
      "(1..128 of A-Z a-z 0-9 . _ -)" },
    { "gateway:\n  routes:\n    a: /x\n",
      NAME ":3:8: gateway.routes: expected a map for route \"a\"" },
    { "gateway:\n  routes:\n    a:\n      path: \"^(\"\n      path_type: regex\n"
      "      upstream: {nodes: [{address: \"127.0.0.1:1\"}]}\n",
      NAME ":4:7: gateway.routes: route \"a\": \"path\": missing closing "
      "parenthesis at offset 2 of \"^(\"" },
    { "gateway:\n  routes:\n    a:\n      path: /\n      retries: \"2\"\n"
      "      upstream: {nodes: [{address: \"127.0.0.1:1\"}]}\n",
      NAME ":4:7: gateway.routes: route \"a\": \"retries\" is an integer "
      "of 0..10" },
    { "gateway:\n  tls:\n    listen: 9443\n",
      NAME ":3:5: \"certificates\" is required in \"gateway.tls\"" },
    { "gateway:\n  tls:\n    listen: 9443\n    certificates: [x]\n",
      NAME ":4:20: expected {certificate, certificate_key} in "
      "\"certificates\"" },
    { "gateway:\n  tls:\n    listen: 9443\n    certificates:\n"
      "      - certificate: /etc/passwd\n",
      NAME ":5:9: \"certificate_key\" is required in "
      "\"gateway.tls.certificates\"" },
    { "api:\n  listen: 9080\n", NAME ": 127.0.0.1:9080 is in both "
      "api.listen and gateway.listen" },
    { "naming: []\n", NAME ":1:9: expected a map for \"naming\"" },
    { "naming:\n  unhealthy_after: 50ms\n",
      NAME ":2:20: expected a duration from 100ms to 1d for "
      "\"unhealthy_after\"" },
    { "naming:\n  unhealthy_after: 10s\n  remove_after: 5s\n",
      NAME ":2:3: naming: expected beat_interval <= unhealthy_after <= "
      "remove_after" },

    /* store */
    { "store: []\n", NAME ":1:8: expected a map for \"store\"" },
    { "store:\n  shm_size: 1m\n",
      NAME ":2:13: expected a size from 16m to 1024g for \"shm_size\"" },
    { "store:\n  shm_size: lots\n",
      NAME ":2:13: expected a size like 512k or 10m for \"shm_size\"" },
    { "store:\n  shm_sz: 1g\n",
      NAME ":2:3: unknown key \"shm_sz\" in \"store\"" },

    /* YAML itself */
    { "api: [1\ndaemon: true\n",
      NAME ":3:1: flow sequence without a closing bracket" },
    { "daemon: true\n\tgzip: on\n", NULL },
    { "a: b: c\n", NAME ":1:5: invalid nested block mapping on the same line" },
    { "daemon: true\n---\ndaemon: false\n",
      NAME ":2:1: only one YAML document is allowed" },
    { "pid: &p /x\nerror_log: *p\n",
      NAME ":2:12: YAML aliases are not supported" },
    { "unknown: 1\napi: [\n", NULL },

    /* first error wins */
    { "foo: 1\nbar: 2\n", NAME ":1:1: unknown key \"foo\"" },
    { "daemon: 2\napi: {listen: 0}\n",
      NAME ":1:9: expected true, false, on or off for \"daemon\"" }
};


static void
test_error_cases(void **state)
{
    nc_uint_t   i;
    nc_conf_t  *conf;
    char        err[NC_CONF_ERRSTR_SIZE];

    (void) state;

    for (i = 0; i < nc_nelems(test_errors); i++) {
        memset(err, 'x', sizeof(err));

        conf = load(test_errors[i].yaml, err);

        if (conf != NULL) {
            nc_conf_free(conf);
            fail_msg("case %lu loaded:\n%s", (unsigned long) i,
                     test_errors[i].yaml);
        }

        if (test_errors[i].err == NULL) {
            /* libfyaml's wording may change: the position must be there */
            assert_true(strncmp(err, NAME ":", sizeof(NAME)) == 0);
            assert_true(isdigit((u_char) err[sizeof(NAME)]));
            continue;
        }

        if (strcmp(err, test_errors[i].err) != 0) {
            fail_msg("case %lu:\n%s\nexpected: %s\n     got: %s",
                     (unsigned long) i, test_errors[i].yaml,
                     test_errors[i].err, err);
        }
    }
}


static char *
dump_section(nc_conf_t *conf, const char *from, const char *to)
{
    size_t   len;
    FILE    *out;
    char    *dump, *p, *q, *section;

    out = open_memstream(&dump, &len);
    assert_non_null(out);
    nc_conf_dump(conf, out);
    assert_int_equal(fclose(out), 0);

    p = strstr(dump, from);
    assert_non_null(p);
    q = strstr(p, to);
    assert_non_null(q);

    section = strndup(p, q - p);
    assert_non_null(section);
    free(dump);

    return section;
}


static void
test_cluster(void **state)
{
    char                *dump, yaml[2048], path[256], expected[2048];
    char                 err[NC_CONF_ERRSTR_SIZE];
    nc_conf_t           *conf;
    struct sockaddr_in  *sin;

    (void) state;

    /* every key */

    snprintf(yaml, sizeof(yaml),
             "cluster:\n"
             "  self: 127.0.0.1:7848\n"
             "  members: [127.0.0.1:7848, \"[::1]:7849\", 127.0.0.1:7850]\n"
             "  secret_file: %s/cluster.key\n"
             "  election_timeout: 2s\n"
             "  heartbeat_interval: 200ms\n"
             "  snapshot_entries: 5000\n",
             test_dir);

    conf = load_ok(yaml);

    assert_int_equal(conf->cluster.present, 1);
    assert_str(&conf->cluster.self.text, "127.0.0.1:7848");
    assert_int_equal(conf->cluster.self.socklen, sizeof(struct sockaddr_in));
    sin = (struct sockaddr_in *) &conf->cluster.self.sockaddr;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 7848);
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));

    assert_int_equal(conf->cluster.members.nelts, 3);
    assert_str(&member(conf, 0)->text, "127.0.0.1:7848");
    assert_str(&member(conf, 1)->text, "[::1]:7849");
    assert_int_equal(member(conf, 1)->sockaddr.ss_family, AF_INET6);
    assert_str(&member(conf, 2)->text, "127.0.0.1:7850");

    snprintf(path, sizeof(path), "%s/cluster.key", test_dir);
    assert_str(&conf->cluster.secret_file, path);
    assert_int_equal(conf->cluster.election_timeout, 2000);
    assert_int_equal(conf->cluster.heartbeat_interval, 200);
    assert_int_equal(conf->cluster.snapshot_entries, 5000);

    dump = dump_section(conf, "cluster:", "auth:");
    snprintf(expected, sizeof(expected),
             "cluster:\n"
             "    self: 127.0.0.1:7848\n"
             "    members:\n"
             "        - 127.0.0.1:7848\n"
             "        - \"[::1]:7849\"\n"
             "        - 127.0.0.1:7850\n"
             "    secret_file: %s/cluster.key\n"
             "    election_timeout: 2s\n"
             "    heartbeat_interval: 200ms\n"
             "    snapshot_entries: 5000\n"
             "    wal_segment_size: 64m\n",
             test_dir);
    assert_string_equal(dump, expected);
    free(dump);
    nc_conf_free(conf);

    /* only self: standalone, the defaults, no secret needed */

    conf = load_ok("cluster:\n  self: \"[::1]:7848\"\n");
    assert_int_equal(conf->cluster.present, 1);
    assert_str(&conf->cluster.self.text, "[::1]:7848");
    assert_int_equal(conf->cluster.members.nelts, 0);
    assert_null(conf->cluster.members.elts);
    assert_null(conf->cluster.secret_file.data);
    assert_int_equal(conf->cluster.election_timeout, 1000);
    assert_int_equal(conf->cluster.heartbeat_interval, 100);
    assert_int_equal(conf->cluster.snapshot_entries, 100000);

    dump = dump_section(conf, "cluster:", "auth:");
    assert_string_equal(dump,
        "cluster:\n"
        "    self: \"[::1]:7848\"\n"
        "    # members: not configured\n"
        "    # secret_file: not configured\n"
        "    election_timeout: 1s\n"
        "    heartbeat_interval: 100ms\n"
        "    snapshot_entries: 100000\n"
        "    wal_segment_size: 64m\n");
    free(dump);
    nc_conf_free(conf);

    /* members naming only self, as a scalar or a list: standalone too */

    conf = load_ok("cluster:\n  self: 127.0.0.1:7848\n"
                   "  members: 127.0.0.1:7848\n");
    assert_int_equal(conf->cluster.members.nelts, 1);
    assert_str(&member(conf, 0)->text, "127.0.0.1:7848");
    nc_conf_free(conf);

    conf = load_ok("cluster:\n  self: 127.0.0.1:7848\n"
                   "  members: [127.0.0.1:7848]\n"
                   "  election_timeout: 60s\n"
                   "  heartbeat_interval: 10ms\n"
                   "  snapshot_entries: 100000000\n");
    assert_int_equal(conf->cluster.members.nelts, 1);
    assert_null(conf->cluster.secret_file.data);
    assert_int_equal(conf->cluster.election_timeout, 60000);
    assert_int_equal(conf->cluster.heartbeat_interval, 10);
    assert_int_equal(conf->cluster.snapshot_entries, 100000000);
    nc_conf_free(conf);

    /* exactly 3 heartbeats, and the smallest snapshot interval */

    conf = load_ok("cluster:\n  self: 127.0.0.1:7848\n"
                   "  election_timeout: 300ms\n"
                   "  snapshot_entries: 100\n");
    assert_int_equal(conf->cluster.election_timeout, 300);
    assert_int_equal(conf->cluster.snapshot_entries, 100);
    nc_conf_free(conf);

    /* an empty section, or a null one, is no cluster */

    conf = load_ok("cluster:\n");
    assert_int_equal(conf->cluster.present, 0);
    dump = dump_section(conf, "api:", "auth:");
    assert_non_null(strstr(dump, "\n# cluster: not configured\n"));
    free(dump);
    nc_conf_free(conf);

    /* a relative secret_file resolves against the prefix */

    snprintf(yaml, sizeof(yaml),
             "cluster:\n  self: 127.0.0.1:7848\n"
             "  members: [127.0.0.1:7849, 127.0.0.1:7848]\n"
             "  secret_file: 16.key\n");

    conf = nc_conf_load_string(test_dir, NAME, yaml, strlen(yaml), err);
    if (conf == NULL) {
        fail_msg("%s", err);
    }

    snprintf(path, sizeof(path), "%s/16.key", test_dir);
    assert_str(&conf->cluster.secret_file, path);
    assert_int_equal(conf->cluster.members.nelts, 2);
    nc_conf_free(conf);

    /* a secret shorter than 16 bytes once its newlines are off */

    snprintf(yaml, sizeof(yaml),
             "cluster:\n  self: 127.0.0.1:7848\n"
             "  members: [127.0.0.1:7848, 127.0.0.1:7849]\n"
             "  secret_file: %s/15.key\n", test_dir);
    assert_null(load(yaml, err));
    snprintf(expected, sizeof(expected),
             NAME ":4:16: the secret in \"%s/15.key\" for \"secret_file\" "
             "is 15 bytes long without its newline, 16 to 4096 are needed",
             test_dir);
    assert_string_equal(err, expected);

    /* checked even standalone: members may join later */

    snprintf(yaml, sizeof(yaml),
             "cluster:\n  self: 127.0.0.1:7848\n"
             "  secret_file: %s/15.key\n", test_dir);
    assert_null(load(yaml, err));
    assert_non_null(strstr(err, "is 15 bytes long"));

    snprintf(yaml, sizeof(yaml),
             "cluster:\n  self: 127.0.0.1:7848\n"
             "  secret_file: %s/sub\n", test_dir);
    assert_null(load(yaml, err));
    assert_non_null(strstr(err, "is not a regular file"));
}


static void
test_hostile_yaml(void **state)
{
    size_t      i, n;
    nc_conf_t  *conf;
    char        err[NC_CONF_ERRSTR_SIZE], *yaml, *key;

    (void) state;

    /* a NUL byte in the middle of the input */

    conf = nc_conf_load_string(PREFIX, NAME, "daemon: true\nfoo\0: 1\n", 21,
                               err);
    assert_null(conf);
    assert_string_equal(err, NAME ":2:4: NUL byte in the configuration");

    /* nesting far deeper than any real configuration */

    n = 10000;
    yaml = malloc(2 * n + sizeof("cluster: "));
    assert_non_null(yaml);

    strcpy(yaml, "cluster: ");
    memset(yaml + 9, '[', n);
    memset(yaml + 9 + n, ']', n);
    yaml[9 + 2 * n] = '\0';

    conf = load(yaml, err);
    assert_null(conf);
    assert_true(strncmp(err, NAME ":1:", sizeof(NAME) + 2) == 0);
    free(yaml);

    /* a huge key is cut in the message, which stays in its buffer */

    n = 100000;
    key = malloc(n + sizeof(": 1\n"));
    assert_non_null(key);
    memset(key, 'k', n);
    strcpy(key + n, ": 1\n");

    conf = load(key, err);
    assert_null(conf);
    assert_true(strlen(err) < 200);
    assert_non_null(strstr(err, "kkk...\""));
    free(key);

    /* no NUL terminator is needed after len */

    conf = nc_conf_load_string(PREFIX, NAME, "daemon: truex", 12, err);
    assert_non_null(conf);
    assert_int_equal(conf->daemon, 1);
    nc_conf_free(conf);

    /* garbage bytes */

    yaml = malloc(4096);
    assert_non_null(yaml);
    srandom(7);

    for (i = 0; i < 200; i++) {
        for (n = 0; n < 4096; n++) {
            yaml[n] = (char) (random() & 0xff);
        }

        conf = nc_conf_load_string(PREFIX, NAME, yaml,
                                   (size_t) (random() % 4096), err);
        if (conf) {
            nc_conf_free(conf);

        } else {
            assert_true(strncmp(err, NAME ":", sizeof(NAME)) == 0);
        }
    }

    free(yaml);
}


static const test_unit_case_t  test_sizes[] = {
    { "0", 0 },
    { "1", 1 },
    { "512", 512 },
    { "512k", 512 * 1024 },
    { "512K", 512 * 1024 },
    { "10m", 10 * 1024 * 1024 },
    { "10M", 10 * 1024 * 1024 },
    { "1g", 1024 * 1024 * 1024 },
    { "2G", 2LL * 1024 * 1024 * 1024 },
    { "007", 7 },
    { "9223372036854775807", INT64_MAX },
    { "9007199254740991k", 9007199254740991LL * 1024 },
    { "9007199254740992k", NC_ERROR },
    { "9223372036854775808", NC_ERROR },
    { "99999999999999999999999999", NC_ERROR },
    { "8589934592g", NC_ERROR },
    { "", NC_ERROR },
    { "k", NC_ERROR },
    { "m", NC_ERROR },
    { "-1", NC_ERROR },
    { "+1", NC_ERROR },
    { " 1", NC_ERROR },
    { "1 ", NC_ERROR },
    { "1 k", NC_ERROR },
    { "1kk", NC_ERROR },
    { "1kb", NC_ERROR },
    { "1t", NC_ERROR },
    { "1.5m", NC_ERROR },
    { "0x10", NC_ERROR },
    { "1e3", NC_ERROR },
    { "1_000", NC_ERROR },
    { "\xff", NC_ERROR }
};


static void
test_parse_size(void **state)
{
    ssize_t    n;
    nc_str_t   s;
    nc_uint_t  i;

    (void) state;

    for (i = 0; i < nc_nelems(test_sizes); i++) {
        s.data = (u_char *) test_sizes[i].text;
        s.len = strlen(test_sizes[i].text);

        n = nc_parse_size(&s);

        if ((int64_t) n != test_sizes[i].value) {
            fail_msg("nc_parse_size(\"%s\") = %zd, expected %jd",
                     test_sizes[i].text, n, (intmax_t) test_sizes[i].value);
        }
    }

    /* only len bytes count */

    s.data = (u_char *) "12k34";
    s.len = 3;
    assert_int_equal(nc_parse_size(&s), 12 * 1024);
}


static const test_unit_case_t  test_durations[] = {
    { "0", 0 },
    { "0ms", 0 },
    { "0s", 0 },
    { "1", 1000 },
    { "30", 30000 },
    { "500ms", 500 },
    { "1ms", 1 },
    { "30s", 30000 },
    { "5m", 300000 },
    { "1h", 3600000 },
    { "2d", 172800000 },
    { "9223372036854775807ms", INT64_MAX },
    { "9223372036854775s", 9223372036854775000LL },
    { "9223372036854776s", NC_ERROR },
    { "106751991167d", 106751991167LL * 86400000 },
    { "106751991168d", NC_ERROR },
    { "9223372036854775808ms", NC_ERROR },
    { "", NC_ERROR },
    { "ms", NC_ERROR },
    { "s", NC_ERROR },
    { "1.5s", NC_ERROR },
    { "-1s", NC_ERROR },
    { "+1s", NC_ERROR },
    { "1 s", NC_ERROR },
    { " 1s", NC_ERROR },
    { "1S", NC_ERROR },
    { "1M", NC_ERROR },
    { "1w", NC_ERROR },
    { "1y", NC_ERROR },
    { "1us", NC_ERROR },
    { "1mss", NC_ERROR },
    { "1h30m", NC_ERROR },
    { "1sm", NC_ERROR }
};


static void
test_parse_msec(void **state)
{
    nc_str_t       s;
    nc_uint_t      i;
    nc_msec_int_t  n;

    (void) state;

    for (i = 0; i < nc_nelems(test_durations); i++) {
        s.data = (u_char *) test_durations[i].text;
        s.len = strlen(test_durations[i].text);

        n = nc_parse_msec(&s);

        if (n != test_durations[i].value) {
            fail_msg("nc_parse_msec(\"%s\") = %jd, expected %jd",
                     test_durations[i].text, (intmax_t) n,
                     (intmax_t) test_durations[i].value);
        }
    }
}


static const test_addr_case_t  test_addrs[] = {
    { "127.0.0.1:8848", "127.0.0.1:8848" },
    { "8848", "127.0.0.1:8848" },
    { "1", "127.0.0.1:1" },
    { "65535", "127.0.0.1:65535" },
    { "08848", "127.0.0.1:8848" },
    { "*:8848", "0.0.0.0:8848" },
    { "0.0.0.0:80", "0.0.0.0:80" },
    { "10.1.2.3:443", "10.1.2.3:443" },
    { "[::1]:8848", "[::1]:8848" },
    { "[::]:80", "[::]:80" },
    { "[0:0:0:0:0:0:0:1]:80", "[::1]:80" },
    { "[2001:DB8::1]:80", "[2001:db8::1]:80" },
    { "[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.1]:80" },
    { "127.0.0.1:0", NULL },
    { "127.0.0.1:65536", NULL },
    { "127.0.0.1:70000", NULL },
    { "127.0.0.1:008848", NULL },
    { "127.0.0.1:-1", NULL },
    { "127.0.0.1:+80", NULL },
    { "127.0.0.1:", NULL },
    { "127.0.0.1", NULL },
    { "0", NULL },
    { "70000", NULL },
    { "", NULL },
    { ":", NULL },
    { ":80", NULL },
    { "*", NULL },
    { "*:", NULL },
    { "**:80", NULL },
    { "256.0.0.1:80", NULL },
    { "1.2.3.4.5:80", NULL },
    { "127.1:80", NULL },
    { "0x7f.0.0.1:80", NULL },
    { "0x7f000001:80", NULL },
    { "2130706433:80", NULL },
    { "017.0.0.1:80", NULL },
    { "0177.0.0.1:80", NULL },
    { "1.2.3:80", NULL },
    { "::1:80", NULL },
    { "::1", NULL },
    { "[::1]", NULL },
    { "[::1]80", NULL },
    { "[::1]:", NULL },
    { "[]:80", NULL },
    { "[:80", NULL },
    { "[127.0.0.1]:80", NULL },
    { "[::1]:80x", NULL },
    { "[::g]:80", NULL },
    { "127.0.0.1 :80", NULL },
    { " 127.0.0.1:80", NULL },
    { "127.0.0.1:80 ", NULL },
    { "local host:80", NULL },
    { "host\n:80", NULL },
    { "a/b:80", NULL },
    { "http://127.0.0.1:80", NULL },
    { "127.0.0.1:8848:1", NULL }
};


static void
test_parse_addr(void **state)
{
    size_t           len;
    nc_int_t         rc;
    nc_str_t         s;
    nc_uint_t        i;
    nc_conf_addr_t   addr;
    u_char           text[NC_CONF_ADDR_STRLEN];
    char             huge[1024];

    (void) state;

    for (i = 0; i < nc_nelems(test_addrs); i++) {
        s.data = (u_char *) test_addrs[i].text;
        s.len = strlen(test_addrs[i].text);

        rc = nc_parse_addr(&s, &addr);

        if (test_addrs[i].canonical == NULL) {
            if (rc != NC_ERROR) {
                fail_msg("nc_parse_addr(\"%s\") accepted",
                         test_addrs[i].text);
            }

            continue;
        }

        if (rc != NC_OK) {
            fail_msg("nc_parse_addr(\"%s\") refused", test_addrs[i].text);
        }

        /* the parser has no pool: the text comes from nc_conf_addr_text() */
        assert_int_equal(addr.text.len, 0);

        len = nc_conf_addr_text(&addr, text, sizeof(text));
        assert_int_equal(len, strlen(test_addrs[i].canonical));
        assert_string_equal((char *) text, test_addrs[i].canonical);
    }

    /* localhost resolves through /etc/hosts: the first answer wins */

    s.data = (u_char *) "localhost:8848";
    s.len = sizeof("localhost:8848") - 1;
    assert_int_equal(nc_parse_addr(&s, &addr), NC_OK);
    assert_true(nc_conf_addr_text(&addr, text, sizeof(text)) > 0);
    assert_true(strcmp((char *) text, "127.0.0.1:8848") == 0
                || strcmp((char *) text, "[::1]:8848") == 0);

    /* a buffer too small is refused, not overrun */

    s.data = (u_char *) "[::1]:8848";
    s.len = sizeof("[::1]:8848") - 1;
    assert_int_equal(nc_parse_addr(&s, &addr), NC_OK);
    memset(text, 'x', sizeof(text));
    assert_int_equal(nc_conf_addr_text(&addr, text, 10), 0);
    assert_int_equal(text[10], 'x');
    assert_int_equal(nc_conf_addr_text(&addr, text, 11), 10);

    /* only len bytes count */

    s.data = (u_char *) "127.0.0.1:80xyz";
    s.len = sizeof("127.0.0.1:80") - 1;
    assert_int_equal(nc_parse_addr(&s, &addr), NC_OK);

    /* a name too long for DNS is refused before any lookup */

    memset(huge, 'a', sizeof(huge));
    memcpy(huge + sizeof(huge) - 3, ":80", 3);
    s.data = (u_char *) huge;
    s.len = sizeof(huge);
    assert_int_equal(nc_parse_addr(&s, &addr), NC_ERROR);
}


static void
test_round_trip(void **state)
{
    size_t      len;
    FILE       *out;
    char       *dump, *dump2, yaml[2048], yaml2[2048];
    char        err[NC_CONF_ERRSTR_SIZE];
    nc_uint_t   i;
    nc_conf_t  *a, *b;

    static const char  *confs[] = {
        "",

        "daemon: on\n"
        "worker_processes: 7\n"
        "worker_connections: 100\n"
        "worker_shutdown_timeout: 1500ms\n"
        "pid: \"odd path/with \\\"quotes\\\" and: colon #hash\"\n"
        "error_log: /var/log/e.log\n"
        "log_level: crit\n"
        "access_log: off\n"
        "data_dir: d\n"
        "api:\n"
        "  listen: [\"[::1]:1\", 2, \"*:3\", \"[fe80::1%lo]:4\"]\n"
        "  client_max_body_size: 1025\n"
        "  client_header_buffer_size: 3k\n"
        "  client_header_timeout: 0\n"
        "  client_body_timeout: 90m\n"
        "  send_timeout: 3d\n"
        "  keepalive_timeout: 61s\n"
        "  keepalive_requests: 5\n"
        "  gzip: off\n"
        "  gzip_min_length: 5g\n"
        "  gzip_comp_level: 6\n"
        "  root: \"/tab\\there\"\n",

        NULL,

        NULL,

        "cluster:\n"
        "  self: 127.0.0.1:7848\n"
        "  heartbeat_interval: 1500ms\n"
        "  election_timeout: 5s\n"
    };

    (void) state;

    snprintf(yaml, sizeof(yaml),
             "api:\n  tls:\n    certificate: %s/cert.pem\n"
             "    certificate_key: %s/key.pem\n", test_dir, test_dir);
    confs[2] = yaml;

    snprintf(yaml2, sizeof(yaml2),
             "cluster:\n  self: \"[::1]:7848\"\n"
             "  members: [\"[::1]:7849\", \"[::1]:7848\", 127.0.0.1:7850]\n"
             "  secret_file: %s/cluster.key\n"
             "  election_timeout: 1500ms\n  snapshot_entries: 123\n",
             test_dir);
    confs[3] = yaml2;

    for (i = 0; i < nc_nelems(confs); i++) {
        a = load_ok(confs[i]);

        out = open_memstream(&dump, &len);
        assert_non_null(out);
        nc_conf_dump(a, out);
        assert_int_equal(fclose(out), 0);

        /* absolute paths: another prefix must not change anything */

        b = nc_conf_load_string("/elsewhere", "dump", dump, len, err);
        if (b == NULL) {
            fail_msg("dump does not load: %s\n%s", err, dump);
        }

        assert_int_equal(a->daemon, b->daemon);
        assert_int_equal(a->worker_processes, b->worker_processes);
        assert_int_equal(a->worker_connections, b->worker_connections);
        assert_int_equal(a->worker_shutdown_timeout,
                         b->worker_shutdown_timeout);
        assert_str(&b->pid, (char *) a->pid.data);
        assert_str(&b->error_log, (char *) a->error_log.data);
        assert_int_equal(a->log_level, b->log_level);
        assert_str(&b->access_log, (char *) a->access_log.data);
        assert_str(&b->data_dir, (char *) a->data_dir.data);

        assert_int_equal(a->api.listen.nelts, b->api.listen.nelts);

        for (len = 0; len < a->api.listen.nelts; len++) {
            assert_str(&listen_addr(b, len)->text,
                       (char *) listen_addr(a, len)->text.data);
            assert_int_equal(listen_addr(a, len)->socklen,
                             listen_addr(b, len)->socklen);
            assert_memory_equal(&listen_addr(a, len)->sockaddr,
                                &listen_addr(b, len)->sockaddr,
                                listen_addr(a, len)->socklen);
        }

        assert_int_equal(a->api.tls.certificate.len,
                         b->api.tls.certificate.len);
        assert_int_equal(a->api.tls.certificate_key.len,
                         b->api.tls.certificate_key.len);

        if (a->api.tls.certificate.len) {
            assert_str(&b->api.tls.certificate,
                       (char *) a->api.tls.certificate.data);
            assert_str(&b->api.tls.certificate_key,
                       (char *) a->api.tls.certificate_key.data);
        }

        assert_int_equal(a->api.client_max_body_size,
                         b->api.client_max_body_size);
        assert_int_equal(a->api.client_header_buffer_size,
                         b->api.client_header_buffer_size);
        assert_int_equal(a->api.client_header_timeout,
                         b->api.client_header_timeout);
        assert_int_equal(a->api.client_body_timeout,
                         b->api.client_body_timeout);
        assert_int_equal(a->api.send_timeout, b->api.send_timeout);
        assert_int_equal(a->api.keepalive_timeout, b->api.keepalive_timeout);
        assert_int_equal(a->api.keepalive_requests,
                         b->api.keepalive_requests);
        assert_int_equal(a->api.gzip, b->api.gzip);
        assert_int_equal(a->api.gzip_min_length, b->api.gzip_min_length);
        assert_int_equal(a->api.gzip_comp_level, b->api.gzip_comp_level);
        assert_str(&b->api.root, (char *) a->api.root.data);

        assert_int_equal(a->cluster.present, b->cluster.present);
        assert_int_equal(a->cluster.self.text.len, b->cluster.self.text.len);
        assert_int_equal(a->cluster.members.nelts, b->cluster.members.nelts);
        assert_int_equal(a->cluster.election_timeout,
                         b->cluster.election_timeout);
        assert_int_equal(a->cluster.heartbeat_interval,
                         b->cluster.heartbeat_interval);
        assert_int_equal(a->cluster.snapshot_entries,
                         b->cluster.snapshot_entries);

        /* and the dump of the reloaded conf is the same text */

        out = open_memstream(&dump2, &len);
        assert_non_null(out);
        nc_conf_dump(b, out);
        assert_int_equal(fclose(out), 0);
        assert_string_equal(dump, dump2);

        free(dump);
        free(dump2);
        nc_conf_free(a);
        nc_conf_free(b);
    }
}


/* gateway.routes: YAML kept as the canonical JSON the routes API takes;
 * unquoted true, false, null and numbers keep their type */
static void
test_gateway_routes(void **state)
{
    nc_conf_t        *conf;
    nc_conf_route_t  *rt;

    (void) state;

    conf = load_ok("gateway:\n"
                   "  routes:\n"
                   "    web:\n"
                   "      path: /web/\n"
                   "      strip_prefix: true\n"
                   "      retries: 2\n"
                   "      request_headers: {set: {X-A: \"007\", X-B: 007}}\n"
                   "      upstream:\n"
                   "        nodes: [{address: \"127.0.0.1:80\", weight: 3}]\n"
                   "      rate_limit: {rate: 0.5, burst: 1}\n"
                   "    api.v2: {path: /v2/, upstream: {service: {name: a}}}\n");

    assert_int_equal(conf->gateway.routes.nelts, 2);
    rt = conf->gateway.routes.elts;

    assert_str(&rt[0].id, "web");
    assert_str(&rt[0].json, "{\"path\":\"/web/\",\"strip_prefix\":true,"
               "\"retries\":2,\"request_headers\":{\"set\":{\"X-A\":\"007\","
               "\"X-B\":\"007\"}},\"upstream\":{\"nodes\":[{\"address\":"
               "\"127.0.0.1:80\",\"weight\":3}]},\"rate_limit\":{\"rate\":0.5,"
               "\"burst\":1},\"id\":\"web\"}");
    assert_str(&rt[1].id, "api.v2");

    nc_conf_free(conf);

    conf = load_ok("gateway:\n  routes: {}\n");
    assert_int_equal(conf->gateway.routes.nelts, 0);
    nc_conf_free(conf);
}


static void
test_dump_format(void **state)
{
    size_t      len;
    FILE       *out;
    char       *dump;
    nc_conf_t  *conf;

    (void) state;

    conf = load_ok("worker_processes: 2\n"
                   "api:\n  listen: [8848, \"[::1]:8848\"]\n");

    out = open_memstream(&dump, &len);
    assert_non_null(out);
    nc_conf_dump(conf, out);
    assert_int_equal(fclose(out), 0);

    assert_string_equal(dump,
        "daemon: false\n"
        "worker_processes: 2\n"
        "worker_connections: 4096\n"
        "worker_shutdown_timeout: 10s\n"
        "pid: " PREFIX "/logs/nacre.pid\n"
        "error_log: " PREFIX "/logs/error.log\n"
        "log_level: info\n"
        "access_log: " PREFIX "/logs/access.log\n"
        "data_dir: " PREFIX "/data\n"
        "api:\n"
        "    listen:\n"
        "        - 127.0.0.1:8848\n"
        "        - \"[::1]:8848\"\n"
        "    # tls: not configured\n"
        "    client_max_body_size: 10m\n"
        "    client_header_buffer_size: 16k\n"
        "    client_header_timeout: 60s\n"
        "    client_body_timeout: 60s\n"
        "    send_timeout: 60s\n"
        "    keepalive_timeout: 75s\n"
        "    keepalive_requests: 1000\n"
        "    gzip: true\n"
        "    gzip_min_length: 1k\n"
        "    gzip_comp_level: 1\n"
        "    root: " PREFIX "/html\n"
        "# cluster: not configured\n"
        "auth:\n"
        "    enabled: true\n"
        "    # admin_password_file: not configured\n"
        "    token_ttl: 5h\n"
        "gateway:\n"
        "    listen:\n"
        "        - 127.0.0.1:9080\n"
        "    # tls: not configured\n"
        "    # routes: none\n"
        "    upstream_keepalive: 128\n"
        "    upstream_keepalive_timeout: 60s\n"
        "    buffer_size: 16k\n"
        "    client_max_body_size: 100m\n"
        "    max_fails: 3\n"
        "    fail_timeout: 10s\n"
        "store:\n"
        "    shm_size: 1g\n"
        "naming:\n"
        "    beat_interval: 5s\n"
        "    unhealthy_after: 15s\n"
        "    remove_after: 30s\n"
        "    health_check: true\n"
        "    check_interval: 5s\n"
        "    check_timeout: 2s\n"
        "    check_times: 3\n"
        "    check_concurrency: 64\n"
        "    list_cache: 64m\n"
        "config:\n"
        "    max_content_size: 10m\n"
        "    history_max_age: 30d\n"
        "    history_max_count: 100\n");

    free(dump);
    nc_conf_free(conf);
}


static void
test_load_file(void **state)
{
    char        path[256], expected[512], err[NC_CONF_ERRSTR_SIZE];
    char        cwd[PATH_MAX];
    nc_conf_t  *conf;

    (void) state;

    snprintf(path, sizeof(path), "%s/sub/nacre.yaml", test_dir);
    write_file(path,
               "# a comment\n"
               "api:\n"
               "  tls:\n"
               "    certificate: cert.pem\n"
               "    certificate_key: key.pem\n");

    /* relative file and relative certificates resolve against the prefix */

    conf = nc_conf_load(test_dir, "sub/nacre.yaml", err);
    if (conf == NULL) {
        fail_msg("%s", err);
    }

    assert_str(&conf->file, path);
    snprintf(expected, sizeof(expected), "%s/", test_dir);
    assert_str(&conf->prefix, expected);
    snprintf(expected, sizeof(expected), "%s/cert.pem", test_dir);
    assert_str(&conf->api.tls.certificate, expected);
    nc_conf_free(conf);

    /* an absolute file name is taken as is, paths in it still resolve */

    conf = nc_conf_load("/nowhere", path, err);
    assert_null(conf);
    snprintf(expected, sizeof(expected),
             "%s:4:18: cannot open \"/nowhere/cert.pem\" for \"certificate\" "
             "(2: No such file or directory)", path);
    assert_string_equal(err, expected);

    /* errors name the absolute file */

    write_file(path, "api:\n  listen: 0\n");
    conf = nc_conf_load(test_dir, "sub/nacre.yaml", err);
    assert_null(conf);
    snprintf(expected, sizeof(expected),
             "%s:2:11: invalid address \"0\" for \"listen\"", path);
    assert_string_equal(err, expected);

    conf = nc_conf_load(test_dir, "missing.yaml", err);
    assert_null(conf);
    snprintf(expected, sizeof(expected),
             "%s/missing.yaml: open() \"%s/missing.yaml\" failed "
             "(2: No such file or directory)", test_dir, test_dir);
    assert_string_equal(err, expected);

    conf = nc_conf_load(test_dir, "sub", err);
    assert_null(conf);
    snprintf(expected, sizeof(expected),
             "%s/sub: \"%s/sub\" is not a regular file", test_dir, test_dir);
    assert_string_equal(err, expected);

    conf = nc_conf_load(test_dir, "", err);
    assert_null(conf);
    assert_non_null(strstr(err, "empty configuration file name"));

    /* a relative prefix is taken from the current directory */

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(test_dir), 0);

    write_file(path, "");
    conf = nc_conf_load("sub", "nacre.yaml", err);
    if (conf == NULL) {
        fail_msg("%s", err);
    }

    snprintf(expected, sizeof(expected), "%s/sub/", test_dir);
    assert_str(&conf->prefix, expected);
    assert_str(&conf->file, path);
    nc_conf_free(conf);

    conf = nc_conf_load(NULL, "sub/nacre.yaml", err);
    if (conf == NULL) {
        fail_msg("%s", err);
    }

    snprintf(expected, sizeof(expected), "%s/", test_dir);
    assert_str(&conf->prefix, expected);
    snprintf(expected, sizeof(expected), "%s/data", test_dir);
    assert_str(&conf->data_dir, expected);
    nc_conf_free(conf);

    assert_int_equal(chdir(cwd), 0);
}


static void
test_shipped_conf(void **state)
{
    char        err[NC_CONF_ERRSTR_SIZE];
    nc_conf_t  *conf, *defaults;

    (void) state;

    /*
     * conf/nacre.yaml says every default: it must load and change nothing.
     * make runs the tests from the top of the tree.
     */

    if (access("conf/nacre.yaml", R_OK) != 0) {
        skip();
    }

    conf = nc_conf_load(NULL, "conf/nacre.yaml", err);
    if (conf == NULL) {
        fail_msg("%s", err);
    }

    defaults = nc_conf_load_string(NULL, NAME, "", 0, err);
    assert_non_null(defaults);

    assert_int_equal(conf->daemon, defaults->daemon);
    assert_int_equal(conf->worker_processes, defaults->worker_processes);
    assert_int_equal(conf->worker_connections, defaults->worker_connections);
    assert_int_equal(conf->worker_shutdown_timeout,
                     defaults->worker_shutdown_timeout);
    assert_str(&conf->pid, (char *) defaults->pid.data);
    assert_str(&conf->error_log, (char *) defaults->error_log.data);
    assert_int_equal(conf->log_level, defaults->log_level);
    assert_str(&conf->access_log, (char *) defaults->access_log.data);
    assert_str(&conf->data_dir, (char *) defaults->data_dir.data);
    assert_int_equal(conf->api.listen.nelts, 1);
    assert_str(&listen_addr(conf, 0)->text, "127.0.0.1:8848");
    assert_int_equal(conf->api.tls.certificate.len, 0);
    assert_int_equal(conf->api.client_max_body_size,
                     defaults->api.client_max_body_size);
    assert_int_equal(conf->api.client_header_buffer_size,
                     defaults->api.client_header_buffer_size);
    assert_int_equal(conf->api.client_header_timeout,
                     defaults->api.client_header_timeout);
    assert_int_equal(conf->api.client_body_timeout,
                     defaults->api.client_body_timeout);
    assert_int_equal(conf->api.send_timeout, defaults->api.send_timeout);
    assert_int_equal(conf->api.keepalive_timeout,
                     defaults->api.keepalive_timeout);
    assert_int_equal(conf->api.keepalive_requests,
                     defaults->api.keepalive_requests);
    assert_int_equal(conf->api.gzip, defaults->api.gzip);
    assert_int_equal(conf->api.gzip_min_length,
                     defaults->api.gzip_min_length);
    assert_int_equal(conf->api.gzip_comp_level,
                     defaults->api.gzip_comp_level);
    assert_str(&conf->api.root, (char *) defaults->api.root.data);

    nc_conf_free(conf);
    nc_conf_free(defaults);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_error_cases),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_msec),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_gateway_routes),
        cmocka_unit_test(test_dump_format),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_shipped_conf),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
