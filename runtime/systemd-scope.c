/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-runtime-systemd: the runtime's only use of libsystemd, kept in its own small program.
 * `--systemd-cgroup` asks systemd over D-Bus for a transient scope (Delegate=yes, the
 * container's pid in it) and later to stop it. Linking libsystemd (and its compression and
 * crypto libraries) into podrun-runtime itself would cost every container start time and
 * memory for a feature most starts do not use, and would keep the runtime from being a static
 * binary; so the runtime runs this helper when, and only when, a systemd cgroup is asked for.
 *
 *   podrun-runtime-systemd start UNIT SLICE PID    (SLICE "-" when UNIT is itself a slice)
 *   podrun-runtime-systemd stop UNIT
 * Exit status 0 on success; otherwise 1 and one line on stderr saying what systemd said. */
#include "error.h"
#include "util.h"

#include <stdint.h>
#include <systemd/sd-bus.h>

static void bus_unrefp(sd_bus **b)
{
    if (*b)
        sd_bus_flush_close_unref(*b);
}

static void msg_unrefp(sd_bus_message **m)
{
    if (*m)
        sd_bus_message_unref(*m);
}

static int bus_err(pr_error **err, int r, const sd_bus_error *e, const char *what)
{
    if (e && e->message)
        return pr_err(err, 0, "systemd: %s: %s", what, e->message);
    return pr_err(err, -r, "systemd: %s", what);
}

/* Calls org.freedesktop.systemd1.Manager.METHOD with arguments built by fill. */
static int manager_call(const char *method, const char *what,
                        int (*fill)(sd_bus_message *m, char **args), char **args,
                        pr_error **err)
{
    __attribute__((cleanup(bus_unrefp))) sd_bus *bus = NULL;
    __attribute__((cleanup(msg_unrefp))) sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_open_system(&bus);
    if (r < 0)
        return bus_err(err, r, NULL, "connect to the system bus");
    if ((r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                            "/org/freedesktop/systemd1",
                                            "org.freedesktop.systemd1.Manager", method)) < 0 ||
        (r = fill(m, args)) < 0)
        return bus_err(err, r, NULL, what);
    r = sd_bus_call(bus, m, 0, &e, &reply);
    /* A scope whose last process exited is gone already: stopping it is done. */
    if (r < 0 && streq(method, "StopUnit") &&
        sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
        r = 0;
    if (r < 0)
        r = bus_err(err, r, &e, what);
    sd_bus_error_free(&e);
    return r < 0 ? r : 0;
}

/* args: UNIT SLICE PID */
static int fill_start(sd_bus_message *m, char **args)
{
    const char *unit = args[0], *slice = args[1];
    uint32_t pid = (uint32_t)strtoul(args[2], NULL, 10);
    bool is_slice = strlen(unit) > 6 && streq(unit + strlen(unit) - 6, ".slice");
    int r;
    if ((r = sd_bus_message_append(m, "ss", unit, "fail")) < 0 ||
        (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0)
        return r;
    if ((r = sd_bus_message_append(m, "(sv)", "Description", "s", "podrun container")) < 0 ||
        (r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1)) < 0 ||
        (r = sd_bus_message_append(m, "(sv)", "DefaultDependencies", "b", 0)) < 0)
        return r;
    if (!is_slice && ((r = sd_bus_message_append(m, "(sv)", "Slice", "s", slice)) < 0 ||
                      (r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, pid)) < 0))
        return r;
    if ((r = sd_bus_message_close_container(m)) < 0)
        return r;
    return sd_bus_message_append(m, "a(sa(sv))", 0);
}

static int fill_stop(sd_bus_message *m, char **args)
{
    return sd_bus_message_append(m, "ss", args[0], "replace");
}

int main(int argc, char **argv)
{
    _cleanup_error_ pr_error *err = NULL;
    int r;
    if (argc == 5 && streq(argv[1], "start")) {
        _cleanup_free_ char *what = xasprintf("start transient unit %s", argv[2]);
        r = manager_call("StartTransientUnit", what, fill_start, argv + 2, &err);
    } else if (argc == 3 && streq(argv[1], "stop")) {
        _cleanup_free_ char *what = xasprintf("stop unit %s", argv[2]);
        r = manager_call("StopUnit", what, fill_stop, argv + 2, &err);
    } else {
        fprintf(stderr, "usage: podrun-runtime-systemd start UNIT SLICE PID | stop UNIT\n");
        return 2;
    }
    if (r < 0) {
        fprintf(stderr, "%s\n", err ? err->msg : strerror(-r));
        return 1;
    }
    return 0;
}
