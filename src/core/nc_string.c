
/*
 * nacre: length-counted strings and byte helpers.
 */

#include <nc_config.h>
#include <nc_core.h>


void
nc_strlow(u_char *dst, const u_char *src, size_t n)
{
    while (n) {
        *dst = nc_tolower(*src);
        dst++;
        src++;
        n--;
    }
}


nc_int_t
nc_strncasecmp(const u_char *s1, const u_char *s2, size_t n)
{
    nc_uint_t  c1, c2;

    while (n) {
        c1 = nc_tolower(*s1);
        c2 = nc_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return c1 < c2 ? -1 : 1;
        }

        n--;
    }

    return 0;
}


nc_int_t
nc_str_casecmp(const nc_str_t *a, const nc_str_t *b)
{
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }

    return nc_strncasecmp(a->data, b->data, a->len);
}


u_char *
nc_strlcasestrn(u_char *s1, u_char *last, const u_char *s2, size_t n)
{
    u_char  *p;

    if (n == 0) {
        return s1;
    }

    for (p = s1; (size_t) (last - p) >= n; p++) {
        if (nc_strncasecmp(p, s2, n) == 0) {
            return p;
        }
    }

    return NULL;
}


u_char *
nc_cpystrn(u_char *dst, const u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


u_char *
nc_pstrdup(nc_pool_t *pool, const nc_str_t *src)
{
    u_char  *dst;

    dst = nc_pnalloc(pool, src->len + 1);
    if (dst == NULL) {
        return NULL;
    }

    if (src->len) {
        nc_memcpy(dst, src->data, src->len);
    }

    dst[src->len] = '\0';

    return dst;
}


nc_int_t
nc_atoi(const u_char *line, size_t n)
{
    nc_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return NC_ERROR;
    }

    cutoff = NC_MAX_INT_T_VALUE / 10;
    cutlim = NC_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NC_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NC_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


off_t
nc_atoof(const u_char *line, size_t n)
{
    off_t  value, cutoff, cutlim;

    if (n == 0) {
        return NC_ERROR;
    }

    cutoff = INT64_MAX / 10;
    cutlim = INT64_MAX % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NC_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NC_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


nc_int_t
nc_hextoi(const u_char *line, size_t n)
{
    u_char     c, ch;
    nc_int_t   value, cutoff;

    if (n == 0) {
        return NC_ERROR;
    }

    cutoff = NC_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return NC_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return NC_ERROR;
    }

    return value;
}


u_char *
nc_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = nc_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


u_char *
nc_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    int     n;
    size_t  size;

    if (buf >= last) {
        return buf;
    }

    size = last - buf;
    n = vsnprintf((char *) buf, size, fmt, args);

    if (n < 0) {
        return buf;
    }

    /* vsnprintf() wants room for the NUL; the caller counts bytes only */
    return ((size_t) n >= size) ? last - 1 : buf + n;
}


int
nc_memcmp_const(const void *a, const void *b, size_t n)
{
    size_t                  i;
    const volatile u_char  *pa, *pb;
    u_char                  diff;

    pa = a;
    pb = b;
    diff = 0;

    for (i = 0; i < n; i++) {
        diff |= pa[i] ^ pb[i];
    }

    return diff != 0;
}


nc_flag_t
nc_glob_match(const u_char *p, size_t plen, const u_char *s, size_t slen)
{
    size_t  pi, si, star, mark;

    pi = 0;
    si = 0;
    star = (size_t) -1;
    mark = 0;

    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = si;

        } else if (pi < plen && p[pi] == s[si]) {
            pi++;
            si++;

        } else if (star != (size_t) -1) {
            pi = star + 1;
            si = ++mark;

        } else {
            return 0;
        }
    }

    while (pi < plen && p[pi] == '*') {
        pi++;
    }

    return pi == plen;
}
