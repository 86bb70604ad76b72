
/*
 * nacre: writing JSON text. (Reading JSON arrives with the API rooms.)
 */

#ifndef _NC_JSON_H_INCLUDED_
#define _NC_JSON_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


/* bytes that nc_json_escape() writes for src (quotes not included) */
size_t nc_json_escape_len(const u_char *src, size_t len);

/* escape src as the inside of a JSON string; returns the end of dst */
u_char *nc_json_escape(u_char *dst, const u_char *src, size_t len);


#endif /* _NC_JSON_H_INCLUDED_ */
