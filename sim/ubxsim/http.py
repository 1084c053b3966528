"""+UHTTP / +UHTTPC: the module's HTTP(S) client, as far as a TLS test needs.

    AT+UHTTP=<pid>                      reset HTTP profile pid (0-3)
    AT+UHTTP=<pid>,<op>,<value>[,<v2>]  set: 0 server IP, 1 server name,
                                        2 user, 3 password, 4 auth type,
                                        5 port, 6 secure (0/1[,<sec_pid>])
    AT+UHTTP=<pid>,<op>                 read: +UHTTP: <pid>,<op>,<value>[,<v2>]
    AT+UHTTPC=<pid>,<cmd>,<path>,<file> 0 HEAD, 1 GET, 2 DELETE; answers OK,
                                        then +UUHTTPCR: <pid>,<cmd>,<1|0>
    AT+UHTTPER=<pid>                    +UHTTPER: <pid>,<class>,<code> of the
                                        last request (0,0 after a success)

After result 0, AT+UHTTPER says what failed, as a module does: class 3
and a code naming what the TLS stack saw (ERROR_CODES below). Class 3 code
73 is what a real module answers for a server whose CA it lacks (public
application code reads `+UHTTPER: 0,3,73` so); the other codes, 201-209,
are this simulator's choice: no manual at hand names finer ones.

The request runs in a worker thread over a real socket (TLS from tls.py when
the secure option is on) and the whole response (status line, headers, body)
goes into the module file system, as the module stores it. Host names resolve
through device.hosts first ({name: (ip, port or None)}), set by the "hosts"
control verb, so tests can point "server.test" at a local server. register()
also gives the device its root of trust (rot.py: RoT PSK for op 11, ZTP
credentials for op 14) and its clock (clock.py) when no other family did.
"""

import base64
import dataclasses
import socket
import ssl
import threading

from . import clock, rot, tls, usecprf
from .cme import CmeError, INCORRECT_PARAMETERS, NOT_ALLOWED, NOT_SUPPORTED
from .command import SET, TEST, quote
from .profile import Profile

PROFILE_IDS = range(4)
SEC_PROFILE_IDS = range(5)
OP_IP, OP_NAME, OP_USER, OP_PASSWORD, OP_AUTH, OP_PORT, OP_SECURE = range(7)
CMD_HEAD, CMD_GET, CMD_DELETE = 0, 1, 2
_METHODS = {CMD_HEAD: "HEAD", CMD_GET: "GET", CMD_DELETE: "DELETE"}
_STRING_LIMITS = {OP_IP: 64, OP_NAME: 128, OP_USER: 30, OP_PASSWORD: 30}
MAX_PATH = 128
MAX_FILENAME = 248
HTTP_PORT, HTTPS_PORT = 80, 443
MAX_RESPONSE = 1 << 20  # what the simulated file system is asked to hold at most

# +UHTTPER: a failure's cause (tls.TlsFailure.cause) -> (class, code)
ERROR_CLASS = 3
ERROR_CODES = {
    "unknown_ca": 73,       # as real modules answer for a CA they lack
    "hostname": 201,
    "expired": 202,
    "not_yet_valid": 203,
    "no_client_cert": 204,
    "handshake": 205,       # any other TLS failure
    "timeout": 206,
    "pin": 207,
    "connect": 208,         # TCP connection refused or unreachable
    "response": 209,        # no HTTP response, or one too large / not storable
}

# The default security profile used when op 6 names none: validation level 0
DEFAULT_SECURITY = Profile(validation=0)


@dataclasses.dataclass
class HttpProfile:
    server_ip: str = ""
    server_name: str = ""
    user: str = ""
    password: str = ""
    auth: int = 0
    port: int = HTTP_PORT
    secure: int = 0
    sec_profile: object = None  # None: the default security profile


class HttpClient:
    """Per-device HTTP state: the four profiles, host map and last outcomes."""

    def __init__(self, device):
        self.device = device
        self.profiles = [HttpProfile() for _ in PROFILE_IDS]
        self.timeout = 60.0           # the module's handshake inactivity timer
        self.last_error = {}          # pid -> reason of the last failure ("" on success)
        self.last_code = {}           # pid -> (class, code) for AT+UHTTPER
        self.busy = set()
        self.workers = []             # threads, so tests can join them
        self.lock = threading.Lock()
        # bumped by a restart: a request started before it has no effect at all
        self.generation = 0

    def reset(self):
        """Restart hook: profiles and outcomes go, running requests are orphaned."""
        with self.lock:
            self.generation += 1
            self.busy.clear()
        self.profiles = [HttpProfile() for _ in PROFILE_IDS]
        self.last_error.clear()
        self.last_code.clear()

    def current(self, generation):
        return generation == self.generation


# ---------------------------------------------------------------- +UHTTP

def _checked_string(value, limit):
    if not isinstance(value, str):
        raise CmeError(INCORRECT_PARAMETERS, "string expected")
    if len(value) > limit:
        raise CmeError(INCORRECT_PARAMETERS, "string too long")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise CmeError(INCORRECT_PARAMETERS, "control character")
    return value


def _int_in(value, allowed):
    if not isinstance(value, int) or value not in allowed:
        raise CmeError(INCORRECT_PARAMETERS, "value out of range")
    return value


def _pid(params):
    return _int_in(params[0] if params else None, PROFILE_IDS)


def _set(hp, op, values):
    if op in _STRING_LIMITS:
        if len(values) != 1:
            raise CmeError(INCORRECT_PARAMETERS, "one value expected")
        text = _checked_string(values[0], _STRING_LIMITS[op])
        if op == OP_IP:
            hp.server_ip, hp.server_name = text, ""  # IP and name exclude each other
        elif op == OP_NAME:
            hp.server_name, hp.server_ip = text, ""
        elif op == OP_USER:
            hp.user = text
        else:
            hp.password = text
    elif op == OP_AUTH:
        if len(values) != 1:
            raise CmeError(INCORRECT_PARAMETERS, "one value expected")
        hp.auth = _int_in(values[0], (0, 1))
    elif op == OP_PORT:
        if len(values) != 1:
            raise CmeError(INCORRECT_PARAMETERS, "one value expected")
        hp.port = _int_in(values[0], range(1, 65536))
    elif op == OP_SECURE:
        if len(values) not in (1, 2):
            raise CmeError(INCORRECT_PARAMETERS, "secure option: 1 or 2 values")
        secure = _int_in(values[0], (0, 1))
        sec = None
        if len(values) == 2 and values[1] is not None:
            if not secure:
                raise CmeError(INCORRECT_PARAMETERS, "security profile without TLS")
            sec = _int_in(values[1], SEC_PROFILE_IDS)
        # switching TLS on or off moves the port between the well-known ones
        if secure and hp.port == HTTP_PORT:
            hp.port = HTTPS_PORT
        elif not secure and hp.port == HTTPS_PORT:
            hp.port = HTTP_PORT
        hp.secure, hp.sec_profile = secure, sec
    else:
        raise CmeError(NOT_SUPPORTED, "op code %r" % op)


def _read(pid, hp, op):
    if op == OP_SECURE:
        tail = "%d" % hp.secure
        if hp.secure and hp.sec_profile is not None:
            tail += ",%d" % hp.sec_profile
    elif op in (OP_AUTH, OP_PORT):
        tail = "%d" % (hp.auth if op == OP_AUTH else hp.port)
    elif op == OP_PASSWORD:
        raise CmeError(NOT_ALLOWED, "password is not readable")
    elif op in _STRING_LIMITS:
        tail = quote({OP_IP: hp.server_ip, OP_NAME: hp.server_name, OP_USER: hp.user}[op])
    else:
        raise CmeError(NOT_SUPPORTED, "op code %r" % op)
    return ["+UHTTP: %d,%d,%s" % (pid, op, tail)]


def handle_uhttp(device, kind, params):
    client = device.http
    if kind == TEST:
        return ["+UHTTP: (0-3),(0-6)"]
    if kind != SET:
        raise CmeError(NOT_SUPPORTED, "+UHTTP has only set/test forms")
    pid = _pid(params)
    if len(params) == 1:
        client.profiles[pid] = HttpProfile()
        return []
    op = params[1]
    if not isinstance(op, int):
        raise CmeError(INCORRECT_PARAMETERS, "op code expected")
    hp = client.profiles[pid]
    if len(params) == 2:
        return _read(pid, hp, op)
    _set(hp, op, params[2:])
    return []


# ---------------------------------------------------------------- +UHTTPER

def handle_uhttper(device, kind, params):
    if kind == TEST:
        return ["+UHTTPER: (0-3)"]
    if kind != SET or len(params) != 1:
        raise CmeError(INCORRECT_PARAMETERS, "AT+UHTTPER=<profile_id>")
    pid = _pid(params)
    return ["+UHTTPER: %d,%d,%d" % ((pid,) + device.http.last_code.get(pid, (0, 0)))]


# ---------------------------------------------------------------- +UHTTPC

def handle_uhttpc(device, kind, params):
    client = device.http
    if kind == TEST:
        return ["+UHTTPC: (0-3),(0-2)"]
    if kind != SET:
        raise CmeError(NOT_SUPPORTED, "+UHTTPC has only set/test forms")
    if len(params) != 4:
        raise CmeError(INCORRECT_PARAMETERS, "<pid>,<cmd>,<path>,<filename>")
    pid = _pid(params)
    cmd = params[1]
    if not isinstance(cmd, int):
        raise CmeError(INCORRECT_PARAMETERS, "command expected")
    if cmd not in _METHODS:
        raise CmeError(NOT_SUPPORTED, "HTTP command %d" % cmd)
    path = _checked_string(params[2], MAX_PATH)
    filename = _checked_string(params[3], MAX_FILENAME)
    if not path or not filename:
        raise CmeError(INCORRECT_PARAMETERS, "empty path or filename")
    hp = dataclasses.replace(client.profiles[pid])
    if not (hp.server_ip or hp.server_name):
        raise CmeError(NOT_ALLOWED, "no server configured")
    security = _security_profile(device, hp) if hp.secure else None
    with client.lock:
        if pid in client.busy:
            raise CmeError(NOT_ALLOWED, "a request is already running on this profile")
        client.busy.add(pid)
        generation = client.generation
    worker = threading.Thread(target=_run, name="uhttpc-%d" % pid, daemon=True,
                              args=(device, pid, cmd, hp, security, path, filename, generation))
    client.workers.append(worker)
    worker.start()
    return []


def _security_profile(device, hp):
    if hp.sec_profile is None:
        return None, dataclasses.replace(DEFAULT_SECURITY)
    profile = device.profiles.profiles[hp.sec_profile]
    # a snapshot: later +USECPRF changes do not affect a running request
    return hp.sec_profile, dataclasses.replace(
        profile, iana_suites=list(profile.iana_suites), sess_data=dict(profile.sess_data))


def resolve(device, hp):
    """(ip, port) for a profile: the IP, or the name through device.hosts."""
    if hp.server_ip:
        return hp.server_ip, hp.port
    ip, port = device.hosts.get(hp.server_name, (hp.server_name, None))
    return ip, port or hp.port


def _run(device, pid, cmd, hp, security, path, filename, generation):
    """The worker: the network part here, every state change on the engine thread."""
    client = device.http
    cause = None
    try:
        response, failure = _transaction(device, cmd, hp, security, path, generation), None
    except Exception as e:  # every failure ends in the URC's result 0
        response, failure = None, getattr(e, "reason", None) or "%s: %s" % (type(e).__name__, e)
        cause = getattr(e, "cause", "timeout" if isinstance(e, TimeoutError) else "handshake")

    def complete():
        nonlocal failure, cause
        if not client.current(generation):
            return  # the module restarted meanwhile: the request never happened
        if response is not None:
            try:
                device.fs.write(filename, response)
            except Exception as e:
                failure, cause = "%s: %s" % (type(e).__name__, e), "response"
        client.last_error[pid] = failure or ""
        client.last_code[pid] = (ERROR_CLASS, ERROR_CODES[cause]) if failure else (0, 0)
        with client.lock:
            client.busy.discard(pid)
        device.emit_urc("+UUHTTPCR: %d,%d,%d" % (pid, cmd, 0 if failure else 1))

    try:
        device.call(complete)
    finally:
        with client.lock:  # never leave the profile busy, even if the engine did not answer
            if client.current(generation):
                client.busy.discard(pid)


def _on_engine(device, generation, fn):
    """fn() on the engine thread unless a restart orphaned the request (then None)."""
    client = device.http
    return device.call(lambda: fn() if client.current(generation) else None)


def _request_bytes(cmd, hp, path):
    host = hp.server_name or hp.server_ip
    default = HTTPS_PORT if hp.secure else HTTP_PORT
    if hp.port != default:
        host = "%s:%d" % (host, hp.port)
    lines = ["%s %s HTTP/1.1" % (_METHODS[cmd], path), "Host: " + host,
             "User-Agent: ubxsim", "Connection: close"]
    if hp.auth and hp.user:
        token = base64.b64encode(("%s:%s" % (hp.user, hp.password)).encode()).decode()
        lines.append("Authorization: Basic " + token)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _transaction(device, cmd, hp, security, path, generation):
    address = resolve(device, hp)
    timeout = device.http.timeout
    if security is None:
        try:
            sock = socket.create_connection(address, timeout=timeout)
        except OSError as e:
            raise tls.TlsFailure("cannot connect: %s" % e, "timeout" if isinstance(
                e, TimeoutError) else "connect") from None
    else:
        sec_pid, profile = security
        resume = None
        if sec_pid is not None and profile.sess_status:
            resume = _resume_data(_on_engine(
                device, generation, lambda: device.profiles.session_to_resume(sec_pid)))
        now = _on_engine(device, generation, device.clock.now) if profile.validation >= 3 \
            else None
        sock = tls.connect(address, profile, device.credentials,
                           hp.server_name or hp.server_ip, timeout, session=resume,
                           rot=getattr(device, "rot", None), now=now)
    with sock:  # closed whatever happens from here on
        if security is not None and sec_pid is not None and profile.sess_status \
                and not sock.session_reused:
            established = tls.session_data(sock)
            _on_engine(device, generation,
                       lambda: _keep_session(device, sec_pid, profile, established))
        sock.sendall(_request_bytes(cmd, hp, path))
        response = _read_all(sock)
    if not response.startswith(b"HTTP/1.") or len(response.split(b" ", 2)) < 2:
        raise tls.TlsFailure("no HTTP response", "response")
    return response


def _keep_session(device, sec_pid, used, established):
    """Store a new session unless the profile changed during the request:
    the session belongs to the settings the handshake used."""
    live = device.profiles.profiles[sec_pid]
    if usecprf.settings_basis(live) == usecprf.settings_basis(used):
        device.profiles.session_established(sec_pid, *established)


def _resume_data(value):
    """The DER session data in whatever session_to_resume() handed back."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value) or None
    if isinstance(value, (tuple, list)):
        for item in reversed(value):
            if isinstance(item, (bytes, bytearray)) and item:
                return bytes(item)
    return None


def _read_all(sock):
    chunks, size = [], 0
    while size <= MAX_RESPONSE:
        try:
            chunk = sock.recv(4096)
        except ssl.SSLEOFError:
            break  # peer closed without close_notify: keep what arrived
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_RESPONSE:
        raise tls.TlsFailure("response too large", "response")
    return b"".join(chunks)


# ---------------------------------------------------------------- registration

def register(device):
    if not hasattr(device, "rot"):
        rot.register(device)  # the TLS client's RoT PSK and ZTP credentials
    if not hasattr(device, "clock"):
        clock.register(device)  # level 3 checks dates at the module's time
    device.http = HttpClient(device)
    device.hosts = {}

    def hosts(map=None, clear=False):
        """Control verb: {name: [ip, port|null]} entries to add; clear first if asked."""
        if clear:
            device.hosts.clear()
        for name, target in (map or {}).items():
            if target is None:
                device.hosts.pop(name, None)
                continue
            ip, port = (target, None) if isinstance(target, str) else tuple(target)
            device.hosts[name] = (ip, port)
        return {name: list(addr) for name, addr in device.hosts.items()}

    device.controls["hosts"] = hosts
    device.restart_hooks.append(device.http.reset)
    device.register("+UHTTP", handle_uhttp)
    device.register("+UHTTPC", handle_uhttpc)
    device.register("+UHTTPER", handle_uhttper)
