/* SPDX-License-Identifier: Apache-2.0 */
/* Mount options as the runtime-spec lists them (and as mount(8) spells them), split into the
 * flags, propagation changes, recursive attributes and filesystem data mount(2) needs. */

#include "mounts-internal.h"
#include "util.h"

#include <sys/mount.h>

enum opt_kind {
    OPT_SET,         /* set MS_ flag */
    OPT_CLEAR,       /* clear MS_ flag */
    OPT_PROPAGATION, /* separate mount(2) with this propagation */
    OPT_ATTR_SET,    /* recursive attribute set */
    OPT_ATTR_CLEAR,  /* recursive attribute cleared */
    OPT_ATTR_ATIME,  /* recursive atime mode (one field: setting one replaces the others) */
    OPT_NOOP,
    OPT_UNSUPPORTED,
};

struct opt {
    const char *name;
    enum opt_kind kind;
    unsigned long long value;
};

static const struct opt options[] = {
    {"defaults", OPT_NOOP, 0},
    {"ro", OPT_SET, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"nosuid", OPT_SET, MS_NOSUID},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nodev", OPT_SET, MS_NODEV},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"noexec", OPT_SET, MS_NOEXEC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"sync", OPT_SET, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_SET, MS_DIRSYNC},
    {"remount", OPT_SET, MS_REMOUNT},
    {"mand", OPT_SET, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"noatime", OPT_SET, MS_NOATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"nodiratime", OPT_SET, MS_NODIRATIME},
    {"relatime", OPT_SET, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_SET, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"lazytime", OPT_SET, MS_LAZYTIME},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"iversion", OPT_SET, MS_I_VERSION},
    {"noiversion", OPT_CLEAR, MS_I_VERSION},
    {"silent", OPT_SET, MS_SILENT},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"nosymfollow", OPT_SET, MS_NOSYMFOLLOW},
    {"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
    {"bind", OPT_SET, MS_BIND},
    {"rbind", OPT_SET, MS_BIND | MS_REC},
    {"private", OPT_PROPAGATION, MS_PRIVATE},
    {"rprivate", OPT_PROPAGATION, MS_REC | MS_PRIVATE},
    {"shared", OPT_PROPAGATION, MS_SHARED},
    {"rshared", OPT_PROPAGATION, MS_REC | MS_SHARED},
    {"slave", OPT_PROPAGATION, MS_SLAVE},
    {"rslave", OPT_PROPAGATION, MS_REC | MS_SLAVE},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAGATION, MS_REC | MS_UNBINDABLE},
    {"rro", OPT_ATTR_SET, RT_MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR_SET, RT_MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR_SET, RT_MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR_SET, RT_MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR_SET, RT_MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_NODIRATIME},
    /* Like mount(8): "atime" and "nostrictatime" mean the kernel default, relatime, and
     * "norelatime" means update always. */
    {"rnoatime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_NOATIME},
    {"ratime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_RELATIME},
    {"rrelatime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_STRICTATIME},
    {"rstrictatime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_ATTR_ATIME, RT_MOUNT_ATTR_RELATIME},
    {"rnosymfollow", OPT_ATTR_SET, RT_MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR_CLEAR, RT_MOUNT_ATTR_NOSYMFOLLOW},
    /* Known, but this runtime does not implement them: fail loudly rather than pass them to
     * the filesystem, which would either reject them obscurely or ignore them. */
    {"tmpcopyup", OPT_UNSUPPORTED, 0},
    {"idmap", OPT_UNSUPPORTED, 0},
    {"ridmap", OPT_UNSUPPORTED, 0},
};

static const struct opt *find_option(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        if (streq(options[i].name, name))
            return &options[i];
    return NULL;
}

const char *rt_mount_option_name(size_t i)
{
    /* Skip the unsupported ones: features lists what works. */
    for (size_t k = 0; k < ARRAY_SIZE(options); k++) {
        if (options[k].kind == OPT_UNSUPPORTED)
            continue;
        if (i-- == 0)
            return options[k].name;
    }
    return NULL;
}

bool rt_options_have_bind(char *const *opts)
{
    for (size_t i = 0; opts && opts[i]; i++)
        if (streq(opts[i], "bind") || streq(opts[i], "rbind"))
            return true;
    return false;
}

bool rt_propagation_parse(const char *name, unsigned long *out)
{
    const struct opt *o = find_option(name);
    if (!o || o->kind != OPT_PROPAGATION)
        return false;
    *out = o->value;
    return true;
}

static void append_data(char **data, const char *opt)
{
    char *old = *data;
    *data = old ? xasprintf("%s,%s", old, opt) : xstrdup(opt);
    free(old);
}

static void apply_attr(struct rt_mount_opts *o, const struct opt *opt)
{
    switch (opt->kind) {
    case OPT_ATTR_ATIME:
        o->attr_clr |= RT_MOUNT_ATTR__ATIME;
        o->attr_set = (o->attr_set & ~RT_MOUNT_ATTR__ATIME) | opt->value;
        break;
    case OPT_ATTR_SET:
        o->attr_set |= opt->value;
        o->attr_clr &= ~opt->value;
        break;
    default:
        o->attr_clr |= opt->value;
        o->attr_set &= ~opt->value;
        break;
    }
}

int rt_mount_opts_parse(char *const *opts, bool is_bind, const char *ctx, struct rt_mount_opts *out,
                        pr_error **err)
{
    *out = (struct rt_mount_opts){0};
    bool strict = is_bind || rt_options_have_bind(opts);
    for (size_t i = 0; opts && opts[i]; i++) {
        const char *name = opts[i];
        const struct opt *opt = find_option(name);
        if (!opt) {
            /* A bind mount has no filesystem to read data: a key=value option there is
             * filesystem data the kernel would not take, ignored as runc ignores it (a bundle
             * that makes a tmpfs a bind keeps its mode=, size=); an unknown word is a typo.
             * Anywhere else it is the filesystem's business (size=, mode=, uid=...). */
            if (*name == '\0' || *name == '=' || (strict && !strchr(name, '='))) {
                rt_mount_opts_free(out);
                return pr_err(err, 0, "%s: unknown option \"%s\"", ctx, name);
            }
            append_data(strict ? &out->ignored : &out->data, name);
            continue;
        }
        switch (opt->kind) {
        case OPT_SET:
            out->flags |= opt->value;
            out->cleared &= ~opt->value;
            break;
        case OPT_CLEAR:
            out->flags &= ~opt->value;
            out->cleared |= opt->value;
            break;
        case OPT_PROPAGATION:
            if (out->n_propagation == RT_MAX_PROPAGATION) {
                rt_mount_opts_free(out);
                return pr_err(err, 0, "%s: too many propagation options", ctx);
            }
            out->propagation[out->n_propagation++] = opt->value;
            break;
        case OPT_ATTR_SET:
        case OPT_ATTR_CLEAR:
        case OPT_ATTR_ATIME:
            apply_attr(out, opt);
            break;
        case OPT_NOOP:
            break;
        case OPT_UNSUPPORTED:
            rt_mount_opts_free(out);
            return pr_err(err, 0, "%s: option \"%s\" is not supported", ctx, name);
        }
    }
    if (is_bind)
        out->flags |= MS_BIND;
    return 0;
}

void rt_mount_opts_free(struct rt_mount_opts *o)
{
    free(o->data);
    o->data = NULL;
    free(o->ignored);
    o->ignored = NULL;
}
