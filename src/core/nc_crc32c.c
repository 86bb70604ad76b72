
/*
 * nacre: CRC-32C.
 *
 * The instruction path folds 8 bytes per crc32 instruction: one dependent
 * chain, so about 8 bytes per 3 cycles, far above what the log needs (its
 * records are hundreds of bytes and each batch ends in an fdatasync).
 * The table path is the classic slicing-by-8.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_crc32c.h>

#include <pthread.h>

#if (defined __x86_64__ || defined __i386__)
#define NC_CRC32C_X86  1
#include <nmmintrin.h>
#endif


#define NC_CRC32C_POLY  0x82F63B78U


static void nc_crc32c_init(void);
#if (NC_CRC32C_X86)
static uint32_t nc_crc32c_hw(uint32_t crc, const u_char *p, size_t len);
#endif


static uint32_t        nc_crc32c_table[8][256];
static int             nc_crc32c_use_hw;
static pthread_once_t  nc_crc32c_once = PTHREAD_ONCE_INIT;


uint32_t
nc_crc32c(uint32_t crc, const void *p, size_t len)
{
    (void) pthread_once(&nc_crc32c_once, nc_crc32c_init);

#if (NC_CRC32C_X86)
    if (nc_likely(nc_crc32c_use_hw)) {
        return nc_crc32c_hw(crc, p, len);
    }
#endif

    return nc_crc32c_sw(crc, p, len);
}


int
nc_crc32c_hw_available(void)
{
    (void) pthread_once(&nc_crc32c_once, nc_crc32c_init);

    return nc_crc32c_use_hw;
}


static uint32_t
nc_crc32c_load32(const u_char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


uint32_t
nc_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    uint32_t       lo, hi;
    const u_char  *p;

    (void) pthread_once(&nc_crc32c_once, nc_crc32c_init);

    p = data;
    crc = ~crc;

    while (len && ((uintptr_t) p & 7)) {
        crc = (crc >> 8) ^ nc_crc32c_table[0][(crc ^ *p++) & 0xff];
        len--;
    }

    while (len >= 8) {
        lo = crc ^ nc_crc32c_load32(p);
        hi = nc_crc32c_load32(p + 4);

        crc = nc_crc32c_table[7][lo & 0xff]
              ^ nc_crc32c_table[6][(lo >> 8) & 0xff]
              ^ nc_crc32c_table[5][(lo >> 16) & 0xff]
              ^ nc_crc32c_table[4][lo >> 24]
              ^ nc_crc32c_table[3][hi & 0xff]
              ^ nc_crc32c_table[2][(hi >> 8) & 0xff]
              ^ nc_crc32c_table[1][(hi >> 16) & 0xff]
              ^ nc_crc32c_table[0][hi >> 24];

        p += 8;
        len -= 8;
    }

    while (len--) {
        crc = (crc >> 8) ^ nc_crc32c_table[0][(crc ^ *p++) & 0xff];
    }

    return ~crc;
}


#if (NC_CRC32C_X86)

/*
 * Only this function is compiled for SSE4.2, so the rest of the binary
 * still runs on CPUs without it; it is called only after the check.
 */

__attribute__((target("sse4.2")))
static uint32_t
nc_crc32c_hw(uint32_t crc, const u_char *p, size_t len)
{
#if (defined __x86_64__)
    uint64_t  c, v;

    c = ~crc;

    while (len && ((uintptr_t) p & 7)) {
        c = _mm_crc32_u8((uint32_t) c, *p++);
        len--;
    }

    while (len >= 8) {
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }

    while (len--) {
        c = _mm_crc32_u8((uint32_t) c, *p++);
    }

    return ~(uint32_t) c;

#else
    uint32_t  c, v;

    c = ~crc;

    while (len >= 4) {
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }

    while (len--) {
        c = _mm_crc32_u8(c, *p++);
    }

    return ~c;
#endif
}

#endif


static void
nc_crc32c_init(void)
{
    int       k;
    uint32_t  i, c;

    for (i = 0; i < 256; i++) {
        c = i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ NC_CRC32C_POLY : c >> 1;
        }

        nc_crc32c_table[0][i] = c;
    }

    for (i = 0; i < 256; i++) {
        c = nc_crc32c_table[0][i];

        for (k = 1; k < 8; k++) {
            c = (c >> 8) ^ nc_crc32c_table[0][c & 0xff];
            nc_crc32c_table[k][i] = c;
        }
    }

#if (NC_CRC32C_X86)
    __builtin_cpu_init();
    nc_crc32c_use_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
}
