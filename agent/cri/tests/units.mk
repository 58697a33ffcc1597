# SPDX-License-Identifier: Apache-2.0
# Unit tests of the CRI server, agent/cri/ (tests/Makefile.inc says how a part lists its unit
# tests).

# gRPC framing, timeouts, grpc-message, the method table
check_PROGRAMS += agent/cri/tests/test-cri
agent_cri_tests_test_cri_SOURCES = agent/cri/tests/test-cri.c tests/lib/unit.h
agent_cri_tests_test_cri_CFLAGS = $(CRI_CFLAGS)
agent_cri_tests_test_cri_LDADD = $(CRI_LIBS)

# Attach's relay against a fake shim on a socketpair
check_PROGRAMS += agent/cri/tests/test-attach
agent_cri_tests_test_attach_SOURCES = agent/cri/tests/test-attach.c tests/lib/unit.h
agent_cri_tests_test_attach_CFLAGS = $(CRI_CFLAGS)
agent_cri_tests_test_attach_LDADD = $(CRI_LIBS)
