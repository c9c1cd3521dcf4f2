/* zlib's *Init2 entry points are function-like macros; these wrappers make them callable from Swift. */
#include <zlib.h>

/* Window bits 15 + 16 select the gzip wrapper (RFC 1952), as Content-Encoding: gzip requires. */
static inline int sl_deflate_init_gzip(z_streamp s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/* Raw deflate (no header), as permessage-deflate (RFC 7692) uses. mem_level sizes the hash table
   (2^(mem_level + 7) entries), which deflateReset clears on every reuse. */
static inline int sl_deflate_init_raw(z_streamp s, int level, int window_bits, int mem_level) {
    return deflateInit2(s, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY);
}
/* 15 + 32: inflate zlib or gzip, detected from the header. */
static inline int sl_inflate_init_auto(z_streamp s) { return inflateInit2(s, 15 + 32); }
static inline int sl_inflate_init_raw(z_streamp s, int window_bits) { return inflateInit2(s, -window_bits); }
static inline int sl_deflate_init_zlib(z_streamp s, int level) { return deflateInit(s, level); }
