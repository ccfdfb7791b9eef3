"""Reads and writes a name server database with Pyro4's own SqlStorage (or
Pyro5's, with the environment variable PYSTORAGE=pyro5).

usage: py_storage.py write FILE      (stdin: JSON {"put": [[name, uri, [tags]]...], "delete": [names]})
       py_storage.py read FILE       (stdout: JSON [[name, uri, [sorted tags]]...] sorted by name)
       py_storage.py prefix FILE P.. (stdout: JSON {prefix: sorted names} from optimized_prefix_list)
"""
import json
import os
import sys

if os.environ.get("PYSTORAGE") == "pyro5":
    from Pyro5.nameserver import SqlStorage
else:
    from Pyro4.naming_storage import SqlStorage


def main():
    mode, path = sys.argv[1], sys.argv[2]
    store = SqlStorage(path)
    if mode == "write":
        req = json.load(sys.stdin)
        for name, uri, tags in req.get("put", []):
            store[name] = (uri, set(tags))
        if req.get("delete"):
            store.remove_items(req["delete"])
        print(json.dumps({"len": len(store)}))
    elif mode == "read":
        everything = store.everything(return_metadata=True)
        out = sorted([name, uri, sorted(meta)] for name, (uri, meta) in everything.items())
        print(json.dumps(out))
    elif mode == "prefix":
        out = {p: sorted(store.optimized_prefix_list(p)) for p in sys.argv[3:]}
        print(json.dumps(out, sort_keys=True))
    else:
        raise SystemExit("bad mode " + mode)
    store.close()


if __name__ == "__main__":
    main()
