
/*
 * nacre: cached time.
 */

#include <nc_config.h>
#include <nc_core.h>


volatile nc_msec_t  nc_current_msec;
volatile time_t     nc_cached_time_sec;

/* roomy buffers: snprintf() cannot know the fields are in range */
static u_char  nc_err_log_time[64];
static u_char  nc_http_time_buf[64];
static u_char  nc_http_log_time[64];

/* empty, not NULL, until nc_time_init(): a log line may come first */
nc_str_t            nc_cached_err_log_time = { 0, nc_err_log_time };
nc_str_t            nc_cached_http_time = { 0, nc_http_time_buf };
nc_str_t            nc_cached_http_log_time = { 0, nc_http_log_time };

static const char  *nc_week[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char  *nc_months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};


void
nc_time_init(void)
{
    nc_cached_err_log_time.len = sizeof("1970/09/28 12:00:00") - 1;
    nc_cached_err_log_time.data = nc_err_log_time;
    nc_cached_http_time.len = sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1;
    nc_cached_http_time.data = nc_http_time_buf;
    nc_cached_http_log_time.len = sizeof("1970-09-28T12:00:00+06:00") - 1;
    nc_cached_http_log_time.data = nc_http_log_time;

    nc_cached_time_sec = -1;
    nc_time_update();
}


nc_msec_t
nc_monotonic_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (nc_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
nc_time_update(void)
{
    time_t      sec;
    struct tm   tm, gmt;
    long        off;

    nc_current_msec = nc_monotonic_msec();

    sec = time(NULL);
    if (sec == nc_cached_time_sec) {
        return;
    }

    nc_cached_time_sec = sec;

    (void) localtime_r(&sec, &tm);
    (void) gmtime_r(&sec, &gmt);

    (void) snprintf((char *) nc_err_log_time, sizeof(nc_err_log_time),
                    "%4d/%02d/%02d %02d:%02d:%02d",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);

    (void) nc_http_time(nc_http_time_buf, sec);

    off = tm.tm_gmtoff / 60;

    (void) snprintf((char *) nc_http_log_time, sizeof(nc_http_log_time),
                    "%4d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec,
                    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}


u_char *
nc_http_time(u_char *buf, time_t t)
{
    struct tm  tm;

    (void) gmtime_r(&t, &tm);

    return buf + snprintf((char *) buf, 30,
                          "%s, %02d %s %4d %02d:%02d:%02d GMT",
                          nc_week[tm.tm_wday], tm.tm_mday % 100,
                          nc_months[tm.tm_mon], (tm.tm_year + 1900) % 10000,
                          tm.tm_hour % 100, tm.tm_min % 100,
                          tm.tm_sec % 100);
}


time_t
nc_parse_http_time(const u_char *value, size_t len)
{
    char        buf[64];
    struct tm   tm;
    char       *end;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    nc_memcpy(buf, value, len);
    buf[len] = '\0';
    nc_memzero(&tm, sizeof(struct tm));

    end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0') {
        nc_memzero(&tm, sizeof(struct tm));
        end = strptime(buf, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
    }

    if (end == NULL || *end != '\0') {
        nc_memzero(&tm, sizeof(struct tm));
        end = strptime(buf, "%a %b %e %H:%M:%S %Y", &tm);
    }

    if (end == NULL || *end != '\0') {
        return -1;
    }

    return timegm(&tm);
}
