# The baseline: AT code the way it is usually written for MicroPython.
#
# Read the whole file, write it in one go, poll the UART with sleeps,
# readline() parsing, string concatenation. No ring buffer, no IRQ, no
# end-to-end MD5 check. It is correct for the happy path the benchmarks
# exercise, and that is all it tries to be.

import time

POLL_MS = 10        # sleep between two looks at the UART
TIMEOUT_MS = 5000


class ModemError(Exception):
    pass


class Modem:
    def __init__(self, uart):
        self.uart = uart
        self.urc_handlers = {}
        self.send("ATE0")
        self.send("AT+CMEE=2")

    def on_urc(self, prefix, fn):
        self.urc_handlers[prefix] = fn

    def _dispatch(self, line):
        for prefix in self.urc_handlers:
            if line.startswith(prefix):
                self.urc_handlers[prefix](line)
                return True
        return line.startswith("+UU")

    def _read_lines(self):
        lines = []
        while self.uart.any():
            raw = self.uart.readline()
            if not raw:
                break
            line = raw.decode().strip()
            if line:
                lines.append(line)
        return lines

    def poll(self):
        n = 0
        for line in self._read_lines():
            if self._dispatch(line):
                n += 1
        return n

    def wait_response(self, timeout=TIMEOUT_MS):
        response = []
        start = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), start) < timeout:
            for line in self._read_lines():
                if self._dispatch(line):
                    continue
                if line == "OK":
                    return response
                if line == "ERROR" or line.startswith("+CME ERROR"):
                    raise ModemError(line)
                response.append(line)
            time.sleep_ms(POLL_MS)
        raise ModemError("timeout")

    def send(self, cmd, timeout=TIMEOUT_MS):
        self.uart.write(cmd + "\r")
        return self.wait_response(timeout)

    def chip_id(self):
        for line in self.send("AT+USECCHIP"):
            if line.startswith("+USECCHIP:"):
                return line.split(":")[1].strip().strip('"')
        raise ModemError("no chip id")

    def import_file(self, path, kind, name):
        with open(path, "rb") as f:
            data = f.read()
        kinds = {"CA": 0, "CC": 1, "PK": 2, "SC": 3}
        self.uart.write('AT+USECMNG=0,%d,"%s",%d\r' % (kinds[kind], name, len(data)))
        buf = ""
        start = time.ticks_ms()
        while ">" not in buf:
            if time.ticks_diff(time.ticks_ms(), start) > TIMEOUT_MS:
                raise ModemError("no prompt")
            time.sleep_ms(POLL_MS)
            if self.uart.any():
                buf += self.uart.read().decode()
        self.uart.write(data)
        for line in self.wait_response():
            if line.startswith("+USECMNG:"):
                return line.split(",")[-1].strip('"')
        raise ModemError("no md5")

    def list(self):
        entries = []
        for line in self.send("AT+USECMNG=3"):
            entries.append([f.strip('"') for f in line.split(",")])
        return entries

    def set_profile(self, n, validation, ca):
        self.send("AT+USECPRF=%d,0,%d" % (n, validation))
        self.send('AT+USECPRF=%d,3,"%s"' % (n, ca))

    def close(self):
        pass
