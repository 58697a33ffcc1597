/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's images by the kubelet's rules: Never uses only what is stored (ErrImageNeverPull),
 * IfNotPresent pulls what is missing, Always pulls every time (a pull of an image already
 * stored moves only what changed). The API server's default (Always for :latest or no tag,
 * else IfNotPresent) was filled in by the decoder. Each step is an event of the pod, worded as
 * the kubelet words it. */
#include "images/images.h"
#include "manager.h"
#include "util.h"

static const struct kube_container *container_at(const struct kube_pod_spec *s, size_t i,
                                                 bool *init)
{
    *init = i < s->n_init_containers;
    return *init ? &s->init_containers[i] : &s->containers[i - s->n_init_containers];
}

/* Go's time.Duration as the kubelet prints it: 512.3ms, 1.234s. */
static void duration(uint64_t usec, char buf[32])
{
    if (usec < 1000000)
        snprintf(buf, 32, "%llu.%03llums", (unsigned long long)(usec / 1000),
                 (unsigned long long)(usec % 1000));
    else
        snprintf(buf, 32, "%llu.%06llus", (unsigned long long)(usec / 1000000),
                 (unsigned long long)(usec % 1000000));
}

static bool stored(image_store *st, const char *image)
{
    _cleanup_error_ pr_error *e = NULL;
    return images_find(st, image, NULL, &e) == 0;
}

static int pull_one(pods_manager *m, image_store *st, const struct kube_container *c,
                    const char *field, const struct pods_pod_paths *p, const char **reason,
                    pr_error **err)
{
    const char *policy = c->image_pull_policy ? c->image_pull_policy : "IfNotPresent";
    bool present = stored(st, c->image);
    if (streq(policy, "Never") && !present) {
        pods_record(p, "Warning", "ErrImageNeverPull", "kubelet", field,
                    "Container image \"%s\" is not present with pull policy of Never", c->image);
        pods_record(p, "Warning", "Failed", "kubelet", field, "Error: ErrImageNeverPull");
        *reason = "ErrImageNeverPull";
        return pr_err(err, 0,
                      "container \"%s\": ErrImageNeverPull: container image \"%s\" is not "
                      "present with pull policy of Never",
                      c->name, c->image);
    }
    if (present && !streq(policy, "Always")) {
        pods_record(p, "Normal", "Pulled", "kubelet", field,
                    "Container image \"%s\" already present on machine", c->image);
        return 0;
    }
    pods_record(p, "Normal", "Pulling", "kubelet", field, "Pulling image \"%s\"", c->image);
    uint64_t t0 = pods_now_usec();
    pr_error *e = NULL;
    int r = images_pull(st, c->image, &m->pull, NULL, &e);
    if (r < 0) {
        pods_record(p, "Warning", "Failed", "kubelet", field, "Failed to pull image \"%s\": %s",
                    c->image, e && e->msg ? e->msg : "failed");
        pods_record(p, "Warning", "Failed", "kubelet", field, "Error: ErrImagePull");
        *reason = "ErrImagePull";
        r = pr_err(err, 0, "container \"%s\": ErrImagePull: failed to pull image \"%s\": %s",
                   c->name, c->image, e && e->msg ? e->msg : "failed");
        pr_error_free(e);
        return r;
    }
    char took[32];
    duration(pods_now_usec() - t0, took);
    pods_record(p, "Normal", "Pulled", "kubelet", field,
                "Successfully pulled image \"%s\" in %s (%s including waiting)", c->image, took,
                took);
    return 0;
}

int pods_pull_images(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                     const char **waiting_reason, size_t *failed, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_images_ image_store *st = NULL;
    int r = images_open(m->images_root, false, &st, err);
    for (size_t i = 0; r == 0 && i < s->n_init_containers + s->n_containers; i++) {
        bool init;
        const struct kube_container *c = container_at(s, i, &init);
        _cleanup_free_ char *field =
            xasprintf("spec.%s{%s}", init ? "initContainers" : "containers", c->name);
        if ((r = pull_one(m, st, c, field, p, waiting_reason, err)) < 0)
            *failed = i;
    }
    return r;
}

void pods_set_pull_options(pods_manager *m, const struct pull_options *o)
{
    m->pull = *o;
}
