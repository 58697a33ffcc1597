/* SPDX-License-Identifier: Apache-2.0 */
/* A fake unit-test program for tests/harness/selftest.sh, built with the real tests/lib/unit.h.
 * What it does depends on the name it runs under:
 *   test-pass   one passing test and one SKIP
 *   test-crash  one passing test, then dies before its plan (a crash half-way)
 *   test-noisy  passes everything and exits 0, but prints a UBSan report on stderr */
#include <signal.h>

#include "tests/lib/unit.h"

static void passes(void)
{
    CHECK(1 + 1 == 2);
}

static void skips(void)
{
    SKIP("the harness checks that a skip is counted as one");
}

int main(int argc, char **argv)
{
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    name = name ? name + 1 : argv[0];
    RUN(passes);
    if (strcmp(name, "test-pass") == 0)
        RUN(skips);
    if (strcmp(name, "test-crash") == 0)
        raise(SIGKILL);
    if (strcmp(name, "test-noisy") == 0)
        fprintf(stderr, "fake-unit.c:1:1: runtime error: signed integer overflow\n");
    UNIT_DONE();
}
