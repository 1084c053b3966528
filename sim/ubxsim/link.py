"""The module's UART end: a pty whose slave is reachable through a symlink.

The simulator keeps its own descriptor on the slave open for its whole life:
without it the master reports a hang-up (EIO) every time the client closes
the port, and the raw-mode settings would be lost between clients.
"""

import errno
import os
import select
import time
import tty


class PtyLink:
    def __init__(self, path):
        self.path = path
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.slave_name = os.ttyname(self.slave)
        if os.path.islink(path):
            os.unlink(path)
        elif os.path.exists(path):
            raise FileExistsError("%s exists and is not a symlink" % path)
        os.symlink(self.slave_name, path)

    def fileno(self):
        return self.master

    def read(self, limit):
        """Up to limit bytes that are waiting, b"" if none."""
        try:
            return os.read(self.master, limit)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # no client: nothing to read
                return b""
            raise

    def write(self, data, stall_seconds=2.0):
        """Write all of data; drop what nobody reads within stall_seconds.

        A UART with no one listening loses its output; a pty would instead
        block the simulator once its buffer is full.
        """
        view = memoryview(data)
        deadline = time.monotonic() + stall_seconds
        while view:
            try:
                written = os.write(self.master, view)
            except (BlockingIOError, InterruptedError):
                written = 0
            if written:
                view = view[written:]
                deadline = time.monotonic() + stall_seconds
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([], [self.master], [], min(left, 0.05))
        return True

    def close(self):
        try:
            if os.path.islink(self.path) and os.readlink(self.path) == self.slave_name:
                os.unlink(self.path)
        except OSError:
            pass
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
