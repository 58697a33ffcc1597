/* SPDX-License-Identifier: Apache-2.0 */
/* What wakes the controller loop, as one inotify descriptor: the stored objects a reconcile
 * reads (a file renamed in or removed) and each pod's shim directory (status.json renamed in
 * when a container's state or readiness changes; shim.lock closed by the kernel when the shim
 * dies, which closes its writable descriptor) and the cluster DNS's log (closed when dnsmasq
 * dies). Made afresh for each pass, so that new pods and
 * namespaces are watched too. */
#include "fs.h"
#include "manager.h"
#include "paths.h"
#include "util.h"

#include <sys/inotify.h>

#define OBJECT_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE)
#define SHIM_EVENTS   (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF)

int pods_controllers_watch_open(pods_manager *m, int *out, pr_error **err)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "inotify_init1");
    static const char *const resources[] = {PODRUN_LOOP_OBJECTS};
    _cleanup_free_ char *objects = xasprintf("%s/objects", m->lib_root);
    int r = mkdir_p(objects, 0700, err);
    if (r == 0)
        r = fs_watch_dir(fd, objects, IN_CREATE | IN_MOVED_TO, false, err);
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(resources); i++) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", objects, resources[i]);
        r = fs_watch_dir(fd, dir, OBJECT_EVENTS, true, err);
    }
    /* The cluster DNS's directory: dnsmasq holds its log open for writing, so its death closes
     * it, and the pass that follows starts it again. */
    _cleanup_free_ char *dns = xasprintf("%s/dns", m->run_root);
    if (r == 0 && pods_dns_enabled(m) && (r = mkdir_p(dns, 0700, err)) == 0)
        r = fs_watch_dir(fd, dns, IN_CLOSE_WRITE, false, err);
    /* The Ingress controller's: nginx's master holds its error log open for writing. */
    _cleanup_free_ char *ingress = xasprintf("%s/ingress", m->run_root);
    if (r == 0 && pods_objects_stored(m, "ingresses"))
        r = fs_watch_dir(fd, ingress, IN_CLOSE_WRITE, false, err);
    struct pods_list l = {0};
    if (r == 0)
        r = pods_list(m, "pods", NULL, NULL, &l, err);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        struct pods_pod_paths p;
        pods_pod_paths_init(m, l.v[i].uid, &p);
        r = fs_watch_dir(fd, p.shim_dir, SHIM_EVENTS, false, err);
        pods_pod_paths_clear(&p);
    }
    pods_list_clear(&l);
    if (r < 0) {
        close(fd);
        return r;
    }
    *out = fd;
    return 0;
}
