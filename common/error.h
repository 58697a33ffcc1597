/* SPDX-License-Identifier: Apache-2.0 */
/* Error objects: a function that fails fills one with a message saying what failed on what,
 * and returns a negative errno. Only main() prints them. */
#ifndef PODRUN_ERROR_H
#define PODRUN_ERROR_H

#include <stdarg.h>

typedef struct pr_error {
    int errnum; /* positive errno, or 0 when the failure is not a system error */
    char *msg;
} pr_error;

/* Fills *err (if err and *err is empty) and returns -errnum, or -EINVAL when errnum is 0.
 * When errnum is non-zero its strerror is appended to the message. */
int pr_err(pr_error **err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pr_verr(pr_error **err, int errnum, const char *fmt, va_list ap);
/* Like pr_err, but the message already says it all: errnum is kept for callers to test
 * (ENOENT, EEXIST ...) and its strerror is not appended. */
int pr_err_code(pr_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing error's message with more context ("creating container X: ..."). */
int pr_err_prefix(pr_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* strerror's text without its gettext lookup: podrun never sets a locale, so the text is the
 * same, and a daemon that reports a failed probe does not map libc's gettext code for it. */
const char *pr_strerror(int errnum);

void pr_error_free(pr_error *e);
void pr_error_freep(pr_error **e);
#define _cleanup_error_ __attribute__((cleanup(pr_error_freep)))

#endif
