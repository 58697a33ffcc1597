/* --systemd-cgroup: the container's cgroup is a transient scope made by systemd over D-Bus
 * (StartTransientUnit with Delegate=yes and the container's pid), after which the directories
 * are ours to fill like any other.
 *
 * libsystemd is opened with dlopen only when a systemd cgroup is really asked for: linking it
 * would load it (and its compression and crypto libraries) into every runtime invocation,
 * which costs more start-up time and memory than the runtime spends on anything else. */
#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>

bool cg_systemd_running(void)
{
    /* What sd_booted() checks: systemd creates this directory early at boot. */
    struct stat st;
    return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static struct {
    void *handle;
    int (*open_system)(sd_bus **);
    sd_bus *(*flush_close_unref)(sd_bus *);
    int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *,
                           const char *);
    int (*append)(sd_bus_message *, const char *, ...);
    int (*open_container)(sd_bus_message *, char, const char *);
    int (*close_container)(sd_bus_message *);
    int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
    sd_bus_message *(*message_unref)(sd_bus_message *);
    void (*error_free)(sd_bus_error *);
} sd;

static int load_libsystemd(pr_error **err)
{
    if (sd.handle)
        return 0;
    void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return pr_err(err, 0, "--systemd-cgroup needs libsystemd.so.0: %s", dlerror());
#define SYM(field, name)                                                                           \
    if (!(*(void **)&sd.field = dlsym(h, name))) {                                                 \
        dlclose(h);                                                                                \
        return pr_err(err, 0, "libsystemd.so.0 lacks %s", name);                                   \
    }
    SYM(open_system, "sd_bus_open_system");
    SYM(flush_close_unref, "sd_bus_flush_close_unref");
    SYM(new_method_call, "sd_bus_message_new_method_call");
    SYM(append, "sd_bus_message_append");
    SYM(open_container, "sd_bus_message_open_container");
    SYM(close_container, "sd_bus_message_close_container");
    SYM(call, "sd_bus_call");
    SYM(message_unref, "sd_bus_message_unref");
    SYM(error_free, "sd_bus_error_free");
#undef SYM
    sd.handle = h;
    return 0;
}

static int bus_err(pr_error **err, int r, const sd_bus_error *e, const char *what)
{
    if (e && e->message)
        return pr_err(err, 0, "systemd: %s: %s", what, e->message);
    return pr_err(err, -r, "systemd: %s", what);
}

/* Calls org.freedesktop.systemd1.Manager.METHOD with arguments built by fill. */
static int manager_call(const char *method, const char *what,
                        int (*fill)(sd_bus_message *m, const void *arg), const void *arg,
                        pr_error **err)
{
    sd_bus *bus = NULL;
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = load_libsystemd(err);
    if (r < 0)
        return r;
    if ((r = sd.open_system(&bus)) < 0) {
        r = bus_err(err, r, NULL, "connect to the system bus");
        goto out;
    }
    if ((r = sd.new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", method)) < 0 ||
        (r = fill(m, arg)) < 0) {
        r = bus_err(err, r, NULL, what);
        goto out;
    }
    if ((r = sd.call(bus, m, 0, &e, &reply)) < 0)
        r = bus_err(err, r, &e, what);
out:
    sd.error_free(&e);
    if (reply)
        sd.message_unref(reply);
    if (m)
        sd.message_unref(m);
    if (bus)
        sd.flush_close_unref(bus);
    return r;
}

struct start_args {
    const char *unit, *slice;
    pid_t pid;
};

static int fill_start(sd_bus_message *m, const void *arg)
{
    const struct start_args *a = arg;
    bool is_slice = strlen(a->unit) > 6 && streq(a->unit + strlen(a->unit) - 6, ".slice");
    int r;
    if ((r = sd.append(m, "ss", a->unit, "fail")) < 0 ||
        (r = sd.open_container(m, 'a', "(sv)")) < 0)
        return r;
    if ((r = sd.append(m, "(sv)", "Description", "s", "podrun container")) < 0 ||
        (r = sd.append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
        (r = sd.append(m, "(sv)", "DefaultDependencies", "b", 0)) < 0)
        return r;
    if (!is_slice && ((r = sd.append(m, "(sv)", "Slice", "s", a->slice)) < 0 ||
                      (r = sd.append(m, "(sv)", "PIDs", "au", 1, (uint32_t)a->pid)) < 0))
        return r;
    if ((r = sd.close_container(m)) < 0)
        return r;
    return sd.append(m, "a(sa(sv))", 0);
}

/* systemd moves the pid when the job runs, a moment after the call returns. */
static bool pid_in_unit(pid_t pid, const char *unit)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    char line[4096];
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, unit))
            return true;
    return false;
}

int cg_systemd_start_unit(const char *unit, const char *slice, pid_t pid, pr_error **err)
{
    struct start_args a = {unit, slice, pid};
    _cleanup_free_ char *what = xasprintf("start transient unit %s", unit);
    int r = manager_call("StartTransientUnit", what, fill_start, &a, err);
    if (r < 0)
        return r;
    for (int i = 0; i < 500 && pid > 0 && !pid_in_unit(pid, unit); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int fill_stop(sd_bus_message *m, const void *arg)
{
    return sd.append(m, "ss", (const char *)arg, "replace");
}

int cg_systemd_stop_unit(const char *unit, pr_error **err)
{
    _cleanup_free_ char *what = xasprintf("stop unit %s", unit);
    return manager_call("StopUnit", what, fill_stop, unit, err);
}
