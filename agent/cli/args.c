/* SPDX-License-Identifier: Apache-2.0 */
/* What every command parses the same way, with kubectl's errors: flags (cli_getopt) and the
 * resource arguments of get, describe and delete (KIND NAME... or KIND/NAME...). */
#include "commands.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>

static char bad_flag[256];

const char *cli_bad_flag(void)
{
    return bad_flag[0] ? bad_flag : NULL;
}

/* The argument getopt stopped at: the one before optind, unless a group of short flags goes
 * on in argv[optind]. */
static const char *offending(int argc, char **argv)
{
    if (optind < argc && argv[optind][0] == '-' && argv[optind][1] != '-' &&
        strchr(argv[optind], optopt))
        return argv[optind];
    return optind > 0 && optind <= argc ? argv[optind - 1] : "";
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    /* ':' first: a missing value is told from an unknown flag; getopt itself prints nothing. */
    char spec[64];
    snprintf(spec, sizeof(spec), ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c != '?' && c != ':')
        return c;
    const char *arg = offending(argc, argv);
    size_t len = strcspn(arg, "=");
    if (c == ':' && strncmp(arg, "--", 2) == 0)
        snprintf(bad_flag, sizeof(bad_flag), "flag needs an argument: %.*s", (int)len, arg);
    else if (c == ':')
        snprintf(bad_flag, sizeof(bad_flag), "flag needs an argument: '%c' in -%c", optopt, optopt);
    else if (optopt)
        snprintf(bad_flag, sizeof(bad_flag), "unknown shorthand flag: '%c' in %s", optopt, arg);
    else
        snprintf(bad_flag, sizeof(bad_flag), "unknown flag: %.*s", (int)len, arg);
    return '?';
}

/* ---- KIND NAME... | KIND/NAME... ---- */

int cli_resource_args(int argc, char **argv, const char *verb, const char **resource, char ***names,
                      pr_error **err)
{
    *resource = NULL;
    *names = NULL;
    if (argc < 1)
        return pr_err(err, 0,
                      "You must specify the type of resource to %s. Use \"podrun %s --help\" "
                      "for the supported resources.",
                      verb, verb);
    bool slashed = strchr(argv[0], '/') != NULL;
    for (int i = 0; i < argc; i++) {
        char *slash = strchr(argv[i], '/');
        if (!slashed) {
            if (i == 0) {
                if (!(*resource = pods_resource_name(argv[0])))
                    return pr_err(err, 0, "the server doesn't have a resource type \"%s\"",
                                  argv[0]);
                continue;
            }
            if (slash)
                return pr_err(err, 0,
                              "there is no need to specify a resource type as a separate "
                              "argument when passing arguments in resource/name form (e.g. "
                              "'podrun %s resource/<resource_name>' instead of 'podrun %s "
                              "resource resource/<resource_name>'",
                              verb, verb);
            strv_extend(names, argv[i]);
            continue;
        }
        if (!slash || slash == argv[i] || !slash[1])
            return pr_err(err, 0,
                          "arguments in resource/name form must have a single resource and "
                          "name");
        _cleanup_free_ char *kind = xstrndup(argv[i], (size_t)(slash - argv[i]));
        const char *res = pods_resource_name(kind);
        if (!res)
            return pr_err(err, 0, "the server doesn't have a resource type \"%s\"", kind);
        if (*resource && !streq(*resource, res))
            return pr_err(err, 0, "`%s` and `%s`: podrun takes one kind of resource at a time",
                          argv[0], argv[i]);
        *resource = res;
        strv_extend(names, slash + 1);
    }
    return 0;
}

void cli_list_move(struct pods_list *to, struct pods_list *from)
{
    if (from->n) {
        to->v = xrealloc(to->v, (to->n + from->n) * sizeof(*to->v));
        memcpy(to->v + to->n, from->v, from->n * sizeof(*to->v));
        to->n += from->n;
    }
    free(from->v);
    from->v = NULL;
    from->n = 0;
}
