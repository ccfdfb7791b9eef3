# Calls every method of Pyro5's name server API with valid and invalid
# arguments, positionally and by keyword, and prints one line per call: the
# result (normalised: sets and lists sorted, an empty set written () as
# serpent sends it, with PYRO_SERIALIZER=json sets and tuples written as
# lists, the name server's own location replaced by NSLOC) or the exception class
# and message. The outputs against different name servers must be
# identical.
#
# usage: ns_calls5.py local HOST PORT   Pyro5's NameServer object itself, in
#                                       this process (no network), registered
#                                       as PYRO:Pyro.NameServer@HOST:PORT as
#                                       Pyro5's name server daemon does
#        ns_calls5.py pyro4 HOST PORT   a Pyro4 proxy for the name server
#        ns_calls5.py pyro5 HOST PORT   a Pyro5 proxy for the name server
import os
import sys

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
nsloc = "%s:%d" % (host, port)
if mode == "local":
    import Pyro5.core
    import Pyro5.nameserver
    ns = Pyro5.nameserver.NameServer()
    ns.register("Pyro.NameServer", "PYRO:Pyro.NameServer@" + nsloc, metadata={"class:Pyro5.nameserver.NameServer"})
    URIS = (Pyro5.core.URI,)
    mkuri = Pyro5.core.URI
elif mode == "pyro4":
    import Pyro4
    import Pyro4.core
    ns = Pyro4.Proxy("PYRO:Pyro.NameServer@" + nsloc)
    URIS = (Pyro4.core.URI,)
    mkuri = Pyro4.core.URI
elif mode == "pyro5":
    import Pyro5.api
    import Pyro5.core
    ns = Pyro5.api.Proxy("PYRO:Pyro.NameServer@" + nsloc)
    URIS = (Pyro5.core.URI,)
    mkuri = Pyro5.core.URI
else:
    raise SystemExit("unknown mode " + mode)


# JSON and msgpack have no tuples or sets: Pyro sends them as lists
tuples_as_lists = os.environ.get("PYRO_SERIALIZER") in ("json", "msgpack")


def norm(v):
    if isinstance(v, URIS):
        return "URI(" + str(v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (norm(k), norm(x)) for k, x in sorted(v.items())) + "}"
    if isinstance(v, (set, frozenset)) and not tuples_as_lists:
        if not v:
            return "()"  # serpent sends an empty set as ()
        return "{" + ", ".join(sorted(norm(x) for x in v)) + "}"
    if isinstance(v, (list, set, frozenset)) or tuples_as_lists and isinstance(v, tuple):
        # json sends sets and tuples as lists
        return "[" + ", ".join(sorted(norm(x) for x in v)) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(norm(x) for x in v) + ")"
    return repr(v)


def call(label, method, *args, **kwargs):
    try:
        r = getattr(ns, method)(*args, **kwargs)
        line = "OK " + norm(r)
    except Exception as e:
        kind = "pyro" if type(e).__module__.endswith(".errors") else type(e).__module__
        line = "%s.%s: %s" % (kind, type(e).__name__, e)
    print(("%s: %s" % (label, line)).replace(nsloc, "NSLOC"))


call("ping", "ping")
call("count0", "count")
call("lookup-self", "lookup", "Pyro.NameServer")
call("lookup-self-meta", "lookup", "Pyro.NameServer", True)
call("lookup-self-meta-kw", "lookup", "Pyro.NameServer", return_metadata=True)
call("lookup-kw-name", "lookup", name="Pyro.NameServer")
call("lookup-unknown", "lookup", "nope")
call("register-pos", "register", "test.a", "PYRO:a@127.0.0.1:5555")
call("register-uri-object", "register", "test.b", mkuri("PYRO:b@127.0.0.1:5556"))
call("register-kw", "register", name="test.c", uri="PYRO:c@127.0.0.1:5557", safe=True, metadata={"printer", "color"})
call("register-pos-all", "register", "test.d", "PYRO:d@127.0.0.1:5558", False, ["x", "y", "x"])
call("register-tuple-meta", "register", "other.e", "pyro:e@localhost:5559", metadata=("color",))
call("register-safe-dup", "register", "test.a", "PYRO:a@127.0.0.1:5555", safe=True)
call("register-name-int", "register", 123, "PYRO:a@127.0.0.1:5555")
call("register-uri-int", "register", "test.z", 123)
call("register-bad-uri", "register", "test.z", "junk")
call("register-meta-str", "register", "test.z", "PYRO:z@127.0.0.1:1", metadata="abc")
call("register-meta-int", "register", "test.z", "PYRO:z@127.0.0.1:1", metadata=5)
call("register-meta-empty", "register", "test.zz", "PYRO:z@127.0.0.1:1", metadata=[])
call("count1", "count")
call("lookup-a-meta", "lookup", "test.a", True)
call("lookup-c-meta", "lookup", "test.c", return_metadata=True)
call("lookup-zz-meta", "lookup", "test.zz", return_metadata=True)
call("list", "list")
call("list-meta", "list", return_metadata=True)
call("list-prefix", "list", "test.")
call("list-prefix-kw", "list", prefix="test.", return_metadata=True)
call("list-prefix-pos-meta", "list", "test.", None, True)
call("list-pos-meta", "list", None, None, True)
call("list-prefix-empty", "list", prefix="")
call("list-regex", "list", regex=r"test\.[ab]$")
call("list-regex-pos", "list", None, r".*\.e", return_metadata=True)
call("list-regex-bad", "list", regex="(")
call("list-regex-int", "list", regex=5)
call("list-prefix-int", "list", prefix=5)
call("list-two-filters", "list", prefix="test", regex="x")
call("list-two-filters-one-empty", "list", prefix="", regex=r"other")
call("list-two-filters-empty", "list", prefix="", regex="")
call("list-meta-all-kw", "list", metadata_all=["color"])
call("list-meta-any-kw", "list", metadata_any=["color"])
call("list-four-pos", "list", "a", None, True, None)
call("list-meta-twice", "list", None, None, True, return_metadata=True)
call("yp-all", "yplookup", ["color"])
call("yp-all-kw", "yplookup", meta_all={"printer", "color"})
call("yp-all-nometa", "yplookup", ["color"], None, False)
call("yp-all-nometa-kw", "yplookup", meta_all=["color"], return_metadata=False)
call("yp-all-none", "yplookup", meta_all={"color", "nope"})
call("yp-any", "yplookup", meta_any={"color", "x"})
call("yp-any-pos", "yplookup", None, ["y", "q"])
call("yp-class", "yplookup", ["class:Pyro5.nameserver.NameServer"])
call("yp-class4", "yplookup", ["class:Pyro4.naming.NameServer"])
call("yp-neither", "yplookup")
call("yp-empty", "yplookup", [], [])
call("yp-both", "yplookup", ["a"], ["b"])
call("yp-all-str", "yplookup", meta_all="color")
call("yp-any-str", "yplookup", meta_any="color")
call("yp-all-int", "yplookup", meta_all=5)
call("yp-too-many", "yplookup", None, None, True, 4)
call("yp-bad-kw", "yplookup", metadata_all=["color"])
call("set-meta", "set_metadata", "test.a", {"new", "tags"})
call("set-meta-clear", "set_metadata", "test.c", None)
call("set-meta-clear-empty", "set_metadata", "test.d", [])
call("set-meta-unknown", "set_metadata", "nope", ["x"])
call("set-meta-str", "set_metadata", "test.a", "abc")
call("list-after-set", "list", return_metadata=True)
call("remove-none", "remove")
call("remove-missing", "remove", "nope")
call("remove-self", "remove", "Pyro.NameServer")
call("remove-name", "remove", "test.zz")
call("remove-missing-then-prefix", "remove", "nope", "other.")
call("remove-self-then-prefix", "remove", "Pyro.NameServer", "other.")
call("remove-prefix-self", "remove", prefix="Pyro")
call("remove-regex-bad", "remove", regex="(")
call("remove-regex", "remove", regex=r"test\.[ab]")
call("remove-all", "remove", regex=".*")
call("list-end", "list", return_metadata=True)
call("count-end", "count")
