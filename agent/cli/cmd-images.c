/* SPDX-License-Identifier: Apache-2.0 */
/* The image commands of the podrun CLI: thin wrappers over the images library. */
#include "commands.h"
#include "progress.h"
#include "images/images.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int open_store(struct podrun_global *g, bool exclusive, image_store **s, pr_error **err)
{
    return images_open(g->images_root, exclusive, s, err);
}

static void human_size(int64_t n, char buf[32])
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    snprintf(buf, 32, u ? "%.3g %s" : "%.0f %s", v, units[u]);
}

static void print_gen(yajl_gen g)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    fwrite(buf, 1, len, stdout);
    if (len && buf[len - 1] != '\n')
        putchar('\n');
}

static int list_images(struct podrun_global *gl, const char *format, bool quiet, pr_error **err)
{
    _cleanup_images_ image_store *s = NULL;
    _cleanup_image_list_ image_list *l = NULL;
    int r;
    if ((r = open_store(gl, false, &s, err)) < 0 || (r = images_list(s, &l, err)) < 0)
        return r;
    if (format && streq(format, "json")) {
        _cleanup_gen_ yajl_gen g = json_gen_new(true);
        jg_array_open(g);
        for (size_t i = 0; i < images_list_count(l); i++)
            images_gen_summary(g, images_list_at(l, i));
        jg_array_close(g);
        print_gen(g);
        return 0;
    }
    if (format && !streq(format, "table"))
        return pr_err(err, 0, "unknown --format `%s` (json or table)", format);
    if (!quiet)
        printf("%-40s %-16s %-12s %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
    for (size_t i = 0; i < images_list_count(l); i++) {
        const image_rec *rec = images_list_at(l, i);
        if (quiet) {
            printf("%.12s\n", images_id_hex(rec));
            continue;
        }
        char size[32];
        human_size(images_size(rec), size);
        const char *when = images_created(rec);
        char created[21];
        snprintf(created, sizeof(created), "%.19s", when ? when : "");
        for (char *c = created; *c; c++)
            if (*c == 'T')
                *c = ' ';
        char *const *names = images_names(rec);
        if (!names[0])
            printf("%-40s %-16s %-12.12s %-20s %s\n", "<none>", "<none>", images_id_hex(rec),
                   created, size);
        for (char *const *n = names; *n; n++) {
            _cleanup_free_ char *repo = NULL, *tag = NULL;
            images_name_split(*n, &repo, &tag);
            printf("%-40s %-16s %-12.12s %-20s %s\n", repo, tag, images_id_hex(rec), created, size);
        }
    }
    return 0;
}

int cmd_images(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    bool quiet = false;
    int c;
    while ((c = cli_getopt(argc, argv, "f:q", opts)) != -1) {
        if (c == 'f')
            format = optarg;
        else if (c == 'q')
            quiet = true;
        else
            return pr_err(err, 0, "usage: podrun images [--format json|table] [--quiet]");
    }
    if (optind != argc)
        return pr_err(err, 0, "usage: podrun images [--format json|table] [--quiet]");
    return list_images(g, format, quiet, err);
}

int cmd_load(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *input = NULL;
    bool quiet = false;
    int c;
    while ((c = cli_getopt(argc, argv, "i:q", opts)) != -1) {
        if (c == 'i')
            input = optarg;
        else if (c == 'q')
            quiet = true;
        else
            return pr_err(err, 0,
                          "usage: podrun load [-q] FILE|DIR|- (or an archive on standard input)");
    }
    if (!input && optind < argc)
        input = argv[optind++];
    if (!input && !isatty(STDIN_FILENO))
        input = "-";
    if (!input || optind != argc)
        return pr_err(err, 0,
                      "usage: podrun load [-q] FILE|DIR|- (or an archive on standard input)");
    _cleanup_images_ image_store *s = NULL;
    _cleanup_strv_ char **loaded = NULL;
    int r = open_store(g, false, &s, err);
    if (r < 0)
        return r;
    r = images_load(s, input, &loaded, err);
    for (char **l = loaded; !quiet && l && *l; l++)
        printf("Loaded image: %s\n", *l);
    return r;
}

int cmd_pull(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"tls-verify", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    /* Bars on a terminal, plain lines anywhere else (agent/progress.c); none with -q. */
    struct pull_display display;
    pull_display_init(&display, stderr);
    struct pull_options po = {
        .progress = pull_display_progress, .progress_data = &display, .tls_verify = -1};
    int c;
    while ((c = cli_getopt(argc, argv, "q", opts)) != -1) {
        if (c == 'q')
            po.progress = NULL, po.quiet = true;
        else if (c == 't')
            po.tls_verify = streq(optarg, "false") ? 0 : 1;
        else
            return pr_err(err, 0, "usage: podrun pull [-q] [--tls-verify=false] REF");
    }
    if (optind + 1 != argc)
        return pr_err(err, 0, "usage: podrun pull [-q] [--tls-verify=false] REF");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(g, false, &s, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *id = NULL;
    r = images_pull(s, argv[optind], &po, &id, err);
    pull_display_clear(&display);
    if (r < 0)
        return r;
    if (!po.quiet)
        printf("%s\n", id);
    return 0;
}

static int gc(image_store *s, bool verbose, pr_error **err)
{
    struct images_pruned p;
    int r = images_prune(s, &p, err);
    if (r == 0 && verbose) {
        char size[32];
        human_size((int64_t)p.bytes, size);
        printf("Removed %u blobs and %u layers, %s\n", p.blobs, p.layers, size);
    }
    return r;
}

int cmd_rmi(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c;
    while ((c = cli_getopt(argc, argv, "f", opts)) != -1) {
        if (c == 'f')
            force = true;
        else
            return pr_err(err, 0, "usage: podrun rmi [--force] IMAGE...");
    }
    if (optind >= argc)
        return pr_err(err, 0, "usage: podrun rmi [--force] IMAGE...");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(g, true, &s, err);
    if (r < 0)
        return r;
    for (int i = optind; i < argc; i++) {
        _cleanup_free_ char *removed = NULL;
        r = images_remove(s, argv[i], force, &removed, err);
        if (r < 0)
            return r;
        if (removed)
            printf("Deleted: %s\n", removed);
        else
            printf("Untagged: %s\n", argv[i]);
    }
    return gc(s, false, err);
}

int cmd_save(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
        if (c == 'o')
            output = optarg;
        else if (c == 'F' && !streq(optarg, "oci-archive"))
            return pr_err(err, 0, "save: only --format oci-archive is supported");
        else if (c != 'F')
            return pr_err(err, 0, "usage: podrun save -o FILE IMAGE...");
    }
    if (!output || optind >= argc)
        return pr_err(err, 0, "usage: podrun save -o FILE IMAGE...");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(g, false, &s, err);
    if (r < 0)
        return r;
    return images_save(s, argv + optind, output, err);
}

int cmd_tag(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    if (argc < 3)
        return pr_err(err, 0, "usage: podrun tag IMAGE NAME...");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(g, false, &s, err);
    if (r < 0)
        return r;
    for (int i = 2; i < argc; i++) {
        r = images_tag(s, argv[1], argv[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int image_inspect(struct podrun_global *gl, int argc, char **argv, pr_error **err)
{
    if (argc < 2)
        return pr_err(err, 0, "usage: podrun image inspect IMAGE...");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(gl, false, &s, err);
    if (r < 0)
        return r;
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_array_open(g);
    for (int i = 1; i < argc; i++)
        if ((r = images_inspect(s, argv[i], g, err)) < 0)
            return r;
    jg_array_close(g);
    print_gen(g);
    return 0;
}

static int image_prune(struct podrun_global *gl, int argc, char **argv, pr_error **err)
{
    (void)argv;
    if (argc != 1)
        return pr_err(err, 0, "usage: podrun image prune");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(gl, true, &s, err);
    if (r < 0)
        return r;
    return gc(s, true, err);
}

/* podrun image mount IMAGE ID DIR [-- ARG...]: DIR becomes a runnable OCI bundle: DIR/rootfs an
 * overlay of the image's layers (changes in DIR/upper), DIR/config.json from the pod manager's
 * one config builder with the image's defaults, ARGs replacing the image's Cmd. */
static int image_mount(struct podrun_global *gl, int argc, char **argv, pr_error **err)
{
    /* IMAGE ID DIR, then optionally -- and the arguments that replace the image's Cmd. */
    int dashes = argc > 4 && streq(argv[4], "--") ? 4 : -1;
    if (argc != 4 && dashes < 0)
        return pr_err(err, 0, "usage: podrun image mount IMAGE CONTAINER-ID DIR [-- ARG...]");
    _cleanup_free_ char *config = xasprintf("%s/config.json", argv[3]);
    struct stat st;
    if (lstat(config, &st) == 0 || errno != ENOENT)
        return pr_err(err, EEXIST,
                      "`%s` already exists: a bundle is made only in a directory "
                      "without one",
                      config);
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(gl, false, &s, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *rootfs = NULL;
    if ((r = images_mount_rootfs(s, argv[1], argv[2], argv[3], &rootfs, err)) < 0)
        return r;
    image_process p = {0};
    struct pods_container_config c = {
        .rootfs = rootfs,
        .image = &p,
        .args = dashes > 0 && argv[dashes + 1] ? argv + dashes + 1 : NULL,
    };
    if ((r = images_process(s, argv[1], rootfs, &p, err)) < 0 ||
        (r = pods_bundle_write(argv[3], &c, err)) < 0) {
        unlink(config);
        images_unmount_rootfs(s, argv[2], argv[3], NULL);
    } else {
        printf("%s\n", argv[3]);
    }
    image_process_clear(&p);
    return r;
}

/* podrun image unmount ID DIR: undoes image mount, dropping the container's changes. */
static int image_unmount(struct podrun_global *gl, int argc, char **argv, pr_error **err)
{
    if (argc != 3)
        return pr_err(err, 0, "usage: podrun image unmount CONTAINER-ID DIR");
    _cleanup_images_ image_store *s = NULL;
    int r = open_store(gl, false, &s, err);
    if (r < 0)
        return r;
    if ((r = images_unmount_rootfs(s, argv[1], argv[2], err)) < 0)
        return r;
    /* The bundle's config went with its root: image mount wrote it there. */
    _cleanup_free_ char *config = xasprintf("%s/config.json", argv[2]);
    if (unlink(config) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", config);
    return 0;
}

int cmd_image(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    if (argc < 2)
        return pr_err(
            err, 0, "usage: podrun image inspect|prune|ls|rm|load|pull|save|tag|mount|unmount ...");
    const char *sub = argv[1];
    argc--, argv++;
    optind = 0;
    if (streq(sub, "inspect"))
        return image_inspect(g, argc, argv, err);
    if (streq(sub, "prune"))
        return image_prune(g, argc, argv, err);
    if (streq(sub, "ls") || streq(sub, "list"))
        return cmd_images(g, argc, argv, err);
    if (streq(sub, "rm"))
        return cmd_rmi(g, argc, argv, err);
    if (streq(sub, "load"))
        return cmd_load(g, argc, argv, err);
    if (streq(sub, "pull"))
        return cmd_pull(g, argc, argv, err);
    if (streq(sub, "save"))
        return cmd_save(g, argc, argv, err);
    if (streq(sub, "tag"))
        return cmd_tag(g, argc, argv, err);
    if (streq(sub, "mount"))
        return image_mount(g, argc, argv, err);
    if (streq(sub, "unmount") || streq(sub, "umount"))
        return image_unmount(g, argc, argv, err);
    return pr_err(err, 0, "unknown image subcommand `%s`", sub);
}
