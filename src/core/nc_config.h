
/*
 * nacre: system headers and base types every file sees first.
 */

#ifndef _NC_CONFIG_H_INCLUDED_
#define _NC_CONFIG_H_INCLUDED_


#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "nc_auto_config.h"

/* the one PCRE2 flavour we use: 8-bit code units */
#define PCRE2_CODE_UNIT_WIDTH  8

#include <sys/types.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/prctl.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>


typedef intptr_t        nc_int_t;
typedef uintptr_t       nc_uint_t;
typedef intptr_t        nc_flag_t;
typedef uint64_t        nc_msec_t;       /* monotonic milliseconds */
typedef int64_t         nc_msec_int_t;
typedef unsigned char   u_char;
typedef int             nc_fd_t;
typedef int             nc_err_t;

#define NC_INVALID_FILE  -1

#define NC_INT_T_LEN     (sizeof("-9223372036854775808") - 1)
#define NC_MAX_INT_T_VALUE  INTPTR_MAX
#define NC_MAX_SIZE_T_VALUE SIZE_MAX

#define NC_ALIGNMENT     sizeof(uintptr_t)
#define nc_align(d, a)       (((d) + (a - 1)) & ~(a - 1))
#define nc_align_ptr(p, a)                                                    \
    (u_char *) (((uintptr_t) (p) + ((uintptr_t) a - 1)) & ~((uintptr_t) a - 1))

#define nc_abs(value)        (((value) >= 0) ? (value) : - (value))
#define nc_max(a, b)         (((a) < (b)) ? (b) : (a))
#define nc_min(a, b)         (((a) > (b)) ? (b) : (a))
#define nc_nelems(a)         (sizeof(a) / sizeof((a)[0]))

#define nc_likely(x)         __builtin_expect(!!(x), 1)
#define nc_unlikely(x)       __builtin_expect(!!(x), 0)

#define NC_PRINTF(f, a)      __attribute__((format(printf, f, a)))
#define NC_UNUSED            __attribute__((unused))

#define NC_LINEFEED          "\n"


#endif /* _NC_CONFIG_H_INCLUDED_ */
