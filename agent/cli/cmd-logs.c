/* SPDX-License-Identifier: Apache-2.0 */
/* podrun logs: a container's output from its CRI-format log file, the records' timestamps,
 * streams and tags taken off and partial records joined, as kubectl logs shows it. */
#include "commands.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>

int cmd_logs(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"container", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = "default", *container = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "n:c:", opts)) != -1) {
        if (c == 'n')
            ns = optarg;
        else if (c == 'c')
            container = optarg;
        else
            return pr_err(err, 0, "usage: podrun logs POD [-c CONTAINER] [-n NAMESPACE]");
    }
    if (argc - optind != 1)
        return pr_err(err, 0, "usage: podrun logs POD [-c CONTAINER] [-n NAMESPACE]");
    struct pods_manager *m = NULL;
    _cleanup_free_ char *path = NULL, *note = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    r = pods_log_path(m, ns, argv[optind], container, &path, &note, err);
    if (note)
        fprintf(stderr, "%s\n", note);
    pods_manager_close(m);
    if (r < 0)
        return r;
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", path);
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        bool full, is_stderr;
        const char *msg = pods_cri_log_message(line, (size_t)n, &full, &is_stderr);
        if (!msg)
            continue;
        fwrite(msg, 1, (size_t)(line + n - msg), stdout);
        if (full)
            putchar('\n');
    }
    return 0;
}
