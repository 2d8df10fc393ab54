#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/// HMAC-SHA256 of `data` under `key` into `out` (32 bytes); 1 on success.
static inline int clc_hmac_sha256(const void *key, int key_length, const unsigned char *data, size_t length,
                                  unsigned char *out) {
    unsigned int written = 32;
    return HMAC(EVP_sha256(), key, key_length, data, length, out, &written) != NULL;
}

/// SHA-256 of `data` into `out` (32 bytes).
static inline void clc_sha256(const unsigned char *data, size_t length, unsigned char *out) {
    SHA256(data, length, out);
}
