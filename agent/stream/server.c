/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server: a TCP listener, a thread accepting on it, one thread per connection
 * (at most STREAM_CONNS_MAX), and the token cache the CRI calls fill. */
#include "internal.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

uint64_t stream_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* ADDR, ADDR:PORT or [ADDR6]:PORT. */
static int parse_address(const char *a, struct sockaddr_storage *ss, socklen_t *len, pr_error **err)
{
    _cleanup_free_ char *host = NULL;
    const char *port = NULL;
    if (a[0] == '[') {
        const char *end = strchr(a, ']');
        if (!end || (end[1] && end[1] != ':'))
            return pr_err(err, 0, "streaming address `%s`: expected [ADDR]:PORT", a);
        host = xstrndup(a + 1, end - a - 1);
        port = end[1] ? end + 2 : NULL;
    } else {
        const char *colon = strchr(a, ':');
        if (colon && strchr(colon + 1, ':')) {
            host = xstrdup(a); /* a bare IPv6 address */
        } else {
            host = colon ? xstrndup(a, colon - a) : xstrdup(a);
            port = colon ? colon + 1 : NULL;
        }
    }
    unsigned long p = 0;
    if (port) {
        char *end;
        errno = 0;
        p = strtoul(port, &end, 10);
        if (!*port || *end || errno || p > 65535)
            return pr_err(err, 0, "streaming address `%s`: bad port `%s`", a, port);
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(p);
        *len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(p);
        *len = sizeof(*in6);
    } else {
        return pr_err(err, 0, "streaming address `%s`: `%s` is not an IP address", a, host);
    }
    return 0;
}

static void *acceptor(void *data)
{
    stream_server *s = data;
    for (;;) {
        struct pollfd p[2] = {{s->listen_fd, POLLIN, 0}, {s->stop_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        bool full = s->nconns >= STREAM_CONNS_MAX;
        if (!full)
            s->nconns++;
        pthread_mutex_unlock(&s->lock);
        if (full) {
            close(fd);
            continue;
        }
        struct stream_conn_arg *a = xmalloc(sizeof(*a));
        a->s = s;
        a->fd = fd;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, stream_conn_main, a) != 0) {
            close(fd);
            free(a);
            pthread_mutex_lock(&s->lock);
            s->nconns--;
            pthread_cond_broadcast(&s->gone);
            pthread_mutex_unlock(&s->lock);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

int stream_server_new(const struct stream_options *o, stream_server **out, pr_error **err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int r = parse_address(o->address ? o->address : "127.0.0.1", &ss, &len, err);
    if (r < 0)
        return r;
    _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "streaming server: socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0)
        return pr_err(err, errno, "streaming server: listen on `%s`",
                      o->address ? o->address : "127.0.0.1");
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return pr_err(err, errno, "streaming server: getsockname");
    stream_server *s = xcalloc(1, sizeof(*s));
    s->o = *o;
    if (!s->o.idle_usec)
        s->o.idle_usec = STREAM_IDLE_USEC_DEFAULT;
    char host[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(s->address, sizeof(s->address), "%s:%u", host, ntohs(in4->sin_port));
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(s->address, sizeof(s->address), "[%s]:%u", host, ntohs(in6->sin6_port));
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0) {
        free(s);
        return pr_err(err, errno, "streaming server: eventfd");
    }
    s->listen_fd = steal_fd(&fd);
    stream_tokens_init(&s->tokens);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->gone, NULL);
    if ((r = pthread_create(&s->acceptor, NULL, acceptor, s)) != 0) {
        stream_server_free(s);
        return pr_err(err, r, "streaming server: start its thread");
    }
    s->acceptor_started = true;
    *out = s;
    return 0;
}

void stream_server_free(stream_server *s)
{
    if (!s)
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof(one)) < 0) {
        /* an eventfd write of 1 fails only on overflow */
    }
    if (s->acceptor_started)
        pthread_join(s->acceptor, NULL);
    /* Connections see stop_fd too: they cancel what they run and end. */
    pthread_mutex_lock(&s->lock);
    while (s->nconns)
        pthread_cond_wait(&s->gone, &s->lock);
    pthread_mutex_unlock(&s->lock);
    close(s->listen_fd);
    close(s->stop_fd);
    stream_tokens_clear(&s->tokens);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->gone);
    free(s);
}

const char *stream_server_address(const stream_server *s)
{
    return s->address;
}

char *stream_server_url(stream_server *s, const struct stream_request *req, pr_error **err)
{
    static const char *const kinds[] = {"exec", "attach", "portforward"};
    char id[STREAM_TOKEN_LEN + 1];
    int r = stream_tokens_add(&s->tokens, req, stream_now_usec(), id);
    if (r == -EAGAIN) {
        pr_err_code(err, EAGAIN, "the streaming server has %d requests waiting for a client",
                    STREAM_TOKENS_MAX);
        return NULL;
    }
    if (r < 0) {
        pr_err(err, -r, "make a streaming token");
        return NULL;
    }
    return xasprintf("http://%s/%s/%s", s->address, kinds[req->kind], id);
}
