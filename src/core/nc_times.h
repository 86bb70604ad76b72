
/*
 * nacre: cached time. The event loop refreshes it once per iteration so
 * hot paths never call the clock.
 */

#ifndef _NC_TIMES_H_INCLUDED_
#define _NC_TIMES_H_INCLUDED_


#include <nc_config.h>


extern volatile nc_msec_t  nc_current_msec;      /* monotonic */
extern volatile time_t     nc_cached_time_sec;   /* wall clock */
extern nc_str_t            nc_cached_err_log_time;
extern nc_str_t            nc_cached_http_time;
extern nc_str_t            nc_cached_http_log_time;


void nc_time_init(void);
void nc_time_update(void);

/* "Sun, 06 Nov 1994 08:49:37 GMT"; buf needs 30 bytes */
u_char *nc_http_time(u_char *buf, time_t t);

/* parse the three HTTP date forms; -1 on error */
time_t nc_parse_http_time(const u_char *value, size_t len);

nc_msec_t nc_monotonic_msec(void);


#endif /* _NC_TIMES_H_INCLUDED_ */
