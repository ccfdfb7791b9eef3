"""Python Pyro4 client that makes the calls it is told to and reports what
came back, for pyrogo's tests of error classes, datetime results and
struct arguments (Python proxies -> Go daemons and Pyro4's own servers).

Reads a JSON list of calls from stdin, each {"uri": ..., "method": ...,
"args": "<Python expression for the argument tuple>", "kwargs": "<Python
expression for a dict>" (optional), "serializer": name}, and prints one JSON
list with, for each call, either {"ok": true, "type": "<module.class of the
result>", "repr": repr(result)} or {"ok": false, "class": "<module.class of
the exception>", "message": str(exception)}. The expressions are test data
written by the Go tests; datetime is importable in them.

A call with "batch": [{"method": ..., "args": ..., "kwargs": ...}, ...]
instead of "method" makes those calls in one Pyro4 batch; its result is
{"ok": true, "type": "batch", "repr": repr(list)} where the list holds the
repr of each result, and "<module.class>: <message>" for the exception that
ended the batch.
"""

import datetime  # noqa: F401 (used by the argument expressions)
import json
import sys

import Pyro4
import Pyro4.errors


def qualname(x):
    t = type(x)
    return "%s.%s" % (t.__module__, t.__qualname__)


out = []
def run_batch(c):
    with Pyro4.Proxy(c["uri"]) as p:
        p._pyroSerializer = c.get("serializer", "serpent")
        b = Pyro4.batch(p)
        for bc in c["batch"]:
            getattr(b, bc["method"])(*eval(bc.get("args") or "()"), **eval(bc.get("kwargs") or "{}"))
        got = []
        try:
            for r in b():
                got.append(repr(r))
        except Exception as e:  # the call that ended the batch
            got.append("%s: %s" % (qualname(e), e))
    return {"ok": True, "type": "batch", "repr": repr(got)}


for c in json.load(sys.stdin):
    if "batch" in c:
        out.append(run_batch(c))
        continue
    args = eval(c.get("args") or "()")
    kwargs = eval(c.get("kwargs") or "{}")
    try:
        with Pyro4.Proxy(c["uri"]) as p:
            p._pyroSerializer = c.get("serializer", "serpent")
            r = getattr(p, c["method"])(*args, **kwargs)
        out.append({"ok": True, "type": qualname(r), "repr": repr(r)})
    except Exception as e:  # every failure is the result
        out.append({"ok": False, "class": qualname(e), "message": str(e)})
print(json.dumps(out))
