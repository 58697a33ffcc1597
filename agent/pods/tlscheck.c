/* SPDX-License-Identifier: Apache-2.0 */
/* kubernetes.io/tls Secrets: tls.crt must be a PEM certificate (chain) and tls.key the PEM
 * private key of its first certificate. The API server checks only that both keys are there;
 * an Ingress controller finds out when it loads them, too late for the one who applied them,
 * so podrun refuses a pair that does not load when it is applied. */
#include "manager.h"
#include "util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define TLS_TYPE "kubernetes.io/tls"

int pods_tls_pair_check(const char *crt, size_t crt_len, const char *key, size_t key_len,
                        pr_error **err)
{
    BIO *cb = BIO_new_mem_buf(crt, (int)crt_len), *kb = BIO_new_mem_buf(key, (int)key_len);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb && x ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int r = 0;
    if (!x)
        r = pr_err(err, 0, "tls.crt: not a PEM certificate");
    else if (!k)
        r = pr_err(err, 0, "tls.key: not a PEM private key (or one with a passphrase)");
    else if (X509_check_private_key(x, k) != 1)
        r = pr_err(err, 0, "tls.key: not the private key of the certificate in tls.crt");
    ERR_clear_error();
    EVP_PKEY_free(k);
    X509_free(x);
    BIO_free(kb);
    BIO_free(cb);
    return r;
}

/* A key of the Secret being applied: stringData wins over data (base64). */
static int secret_value(const struct kube_object *o, const char *key, char **out, size_t *len)
{
    const char *plain = kube_map_get(&o->u.secret.string_data, key);
    if (plain) {
        *out = xstrdup(plain);
        *len = strlen(plain);
        return 0;
    }
    const char *b64 = kube_map_get(&o->u.secret.data, key);
    return b64 ? pods_b64_decode(b64, out, len) : -ENOENT;
}

int pods_tls_secret_check(const struct kube_object *o, pr_error **err)
{
    if (o->kind != KUBE_SECRET || !o->u.secret.type || !streq(o->u.secret.type, TLS_TYPE))
        return 0;
    _cleanup_free_ char *crt = NULL, *key = NULL;
    size_t crt_len = 0, key_len = 0;
    int r = 0;
    if (secret_value(o, "tls.crt", &crt, &crt_len) < 0)
        r = pr_err(err, 0, "data[tls.crt]: Required value");
    else if (secret_value(o, "tls.key", &key, &key_len) < 0)
        r = pr_err(err, 0, "data[tls.key]: Required value");
    else
        r = pods_tls_pair_check(crt, crt_len, key, key_len, err);
    if (r < 0)
        return pr_err_prefix(err, "Secret \"%s\" is invalid (type %s)", o->meta.name, TLS_TYPE);
    return 0;
}
