
/*
 * nacre: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of iSCSI, ext4 metadata and most write-ahead logs.
 *
 * nc_crc32c(0, p, len) is the CRC of p; a running CRC goes back in as the
 * first argument, so nc_crc32c(nc_crc32c(0, a, n), b, m) is the CRC of a
 * followed by b.  The SSE4.2 crc32 instruction is used when the CPU has it
 * (checked once, at the first call), slicing-by-8 tables otherwise.
 */

#ifndef _NC_CRC32C_H_INCLUDED_
#define _NC_CRC32C_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


uint32_t nc_crc32c(uint32_t crc, const void *p, size_t len);

/* for tests and benches: the table code, and whether the instruction runs */
uint32_t nc_crc32c_sw(uint32_t crc, const void *p, size_t len);
int nc_crc32c_hw_available(void);


#endif /* _NC_CRC32C_H_INCLUDED_ */
