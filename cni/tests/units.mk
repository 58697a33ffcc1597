# SPDX-License-Identifier: Apache-2.0
# Unit tests of cni/ (tests/Makefile.inc says how a part lists its unit tests).
check_PROGRAMS += cni/tests/test-cni
cni_tests_test_cni_SOURCES = cni/tests/test-cni.c tests/lib/unit.h
cni_tests_test_cni_CFLAGS = $(CNI_CFLAGS)
cni_tests_test_cni_LDADD = $(CNI_LIBS)
