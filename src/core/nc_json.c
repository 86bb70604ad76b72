
/*
 * nacre: writing JSON text.
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_json.h>


size_t
nc_json_escape_len(const u_char *src, size_t len)
{
    size_t  n;

    for (n = 0; len; len--, src++) {
        if (*src == '"' || *src == '\\' || *src == '\n' || *src == '\r'
            || *src == '\t' || *src == '\b' || *src == '\f')
        {
            n += 2;

        } else if (*src < 0x20 || *src == 0x7f) {
            n += 6;

        } else {
            n++;
        }
    }

    return n;
}


u_char *
nc_json_escape(u_char *dst, const u_char *src, size_t len)
{
    u_char              ch;
    static const u_char hex[] = "0123456789abcdef";

    for ( /* void */ ; len; len--) {
        ch = *src++;

        switch (ch) {
        case '"':  *dst++ = '\\'; *dst++ = '"'; break;
        case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
        case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
        case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
        case '\t': *dst++ = '\\'; *dst++ = 't'; break;
        case '\b': *dst++ = '\\'; *dst++ = 'b'; break;
        case '\f': *dst++ = '\\'; *dst++ = 'f'; break;

        default:
            if (ch < 0x20 || ch == 0x7f) {
                *dst++ = '\\'; *dst++ = 'u'; *dst++ = '0'; *dst++ = '0';
                *dst++ = hex[ch >> 4];
                *dst++ = hex[ch & 0xf];

            } else {
                /* UTF-8 passes through as is */
                *dst++ = ch;
            }
        }
    }

    return dst;
}
