/* SPDX-License-Identifier: Apache-2.0 */
/* WWW-Authenticate challenges and token responses through images_pull, the only entry point
 * that reads them: a registry served by a thread of this process answers the manifest request
 * with 401 and the input's first line as the WWW-Authenticate header, and any other request
 * (the token server the challenge's realm names, when it points back here) with 200 and the rest
 * of the input as body. The retried manifest request gets 404, so every pull fails after the
 * authentication under test.
 * The realm is input too and may name any host: the process first moves into a network
 * namespace of its own with only loopback up (it must run as root), so that nothing leaves it.
 * The store, registries.conf and auth file (credentials for the Basic path) live in the
 * scratch directory. */
#include "fuzz-common.h"
#include "images.h"
#include "store.h"
#include "util.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define INPUT_MAX     16384
#define REGISTRY_PORT 5000

static image_store *store;
static struct pull_options opts;
static char *ref;
/* The input the registry thread serves: a copy of the fuzzer's, under lock, so that a
 * connection still being answered when images_pull returns never reads a freed input. */
static pthread_mutex_t serving = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *cur_data;
static size_t cur_size;
static int listen_fd = -1;

static void loopback_only_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        fuzz_fail("unshare(CLONE_NEWNET): %m (run as root: the realm may name any host)");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        fuzz_fail("SIOCGIFFLAGS lo: %m");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        fuzz_fail("SIOCSIFFLAGS lo: %m");
    close(fd);
}

static void send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

/* One request per connection; anything but a plain-HTTP GET (curl's TLS attempt first) is
 * dropped at once. */
static void serve(int fd)
{
    char req[8192];
    size_t n = 0;
    while (n < sizeof(req) - 1) {
        ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
        if (n >= 4 && strncmp(req, "GET ", 4) != 0)
            return;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    const char *nl = memchr(cur_data, '\n', cur_size);
    size_t hlen = nl ? (size_t)(nl - (const char *)cur_data) : cur_size;
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? cur_size - hlen - 1 : 0;
    _cleanup_free_ char *head = NULL;
    if (strncmp(req, "GET /v2/fuzz/img/manifests/", 27) == 0) {
        if (strcasestr(req, "\r\nAuthorization:")) {
            head = xstrdup("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            send_all(fd, head, strlen(head));
            return;
        }
        head = xasprintf("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n"
                         "WWW-Authenticate: ");
        send_all(fd, head, strlen(head));
        /* The header's bytes as given, except line ends, which would end it. */
        for (size_t i = 0; i < hlen; i++) {
            char c = (char)cur_data[i];
            if (c != '\r')
                send_all(fd, &c, 1);
        }
        send_all(fd, "\r\n\r\n", 4);
        return;
    }
    head = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     blen);
    send_all(fd, head, strlen(head));
    send_all(fd, body, blen);
}

static void *server(void *arg)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&serving);
        serve(fd);
        pthread_mutex_unlock(&serving);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    return NULL;
}

static void setup(void)
{
    loopback_only_netns();
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* A fixed port (the namespace is ours alone), so that corpus inputs can name it. */
    const int port = REGISTRY_PORT;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(listen_fd, 16) < 0)
        fuzz_fail("listen on 127.0.0.1:%d: %m", port);
    pthread_t t;
    if (pthread_create(&t, NULL, server, NULL) != 0)
        fuzz_fail("pthread_create");
    pthread_detach(t);

    _cleanup_free_ char *root = xasprintf("%s/store", fuzz_scratch());
    pr_error *err = NULL;
    if (store_open(root, false, &store, &err) < 0)
        fuzz_fail("store_open: %s", err->msg);
    char *conf = xasprintf("%s/registries.conf", fuzz_scratch());
    _cleanup_free_ char *conf_text =
        xasprintf("[[registry]]\nlocation = \"127.0.0.1:%d\"\ninsecure = true\n", port);
    fuzz_write_file(conf, (const uint8_t *)conf_text, strlen(conf_text));
    char *auth = xasprintf("%s/auth.json", fuzz_scratch());
    /* "fuzz:secret" */
    _cleanup_free_ char *auth_text =
        xasprintf("{\"auths\":{\"127.0.0.1:%d\":{\"auth\":\"ZnV6ejpzZWNyZXQ=\"}}}", port);
    fuzz_write_file(auth, (const uint8_t *)auth_text, strlen(auth_text));
    opts = (struct pull_options){.quiet = true, .tls_verify = -1, .registries_conf = conf,
                                 .auth_file = auth};
    ref = xasprintf("127.0.0.1:%d/fuzz/img:latest", port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return -1;
    if (!store)
        setup();
    pthread_mutex_lock(&serving);
    free(cur_data);
    cur_data = xmalloc(size + 1);
    memcpy(cur_data, data, size);
    cur_size = size;
    pthread_mutex_unlock(&serving);
    char *id = NULL;
    pr_error *err = NULL;
    if (images_pull(store, ref, &opts, &id, &err) == 0)
        fuzz_fail("the pull succeeded although the registry never serves a manifest");
    if (!err)
        fuzz_fail("images_pull failed without an error");
    pr_error_free(err);
    free(id);
    return 0;
}
