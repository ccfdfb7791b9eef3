"""Python Pyro4 test server for pyrogo's interop tests (Go proxies -> Python daemon).

Usage: pyserver.py TMPDIR HMACKEY ABSTRACTNAME

Starts several daemons in one process, each in its own thread, all serving a
Thing registered as "thing":

  plain     TCP on 127.0.0.1, validateHandshake accepts "hello" and "open sesame"
  hmac      TCP on 127.0.0.1 with daemon._pyroHmacKey = HMACKEY
  unix      unix domain socket TMPDIR/py.sock
  abstract  Linux abstract unix socket "\\0" + ABSTRACTNAME

and then prints one line "READY <json>" with the URIs of all of them (as a
dict name -> URI string) and runs until killed. Configuration (serializers
accepted, compression) comes from the PYRO_* environment the test sets.
"""

import json
import os
import sys
import threading
import time

import Pyro4
import Pyro4.errors


@Pyro4.expose
class Child(object):
    def __init__(self, name):
        self._name = name
        self._count = 0

    def name(self):
        return self._name

    def incr(self):
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


@Pyro4.expose
class Thing(object):
    def __init__(self, daemon):
        self._value = 42
        self._oneways = 0
        self._lock = threading.Lock()
        self._daemon = daemon

    # plain methods
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
        return Pyro4.current_context.msg_flags

    # errors
    def fail(self):
        raise ValueError("expected failure", 12)

    def naming(self):
        raise Pyro4.errors.NamingError("unknown name: nope")

    def key_error(self, key):
        raise KeyError(key)

    # attribute
    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = v

    # oneway
    @Pyro4.oneway
    def oneway_inc(self, n=1):
        time.sleep(0.01)
        with self._lock:
            self._oneways += n

    def oneways(self):
        with self._lock:
            return self._oneways

    # generator
    def gen(self, n):
        for i in range(n):
            yield i

    def gen_fail(self, n):
        for i in range(n):
            yield i
        raise ValueError("generator failed after %d items" % n)

    # autoproxy
    def child(self):
        # a fresh registered object per call: Pyro4's fallback serialization
        # of an object (marshal has no autoproxy) sets its _pyroDaemon to
        # None, which would disable autoproxying it for good
        c = Child("kid")
        self._daemon.register(c)
        return c

    def child_map(self):
        return {"kid": self.child(), "all": [self.child(), self.child()], "n": 1}

    def handshake_seen(self):
        return getattr(Pyro4.current_context.client, "pyrogo_handshake", None)


class PlainDaemon(Pyro4.Daemon):
    def validateHandshake(self, conn, data):
        if data in ("hello", "open sesame"):
            conn.pyrogo_handshake = data
            return "welcome" if data == "open sesame" else "hello"
        raise ValueError("go away: bad handshake %r" % (data,))


def serve(d):
    t = threading.Thread(target=d.requestLoop, daemon=True)
    t.start()


def main():
    tmp, key, abstract = sys.argv[1], sys.argv[2], sys.argv[3]
    uris = {}

    d = PlainDaemon(host="127.0.0.1")
    uris["plain"] = str(d.register(Thing(d), "thing"))
    serve(d)

    d = Pyro4.Daemon(host="127.0.0.1")
    d._pyroHmacKey = key.encode("utf-8")
    uris["hmac"] = str(d.register(Thing(d), "thing"))
    serve(d)

    d = Pyro4.Daemon(unixsocket=os.path.join(tmp, "py.sock"))
    uris["unix"] = str(d.register(Thing(d), "thing"))
    serve(d)

    if sys.platform.startswith("linux"):
        d = Pyro4.Daemon(unixsocket="\0" + abstract)
        uris["abstract"] = str(d.register(Thing(d), "thing"))
        serve(d)

    print("READY " + json.dumps(uris))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
