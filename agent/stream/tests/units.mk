# SPDX-License-Identifier: Apache-2.0
# Unit tests of the streaming server, agent/stream/ (tests/Makefile.inc says how a part lists its
# unit tests).

# WebSocket frames and messages, SPDY frames and header blocks, the request head, the token cache
check_PROGRAMS += agent/stream/tests/test-stream
agent_stream_tests_test_stream_SOURCES = agent/stream/tests/test-stream.c tests/lib/unit.h
agent_stream_tests_test_stream_CFLAGS = $(AGENT_CFLAGS) $(YAJL_CFLAGS) $(CRYPTO_CFLAGS)
agent_stream_tests_test_stream_LDADD = $(STREAM_LIBS)
