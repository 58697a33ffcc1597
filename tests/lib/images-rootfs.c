/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper for pieces of the images library no CLI command exposes (container roots are
 * `podrun image mount`):
 *   images-rootfs ROOT user IMAGE-ROOTFS USER   prints "uid gid [gids...]"
 *   images-rootfs ROOT unpack LAYER-FILE DIR    unpacks one layer into an empty DIR (bench) */
#include "images/images.h"
#include "images/overlay.h"
#include "images/unpack.h"
#include "util.h"

#include <fcntl.h>

static int fail(pr_error *err, int r)
{
    fprintf(stderr, "images-rootfs: %s\n", err && err->msg ? err->msg : strerror(-r));
    pr_error_free(err);
    return 1;
}

int main(int argc, char **argv)
{
    pr_error *err = NULL;
    if (argc == 5 && streq(argv[2], "user")) {
        _cleanup_close_ int fd = open(argv[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
        image_process p = {0};
        int r = fd < 0 ? -errno : images_resolve_user(fd, argv[4], &p, &err);
        if (r < 0)
            return fail(err, r);
        printf("%u %u", p.uid, p.gid);
        for (size_t i = 0; i < p.n_additional_gids; i++)
            printf(" %u", p.additional_gids[i]);
        printf("\n");
        image_process_clear(&p);
        return 0;
    }
    if (argc == 5 && streq(argv[2], "unpack")) {
        _cleanup_close_ int src = open(argv[3], O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int dest = open(argv[4], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r =
            src < 0 || dest < 0 ? -errno : unpack_layer_fd(src, dest, argv[3], NULL, NULL, &err);
        return r < 0 ? fail(err, r) : 0;
    }
    fprintf(stderr, "usage: images-rootfs ROOT user ROOTFS USER | unpack LAYER-FILE DIR\n");
    return 2;
}
