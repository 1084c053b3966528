"""UART pacing: one direction of an 8N1 line carries at most baud/10 bytes/s.

A Pacer keeps the time at which the last byte accounted for has finished
crossing the line. Bytes are accounted for in small chunks so the schedule
is exact over a long transfer: an oversleep is absorbed by the next chunk,
never accumulated.
"""

import time

BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit
CHUNK_SECONDS = 0.005  # line time of one accounted chunk


class Pacer:
    def __init__(self, baud):
        self.baud = baud
        self.line_free_at = 0.0

    @property
    def enabled(self):
        return self.baud > 0

    def chunk_size(self):
        """Bytes per chunk: about 5 ms of line time, at least one byte."""
        if not self.enabled:
            return 4096
        return max(1, int(self.baud / BITS_PER_BYTE * CHUNK_SECONDS))

    def seconds_for(self, nbytes):
        return nbytes * BITS_PER_BYTE / self.baud if self.enabled else 0.0

    def account(self, nbytes):
        """Book nbytes on the line; returns when their last bit has crossed."""
        if not self.enabled:
            return
        now = time.monotonic()
        # An idle line does not bank time for later bursts; but the few
        # hundred microseconds this process takes between two chunks of one
        # transfer are not idleness: a gap shorter than a chunk's line time
        # continues the transfer where the last chunk ended.
        start = self.line_free_at
        if now - start > CHUNK_SECONDS:
            start = now
        self.line_free_at = start + self.seconds_for(nbytes)
        delay = self.line_free_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
