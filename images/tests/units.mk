# SPDX-License-Identifier: Apache-2.0
# Unit tests of images/ (tests/Makefile.inc says how a part lists its unit tests).
check_PROGRAMS += images/tests/test-images
images_tests_test_images_SOURCES = images/tests/test-images.c tests/lib/unit.h
images_tests_test_images_CFLAGS = $(IMAGES_CFLAGS)
images_tests_test_images_LDADD = $(IMAGES_LIBS)
