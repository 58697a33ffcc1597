/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime and the processes it starts talk over a SOCK_SEQPACKET pair: one message per
 * step, an fd attached where one must cross (a pty master, a seccomp listener), and an error
 * message when the child fails, so the runtime can report what went wrong inside. */
#ifndef RT_SYNC_H
#define RT_SYNC_H

#include "error.h"
#include <stddef.h>

enum sync_type {
    SYNC_GO = 1,  /* runtime → child: proceed */
    SYNC_USERMAP, /* child → runtime: write my uid/gid maps */
    SYNC_PID,     /* child → runtime: the container process pid (value) */
    SYNC_HOOKS,   /* child → runtime: run prestart/createRuntime hooks now */
    SYNC_PTY,     /* child → runtime: the pty master (fd) */
    SYNC_SECCOMP, /* child → runtime: the seccomp listener (fd) */
    SYNC_READY,   /* child → runtime: created, waiting for start (or about to exec) */
    SYNC_ERROR,   /* child → runtime: failed; text is the message, value the errno */
};

struct sync_msg {
    int type;
    int value;
    int fd; /* -1 if none */
    char text[3072];
};

int sync_pair(int fds[2], pr_error **err);
int sync_send(int sock, int type, int value, int fd);
/* Sends err's message as SYNC_ERROR. */
int sync_send_error(int sock, const pr_error *e);
/* Receives one message. EOF returns -EPIPE with an error naming what was awaited; a
 * SYNC_ERROR from the child becomes this side's error (returns its errno, negative). */
int sync_recv(int sock, struct sync_msg *m, const char *awaiting, pr_error **err);
/* Receives and checks the type. */
int sync_expect(int sock, int type, struct sync_msg *m, const char *awaiting, pr_error **err);

/* Passes fd over a connected unix socket (SCM_RIGHTS) with a payload. */
int send_fd(int sock, int fd, const void *data, size_t len);

#endif
