# SPDX-License-Identifier: Apache-2.0
# Unit tests of common/ (tests/Makefile.inc says how a part lists its unit tests).
check_PROGRAMS += common/tests/test-common
common_tests_test_common_SOURCES = common/tests/test-common.c tests/lib/unit.h
common_tests_test_common_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
common_tests_test_common_LDADD = common/libcommon.a $(YAJL_LIBS)
