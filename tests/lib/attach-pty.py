#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Test helper: runs a command (podrun attach -it ...) on a pseudo-terminal of ROWSxCOLS, as a
# person at a terminal would, and plays STEPs against it:
#   send:TEXT    writes TEXT (\r and \n escapes understood) to the terminal
#   expect:RE    waits until the output after the last expect's match matches the regex
#   resize:R,C   sets the terminal's size (the command gets SIGWINCH)
#   wait         waits for the command to exit; its status becomes ours
#   kill         kills the command (a detach)
# On a failed expect (10 s) it prints what it saw and exits 1. All output goes to stdout last.
# Like a terminal emulator, it answers a cursor position query (ESC [6n, which busybox's line
# editor sends before each prompt and waits on) with row 1, column 1.
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    dash = sys.argv.index("--")
    steps, cmd = sys.argv[3:dash], sys.argv[dash + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(fd, rows, cols)
    seen = b""
    pending = b""

    def read_some(timeout):
        nonlocal seen, pending
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            return False
        seen += data
        pending += data
        for _ in range(data.count(b"\x1b[6n")):
            os.write(fd, b"\x1b[1;1R")
        return True

    status = 0
    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "send":
            # Typed once the output has settled (a prompt, its cursor query answered), as a
            # person types: input sent while the line editor waits for its answer is lost.
            while select.select([fd], [], [], 0.2)[0] and read_some(0):
                pass
            os.write(fd, arg.replace("\\r", "\r").replace("\\n", "\n").encode())
        elif kind == "expect":
            deadline = time.time() + 10
            while not re.search(arg.encode(), pending):
                if time.time() > deadline or not read_some(0.1):
                    if re.search(arg.encode(), pending):
                        break
                    sys.stdout.write(seen.decode(errors="replace"))
                    sys.stdout.write("\nattach-pty: no match for %r\n" % arg)
                    os.kill(pid, signal.SIGKILL)
                    sys.exit(1)
            pending = pending[re.search(arg.encode(), pending).end():]
        elif kind == "resize":
            r, c = arg.split(",")
            set_size(fd, int(r), int(c))
            os.kill(pid, signal.SIGWINCH)
        elif kind == "kill":
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pid = 0
        elif kind == "wait":
            deadline = time.time() + 10
            while time.time() < deadline:
                read_some(0.1)
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    while read_some(0.05):
                        if not select.select([fd], [], [], 0)[0]:
                            break
                    status = os.waitstatus_to_exitcode(st)
                    pid = 0
                    break
            else:
                sys.stdout.write(seen.decode(errors="replace"))
                sys.stdout.write("\nattach-pty: the command did not exit\n")
                os.kill(pid, signal.SIGKILL)
                sys.exit(1)
    if pid:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    sys.exit(status)


main()
