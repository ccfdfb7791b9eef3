"""A Python client of pyrogo's mobile code service (Pyro.MobileCode), for
the interop tests of package mobile. Pyro4, or Pyro5 with --pyro5.

  python -u pymobile.py [--pyro5] URI < steps.json

stdin holds a JSON list of steps, each {"op": METHOD, "args": [...]};
METHOD is load, call, unload or modules, called on a proxy of URI with
the arguments. In arguments, {"$file": PATH} is the bytes of a file,
{"$bytes": BASE64} bytes, {"$text": PATH} the text of a file. Every step
prints one JSON line: {"ok": true, "result": ...} (bytes in results as
{"$bytes": BASE64}; serpent's bytes dicts too) or {"ok": false,
"error": exception class name, "msg": its text}; after a failed step the
proxy reconnects. The exit status is 0 unless the arguments are wrong.
"""
import base64
import json
import sys

pyro5 = "--pyro5" in sys.argv
if pyro5:
    sys.argv.remove("--pyro5")
    import Pyro5.api as api
else:
    import Pyro4 as api
if len(sys.argv) != 2:
    sys.stderr.write(__doc__)
    sys.exit(2)


def arg(v):
    if isinstance(v, dict):
        if "$file" in v:
            with open(v["$file"], "rb") as f:
                return f.read()
        if "$text" in v:
            with open(v["$text"]) as f:
                return f.read()
        if "$bytes" in v:
            return base64.b64decode(v["$bytes"])
        return {k: arg(x) for k, x in v.items()}
    if isinstance(v, list):
        return [arg(x) for x in v]
    return v


def res(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, dict):
        if set(v) == {"data", "encoding"} and v["encoding"] == "base64":
            return {"$bytes": v["data"]}
        return {k: res(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [res(x) for x in v]
    return v


steps = json.load(sys.stdin)
with api.Proxy(sys.argv[1]) as mc:
    for step in steps:
        try:
            r = getattr(mc, step["op"])(*arg(step.get("args") or []))
            out = {"ok": True, "result": res(r)}
        except Exception as e:
            out = {"ok": False, "error": type(e).__name__, "msg": str(e)}
            mc._pyroRelease()
        print(json.dumps(out), flush=True)
