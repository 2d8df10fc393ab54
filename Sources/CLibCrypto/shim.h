// SHA-256 and HMAC-SHA256 on OpenSSL's low-level SHA-256 functions. OpenSSL 3 deprecates them in
// favour of EVP, but its one-shot HMAC() and SHA256() fetch the algorithm from a provider on every
// call (a lookup under locks): several microseconds, on every lookup answer that carries a signed
// popup link. The low-level functions hash directly.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stddef.h>
#include <string.h>
#include <openssl/sha.h>

/// SHA-256 of `data` into `out` (32 bytes).
static inline void clc_sha256(const unsigned char *data, size_t length, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, length);
    SHA256_Final(out, &context);
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key` into `out` (32 bytes); 1 on success.
static inline int clc_hmac_sha256(const void *key, int key_length, const unsigned char *data, size_t length,
                                  unsigned char *out) {
    unsigned char block[64];
    memset(block, 0, sizeof block);
    if (key_length < 0) return 0;
    if (key_length > 64) {
        clc_sha256((const unsigned char *)key, (size_t)key_length, block);
    } else if (key_length > 0) {
        memcpy(block, key, (size_t)key_length);
    }
    unsigned char pad[64];
    unsigned char inner[32];
    SHA256_CTX context;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&context);
    SHA256_Update(&context, pad, sizeof pad);
    SHA256_Update(&context, data, length);
    SHA256_Final(inner, &context);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&context);
    SHA256_Update(&context, pad, sizeof pad);
    SHA256_Update(&context, inner, sizeof inner);
    SHA256_Final(out, &context);
    return 1;
}
