/* A container given as a root filesystem and a command line instead of a bundle: the shim asks
 * the runtime for its default config (`spec`, so the config suits whichever runtime runs it)
 * and fills in root, args, env and cwd. The bundle lives in the pod directory. */
#include "shim.h"
#include "fs.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void gen_strv(yajl_gen g, char *const *v)
{
    jg_array_open(g);
    for (; v && *v; v++)
        jg_str(g, *v);
    jg_array_close(g);
}

static void gen_process(yajl_gen g, yajl_val process, const struct ctr_spec *c)
{
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(process) && i < process->u.object.len; i++) {
        const char *k = process->u.object.keys[i];
        yajl_val v = process->u.object.values[i];
        if (streq(k, "args")) {
            jg_key(g, k);
            gen_strv(g, c->args);
        } else if (streq(k, "terminal")) {
            jg_key_bool(g, k, false); /* output goes through the shim's FIFOs */
        } else if (streq(k, "cwd") && c->cwd) {
            jg_key_str(g, k, c->cwd);
        } else if (streq(k, "env")) {
            /* The runtime's defaults (PATH, TERM) first, ours after: later ones win. */
            jg_key(g, k);
            jg_array_open(g);
            for (size_t j = 0; j < json_array_len(v); j++)
                jg_value(g, json_array_at(v, j));
            for (char **e = c->env; e && *e; e++)
                jg_str(g, *e);
            jg_array_close(g);
        } else {
            jg_key(g, k);
            jg_value(g, v);
        }
    }
    jg_map_close(g);
}

/* DIR/bundles/NAME, emptied and made again through descriptors: a symlink planted as
 * "bundles" would otherwise have the shim remove and write wherever it points. */
static int make_bundle_dir(struct shim *s, const char *name, pr_error **err)
{
    _cleanup_close_ int podfd = open(s->pod_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (podfd < 0)
        return pr_err(err, errno, "open `%s`", s->pod_dir);
    if (mkdirat(podfd, "bundles", 0700) < 0 && errno != EEXIST)
        return pr_err(err, errno, "mkdir `%s/bundles`", s->pod_dir);
    _cleanup_close_ int fd =
        openat(podfd, "bundles", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return pr_err(err, e == ELOOP || e == ENOTDIR ? 0 : e, "`%s/bundles` is not a directory%s",
                      s->pod_dir, e == ELOOP ? " (a symbolic link)" : "");
    }
    int r = rm_rf_at(fd, name);
    if (r < 0)
        return pr_err(err, -r, "remove `%s/bundles/%s`", s->pod_dir, name);
    if (mkdirat(fd, name, 0700) < 0)
        return pr_err(err, errno, "mkdir `%s/bundles/%s`", s->pod_dir, name);
    return 0;
}

int bundle_build(struct shim *s, struct ctr_spec *c, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/bundles/%s", s->pod_dir, c->name);
    _cleanup_free_ char *config = xasprintf("%s/config.json", dir);
    int r;
    if ((r = make_bundle_dir(s, c->name, err)) < 0)
        return r;
    char *args[] = {(char *)"spec", (char *)"--bundle", dir, NULL};
    if ((r = runtime_call(s, args, -1, -1, NULL, err)) < 0)
        return pr_err_prefix(err, "building a bundle for %s", c->name);
    _cleanup_json_ yajl_val tree = NULL;
    if ((r = json_parse_file(config, &tree, err)) < 0)
        return r;
    if (!YAJL_IS_OBJECT(tree))
        return pr_err(err, 0, "`%s`: not an object", config);
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_map_open(g);
    for (size_t i = 0; i < tree->u.object.len; i++) {
        const char *k = tree->u.object.keys[i];
        yajl_val v = tree->u.object.values[i];
        jg_key(g, k);
        if (streq(k, "root")) {
            jg_map_open(g);
            jg_key_str(g, "path", c->rootfs);
            jg_key_bool(g, "readonly", false);
            jg_map_close(g);
        } else if (streq(k, "process")) {
            gen_process(g, v, c);
        } else {
            jg_value(g, v);
        }
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    if ((r = write_file_atomic_volatile(config, buf, len, 0600, err)) < 0)
        return r;
    c->bundle = steal_pointer(&dir);
    return 0;
}
