/* SPDX-License-Identifier: Apache-2.0 */
/* Built with -fsanitize=address by tests/harness/selftest.sh: prints the message an expected
 * failure looks for, then reads past a heap buffer. ASan stops it with its own exit code, which a
 * test that checks only `[ "$status" -ne 0 ]` and the message would take for the failure it
 * expected. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    (void)argv;
    fprintf(stderr, "podrun: bad input: the expected message\n");
    char *p = malloc(4);
    int c = p[argc + 8];
    free(p);
    return c == 1234 ? 0 : 1;
}
