# Interop helper for marshal/interop_test.go (run with /usr/bin/python3).
#
#   interop.py dump   print one JSON line per corpus value:
#                     {"name", "data": hex of CPython's bytes, "tagged": value}
#   interop.py check  read JSON lines {"name"|"tagged", "data": hex of Go's
#                     bytes} and print {"i", "ok", "msg"} for each
#
# "tagged" is a type-tagged JSON form of a value (see tag below), so that
# both sides can state a value exactly without a marshal codec.
# Exit status 3 means a module is missing (the Go test skips).
import json
import marshal
import math
import struct
import sys

try:
    import Pyro4
    import Pyro4.core
    import Pyro4.errors
    import Pyro4.util
except ImportError as e:  # pragma: no cover
    print("missing module: %s" % e, file=sys.stderr)
    sys.exit(3)


def corpus():
    items = []

    def add(name, v, how="marshal"):
        items.append((name, v, how))

    ints = [0, 1, -1, 255, 2**15 - 1, 2**15, 2**30 - 1, 2**30, 2**31 - 1, -2**31,
            2**31, -2**31 - 1, 2**32, 2**45, 2**59, 2**60, -2**60, 2**62,
            2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64, -2**64, 2**75 - 1,
            10**300, -10**300, 2**1000 + 12345]
    for i, v in enumerate(ints):
        add("int%d" % i, v)
    floats = [0.0, -0.0, 1.5, 0.1, -2.5e-300, 1e308, 5e-324, float("nan"),
              float("inf"), float("-inf"), 2.0**53]
    for i, v in enumerate(floats):
        add("float%d" % i, v)
    for i, v in enumerate([1 + 2j, complex(-0.0, -0.0), complex(float("nan"), float("inf")), 1e300j]):
        add("complex%d" % i, v)
    strs = ["", "a", "x" * 255, "x" * 256, "h\u00e9llo", "\u00e9" * 300, "\U0001F600",
            "\u2028", "\x00", "a\x00b\n\t", "\u65e5\u672c\u8a9e", "\uffff\U0010ffff", "\x7f"]
    for i, v in enumerate(strs):
        add("str%d" % i, v)
    for i, v in enumerate([b"", b"\x00\xff", bytes(range(256)), bytearray(b"ab")]):
        add("bytes%d" % i, v)
    add("none", None)
    add("true", True)
    add("false", False)
    add("stopiter", StopIteration)
    add("ellipsis", ...)
    add("singletons", [StopIteration, ..., None, True, False])
    add("tuple0", ())
    add("tuple1", (1,))
    add("tuple255", tuple(range(255)))
    add("tuple300", tuple(range(300)))
    add("list0", [])
    add("list-mixed", [1, 2.5, "s", b"b", None, (1, 2), [3], {"k": "v"}])
    add("dict0", {})
    add("dict-keys", {1: "a", "b": 2, (1, 2): 3, None: 4, 2.5: 5, b"k": 6,
                      frozenset({1}): 7, 1 + 2j: 8, (1, ("n", b"x")): 9})
    add("dict100", {"k%d" % i: i for i in range(100)})
    add("set0", set())
    add("frozenset0", frozenset())
    add("set-mixed", {1, "a", (2, 3), b"x", 2.5, None})
    add("frozenset-mixed", frozenset({b"x", 2.5, "z", 10**30}))
    add("set-of-frozensets", {frozenset({1, 2}), frozenset()})
    add("set100", set(range(100)))
    # FLAG_REF and 'r' references
    s = "".join(["shared", " string"])
    add("ref-str", [s, s, s])
    t = (1, "".join(["x", "y"]))
    add("ref-tuple", [t, t, {"k": t}])
    add("ref-interned", ["lookup", "lookup", {"lookup": "lookup"}])
    add("ref-int", [7] * 5 + [10**20] * 3)
    lst = [1, 2]
    add("ref-list", [lst, lst, (lst,)])
    d = {"a": 1}
    add("ref-dict", {"x": d, "y": d})
    fs = frozenset({"p", "q"})
    add("ref-frozenset", [fs, {fs: fs}])
    # nesting
    deep = []
    cur = deep
    for _ in range(299):
        n = []
        cur.append(n)
        cur = n
    add("deep300", deep)
    dt = ()
    for _ in range(299):
        dt = (dt, 1)
    add("deep300-tuple", dt)
    add("nested", {"a": [1, {"b": (2, [3, {4, 5}])}], "c": frozenset({(1, 2)})})
    # Pyro payloads
    add("pyro-uri", Pyro4.core.URI("PYRO:obj@localhost:9090"), "pyro")
    add("pyro-uri-unix", Pyro4.core.URI("PYRO:obj@./u:/tmp/sock"), "pyro")
    add("pyro-valueerror", ValueError("bad", 12), "pyro")
    add("pyro-namingerror", Pyro4.errors.NamingError("unknown name: x"), "pyro")
    e = ValueError("with traceback")
    e._pyroTraceback = ["Traceback (most recent call last):\n", "ValueError: with traceback\n"]
    add("pyro-exc-tb", e, "pyro")
    add("pyro-proxy", Pyro4.core.Proxy("PYRO:x@localhost:1"), "pyro")
    add("pyro-call-echo", ("test.echoserver", "echo", ("x" * 48,), {}), "call")
    add("pyro-call-lookup", ("Pyro.NameServer", "lookup", ("Pyro.NameServer",), {}), "call")
    add("pyro-call-kw", ("obj", "m", (1, "a", [2], {3}), {"k": (1, 2), "u": "\u00fc"}), "call")
    return items


def dump(name, v, how):
    ser = Pyro4.util.get_serializer("marshal")
    if how == "pyro":
        return ser.dumps(v)
    if how == "call":
        return ser.dumpsCall(*v)
    return marshal.dumps(v)


def fbits(f):
    return struct.pack("<d", f).hex()


def unfbits(h):
    return struct.unpack("<d", bytes.fromhex(h))[0]


def tag(v):
    if v is None:
        return ["none"]
    if v is StopIteration:
        return ["stopiter"]
    if v is Ellipsis:
        return ["ellipsis"]
    t = type(v)
    if t is bool:
        return ["bool", v]
    if t is int:
        return ["int", format(v, "x")]
    if t is float:
        return ["float", fbits(v)]
    if t is complex:
        return ["complex", fbits(v.real), fbits(v.imag)]
    if t is str:
        return ["str", v.encode("utf-8", "surrogatepass").hex()]
    if t in (bytes, bytearray):
        return ["bytes", bytes(v).hex()]
    if t in (tuple, list, set, frozenset):
        return [t.__name__, [tag(x) for x in v]]
    if t is dict:
        return ["dict", [[tag(k), tag(x)] for k, x in v.items()]]
    raise TypeError("cannot tag %r" % t)


def untag(x):
    k = x[0]
    if k == "none":
        return None
    if k == "stopiter":
        return StopIteration
    if k == "ellipsis":
        return Ellipsis
    if k == "bool":
        return x[1]
    if k == "int":
        return int(x[1], 16)
    if k == "float":
        return unfbits(x[1])
    if k == "complex":
        return complex(unfbits(x[1]), unfbits(x[2]))
    if k == "str":
        return bytes.fromhex(x[1]).decode("utf-8")
    if k == "bytes":
        return bytes.fromhex(x[1])
    if k == "tuple":
        return tuple(untag(e) for e in x[1])
    if k == "list":
        return [untag(e) for e in x[1]]
    if k == "set":
        return {untag(e) for e in x[1]}
    if k == "frozenset":
        return frozenset(untag(e) for e in x[1])
    if k == "dict":
        return {untag(a): untag(b) for a, b in x[1]}
    raise ValueError("bad tag %r" % k)


def same(a, b):
    """Strict equality: same types, floats bit for bit (any NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    t = type(a)
    if t is float:
        return (math.isnan(a) and math.isnan(b)) or fbits(a) == fbits(b)
    if t is complex:
        return same(a.real, b.real) and same(a.imag, b.imag)
    if t in (tuple, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if t in (set, frozenset):
        return len(a) == len(b) and all(any(same(x, y) for y in b) for x in a)
    if t is dict:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            for k2, v2 in b.items():
                if same(k, k2):
                    if not same(v, v2):
                        return False
                    break
            else:
                return False
        return True
    if a is None or t is type:
        return a is b
    return a == b


class NoCanon(Exception):
    pass


def canon(data):
    """CPython's bytes with FLAG_REF cleared and interned codes mapped to the
    plain ones; None when they hold an 'r' reference or a set (whose member
    order CPython chooses by sorting)."""
    out = bytearray()
    pos = 0
    plain = {ord("Z"): ord("z"), ord("A"): ord("a"), ord("t"): ord("u")}

    def take(n):
        nonlocal pos
        b = data[pos:pos + n]
        pos += n
        out.extend(b)
        return b

    def obj():
        nonlocal pos
        code = data[pos] & 0x7F
        pos += 1
        code = plain.get(code, code)
        out.append(code)
        c = chr(code)
        if c in "NFTS.":
            return
        if c == "i":
            take(4)
        elif c == "g":
            take(8)
        elif c == "y":
            take(16)
        elif c == "l":
            n = int.from_bytes(take(4), "little", signed=True)
            take(2 * abs(n))
        elif c in "sua":
            take(int.from_bytes(take(4), "little"))
        elif c == "z":
            take(take(1)[0])
        elif c in "([":
            for _ in range(int.from_bytes(take(4), "little")):
                obj()
        elif c == ")":
            for _ in range(take(1)[0]):
                obj()
        elif c == "{":
            while data[pos] & 0x7F != ord("0"):
                obj()
                obj()
            pos += 1
            out.append(ord("0"))
        else:
            raise NoCanon(c)

    try:
        obj()
    except NoCanon:
        return None
    return bytes(out)


def main():
    mode = sys.argv[1]
    items = corpus()
    if mode == "dump":
        for name, v, how in items:
            data = dump(name, v, how)
            print(json.dumps({"name": name, "data": data.hex(), "tagged": tag(marshal.loads(data))}))
        return
    byname = {name: (v, how) for name, v, how in items}
    for i, line in enumerate(sys.stdin):
        req = json.loads(line)
        data = bytes.fromhex(req["data"])
        res = {"i": i, "ok": True, "msg": ""}
        try:
            import io
            f = io.BytesIO(data)
            got = marshal.load(f)
            if f.tell() != len(data):
                raise ValueError("marshal.load used %d of %d bytes" % (f.tell(), len(data)))
            if "name" in req:
                v, how = byname[req["name"]]
                pydata = dump(req["name"], v, how)
                want = marshal.loads(pydata)
                c = canon(pydata)
                if c is not None and c != data:
                    res = {"i": i, "ok": False, "msg": "bytes differ from CPython's (flags stripped): %s" % c.hex()}
            else:
                want = untag(req["tagged"])
            if res["ok"] and not same(got, want):
                res = {"i": i, "ok": False, "msg": "loaded %r, want %r" % (got, want)}
        except Exception as e:
            res = {"i": i, "ok": False, "msg": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(res))


if __name__ == "__main__":
    sys.setrecursionlimit(5000)
    main()
