"""Step 5 of the spec's example: an HTTPS GET through the module with a
security profile, the response stored in a module file and read back.

    import ubxsec, https_get
    from board import uart
    m = ubxsec.Module(uart())
    https_get.run(m, "server.test", 2)

Prints lines starting with "= " (the demo's convention): the GET's outcome,
then the status code and the response size. Raises on any failure: HttpError
when the module reports +UUHTTPCR result 0 (handshake or certificate check
failed), CmeError when it refuses a command, AtTimeout when no URC comes.
The response streams through a small sink, so a large one costs no heap.
"""

from ubxsec.http import Http, status


def run(m, host, security_profile, path="/", filename="https.resp", http_profile=0,
        timeout_ms=60000):
    h = Http(m.at, http_profile)
    h.server(host)                  # AT+UHTTP=0,1,"<host>"
    h.secure(security_profile)      # AT+UHTTP=0,6,1,<security_profile>
    h.get(path, filename, timeout_ms)  # AT+UHTTPC=0,1,"<path>","<file>" ... +UUHTTPCR: 0,1,1
    print("= +UUHTTPCR: %d,1,1" % http_profile)
    head = bytearray(16)
    seen = [0]

    def keep_head(mv):
        n = seen[0]
        if n < 16:
            k = min(16 - n, len(mv))
            head[n:n + k] = mv[:k]
        seen[0] = n + len(mv)

    size = h.read_file(filename, keep_head)   # AT+URDFILE="<file>"
    code = status(head)
    print("=", code, size)
    return code
