"""Talks to a name server with a Python Pyro4 client; prints one JSON object.

usage: py_ns_client.py HOST PORT query            (reads, then a few writes)
       py_ns_client.py HOST PORT register PREFIX N (registers PREFIX0..PREFIX<N-1>)
"""
import json
import sys

import Pyro4


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ns = Pyro4.Proxy("PYRO:Pyro.NameServer@%s:%d" % (host, port))
    out = {}
    if mode == "query":
        out["count"] = ns.count()
        out["lookup"] = {}
        for name in ["go.printer", "go.scanner", "go.plain", "go.\u00fcn\u00ef", "go.a%b", "go.a_b"]:
            uri, tags = ns.lookup(name, return_metadata=True)
            out["lookup"][name] = [str(uri), sorted(tags)]
        out["metadata_all"] = sorted(ns.list(metadata_all=["printer", "color"]))
        out["metadata_any"] = sorted(ns.list(metadata_any=["scanner", "\u00fc"]))
        # Pyro's SqlStorage matches prefixes with LIKE: "_" is a wildcard.
        out["prefix"] = sorted(ns.list(prefix="go.a_"))
        ns.register("py.new", "PYRO:new@localhost:4444", metadata={"fresh", "py"})
        ns.set_metadata("go.plain", {"now", "tagged"})
        out["removed"] = ns.remove("go.scanner")
        out["count_after"] = ns.count()
    elif mode == "register":
        prefix, n = sys.argv[4], int(sys.argv[5])
        for i in range(n):
            ns.register("%s%d" % (prefix, i), "PYRO:obj%d@localhost:%d" % (i, 5000 + i), metadata={"py"})
        out["listed"] = len(ns.list(prefix=prefix))
    else:
        raise SystemExit("bad mode " + mode)
    ns._pyroRelease()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
