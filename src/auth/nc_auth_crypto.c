
/*
 * nacre: password hashes, signed tokens, a login limiter and random
 * secrets for the auth subsystem (nc_auth_crypto.h).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_auth_crypto.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>


#define NC_AUTH_KDF_PREFIX     "$pbkdf2-sha256$i="
#define NC_AUTH_SALT_B64_LEN   22                /* 16 bytes, no padding */
#define NC_AUTH_HASH_B64_LEN   43                /* 32 bytes, no padding */

/* base64url of {"alg":"HS256","typ":"JWT"}, then the dot */
#define NC_AUTH_JWT_HEADER     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
#define NC_AUTH_JWT_SIG_LEN    43                /* 32 bytes, no padding */
#define NC_AUTH_JWT_SUB        "{\"sub\":\""
#define NC_AUTH_JWT_EXP        "\",\"exp\":"

#define NC_AUTH_UINT64_LEN     (sizeof("18446744073709551615") - 1)

/* a failure is 1000 thousandths: rates below 1/s stay integers */
#define NC_AUTH_LIMITER_UNIT   1000
#define NC_AUTH_LIMITER_MAX    1000000           /* burst and rate bounds */


static nc_int_t nc_auth_password_parse(const u_char *p, size_t len,
    unsigned *iterations, u_char *salt, u_char *hash);
static nc_int_t nc_auth_pbkdf2(const u_char *pw, size_t len,
    const u_char *salt, unsigned iterations, u_char *hash);
static nc_int_t nc_auth_token_parse(const u_char *p, size_t len,
    const u_char **user, size_t *user_len, uint64_t *exp);
static nc_int_t nc_auth_token_mac(const u_char *key, const u_char *p,
    size_t len, u_char *sig);
static nc_auth_limiter_slot_t *nc_auth_limiter_refill(nc_auth_limiter_t *l,
    const u_char *key, size_t len, nc_msec_t now);
static size_t nc_auth_base64_encode(const char *alphabet, const u_char *src,
    size_t n, u_char *dst);
static nc_int_t nc_auth_base64_decode(nc_flag_t url, const u_char *src,
    size_t n, u_char *dst, size_t *len);
static size_t nc_auth_uint64(uint64_t v, u_char *dst);


static const char  nc_auth_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  nc_auth_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* no 0/O/o, 1/I/l: read aloud or copied by hand without doubt */
static const char  nc_auth_password_alphabet[] =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";


/* --- passwords --------------------------------------------------------- */


size_t
nc_auth_password_hash(const u_char *pw, size_t len, unsigned iterations,
    u_char *out, size_t size)
{
    u_char  *p;
    u_char   salt[NC_AUTH_SALT_LEN], hash[NC_AUTH_HASH_LEN];
    u_char   text[NC_AUTH_PASSWORD_HASH_LEN];

    if (iterations == 0) {
        iterations = NC_AUTH_KDF_ITERATIONS;
    }

    if (iterations < NC_AUTH_KDF_MIN_ITERATIONS
        || iterations > NC_AUTH_KDF_MAX_ITERATIONS
        || len > NC_AUTH_PASSWORD_MAX_LEN)
    {
        return 0;
    }

    nc_auth_random(salt, sizeof(salt));

    if (nc_auth_pbkdf2(pw, len, salt, iterations, hash) != NC_OK) {
        return 0;
    }

    p = nc_cpymem(text, NC_AUTH_KDF_PREFIX, sizeof(NC_AUTH_KDF_PREFIX) - 1);
    p += nc_auth_uint64(iterations, p);
    *p++ = '$';
    p += nc_auth_base64_encode(nc_auth_b64, salt, sizeof(salt), p);
    *p++ = '$';
    p += nc_auth_base64_encode(nc_auth_b64, hash, sizeof(hash), p);

    OPENSSL_cleanse(hash, sizeof(hash));

    if ((size_t) (p - text) > size) {
        return 0;
    }

    nc_memcpy(out, text, p - text);

    return p - text;
}


nc_int_t
nc_auth_password_verify(const u_char *pw, size_t len, const u_char *stored,
    size_t stored_len)
{
    int       diff;
    u_char    salt[NC_AUTH_SALT_LEN], hash[NC_AUTH_HASH_LEN];
    u_char    want[NC_AUTH_HASH_LEN];
    unsigned  iterations;

    if (nc_auth_password_parse(stored, stored_len, &iterations, salt, want)
        != NC_OK)
    {
        return NC_ERROR;
    }

    /* nothing that long was ever hashed: it cannot match */
    if (len > NC_AUTH_PASSWORD_MAX_LEN) {
        return NC_DECLINED;
    }

    if (nc_auth_pbkdf2(pw, len, salt, iterations, hash) != NC_OK) {
        return NC_ERROR;
    }

    diff = CRYPTO_memcmp(hash, want, sizeof(hash));

    OPENSSL_cleanse(hash, sizeof(hash));

    return diff == 0 ? NC_OK : NC_DECLINED;
}


unsigned
nc_auth_password_iterations(const u_char *stored, size_t len)
{
    u_char    salt[NC_AUTH_SALT_LEN], hash[NC_AUTH_HASH_LEN];
    unsigned  iterations;

    if (nc_auth_password_parse(stored, len, &iterations, salt, hash)
        != NC_OK)
    {
        return 0;
    }

    return iterations;
}


/* exactly the text nc_auth_password_hash() writes, nothing else */

static nc_int_t
nc_auth_password_parse(const u_char *p, size_t len, unsigned *iterations,
    u_char *salt, u_char *hash)
{
    size_t         n, digits;
    unsigned       v;
    const u_char  *last;

    if (p == NULL || len < sizeof(NC_AUTH_KDF_PREFIX) - 1
        || len > NC_AUTH_PASSWORD_HASH_LEN
        || nc_memcmp(p, NC_AUTH_KDF_PREFIX, sizeof(NC_AUTH_KDF_PREFIX) - 1)
           != 0)
    {
        return NC_ERROR;
    }

    last = p + len;
    p += sizeof(NC_AUTH_KDF_PREFIX) - 1;

    /* at most 8 digits, no leading zero: v cannot overflow */
    v = 0;

    for (digits = 0; p < last && *p >= '0' && *p <= '9'; digits++, p++) {
        if (digits == 8 || (digits == 1 && v == 0)) {
            return NC_ERROR;
        }

        v = v * 10 + (*p - '0');
    }

    if (digits == 0
        || v < NC_AUTH_KDF_MIN_ITERATIONS || v > NC_AUTH_KDF_MAX_ITERATIONS)
    {
        return NC_ERROR;
    }

    if (last - p != 1 + NC_AUTH_SALT_B64_LEN + 1 + NC_AUTH_HASH_B64_LEN
        || p[0] != '$' || p[1 + NC_AUTH_SALT_B64_LEN] != '$')
    {
        return NC_ERROR;
    }

    p++;

    if (nc_auth_base64_decode(0, p, NC_AUTH_SALT_B64_LEN, salt, &n) != NC_OK
        || n != NC_AUTH_SALT_LEN)
    {
        return NC_ERROR;
    }

    p += NC_AUTH_SALT_B64_LEN + 1;

    if (nc_auth_base64_decode(0, p, NC_AUTH_HASH_B64_LEN, hash, &n) != NC_OK
        || n != NC_AUTH_HASH_LEN)
    {
        return NC_ERROR;
    }

    *iterations = v;

    return NC_OK;
}


static nc_int_t
nc_auth_pbkdf2(const u_char *pw, size_t len, const u_char *salt,
    unsigned iterations, u_char *hash)
{
    /* len <= NC_AUTH_PASSWORD_MAX_LEN: the int casts are safe */
    if (PKCS5_PBKDF2_HMAC(pw ? (const char *) pw : "", (int) len,
                          salt, NC_AUTH_SALT_LEN, (int) iterations,
                          EVP_sha256(), NC_AUTH_HASH_LEN, hash)
        != 1)
    {
        return NC_ERROR;
    }

    return NC_OK;
}


/* --- tokens ------------------------------------------------------------ */


nc_int_t
nc_auth_user_valid(const u_char *user, size_t len)
{
    u_char  c;
    size_t  i;

    if (user == NULL || len == 0 || len > NC_AUTH_USER_MAX_LEN) {
        return NC_ERROR;
    }

    for (i = 0; i < len; i++) {
        c = user[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '_' || c == '.' || c == '@' || c == '-')
        {
            continue;
        }

        return NC_ERROR;
    }

    return NC_OK;
}


size_t
nc_auth_token_sign(const u_char key[NC_AUTH_KEY_LEN], const u_char *user,
    size_t user_len, uint64_t exp, u_char *out, size_t size)
{
    size_t   n, plen;
    u_char  *p;
    u_char   sig[NC_AUTH_HASH_LEN];
    u_char   payload[NC_AUTH_TOKEN_LEN], token[NC_AUTH_TOKEN_LEN];

    /* the allowed letters need no JSON escaping */
    if (key == NULL || nc_auth_user_valid(user, user_len) != NC_OK) {
        return 0;
    }

    p = nc_cpymem(payload, NC_AUTH_JWT_SUB, sizeof(NC_AUTH_JWT_SUB) - 1);
    p = nc_cpymem(p, user, user_len);
    p = nc_cpymem(p, NC_AUTH_JWT_EXP, sizeof(NC_AUTH_JWT_EXP) - 1);
    p += nc_auth_uint64(exp, p);
    *p++ = '}';
    plen = p - payload;

    p = nc_cpymem(token, NC_AUTH_JWT_HEADER, sizeof(NC_AUTH_JWT_HEADER) - 1);
    p += nc_auth_base64_encode(nc_auth_b64url, payload, plen, p);

    n = p - token;

    if (nc_auth_token_mac(key, token, n, sig) != NC_OK) {
        return 0;
    }

    *p++ = '.';
    p += nc_auth_base64_encode(nc_auth_b64url, sig, sizeof(sig), p);

    if ((size_t) (p - token) > size) {
        return 0;
    }

    nc_memcpy(out, token, p - token);

    return p - token;
}


nc_int_t
nc_auth_token_verify(const u_char key[NC_AUTH_KEY_LEN], const u_char *token,
    size_t len, uint64_t now, u_char *user, size_t *user_len, uint64_t *exp)
{
    size_t         n, signed_len, ulen;
    u_char         sig[NC_AUTH_HASH_LEN], want[NC_AUTH_JWT_SIG_LEN];
    u_char         payload[NC_AUTH_TOKEN_MAX_LEN];
    uint64_t       e;
    const u_char  *p, *u;

    if (key == NULL || token == NULL || len > NC_AUTH_TOKEN_MAX_LEN
        || len < sizeof(NC_AUTH_JWT_HEADER) - 1 + 1 + NC_AUTH_JWT_SIG_LEN
        || nc_memcmp(token, NC_AUTH_JWT_HEADER,
                     sizeof(NC_AUTH_JWT_HEADER) - 1)
           != 0)
    {
        return NC_ERROR;
    }

    /* the signature: the last 43 characters, after a dot */
    signed_len = len - NC_AUTH_JWT_SIG_LEN - 1;

    if (token[signed_len] != '.') {
        return NC_ERROR;
    }

    if (nc_auth_token_mac(key, token, signed_len, sig) != NC_OK) {
        return NC_ERROR;
    }

    (void) nc_auth_base64_encode(nc_auth_b64url, sig, sizeof(sig), want);

    if (CRYPTO_memcmp(want, token + signed_len + 1, NC_AUTH_JWT_SIG_LEN)
        != 0)
    {
        return NC_ERROR;
    }

    /* signed by key: now the payload, of exactly our shape */
    p = token + sizeof(NC_AUTH_JWT_HEADER) - 1;

    if (nc_auth_base64_decode(1, p, token + signed_len - p, payload, &n)
        != NC_OK
        || nc_auth_token_parse(payload, n, &u, &ulen, &e) != NC_OK)
    {
        return NC_ERROR;
    }

    if (user != NULL) {
        if (user_len == NULL || ulen > *user_len) {
            return NC_ERROR;
        }

        nc_memcpy(user, u, ulen);
        *user_len = ulen;
    }

    if (exp != NULL) {
        *exp = e;
    }

    return e > now ? NC_OK : NC_DECLINED;
}


/* {"sub":"<user>","exp":<digits>} and nothing else */

static nc_int_t
nc_auth_token_parse(const u_char *p, size_t len, const u_char **user,
    size_t *user_len, uint64_t *exp)
{
    size_t         n;
    uint64_t       v;
    const u_char  *last, *u;

    last = p + len;

    if (len < sizeof(NC_AUTH_JWT_SUB) - 1
        || nc_memcmp(p, NC_AUTH_JWT_SUB, sizeof(NC_AUTH_JWT_SUB) - 1) != 0)
    {
        return NC_ERROR;
    }

    p += sizeof(NC_AUTH_JWT_SUB) - 1;
    u = p;

    while (p < last && *p != '"') {
        p++;
    }

    n = p - u;

    if (nc_auth_user_valid(u, n) != NC_OK
        || (size_t) (last - p) < sizeof(NC_AUTH_JWT_EXP) - 1
        || nc_memcmp(p, NC_AUTH_JWT_EXP, sizeof(NC_AUTH_JWT_EXP) - 1) != 0)
    {
        return NC_ERROR;
    }

    p += sizeof(NC_AUTH_JWT_EXP) - 1;

    /* digits, no leading zero, no overflow, then '}' at the very end */
    if (last - p < 2 || (p[0] == '0' && p[1] != '}')) {
        return NC_ERROR;
    }

    v = 0;

    for ( /* void */ ; p < last && *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (*p - '0')) / 10) {
            return NC_ERROR;
        }

        v = v * 10 + (*p - '0');
    }

    if (last - p != 1 || *p != '}' || p[-1] == ':') {
        return NC_ERROR;
    }

    *user = u;
    *user_len = n;
    *exp = v;

    return NC_OK;
}


/*
 * HMAC-SHA256 of a token.  Every request with a token comes here: the
 * keyed context is made once per key (per thread) and copied, where the
 * one-shot HMAC() would look the algorithm up and key it each time.
 */
static nc_int_t
nc_auth_token_mac(const u_char *key, const u_char *p, size_t len,
    u_char *sig)
{
    size_t        n;
    nc_int_t      rc;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    static __thread EVP_MAC      *mac;
    static __thread EVP_MAC_CTX  *keyed;
    static __thread u_char        keyed_with[NC_AUTH_KEY_LEN];

    if (mac == NULL) {
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (mac == NULL) {
            return NC_ERROR;
        }
    }

    if (keyed == NULL
        || CRYPTO_memcmp(keyed_with, key, NC_AUTH_KEY_LEN) != 0)
    {
        EVP_MAC_CTX_free(keyed);

        keyed = EVP_MAC_CTX_new(mac);
        params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();

        if (keyed == NULL
            || EVP_MAC_init(keyed, key, NC_AUTH_KEY_LEN, params) != 1)
        {
            EVP_MAC_CTX_free(keyed);
            keyed = NULL;
            return NC_ERROR;
        }

        nc_memcpy(keyed_with, key, NC_AUTH_KEY_LEN);
    }

    ctx = EVP_MAC_CTX_dup(keyed);
    if (ctx == NULL) {
        return NC_ERROR;
    }

    n = 0;
    rc = EVP_MAC_update(ctx, p, len) == 1
         && EVP_MAC_final(ctx, sig, &n, NC_AUTH_HASH_LEN) == 1
         && n == NC_AUTH_HASH_LEN
         ? NC_OK : NC_ERROR;

    EVP_MAC_CTX_free(ctx);

    return rc;
}


/* --- the limiter ------------------------------------------------------- */


void
nc_auth_limiter_init(nc_auth_limiter_t *l, nc_uint_t burst,
    nc_uint_t per_second)
{
    nc_memzero(l, sizeof(nc_auth_limiter_t));

    nc_auth_random(l->key, sizeof(l->key));

    burst = nc_max(burst, 1);
    burst = nc_min(burst, NC_AUTH_LIMITER_MAX);
    per_second = nc_min(per_second, NC_AUTH_LIMITER_MAX);

    /* thousandths of a failure per second = thousandths per msec */
    l->burst = (uint64_t) burst * NC_AUTH_LIMITER_UNIT;
    l->rate = per_second;
}


nc_int_t
nc_auth_limiter_allow(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now)
{
    nc_auth_limiter_slot_t  *s;

    s = nc_auth_limiter_refill(l, key, len, now);

    return s->tokens + NC_AUTH_LIMITER_UNIT <= l->burst ? NC_OK : NC_BUSY;
}


void
nc_auth_limiter_fail(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now)
{
    nc_auth_limiter_slot_t  *s;

    s = nc_auth_limiter_refill(l, key, len, now);

    /* capped: a flood is forgotten as fast as a burst */
    s->tokens = nc_min(s->tokens + NC_AUTH_LIMITER_UNIT, l->burst);
}


void
nc_auth_limiter_success(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now)
{
    nc_auth_limiter_slot_t  *s;

    s = nc_auth_limiter_refill(l, key, len, now);

    s->tokens = 0;
}


void
nc_auth_limiter_refund(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now)
{
    nc_auth_limiter_slot_t  *s;

    s = nc_auth_limiter_refill(l, key, len, now);

    s->tokens -= nc_min(s->tokens, NC_AUTH_LIMITER_UNIT);
}


nc_uint_t
nc_auth_limiter_slot(nc_auth_limiter_t *l, const u_char *key, size_t len)
{
    return (nc_uint_t) (nc_auth_siphash(l->key, key, len)
                        & (NC_AUTH_LIMITER_SLOTS - 1));
}


/*
 * A slot's tokens count spent failures (zeroed memory is a full bucket);
 * they drain at l->rate thousandths per msec.
 */

static nc_auth_limiter_slot_t *
nc_auth_limiter_refill(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now)
{
    uint64_t                 elapsed;
    nc_auth_limiter_slot_t  *s;

    s = &l->slots[nc_auth_limiter_slot(l, key, len)];

    if (now <= s->stamp) {
        return s;
    }

    elapsed = now - s->stamp;
    s->stamp = now;

    if (l->rate == 0) {
        return s;
    }

    /* compared before multiplying: no overflow */
    if (elapsed >= s->tokens / l->rate + 1) {
        s->tokens = 0;

    } else {
        s->tokens -= nc_min(s->tokens, elapsed * l->rate);
    }

    return s;
}


#define NC_AUTH_ROTL(x, b)   (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define NC_AUTH_SIPROUND                                                      \
    do {                                                                      \
        v0 += v1; v1 = NC_AUTH_ROTL(v1, 13); v1 ^= v0;                        \
        v0 = NC_AUTH_ROTL(v0, 32);                                            \
        v2 += v3; v3 = NC_AUTH_ROTL(v3, 16); v3 ^= v2;                        \
        v0 += v3; v3 = NC_AUTH_ROTL(v3, 21); v3 ^= v0;                        \
        v2 += v1; v1 = NC_AUTH_ROTL(v1, 17); v1 ^= v2;                        \
        v2 = NC_AUTH_ROTL(v2, 32);                                            \
    } while (0)


uint64_t
nc_auth_siphash(const u_char key[16], const u_char *p, size_t len)
{
    size_t    i;
    uint64_t  k0, k1, v0, v1, v2, v3, m, b;

    k0 = nc_le64_get(key);
    k1 = nc_le64_get(key + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    for (i = 0; i + 8 <= len; i += 8) {
        m = nc_le64_get(p + i);
        v3 ^= m;
        NC_AUTH_SIPROUND;
        NC_AUTH_SIPROUND;
        v0 ^= m;
    }

    b = (uint64_t) len << 56;

    for ( /* void */ ; i < len; i++) {
        b |= (uint64_t) p[i] << (8 * (i & 7));
    }

    v3 ^= b;
    NC_AUTH_SIPROUND;
    NC_AUTH_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    NC_AUTH_SIPROUND;
    NC_AUTH_SIPROUND;
    NC_AUTH_SIPROUND;
    NC_AUTH_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}


/* --- random ------------------------------------------------------------ */


void
nc_auth_random(u_char *buf, size_t n)
{
    size_t  chunk;

    while (n) {
        chunk = nc_min(n, (size_t) 65536);

        if (RAND_bytes(buf, (int) chunk) != 1) {
            /* fatal: a key or salt must never be predictable */
            abort();
        }

        buf += chunk;
        n -= chunk;
    }
}


size_t
nc_auth_random_password(u_char *out, size_t size)
{
    size_t  i, n, k;
    u_char  r[64];

    if (size < NC_AUTH_RANDOM_PASSWORD_LEN) {
        return 0;
    }

    /* 224 = 4 * 56: bytes above it are dropped so each letter is uniform */
    n = 0;

    while (n < NC_AUTH_RANDOM_PASSWORD_LEN) {
        nc_auth_random(r, sizeof(r));

        for (i = 0; i < sizeof(r) && n < NC_AUTH_RANDOM_PASSWORD_LEN; i++) {
            if (r[i] >= 4 * (sizeof(nc_auth_password_alphabet) - 1)) {
                continue;
            }

            k = r[i] % (sizeof(nc_auth_password_alphabet) - 1);
            out[n++] = nc_auth_password_alphabet[k];
        }
    }

    OPENSSL_cleanse(r, sizeof(r));

    return n;
}


/* --- helpers ----------------------------------------------------------- */


/* without padding; dst holds (n * 4 + 2) / 3 */

static size_t
nc_auth_base64_encode(const char *alphabet, const u_char *src, size_t n,
    u_char *dst)
{
    u_char  *d;

    d = dst;

    while (n >= 3) {
        *d++ = alphabet[src[0] >> 2];
        *d++ = alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = alphabet[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = alphabet[src[2] & 0x3f];

        src += 3;
        n -= 3;
    }

    if (n == 1) {
        *d++ = alphabet[src[0] >> 2];
        *d++ = alphabet[(src[0] & 0x03) << 4];

    } else if (n == 2) {
        *d++ = alphabet[src[0] >> 2];
        *d++ = alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = alphabet[(src[1] & 0x0f) << 2];
    }

    return d - dst;
}


/*
 * Strict: no padding, no other characters, and the bits after the last
 * byte must be zero, so one byte string has exactly one text.
 */

static nc_int_t
nc_auth_base64_decode(nc_flag_t url, const u_char *src, size_t n, u_char *dst,
    size_t *len)
{
    u_char    c;
    size_t    i, d;
    uint32_t  acc, v;

    if (n % 4 == 1) {
        return NC_ERROR;
    }

    acc = 0;
    d = 0;

    for (i = 0; i < n; i++) {
        c = src[i];

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;

        } else if (c == (url ? '-' : '+')) {
            v = 62;

        } else if (c == (url ? '_' : '/')) {
            v = 63;

        } else {
            return NC_ERROR;
        }

        acc = (acc << 6) | v;

        if (i % 4 == 3) {
            dst[d++] = (u_char) (acc >> 16);
            dst[d++] = (u_char) (acc >> 8);
            dst[d++] = (u_char) acc;
            acc = 0;
        }
    }

    switch (n % 4) {

    case 2:
        if (acc & 0x0f) {
            return NC_ERROR;
        }

        dst[d++] = (u_char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return NC_ERROR;
        }

        dst[d++] = (u_char) (acc >> 10);
        dst[d++] = (u_char) (acc >> 2);
        break;
    }

    *len = d;

    return NC_OK;
}


static size_t
nc_auth_uint64(uint64_t v, u_char *dst)
{
    size_t  i, n;
    u_char  tmp[NC_AUTH_UINT64_LEN];

    n = 0;

    do {
        tmp[n++] = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    for (i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }

    return n;
}
