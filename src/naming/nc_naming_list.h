
/*
 * nacre: an instance list as Nacos answers it (its 2.x ServiceInfo), for
 * /instance/list and for UDP pushes.
 */

#ifndef _NC_NAMING_LIST_H_INCLUDED_
#define _NC_NAMING_LIST_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>
#include <nc_store.h>
#include <nc_store_naming.h>


#define NC_NAMING_LIST_HEALTHY_ONLY  0x01
#define NC_NAMING_LIST_PUSH          0x02    /* a push's data: no groupName */


/*
 * The list of the service name names (grouped: "group@@service") in
 * version v, for the clusters asked (a comma list, "": all; echoed as it
 * is).  In the common case (every cluster, nobody filtered out, the
 * protect threshold not reached) the hosts are the service's whole list,
 * rendered once per revision of the service and kept (see below); else
 * they are chosen and rendered for this answer.  NC_OK, or NC_ERROR on no
 * memory.
 */
nc_int_t nc_naming_list(nc_pool_t *pool, nc_store_t *st,
    const nc_store_version_t *v, const nc_store_naming_name_t *name,
    const nc_str_t *grouped, const nc_str_t *clusters, nc_uint_t flags,
    nc_str_t *out);

/* this process keeps rendered lists within max bytes (naming.list_cache;
 * 0: none); forgets those it has */
void nc_naming_list_cache(size_t max);

/* is the name among the comma-separated list */
nc_flag_t nc_naming_in_list(const nc_str_t *list, const u_char *p,
    size_t len);

/* wall-clock milliseconds */
uint64_t nc_naming_now(void);


#endif /* _NC_NAMING_LIST_H_INCLUDED_ */
