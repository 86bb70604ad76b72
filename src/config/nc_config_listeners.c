
/*
 * nacre: the table of parked config listeners, shared by the workers of
 * a node.
 *
 * A slot is owned by the pid that claimed it (compare-and-swap from 0)
 * and written under a sequence number, odd while it changes, so readers
 * in other workers take no lock: they copy a slot and keep the copy only
 * when the number was even and the same before and after.  The owner
 * gives its slots back when the request ends, however it ends (a pool
 * cleanup); the master gives back those of a worker that died.
 *
 * Readers scan the whole table: it serves the console's questions, not
 * the clients', and 4 MB is read in about a millisecond.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_config_listeners.h>

#include <sys/mman.h>


#define NC_CONFIG_LISTENER_SLOTS  32768           /* a power of 2 */


typedef struct {
    _Atomic uint32_t         seq;
    _Atomic int32_t          owner;
    nc_config_listener_t     l;
} nc_config_listener_slot_t;


static nc_config_listener_slot_t  *nc_listener_slots;
static nc_uint_t                   nc_listener_cursor;
static nc_flag_t                   nc_listener_full_logged;


nc_int_t
nc_config_listeners_init(nc_log_t *log)
{
    void  *p;

    p = mmap(NULL, NC_CONFIG_LISTENER_SLOTS
                   * sizeof(nc_config_listener_slot_t),
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        nc_log_error(NC_LOG_EMERG, log, errno, "mmap() of the config "
                     "listeners' table failed");
        return NC_ERROR;
    }

    nc_listener_slots = p;

    return NC_OK;
}


nc_int_t
nc_config_listeners_add(const nc_config_listener_t *l, nc_log_t *log)
{
    int32_t                     free_, pid;
    nc_uint_t                   i, n;
    nc_config_listener_slot_t  *s;

    if (nc_listener_slots == NULL || l->key == 0) {
        return -1;
    }

    pid = (int32_t) getpid();

    /* workers start apart, then each goes on from its last claim */
    if (nc_listener_cursor == 0) {
        nc_listener_cursor = (nc_uint_t) pid * 2654435761u;
    }

    for (i = 0; i < NC_CONFIG_LISTENER_SLOTS; i++) {
        n = (nc_listener_cursor + i) & (NC_CONFIG_LISTENER_SLOTS - 1);
        s = &nc_listener_slots[n];

        free_ = 0;

        if (atomic_load_explicit(&s->owner, memory_order_relaxed) != 0
            || !atomic_compare_exchange_strong(&s->owner, &free_, pid))
        {
            continue;
        }

        nc_listener_cursor = n + 1;

        atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);

        s->l = *l;
        s->l.ip_len = nc_min(l->ip_len, NC_CONFIG_LISTENER_IP_LEN);
        s->l.md5_len = nc_min(l->md5_len, NC_CONFIG_LISTENER_MD5_LEN);

        atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);

        return (nc_int_t) n;
    }

    if (!nc_listener_full_logged) {
        nc_listener_full_logged = 1;
        nc_log_error(NC_LOG_WARN, log, 0, "%d config listeners on this "
                     "node: those beyond are served but not listed",
                     NC_CONFIG_LISTENER_SLOTS);
    }

    return -1;
}


static void
nc_config_listeners_free(nc_config_listener_slot_t *s)
{
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);

    s->l.key = 0;

    atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
    atomic_store_explicit(&s->owner, 0, memory_order_release);
}


void
nc_config_listeners_remove(nc_int_t slot)
{
    if (slot >= 0 && nc_listener_slots) {
        nc_config_listeners_free(&nc_listener_slots[slot]);
    }
}


void
nc_config_listeners_release_pid(pid_t pid)
{
    nc_uint_t  i;

    if (nc_listener_slots == NULL) {
        return;
    }

    for (i = 0; i < NC_CONFIG_LISTENER_SLOTS; i++) {
        if (atomic_load_explicit(&nc_listener_slots[i].owner,
                                 memory_order_acquire) == (int32_t) pid)
        {
            nc_config_listeners_free(&nc_listener_slots[i]);
        }
    }
}


void
nc_config_listeners_each(uint64_t key, const nc_str_t *ip,
    nc_config_listener_pt handler, void *data)
{
    uint32_t                    seq;
    nc_uint_t                   i;
    nc_config_listener_t        l;
    nc_config_listener_slot_t  *s;

    if (nc_listener_slots == NULL) {
        return;
    }

    for (i = 0; i < NC_CONFIG_LISTENER_SLOTS; i++) {
        s = &nc_listener_slots[i];

        if (atomic_load_explicit(&s->owner, memory_order_relaxed) == 0) {
            continue;
        }

        seq = atomic_load_explicit(&s->seq, memory_order_acquire);

        if (seq & 1) {
            continue;
        }

        l = s->l;

        atomic_thread_fence(memory_order_acquire);

        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq
            || l.key == 0)
        {
            continue;
        }

        if (key ? l.key == key
                : l.ip_len == ip->len
                  && nc_memcmp(l.ip, ip->data, ip->len) == 0)
        {
            handler(&l, data);
        }
    }
}


typedef struct {
    u_char      *pos;
    u_char      *end;
    nc_flag_t    by_key;
} nc_config_listeners_out_t;


static void
nc_config_listeners_print(const nc_config_listener_t *l, void *data)
{
    u_char                     *p;
    size_t                      need;
    nc_config_listeners_out_t  *out = data;

    need = (out->by_key ? l->ip_len : 16) + 1
           + (l->md5_len ? l->md5_len : 1) + 1;

    if ((size_t) (out->end - out->pos) < need) {
        out->end = out->pos;                 /* full: no line after */
        return;
    }

    p = out->pos;

    if (out->by_key) {
        p = l->md5_len ? nc_cpymem(p, l->md5, l->md5_len)
                       : nc_cpymem(p, "-", 1);
        *p++ = ' ';
        p = nc_cpymem(p, l->ip, l->ip_len);

    } else {
        p += snprintf((char *) p, 17, "%016" PRIx64, l->key);
        *p++ = ' ';
        p = l->md5_len ? nc_cpymem(p, l->md5, l->md5_len)
                       : nc_cpymem(p, "-", 1);
    }

    *p++ = '\n';
    out->pos = p;
}


size_t
nc_config_listeners_text(const u_char *arg, size_t len, u_char *buf,
    size_t size)
{
    uint64_t                   key;
    nc_str_t                   ip;
    nc_config_listeners_out_t  out;

    out.pos = buf;
    out.end = buf + size;

    if (len == 9 && arg[0] == 'k') {
        key = nc_le64_get(arg + 1);

        if (key == 0) {
            return 0;
        }

        out.by_key = 1;
        nc_config_listeners_each(key, NULL, nc_config_listeners_print, &out);

    } else if (len > 1 && len <= 1 + NC_CONFIG_LISTENER_IP_LEN
               && arg[0] == 'i')
    {
        ip.data = (u_char *) arg + 1;
        ip.len = len - 1;

        out.by_key = 0;
        nc_config_listeners_each(0, &ip, nc_config_listeners_print, &out);
    }

    return out.pos - buf;
}


nc_int_t
nc_config_listeners_line(u_char **p, u_char *end, nc_config_listener_t *l,
    nc_flag_t by_key)
{
    u_char  *nl, *sp, *a, *b;
    size_t   alen, blen;

    for ( ;; ) {
        if (*p >= end) {
            return NC_DONE;
        }

        nl = memchr(*p, '\n', end - *p);
        if (nl == NULL) {
            *p = end;
            return NC_DONE;
        }

        /* the first space: neither an MD5 nor a hash has one */
        sp = memchr(*p, ' ', nl - *p);

        a = *p;
        *p = nl + 1;

        if (sp == NULL) {
            continue;
        }

        alen = sp - a;
        b = sp + 1;
        blen = nl - b;

        memset(l, 0, sizeof(nc_config_listener_t));

        if (by_key) {
            /* "<md5> <ip>" */
            if (blen == 0 || blen > NC_CONFIG_LISTENER_IP_LEN
                || alen > NC_CONFIG_LISTENER_MD5_LEN)
            {
                continue;
            }

            l->ip_len = blen;
            nc_memcpy(l->ip, b, blen);
            l->md5_len = (alen == 1 && a[0] == '-') ? 0 : alen;
            nc_memcpy(l->md5, a, l->md5_len);

        } else {
            /* "<hash> <md5>" */
            if (alen != 16 || blen > NC_CONFIG_LISTENER_MD5_LEN) {
                continue;
            }

            l->key = strtoull((char *) a, NULL, 16);
            l->md5_len = (blen == 1 && b[0] == '-') ? 0 : blen;
            nc_memcpy(l->md5, b, l->md5_len);
        }

        return NC_OK;
    }
}
