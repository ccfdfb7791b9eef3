# Calls every method of a name server with valid and invalid arguments,
# positionally and by keyword, and prints one line per call: the result
# (normalised: sets and metadata lists sorted, the name server's own
# location replaced by NSLOC) or the exception class and message. The
# same script runs against pyro4-ns and against pyrogo's name server; the
# outputs must be identical.
#
# usage: ns_calls.py HOST PORT
import sys
import Pyro4
import Pyro4.errors

host, port = sys.argv[1], int(sys.argv[2])
ns = Pyro4.Proxy("PYRO:Pyro.NameServer@%s:%d" % (host, port))
nsloc = "%s:%d" % (host, port)


def norm(v):
    if isinstance(v, Pyro4.core.URI):
        return "URI(" + str(v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (norm(k), norm(x)) for k, x in sorted(v.items())) + "}"
    if isinstance(v, (list, set, frozenset)):
        return "[" + ", ".join(sorted(norm(x) for x in v)) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(norm(x) for x in v) + ")"
    return repr(v)


def call(label, method, *args, **kwargs):
    try:
        r = getattr(ns, method)(*args, **kwargs)
        line = "OK " + norm(r)
    except Exception as e:
        line = "%s.%s: %s" % (type(e).__module__, type(e).__name__, e)
    print(("%s: %s" % (label, line)).replace(nsloc, "NSLOC"))


call("ping", "ping")
call("count0", "count")
call("lookup-self", "lookup", "Pyro.NameServer")
call("lookup-self-meta", "lookup", "Pyro.NameServer", True)
call("lookup-self-meta-kw", "lookup", "Pyro.NameServer", return_metadata=True)
call("lookup-kw-name", "lookup", name="Pyro.NameServer")
call("lookup-unknown", "lookup", "nope")
call("lookup-int", "lookup", 5)
call("lookup-too-many", "lookup", "a", True, 3)
call("register-pos", "register", "test.a", "PYRO:a@127.0.0.1:5555")
call("register-uri-object", "register", "test.b", Pyro4.core.URI("PYRO:b@127.0.0.1:5556"))
call("register-kw", "register", name="test.c", uri="PYRO:c@127.0.0.1:5557", safe=True, metadata={"printer", "color"})
call("register-pos-all", "register", "test.d", "PYRO:d@127.0.0.1:5558", False, ["x", "y", "x"])
call("register-tuple-meta", "register", "other.e", "pyro:e@localhost:5559", metadata=("color",))
call("register-unix", "register", "other.f", "PYRO:f@./u:/tmp/sock")
call("register-safe-dup", "register", "test.a", "PYRO:a@127.0.0.1:5555", safe=True)
call("register-safe-dup-pos", "register", "test.a", "PYRO:a@127.0.0.1:5555", True)
call("register-name-int", "register", 123, "PYRO:a@127.0.0.1:5555")
call("register-uri-int", "register", "test.z", 123)
call("register-bad-uri", "register", "test.z", "junk")
call("register-bad-port", "register", "test.z", "PYRO:obj@host")
call("register-bad-proto", "register", "test.z", "PYROX:obj@host:1")
call("register-meta-str", "register", "test.z", "PYRO:z@127.0.0.1:1", metadata="abc")
call("register-meta-int", "register", "test.z", "PYRO:z@127.0.0.1:1", metadata=5)
call("register-meta-empty-str", "register", "test.z", "PYRO:z@127.0.0.1:1", metadata="")
call("register-meta-false", "register", "test.zz", "PYRO:z@127.0.0.1:1", metadata=False)
call("count1", "count")
call("lookup-a", "lookup", "test.a")
call("lookup-c-meta", "lookup", "test.c", return_metadata=True)
call("lookup-e", "lookup", "other.e")
call("lookup-f", "lookup", "other.f", True)
call("list", "list")
call("list-meta", "list", return_metadata=True)
call("list-prefix", "list", "test.")
call("list-prefix-kw", "list", prefix="test.", return_metadata=True)
call("list-prefix-tuple", "list", prefix=("other", "test.a"))
call("list-prefix-int", "list", prefix=5)
call("list-prefix-empty", "list", prefix="")
call("list-regex", "list", regex=r"test\.[ab]$")
call("list-regex-pos", "list", None, r".*\.e", return_metadata=True)
call("list-regex-anchored", "list", regex=r"a")
call("list-regex-bad", "list", regex="(")
call("list-regex-bad2", "list", regex="*a")
call("list-regex-int", "list", regex=5)
call("list-two-filters", "list", prefix="test", regex="x")
call("list-two-filters-empty", "list", prefix="", regex="")
call("list-three-filters", "list", "a", None, ["x"], ["y"])
call("list-meta-all", "list", metadata_all={"printer", "color"})
call("list-meta-all-one", "list", metadata_all=["color"], return_metadata=True)
call("list-meta-all-none", "list", metadata_all={"color", "nope"})
call("list-meta-all-empty", "list", metadata_all=[])
call("list-meta-all-str", "list", metadata_all="color")
call("list-meta-all-int", "list", metadata_all=5)
call("list-meta-any", "list", metadata_any={"color", "x"})
call("list-meta-any-str", "list", metadata_any="color")
call("list-meta-any-pos", "list", None, None, None, ["y"], True)
call("list-meta-class", "list", metadata_all=["class:Pyro4.naming.NameServer"])
call("set-meta", "set_metadata", "test.a", {"new", "tags"})
call("set-meta-kw", "set_metadata", name="test.b", metadata=["q"])
call("set-meta-clear", "set_metadata", "test.c", None)
call("set-meta-clear-empty", "set_metadata", "test.d", [])
call("set-meta-unknown", "set_metadata", "nope", ["x"])
call("set-meta-name-int", "set_metadata", 5, ["x"])
call("set-meta-str", "set_metadata", "test.a", "abc")
call("set-meta-int", "set_metadata", "test.a", 7)
call("list-after-set", "list", return_metadata=True)
call("remove-none", "remove")
call("remove-missing", "remove", "nope")
call("remove-self", "remove", "Pyro.NameServer")
call("remove-name", "remove", "test.zz")
call("remove-name-kw", "remove", name="test.z")
call("remove-missing-then-prefix", "remove", "nope", "other.f")
call("remove-prefix-self", "remove", prefix="Pyro")
call("remove-regex-bad", "remove", regex="(")
call("remove-regex", "remove", regex=r"test\.[ab]")
call("remove-all", "remove", regex=".*")
call("remove-too-many", "remove", "a", "b", "c", "d")
call("list-end", "list", return_metadata=True)
call("register-ns-over", "register", "Pyro.NameServer", "PYRO:other@127.0.0.1:1")
call("lookup-ns-over", "lookup", "Pyro.NameServer")
call("count-end", "count")
# dict order: registration order, a re-registration keeps its place
for n in ("zzz", "aaa", "mmm"):
    ns.register(n, "PYRO:%s@127.0.0.1:1" % n)
ns.register("zzz", "PYRO:again@127.0.0.1:2")
ns.remove("aaa")
ns.register("aaa", "PYRO:aaa@127.0.0.1:3")
print("list-order: " + repr(list(ns.list().keys())))
