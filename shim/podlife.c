/* SPDX-License-Identifier: Apache-2.0 */
/* The limits the kubelet holds a whole pod to, held by the shim because it is the one process
 * that lives as long as the pod (podrun has no daemon):
 *
 * activeDeadlineSeconds: counted from the pod's first start (startTime in status.json, kept
 * across shim restarts); at the deadline every container is stopped within the grace period
 * and the pod is Failed with reason DeadlineExceeded.
 *
 * emptyDir sizeLimit on disk: the kubelet measures each emptyDir's usage periodically and
 * evicts the pod that goes over, and so does the shim: every volumeCheckSeconds it sums the
 * blocks of each limited emptyDir (as du does, not crossing into other mounts) and, over the
 * limit, stops the pod for good with reason Evicted. A size-limited filesystem per emptyDir
 * (a loop-mounted image, or project quotas) was the other way; it was not taken because it
 * needs a block device or a quota-capable filesystem under the lib root, which podrun cannot
 * count on, and because a write failing with ENOSPC is not what a pod written for Kubernetes
 * expects: there the pod is evicted, and its controller makes a new one. As with the kubelet,
 * a container may go over the limit between two measurements. */
#include "shim.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Bounds on one measurement, so that a tree made to be slow to walk cannot stall the loop:
 * past them the usage counted so far stands. */
#define USAGE_MAX_DEPTH   64
#define USAGE_MAX_ENTRIES 1000000

struct usage_walk {
    dev_t dev;
    uint64_t bytes;
    size_t entries;
};

static void walk(struct usage_walk *w, int dirfd, int depth)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && w->entries < USAGE_MAX_ENTRIES) {
        if (streq(e->d_name, ".") || streq(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != w->dev)
            continue;
        w->entries++;
        w->bytes += (uint64_t)st.st_blocks * 512;
        if (S_ISDIR(st.st_mode) && depth < USAGE_MAX_DEPTH) {
            int fd = openat(dirfd, e->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
            if (fd < 0)
                fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                walk(w, fd, depth + 1);
        }
    }
    closedir(d);
}

uint64_t dir_usage(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return 0;
    }
    struct usage_walk w = {st.st_dev, 0, 0};
    walk(&w, fd, 0);
    return w.bytes;
}

void shim_fail_pod(struct shim *s, const char *reason, const char *message)
{
    if (s->fail_reason || s->removing)
        return;
    s->fail_reason = reason;
    free(s->fail_message);
    s->fail_message = xstrdup(message);
    s->volume_timer = sd_event_source_disable_unref(s->volume_timer);
    s->deadline_timer = sd_event_source_disable_unref(s->deadline_timer);
    shim_event(s, NULL, reason, "%s", message);
    for (size_t i = 0; i < s->n_init + s->n_ctrs; i++) {
        struct container *c = i < s->n_init ? &s->init[i] : &s->ctrs[i - s->n_init];
        if (c->vacant)
            continue;
        c->stop_requested = true;
        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        if (c->state == CTR_RUNNING)
            container_stop(c, c->spec->stop_signal, s->spec->grace_usec, message);
        else if (c->state == CTR_WAITING) {
            c->state = CTR_TERMINATED;
            c->reason = reason;
        }
    }
    shim_status_changed(s);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *data)
{
    shim_fail_pod(data, "DeadlineExceeded",
                  "Pod was active on the node longer than the specified deadline");
    return 0;
}

static int on_volume_check(sd_event_source *src, uint64_t usec, void *data)
{
    struct shim *s = data;
    for (size_t i = 0; i < s->spec->n_volume_limits; i++) {
        const struct volume_limit *v = &s->spec->volume_limits[i];
        uint64_t used = dir_usage(v->path);
        if (used <= v->limit_bytes)
            continue;
        _cleanup_free_ char *msg =
            xasprintf("Usage of EmptyDir volume \"%s\" exceeds the limit \"%llu\".", v->name,
                      (unsigned long long)v->limit_bytes);
        shim_fail_pod(s, "Evicted", msg);
        return 0;
    }
    sd_event_source_set_time_relative(src, s->spec->volume_check_usec);
    sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
    return 0;
}

static uint64_t parse_time(const char *t)
{
    struct tm tm = {0};
    if (!t || !strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return (uint64_t)timegm(&tm) * USEC_PER_SEC;
}

/* What a previous shim of this pod recorded: when the pod started, and whether it failed. */
static void recover_pod(struct shim *s)
{
    _cleanup_free_ char *path = xasprintf("%s/status.json", s->pod_dir);
    _cleanup_json_ yajl_val old = NULL;
    if (access(path, F_OK) < 0 || json_parse_file(path, &old, NULL) < 0)
        return;
    const char *start = NULL, *reason = NULL, *message = NULL;
    json_get_str(old, "startTime", "status", &start, NULL);
    json_get_str(old, "reason", "status", &reason, NULL);
    json_get_str(old, "message", "status", &message, NULL);
    s->start_time = parse_time(start);
    if (reason && (streq(reason, "DeadlineExceeded") || streq(reason, "Evicted"))) {
        s->fail_reason = streq(reason, "Evicted") ? "Evicted" : "DeadlineExceeded";
        s->fail_message = xstrdup(message ? message : "");
    }
}

void podlife_start(struct shim *s)
{
    recover_pod(s);
    if (!s->start_time)
        s->start_time = now_realtime();
    if (s->fail_reason) {
        /* A previous shim failed the pod and died before every container stopped. */
        const char *reason = s->fail_reason;
        _cleanup_free_ char *message = steal_pointer(&s->fail_message);
        s->fail_reason = NULL;
        shim_fail_pod(s, reason, message ? message : "");
        return;
    }
    if (!s->spec->supervise)
        return;
    if (s->spec->active_deadline_usec) {
        uint64_t at = s->start_time + s->spec->active_deadline_usec;
        if (sd_event_add_time(s->event, &s->deadline_timer, CLOCK_REALTIME, at, USEC_PER_MSEC * 10,
                              on_deadline, s) < 0)
            pr_warning("activeDeadlineSeconds: cannot set a timer");
    }
    if (s->spec->n_volume_limits &&
        sd_event_add_time_relative(s->event, &s->volume_timer, CLOCK_MONOTONIC,
                                   s->spec->volume_check_usec, 0, on_volume_check, s) < 0)
        pr_warning("emptyDir sizeLimit: cannot set a timer");
}

void podlife_stop(struct shim *s)
{
    s->deadline_timer = sd_event_source_disable_unref(s->deadline_timer);
    s->volume_timer = sd_event_source_disable_unref(s->volume_timer);
    free(s->fail_message);
    s->fail_message = NULL;
}

void podlife_status(struct shim *s, void *gen)
{
    yajl_gen g = gen;
    char buf[40];
    if (s->start_time) {
        format_rfc3339(s->start_time, buf, sizeof(buf));
        jg_key_str(g, "startTime", buf);
    }
    if (s->fail_reason) {
        jg_key_str(g, "reason", s->fail_reason);
        jg_key_str(g, "message", s->fail_message);
    }
}
