#ifndef FLEET_CLIBCRYPTO_SHIM_H
#define FLEET_CLIBCRYPTO_SHIM_H
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#endif
