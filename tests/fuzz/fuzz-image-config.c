/* SPDX-License-Identifier: Apache-2.0 */
/* OCI image configs as the store reads them: each input is stored as a blob of an image store in
 * the scratch directory (store_put_blob), then read back by images_config_info (created,
 * rootfs.diff_ids) and images_process_config (Entrypoint, Cmd, Env, User resolved through a
 * fixed /etc/passwd and /etc/group, Labels ...), and turned into runtime config pieces by
 * the pod manager's runtime config builder (pods_bundle_config). The blob is removed after each input. */
#include "fuzz-common.h"
#include "image.h"
#include "overlay.h"
#include "pods/pods.h"
#include "store.h"
#include "util.h"

#include <sys/stat.h>

static image_store *store;
static char *rootfs;

static void setup(void)
{
    _cleanup_free_ char *root = xasprintf("%s/store", fuzz_scratch());
    pr_error *err = NULL;
    if (store_open(root, false, &store, &err) < 0)
        fuzz_fail("store_open: %s", err->msg);
    rootfs = xasprintf("%s/rootfs", fuzz_scratch());
    _cleanup_free_ char *etc = xasprintf("%s/etc", rootfs);
    if (mkdir(rootfs, 0755) < 0 || mkdir(etc, 0755) < 0)
        fuzz_fail("mkdir `%s`: %m", etc);
    _cleanup_free_ char *passwd = xasprintf("%s/passwd", etc);
    _cleanup_free_ char *group = xasprintf("%s/group", etc);
    static const char pw[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "web:x:1000:1000::/home/web:/bin/sh\n";
    static const char gr[] = "root:x:0:\ndaemon:x:1:web\nweb:x:1000:\nwheel:x:10:web,root\n";
    fuzz_write_file(passwd, (const uint8_t *)pw, sizeof(pw) - 1);
    fuzz_write_file(group, (const uint8_t *)gr, sizeof(gr) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONFIG_MAX_SIZE)
        return -1;
    if (!store)
        setup();
    char digest[DIGEST_STR_LEN + 1];
    pr_error *err = NULL;
    if (store_put_blob(store, data, size, NULL, digest, &err) < 0)
        fuzz_fail("store_put_blob: %s", err->msg);

    _cleanup_free_ char *created = NULL;
    _cleanup_strv_ char **diff_ids = NULL;
    _cleanup_error_ pr_error *e1 = NULL, *e2 = NULL;
    images_config_info(store, digest, &created, &diff_ids, &e1);

    image_rec rec = {.config = digest};
    image_process p = {0};
    if (images_process_config(store, &rec, rootfs, &p, &e2) == 0) {
        struct pods_container_config c = {.rootfs = rootfs, .image = &p};
        _cleanup_free_ char *json = NULL;
        _cleanup_error_ pr_error *e3 = NULL;
        if (pods_bundle_config(&c, &json, &e3) < 0 && !e3)
            fuzz_fail("pods_bundle_config failed without an error");
        image_process_clear(&p);
    } else if (!e2) {
        fuzz_fail("images_process_config failed without an error");
    }

    _cleanup_free_ char *path = store_blob_path(store, digest);
    if (unlink(path) < 0)
        fuzz_fail("unlink `%s`: %m", path);
    return 0;
}
