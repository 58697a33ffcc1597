/* SPDX-License-Identifier: Apache-2.0 */
/* Control-socket requests (shim.sock): a fresh shim (shim_new) per input over a fixed pod in the
 * scratch directory, the input sent as a client's bytes to its socket, and the event loop run
 * until the shim has answered and closed the connection. The pod's runtime does not exist, so
 * "start" fails in the runtime call (one fork) and nothing runs; "remove" ends the loop.
 * shim_new blocks SIGCHLD/SIGTERM/SIGINT for its signalfd: the mask is restored after each
 * input so that the fuzzer stays interruptible. */
#include "fuzz-common.h"
#include "shim.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define INPUT_MAX 65536

static char *pod_dir, *spec_text;

static void setup(void)
{
    pod_dir = xasprintf("%s/pod", fuzz_scratch());
    _cleanup_free_ char *bundle = xasprintf("%s/bundle", fuzz_scratch());
    if (mkdir(pod_dir, 0700) < 0 || mkdir(bundle, 0700) < 0)
        fuzz_fail("mkdir `%s`: %m", pod_dir);
    spec_text = xasprintf(
        "{\"name\":\"fuzz\",\"runtime\":\"%s/no-such-runtime\",\"logDir\":\"%s/logs\","
        "\"supervise\":false,\"restartPolicy\":\"Never\",\"runtimeTimeoutSeconds\":5,"
        "\"initContainers\":[{\"name\":\"setup\",\"bundle\":\"%s\"}],"
        "\"containers\":[{\"name\":\"web\",\"bundle\":\"%s\"},"
        "{\"name\":\"side\",\"bundle\":\"%s\",\"stopSignal\":\"SIGINT\"}]}",
        fuzz_scratch(), fuzz_scratch(), bundle, bundle, bundle);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fuzz_fail("connect `%s`: %m", path);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return -1;
    if (!pod_dir)
        setup();
    int fds_before = fuzz_count_fds();
    sigset_t saved;
    sigprocmask(SIG_SETMASK, NULL, &saved);

    struct pod_spec *spec = NULL;
    pr_error *err = NULL;
    if (pod_spec_parse(spec_text, "fuzz spec", &spec, &err) < 0)
        fuzz_fail("the fixed spec: %s", err->msg);
    struct shim *s = NULL;
    if (shim_new(pod_dir, spec, &s, &err) < 0)
        fuzz_fail("shim_new: %s", err->msg);

    _cleanup_free_ char *sock_path = xasprintf("%s/shim.sock", pod_dir);
    int fd = connect_to(sock_path);
    /* The whole input fits the socket buffer (at most 64 KiB); then EOF, so the shim closes its
     * end after the last request and the loop below ends. */
    int one = INPUT_MAX * 4;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
    for (size_t off = 0; off < size;) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            fuzz_fail("send: %m");
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    char buf[65536];
    for (int round = 0; round < 10000; round++) {
        int r = sd_event_run(s->event, 0);
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
            ;
        if (n == 0 || r < 0 || sd_event_get_state(s->event) == SD_EVENT_FINISHED)
            break;
    }
    close(fd);
    shim_free(s);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (err)
        pr_error_free(err);
    if (fuzz_count_fds() != fds_before)
        fuzz_fail("descriptors leaked: %d before, %d after", fds_before, fuzz_count_fds());
    return 0;
}
