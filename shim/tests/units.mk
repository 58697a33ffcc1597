# SPDX-License-Identifier: Apache-2.0
# Unit tests of shim/ (tests/Makefile.inc says how a part lists its unit tests).

# spec parsing, CRI log format and rotation, back-off, HTTP status lines
check_PROGRAMS += shim/tests/test-shim
shim_tests_test_shim_SOURCES = shim/tests/test-shim.c tests/lib/unit.h
shim_tests_test_shim_CFLAGS = $(SHIM_CFLAGS)
shim_tests_test_shim_LDADD = $(SHIM_LIBS)
