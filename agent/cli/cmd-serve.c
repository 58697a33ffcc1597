/* SPDX-License-Identifier: Apache-2.0 */
/* podrun serve: the controller loop (--controllers-only, --controllers-pass), or the CRI v1
 * server, which is podrun-cri (serve-cri.c), exec'd in this process with the same arguments.
 * The server lives as long as the node: podrun-cri maps no library it does not serve with
 * (libcurl and its TLS stack, libarchive: pulls run in a child), so that it idles small. */
#include "commands.h"
#include "util.h"

int cmd_serve(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    struct serve_args a = {0};
    int r = serve_args_parse(argc, argv, &a, err);
    if (r < 0)
        return r;
    if (a.help) {
        serve_usage(stdout);
        return 0;
    }
    if (a.controllers_pass)
        return controllers_pass(g, err);
    if (a.controllers_only)
        return controllers_run(g, err);
    _cleanup_free_ char *cri = cli_sibling("podrun-cri");
    if (!cri)
        return pr_err(err, ENOENT,
                      "podrun-cri, the CRI server, is not beside podrun (make install puts "
                      "them together)");
    /* The same pid: systemd's LISTEN_PID and MAINPID still name it. */
    _cleanup_strv_ char **args = NULL;
    strv_extend(&args, "podrun-cri");
    cli_globals_argv(g, &args);
    for (int i = 0; i < argc; i++)
        strv_extend(&args, argv[i]);
    execv(cri, args);
    return pr_err(err, errno, "exec `%s`", cri);
}
