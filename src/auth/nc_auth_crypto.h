
/*
 * nacre: the cryptography of the auth subsystem, pure functions over
 * caller-owned buffers (no pool, no log, no global state):
 *
 *   passwords  PBKDF2-HMAC-SHA256 with a 16-byte random salt, stored as the
 *              self-describing text
 *                  $pbkdf2-sha256$i=<iterations>$<salt>$<hash>
 *              (standard base64 without padding), so the cost can be raised
 *              later: nc_auth_password_iterations() tells a caller when a
 *              stored hash is weaker than NC_AUTH_KDF_ITERATIONS and should
 *              be re-hashed after a successful login;
 *   tokens     JWT compact form, HS256 under a 32-byte cluster key, header
 *              {"alg":"HS256","typ":"JWT"}, payload {"sub":"<user>","exp":N}
 *              and nothing else;
 *   limiter    a fixed-size table of token buckets counting failed logins;
 *   random     bytes, keys, salts and generated passwords from RAND_bytes().
 *
 * There is no built-in password and no built-in key: both come from
 * nc_auth_random() or from the operator.
 */

#ifndef _NC_AUTH_CRYPTO_H_INCLUDED_
#define _NC_AUTH_CRYPTO_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


/*
 * OWASP's figure for PBKDF2-HMAC-SHA256.  One hash took 134-145 ms on the
 * 2-CPU EPYC build machine (OpenSSL 3.0.22, best of 7, 2026-08), up to
 * 230 ms while a build ran beside it; it blocks the worker that verifies.
 */
#define NC_AUTH_KDF_ITERATIONS      600000
#define NC_AUTH_KDF_MIN_ITERATIONS  1000
#define NC_AUTH_KDF_MAX_ITERATIONS  10000000    /* 2.3 s here: bounded */

#define NC_AUTH_SALT_LEN            16
#define NC_AUTH_HASH_LEN            32
#define NC_AUTH_PASSWORD_MAX_LEN    1024

/* the longest stored text: i=10000000, 22 + 43 base64 characters */
#define NC_AUTH_PASSWORD_HASH_LEN                                             \
    (sizeof("$pbkdf2-sha256$i=10000000$$") - 1 + 22 + 43)

#define NC_AUTH_KEY_LEN             32
#define NC_AUTH_USER_MAX_LEN        64          /* [A-Za-z0-9_.@-]{1,64} */
#define NC_AUTH_TOKEN_MAX_LEN       1024        /* longer ones are refused */

/* the longest token we sign: 36 + 1 + b64url(101) + 1 + 43 */
#define NC_AUTH_TOKEN_LEN                                                     \
    (36 + 1 + (8 + NC_AUTH_USER_MAX_LEN + 8 + 20 + 1 + 2) / 3 * 4 + 1 + 43)

#define NC_AUTH_RANDOM_PASSWORD_LEN 24          /* 24 of 56 letters: 139 bits */

#define NC_AUTH_LIMITER_SLOTS       1024        /* a power of two */


/*
 * Writes the stored text to out, not NUL-terminated; returns its length,
 * or 0 if iterations are out of bounds (0 means NC_AUTH_KDF_ITERATIONS),
 * the password is longer than NC_AUTH_PASSWORD_MAX_LEN, or size is too
 * small (NC_AUTH_PASSWORD_HASH_LEN is always enough).
 */
size_t nc_auth_password_hash(const u_char *pw, size_t len, unsigned iterations,
    u_char *out, size_t size);

/* NC_OK match, NC_DECLINED mismatch, NC_ERROR malformed stored text */
nc_int_t nc_auth_password_verify(const u_char *pw, size_t len,
    const u_char *stored, size_t stored_len);

/* the iterations of a well-formed stored text, 0 if malformed */
unsigned nc_auth_password_iterations(const u_char *stored, size_t len);


/* NC_OK if user is 1 to 64 of [A-Za-z0-9_.@-], NC_ERROR otherwise */
nc_int_t nc_auth_user_valid(const u_char *user, size_t len);

/*
 * Writes the token to out, not NUL-terminated; returns its length, or 0 if
 * the user name is not valid or size is too small (NC_AUTH_TOKEN_LEN is
 * always enough).  exp is in unix seconds.
 */
size_t nc_auth_token_sign(const u_char key[NC_AUTH_KEY_LEN],
    const u_char *user, size_t user_len, uint64_t exp, u_char *out,
    size_t size);

/*
 * NC_OK valid; NC_DECLINED signed by key but expired (exp <= now); NC_ERROR
 * anything else: forged, another key, another header or payload shape,
 * longer than NC_AUTH_TOKEN_MAX_LEN, or a user longer than *user_len.
 * user (*user_len: in, the buffer size; out, the length) and exp are set on
 * NC_OK and NC_DECLINED only; either may be NULL.
 */
nc_int_t nc_auth_token_verify(const u_char key[NC_AUTH_KEY_LEN],
    const u_char *token, size_t len, uint64_t now, u_char *user,
    size_t *user_len, uint64_t *exp);


/*
 * Failed logins per key (a user name, a client address), one table per
 * worker.  A key's slot is chosen by SipHash under a random key, so an
 * attacker cannot aim at a slot; two keys sharing a slot share its bucket,
 * which may refuse a key that failed nothing (never the other way round).
 * Each slot holds `burst` failures and regains `per_second` a second.
 *
 *     if (nc_auth_limiter_allow(l, key, len, now) == NC_BUSY) { refuse }
 *     hash, compare;
 *     mismatch: nc_auth_limiter_fail(l, key, len, now)
 *
 * nc_auth_limiter_success() refills a slot: use it for user names only; on
 * a client address it would let one valid account reset the budget of
 * guesses against the others.  When the compare happens later (another
 * thread), charge first with nc_auth_limiter_fail(), so attempts in
 * flight count, and nc_auth_limiter_refund() that one charge on success.
 */

typedef struct {
    uint64_t                stamp;       /* msec of the last refill */
    uint64_t                tokens;      /* in thousandths of a failure */
} nc_auth_limiter_slot_t;

typedef struct {
    u_char                  key[16];     /* SipHash key */
    uint64_t                burst;       /* in thousandths */
    uint64_t                rate;        /* thousandths per msec */
    nc_auth_limiter_slot_t  slots[NC_AUTH_LIMITER_SLOTS];
} nc_auth_limiter_t;


void nc_auth_limiter_init(nc_auth_limiter_t *l, nc_uint_t burst,
    nc_uint_t per_second);
nc_int_t nc_auth_limiter_allow(nc_auth_limiter_t *l, const u_char *key,
    size_t len, nc_msec_t now);
void nc_auth_limiter_fail(nc_auth_limiter_t *l, const u_char *key, size_t len,
    nc_msec_t now);
void nc_auth_limiter_success(nc_auth_limiter_t *l, const u_char *key,
    size_t len, nc_msec_t now);
void nc_auth_limiter_refund(nc_auth_limiter_t *l, const u_char *key,
    size_t len, nc_msec_t now);
nc_uint_t nc_auth_limiter_slot(nc_auth_limiter_t *l, const u_char *key,
    size_t len);

/* SipHash-2-4 */
uint64_t nc_auth_siphash(const u_char key[16], const u_char *p, size_t len);


/* RAND_bytes(), aborting the process if it fails */
void nc_auth_random(u_char *buf, size_t n);

/* NC_AUTH_RANDOM_PASSWORD_LEN letters, not NUL-terminated; 0 if too small */
size_t nc_auth_random_password(u_char *out, size_t size);


#endif /* _NC_AUTH_CRYPTO_H_INCLUDED_ */
