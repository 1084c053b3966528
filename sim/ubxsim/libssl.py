"""The libssl calls the ssl module does not offer, reached with ctypes.

Used for TLS-PSK on a Python without native PSK callbacks (before 3.13) and,
on every version, for session export/import as DER (the ssl module has no
serialisation of SSL_SESSION), the master secret of a session, the time
certificates are checked at (the module's clock, not the host's) and a note
of whether the server asked for a client certificate.

Safety rules, checked once per process before any libssl call takes a
pointer read out of a Python object:

- the library is the one `_ssl` is linked against: the libssl mapped into
  this process once `_ssl` is imported (/proc/self/maps), and its version
  must equal ssl.OPENSSL_VERSION_NUMBER;
- the struct layout is proved from the Python side first: the word that
  should hold an _SSLSocket's context must equal id() of its context (a
  comparison of two integers, nothing dereferenced). Only then is the SSL
  pointer next to it used, and the SSL_CTX it names must equal the word the
  context object holds.

Anything unexpected raises LibsslUnavailable naming what failed; nothing
is called on a pointer that has not been checked this way.
"""

import ctypes
import os
import ssl
import threading

import _ssl


class LibsslUnavailable(RuntimeError):
    """libssl cannot be reached safely from this Python."""


def linked_libssl(maps_text):
    """The path of the one libssl mapped in a /proc/<pid>/maps text."""
    paths = set()
    for line in maps_text.splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and os.path.basename(fields[5]).startswith("libssl.so"):
            paths.add(fields[5].strip())
    if len(paths) != 1:
        raise LibsslUnavailable(
            "expected one libssl mapped for _ssl (%s), found %s: is _ssl statically "
            "linked? PSK and session resumption need a shared libssl"
            % (_ssl.__file__, sorted(paths) or "none"))
    return paths.pop()


def _process_libssl():
    try:
        with open("/proc/self/maps") as f:
            return linked_libssl(f.read())
    except OSError as e:
        raise LibsslUnavailable("cannot read /proc/self/maps to find the libssl of _ssl "
                                "(Linux only): %s" % e) from None


class Bridge:
    """Checked entry points; build with bridge() (one per process)."""

    # words of the C structs after PyObject_HEAD (as in CPython 3.11-3.13; proved at run time):
    # _SSLContext {SSL_CTX *ctx; ...}; _SSLSocket {PyObject *Socket; SSL *ssl; PySSLContext *ctx; ...}
    CONTEXT_CTX = 0
    SOCKET_SSL, SOCKET_CTX = 1, 2

    def __init__(self, head=None):
        self._head = object.__basicsize__ if head is None else head
        for name in ("_SSLSocket", "_SSLContext"):
            if not isinstance(getattr(_ssl, name, None), type):
                raise LibsslUnavailable("_ssl has no %s type (not CPython's _ssl)" % name)
        self._word = ctypes.sizeof(ctypes.c_void_p)
        self.path = _process_libssl()
        try:
            lib = ctypes.CDLL(self.path)
        except OSError as e:
            raise LibsslUnavailable("cannot load %s: %s" % (self.path, e)) from None
        vp, u = ctypes.c_void_p, ctypes.c_uint
        self.PSK_CLIENT_CB = ctypes.CFUNCTYPE(u, vp, ctypes.c_char_p, vp, u, vp, u)
        self.PSK_SERVER_CB = ctypes.CFUNCTYPE(u, vp, ctypes.c_char_p, vp, u)
        self.CLIENT_CERT_CB = ctypes.CFUNCTYPE(ctypes.c_int, vp, vp, vp)
        sigs = {
            "OpenSSL_version_num": (ctypes.c_ulong, []),
            "SSL_CTX_get_options": (ctypes.c_uint64, [vp]),
            "SSL_get_SSL_CTX": (vp, [vp]),
            "SSL_CTX_set_psk_client_callback": (None, [vp, self.PSK_CLIENT_CB]),
            "SSL_CTX_set_psk_server_callback": (None, [vp, self.PSK_SERVER_CB]),
            "SSL_get_session": (vp, [vp]),
            "SSL_set_session": (ctypes.c_int, [vp, vp]),
            "SSL_SESSION_get_master_key": (ctypes.c_size_t, [vp, vp, ctypes.c_size_t]),
            "i2d_SSL_SESSION": (ctypes.c_int, [vp, ctypes.POINTER(ctypes.c_char_p)]),
            "d2i_SSL_SESSION": (vp, [vp, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
            "SSL_SESSION_free": (None, [vp]),
            "SSL_CTX_get0_param": (vp, [vp]),
            "X509_VERIFY_PARAM_set_time": (None, [vp, ctypes.c_long]),  # time_t
            "SSL_CTX_set_client_cert_cb": (None, [vp, self.CLIENT_CERT_CB]),
        }
        for name, (res, args) in sigs.items():
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise LibsslUnavailable("%s has no %s" % (self.path, name)) from None
            fn.restype, fn.argtypes = res, args
            setattr(self, name, fn)
        if self.OpenSSL_version_num() != ssl.OPENSSL_VERSION_NUMBER:
            raise LibsslUnavailable("%s is OpenSSL 0x%x, _ssl was built with 0x%x" % (
                self.path, self.OpenSSL_version_num(), ssl.OPENSSL_VERSION_NUMBER))
        self._check_layout()

    # ------------------------------------------------------------ layout

    def _field(self, obj, index, cls):
        """The index-th word after PyObject_HEAD inside obj (obj's own memory only)."""
        end = self._head + (index + 1) * self._word
        if cls.__basicsize__ < end:
            raise LibsslUnavailable("%s.__basicsize__ %d: no word %d after a %d-byte head; "
                                    "unsupported Python build"
                                    % (cls.__name__, cls.__basicsize__, index, self._head))
        return ctypes.c_void_p.from_address(id(obj) + end - self._word).value or 0

    def _check_layout(self):
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        sslobj = probe.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())._sslobj
        # first proof, Python side only: the context word holds the context object
        if self._field(sslobj, self.SOCKET_CTX, _ssl._SSLSocket) != id(probe):
            raise LibsslUnavailable("_ssl._SSLSocket layout is not the one of CPython "
                                    "3.11-3.13 (unsupported Python build)")
        ssl_ptr = self._field(sslobj, self.SOCKET_SSL, _ssl._SSLSocket)
        ctx_ptr = self._field(probe, self.CONTEXT_CTX, _ssl._SSLContext)
        if not ssl_ptr or not ctx_ptr:
            raise LibsslUnavailable("_ssl objects hold no OpenSSL pointer where expected")
        # second proof: libssl, on the SSL proved above, names the context's SSL_CTX
        if self.SSL_get_SSL_CTX(ssl_ptr) != ctx_ptr:
            raise LibsslUnavailable("_ssl._SSLContext layout differs from the expected one")
        if self.SSL_CTX_get_options(ctx_ptr) != int(probe.options):
            raise LibsslUnavailable("SSL_CTX options differ from SSLContext.options")

    def ctx_ptr(self, context):
        return self._field(context, self.CONTEXT_CTX, _ssl._SSLContext)

    def ssl_ptr(self, sslsock):
        obj = getattr(sslsock, "_sslobj", None)
        if obj is None:
            raise LibsslUnavailable("socket has no TLS object (closed or not wrapped)")
        if self._field(obj, self.SOCKET_CTX, _ssl._SSLSocket) != id(obj.context):
            raise LibsslUnavailable("_ssl._SSLSocket does not hold its context")
        return self._field(obj, self.SOCKET_SSL, _ssl._SSLSocket)

    # ------------------------------------------------------------ PSK (before 3.13)

    def set_psk_client(self, context, answer):
        """answer(hint) -> (identity bytes, key bytes) or None; kept alive by context."""
        def thunk(_ssl, hint, id_out, id_max, psk_out, psk_max):
            pair = answer(hint)
            if pair is None:
                return 0
            identity, key = pair
            if len(identity) + 1 > id_max or len(key) > psk_max:
                return 0
            ctypes.memmove(id_out, identity + b"\0", len(identity) + 1)
            ctypes.memmove(psk_out, key, len(key))
            return len(key)
        callback = self.PSK_CLIENT_CB(thunk)
        context._ubx_psk_callback = callback  # the C thunk lives as long as its context
        self.SSL_CTX_set_psk_client_callback(self.ctx_ptr(context), callback)

    def set_psk_server(self, context, answer):
        """answer(identity bytes) -> key bytes or None; kept alive by context."""
        def thunk(_ssl, identity, psk_out, psk_max):
            key = answer(identity or b"")
            if key is None or len(key) > psk_max:
                return 0
            ctypes.memmove(psk_out, key, len(key))
            return len(key)
        callback = self.PSK_SERVER_CB(thunk)
        context._ubx_psk_callback = callback
        self.SSL_CTX_set_psk_server_callback(self.ctx_ptr(context), callback)

    # ------------------------------------------------------------ verification time

    def set_verify_time(self, context, epoch):
        """Check certificate dates at epoch (seconds, UTC) instead of now.
        Call after the last change of context.verify_flags (the ssl module
        rewrites the flags, which would drop the time flag this sets)."""
        param = self.SSL_CTX_get0_param(self.ctx_ptr(context))
        if not param:
            raise LibsslUnavailable("SSL_CTX has no verify parameters")
        self.X509_VERIFY_PARAM_set_time(param, int(epoch))

    def note_client_cert_request(self, context):
        """A list that gets True when a server asks for a client certificate.
        libssl calls this hook only when the context holds none: the
        handshake then goes on without one, as before."""
        asked = []

        def thunk(_ssl, _x509, _pkey):
            asked.append(True)
            return 0
        callback = self.CLIENT_CERT_CB(thunk)
        context._ubx_cert_callback = callback  # lives as long as its context
        self.SSL_CTX_set_client_cert_cb(self.ctx_ptr(context), callback)
        return asked

    # ------------------------------------------------------------ sessions

    def export_session(self, sslsock):
        """(master_secret, DER session data) of the socket's current session."""
        sess = self.SSL_get_session(self.ssl_ptr(sslsock))
        if not sess:
            return b"", b""
        key = ctypes.create_string_buffer(48)
        n = self.SSL_SESSION_get_master_key(sess, key, 48)
        size = self.i2d_SSL_SESSION(sess, None)
        if size <= 0:
            return key.raw[:n], b""
        der = ctypes.create_string_buffer(size)
        cursor = ctypes.c_char_p(ctypes.addressof(der))
        self.i2d_SSL_SESSION(sess, ctypes.byref(cursor))
        return key.raw[:n], der.raw[:size]

    def import_session(self, sslsock, der):
        """Offer a stored session (DER) before the handshake; raises ValueError
        when libssl cannot read it or refuses it."""
        buf = ctypes.create_string_buffer(der, len(der))
        cursor = ctypes.c_char_p(ctypes.addressof(buf))
        sess = self.d2i_SSL_SESSION(None, ctypes.byref(cursor), len(der))
        if not sess:
            raise ValueError("not an OpenSSL session (%d bytes)" % len(der))
        try:
            if self.SSL_set_session(self.ssl_ptr(sslsock), sess) != 1:
                raise ValueError("libssl refused the session")
        finally:
            self.SSL_SESSION_free(sess)  # SSL_set_session took its own reference


_bridge = None
_failure = None
_lock = threading.Lock()   # HTTP workers may ask for it at the same time


def bridge():
    """The process's Bridge; LibsslUnavailable (every time) if it cannot be had."""
    global _bridge, _failure
    with _lock:
        if _bridge is None:
            if _failure is not None:
                raise LibsslUnavailable(_failure)
            try:
                _bridge = Bridge()
            except LibsslUnavailable as e:
                _failure = str(e)
                raise
        return _bridge


def native_psk():
    """True when this Python's ssl has PSK callbacks (3.13+)."""
    return hasattr(ssl.SSLContext, "set_psk_client_callback")
