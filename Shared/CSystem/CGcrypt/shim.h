#ifndef FLEET_CGCRYPT_SHIM_H
#define FLEET_CGCRYPT_SHIM_H
#include <gcrypt.h>

// gcry_control is variadic (Swift cannot call it). Initialization must finish before any other
// call; the caller runs this once (a Swift static). Secure memory is off: keys live in ordinary
// process memory anyway, and without this libgcrypt warns on stderr.
static inline int fleet_gcrypt_initialize(void) {
    if (!gcry_check_version(GCRYPT_VERSION)) return 0;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return 1;
}

// HMAC-SHA256 in one call: with GCRY_MD_FLAG_HMAC the first buffer is the key.
static inline int fleet_gcrypt_hmac_sha256(
    const void *key, size_t key_length, const void *message, size_t message_length, unsigned char out[32]) {
    gcry_buffer_t buffers[2] = {
        {0, 0, key_length, (void *)key},
        {0, 0, message_length, (void *)message},
    };
    return gcry_md_hash_buffers(GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC, out, buffers, 2) == 0;
}
#endif
