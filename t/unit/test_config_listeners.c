
/*
 * nacre: the shared table of parked config listeners.  Listed by key and
 * by address, removed, full (refused, never wrong), given back by the
 * master for a worker that died, read by one process while another
 * writes it (a reader sees whole entries or none), and as the text the
 * members send each other.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_config_listeners.h>

#include <signal.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <cmocka.h>


#define TEST_SLOTS  32768                 /* NC_CONFIG_LISTENER_SLOTS */


static nc_log_t  test_log = { NC_LOG_EMERG, -1, NULL };


/* the entry of key k from address ip: its MD5 repeats k's last digit */
static void
test_entry(nc_config_listener_t *l, uint64_t key, const char *ip)
{
    memset(l, 0, sizeof(*l));
    l->key = key;
    l->ip_len = strlen(ip);
    memcpy(l->ip, ip, l->ip_len);
    l->md5_len = NC_CONFIG_LISTENER_MD5_LEN;
    memset(l->md5, '0' + (int) (key % 10), l->md5_len);
}


typedef struct {
    nc_uint_t   count;
    nc_uint_t   torn;
} test_seen_t;


static void
test_count(const nc_config_listener_t *l, void *data)
{
    nc_uint_t     i;
    test_seen_t  *seen = data;

    seen->count++;

    /* written whole: the MD5 is the key's, the address "k<key>" */
    for (i = 0; i < l->md5_len; i++) {
        if (l->md5[i] != '0' + (int) (l->key % 10)) {
            seen->torn++;
            return;
        }
    }

    if (l->ip_len < 2 || l->ip[0] != 'k'
        || (uint64_t) atoll((char *) l->ip + 1) != l->key)
    {
        seen->torn++;
    }
}


static nc_uint_t
test_listed(uint64_t key, const char *ip)
{
    nc_str_t     s;
    test_seen_t  seen = { 0, 0 };

    s.data = (u_char *) ip;
    s.len = ip ? strlen(ip) : 0;

    nc_config_listeners_each(key, &s, test_count, &seen);

    return seen.count;
}


static int
test_setup(void **state)
{
    return nc_config_listeners_init(&test_log) == NC_OK ? 0 : -1;
}


static void
test_add_list_remove(void **state)
{
    nc_int_t              a, b, c;
    nc_config_listener_t  l;

    test_entry(&l, 11, "k11");
    a = nc_config_listeners_add(&l, &test_log);
    b = nc_config_listeners_add(&l, &test_log);
    test_entry(&l, 12, "k12");
    c = nc_config_listeners_add(&l, &test_log);

    assert_true(a >= 0 && b >= 0 && c >= 0);
    assert_true(a != b && b != c && a != c);

    assert_int_equal(test_listed(11, NULL), 2);
    assert_int_equal(test_listed(12, NULL), 1);
    assert_int_equal(test_listed(13, NULL), 0);
    assert_int_equal(test_listed(0, "k11"), 2);
    assert_int_equal(test_listed(0, "k1"), 0);

    nc_config_listeners_remove(a);
    assert_int_equal(test_listed(11, NULL), 1);

    nc_config_listeners_remove(b);
    nc_config_listeners_remove(c);
    nc_config_listeners_remove(-1);         /* a listener never listed */
    assert_int_equal(test_listed(11, NULL), 0);
    assert_int_equal(test_listed(12, NULL), 0);
}


static void
test_full(void **state)
{
    nc_int_t             *slots;
    nc_uint_t             i;
    nc_config_listener_t  l;

    slots = malloc(TEST_SLOTS * sizeof(nc_int_t));
    assert_non_null(slots);

    test_entry(&l, 21, "k21");

    for (i = 0; i < TEST_SLOTS; i++) {
        slots[i] = nc_config_listeners_add(&l, &test_log);
        assert_true(slots[i] >= 0);
    }

    /* no slot left: refused, the others intact */
    assert_int_equal(nc_config_listeners_add(&l, &test_log), -1);
    assert_int_equal(test_listed(21, NULL), TEST_SLOTS);

    nc_config_listeners_remove(slots[7]);
    assert_int_equal(nc_config_listeners_add(&l, &test_log), slots[7]);

    for (i = 0; i < TEST_SLOTS; i++) {
        nc_config_listeners_remove(slots[i]);
    }

    assert_int_equal(test_listed(21, NULL), 0);
    free(slots);
}


static void
test_release_pid(void **state)
{
    int                   status;
    pid_t                 pid;
    nc_config_listener_t  l;

    test_entry(&l, 31, "k31");
    assert_true(nc_config_listeners_add(&l, &test_log) >= 0);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        /* a worker that dies with listeners listed */
        test_entry(&l, 31, "k31");
        _exit(nc_config_listeners_add(&l, &test_log) >= 0
              && nc_config_listeners_add(&l, &test_log) >= 0 ? 0 : 1);
    }

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(test_listed(31, NULL), 3);

    nc_config_listeners_release_pid(pid);
    assert_int_equal(test_listed(31, NULL), 1);

    /* ours are ours */
    nc_config_listeners_release_pid(getpid());
    assert_int_equal(test_listed(31, NULL), 0);
}


static void
test_concurrent(void **state)
{
    int                   ready[2];
    char                  ip[24], c;
    pid_t                 pid;
    nc_int_t              ring[64];
    nc_uint_t             i;
    test_seen_t           seen;
    nc_config_listener_t  l;

    assert_int_equal(pipe(ready), 0);

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        /* a worker listing and unlisting entries of changing keys, 64
         * listed at any time, each slot rewritten over and over */
        for (i = 0; /* void */; i++) {
            if (i >= 64) {
                nc_config_listeners_remove(ring[i % 64]);
            }

            (void) snprintf(ip, sizeof(ip), "k%u", (unsigned) (40 + i % 7));
            test_entry(&l, 40 + i % 7, ip);
            ring[i % 64] = nc_config_listeners_add(&l, &test_log);

            if (i == 64 && write(ready[1], "r", 1) != 1) {
                _exit(1);
            }
        }
    }

    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);

    seen.count = 0;
    seen.torn = 0;

    for (i = 0; i < 2000; i++) {
        nc_config_listeners_each(40 + i % 7, NULL, test_count, &seen);
    }

    /* before any assertion: the writer must not outlive the test */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);

    /* read while written, more than one scan's worth, none torn */
    print_message("entries seen while written: %u, torn: %u\n",
                  (unsigned) seen.count, (unsigned) seen.torn);
    assert_true(seen.count > 64);
    assert_int_equal(seen.torn, 0);

    nc_config_listeners_release_pid(pid);
    assert_int_equal(test_listed(40, NULL), 0);
}


static void
test_text(void **state)
{
    u_char                *p;
    size_t                 n;
    nc_int_t               a, b, c;
    nc_config_listener_t   l, got, swap;
    u_char                 arg[1 + 8], buf[256], small[40];

    test_entry(&l, 51, "k51");
    a = nc_config_listeners_add(&l, &test_log);
    l.md5_len = 0;                          /* a client without the item */
    memcpy(l.ip, "k51 x", 5);               /* an address with a space */
    l.ip_len = 5;
    b = nc_config_listeners_add(&l, &test_log);
    test_entry(&l, 52, "k51");
    c = nc_config_listeners_add(&l, &test_log);

    /* by key: "<md5> <ip>" lines, read back as they were */
    arg[0] = 'k';
    nc_le64_put(arg + 1, 51);
    n = nc_config_listeners_text(arg, sizeof(arg), buf, sizeof(buf));
    assert_int_equal(n, (32 + 1 + 3 + 1) + (1 + 1 + 5 + 1));

    p = buf;
    memset(&got, 0, sizeof(got));
    assert_int_equal(nc_config_listeners_line(&p, buf + n, &got, 1), NC_OK);
    assert_int_equal(nc_config_listeners_line(&p, buf + n, &l, 1), NC_OK);
    assert_int_equal(nc_config_listeners_line(&p, buf + n, &l, 1), NC_DONE);

    /* in either order: slots are the table's */
    if (got.md5_len == 0) {
        swap = got;
        got = l;
        l = swap;
    }

    assert_int_equal(got.ip_len, 3);
    assert_memory_equal(got.ip, "k51", 3);
    assert_int_equal(got.md5_len, 32);
    assert_int_equal(got.md5[0], '1');
    assert_int_equal(l.ip_len, 5);
    assert_memory_equal(l.ip, "k51 x", 5);
    assert_int_equal(l.md5_len, 0);

    /* by address: "<hash> <md5>" lines */
    arg[0] = 'i';
    memcpy(arg + 1, "k51", 3);
    n = nc_config_listeners_text(arg, 4, buf, sizeof(buf));
    assert_int_equal(n, 2 * (16 + 1 + 32 + 1));

    p = buf;
    assert_int_equal(nc_config_listeners_line(&p, buf + n, &got, 0), NC_OK);
    assert_true(got.key == 51 || got.key == 52);
    assert_int_equal(got.md5[0], '0' + (int) (got.key % 10));
    assert_int_equal(nc_config_listeners_line(&p, buf + n, &l, 0), NC_OK);
    assert_true(l.key != got.key && (l.key == 51 || l.key == 52));

    /* a small buffer: whole lines only */
    n = nc_config_listeners_text(arg, 4, small, sizeof(small));
    assert_int_equal(n, 0);

    /* bad questions: nothing */
    assert_int_equal(nc_config_listeners_text((u_char *) "x", 1, buf,
                                              sizeof(buf)), 0);
    assert_int_equal(nc_config_listeners_text((u_char *) "k", 1, buf,
                                              sizeof(buf)), 0);

    nc_config_listeners_remove(a);
    nc_config_listeners_remove(b);
    nc_config_listeners_remove(c);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_add_list_remove),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_release_pid),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests(tests, test_setup, NULL);
}
