/* SPDX-License-Identifier: Apache-2.0 */
/* A CRI sandbox's containers: the kubelet creates, starts, stops and removes them one at a
 * time while the pod lives (DESIGN.md §2, "create" and "delete" in podrun-shim(8)). The pod
 * manager writes a container into spec.json before it asks for it, so that spec.json always
 * says what a new shim adopts; the shim takes it from there into a slot of its own. Slots do
 * not move (timers, children and probes point at them), so a deleted container leaves a vacant
 * slot that the next create takes. */
#include "shim.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>

static struct container *free_slot(struct shim *s)
{
    for (size_t i = 0; i < s->n_ctrs; i++)
        if (s->ctrs[i].vacant)
            return &s->ctrs[i];
    if (s->n_ctrs >= SHIM_SANDBOX_CTRS_MAX)
        return NULL;
    s->spec->n_ctrs = ++s->n_ctrs;
    return &s->ctrs[s->n_ctrs - 1];
}

int sandbox_create_container(struct shim *s, const char *name, pr_error **err)
{
    if (!s->spec->sandbox)
        return pr_err(err, 0, "create: the pod is not a sandbox (its containers are its spec's)");
    if (shim_find(s, name))
        return pr_err(err, 0, "create: container \"%s\" exists in this pod", name);
    _cleanup_free_ char *path = xasprintf("%s/spec.json", s->pod_dir);
    struct pod_spec *fresh = NULL;
    int r = pod_spec_load(path, &fresh, err);
    if (r < 0)
        return r;
    struct ctr_spec *found = NULL;
    for (size_t i = 0; i < fresh->n_ctrs && !found; i++)
        if (streq(fresh->ctrs[i].name, name))
            found = &fresh->ctrs[i];
    if (!found) {
        pod_spec_free(fresh);
        return pr_err(err, 0, "create: `%s` has no container \"%s\"", path, name);
    }
    struct container *c = free_slot(s);
    if (!c) {
        pod_spec_free(fresh);
        return pr_err(err, 0, "create: the sandbox holds %d containers already, its limit",
                      SHIM_SANDBOX_CTRS_MAX);
    }
    struct ctr_spec *slot = &s->spec->ctrs[c - s->ctrs];
    *slot = *found;
    memset(found, 0, sizeof(*found));
    pod_spec_free(fresh);
    memset(c, 0, sizeof(*c));
    container_init(s, c, slot);
    /* Its attach socket from now on, as a CLI pod's container has from the shim's start: the
     * CRI's Attach (stdin, a terminal) goes through it. */
    attach_open(c);
    /* Created, as the CRI says, until a start request: the loop's own start skips it. */
    c->stop_requested = true;
    shim_event(s, c, "created", "container %s created", name);
    return 0;
}

int sandbox_delete_container(struct shim *s, struct container *c, pr_error **err)
{
    if (!s->spec->sandbox)
        return pr_err(err, 0, "delete: the pod is not a sandbox (remove the pod)");
    if (c->state == CTR_RUNNING)
        return pr_err(err, 0, "delete: container \"%s\" is running (stop it first)", c->spec->name);
    c->stop_requested = true;
    if (c->created)
        container_delete(c);
    _cleanup_free_ char *name = xstrdup(c->spec->name);
    container_free(c);
    static const char *const files[] = {"stdout", "stderr", "pid", "sock"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        /* The attach socket is in attach/ (its listener closed by container_free). */
        _cleanup_free_ char *f =
            xasprintf("%s/%s%s.%s", s->pod_dir, i == 3 ? "attach/" : "", name, files[i]);
        if (unlink(f) < 0 && errno != ENOENT)
            pr_warning("remove `%s`: %s", f, pr_strerror(errno));
    }
    ctr_spec_free(c->spec);
    memset(c->spec, 0, sizeof(*c->spec));
    memset(c, 0, sizeof(*c));
    c->vacant = true;
    c->state = CTR_TERMINATED;
    c->pidfd = c->netns_fd = c->out_fd = c->err_fd = c->log.fd = -1;
    shim_event(s, NULL, "deleted", "container %s deleted", name);
    return 0;
}
