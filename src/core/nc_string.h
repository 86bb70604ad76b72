
/*
 * nacre: length-counted strings and byte helpers.
 */

#ifndef _NC_STRING_H_INCLUDED_
#define _NC_STRING_H_INCLUDED_


#include <nc_config.h>


/* length-counted, not NUL-terminated unless a function says so */
typedef struct {
    size_t      len;
    u_char     *data;
} nc_str_t;


#define nc_string(str)     { sizeof(str) - 1, (u_char *) str }
#define nc_null_string     { 0, NULL }
#define nc_str_set(str, text)                                                 \
    (str)->len = sizeof(text) - 1; (str)->data = (u_char *) text
#define nc_str_null(str)   (str)->len = 0; (str)->data = NULL

/* for printf: printf("%.*s", nc_str_fmt(&s)) */
#define nc_str_fmt(s)      (int) (s)->len, (const char *) (s)->data

#define nc_tolower(c)      (u_char) ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
#define nc_toupper(c)      (u_char) ((c >= 'a' && c <= 'z') ? (c & ~0x20) : c)

#define nc_memzero(buf, n)       (void) memset(buf, 0, n)
#define nc_memset(buf, c, n)     (void) memset(buf, c, n)
#define nc_memcpy(dst, src, n)   (void) memcpy(dst, src, n)
#define nc_cpymem(dst, src, n)   (((u_char *) memcpy(dst, src, n)) + (n))
#define nc_memmove(dst, src, n)  (void) memmove(dst, src, n)
#define nc_memcmp(s1, s2, n)     memcmp((const char *) s1, (const char *) s2, n)

#define nc_strlen(s)             strlen((const char *) s)
#define nc_strcmp(s1, s2)        strcmp((const char *) s1, (const char *) s2)
#define nc_strncmp(s1, s2, n)    strncmp((const char *) s1, (const char *) s2, n)
#define nc_strchr(s1, c)         strchr((const char *) s1, (int) c)

#define nc_str_eq(s, lit)                                                     \
    ((s)->len == sizeof(lit) - 1 && nc_memcmp((s)->data, lit, (s)->len) == 0)


void nc_strlow(u_char *dst, const u_char *src, size_t n);
nc_int_t nc_strncasecmp(const u_char *s1, const u_char *s2, size_t n);
nc_int_t nc_str_casecmp(const nc_str_t *a, const nc_str_t *b);
u_char *nc_strlcasestrn(u_char *s1, u_char *last, const u_char *s2, size_t n);
u_char *nc_cpystrn(u_char *dst, const u_char *src, size_t n);

/* a NUL-terminated copy from the pool; NULL on failure */
struct nc_pool_s;
u_char *nc_pstrdup(struct nc_pool_s *pool, const nc_str_t *src);

/* '*' in the pattern matches any run of characters, anything else itself */
nc_flag_t nc_glob_match(const u_char *p, size_t plen, const u_char *s,
    size_t slen);

/* little-endian integers of our on-wire and on-disk formats */

static inline void
nc_le32_put(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


static inline uint32_t
nc_le32_get(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static inline void
nc_le64_put(u_char *p, uint64_t v)
{
    nc_le32_put(p, (uint32_t) v);
    nc_le32_put(p + 4, (uint32_t) (v >> 32));
}


static inline uint64_t
nc_le64_get(const u_char *p)
{
    return (uint64_t) nc_le32_get(p) | (uint64_t) nc_le32_get(p + 4) << 32;
}


/* non-negative decimal; NC_ERROR on empty, junk or overflow */
nc_int_t nc_atoi(const u_char *line, size_t n);
off_t nc_atoof(const u_char *line, size_t n);
nc_int_t nc_hextoi(const u_char *line, size_t n);

/* snprintf into [buf, last): returns the end of what was written */
u_char *nc_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
    NC_PRINTF(3, 4);
u_char *nc_vslprintf(u_char *buf, u_char *last, const char *fmt,
    va_list args);

/* constant-time comparison of secrets: 0 when equal */
int nc_memcmp_const(const void *a, const void *b, size_t n);


#endif /* _NC_STRING_H_INCLUDED_ */
