
/*
 * nacre: the umbrella header of src/core. Every .c outside src/raft starts
 * with `#include <nc_config.h>` then `#include <nc_core.h>`.
 */

#ifndef _NC_CORE_H_INCLUDED_
#define _NC_CORE_H_INCLUDED_


#include <nc_config.h>


typedef struct nc_cycle_s        nc_cycle_t;
typedef struct nc_pool_s         nc_pool_t;
typedef struct nc_log_s          nc_log_t;
typedef struct nc_buf_s          nc_buf_t;
typedef struct nc_event_s        nc_event_t;
typedef struct nc_connection_s   nc_connection_t;
typedef struct nc_conf_s         nc_conf_t;
typedef struct nc_listening_s    nc_listening_t;

typedef void (*nc_event_handler_pt)(nc_event_t *ev);
typedef void (*nc_connection_handler_pt)(nc_connection_t *c);


/* one return-code vocabulary for the whole daemon */
#define  NC_OK          0
#define  NC_ERROR      -1
#define  NC_AGAIN      -2      /* would block: state kept, call again */
#define  NC_BUSY       -3
#define  NC_DONE       -4      /* finished elsewhere / ownership passed */
#define  NC_DECLINED   -5      /* not mine: next handler */
#define  NC_ABORT      -6


#include <nc_string.h>
#include <nc_queue.h>
#include <nc_palloc.h>
#include <nc_array.h>
#include <nc_buf.h>
#include <nc_log.h>
#include <nc_times.h>
#include <nc_conf.h>


#endif /* _NC_CORE_H_INCLUDED_ */
