"""Python Pyro4 client for pyrogo's interop tests (Python proxies -> Go daemon).

Reads one JSON object from stdin with the URIs of the Go daemons' objects
(and of Python's own echo server, used as the reference for echo results),
runs every check with the serializer chosen by PYRO_SERIALIZER, and prints
one JSON object: {"serializer": ..., "cases": {name: {"ok": bool,
"detail": str, "skip": bool}}}. Each check catches its own exceptions, so
one failure never hides the others.
"""

import json
import math
import sys
import time
import traceback
import uuid

import Pyro4
import Pyro4.errors
import Pyro4.message
import Pyro4.util
import serpent

cfg = json.load(sys.stdin)
SER = Pyro4.config.SERIALIZER
cases = {}


class Skip(Exception):
    pass


def case(name):
    def deco(fn):
        t0 = time.time()
        try:
            detail = fn()
            cases[name] = {"ok": True, "detail": detail if isinstance(detail, str) else ""}
        except Skip as e:
            cases[name] = {"ok": True, "skip": True, "detail": str(e)}
        except AssertionError as e:
            cases[name] = {"ok": False, "detail": "check failed: %s\n%s" % (e, traceback.format_exc())}
        except Exception as e:
            tb = "".join(Pyro4.util.getPyroTraceback()) if hasattr(e, "_pyroTraceback") else traceback.format_exc()
            cases[name] = {"ok": False, "detail": "%s: %s\n%s" % (type(e).__name__, e, tb)}
        cases[name]["seconds"] = round(time.time() - t0, 3)
        return fn
    return deco


def check(cond, msg, *args):
    if not cond:
        raise AssertionError(msg % args if args else msg)


def raises(exc_type, fn, *args, **kwargs):
    try:
        r = fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("expected %s, got result %r" % (exc_type.__name__, r))


def proxy(uri, key=None):
    p = Pyro4.Proxy(uri)
    p._pyroTimeout = 20
    if key is not None:
        p._pyroHmacKey = key.encode("utf-8")
    return p


def stream_gone(sid):
    d = proxy(cfg["daemon"])
    deadline = time.time() + 5
    try:
        while True:
            try:
                d.get_next_stream_item(sid)
            except Pyro4.errors.PyroError as e:
                check(str(e) == "item stream terminated", "%s", e)
                return
            check(time.time() < deadline, "stream %s still open after close", sid)
            time.sleep(0.02)
    finally:
        d._pyroRelease()

def canon(v):
    """A description of a value including its Python types, for comparisons."""
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
        return [type(v).__name__, sorted((canon(x) for x in v), key=json.dumps)]
    if isinstance(v, dict):
        return ["dict", sorted(([canon(k), canon(x)] for k, x in v.items()), key=json.dumps)]
    if isinstance(v, BaseException):
        return ["exception", type(v).__module__ + "." + type(v).__name__, canon(v.args)]
    return ["other", type(v).__module__ + "." + type(v).__name__, repr(v)]


def tobytes(v):
    """bytes as Pyro delivers them with this serializer (serpent: a base64 dict)."""
    if SER == "serpent" and isinstance(v, dict):
        return serpent.tobytes(v)
    return v


# Response-message flags seen by this client, to prove compression.
reply_flags = []
_recv = Pyro4.message.Message.recv


def _recording_recv(cls, *args, **kwargs):
    msg = _recv(*args, **kwargs)
    reply_flags.append(msg.flags)
    return msg


Pyro4.message.Message.recv = classmethod(_recording_recv)

nested = []
for _ in range(40):
    nested = [nested]

# name -> value; set of serializers that cannot carry it (the call then
# fails the same way against Python's own echo server, so it is skipped).
CORPUS = [
    ("none", None, ()), ("true", True, ()), ("false", False, ()),
    ("int_zero", 0, ()), ("int_neg", -42, ()), ("int_max64", 2 ** 63 - 1, ()), ("int_min64", -2 ** 63, ()),
    ("uint64_max", 2 ** 64 - 1, ()), ("bigint", 2 ** 100 + 12345, ()), ("bigint_neg", -(3 ** 70), ()),
    ("float", 3.141592653589793, ()), ("float_neg_zero", -0.0, ()), ("float_tiny", 5e-324, ()),
    ("float_huge", 1.7976931348623157e308, ()), ("float_int_valued", 2.0, ()),
    ("nan", float("nan"), ()), ("inf", float("inf"), ()), ("neg_inf", float("-inf"), ()),
    ("str", "hello", ()), ("str_empty", "", ()),
    ("unicode", u"h\u00e4\u00dflich \u20ac \u2603 \U0001d11e \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627", ()),
    ("str_escapes", "it's \"quoted\" \\ back\nnew\ttab\rcr \x7f \x01 \u2028", ()),
    ("str_long", "0123456789abcdef" * 8192, ()),
    ("bytes", b"\x00\x01\xff\xfeabc", ("json",)), ("bytes_empty", b"", ("json",)),
    ("list", [1, "a", 2.5, None, True], ()), ("list_empty", [], ()),
    ("tuple", (1, 2, "x"), ()), ("tuple_empty", (), ()),
    ("dict", {"a": 1, "b": [1, 2], "c": {"d": None}}, ()), ("dict_empty", {}, ()),
    ("dict_int_keys", {1: "one", 2: "two", -3: [3]}, ("msgpack",)),
    ("dict_mixed_keys", {"s": 1, 2: "i", 2.5: "f", True: "b"}, ("msgpack",)),
    ("dict_tuple_key", {(1, "a"): "tk"}, ("json", "msgpack")),
    ("set", {1, 2, 3}, ()), ("set_str", {"x", "y"}, ()),
    ("nested", {"a": [1, {"b": (2, 3)}], "c": {"d": {"e": [], "f": ({"g": 1},)}}}, ()),
    ("deep", nested, ()),
    ("complex", 1.5 - 2j, ("json",)),
    ("floats_nested", [float("nan"), float("inf"), -float("inf"), -0.0, {"x": float("nan")}, (1e-300,)], ()),
    ("str_nul", "a\x00b\x00", ()),
    ("bigint_huge", 2 ** 1000 + 1, ()), ("bigint_huge_neg", -(2 ** 999), ()),
    ("set_tuples", {(1, 2), (3, "x")}, ()), ("frozenset", frozenset([1, "a"]), ()),
    ("list_long", list(range(10000)), ()),
    ("dict_unicode_keys", {u"\u00e9t\u00e9": 1, u"\U0001f600": [u"\u2603"]}, ()),
    ("mixed_nesting", [(), [], {}, set(), ((),), [[]], {"a": ()}], ()),
]


def no_marshal_none_kwargs():
    # Pyro4 4.82's MarshalSerializer.dumpsCall does kwargs.items() and so
    # fails on the None kwargs that attribute access and batches send: a
    # Python client bug, independent of the server.
    if SER == "marshal":
        raise Skip("Pyro4's marshal client cannot send attribute access or batches (kwargs None)")


def skipped_for(ser_list):
    return SER in ser_list


# ---------------------------------------------------------------- echo server

go_echo = proxy(cfg["go_echo"])
py_echo = proxy(cfg["py_echo"])


def outcome(p, value):
    try:
        return ["ok", canon(p.echo(value))]
    except Exception as e:
        return ["error", type(e).__module__ + "." + type(e).__name__, str(e)[:300]]


for name, value, cannot in CORPUS:
    @case("echo/" + name)
    def _(value=value, cannot=cannot):
        got = outcome(go_echo, value)
        want = outcome(py_echo, value)
        if skipped_for(cannot):
            raise Skip("%s cannot carry this value:\n go: %s\n py: %s" % (SER, json.dumps(got)[:300], json.dumps(want)[:300]))
        check(got == want, "echo differs from Python's echo server:\n go: %s\n py: %s", json.dumps(got)[:2000], json.dumps(want)[:2000])
        if got[0] == "error":
            raise Skip("%s cannot carry this value; same error from both servers: %s" % (SER, json.dumps(got)[:300]))


@case("echo/kwargs")
def _():
    check(go_echo.echo(message="by keyword") == "by keyword", "echo(message=...)")


@case("echo/error")
def _():
    e = raises(ValueError, go_echo.error)
    check(str(e) == "expected error from echoserver error() method", "message %r", str(e))
    tb = getattr(e, "_pyroTraceback", None)
    check(isinstance(tb, list) and tb and all(isinstance(x, str) for x in tb), "_pyroTraceback %r", tb)
    check("ValueError" in "".join(tb), "traceback lacks ValueError: %r", tb)
    check("Remote traceback" in "".join(Pyro4.util.getPyroTraceback(type(e), e, e.__traceback__)), "getPyroTraceback")


@case("echo/error_with_text")
def _():
    e = raises(ValueError, go_echo.error_with_text)
    check(str(e) == "the message of the error", "message %r", str(e))


@case("echo/oneway_echo")
def _():
    r = go_echo.oneway_echo("fire and forget")
    check(r is None, "oneway returned %r", r)
    t0 = time.time()
    r = go_echo.oneway_slow()  # sleeps slow_delay seconds server side; the client must not wait
    took = time.time() - t0
    check(r is None and took < cfg["slow_delay"] / 2, "oneway_slow blocked the client for %.2fs", took)
    check(go_echo.echo(1) == 1, "call after oneway")


@case("echo/generator")
def _():
    check(list(go_echo.generator()) == ["one", "two", "three"], "generator items")
    g = go_echo.generator()
    check(next(g) == "one", "first item")
    g.close()  # oneway close_stream on the same connection
    check(go_echo.echo("after close") == "after close", "call after closing a stream")
    stream_gone(g.streamId)
    g = go_echo.generator()
    check(next(g) == "one", "first item")
    go_echo.echo("x")  # the proxy's seq moves on: close_stream goes over a new connection
    g.close()
    stream_gone(g.streamId)



@case("echo/verbose_attribute")
def _():
    no_marshal_none_kwargs()
    check(go_echo.verbose is False, "verbose initially %r", go_echo.verbose)
    go_echo.verbose = True
    check(go_echo.verbose is True, "verbose after set")
    go_echo.verbose = False
    check(go_echo.verbose is False, "verbose after reset")


@case("echo/dunder")
def _():
    check(go_echo.__dunder__() == "should be allowed (dunder)", "__dunder__")


@case("echo/nan_inf")
def _():
    n, i = go_echo.nan(), go_echo.inf()
    check(isinstance(n, float) and math.isnan(n), "nan() = %r", n)
    check(i == float("inf"), "inf() = %r", i)


@case("echo/metadata")
def _():
    p = proxy(cfg["go_echo"])
    check(p._pyroBind() is True, "_pyroBind")
    want = {"echo", "error", "error_with_text", "oneway_echo", "slow", "generator", "nan", "inf",
            "oneway_slow", "__dunder__", "shutdown"}
    check(set(p._pyroMethods) == want, "methods %r", sorted(p._pyroMethods))
    check(set(p._pyroOneway) == {"oneway_echo", "oneway_slow"}, "oneway %r", p._pyroOneway)
    check(set(p._pyroAttrs) == {"verbose"}, "attrs %r", p._pyroAttrs)
    # Python's own echo server has the same metadata
    q = proxy(cfg["py_echo"])
    q._pyroBind()
    check(set(q._pyroMethods) == set(p._pyroMethods), "python echo server methods %r", sorted(q._pyroMethods))
    p._pyroRelease()
    q._pyroRelease()


@case("echo/unknown_method")
def _():
    e = raises(AttributeError, lambda: go_echo.nosuchmethod)
    check("no exposed attribute or method" in str(e), "%s", e)


# ---------------------------------------------------------------- typed object

typed = proxy(cfg["typed"])


@case("typed/ints")
def _():
    check(typed.add_ints(2 ** 40, 3) == 2 ** 40 + 3, "add_ints")
    check(typed.add_ints(-5, 2) == -3, "add_ints neg")
    e = raises(TypeError, typed.add_ints, 2 ** 70, 1)
    check("int" in str(e), "overflow message %r", str(e))


@case("typed/arity")
def _():
    e = raises(TypeError, typed.add_ints, 1)
    check("missing required argument" in str(e), "%s", e)
    e = raises(TypeError, typed.add_ints, 1, 2, 3)
    check("takes 2 positional arguments but 3 were given" in str(e), "%s", e)


@case("typed/large_messages")
def _():
    n = 3 * 1000 * 1000
    check(typed.size("x" * n) == n, "3 MB argument")
    check(typed.big(n) == "x" * n, "3 MB result")


@case("typed/floats")
def _():
    check(typed.mul_float(1.5, 2) == 3.0, "mul_float")
    r = typed.mul_float(1e308, 10)
    check(r == float("inf"), "overflow to inf: %r", r)


@case("typed/strings")
def _():
    r = typed.concat(u"\u00e4", u"\U0001d11e")
    check(r == u"\u00e4\U0001d11e", "concat %r", r)


@case("typed/bytes")
def _():
    if SER == "json":
        raise Skip("json cannot carry bytes")
    r = tobytes(typed.reverse_bytes(b"\x00abc\xff"))
    check(r == b"\xffcba\x00", "reverse_bytes %r", r)


@case("typed/lists")
def _():
    check(typed.sum_list([1, 2, 3]) == 6, "sum_list list")
    check(typed.sum_list((4, 5)) == 9, "sum_list tuple")
    check(typed.sum_list([]) == 0, "sum_list empty")
    e = raises(TypeError, typed.sum_list, [1, "x"])
    check("str" in str(e), "bad element message %r", str(e))


@case("typed/dicts")
def _():
    check(typed.sorted_keys({"b": 1, "a": [2], "c": None}) == ["a", "b", "c"], "sorted_keys")
    r = typed.invert({"x": 1, "y": 2})
    check(r == {"1": "x", "2": "y"}, "invert %r", r)


@case("typed/struct")
def _():
    r = typed.scale({"x": 1.5, "y": -2.0}, 2)
    check(r == {"x": 3.0, "y": -4.0}, "scale %r", r)
    r = typed.scale(p={"x": 1, "y": 1}, factor=0.5)
    check(r == {"x": 0.5, "y": 0.5}, "scale by keyword %r", r)
    r = typed.people()
    check(r == [{"name": "Ann", "age": 41}, {"name": "Bob", "age": 7}], "people %r", r)


@case("typed/kwargs")
def _():
    check(typed.greet("Ann", "hi", ".") == "hi Ann.", "positional")
    check(typed.greet(name="Ann", greeting="hey", punct="!") == "hey Ann!", "all keywords")
    check(typed.greet("Bob", punct="?", greeting="yo") == "yo Bob?", "mixed")
    e = raises(TypeError, typed.greet, "Ann", bogus=1)
    check("unexpected keyword argument 'bogus'" in str(e), "%s", e)
    e = raises(TypeError, typed.greet, "Ann", name="x", greeting="a", punct="b")
    check("multiple values" in str(e), "%s", e)
    r = typed.opts(1, x=2, y="z")
    check(r == {"a": 1, "x": 2, "y": "z"}, "opts %r", r)


@case("typed/none")
def _():
    check(typed.is_none(None) is True, "is_none(None)")
    check(typed.is_none(0) is False, "is_none(0)")
    check(typed.return_none() is None, "return_none")
    check(typed.opt_name(None) == "<nil>", "opt_name(None)")
    check(typed.opt_name("x") == "x", "opt_name('x')")


@case("typed/variadic")
def _():
    check(typed.sum(1, 2.5, 3) == 6.5, "sum")
    check(typed.sum() == 0, "sum()")


@case("typed/key_error")
def _():
    check(typed.lookup("a") == "A", "lookup('a')")
    e = raises(KeyError, typed.lookup, "nope")
    check(e.args == ("nope",), "args %r", e.args)
    check(type(e) is KeyError, "type %r", type(e))
    check(isinstance(getattr(e, "_pyroTraceback", None), list), "traceback")


@case("typed/panic")
def _():
    e = raises(RuntimeError, typed.panic)
    check("boom" in str(e), "%s", e)
    check(typed.add_ints(1, 1) == 2, "call after panic")


@case("typed/attribute")
def _():
    no_marshal_none_kwargs()
    check(typed.label == "initial", "label %r", typed.label)
    typed.label = u"n\u00e9w"
    check(typed.label == u"n\u00e9w", "label after set")
    typed.label = "initial"


@case("typed/oneway")
def _():
    before = typed.oneways()
    check(typed.oneway_note("x") is None, "oneway result")
    deadline = time.time() + 5
    while typed.oneways() != before + 1 and time.time() < deadline:
        time.sleep(0.01)
    check(typed.oneways() == before + 1, "oneway not executed")


@case("typed/batch")
def _():
    no_marshal_none_kwargs()
    before = typed.adds()
    b = Pyro4.batch(typed)
    b.add_ints(1, 2)
    b.concat("a", "b")
    b.lookup("nope")
    b.add_ints(3, 4)
    results = b()
    check(next(results) == 3, "first")
    check(next(results) == "ab", "second")
    e = raises(KeyError, next, results)
    check(e.args == ("nope",), "batch error args %r", e.args)
    check(typed.adds() == before + 1, "calls after the failing one ran: adds %d -> %d", before, typed.adds())
    b = Pyro4.batch(typed)
    b.add_ints(5, 5)
    b.sum_list([1, 2])
    check(list(b()) == [10, 3], "all-good batch")


@case("typed/batch_oneway")
def _():
    no_marshal_none_kwargs()
    before = typed.oneways()
    b = Pyro4.batch(typed)
    b.oneway_note("a")
    b.oneway_note("b")
    check(b(oneway=True) is None, "oneway batch result")
    deadline = time.time() + 5
    while typed.oneways() != before + 2 and time.time() < deadline:
        time.sleep(0.01)
    check(typed.oneways() == before + 2, "oneway batch not executed")


@case("typed/autoproxy")
def _():
    # (Pyro4 daemons cannot make autoproxies with marshal, but a Python
    # client restores a top-level proxy dict, so the Go daemon's works.)
    c = typed.child()
    check(isinstance(c, Pyro4.Proxy), "child() returned %r", c)
    check(c.name() == "kid", "child name")
    n1 = c.incr()
    check(c.incr() == n1 + 1, "child incr")
    check(set(c._pyroMethods) >= {"name", "incr"}, "child metadata %r", c._pyroMethods)
    lst = typed.children()
    check(len(lst) == 2 and all(isinstance(x, Pyro4.Proxy) for x in lst), "children() %r", lst)
    c._pyroRelease()


@case("typed/autoproxy_nested")
def _():
    r = typed.child_map()
    check(r.get("n") == 1, "child_map %r", r)
    check(isinstance(r.get("kid"), Pyro4.Proxy), "a registered object inside a dict is not autoproxied: %r", r)
    kids = r["all"] + list(r["tuple"]) + [r["dict"]["k"]]
    check(all(isinstance(k, Pyro4.Proxy) for k in kids), "nested autoproxies %r", r)
    check([k.name() for k in kids] == ["kid", "kid2", "kid2", "kid"], "nested proxies' names")
    for k in kids + [r["kid"]]:
        k._pyroRelease()


@case("typed/uri")
def _():
    u = typed.obj_uri("thing")
    check(isinstance(u, Pyro4.URI), "obj_uri returned %r", u)
    check(str(u) == "PYRO:thing@example.org:1234", "uri %s", u)
    check(typed.uri_text(Pyro4.URI("PYRO:x@./u:/tmp/s")) == "PYRO:x@./u:/tmp/s", "uri argument")


@case("typed/context")
def _():
    corr = uuid.uuid4()
    Pyro4.current_context.correlation_id = corr
    Pyro4.current_context.annotations = {"XTRA": b"hello"}
    try:
        r = typed.context_info()
        ra = dict(Pyro4.current_context.response_annotations)
    finally:
        Pyro4.current_context.correlation_id = None
        Pyro4.current_context.annotations = {}
    check(r["corr"] == str(corr), "server saw corr %r, sent %s", r["corr"], corr)
    check(r["xtra"] == "hello", "server saw XTRA %r", r["xtra"])
    check(bytes(ra.get("XRES", b"")) == b"hello!", "response annotations %r", ra)
    check(bytes(ra.get("CORR", b"")) == corr.bytes, "CORR in reply %r", ra.get("CORR"))
    # without a correlation id the daemon makes a fresh one per request
    r1, r2 = typed.context_info()["corr"], typed.context_info()["corr"]
    check(r1 != r2 and uuid.UUID(r1).version == 4, "fresh ids %s %s", r1, r2)


@case("typed/ping_message")
def _():
    p = proxy(cfg["typed"])
    p._pyroBind()
    Pyro4.message.Message.ping(p._pyroConnection, hmac_key=None)  # raises on a bad reply
    check(p.add_ints(1, 2) == 3, "call after ping")
    p._pyroRelease()


@case("typed/private")
def _():
    # the proxy refuses locally from metadata; without metadata the daemon refuses
    Pyro4.config.METADATA = False
    try:
        p = proxy(cfg["typed"])
        e = raises(AttributeError, p._pyroInvoke, "_hidden", (), {})
        check("private" in str(e), "%s", e)
        e = raises(AttributeError, p._pyroInvoke, "no_such", (), {})
        check("no attribute" in str(e), "%s", e)
        p._pyroRelease()
    finally:
        Pyro4.config.METADATA = True


# ---------------------------------------------------------------- Pyro.Daemon

@case("daemon/methods")
def _():
    d = proxy(cfg["daemon"])
    check(d.ping() is None, "ping")
    reg = d.registered()
    check({"Pyro.Daemon", "typed", "test.echoserver"} <= set(reg), "registered %r", reg)
    md = d.get_metadata("typed")
    check("add_ints" in set(md["methods"]) and set(md["oneway"]) == {"oneway_note"} and set(md["attrs"]) == {"label"},
          "metadata %r", md)
    if SER == "serpent":
        check(isinstance(md["methods"], set), "serpent metadata should be sets: %r", type(md["methods"]))
    md = d.get_metadata("typed", True)
    check(isinstance(md["methods"], list), "as_lists: %r", type(md["methods"]))
    e = raises(Pyro4.errors.PyroError, d.get_next_stream_item, "no-such-stream")
    check(str(e) == "item stream terminated", "%s", e)
    e = raises(Pyro4.errors.DaemonError, d.get_metadata, "nope")
    check(str(e) == "unknown object", "%s", e)
    check(d.info().startswith("Pyro.Daemon bound on"), "info %r", d.info())
    dm = proxy(cfg["daemon"])
    dm._pyroBind()
    check({"ping", "registered", "info", "get_metadata", "get_next_stream_item", "close_stream"} <= set(dm._pyroMethods),
          "daemon metadata %r", dm._pyroMethods)
    d._pyroRelease()
    dm._pyroRelease()


@case("daemon/unknown_object")
def _():
    uri = Pyro4.URI(cfg["typed"])
    uri.object = "no.such.object"
    e = raises(Pyro4.errors.CommunicationError, proxy(uri)._pyroBind)
    check("unknown object" in str(e), "%s", e)


@case("typed/async")
def _():
    p = proxy(cfg["typed"])
    p._pyroAsync()
    futures = [p.add_ints(i, i) for i in range(5)]  # each on its own connection copy
    check([f.value for f in futures] == [0, 2, 4, 6, 8], "async results")
    p._pyroRelease()


@case("typed/timeout")
def _():
    p = proxy(cfg["go_echo"])
    p._pyroTimeout = 0.2
    raises(Pyro4.errors.TimeoutError, p.slow)  # sleeps slow_delay seconds in the Go daemon
    p._pyroTimeout = 20
    check(p.echo("after timeout") == "after timeout", "reconnect after a timeout")
    p._pyroRelease()


@case("daemon/serializer_not_accepted")
def _():
    Pyro4.config.SERIALIZER = "pickle"
    try:
        p = proxy(cfg["typed"])
        e = raises(Pyro4.errors.CommunicationError, p._pyroBind)
        check("message used serializer that is not accepted: 4" in str(e), "%s", e)
    finally:
        Pyro4.config.SERIALIZER = SER


class ShakeProxy(Pyro4.Proxy):
    def _pyroValidateHandshake(self, response):
        self.__dict__["shake_response"] = response


@case("handshake/accepted")
def _():
    p = ShakeProxy(cfg["shake"])
    p._pyroHandshake = {"secret": "open sesame", "n": 1}
    check(p.concat("a", "b") == "ab", "call after custom handshake")
    check(p.shake_response == {"welcome": True, "n": 1}, "handshake response %r", p.shake_response)
    p._pyroRelease()


@case("handshake/refused")
def _():
    p = proxy(cfg["shake"])  # sends the default "hello"
    e = raises(Pyro4.errors.CommunicationError, p._pyroBind)
    check("rejected: go away: bad handshake" in str(e), "%s", e)


# ---------------------------------------------------------------- HMAC

hm = cfg["hmac"]


@case("hmac/ok")
def _():
    p = proxy(hm["uri"], hm["key"])
    check(p.concat("a", "b") == "ab", "call with key")
    # Message.ping() itself cannot check a keyed reply (it calls recv without
    # the key, a Pyro4 4.82 bug), so do what it does, with the key
    m = Pyro4.message
    p._pyroConnection.send(m.Message(m.MSG_PING, b"ping", 42, 0, 0, hmac_key=p._pyroHmacKey).to_bytes())
    pong = m.Message.recv(p._pyroConnection, [m.MSG_PING], hmac_key=p._pyroHmacKey)
    check(pong.data == b"pong" and "HMAC" in pong.annotations, "pong %r %r", pong.data, pong.annotations)
    check(p.add_ints(2, 2) == 4, "call after keyed ping")
    p._pyroRelease()


def hmac_refused(uri, key):
    p = proxy(uri, key)
    e = raises(Pyro4.errors.CommunicationError, lambda: p.concat("a", "b"))
    check("hmac" in str(e).lower(), "error lacks 'hmac': %s", e)
    return str(e)


@case("hmac/wrong_key")
def _():
    return hmac_refused(hm["uri"], "wrong key")


@case("hmac/no_key")
def _():
    return hmac_refused(hm["uri"], None)


@case("hmac/key_vs_unkeyed_daemon")
def _():
    return hmac_refused(cfg["typed"], hm["key"])


# ---------------------------------------------------------------- unix sockets

@case("unix/path")
def _():
    p = proxy(cfg["unix"])
    check(p.concat("u", "nix") == "unix", "unix call")
    check(list(p.countdown(3)) == [3, 2, 1], "stream over unix socket")
    p._pyroRelease()


@case("unix/abstract")
def _():
    if not cfg.get("abstract"):
        raise Skip("no abstract sockets on this platform")
    p = proxy(cfg["abstract"])
    check(p.concat("ab", "stract") == "abstract", "abstract call")
    p._pyroRelease()


# ---------------------------------------------------------------- compression

@case("compression/both_ways")
def _():
    Pyro4.config.COMPRESSION = True
    try:
        p = proxy(cfg["compress"])
        arg = "compress me " * 5000
        flags = p.request_flags(arg)
        check(flags & Pyro4.message.FLAGS_COMPRESSED, "request not compressed: flags 0x%x", flags)
        del reply_flags[:]
        r = p.big(100000)
        check(r == "x" * 100000, "big reply wrong (%d chars)", len(r))
        check(reply_flags and reply_flags[-1] & Pyro4.message.FLAGS_COMPRESSED, "reply not compressed: %r", reply_flags)
        check(p.size(arg) == len(arg), "size of compressed argument")
        small = p.request_flags("tiny")
        check(not small & Pyro4.message.FLAGS_COMPRESSED, "tiny request compressed")
        p._pyroRelease()
    finally:
        Pyro4.config.COMPRESSION = False


@case("compression/with_hmac")
def _():
    # the HMAC covers the compressed payload
    Pyro4.config.COMPRESSION = True
    try:
        p = proxy(cfg["hmac_compress"], hm["key"])
        arg = "compress and sign " * 5000
        check(p.request_flags(arg) & Pyro4.message.FLAGS_COMPRESSED, "request not compressed")
        del reply_flags[:]
        check(p.big(100000) == "x" * 100000, "big reply")
        check(reply_flags[-1] & Pyro4.message.FLAGS_COMPRESSED, "reply not compressed")
        p._pyroRelease()
    finally:
        Pyro4.config.COMPRESSION = False


@case("compression/uncompressed_client")
def _():
    # a daemon with COMPRESSION on still takes plain requests, and the
    # client decompresses its replies whatever its own setting
    p = proxy(cfg["compress"])
    arg = "y" * 50000
    check(p.request_flags(arg) & Pyro4.message.FLAGS_COMPRESSED == 0, "request compressed")
    check(p.big(50000) == "x" * 50000, "big reply")
    p._pyroRelease()


# ---------------------------------------------------------------- MAX_MESSAGE_SIZE

@case("max_message_size/request_too_big")
def _():
    p = proxy(cfg["limited"])
    check(p.size("x" * 100) == 100, "small call")
    e = raises(Pyro4.errors.ConnectionClosedError, p.size, "x" * (cfg["limit"] + 1000))
    check(p.size("y" * 10) == 10, "reconnect after refused message")
    p._pyroRelease()
    return str(e)


@case("max_message_size/reply_too_big")
def _():
    # Pyro4 drops the connection; pyrogo answers with the error and stops
    # encoding at the limit (a reply is never built past MAX_MESSAGE_SIZE)
    p = proxy(cfg["limited"])
    e = raises(Pyro4.errors.MessageTooLargeError, p.big, cfg["limit"] + 1000)
    check("max message size exceeded" in str(e), "message: %s", e)
    check(p.big(10) == "x" * 10, "same connection after the refused reply")
    p._pyroRelease()
    return str(e)


for p in (go_echo, py_echo, typed):
    p._pyroRelease()

json.dump({"serializer": SER, "cases": cases}, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
