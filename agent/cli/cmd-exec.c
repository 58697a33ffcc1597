/* SPDX-License-Identifier: Apache-2.0 */
/* podrun exec: a command in a pod's running container, as kubectl exec runs one: through the
 * runtime's exec in the foreground (not the shim's exec request, which captures a bounded
 * output for probes), so output streams, a terminal is relayed and the command's exit status
 * becomes podrun's. */
#include "commands.h"
#include "pods/pods.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>

#define USAGE "usage: podrun exec [-i] [-t] POD [-c CONTAINER] [-n NAMESPACE] -- COMMAND [ARG...]"

int cmd_exec(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"stdin", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"container", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    /* The command is what follows "--", never parsed as podrun's options. */
    int dash = 1;
    while (dash < argc && !streq(argv[dash], "--"))
        dash++;
    if (dash >= argc - 1)
        return pr_err(err, 0, "%s (the command goes after --)", USAGE);
    const char *ns = "default", *container = NULL;
    bool in = false, tty = false;
    int c;
    while ((c = cli_getopt(dash, argv, "itc:n:", opts)) != -1) {
        if (c == 'i')
            in = true;
        else if (c == 't')
            tty = true;
        else if (c == 'c')
            container = optarg;
        else if (c == 'n')
            ns = optarg;
        else
            return pr_err(err, 0, USAGE);
    }
    if (dash - optind != 1)
        return pr_err(err, 0, USAGE);
    struct pods_manager *m = NULL;
    _cleanup_free_ char *uid = NULL, *name = NULL, *note = NULL;
    _cleanup_strv_ char **args = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    r = pods_find_container(m, ns, argv[optind], container, &uid, &name, &note, err);
    if (note)
        fprintf(stderr, "%s\n", note);
    if (r == 0)
        args = pods_exec_argv(m, uid, name, tty, argv + dash + 1);
    /* Closed before the exec: the manager's lock is not held while the command runs. */
    pods_manager_close(m);
    if (r < 0)
        return r;
    if (!in) {
        /* Without -i the command's stdin is empty, as kubectl's is. */
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
            return pr_err(err, errno, "open `/dev/null`");
        close(fd);
    }
    fflush(NULL);
    execvp(args[0], args);
    return pr_err(err, errno, "run `%s`", args[0]);
}
