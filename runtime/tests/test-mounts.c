/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/mounts*.c: option parsing, validation, resolution inside the rootfs, mountinfo, and
 * (as root, in a private mount namespace) a prepare whose destination goes through a symlink. */

#include "error.h"
#include "fs.h"
#include "json.h"
#include "mounts.h"
#include "mounts-internal.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define TMPFS_MAGIC_ 0x01021994

static int parse(const char *const *opts, bool is_bind, struct rt_mount_opts *o, pr_error **err)
{
    return rt_mount_opts_parse((char *const *)opts, is_bind, "mounts[3].options", o, err);
}

static void test_flags(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"ro", "nosuid", "nodev", "noexec", "relatime", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));
    CHECK(o.data == NULL && o.n_propagation == 0);
    rt_mount_opts_free(&o);

    /* Later options win; the cleared set remembers what was turned off on purpose. */
    const char *b[] = {"ro", "nosuid", "rw", "suid", "sync", "async", "exec", NULL};
    CHECK(parse(b, false, &o, &err) == 0);
    CHECK(o.flags == 0);
    CHECK((o.cleared & (MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_SYNCHRONOUS)) ==
          (MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_SYNCHRONOUS));
    rt_mount_opts_free(&o);

    const char *c[] = {"noatime", "nodiratime", "strictatime", "lazytime", "dirsync",
                       "mand",    "remount",    "defaults",    NULL};
    CHECK(parse(c, false, &o, &err) == 0);
    CHECK(o.flags == (MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME | MS_LAZYTIME | MS_DIRSYNC |
                      MS_MANDLOCK | MS_REMOUNT));
    rt_mount_opts_free(&o);
    CHECK(err == NULL);
}

static void test_bind(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"rbind", "ro", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK(rt_mount_opts_is_bind(&o));
    CHECK(o.flags == (MS_BIND | MS_REC | MS_RDONLY));
    rt_mount_opts_free(&o);

    /* type "bind" without a bind option is a (non-recursive) bind mount. */
    const char *b[] = {"nosuid", NULL};
    CHECK(parse(b, true, &o, &err) == 0);
    CHECK(o.flags == (MS_BIND | MS_NOSUID));
    rt_mount_opts_free(&o);

    const char *c[] = {"bind", NULL};
    CHECK(rt_options_have_bind((char *const *)c));
    CHECK(!rt_options_have_bind((char *const *)b));
    CHECK(!rt_options_have_bind(NULL));
}

static void test_propagation(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"rbind", "rprivate", "shared", "runbindable", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK(o.n_propagation == 3);
    CHECK(o.propagation[0] == (MS_REC | MS_PRIVATE));
    CHECK(o.propagation[1] == MS_SHARED);
    CHECK(o.propagation[2] == (MS_REC | MS_UNBINDABLE));
    /* Propagation is never part of the mount's own flags. */
    CHECK((o.flags & (MS_PRIVATE | MS_SHARED | MS_UNBINDABLE | MS_SLAVE)) == 0);
    rt_mount_opts_free(&o);

    unsigned long p = 0;
    CHECK(rt_propagation_parse("rslave", &p) && p == (MS_REC | MS_SLAVE));
    CHECK(rt_propagation_parse("slave", &p) && p == MS_SLAVE);
    CHECK(rt_propagation_parse("private", &p) && p == MS_PRIVATE);
    CHECK(!rt_propagation_parse("ro", &p));
    CHECK(!rt_propagation_parse("rxw", &p));
}

static void test_data(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"nosuid", "size=65536k", "mode=755", "strictatime", "uid=5", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK_STR(o.data, "size=65536k,mode=755,uid=5");
    CHECK(o.flags == (MS_NOSUID | MS_STRICTATIME));
    rt_mount_opts_free(&o);

    /* devpts as runc's spec writes it */
    const char *b[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                       "mode=0620", "gid=5",  NULL};
    CHECK(parse(b, false, &o, &err) == 0);
    CHECK_STR(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    rt_mount_opts_free(&o);
    CHECK(err == NULL);
}

/* runc drops a bind mount's filesystem data (mode=, size=) rather than refusing the bundle. */
static void test_bind_data_ignored(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"rbind", "mode=755", "ro", "size=65536k", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK(o.data == NULL);
    CHECK_STR(o.ignored, "mode=755,size=65536k");
    CHECK(o.flags == (MS_BIND | MS_REC | MS_RDONLY));
    rt_mount_opts_free(&o);
    const char *b[] = {"mode=0700", NULL};
    CHECK(parse(b, true, &o, &err) == 0);
    CHECK(o.data == NULL && o.ignored && streq(o.ignored, "mode=0700"));
    rt_mount_opts_free(&o);
    CHECK(err == NULL);
    const char *c[] = {"bind", "nosiud", NULL};
    CHECK(parse(c, false, &o, &err) < 0);
    CHECK(err && streq(err->msg, "mounts[3].options: unknown option \"nosiud\""));
    pr_error_free(err);
    err = NULL;
    const char *d[] = {"bind", "=x", NULL};
    CHECK(parse(d, false, &o, &err) < 0);
    pr_error_free(err);
}

static void test_errors(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"rbind", "rxw", NULL};
    CHECK(parse(a, false, &o, &err) < 0);
    CHECK(err && streq(err->msg, "mounts[3].options: unknown option \"rxw\""));
    pr_error_freep(&err);

    const char *b[] = {"rxw", NULL};
    CHECK(parse(b, true, &o, &err) < 0);
    pr_error_freep(&err);

    const char *c[] = {"tmpcopyup", NULL};
    CHECK(parse(c, false, &o, &err) < 0);
    CHECK(err && strstr(err->msg, "\"tmpcopyup\" is not supported"));
    pr_error_freep(&err);

    const char *d[] = {"rbind", "idmap", NULL};
    CHECK(parse(d, false, &o, &err) < 0);
    CHECK(err && strstr(err->msg, "\"idmap\" is not supported"));
    pr_error_freep(&err);
}

static void test_recursive_attrs(void)
{
    struct rt_mount_opts o;
    pr_error *err = NULL;
    const char *a[] = {"rbind", "rro", "rnosuid", "rnoatime", NULL};
    CHECK(parse(a, false, &o, &err) == 0);
    CHECK(o.attr_set == (RT_MOUNT_ATTR_RDONLY | RT_MOUNT_ATTR_NOSUID | RT_MOUNT_ATTR_NOATIME));
    CHECK(o.attr_clr == RT_MOUNT_ATTR__ATIME);
    rt_mount_opts_free(&o);

    const char *b[] = {"rbind", "rro", "rrw", "rstrictatime", NULL};
    CHECK(parse(b, false, &o, &err) == 0);
    CHECK(o.attr_set == RT_MOUNT_ATTR_STRICTATIME);
    CHECK(o.attr_clr == (RT_MOUNT_ATTR_RDONLY | RT_MOUNT_ATTR__ATIME));
    rt_mount_opts_free(&o);
}

static void test_features(void)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    rt_mounts_features(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    CHECK(buf[0] == '[');
    CHECK(strstr(buf, "\"rbind\"") && strstr(buf, "\"nosuid\"") && strstr(buf, "\"rro\""));
    CHECK(strstr(buf, "\"rslave\"") && strstr(buf, "\"strictatime\""));
    CHECK(!strstr(buf, "idmap") && !strstr(buf, "tmpcopyup"));
}

static void test_path_clean(void)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"/", "/"},         {"/a/b", "/a/b"},          {"/a//b/", "/a/b"},
        {"/a/./b", "/a/b"}, {"/a/../b", "/b"},         {"/../../x", "/x"},
        {"/x/../..", "/"},  {"/a/b/../../../c", "/c"}, {"", "/"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *c = path_clean_in_root(cases[i].in);
        CHECK_STR(c, cases[i].out);
    }
}

static void test_mountinfo(void)
{
    const char *text =
        "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        "40 22 0:40 /sub /with\\040space rw master:3 shared:9 - tmpfs none rw,size=10k\n";
    struct rt_mountinfo *mi = NULL;
    size_t n = 0;
    pr_error *err = NULL;
    CHECK(rt_mountinfo_parse(text, &mi, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK_STR(mi[0].mountpoint, "/");
        CHECK_STR(mi[0].fstype, "ext4");
        CHECK_STR(mi[1].superopts, "rw,cpu,cpuacct");
        CHECK_STR(mi[2].mountpoint, "/with space");
        CHECK_STR(mi[2].root, "/sub");
        CHECK_STR(mi[2].source, "none");
    }
    rt_mountinfo_free(mi, n);
    CHECK(rt_mountinfo_parse("1 2 3\n", &mi, &n, &err) < 0);
    pr_error_freep(&err);

    CHECK(rt_optlist_contains_all("rw,cpu,cpuacct", "cpu,cpuacct"));
    CHECK(rt_optlist_contains_all("rw,cpu,cpuacct", "cpuacct"));
    CHECK(!rt_optlist_contains_all("rw,cpuacct", "cpu"));
    CHECK(rt_optlist_contains_all("rw,name=systemd", "name=systemd"));
    CHECK(!rt_optlist_contains_all("rw", ""));
}

static int validate(const char *json, pr_error **err)
{
    _cleanup_json_ yajl_val v = NULL;
    int r = json_parse(json, "config", &v, err);
    return r < 0 ? r : rt_mounts_validate(v, err);
}

static void test_validate(void)
{
    pr_error *err = NULL;
    CHECK(validate("{\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                   "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"options\":[\"size=1m\"]},"
                   "{\"destination\":\"/h\",\"type\":\"bind\",\"source\":\"/\","
                   "\"options\":[\"rbind\",\"ro\",\"rprivate\"]}],"
                   "\"linux\":{\"rootfsPropagation\":\"rshared\","
                   "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]}}",
                   &err) == 0);
    if (err)
        fprintf(stderr, "# %s\n", err->msg);
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{\"destination\":\"/a\",\"type\":\"tmpfs\"},"
                   "{\"destination\":\"relative\",\"type\":\"tmpfs\"}]}",
                   &err) < 0);
    CHECK(err && strstr(err->msg, "mounts[1].destination") && strstr(err->msg, "absolute"));
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\","
                   "\"source\":\"/nonexistent/podrun-unit\",\"options\":[\"rbind\"]}]}",
                   &err) < 0);
    CHECK(err && strstr(err->msg, "mounts[0].source") && strstr(err->msg, "/nonexistent"));
    pr_error_freep(&err);

    CHECK(validate("{\"linux\":{\"rootfsPropagation\":\"sideways\"}}", &err) < 0);
    CHECK(err && strstr(err->msg, "linux.rootfsPropagation") && strstr(err->msg, "sideways"));
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{},{},{},{\"destination\":\"/a\",\"source\":\"/\","
                   "\"options\":[\"bind\",\"rxw\"]}]}",
                   &err) < 0);
    /* The first mount lacks a destination, which is reported first. */
    CHECK(err && strstr(err->msg, "mounts[0].destination"));
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{\"destination\":\"/b\",\"type\":\"tmpfs\"},"
                   "{\"destination\":\"/a\",\"source\":\"/\",\"options\":[\"bind\",\"rxw\"]}]}",
                   &err) < 0);
    CHECK(err && streq(err->msg, "mounts[1].options: unknown option \"rxw\""));
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{\"destination\":\"/a\"}]}", &err) < 0);
    CHECK(err && strstr(err->msg, "mounts[0].type"));
    pr_error_freep(&err);

    CHECK(validate("{\"mounts\":[{\"destination\":\"/a\",\"type\":\"tmpfs\","
                   "\"uidMappings\":[]}]}",
                   &err) < 0);
    CHECK(err && strstr(err->msg, "not supported"));
    pr_error_freep(&err);

    CHECK(validate("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\"}]}}", &err) < 0);
    CHECK(err && strstr(err->msg, "linux.devices[0].type"));
    pr_error_freep(&err);

    CHECK(validate("{\"linux\":{\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\","
                   "\"major\":10,\"minor\":229,\"fileMode\":438}]}}",
                   &err) == 0);
    pr_error_freep(&err);

    CHECK(validate("{\"linux\":{\"maskedPaths\":[\"proc/kcore\"]}}", &err) < 0);
    CHECK(err && strstr(err->msg, "linux.maskedPaths[0]"));
    pr_error_freep(&err);
}

/* A scratch rootfs: root/{dir}, root/evil -> /, root/out -> /../../../../tmp/outside,
 * root/rel -> dir/../dir, root/loop -> loop. */
static char *make_root(char **outside)
{
    char tmpl[] = "/tmp/podrun-unit-mounts.XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base)
        return NULL;
    char *root = xasprintf("%s/root", base);
    *outside = xasprintf("%s/outside", base);
    _cleanup_free_ char *dir = xasprintf("%s/dir", root);
    _cleanup_free_ char *evil = xasprintf("%s/evil", root);
    _cleanup_free_ char *out = xasprintf("%s/out", root);
    _cleanup_free_ char *rel = xasprintf("%s/rel", root);
    _cleanup_free_ char *loop = xasprintf("%s/loop", root);
    _cleanup_free_ char *up = xasprintf("%s/up", root);
    mkdir(root, 0755);
    mkdir(dir, 0755);
    mkdir(*outside, 0755);
    /* A link that would reach the scratch dir's outside/ if followed on the host. */
    _cleanup_free_ char *uptarget = xasprintf("../outside");
    if (symlink("/", evil) < 0 || symlink("/../../../../tmp/outside", out) < 0 ||
        symlink("dir/../dir", rel) < 0 || symlink("loop", loop) < 0 || symlink(uptarget, up) < 0)
        return NULL;
    return root;
}

static void remove_root(const char *root)
{
    _cleanup_free_ char *base = xstrdup(root);
    *strrchr(base, '/') = '\0';
    rm_rf(base);
}

static void test_resolve_in_root(void)
{
    _cleanup_free_ char *outside = NULL;
    _cleanup_free_ char *root = make_root(&outside);
    CHECK(root != NULL);
    if (!root)
        return;
    _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    pr_error *err = NULL;
    struct {
        const char *in, *out;
    } cases[] = {
        {"/evil/x", "/x"},    {"/evil/evil/dir/y", "/dir/y"}, {"/out/x", "/tmp/outside/x"},
        {"/rel/z", "/dir/z"}, {"/../../dir/../../x", "/x"},   {"/up/x", "/outside/x"},
        {"/dir", "/dir"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *res = NULL;
        CHECK(resolve_in_root(rootfd, cases[i].in, &res, &err) == 0);
        CHECK_STR(res, cases[i].out);
    }
    _cleanup_free_ char *res = NULL;
    CHECK(resolve_in_root(rootfd, "/loop/x", &res, &err) == -ELOOP);
    pr_error_freep(&err);

    /* Creating destinations through the links stays inside the root. */
    _cleanup_free_ char *resolved = NULL;
    int fd = rt_open_dest(rootfd, "/out/deep/file", true, &resolved, &err);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK_STR(resolved, "/tmp/outside/deep/file");
    _cleanup_free_ char *inside = xasprintf("%s/tmp/outside/deep/file", root);
    struct stat st;
    CHECK(stat(inside, &st) == 0 && S_ISREG(st.st_mode));
    _cleanup_free_ char *host_side = xasprintf("%s/deep", outside);
    CHECK(stat(host_side, &st) < 0 && errno == ENOENT);
    fd = rt_open_dest(rootfd, "/up/newdir", false, NULL, &err);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    _cleanup_free_ char *up_inside = xasprintf("%s/outside/newdir", root);
    CHECK(stat(up_inside, &st) == 0 && S_ISDIR(st.st_mode));
    _cleanup_free_ char *up_host = xasprintf("%s/newdir", outside);
    CHECK(stat(up_host, &st) < 0 && errno == ENOENT);
    pr_error_freep(&err);
    remove_root(root);
}

/* As root: rt_rootfs_prepare in a child with its own mount namespace, with tmpfs mounts whose
 * destinations go through symlinks that point out of the rootfs. */
static int prepare_child(const char *root)
{
    if (unshare(CLONE_NEWNS) < 0)
        return 2;
    _cleanup_json_ yajl_val v = NULL;
    pr_error *err = NULL;
    const char *cfg = "{\"mounts\":["
                      "{\"destination\":\"/evil/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
                      "{\"destination\":\"/out/y\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                      "\"options\":[\"size=1m\",\"ro\"]},"
                      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                      "\"options\":[\"mode=755\"]}]}";
    if (json_parse(cfg, "config", &v, &err) < 0 || rt_rootfs_prepare(v, root, false, &err) < 0) {
        fprintf(stderr, "# prepare: %s\n", err ? err->msg : "?");
        return 1;
    }
    struct statfs s;
    _cleanup_free_ char *x = xasprintf("%s/x", root);
    _cleanup_free_ char *y = xasprintf("%s/tmp/outside/y", root);
    _cleanup_free_ char *null = xasprintf("%s/dev/null", root);
    _cleanup_free_ char *ptmx = xasprintf("%s/dev/ptmx", root);
    struct stat st;
    char link[64] = "";
    if (statfs(x, &s) < 0 || s.f_type != TMPFS_MAGIC_)
        return 3;
    if (statfs(y, &s) < 0 || s.f_type != TMPFS_MAGIC_ || !(s.f_flags & ST_RDONLY))
        return 4;
    if (stat(null, &st) < 0 || !S_ISCHR(st.st_mode) || (st.st_mode & 0777) != 0666)
        return 5;
    if (readlink(ptmx, link, sizeof(link) - 1) < 0 || !streq(link, "pts/ptmx"))
        return 6;
    return 0;
}

static void test_prepare_symlink_escape(void)
{
    if (geteuid() != 0) {
        SKIP("needs root for a mount namespace");
    }
    _cleanup_free_ char *outside = NULL;
    _cleanup_free_ char *root = make_root(&outside);
    CHECK(root != NULL);
    if (!root)
        return;
    pid_t pid = fork();
    if (pid == 0)
        _exit(prepare_child(root));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fprintf(stderr, "# child failed at step %d\n", WEXITSTATUS(status));
    /* The host saw none of it: nothing appeared in /x, /tmp/outside or the scratch outside/. */
    struct stat st;
    CHECK(stat("/x", &st) < 0);
    CHECK(stat("/tmp/outside/y", &st) < 0);
    _cleanup_free_ char *host_y = xasprintf("%s/y", outside);
    CHECK(stat(host_y, &st) < 0);
    _cleanup_free_ char *mi = NULL;
    CHECK(read_file("/proc/self/mountinfo", &mi, NULL, NULL) == 0);
    CHECK(mi && !strstr(mi, root));
    remove_root(root);
}

static int write_str(const char *path, const char *s)
{
    pr_error *err = NULL;
    int r = write_file(path, s, strlen(s), &err);
    pr_error_freep(&err);
    return r;
}

/* As rt_rootfs_prepare runs in a user namespace: mknod is refused so devices are bind-mounted,
 * sysfs without a network namespace is the host's, and a read-only bind of a nosuid,nodev
 * source has to keep those flags (the kernel locks them). */
static int prepare_userns_child(const char *root, const char *src)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return 2;
    if (mount("tmpfs", src, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") < 0)
        return 3;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
        return 4;
    if (write_str("/proc/self/setgroups", "deny") < 0 ||
        write_str("/proc/self/uid_map", "0 0 1") < 0 ||
        write_str("/proc/self/gid_map", "0 0 1") < 0)
        return 5;
    _cleanup_json_ yajl_val v = NULL;
    pr_error *err = NULL;
    _cleanup_free_ char *cfg =
        xasprintf("{\"mounts\":["
                  "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
                  "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
                  "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
                  "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\","
                  "\"options\":[\"rbind\",\"ro\"]}]}",
                  src);
    if (json_parse(cfg, "config", &v, &err) < 0 || rt_rootfs_prepare(v, root, true, &err) < 0) {
        fprintf(stderr, "# prepare: %s\n", err ? err->msg : "?");
        return 6;
    }
    struct statvfs sv;
    struct stat st;
    _cleanup_free_ char *data = xasprintf("%s/data", root);
    _cleanup_free_ char *null = xasprintf("%s/dev/null", root);
    _cleanup_free_ char *kernel = xasprintf("%s/sys/kernel", root);
    if (statvfs(data, &sv) < 0 || !(sv.f_flag & ST_RDONLY) || !(sv.f_flag & ST_NOSUID) ||
        !(sv.f_flag & ST_NODEV))
        return 7;
    /* the host's null device, bind-mounted */
    if (stat(null, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return 8;
    if (stat(kernel, &st) < 0 || !S_ISDIR(st.st_mode))
        return 9;
    return 0;
}

static void test_prepare_in_userns(void)
{
    if (geteuid() != 0) {
        SKIP("needs root for namespaces");
    }
    _cleanup_free_ char *outside = NULL;
    _cleanup_free_ char *root = make_root(&outside);
    CHECK(root != NULL);
    if (!root)
        return;
    pid_t pid = fork();
    if (pid == 0)
        _exit(prepare_userns_child(root, outside));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fprintf(stderr, "# child failed at step %d\n", WEXITSTATUS(status));
    _cleanup_free_ char *mi = NULL;
    CHECK(read_file("/proc/self/mountinfo", &mi, NULL, NULL) == 0);
    CHECK(mi && !strstr(mi, root));
    remove_root(root);
}

int main(void)
{
    RUN(test_flags);
    RUN(test_bind);
    RUN(test_propagation);
    RUN(test_data);
    RUN(test_bind_data_ignored);
    RUN(test_errors);
    RUN(test_recursive_attrs);
    RUN(test_features);
    RUN(test_path_clean);
    RUN(test_mountinfo);
    RUN(test_validate);
    RUN(test_resolve_in_root);
    RUN(test_prepare_symlink_escape);
    RUN(test_prepare_in_userns);
    UNIT_DONE();
}
