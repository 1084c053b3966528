"""The spec's example on the device, one step per call.

tools/demo.py (`make demo`) drives it through mpremote; every step prints
its results as lines starting with "= ", and raises on any failure. From a
REPL, the same steps by hand:

    import ubxsec, demo_device as d
    from board import uart
    m = ubxsec.Module(uart())
    d.chip_id(m)
    d.import_root(m, "/certs/thawte.pem", "ThawteCA")
    d.list_certs(m)
    d.set_profile(m, 2, "ThawteCA")
    d.https_get(m, 2, "www.example.com", "/")

Lean on purpose: what the flow needs in heap, per board, is measured by `make bench`
(bench/results.json, `boards.*.min_heap_demo_flow`).
"""


def chip_id(m):
    print("=", m.chip_id())


def import_root(m, path, name):
    # streamed from flash in fixed chunks; import_file raises VerifyError if
    # the module's MD5 differs from the one computed while streaming
    print("=", m.certs.import_file(path, "CA", name))


def list_certs(m):
    for e in m.certs.list():
        print("=", e.kind, "|", e.name, "|", e.common_name, "|", e.expiry)


def set_profile(m, n, ca_name):
    p = m.profile(n)
    p.validation_level(1)
    p.ca_name(ca_name)
    print("=", p.validation_level(), p.ca_name())


def https_get(m, n, host, path):
    """Step 5: GET https://host/path through the module, TLS with security
    profile n; prints the HTTP status and the response size."""
    from ubxsec.http import Http, status
    h = Http(m.at, 0)
    h.reset()
    h.server(host)
    h.secure(n)
    h.get(path, "demo.resp")
    r = h.read_file("demo.resp")
    print("=", status(r), len(r))


def heap():
    import gc
    gc.collect()
    print("=", gc.mem_alloc(), gc.mem_alloc() + gc.mem_free())
