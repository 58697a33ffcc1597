/* SPDX-License-Identifier: Apache-2.0 */
#include "cloned-binary.h"
#include "util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

#ifdef HAVE_INIT_STUB
static const unsigned char init_stub[] = {
#include "init-stub-blob.h"
};
#endif

int rt_is_cloned_binary(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

/* An executable memfd to fill and seal. Kernels since 6.3 may default memfds to
 * non-executable (vm.memfd_noexec): ask for exec where the flag is known. */
static int exec_memfd(const char *name, pr_error **err)
{
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return pr_err(err, errno, "memfd_create %s", name);
    return fd;
}

static int seal(int fd, const char *what, pr_error **err)
{
    if (fcntl(fd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
        return pr_err(err, errno, "seal %s", what);
    return 0;
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
    _cleanup_close_ int mfd = exec_memfd("podrun-runtime", err);
    if (mfd < 0)
        return mfd;
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : EIO, "copy the runtime binary into a memfd");
        left -= n;
    }
    if ((r = seal(mfd, "the runtime's memfd copy", err)) < 0)
        return r;
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

bool rt_init_stub_available(void)
{
#ifdef HAVE_INIT_STUB
    return true;
#else
    return false;
#endif
}

int rt_init_stub_open(pr_error **err)
{
#ifdef HAVE_INIT_STUB
    _cleanup_close_ int fd = exec_memfd("podrun-init", err);
    if (fd < 0)
        return fd;
    const unsigned char *p = init_stub;
    size_t left = sizeof(init_stub);
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : EIO, "write the init stub into its memfd");
        p += n;
        left -= (size_t)n;
    }
    int r = seal(fd, "the init stub's memfd", err);
    return r < 0 ? r : steal_fd(&fd);
#else
    return pr_err(err, ENOTSUP, "this build has no init stub for its architecture");
#endif
}
