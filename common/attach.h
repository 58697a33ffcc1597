/* SPDX-License-Identifier: Apache-2.0 */
/* The attach protocol: a container's own stdio through its shim (DESIGN.md §2, podrun-shim(8),
 * ATTACH). One unix stream socket per container, POD_DIR/attach/NAME.sock; both directions
 * carry frames of a channel byte, a 32-bit big-endian length and that many bytes. The shim
 * (shim/attach.c) and its clients (`podrun attach`, the CRI server's Attach) share this code. */
#ifndef PODRUN_ATTACH_H
#define PODRUN_ATTACH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum attach_channel {
    ATTACH_STDIN = 0,  /* client -> shim: bytes for its stdin; empty: this client's EOF */
    ATTACH_STDOUT = 1, /* shim -> client (a terminal's output is stdout) */
    ATTACH_STDERR = 2, /* shim -> client */
    ATTACH_RESIZE = 3, /* client -> shim: rows, cols (16 bits each, big-endian) */
    ATTACH_EXIT = 4,   /* shim -> client, last: the container's exit code (32 bits, big-endian) */
    ATTACH_ERROR = 5,  /* shim -> client, last: why the session cannot go on (text) */
    ATTACH_HELLO = 6,  /* shim -> client, first: one byte of ATTACH_F_* */
    ATTACH_CHANNELS
};

#define ATTACH_F_STDIN      0x01
#define ATTACH_F_STDIN_ONCE 0x02
#define ATTACH_F_TTY        0x04

#define ATTACH_HEADER_SIZE 5
/* A frame's payload at most: a peer's longer frame is a protocol error, so a reader never holds
 * more than one header and this. */
#define ATTACH_FRAME_MAX 32768

/* The header of a frame of len bytes on ch (len <= ATTACH_FRAME_MAX). */
void attach_header(uint8_t hdr[ATTACH_HEADER_SIZE], enum attach_channel ch, uint32_t len);

struct attach_frame {
    enum attach_channel channel;
    const uint8_t *data;
    uint32_t len;
};
/* The first frame of buf: its size (> 0) with *f filled, 0 when buf holds only part of it,
 * -EBADMSG for an unknown channel or a length over ATTACH_FRAME_MAX. */
int attach_parse(const uint8_t *buf, size_t n, struct attach_frame *f);

void attach_resize_encode(uint8_t out[4], unsigned rows, unsigned cols);
int attach_resize_decode(const struct attach_frame *f, unsigned *rows, unsigned *cols);
void attach_exit_encode(uint8_t out[4], int32_t code);
int attach_exit_decode(const struct attach_frame *f, int32_t *code);

/* The socket of container name in the attach directory dir. Names are reached through
 * /proc/self/fd, so that a long pod directory does not overflow sun_path. listen: made mode
 * 0600 (a stale socket replaced), nonblocking. */
int attach_listen(const char *dir, const char *name, pr_error **err);
int attach_connect(const char *dir, const char *name, pr_error **err);

#endif
