"""Pyro5 interop helper for the Go tests of package codec (interop5_test.go).

The Pyro5 twin of pyro_interop.py: it runs Pyro5's own serializer objects
(Pyro5.serializers.serializers), so what the Go tests compare against is
exactly what a Python Pyro5 peer sends and accepts. Run it with
PYTHONPATH pointing at the Pyro5 source tree. One process serves one
direction for the whole corpus:

  pyro5_interop.py check   exit 0 when Pyro5 5.x, serpent and msgpack import
  pyro5_interop.py dump    Python -> Go: writes one JSON line per (case,
                           serializer): {"name", "ser", "kind", "b64"} or,
                           when Pyro5 cannot serialize the case with that
                           serializer, {"name", "ser", "kind", "err"}
  pyro5_interop.py load    Go -> Python: reads JSON lines {"name", "ser",
                           "kind", "b64", "expect", "echo"} from stdin;
                           decodes the payload with loadsCall / loads,
                           evaluates "expect" (a Python
                           expression) and writes {"name", "ser", "ok",
                           "got", "want", "err"} per line, plus "again",
                           the value serialized anew by Pyro5 (or
                           "again_err"), when "echo" is true

The "dump" corpus below and the Go expectations in interop5_test.go are
keyed by case name and must be kept in step.
"""

import base64
import json
import math
import struct
import sys

import datetime

try:
    import Pyro5
    import Pyro5.client
    import Pyro5.core
    import Pyro5.errors
    import Pyro5.serializers
    import msgpack
    import serpent  # noqa: F401  (Pyro5 needs it for the serpent serializer)
except ImportError as err:  # pragma: no cover - reported by the Go test
    sys.stderr.write("pyro5_interop.py: %s\n" % err)
    sys.exit(3)

SERIALIZERS = ("serpent", "json", "marshal", "msgpack")
URI = Pyro5.core.URI
Proxy = Pyro5.client.Proxy
ExceptionWrapper = Pyro5.core._ExceptionWrapper
ExtType = msgpack.ExtType
nan = float("nan")
inf = float("inf")

TRACEBACK = [
    "Traceback (most recent call last):\n",
    '  File "/srv/app.py", line 20, in fail\n    raise ValueError("bad", 12)\n',
    "ValueError: ('bad', 12)\n",
]


def value_error():
    e = ValueError("bad", 12)
    e._pyroTraceback = list(TRACEBACK)
    return e


def naming_error():
    e = Pyro5.errors.NamingError("unknown name: nope")
    e._pyroTraceback = ["Traceback (most recent call last):\n", "NamingError: unknown name: nope\n"]
    return e


def extra_error():
    e = KeyError("k")
    e._pyroTraceback = []
    e.extra = "attr"
    e.code = 42
    return e


def proxy(uri, serializer=None):
    p = Proxy(uri)
    p._pyroOneway = {"ow"}
    p._pyroMethods = {"ow", "echo"}
    p._pyroAttrs = {"x"}
    p._pyroHandshake = {"user": "bob", "n": [1, 2]}
    p._pyroSerializer = serializer
    return p


def nested(depth):
    v = 1
    for _ in range(depth):
        v = [v]
    return v


STRINGS = {
    "str_empty": "",
    "str_ascii": "hello world",
    "str_controls": "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f\x80\x9f",
    "str_nbsp": "a\u00a0b",
    "str_zwsp": "a\u200bb\ufeff",
    "str_linesep": "a\u2028b\u2029c\x85d",
    "str_astral": "\U0001f600 \U0001d11e \U0010ffff",
    "str_quotes": "it's \"quoted\" \\ back\\slash '''",
    "str_squote": "it's",
    "str_dquote": 'say "hi"',
    "str_latin": "h\u00e9llo w\u00f6rld \u00ff",
    "str_cjk": "\u4e2d\u6587 \u65e5\u672c\u8a9e \ud55c\uad6d\uc5b4",
    "str_bmp_edges": "\ud7ff\ue000\ufffd\uffff",
    "str_long": "x" * 70000,
}

INTS = {
    "int_0": 0, "int_1": 1, "int_m1": -1,
    "int_i32max": 2**31 - 1, "int_i32min": -2**31,
    "int_i32max1": 2**31, "int_i32min1": -2**31 - 1,
    "int_i64max": 2**63 - 1, "int_i64min": -2**63,
    "int_u64": 2**63, "int_u64max": 2**64 - 1,
    "int_i64min1": -2**63 - 1, "int_2p64": 2**64,
    "int_2p100": 2**100, "int_m2p200": -(2**200),
    "int_huge": 7 * 10**4000 + 3,
}

FLOATS = {
    "float_0": 0.0, "float_negzero": -0.0, "float_1_5": 1.5, "float_3": 3.0,
    "float_0_1": 0.1, "float_1e16": 1e16, "float_1e22": 1e22, "float_1em7": 1e-07,
    "float_17digits": 1.2345678901234568e+17, "float_denorm": 5e-324,
    "float_max": 1.7976931348623157e308, "float_nan": nan, "float_inf": inf,
    "float_ninf": -inf,
}

SURI = {
    "uri_tcp": "PYRO:Pyro.NameServer@127.0.0.1:9090",
    "uri_ipv6": "PYRO:obj@[::1]:9999",
    "uri_unix": "PYRO:obj@./u:/tmp/pyro.sock",
    "uri_name": "PYRONAME:my.name@nshost:9091",
    "uri_name_bare": "PYRONAME:my.name",
    "uri_meta": "PYROMETA:class:thing",
    "uri_meta2": "PYROMETA:a,b@nshost:1",
}


PYRO5_ERRORS = (Pyro5.errors.PyroError, Pyro5.errors.CommunicationError, Pyro5.errors.ConnectionClosedError,
                Pyro5.errors.TimeoutError, Pyro5.errors.ProtocolError, Pyro5.errors.MessageTooLargeError,
                Pyro5.errors.NamingError, Pyro5.errors.DaemonError, Pyro5.errors.SecurityError,
                Pyro5.errors.SerializeError)


def data_cases():
    cases = {
        "none": None, "true": True, "false": False,
        "complex": complex(1.0, -2.0), "complex_negzero": complex(0.0, -0.0),
        "bytes": b"\x00\x01\xff\xfeabc", "bytes_empty": b"",
        "tuple": (1, "a", None), "tuple_empty": (), "tuple_1": (1,),
        "list": [1, [2, 3.5], "x", None, True], "list_empty": [],
        "dict_str": {"a": 1, "b": [1, 2], "c": {"d": None}},
        "dict_empty": {},
        "dict_intkeys": {1: "a", -2: "b", 2**40: "c"},
        "dict_tuplekeys": {(1, 2): "t", (): "e", ("a", (1,)): "n"},
        "dict_mixedkeys": {"s": 1, 2: 2, 1.5: 3, False: 5},
        "dict_nonekey": {None: 4},
        "set_ints": {1, 2, 3}, "set_empty": set(), "frozenset_ints": frozenset({1, 2}),
        "nested_200": nested(200),
        "exc_value": value_error(),
        "exc_naming": naming_error(),
        "exc_extra": extra_error(),
        "exc_stopiteration": StopIteration(),
        "exc_nan_arg": ValueError(nan, URI("PYRO:x@h:1")),
        "proxy_plain": proxy(URI("PYRO:obj_123@127.0.0.1:5555")),
        "proxy_ser": proxy(URI("PYRO:obj@./u:/tmp/s"), serializer="json"),
        "error_classes": [cls("x") for cls in PYRO5_ERRORS],
        "datetime": datetime.datetime(2024, 2, 29, 13, 14, 15, 123456),
        "date": datetime.date(2024, 2, 29),
        "batch_result": [[(1,), {}], 2, ExceptionWrapper(value_error())],
    }
    cases.update(STRINGS)
    cases.update(INTS)
    cases.update(FLOATS)
    for name, s in SURI.items():
        cases[name] = URI(s)
    cases["uri_list"] = [URI(SURI["uri_tcp"]), URI(SURI["uri_unix"])]
    return cases


def call_cases():
    return {
        "call_echo": ("test.echoserver", "echo", ("x" * 48,), {}),
        "call_nested": ("thing", "method",
                        (1, "two", [3.0, None, True], {"k": (1, 2)}, 2**80, -0.0),
                        {"a": 1, "b": [1, 2], "c\u00e9": "\u00e9"}),
        "call_noargs": ("thing", "ping", (), {}),
        "call_getattr": ("thing", "__getattr__", ("x",), None),
        "call_setattr": ("thing", "__setattr__", ("x", 99), None),
        "call_batch": ("thing", "<batch>",
                       [("echo", (1,), {}), ("echo", (2,), {"k": "v"}), ("fail", (), {})], None),
        "call_stream": ("Pyro.Daemon", "get_next_stream_item", ["df8292b8-d3ab-4c02-8973-a98a0d824f81"], {}),
        "call_uri_arg": ("thing", "register", ("name", URI(SURI["uri_tcp"])), {"safe": True}),
        "call_unicode": ("\u00fcbj\u20ac\U0001f600", "m\u00e9thod", ("\u2028",), {"\u00e9": 1}),
        "call_nsname": ("Pyro.NameServer", "lookup", ("Pyro.NameServer",), {}),
        "call_ext": ("thing", "m", (2**80, complex(1, 2), datetime.date(2024, 2, 29)), {}),
    }


def dump():
    out = sys.stdout
    for kind, cases in (("data", data_cases()), ("call", call_cases())):
        for name, value in cases.items():
            for ser in SERIALIZERS:
                s = Pyro5.serializers.serializers[ser]
                rec = {"name": name, "ser": ser, "kind": kind}
                try:
                    if kind == "call":
                        payload = s.dumpsCall(*value)
                    else:
                        payload = s.dumps(value)
                    rec["b64"] = base64.b64encode(payload).decode("ascii")
                except Exception as e:  # Pyro5 cannot send this: record why
                    rec["err"] = "%s: %s" % (type(e).__name__, e)
                out.write(json.dumps(rec) + "\n")
    out.flush()


# ---- Go -> Python


def proxy_state(p):
    return (p._pyroUri, set(p._pyroOneway), set(p._pyroMethods), set(p._pyroAttrs),
            p._pyroHandshake, p._pyroSerializer)


def uri_key(u):
    obj = u.object
    if u.protocol == "PYROMETA":
        obj = frozenset(obj)
    return (u.protocol, obj, u.sockname, u.host, u.port)


def same(a, b):
    """Strict equality: same types, NaN equals NaN, -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not same(v, b[k]):
                return False
            kb = next(x for x in b if x == k)
            if type(kb) is not type(k):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        return a == b and all(any(same(x, y) for y in b) for x in a)
    if isinstance(a, BaseException):
        return same(a.args, b.args) and same(vars(a), vars(b))
    if isinstance(a, URI):
        return uri_key(a) == uri_key(b)
    if isinstance(a, Proxy):
        sa, sb = proxy_state(a), proxy_state(b)
        return same(sa[0], sb[0]) and all(same(x, y) for x, y in zip(sa[1:], sb[1:]))
    if isinstance(a, ExceptionWrapper):
        return same(a.exception, b.exception)
    return a == b


def describe(v):
    if isinstance(v, BaseException):
        return "%s%r vars=%r" % (type(v).__qualname__, v.args, vars(v))
    if isinstance(v, Proxy):
        return "Proxy%r" % (proxy_state(v),)
    if isinstance(v, ExceptionWrapper):
        return "ExceptionWrapper(%s)" % describe(v.exception)
    if isinstance(v, URI):
        return "URI%r" % (uri_key(v),)
    if isinstance(v, (list, tuple)) and any(isinstance(x, (BaseException, Proxy, ExceptionWrapper, URI)) for x in v):
        inner = ", ".join(describe(x) for x in v)
        return "[%s]" % inner if isinstance(v, list) else "(%s)" % inner
    r = repr(v)
    return r if len(r) <= 400 else r[:400] + "...(%d chars)" % len(r)


def exc(cls, *args, **attrs):
    """An exception instance as Pyro's make_exception builds it."""
    e = cls(*args)
    for k, v in attrs.items():
        setattr(e, k, v)
    return e


def make_proxy(uri, oneway, methods, attrs, handshake, serializer):
    p = Proxy(uri)
    p._pyroOneway, p._pyroMethods, p._pyroAttrs = set(oneway), set(methods), set(attrs)
    p._pyroHandshake, p._pyroSerializer = handshake, serializer
    return p


def helpers(ser):
    """Names for the expectation expressions that depend on the serializer:
    T tuple (list in json/msgpack), V call vargs (tuple in serpent only),
    S set (list in json/msgpack), B bytes (base64 dict in serpent)."""
    arrays = ser in ("json", "msgpack")

    def T(*a):
        return list(a) if arrays else tuple(a)

    def V(*a):
        return tuple(a) if ser == "serpent" else list(a)

    def S(*a):
        return list(a) if arrays else set(a)

    def B(b):
        if ser == "serpent":
            return {"data": base64.b64encode(b).decode("ascii"), "encoding": "base64"}
        return b

    return {"ser": ser, "T": T, "V": V, "S": S, "B": B}


def load():
    env = {"Pyro5": Pyro5, "URI": URI, "P": make_proxy, "ExceptionWrapper": ExceptionWrapper,
           "errors": Pyro5.errors, "ExtType": ExtType, "nan": nan, "inf": inf,
           "exc": exc, "nested": nested, "struct": struct, "datetime": datetime}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        rep = {"name": req["name"], "ser": req["ser"], "ok": False}
        try:
            s = Pyro5.serializers.serializers[req["ser"]]
            ns = dict(env, **helpers(req["ser"]))
            data = base64.b64decode(req["b64"])
            if req["kind"] == "call":
                got = tuple(s.loadsCall(data))
            else:
                got = s.loads(data)
            rep["got"] = describe(got)
            want = eval(req["expect"], ns)
            rep["want"] = describe(want)
            rep["ok"] = same(got, want)
            if req.get("echo"):
                try:
                    again = s.dumps(got)
                    rep["again"] = base64.b64encode(again).decode("ascii")
                except Exception as e:
                    rep["again_err"] = "%s: %s" % (type(e).__name__, e)
        except Exception as e:
            rep["err"] = "%s: %s" % (type(e).__name__, e)
        sys.stdout.write(json.dumps(rep) + "\n")
        sys.stdout.flush()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "check":
        if not Pyro5.__version__.startswith("5."):
            sys.stderr.write("pyro5_interop.py: Pyro5 %s found, the corpus is for 5.x\n" % Pyro5.__version__)
            return 3
        return 0
    if mode == "dump":
        dump()
        return 0
    if mode == "load":
        load()
        return 0
    sys.stderr.write("usage: pyro5_interop.py check|dump|load\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
