"""A local HTTPS server on 127.0.0.1 for TLS tests, recording every handshake.

    server = HttpsServer(chain=(chain_path, key_path), ...).start()
    ... server.port ... server.handshakes[-1]["sni"] ...
    server.stop()

Settings: sni_chains {server name: (chain, key)} picks the certificate by
SNI; client_ca (PEM bytes) with require_client_cert asks for and verifies a
client certificate; versions (min, max) as ssl.TLSVersion; ciphers an OpenSSL
cipher string; alpn a list of protocols, require_alpn closing the connection
when none was agreed; psk {identity bytes: key bytes} answers TLS-PSK.

Each handshake appends a dict: sni, alpn, cipher, version, resumed,
client_subject (CN or None), psk_identity, request (first line), error.
"""

import socket
import ssl
import warnings
import threading

from ubxsim import libssl

BODY = b"hello from the test server\n"


class HttpsServer:
    def __init__(self, chain, *, sni_chains=None, client_ca=None, require_client_cert=False,
                 versions=None, ciphers=None, alpn=None, require_alpn=False, psk=None,
                 body=BODY):
        self.body = body
        self.require_alpn = require_alpn
        self.psk = psk
        self.handshakes = []
        self._lock = threading.Condition()
        options = dict(client_ca=client_ca, require_client_cert=require_client_cert,
                       versions=versions, ciphers=ciphers, alpn=alpn)
        self.context = self._context(chain, **options)
        self.sni_contexts = {name: self._context(c, **options)
                             for name, c in (sni_chains or {}).items()}
        self.context.sni_callback = self._on_sni
        self._listener = None
        self._thread = None
        self._stopping = threading.Event()

    def _context(self, chain, *, client_ca, require_client_cert, versions, ciphers, alpn):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        low, high = versions or (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
        with warnings.catch_warnings():  # TLS 1.0/1.1 are wanted here
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version, context.maximum_version = low, high
        legacy = low < ssl.TLSVersion.TLSv1_2
        if ciphers or legacy:
            context.set_ciphers((ciphers or "DEFAULT") + (":@SECLEVEL=0" if legacy else ""))
        context.load_cert_chain(*chain)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=client_ca.decode("ascii"))
        if alpn:
            context.set_alpn_protocols(alpn)
        if self.psk:
            self._install_psk(context)
        return context

    def _install_psk(self, context):
        def answer(identity):
            with self._lock:
                self._psk_seen = identity
            return self.psk.get(identity)

        if libssl.native_psk():  # Python 3.13+: identities arrive as str
            context.set_psk_server_callback(
                lambda identity: answer((identity or "").encode("utf-8")) or b"")
        else:
            libssl.bridge().set_psk_server(context, answer)

    def _on_sni(self, sslsock, name, _context):
        sslsock._test_sni = name
        if name in self.sni_contexts:
            sslsock.context = self.sni_contexts[name]

    # ------------------------------------------------------------ lifecycle

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="https-test", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait(self, count, timeout=20):
        """The first `count` handshake records, once the server has them."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.handshakes) >= count, timeout):
                raise AssertionError("server saw %d handshakes, expected %d"
                                     % (len(self.handshakes), count))
            return list(self.handshakes[:count])

    # ------------------------------------------------------------ serving

    def _serve(self):
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            raw.settimeout(10)
            self._psk_seen = None
            record = {"sni": None, "alpn": None, "cipher": None, "version": None,
                      "resumed": None, "client_subject": None, "psk_identity": None,
                      "request": None, "error": None}
            try:
                with self.context.wrap_socket(raw, server_side=True) as conn:
                    self._fill(record, conn)
                    self._answer(record, conn)
            except (ssl.SSLError, OSError) as e:
                record["error"] = getattr(e, "reason", None) or str(e)
                record["psk_identity"] = self._psk_seen
                raw.close()
            with self._lock:
                self.handshakes.append(record)
                self._lock.notify_all()

    def _fill(self, record, conn):
        record["sni"] = getattr(conn, "_test_sni", None)
        record["alpn"] = conn.selected_alpn_protocol()
        cipher = conn.cipher()
        record["cipher"] = cipher[0] if cipher else None
        record["version"] = conn.version()
        record["resumed"] = conn.session_reused
        record["psk_identity"] = self._psk_seen
        peer = conn.getpeercert()
        if peer:
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        record["client_subject"] = value

    def _answer(self, record, conn):
        if self.require_alpn and record["alpn"] is None:
            record["error"] = "no ALPN protocol agreed"
            return
        request = b""
        while b"\r\n\r\n" not in request and len(request) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        record["request"] = request.split(b"\r\n", 1)[0].decode("latin-1")
        head = record["request"].startswith("HEAD ")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(self.body)
                     + (b"" if head else self.body))
