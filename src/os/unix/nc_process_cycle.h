
/*
 * nacre: the master's supervision loop and the workers' event loop.
 */

#ifndef _NC_PROCESS_CYCLE_H_INCLUDED_
#define _NC_PROCESS_CYCLE_H_INCLUDED_


#include <nc_config.h>
#include <nc_core.h>


extern nc_uint_t  nc_exiting;          /* a worker draining after QUIT */


void nc_master_process_cycle(nc_cycle_t *cycle);


#endif /* _NC_PROCESS_CYCLE_H_INCLUDED_ */
