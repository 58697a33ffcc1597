#include "cloned-binary.h"
#include "util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int rt_is_cloned_binary(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

int rt_ensure_cloned_binary(char **argv, pr_error **err)
{
    int r = rt_is_cloned_binary();
    if (r > 0)
        return 0;
    _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return pr_err(err, errno, "open /proc/self/exe");
    struct stat st;
    if (fstat(src, &st) < 0)
        return pr_err(err, errno, "stat /proc/self/exe");
    _cleanup_close_ int mfd = memfd_create("podrun-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return pr_err(err, errno, "memfd_create");
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : EIO, "copy the runtime binary into a memfd");
        left -= n;
    }
    if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
        return pr_err(err, errno, "seal the runtime's memfd copy");
    /* The copy's /proc/self/exe names a memfd: say where the real binary is, for the helpers
     * that live beside it (podrun-runtime-systemd). */
    char real[4096];
    ssize_t n = readlink("/proc/self/exe", real, sizeof(real) - 1);
    if (n > 0) {
        real[n] = '\0';
        setenv("PODRUN_RUNTIME_EXE", real, 0);
    }
    fexecve(mfd, argv, environ);
    return pr_err(err, errno, "re-execute from the sealed memfd copy");
}
