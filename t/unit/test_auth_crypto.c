
/*
 * nacre: the auth subsystem's cryptography (src/auth/nc_auth_crypto.c):
 * password hashes against a PBKDF2 vector computed by Python's hashlib and
 * `openssl kdf`, strict parsing of stored hashes, tokens against a vector
 * computed by Python's hmac, every one-bit forgery, foreign headers and
 * payload shapes signed with the right key (by this file's own HS256), the
 * login limiter's buckets and slots, SipHash vectors, random passwords.
 *
 * The time of one hash at NC_AUTH_KDF_ITERATIONS is printed, not checked.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_auth_crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <setjmp.h>
#include <cmocka.h>


#define S(lit)  (const u_char *) lit, sizeof(lit) - 1


/*
 * python3 -c 'import hashlib, base64; ...' and, for the same bytes,
 * openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:"$PW"
 *     -kdfopt hexsalt:000102030405060708090a0b0c0d0e0f -kdfopt iter:1000
 *     PBKDF2
 * give A6:9B:17:9E:...:71:9E for "correct horse battery staple".
 */
#define TEST_PW        "correct horse battery staple"
#define TEST_STORED                                                           \
    "$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw"                            \
    "$ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4"
#define TEST_STORED_EMPTY                                                     \
    "$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw"                            \
    "$xbMBsf1hvO1j8AZCojBOxnRRn7182DxLyD2v4XQ/mFU"

/* Python's hmac, key 01 02 .. 20, user nacos@example.com, exp 1700000000 */
#define TEST_TOKEN                                                            \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"                                    \
    ".eyJzdWIiOiJuYWNvc0BleGFtcGxlLmNvbSIsImV4cCI6MTcwMDAwMDAwMH0"            \
    ".CS3ua3PAJ6o6HHO78pwaJH_rfU1XNCjgT0myd5gWDu8"


static u_char  test_key[NC_AUTH_KEY_LEN];


static double
test_msec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}


/* base64url without padding, written apart from the module's own */
static size_t
test_b64url(const u_char *src, size_t n, u_char *dst)
{
    int  i, len;

    len = EVP_EncodeBlock(dst, src, (int) n);

    while (len > 0 && dst[len - 1] == '=') {
        len--;
    }

    for (i = 0; i < len; i++) {
        if (dst[i] == '+') {
            dst[i] = '-';

        } else if (dst[i] == '/') {
            dst[i] = '_';
        }
    }

    return len;
}


/* header.payload signed with HS256 under key, whatever they say */
static size_t
test_jwt(const u_char *key, const char *header, const char *payload,
    u_char *out)
{
    size_t    n;
    u_char    md[EVP_MAX_MD_SIZE];
    unsigned  mdlen;

    n = test_b64url((const u_char *) header, strlen(header), out);
    out[n++] = '.';
    n += test_b64url((const u_char *) payload, strlen(payload), out + n);

    assert_non_null(HMAC(EVP_sha256(), key, NC_AUTH_KEY_LEN, out, n, md,
                         &mdlen));

    out[n++] = '.';
    n += test_b64url(md, mdlen, out + n);

    return n;
}


static nc_int_t
test_verify(const u_char *token, size_t len, uint64_t now)
{
    size_t    ulen;
    u_char    user[NC_AUTH_USER_MAX_LEN];
    uint64_t  exp;

    ulen = sizeof(user);

    return nc_auth_token_verify(test_key, token, len, now, user, &ulen, &exp);
}


/* --- passwords --------------------------------------------------------- */


static void
test_hash_roundtrip(void **state)
{
    size_t  n;
    u_char  out[NC_AUTH_PASSWORD_HASH_LEN];

    n = nc_auth_password_hash(S(TEST_PW), 1000, out, sizeof(out));

    assert_int_equal(n, sizeof(TEST_STORED) - 1);
    assert_memory_equal(out, "$pbkdf2-sha256$i=1000$", 22);
    assert_int_equal(nc_auth_password_verify(S(TEST_PW), out, n), NC_OK);
    assert_int_equal(nc_auth_password_iterations(out, n), 1000);

    /* the empty password is hashed like any other */
    n = nc_auth_password_hash(NULL, 0, 1000, out, sizeof(out));
    assert_int_not_equal(n, 0);
    assert_int_equal(nc_auth_password_verify(S(""), out, n), NC_OK);
    assert_int_equal(nc_auth_password_verify(S("x"), out, n), NC_DECLINED);
}


static void
test_hash_wrong(void **state)
{
    size_t  n;
    u_char  out[NC_AUTH_PASSWORD_HASH_LEN];
    u_char  big[NC_AUTH_PASSWORD_MAX_LEN + 1];

    n = nc_auth_password_hash(S(TEST_PW), 1000, out, sizeof(out));
    assert_int_not_equal(n, 0);

    assert_int_equal(nc_auth_password_verify(S("correct horse battery stapl"),
                                             out, n),
                     NC_DECLINED);
    assert_int_equal(nc_auth_password_verify(S("correct horse battery staple!"),
                                             out, n),
                     NC_DECLINED);
    assert_int_equal(nc_auth_password_verify(S("Correct horse battery staple"),
                                             out, n),
                     NC_DECLINED);
    assert_int_equal(nc_auth_password_verify(S(""), out, n), NC_DECLINED);

    nc_memset(big, 'a', sizeof(big));
    assert_int_equal(nc_auth_password_verify(big, sizeof(big), out, n),
                     NC_DECLINED);
}


static void
test_hash_vector(void **state)
{
    assert_int_equal(nc_auth_password_verify(S(TEST_PW), S(TEST_STORED)),
                     NC_OK);
    assert_int_equal(nc_auth_password_verify(S("correct horse"),
                                             S(TEST_STORED)),
                     NC_DECLINED);
    assert_int_equal(nc_auth_password_verify(S(""), S(TEST_STORED_EMPTY)),
                     NC_OK);
    assert_int_equal(nc_auth_password_verify(S(TEST_PW),
                                             S(TEST_STORED_EMPTY)),
                     NC_DECLINED);
    assert_int_equal(nc_auth_password_iterations(S(TEST_STORED)), 1000);
}


static void
test_hash_malformed(void **state)
{
    size_t       i, n;
    u_char       buf[256];
    const char  *salt = "AAECAwQFBgcICQoLDA0ODw";
    const char  *hash = "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4";

    static const char  *bad[] = {
        "",
        "$",
        "$pbkdf2-sha256$",
        "$pbkdf2-sha256$i=",
        "$pbkdf2-sha1$i=1000$%s$%s",
        "$pbkdf2-sha512$i=1000$%s$%s",
        "$PBKDF2-SHA256$i=1000$%s$%s",
        "pbkdf2-sha256$i=1000$%s$%s",
        " $pbkdf2-sha256$i=1000$%s$%s",
        "$pbkdf2-sha256$1000$%s$%s",
        "$pbkdf2-sha256$rounds=1000$%s$%s",
        "$pbkdf2-sha256$i=0$%s$%s",
        "$pbkdf2-sha256$i=999$%s$%s",
        "$pbkdf2-sha256$i=01000$%s$%s",
        "$pbkdf2-sha256$i=+1000$%s$%s",
        "$pbkdf2-sha256$i=-1000$%s$%s",
        "$pbkdf2-sha256$i=$%s$%s",
        "$pbkdf2-sha256$i=10000001$%s$%s",
        "$pbkdf2-sha256$i=99999999$%s$%s",
        "$pbkdf2-sha256$i=4294968296$%s$%s",            /* 2^32 + 1000 */
        "$pbkdf2-sha256$i=18446744073709552616$%s$%s",  /* 2^64 + 1000 */
        "$pbkdf2-sha256$i=1000$%s$%s$",
        "$pbkdf2-sha256$i=1000$%s$%s$x",
        "$pbkdf2-sha256$i=1000$%s$%sA",
        "$pbkdf2-sha256$i=1000$%s$%s=",
        "$pbkdf2-sha256$i=1000$%s==$%s",
        "$pbkdf2-sha256$i=1000$$%s$%s",
        "$pbkdf2-sha256$i=1000$%s%s",
        "$pbkdf2-sha256$i=1000,p=1$%s$%s",
        "$pbkdf2-sha256$i=1000$%s$%s\n",
        "$pbkdf2-sha256$i=1000 $%s$%s",
    };

    static const char  *badsalt[] = {
        "AAECAwQFBgcICQoLDA0OD*",
        "AAECAwQFBgcICQoLDA0OD-",
        "AAECAwQFBgcICQoLDA0OD_",
        "AAECAwQFBgcICQoLDA0OD.",
        "AAECAwQFBgcICQoLDA0ODx",        /* low bits set after the byte */
        "AAECAwQFBgcICQoLDA0OD ",
        "AAECAwQFBgcICQoLDA0O",
        "AAECAwQFBgcICQoLDA0ODwA",
    };

    static const char  *badhash[] = {
        "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ5",     /* ...56 | 1 */
        "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ\xff",
        "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ",
        "ppsXnjrdPB4KryJ6DrOqKqhkWrhv7PbKAMF1Eml8cZ4A",
    };

    for (i = 0; i < nc_nelems(bad); i++) {
        n = snprintf((char *) buf, sizeof(buf), bad[i], salt, hash);

        if (nc_auth_password_verify(S(TEST_PW), buf, n) != NC_ERROR
            || nc_auth_password_iterations(buf, n) != 0)
        {
            fail_msg("accepted \"%s\"", buf);
        }
    }

    /* bad base64: other alphabets, non-canonical last letters, lengths */
    for (i = 0; i < nc_nelems(badsalt); i++) {
        n = snprintf((char *) buf, sizeof(buf), "$pbkdf2-sha256$i=1000$%s$%s",
                     badsalt[i], hash);

        if (nc_auth_password_verify(S(TEST_PW), buf, n) != NC_ERROR) {
            fail_msg("accepted \"%s\"", buf);
        }
    }

    for (i = 0; i < nc_nelems(badhash); i++) {
        n = snprintf((char *) buf, sizeof(buf), "$pbkdf2-sha256$i=1000$%s$%s",
                     salt, badhash[i]);

        if (nc_auth_password_verify(S(TEST_PW), buf, n) != NC_ERROR) {
            fail_msg("accepted \"%s\"", buf);
        }
    }

    /* every truncation, and a NUL inside */
    for (n = 0; n < sizeof(TEST_STORED) - 1; n++) {
        assert_int_equal(nc_auth_password_verify(S(TEST_PW),
                                                 (const u_char *) TEST_STORED,
                                                 n),
                         NC_ERROR);
    }

    nc_memcpy(buf, TEST_STORED, sizeof(TEST_STORED) - 1);
    buf[30] = '\0';
    assert_int_equal(nc_auth_password_verify(S(TEST_PW), buf,
                                             sizeof(TEST_STORED) - 1),
                     NC_ERROR);

    assert_int_equal(nc_auth_password_verify(S(TEST_PW), NULL, 0), NC_ERROR);

    /* the bounds themselves parse (not verified: 10^7 takes seconds) */
    n = snprintf((char *) buf, sizeof(buf), "$pbkdf2-sha256$i=10000000$%s$%s",
                 salt, hash);
    assert_int_equal(n, NC_AUTH_PASSWORD_HASH_LEN);
    assert_int_equal(nc_auth_password_iterations(buf, n), 10000000);
}


static void
test_hash_salted(void **state)
{
    size_t  n1, n2;
    u_char  h1[NC_AUTH_PASSWORD_HASH_LEN], h2[NC_AUTH_PASSWORD_HASH_LEN];

    n1 = nc_auth_password_hash(S(TEST_PW), 1000, h1, sizeof(h1));
    n2 = nc_auth_password_hash(S(TEST_PW), 1000, h2, sizeof(h2));

    assert_int_equal(n1, n2);
    assert_memory_not_equal(h1, h2, n1);

    /* salts differ, so do hashes */
    assert_memory_not_equal(h1 + 22, h2 + 22, 22);
    assert_memory_not_equal(h1 + 45, h2 + 45, 43);

    assert_int_equal(nc_auth_password_verify(S(TEST_PW), h1, n1), NC_OK);
    assert_int_equal(nc_auth_password_verify(S(TEST_PW), h2, n2), NC_OK);
}


static void
test_hash_bounds(void **state)
{
    u_char  out[NC_AUTH_PASSWORD_HASH_LEN];
    u_char  big[NC_AUTH_PASSWORD_MAX_LEN + 1];

    assert_int_equal(nc_auth_password_hash(S(TEST_PW), 999, out, sizeof(out)),
                     0);
    assert_int_equal(nc_auth_password_hash(S(TEST_PW), 10000001, out,
                                           sizeof(out)),
                     0);
    assert_int_equal(nc_auth_password_hash(S(TEST_PW), 1000, out,
                                           sizeof(TEST_STORED) - 2),
                     0);
    assert_int_equal(nc_auth_password_hash(S(TEST_PW), 1000, out,
                                           sizeof(TEST_STORED) - 1),
                     sizeof(TEST_STORED) - 1);

    nc_memset(big, 'a', sizeof(big));
    assert_int_equal(nc_auth_password_hash(big, sizeof(big), 1000, out,
                                           sizeof(out)),
                     0);
    assert_int_not_equal(nc_auth_password_hash(big, sizeof(big) - 1, 1000,
                                               out, sizeof(out)),
                         0);
}


static void
test_hash_default(void **state)
{
    size_t  n;
    u_char  out[NC_AUTH_PASSWORD_HASH_LEN];
    double  t0, t1, t2;

    t0 = test_msec();
    n = nc_auth_password_hash(S(TEST_PW), 0, out, sizeof(out));
    t1 = test_msec();
    assert_int_equal(nc_auth_password_verify(S(TEST_PW), out, n), NC_OK);
    t2 = test_msec();

    assert_int_not_equal(n, 0);
    assert_int_equal(nc_auth_password_iterations(out, n),
                     NC_AUTH_KDF_ITERATIONS);

    print_message("pbkdf2-sha256, %u iterations: hash %.1f ms, "
                  "verify %.1f ms\n",
                  (unsigned) NC_AUTH_KDF_ITERATIONS, t1 - t0, t2 - t1);
}


/* --- tokens ------------------------------------------------------------ */


static void
test_token_roundtrip(void **state)
{
    size_t    n, ulen;
    u_char    key[NC_AUTH_KEY_LEN], out[NC_AUTH_TOKEN_LEN];
    u_char    user[NC_AUTH_USER_MAX_LEN];
    uint64_t  exp;

    for (n = 0; n < sizeof(key); n++) {
        key[n] = (u_char) (n + 1);
    }

    n = nc_auth_token_sign(key, S("nacos@example.com"), 1700000000, out,
                           sizeof(out));

    assert_int_equal(n, sizeof(TEST_TOKEN) - 1);
    assert_memory_equal(out, TEST_TOKEN, n);

    ulen = sizeof(user);
    assert_int_equal(nc_auth_token_verify(key, out, n, 1699999999, user,
                                          &ulen, &exp),
                     NC_OK);
    assert_int_equal(ulen, sizeof("nacos@example.com") - 1);
    assert_memory_equal(user, "nacos@example.com", ulen);
    assert_int_equal(exp, 1700000000);

    /* the longest user and exp fit NC_AUTH_TOKEN_LEN */
    nc_memset(user, 'u', sizeof(user));
    n = nc_auth_token_sign(test_key, user, sizeof(user), UINT64_MAX, out,
                           sizeof(out));
    assert_int_not_equal(n, 0);

    ulen = sizeof(user);
    assert_int_equal(nc_auth_token_verify(test_key, out, n, UINT64_MAX - 1,
                                          user, &ulen, &exp),
                     NC_OK);
    assert_int_equal(ulen, NC_AUTH_USER_MAX_LEN);
    assert_true(exp == UINT64_MAX);

    /* a user buffer too small is an error; NULL outputs are fine */
    n = nc_auth_token_sign(test_key, S("alice"), 100, out, sizeof(out));
    ulen = 4;
    assert_int_equal(nc_auth_token_verify(test_key, out, n, 0, user, &ulen,
                                          &exp),
                     NC_ERROR);
    assert_int_equal(nc_auth_token_verify(test_key, out, n, 0, NULL, NULL,
                                          NULL),
                     NC_OK);

    /* too small an out buffer */
    assert_int_equal(nc_auth_token_sign(test_key, S("alice"), 100, out,
                                        n - 1),
                     0);
    assert_int_equal(nc_auth_token_sign(test_key, S("alice"), 100, out, n),
                     n);
}


static void
test_token_expired(void **state)
{
    size_t    n, ulen;
    u_char    out[NC_AUTH_TOKEN_LEN], user[NC_AUTH_USER_MAX_LEN];
    uint64_t  exp;

    n = nc_auth_token_sign(test_key, S("bob"), 1000, out, sizeof(out));
    assert_int_not_equal(n, 0);

    assert_int_equal(test_verify(out, n, 999), NC_OK);
    assert_int_equal(test_verify(out, n, 1000), NC_DECLINED);
    assert_int_equal(test_verify(out, n, 1001), NC_DECLINED);
    assert_int_equal(test_verify(out, n, UINT64_MAX), NC_DECLINED);

    /* who and when are still told, for the log */
    ulen = sizeof(user);
    exp = 0;
    assert_int_equal(nc_auth_token_verify(test_key, out, n, 5000, user, &ulen,
                                          &exp),
                     NC_DECLINED);
    assert_int_equal(ulen, 3);
    assert_memory_equal(user, "bob", 3);
    assert_int_equal(exp, 1000);

    n = nc_auth_token_sign(test_key, S("bob"), 0, out, sizeof(out));
    assert_int_equal(test_verify(out, n, 0), NC_DECLINED);
}


static void
test_token_forged(void **state)
{
    int     bit;
    size_t  n, i, first, last;
    u_char  out[NC_AUTH_TOKEN_LEN], bad[NC_AUTH_TOKEN_LEN];

    n = nc_auth_token_sign(test_key, S("carol"), 1000000, out, sizeof(out));
    assert_int_equal(test_verify(out, n, 0), NC_OK);

    first = (u_char *) memchr(out, '.', n) - out;
    last = (u_char *) memrchr(out, '.', n) - out;
    assert_true(first < last);

    /* every bit of every byte: header, dots, payload, signature */
    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            nc_memcpy(bad, out, n);
            bad[i] ^= (u_char) (1 << bit);

            if (test_verify(bad, n, 0) != NC_ERROR) {
                fail_msg("accepted with bit %d of byte %zu (%s) flipped",
                         bit, i,
                         i < first ? "header"
                         : i > last ? "signature" : "payload");
            }
        }
    }

    /* a payload of another user under the same signature */
    n = nc_auth_token_sign(test_key, S("carol"), 1000000, out, sizeof(out));
    i = nc_auth_token_sign(test_key, S("admin"), 1000000, bad, sizeof(bad));
    assert_int_equal(n, i);
    nc_memcpy(bad + last, out + last, n - last);
    assert_int_equal(test_verify(bad, n, 0), NC_ERROR);
}


static void
test_token_wrong_key(void **state)
{
    size_t  n;
    u_char  other[NC_AUTH_KEY_LEN], out[NC_AUTH_TOKEN_LEN];

    nc_auth_random(other, sizeof(other));

    /* another cluster's token */
    n = nc_auth_token_sign(other, S("dave"), 1000000, out, sizeof(out));
    assert_int_not_equal(n, 0);
    assert_int_equal(nc_auth_token_verify(other, out, n, 0, NULL, NULL, NULL),
                     NC_OK);
    assert_int_equal(test_verify(out, n, 0), NC_ERROR);

    /* this file's HS256 agrees with the module's */
    n = test_jwt(test_key, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                 "{\"sub\":\"dave\",\"exp\":1000000}", out);
    assert_int_equal(test_verify(out, n, 0), NC_OK);
}


static void
test_token_header(void **state)
{
    size_t       i, n, d;
    u_char       out[2048];
    const char  *payload = "{\"sub\":\"eve\",\"exp\":1000000}";

    static const char  *headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\"}",
        "{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\", \"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"} ",
        "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
        "",
    };

    /* all signed with the right key: only the header is wrong */
    for (i = 0; i < nc_nelems(headers); i++) {
        n = test_jwt(test_key, headers[i], payload, out);

        if (test_verify(out, n, 0) != NC_ERROR) {
            fail_msg("accepted header %s", headers[i]);
        }
    }

    /* alg none, the classic: no signature at all */
    n = test_jwt(test_key, headers[0], payload, out);
    d = (u_char *) memrchr(out, '.', n) - out;
    assert_int_equal(test_verify(out, d + 1, 0), NC_ERROR);
    assert_int_equal(test_verify(out, d, 0), NC_ERROR);

    /* our header with no signature */
    n = test_jwt(test_key, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload,
                 out);
    d = (u_char *) memrchr(out, '.', n) - out;
    assert_int_equal(test_verify(out, d + 1, 0), NC_ERROR);
}


static void
test_token_payload(void **state)
{
    size_t       i, n;
    u_char       out[4096];
    const char  *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    static const char  *bad[] = {
        "{\"sub\":\"a\",\"exp\":1000,\"iat\":0}",
        "{\"sub\":\"a\",\"exp\":1000,\"exp\":2000}",
        "{\"exp\":1000,\"sub\":\"a\"}",
        "{\"sub\":\"a\"}",
        "{\"exp\":1000}",
        "{}",
        "",
        "null",
        "[\"a\",1000]",
        "{\"sub\": \"a\",\"exp\":1000}",
        "{ \"sub\":\"a\",\"exp\":1000}",
        "{\"sub\":\"a\",\"exp\":1000 }",
        "{\"sub\":\"a\",\"exp\":1000}\n",
        "{\"sub\":\"a\",\"exp\":1000}}",
        "{\"sub\":\"a\",\"exp\":1000",
        "{\"sub\":\"a\",\"exp\":\"1000\"}",
        "{\"sub\":\"a\",\"exp\":01000}",
        "{\"sub\":\"a\",\"exp\":00}",
        "{\"sub\":\"a\",\"exp\":-1}",
        "{\"sub\":\"a\",\"exp\":+1000}",
        "{\"sub\":\"a\",\"exp\":1000.5}",
        "{\"sub\":\"a\",\"exp\":1e9}",
        "{\"sub\":\"a\",\"exp\":}",
        "{\"sub\":\"a\",\"exp\":null}",
        "{\"sub\":\"a\",\"exp\":18446744073709551616}",
        "{\"sub\":\"a\",\"exp\":99999999999999999999}",
        "{\"sub\":\"\",\"exp\":1000}",
        "{\"sub\":\"a\\\"b\",\"exp\":1000}",
        "{\"sub\":\"a\\u0062\",\"exp\":1000}",
        "{\"sub\":\"a b\",\"exp\":1000}",
        "{\"sub\":\"a/b\",\"exp\":1000}",
        "{\"sub\":\"\xc3\xa9\",\"exp\":1000}",
        "{\"sub\":1,\"exp\":1000}",
        "{\"sub\":[\"a\"],\"exp\":1000}",
        "{\"SUB\":\"a\",\"exp\":1000}",
        "{\"sub\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"   /* 65 letters */
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"exp\":1000}",
    };

    for (i = 0; i < nc_nelems(bad); i++) {
        n = test_jwt(test_key, header, bad[i], out);

        if (test_verify(out, n, 0) != NC_ERROR) {
            fail_msg("accepted payload %s", bad[i]);
        }
    }

    /* the edges of what is accepted */
    n = test_jwt(test_key, header,
                 "{\"sub\":\"a\",\"exp\":18446744073709551615}", out);
    assert_int_equal(test_verify(out, n, 0), NC_OK);

    n = test_jwt(test_key, header, "{\"sub\":\"a\",\"exp\":0}", out);
    assert_int_equal(test_verify(out, n, 0), NC_DECLINED);

    n = test_jwt(test_key, header,
                 "{\"sub\":\"aZ09_.@-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaa\",\"exp\":1000}", out);
    assert_int_equal(test_verify(out, n, 0), NC_OK);
}


static void
test_token_oversize(void **state)
{
    size_t  n;
    u_char  out[4096], tok[4096];
    char    payload[2048];

    /* properly signed and well-shaped but for a long user, past 1024 */
    (void) snprintf(payload, sizeof(payload),
                    "{\"sub\":\"%0900d\",\"exp\":1}", 7);
    n = test_jwt(test_key, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload,
                 out);
    assert_true(n > NC_AUTH_TOKEN_MAX_LEN);
    assert_int_equal(test_verify(out, n, 0), NC_ERROR);

    /* trailing garbage after a good token */
    n = nc_auth_token_sign(test_key, S("frank"), 1000, tok, sizeof(tok));
    assert_int_equal(test_verify(tok, n, 0), NC_OK);

    nc_memcpy(tok + n, "x", 1);
    assert_int_equal(test_verify(tok, n + 1, 0), NC_ERROR);
    nc_memcpy(tok + n, ".", 1);
    assert_int_equal(test_verify(tok, n + 1, 0), NC_ERROR);
    nc_memcpy(tok + n, "\0", 1);
    assert_int_equal(test_verify(tok, n + 1, 0), NC_ERROR);
    nc_memcpy(tok + n, "=", 1);
    assert_int_equal(test_verify(tok, n + 1, 0), NC_ERROR);

    /* a token padded to past the limit */
    nc_memset(tok + n, 'A', sizeof(tok) - n);
    assert_int_equal(test_verify(tok, NC_AUTH_TOKEN_MAX_LEN + 1, 0),
                     NC_ERROR);

    /* every truncation */
    n = nc_auth_token_sign(test_key, S("frank"), 1000, tok, sizeof(tok));

    while (n--) {
        assert_int_equal(test_verify(tok, n, 0), NC_ERROR);
    }

    assert_int_equal(test_verify(NULL, 0, 0), NC_ERROR);
}


static void
test_token_user(void **state)
{
    size_t         i, n;
    u_char         out[NC_AUTH_TOKEN_LEN], user[NC_AUTH_USER_MAX_LEN + 1];
    const u_char  *u;

    static const char  *good[] = {
        "a", "nacos", "Nacos_Admin", "a.b-c_d@example.org", "0", "-", "@",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.@-",
        "abcdefghijklmnopqrstuvwxyz0123456789",
    };

    static const char  *bad[] = {
        "", " ", "a b", "a\"b", "a\\b", "a/b", "a+b", "a:b", "a,b", "a{b",
        "a\tb", "a\nb", "caf\xc3\xa9", "a%b", "a'b", "<a>", "a*",
    };

    for (i = 0; i < nc_nelems(good); i++) {
        u = (const u_char *) good[i];
        n = strlen(good[i]);

        assert_true(n <= NC_AUTH_USER_MAX_LEN);
        assert_int_equal(nc_auth_user_valid(u, n), NC_OK);
        assert_int_not_equal(nc_auth_token_sign(test_key, u, n, 1, out,
                                                sizeof(out)),
                             0);
    }

    for (i = 0; i < nc_nelems(bad); i++) {
        u = (const u_char *) bad[i];
        n = strlen(bad[i]);

        if (nc_auth_user_valid(u, n) != NC_ERROR
            || nc_auth_token_sign(test_key, u, n, 1, out, sizeof(out)) != 0)
        {
            fail_msg("accepted user \"%s\"", bad[i]);
        }
    }

    /* a NUL inside, 64 and 65 letters, no user at all */
    assert_int_equal(nc_auth_token_sign(test_key, S("a\0b"), 1, out,
                                        sizeof(out)),
                     0);

    nc_memset(user, 'x', sizeof(user));
    assert_int_not_equal(nc_auth_token_sign(test_key, user,
                                            NC_AUTH_USER_MAX_LEN, 1, out,
                                            sizeof(out)),
                         0);
    assert_int_equal(nc_auth_token_sign(test_key, user,
                                        NC_AUTH_USER_MAX_LEN + 1, 1, out,
                                        sizeof(out)),
                     0);
    assert_int_equal(nc_auth_token_sign(test_key, NULL, 0, 1, out,
                                        sizeof(out)),
                     0);
}


/* --- the limiter ------------------------------------------------------- */


static void
test_limiter_burst(void **state)
{
    int                 i;
    nc_auth_limiter_t  *l;

    l = malloc(sizeof(nc_auth_limiter_t));
    assert_non_null(l);

    nc_auth_limiter_init(l, 5, 1);

    for (i = 0; i < 5; i++) {
        assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 1000), NC_OK);
        nc_auth_limiter_fail(l, S("alice"), 1000);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 1000), NC_BUSY);

    /* failures past the burst are not banked: a second, one more try */
    for (i = 0; i < 100; i++) {
        nc_auth_limiter_fail(l, S("alice"), 1000);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 1999), NC_BUSY);
    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_OK);

    /* a success refills the slot */
    nc_auth_limiter_success(l, S("alice"), 2000);

    for (i = 0; i < 5; i++) {
        assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_OK);
        nc_auth_limiter_fail(l, S("alice"), 2000);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_BUSY);

    /* a refund undoes one charge, no more: the other failures stay */
    nc_auth_limiter_refund(l, S("alice"), 2000);
    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_OK);
    nc_auth_limiter_fail(l, S("alice"), 2000);
    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_BUSY);

    nc_auth_limiter_success(l, S("alice"), 2000);
    nc_auth_limiter_refund(l, S("alice"), 2000);
    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), 2000), NC_OK);

    /* no refill at all */
    nc_auth_limiter_init(l, 1, 0);
    nc_auth_limiter_fail(l, S("alice"), 0);
    assert_int_equal(nc_auth_limiter_allow(l, S("alice"), UINT64_MAX),
                     NC_BUSY);

    free(l);
}


static void
test_limiter_refill(void **state)
{
    int                 i, n;
    nc_msec_t           now;
    nc_auth_limiter_t  *l;

    l = malloc(sizeof(nc_auth_limiter_t));
    assert_non_null(l);

    nc_auth_limiter_init(l, 5, 2);

    now = 1000000;

    for (i = 0; i < 5; i++) {
        nc_auth_limiter_fail(l, S("bob"), now);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now), NC_BUSY);

    /* 2 a second: one failure back every 500 ms */
    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now + 499), NC_BUSY);
    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now + 500), NC_OK);
    nc_auth_limiter_fail(l, S("bob"), now + 500);
    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now + 500), NC_BUSY);

    /* asked often or not, the refill is the same */
    for (i = 501; i < 1000; i++) {
        assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now + i),
                         NC_BUSY);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now + 1000), NC_OK);

    /* after a long while: the burst, no more */
    now += 1000000000;

    for (n = 0; nc_auth_limiter_allow(l, S("bob"), now) == NC_OK; n++) {
        nc_auth_limiter_fail(l, S("bob"), now);
        assert_true(n < 100);
    }

    assert_int_equal(n, 5);

    /* a clock going back refunds nothing */
    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), now - 10000),
                     NC_BUSY);

    /* a huge gap does not overflow */
    assert_int_equal(nc_auth_limiter_allow(l, S("bob"), UINT64_MAX), NC_OK);

    free(l);
}


static void
test_limiter_independent(void **state)
{
    int                 i;
    char                key[32];
    size_t              n;
    nc_uint_t           slot;
    nc_auth_limiter_t  *l;

    l = malloc(sizeof(nc_auth_limiter_t));
    assert_non_null(l);

    nc_auth_limiter_init(l, 3, 1);

    slot = nc_auth_limiter_slot(l, S("10.0.0.1"));

    for (i = 0; i < 3; i++) {
        nc_auth_limiter_fail(l, S("10.0.0.1"), 0);
    }

    assert_int_equal(nc_auth_limiter_allow(l, S("10.0.0.1"), 0), NC_BUSY);

    /* keys of other slots are untouched; a key of the same slot shares */
    for (i = 0; i < 10000; i++) {
        n = snprintf(key, sizeof(key), "10.1.%d.%d", i / 256, i % 256);

        if (nc_auth_limiter_slot(l, (u_char *) key, n) == slot) {
            assert_int_equal(nc_auth_limiter_allow(l, (u_char *) key, n, 0),
                             NC_BUSY);

        } else {
            assert_int_equal(nc_auth_limiter_allow(l, (u_char *) key, n, 0),
                             NC_OK);
        }
    }

    free(l);
}


static void
test_limiter_bounded(void **state)
{
    int                 i, used, same;
    char                key[32];
    size_t              n;
    u_char             *seen;
    nc_auth_limiter_t  *l, *m;

    /* the table is all there is */
    assert_true(sizeof(nc_auth_limiter_t)
                <= 64 + NC_AUTH_LIMITER_SLOTS * 16);

    l = malloc(sizeof(nc_auth_limiter_t));
    m = malloc(sizeof(nc_auth_limiter_t));
    seen = calloc(NC_AUTH_LIMITER_SLOTS, 1);
    assert_non_null(l);
    assert_non_null(m);
    assert_non_null(seen);

    nc_auth_limiter_init(l, 5, 1);
    nc_auth_limiter_init(m, 5, 1);

    /* a million keys fail, 4096 of them spread over the slots */
    same = 0;

    for (i = 0; i < 1000000; i++) {
        n = snprintf(key, sizeof(key), "user%d", i);
        nc_auth_limiter_fail(l, (u_char *) key, n, 0);

        if (i < 4096) {
            seen[nc_auth_limiter_slot(l, (u_char *) key, n)] = 1;

            same += nc_auth_limiter_slot(l, (u_char *) key, n)
                    == nc_auth_limiter_slot(m, (u_char *) key, n);
        }
    }

    for (used = 0, i = 0; i < NC_AUTH_LIMITER_SLOTS; i++) {
        used += seen[i];
    }

    /* 4096 balls in 1024 bins leave about 19 empty */
    assert_true(used > 950);

    /* another random key, another map: about 4 of 4096 agree */
    assert_true(same < 64);

    /* all saturated: everyone is refused, and recovers in time */
    assert_int_equal(nc_auth_limiter_allow(l, S("someone"), 0), NC_BUSY);
    assert_int_equal(nc_auth_limiter_allow(l, S("someone"), 1000), NC_OK);

    free(seen);
    free(m);
    free(l);
}


static void
test_siphash(void **state)
{
    size_t  i;
    u_char  key[16], msg[64];

    static const struct {
        size_t    len;
        uint64_t  h;
    } vec[] = {
        /* the reference implementation's vectors.h */
        { 0,  0x726fdb47dd0e0e31ULL },
        { 1,  0x74f839c593dc67fdULL },
        { 7,  0xab0200f58b01d137ULL },
        { 8,  0x93f5f5799a932462ULL },
        { 15, 0xa129ca6149be45e5ULL },
        { 16, 0x3f2acc7f57c29bdbULL },
        { 63, 0x958a324ceb064572ULL },
    };

    for (i = 0; i < sizeof(key); i++) {
        key[i] = (u_char) i;
    }

    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (u_char) i;
    }

    for (i = 0; i < nc_nelems(vec); i++) {
        assert_true(nc_auth_siphash(key, msg, vec[i].len) == vec[i].h);
    }
}


/* --- random ------------------------------------------------------------ */


static void
test_random(void **state)
{
    int     i, j;
    size_t  n;
    u_char  a[32], b[32], pw[2][NC_AUTH_RANDOM_PASSWORD_LEN];
    u_char  stored[NC_AUTH_PASSWORD_HASH_LEN];

    nc_auth_random(a, sizeof(a));
    nc_auth_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    nc_auth_random(a, 0);

    for (i = 0; i < 2; i++) {
        n = nc_auth_random_password(pw[i], sizeof(pw[i]));
        assert_int_equal(n, NC_AUTH_RANDOM_PASSWORD_LEN);

        for (j = 0; j < NC_AUTH_RANDOM_PASSWORD_LEN; j++) {
            if (!isalnum(pw[i][j]) || strchr("0Oo1Il", pw[i][j]) != NULL) {
                fail_msg("letter '%c' in a generated password", pw[i][j]);
            }
        }
    }

    assert_memory_not_equal(pw[0], pw[1], NC_AUTH_RANDOM_PASSWORD_LEN);
    assert_int_equal(nc_auth_random_password(pw[0],
                                             NC_AUTH_RANDOM_PASSWORD_LEN - 1),
                     0);

    /* a generated password is a fine password to hash */
    n = nc_auth_password_hash(pw[1], NC_AUTH_RANDOM_PASSWORD_LEN, 1000,
                              stored, sizeof(stored));
    assert_int_not_equal(n, 0);
    assert_int_equal(nc_auth_password_verify(pw[1],
                                             NC_AUTH_RANDOM_PASSWORD_LEN,
                                             stored, n),
                     NC_OK);
}


static int
test_setup(void **state)
{
    nc_auth_random(test_key, sizeof(test_key));

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_hash_roundtrip),
        cmocka_unit_test(test_hash_wrong),
        cmocka_unit_test(test_hash_vector),
        cmocka_unit_test(test_hash_malformed),
        cmocka_unit_test(test_hash_salted),
        cmocka_unit_test(test_hash_bounds),
        cmocka_unit_test(test_hash_default),
        cmocka_unit_test(test_token_roundtrip),
        cmocka_unit_test(test_token_expired),
        cmocka_unit_test(test_token_forged),
        cmocka_unit_test(test_token_wrong_key),
        cmocka_unit_test(test_token_header),
        cmocka_unit_test(test_token_payload),
        cmocka_unit_test(test_token_oversize),
        cmocka_unit_test(test_token_user),
        cmocka_unit_test(test_limiter_burst),
        cmocka_unit_test(test_limiter_refill),
        cmocka_unit_test(test_limiter_independent),
        cmocka_unit_test(test_limiter_bounded),
        cmocka_unit_test(test_siphash),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, test_setup, NULL);
}
