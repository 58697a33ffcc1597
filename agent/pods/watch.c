/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for a resource's listing to change, for `get -w`: inotify on the directories whose
 * entries make the listing (lib-root/objects/RESOURCE/NS/ for every kind; for pods also
 * run-root/pods/UID/ for the pod's record and UID/shim/ for the shim's status.json, which the
 * shim replaces by rename on every change). Nothing is polled: an idle watch sleeps in poll(2). */
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>

/* What tells a listing changed: entries made, removed or renamed in. Every state file is
 * replaced by a rename (DESIGN.md), so neither IN_MODIFY nor IN_CLOSE_WRITE is needed; the
 * latter would also fire when a reader (this watch's own listing) closes a lock file it opened
 * for writing, a loop that would never sleep. */
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE_SELF | IN_ONLYDIR)

struct pods_watch {
    int fd;
    bool pods;
    char *objects;  /* lib-root/objects/RESOURCE */
    char *run_pods; /* run-root/pods */
    char *lib_root, *run_root;
};

static void add(struct pods_watch *w, const char *path)
{
    /* A directory missing now is added by a later rearm, once its parent reports it. */
    (void)inotify_add_watch(w->fd, path, WATCH_MASK);
}

/* dir and its subdirectories (depth levels more). */
static void add_tree(struct pods_watch *w, const char *dir, int depth, const char *sub)
{
    add(w, dir);
    if (depth <= 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
        add_tree(w, p, depth - 1, NULL);
        if (sub) {
            _cleanup_free_ char *s = xasprintf("%s/%s", p, sub);
            add(w, s);
        }
    }
    closedir(d);
}

/* Watches every directory that exists now; called again after each change, so directories made
 * since (a new namespace, a new pod's shim dir) are watched too. Re-adding is harmless. */
static void rearm(struct pods_watch *w)
{
    add(w, w->lib_root);
    _cleanup_free_ char *objects = xasprintf("%s/objects", w->lib_root);
    add(w, objects);
    add_tree(w, w->objects, 1, NULL);
    if (w->pods) {
        add(w, w->run_root);
        add_tree(w, w->run_pods, 1, "shim");
    }
}

int pods_watch_open(pods_manager *m, const char *resource, struct pods_watch **out, pr_error **err)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "inotify_init1");
    struct pods_watch *w = xmalloc(sizeof(*w));
    *w = (struct pods_watch){
        .fd = fd,
        .pods = streq(resource, "pods"),
        .objects = xasprintf("%s/objects/%s", m->lib_root, resource),
        .run_pods = xasprintf("%s/pods", m->run_root),
        .lib_root = xstrdup(m->lib_root),
        .run_root = xstrdup(m->run_root),
    };
    rearm(w);
    *out = w;
    return 0;
}

/* Lock files come and go with every podrun process, readers too: not a change. */
static bool is_lock(const struct inotify_event *ev)
{
    size_t n = ev->len ? strlen(ev->name) : 0;
    return n >= 5 && streq(ev->name + n - 5, ".lock");
}

/* Reads what is queued; false when nothing of it was a change. */
static bool drain(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (!is_lock(ev))
                any = true;
            p += sizeof(*ev) + ev->len;
        }
    return any;
}

int pods_watch_wait(struct pods_watch *w, pr_error **err)
{
    struct pollfd p = {w->fd, POLLIN, 0};
    for (;;) {
        int n = poll(&p, 1, -1);
        if (n < 0 && errno == EINTR)
            return -EINTR;
        if (n < 0)
            return pr_err(err, errno, "wait for changes");
        if (drain(w->fd))
            break;
    }
    /* A change comes in bursts (a temp file, its rename, the record next to it): gather them
     * for a moment so one listing sees the whole change. */
    for (int i = 0; i < 10 && poll(&p, 1, 30) > 0 && drain(w->fd); i++)
        ;
    rearm(w);
    return 0;
}

void pods_watch_free(struct pods_watch *w)
{
    if (!w)
        return;
    close(w->fd);
    free(w->objects);
    free(w->run_pods);
    free(w->lib_root);
    free(w->run_root);
    free(w);
}
