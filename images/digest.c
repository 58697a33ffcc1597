/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"
#include "util.h"

#include <openssl/evp.h>

struct digester {
    EVP_MD_CTX *ctx;
};

digester *digester_new(void)
{
    digester *d = xmalloc(sizeof(*d));
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
        abort(); /* only fails on allocation failure */
    return d;
}

void digester_update(digester *d, const void *data, size_t len)
{
    if (len)
        EVP_DigestUpdate(d->ctx, data, len);
}

void digester_final(digester *d, char out[DIGEST_STR_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(d->ctx, md, &n);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    out[DIGEST_STR_LEN] = '\0';
    EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL);
}

void digester_free(digester *d)
{
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

void digest_buffer(const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
    _cleanup_digester_ digester *d = digester_new();
    digester_update(d, data, len);
    digester_final(d, out);
}

bool digest_is_valid(const char *digest)
{
    if (!digest || !has_prefix(digest, "sha256:") || strlen(digest) != DIGEST_STR_LEN)
        return false;
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int digest_check(const char *digest, const char *what, pr_error **err)
{
    if (digest_is_valid(digest))
        return 0;
    return pr_err(err, 0, "%s: unsupported or malformed digest `%s` (want sha256:<64 hex>)", what,
                  digest ? digest : "(none)");
}
