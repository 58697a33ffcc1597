/* SPDX-License-Identifier: Apache-2.0 */
/* sha256 digests ("sha256:<64 hex>") over OpenSSL's EVP interface, streaming. */
#ifndef PODRUN_IMAGES_DIGEST_H
#define PODRUN_IMAGES_DIGEST_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

typedef struct digester digester;

digester *digester_new(void);
void digester_update(digester *d, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_LEN + 1 bytes); the digester can be reused after. */
void digester_final(digester *d, char out[DIGEST_STR_LEN + 1]);
void digester_free(digester *d);
static inline void digester_freep(digester **d)
{
    if (*d)
        digester_free(*d);
}
#define _cleanup_digester_ __attribute__((cleanup(digester_freep)))

void digest_buffer(const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);

/* True for "sha256:" followed by exactly 64 lowercase hex digits: the only algorithm we store,
 * and the check that keeps a digest from naming a path outside the blob directory. */
bool digest_is_valid(const char *digest);
int digest_check(const char *digest, const char *what, pr_error **err);
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *digest)
{
    return digest + 7;
}

#endif
