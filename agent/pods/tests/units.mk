# SPDX-License-Identifier: Apache-2.0
# Unit tests of the pod manager, agent/pods/ (tests/Makefile.inc says how a part lists its
# unit tests).

# the OCI runtime config builder
check_PROGRAMS += agent/pods/tests/test-pods
agent_pods_tests_test_pods_SOURCES = agent/pods/tests/test-pods.c tests/lib/unit.h
agent_pods_tests_test_pods_CFLAGS = $(AGENT_CFLAGS)
agent_pods_tests_test_pods_LDADD = $(AGENT_LIBS)

# pods_exec: the helper's signals and input, and the caller's SIGPIPE left alone
check_PROGRAMS += agent/pods/tests/test-exec
agent_pods_tests_test_exec_SOURCES = agent/pods/tests/test-exec.c tests/lib/unit.h
agent_pods_tests_test_exec_CFLAGS = $(AGENT_CFLAGS)
agent_pods_tests_test_exec_LDADD = $(AGENT_LIBS)
