/* SPDX-License-Identifier: Apache-2.0 */
/* Logging in runc's shape: text to stderr, and to --log FILE as text or JSON lines
 * ({"level":"error","msg":"...","time":"..."}) so callers that parse runc's log keep working. */
#ifndef PODRUN_LOG_H
#define PODRUN_LOG_H

#include <stdbool.h>

enum pr_log_level { PR_LOG_ERROR, PR_LOG_WARNING, PR_LOG_INFO, PR_LOG_DEBUG };

/* path may be NULL (stderr only); json selects the --log-format. */
int pr_log_init(const char *path, bool json, bool debug);
void pr_log(enum pr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_log_close(void);
/* The fd of the --log file, or -1. Forked children share it (it is close-on-exec). */
int pr_log_fd(void);

#define pr_debug(...)   pr_log(PR_LOG_DEBUG, __VA_ARGS__)
#define pr_info(...)    pr_log(PR_LOG_INFO, __VA_ARGS__)
#define pr_warning(...) pr_log(PR_LOG_WARNING, __VA_ARGS__)
#define pr_error(...)   pr_log(PR_LOG_ERROR, __VA_ARGS__)

#endif
