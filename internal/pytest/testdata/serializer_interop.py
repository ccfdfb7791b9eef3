"""Interop helper for the Go tests: talks to Pyro4's own serializers.

Usage: serializer_interop.py SERIALIZER MODE, with JSON requests on stdin (one per
line) and one JSON answer per request on stdout.

MODE dump: request {"expr": E, "call": bool}. E is evaluated; the value
(or, with call, the 4-tuple given to dumpsCall) is serialized with
Pyro4.util.get_serializer(SERIALIZER). Answer {"b64": payload} or
{"err": "Type: message"}.

MODE load: request {"expr": E, "b64": payload, "bytes": bool, "call": bool}.
The payload (written by Go) is loaded with the serializer's loads (or
loadsCall); the result must be the same (type-strict, see same()) as what
loads gives for Python's own serialization of eval(E). With "bytes", the
payload must also equal Python's own bytes. Answer {"ok": true} or
{"ok": false, "why": text}.
"""
import base64
import datetime
import decimal
import json
import math
import sys
import uuid

import Pyro4
import Pyro4.errors
import Pyro4.util

sys.setrecursionlimit(10000)


def nest(n, inner=1):
    v = inner
    for _ in range(n):
        v = [v]
    return v


def nestdict(n, inner=1):
    v = inner
    for _ in range(n):
        v = {"a": v}
    return v


def exc(cls, *args, tb=None, **attrs):
    e = cls(*args)
    if tb is not None:
        e._pyroTraceback = tb
    for k, v in attrs.items():
        setattr(e, k, v)
    return e


def uri(s):
    return Pyro4.core.URI(s)


def same(a, b):
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
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, BaseException):
        return same(a.args, b.args) and same(vars(a), vars(b))
    return a == b


def main():
    name, mode = sys.argv[1], sys.argv[2]
    ser = Pyro4.util.get_serializer(name)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            value = eval(req["expr"])
            if req.get("call"):
                own = ser.dumpsCall(*value)
            else:
                own = ser.dumps(value)
            if mode == "dump":
                ans = {"b64": base64.b64encode(own).decode("ascii")}
            else:
                payload = base64.b64decode(req["b64"])
                if req.get("call"):
                    got, want = ser.loadsCall(payload), ser.loadsCall(own)
                else:
                    got, want = ser.loads(payload), ser.loads(own)
                if not same(got, want):
                    ans = {"ok": False, "why": "loaded %r, want %r" % (got, want)}
                elif req.get("bytes") and payload != own:
                    ans = {"ok": False, "why": "bytes differ: go %r, python %r" % (payload, own)}
                else:
                    ans = {"ok": True}
        except Exception as e:
            ans = {"err": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(ans), flush=False)
    sys.stdout.flush()


main()
