"""Python Pyro5 test server for pyrogo's Pyro5 interop tests (clients of
protocol 502 -> a Python Pyro5 daemon): the Pyro5 counterpart of
testdata/interop/pyserver.py.

usage: pyserver5.py TMPDIR ABSTRACTNAME [--tls CERTDIR [--mutual]] [--passphrase]
       (with Pyro5 on PYTHONPATH)

Starts several Pyro5 daemons in one process, each in its own thread, each
serving a Thing as "thing" (pyserver.py's Thing, in Pyro5) and a Typed as
"typed" (the behaviour of the Go interop suite's typed object, ipTyped in
interop_test.go, in Python):

  plain       TCP on 127.0.0.1; validateHandshake accepts "hello" (Pyro5's
              default), "open sesame", and {"secret": "open sesame", "n": N}
              (answered with {"welcome": True, "n": N}, as the Go suite's
              handshake daemon does)
  unix        unix domain socket TMPDIR/py5.sock
  abstract    Linux abstract unix socket "\\0" + ABSTRACTNAME
  tls         (--tls) TLS on 127.0.0.1 with CERTDIR's devcert bundle
              (server.crt, server.key, ca.crt); --mutual requires client
              certificates signed by ca.crt
  passphrase  (--passphrase) pyrogo's passphrase authentication played by a
              Python Pyro5 daemon (testdata/auth/pyro5_shape.py's
              AuthDaemon; pass phrase "pyro5 pass phrase")

and then prints one line "READY <json>" with the URIs of "thing" in each
(a dict name -> URI string) and serves until killed. Other configuration
(compression...) comes from the PYRO_* environment.
"""

import json
import os
import sys
import threading
import time
import uuid

import Pyro5.api
import Pyro5.callcontext
from Pyro5 import config as pyro5config
import Pyro5.core
import Pyro5.errors
import Pyro5.protocol
import Pyro5.server

ctx = Pyro5.callcontext.current_context

# The header flags of the request being handled, as they were on the wire
# (Pyro5 clears FLAGS_COMPRESSED in current_context.msg_flags once it has
# decompressed); the daemon's worker thread reads the request and runs the
# call, so a thread-local holds them.
wire = threading.local()
_add_payload = Pyro5.protocol.ReceivingMessage.add_payload


def recording_add_payload(self, payload):
    wire.flags = self.flags
    return _add_payload(self, payload)


Pyro5.protocol.ReceivingMessage.add_payload = recording_add_payload


@Pyro5.api.expose
class Child(object):
    def __init__(self, name):
        self._name = name
        self._count = 0
        self._lock = threading.Lock()

    def name(self):
        return self._name

    def incr(self):
        with self._lock:
            self._count += 1
            return self._count


def canon(v):
    """A JSON-able description of a value including its Python types."""
    if v is None:
        return ["None"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, complex):
        return ["complex", repr(v)]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, (bytes, bytearray)):
        return ["bytes", bytes(v).hex()]
    if isinstance(v, tuple):
        return ["tuple", [canon(x) for x in v]]
    if isinstance(v, list):
        return ["list", [canon(x) for x in v]]
    if isinstance(v, (set, frozenset)):
        items = sorted((canon(x) for x in v), key=lambda c: json.dumps(c))
        return [type(v).__name__, items]
    if isinstance(v, dict):
        items = sorted(([canon(k), canon(x)] for k, x in v.items()), key=lambda c: json.dumps(c))
        return ["dict", items]
    return ["other", type(v).__module__ + "." + type(v).__name__, repr(v)]


@Pyro5.api.expose
class Thing(object):
    """pyserver.py's Thing, served by Pyro5."""

    def __init__(self, daemon):
        self._value = 42
        self._oneways = 0
        self._lock = threading.Lock()
        self._daemon = daemon

    def echo(self, x):
        return x

    def add(self, a, b):
        return a + b

    def greet(self, name, greeting="hello", punct="!"):
        return "%s %s%s" % (greeting, name, punct)

    def kinds(self):
        return {
            "int": 7, "neg": -7, "big": 2 ** 100, "float": 2.5, "str": u"h\u00e9llo \u2603 \U0001d11e",
            "list": [1, [2, [3]]], "tuple": (1, "a"), "none": None, "true": True,
            "intkeys": {1: "one", 2: "two"}, "empty": {},
        }

    def describe(self, *args, **kwargs):
        """The canonical form of what arrived, as a JSON string."""
        return json.dumps([canon(args), canon(kwargs)], sort_keys=True)

    def size(self, data):
        return len(data)

    def big(self, n):
        return "x" * n

    def sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def request_flags(self, data):
        return getattr(wire, "flags", ctx.msg_flags)

    def fail(self):
        raise ValueError("expected failure", 12)

    def naming(self):
        raise Pyro5.errors.NamingError("unknown name: nope")

    def key_error(self, key):
        raise KeyError(key)

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = v

    @Pyro5.api.oneway
    def oneway_inc(self, n=1):
        time.sleep(0.01)
        with self._lock:
            self._oneways += n

    def oneways(self):
        with self._lock:
            return self._oneways

    def gen(self, n):
        for i in range(n):
            yield i

    def gen_fail(self, n):
        for i in range(n):
            yield i
        raise ValueError("generator failed after %d items" % n)

    def child(self):
        c = Child("kid")
        self._daemon.register(c)
        return c

    def child_map(self):
        return {"kid": self.child(), "all": [self.child(), self.child()], "n": 1}

    def handshake_seen(self):
        return getattr(ctx.client, "pyrogo_handshake", None)


INT64 = (-2 ** 63, 2 ** 63 - 1)


def want_int(method, v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("%s(): cannot use %s as int" % (method, type(v).__name__))
    if not INT64[0] <= v <= INT64[1]:
        raise TypeError("%s(): int %d overflows int64" % (method, v))
    return v


def want_float(method, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("%s(): cannot use %s as float" % (method, type(v).__name__))
    return float(v)


def want_str(method, v):
    if not isinstance(v, str):
        raise TypeError("%s(): cannot use %s as str" % (method, type(v).__name__))
    return v


@Pyro5.api.expose
class Typed(object):
    """The Go interop suite's typed object (ipTyped), in Python: the same
    methods, oneway method, attribute and answers, and TypeError for
    arguments a Go method could not take."""

    def __init__(self):
        self._label = "initial"
        self._adds = 0
        self._oneways = 0
        self._lock = threading.Lock()
        self._kids = [Child("kid"), Child("kid2")]

    def add_ints(self, a, b):
        r = want_int("add_ints", a) + want_int("add_ints", b)
        with self._lock:
            self._adds += 1
        if not INT64[0] <= r <= INT64[1]:  # Go wraps around
            r = (r + 2 ** 63) % 2 ** 64 - 2 ** 63
        return r

    def adds(self):
        with self._lock:
            return self._adds

    def mul_float(self, a, b):
        a, b = want_float("mul_float", a), want_float("mul_float", b)
        try:
            return a * b
        except OverflowError:
            return float("inf") if (a > 0) == (b > 0) else float("-inf")

    def concat(self, a, b):
        return want_str("concat", a) + want_str("concat", b)

    def scale(self, p, factor):
        if not isinstance(p, dict):
            raise TypeError("scale(): cannot use %s as a point" % type(p).__name__)
        f = want_float("scale", factor)
        return {"x": want_float("scale", p.get("x", 0)) * f, "y": want_float("scale", p.get("y", 0)) * f}

    def people(self):
        return [{"name": "Ann", "age": 41}, {"name": "Bob", "age": 7}]

    def greet(self, name, greeting, punct):
        return want_str("greet", greeting) + " " + want_str("greet", name) + want_str("greet", punct)

    def is_none(self, v):
        return v is None

    def return_none(self):
        return None

    def panic(self):
        raise RuntimeError("panic: boom")

    def big(self, n):
        return "x" * want_int("big", n)

    @Pyro5.api.oneway
    def oneway_note(self, s):
        with self._lock:
            self._oneways += 1

    def oneways(self):
        with self._lock:
            return self._oneways

    def child(self):
        return self._kids[0]

    def children(self):
        return [self._kids[0], self._kids[1]]

    def child_map(self):
        k0, k1 = self._kids
        return {"kid": k0, "n": 1, "all": [k0, k1], "tuple": (k1,), "dict": {"k": k0}}

    def obj_uri(self, name):
        return Pyro5.core.URI("PYRO:%s@example.org:1234" % want_str("obj_uri", name))

    def uri_text(self, u):
        if isinstance(u, str):
            u = Pyro5.core.URI(u)
        return str(u)

    def reverse_bytes(self, b):
        if isinstance(b, dict):  # serpent's form of bytes
            import serpent
            b = serpent.tobytes(b)
        if not isinstance(b, (bytes, bytearray)):
            raise TypeError("reverse_bytes(): cannot use %s as bytes" % type(b).__name__)
        return bytes(reversed(b))

    def sum_list(self, xs):
        if not isinstance(xs, (list, tuple)):
            raise TypeError("sum_list(): cannot use %s as a list" % type(xs).__name__)
        return sum(want_int("sum_list", x) for x in xs)

    def sum(self, *xs):
        return float(sum(want_float("sum", x) for x in xs))

    def sorted_keys(self, m):
        if not isinstance(m, dict):
            raise TypeError("sorted_keys(): cannot use %s as a dict" % type(m).__name__)
        return sorted(want_str("sorted_keys", k) for k in m)

    def invert(self, m):
        return {str(want_int("invert", v)): want_str("invert", k) for k, v in m.items()}

    def opts(self, a, **kw):
        out = dict(kw)
        out["a"] = want_int("opts", a)
        return out

    def opt_name(self, p):
        return "<nil>" if p is None else want_str("opt_name", p)

    def lookup(self, key):
        if key == "a":
            return "A"
        raise KeyError(key)

    def countdown(self, n):
        for i in range(want_int("countdown", n), 0, -1):
            yield i

    def context_info(self):
        xtra = bytes(ctx.annotations.get("XTRA", b"")).decode("utf-8")
        ctx.response_annotations = {"XRES": (xtra + "!").encode("utf-8")}
        corr = ctx.correlation_id
        return {"corr": str(corr) if corr else "", "xtra": xtra}

    def request_flags(self, data):
        return getattr(wire, "flags", ctx.msg_flags)

    def size(self, data):
        if isinstance(data, str):
            return len(data)
        if isinstance(data, (bytes, bytearray)):
            return len(data)
        raise TypeError("size of %s" % type(data).__name__)

    @property
    def label(self):
        with self._lock:
            return self._label

    @label.setter
    def label(self, s):
        with self._lock:
            self._label = want_str("label", s)


class ShakeDaemon(Pyro5.server.Daemon):
    def validateHandshake(self, conn, data):
        if data in ("hello", "open sesame"):
            conn.pyrogo_handshake = data
            return "welcome" if data == "open sesame" else "hello"
        if isinstance(data, dict) and data.get("secret") == "open sesame":
            conn.pyrogo_handshake = "secret"
            return {"welcome": True, "n": data.get("n")}
        raise ValueError("go away: bad handshake %r" % (data,))


def populate(d):
    uri = str(d.register(Thing(d), "thing"))
    typed = Typed()
    d.register(typed, "typed")
    for k in typed._kids:
        d.register(k)
    threading.Thread(target=d.requestLoop, daemon=True).start()
    return uri


def main():
    args = sys.argv[1:]
    tmp, abstract = args[0], args[1]
    opts = args[2:]
    uris = {}

    uris["plain"] = populate(ShakeDaemon(host="127.0.0.1"))
    uris["unix"] = populate(Pyro5.server.Daemon(unixsocket=os.path.join(tmp, "py5.sock")))
    if sys.platform.startswith("linux"):
        uris["abstract"] = populate(Pyro5.server.Daemon(unixsocket="\0" + abstract))
    if "--passphrase" in opts:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "auth"))
        from pyro5_shape import AuthDaemon, AuthDaemonObject
        uris["passphrase"] = populate(AuthDaemon(host="127.0.0.1", interface=AuthDaemonObject))
    if "--tls" in opts:
        certs = opts[opts.index("--tls") + 1]
        pyro5config.SSL = True
        pyro5config.SSL_SERVERCERT = os.path.join(certs, "server.crt")
        pyro5config.SSL_SERVERKEY = os.path.join(certs, "server.key")
        pyro5config.SSL_CACERTS = os.path.join(certs, "ca.crt")
        pyro5config.SSL_REQUIRECLIENTCERT = "--mutual" in opts
        uris["tls"] = populate(Pyro5.server.Daemon(host="127.0.0.1"))
        pyro5config.SSL = False

    print("READY " + json.dumps(uris, sort_keys=True))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
