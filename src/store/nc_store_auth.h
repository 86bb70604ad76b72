
/*
 * nacre: users, roles, permissions and the token key in the store.
 *
 *   auth/key                           32 random bytes: signs every token
 *   auth/user/<user>                   the password hash
 *                                      ($pbkdf2-sha256$i=...$salt$hash)
 *   auth/role/<user>/<role>            empty: the user has the role
 *   auth/perm/<role>\x1f<resource>\x1f<action>
 *                                      empty: Nacos' permission row
 *
 * All of type NC_STORE_T_AUTH, so the KV API (whose keys start with
 * "kv/") can neither read nor write them.  Each command is one store
 * command (nc_store_apply.h) whose result is the same on every member.
 */

#ifndef _NC_STORE_AUTH_H_INCLUDED_
#define _NC_STORE_AUTH_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_apply.h>


#define NC_STORE_T_AUTH             4

#define NC_STORE_AUTH_KEY           "auth/key"
#define NC_STORE_AUTH_USER          "auth/user/"
#define NC_STORE_AUTH_ROLE          "auth/role/"
#define NC_STORE_AUTH_PERM          "auth/perm/"
#define NC_STORE_AUTH_SEP           '\x1f'
#define NC_STORE_AUTH_KEY_LEN       32

#define NC_STORE_AUTH_ADMIN_USER    "nacos"
#define NC_STORE_AUTH_ADMIN_ROLE    "ROLE_ADMIN"

/*
 * commands; key is the record's full key, value as below
 *
 *   BOOTSTRAP      auth/key; value: the key, then the admin's hash.  Makes
 *                  the key, the admin user and its ROLE_ADMIN once:
 *                  declined if a key exists (a second leader lost)
 *   USER_ADD       auth/user/<u>; value: hash.  Declined if it exists
 *   USER_PASSWORD  auth/user/<u>; value: hash.  Declined if absent
 *   USER_DELETE    auth/user/<u>; the user and its roles.  Declined if
 *                  absent
 *   ROLE_ADD       auth/role/<u>/<role>.  Declined if it exists or the user
 *                  does not
 *   ROLE_DELETE    auth/role/<u>/<role>, or auth/role/ with value <role>:
 *                  the role of every user.  Declined if none was there
 *   PERM_ADD       auth/perm/...  Declined if it exists
 *   PERM_DELETE    auth/perm/...  Declined if absent
 */
#define NC_STORE_AUTH_BOOTSTRAP     (NC_STORE_OP_DOMAIN + 8)
#define NC_STORE_AUTH_USER_ADD      (NC_STORE_OP_DOMAIN + 9)
#define NC_STORE_AUTH_USER_PASSWORD (NC_STORE_OP_DOMAIN + 10)
#define NC_STORE_AUTH_ROLE_ADD      (NC_STORE_OP_DOMAIN + 11)
#define NC_STORE_AUTH_PERM_ADD      (NC_STORE_OP_DOMAIN + 12)
#define NC_STORE_AUTH_USER_DELETE   (NC_STORE_OP_DOMAIN + 13)
#define NC_STORE_AUTH_ROLE_DELETE   (NC_STORE_OP_DOMAIN + 14)
#define NC_STORE_AUTH_PERM_DELETE   (NC_STORE_OP_DOMAIN + 15)


void nc_store_auth_init(void);

/*
 * Encode a command into buf (size NC_STORE_CMD_HEADER + key + value
 * suffices); the key is built from up to three parts joined as the layout
 * above wants: (user), (user, role), (role, resource, action).
 */
size_t nc_store_auth_command(u_char *buf, size_t size, nc_uint_t op,
    const nc_str_t *a, const nc_str_t *b, const nc_str_t *c,
    const u_char *value, size_t value_len);


#endif /* _NC_STORE_AUTH_H_INCLUDED_ */
