/* SPDX-License-Identifier: Apache-2.0 */
/* Layer tarballs (plain, gzip or zstd; OCI whiteouts; links, devices, xattrs) through
 * unpack_layer_fd, the entry point store_unpack_layer and image loading use. The input goes in a
 * memfd; it is unpacked into a fresh directory of the process's scratch directory, which is
 * removed after each input. Checked after each input: no descriptor left open, and nothing
 * created beside the layer directory (an entry that escaped it by "..", a symlink or a hard link
 * would land there first). */
#include "fs.h"
#include "fuzz-common.h"
#include "unpack.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define INPUT_MAX (1u << 20)
#define TAR_BLOCK 512

/* A mutated tar header almost never keeps its checksum right, and libarchive drops a header
 * whose checksum is wrong: for an uncompressed input, every block that carries the ustar magic
 * gets its checksum recomputed, so that mutations reach the unpacker instead of the checksum
 * test. Compressed inputs go in as they are. */
static void fix_tar_checksums(uint8_t *buf, size_t size)
{
    for (size_t off = 0; off + TAR_BLOCK <= size; off += TAR_BLOCK) {
        uint8_t *h = buf + off;
        if (memcmp(h + 257, "ustar", 5) != 0)
            continue;
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < TAR_BLOCK; i++)
            sum += h[i];
        snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
        h[155] = ' ';
    }
}

static char *layer_dir;

static void check_scratch_holds_only_layer(void)
{
    DIR *d = opendir(fuzz_scratch());
    if (!d)
        fuzz_fail("opendir `%s`: %m", fuzz_scratch());
    struct dirent *de;
    while ((de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "layer"))
            fuzz_fail("`%s` appeared beside the layer directory", de->d_name);
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return -1;
    if (!layer_dir)
        layer_dir = xasprintf("%s/layer", fuzz_scratch());
    int fds_before = fuzz_count_fds();
    int src = memfd_create("fuzz-layer", MFD_CLOEXEC);
    if (src < 0)
        fuzz_fail("memfd_create: %m");
    _cleanup_free_ uint8_t *buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    fix_tar_checksums(buf, size);
    for (size_t off = 0; off < size;) {
        ssize_t n = write(src, buf + off, size - off);
        if (n <= 0)
            fuzz_fail("write memfd: %m");
        off += (size_t)n;
    }
    if (lseek(src, 0, SEEK_SET) != 0)
        fuzz_fail("lseek: %m");
    if (mkdir(layer_dir, 0755) < 0)
        fuzz_fail("mkdir `%s`: %m", layer_dir);
    int dest = open(layer_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dest < 0)
        fuzz_fail("open `%s`: %m", layer_dir);

    char got[DIGEST_STR_LEN + 1];
    pr_error *err = NULL;
    int r = unpack_layer_fd(src, dest, "fuzz layer", NULL, got, &err);
    if (r < 0 && !err)
        fuzz_fail("unpack_layer_fd failed without an error");
    if (r == 0 && !digest_is_valid(got))
        fuzz_fail("unpack_layer_fd returned the digest `%s`", got);
    pr_error_free(err);
    close(dest);
    close(src);

    if (fuzz_count_fds() != fds_before)
        fuzz_fail("descriptors leaked: %d before, %d after", fds_before, fuzz_count_fds());
    check_scratch_holds_only_layer();
    if (rm_rf(layer_dir) < 0)
        fuzz_fail("cannot remove `%s`", layer_dir);
    return 0;
}
