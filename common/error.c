/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pr_verr(pr_error **err, int errnum, const char *fmt, va_list ap)
{
    if (errnum < 0)
        errnum = -errnum;
    if (err && !*err) {
        char *msg = xvasprintf(fmt, ap);
        pr_error *e = xcalloc(1, sizeof(*e));
        e->errnum = errnum;
        if (errnum) {
            e->msg = xasprintf("%s: %s", msg, pr_strerror(errnum));
            free(msg);
        } else {
            e->msg = msg;
        }
        *err = e;
    }
    return errnum ? -errnum : -EINVAL;
}

int pr_err_code(pr_error **err, int errnum, const char *fmt, ...)
{
    bool fresh = err && !*err;
    va_list ap;
    va_start(ap, fmt);
    pr_verr(err, 0, fmt, ap);
    va_end(ap);
    if (errnum < 0)
        errnum = -errnum;
    if (fresh)
        (*err)->errnum = errnum;
    return errnum ? -errnum : -EINVAL;
}

int pr_err(pr_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pr_verr(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

int pr_err_prefix(pr_error **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -EINVAL;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = xvasprintf(fmt, ap);
    va_end(ap);
    char *m = xasprintf("%s: %s", prefix, (*err)->msg);
    free(prefix);
    free((*err)->msg);
    (*err)->msg = m;
    return (*err)->errnum ? -(*err)->errnum : -EINVAL;
}

const char *pr_strerror(int errnum)
{
    const char *s = strerrordesc_np(errnum);
    return s ? s : strerror(errnum);
}

void pr_error_free(pr_error *e)
{
    if (e) {
        free(e->msg);
        free(e);
    }
}

void pr_error_freep(pr_error **e)
{
    pr_error_free(*e);
    *e = NULL;
}
