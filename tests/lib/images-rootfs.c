/* Test helper for the images library's container roots (no CLI command exposes them yet):
 *   images-rootfs ROOT mount IMAGE ID DIR   mounts DIR/rootfs, prints the runtime config pieces
 *   images-rootfs ROOT umount ID DIR        unmounts, removes the upper dir and the references
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
    bool mount = argc == 6 && streq(argv[2], "mount");
    if (!mount && !(argc == 5 && streq(argv[2], "umount"))) {
        fprintf(
            stderr,
            "usage: images-rootfs ROOT mount IMAGE ID DIR | umount ID DIR | user ROOTFS USER\n");
        return 2;
    }
    _cleanup_store_ image_store *s = NULL;
    int r = store_open(argv[1], false, &s, &err);
    if (r < 0)
        return fail(err, r);
    if (!mount) {
        r = images_unmount_rootfs(s, argv[3], argv[4], &err);
        return r < 0 ? fail(err, r) : 0;
    }
    _cleanup_free_ char *rootfs = NULL;
    r = images_mount_rootfs(s, argv[3], argv[4], argv[5], &rootfs, &err);
    if (r < 0)
        return fail(err, r);
    image_rec rec = {0};
    image_process p = {0};
    if ((r = store_find_image(s, argv[3], &rec, &err)) < 0 ||
        (r = images_process_config(s, &rec, rootfs, &p, &err)) < 0) {
        image_rec_clear(&rec);
        images_unmount_rootfs(s, argv[4], argv[5], NULL);
        return fail(err, r);
    }
    _cleanup_free_ char *json = images_runtime_config_json(&p, rootfs);
    printf("%s\n", json);
    image_process_clear(&p);
    image_rec_clear(&rec);
    return 0;
}
