/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny unit-test harness: each test is a function; the program prints one TAP line per test
 * and exits non-zero if any failed. tests/run-all.sh counts the TAP lines. */
#ifndef PODRUN_UNIT_H
#define PODRUN_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks __attribute__((unused));
static int unit_tests_run __attribute__((unused)), unit_tests_failed __attribute__((unused));
static const char *unit_skip_reason __attribute__((unused));

/* Inside a test: mark it skipped (with a reason that holds on a real machine) and return. */
#define SKIP(reason)                                                                               \
    do {                                                                                           \
        unit_skip_reason = (reason);                                                               \
        return;                                                                                    \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
            unit_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            fprintf(stderr, "# %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a ? _a : "(null)", \
                    _b ? _b : "(null)");                                                           \
            unit_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int _before = unit_failed_checks;                                                          \
        unit_skip_reason = NULL;                                                                   \
        fn();                                                                                      \
        unit_tests_run++;                                                                          \
        if (unit_skip_reason && unit_failed_checks == _before) {                                   \
            printf("ok %d - %s # SKIP %s\n", unit_tests_run, #fn, unit_skip_reason);               \
        } else if (unit_failed_checks != _before) {                                                       \
            unit_tests_failed++;                                                                   \
            printf("not ok %d - %s\n", unit_tests_run, #fn);                                       \
        } else {                                                                                   \
            printf("ok %d - %s\n", unit_tests_run, #fn);                                           \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

#define UNIT_DONE()                                                                                \
    do {                                                                                           \
        printf("1..%d\n", unit_tests_run);                                                         \
        return unit_tests_failed ? 1 : 0;                                                          \
    } while (0)

#endif
