# SPDX-License-Identifier: Apache-2.0
# Unit tests of the nftables library, agent/nft/ (tests/Makefile.inc says how a part lists its
# unit tests).

# podrun's own tables, chains, rules and verdict maps, in a network namespace of its own
check_PROGRAMS += agent/nft/tests/test-nft
agent_nft_tests_test_nft_SOURCES = agent/nft/tests/test-nft.c tests/lib/unit.h
agent_nft_tests_test_nft_CFLAGS = $(AGENT_CFLAGS)
agent_nft_tests_test_nft_LDADD = $(AGENT_LIBS)
