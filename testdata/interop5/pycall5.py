"""Python Pyro5 client runner for pyrogo's Pyro5 interop tests: it makes the
calls it is told to, against any Pyro5 server (Pyro5's own, or pyrogo's
once it speaks protocol 502), and reports what came back as JSON.

usage: pycall5.py   (with Pyro5 on PYTHONPATH; internal/pytest.RunCalls5 runs it)

Reads one JSON object from stdin: {"serializer": name, "steps": [step...]}
and prints one JSON object {"serializer": ..., "pyro5": version,
"results": [result...]}, one result per step, in order. A step is:

  name         a label, copied into the result
  op           call (default), getattr, setattr, batch, stream, metadata,
               bind, wait, locate_ns, resolve
  uri          the object's URI (PYRO:, PYRONAME:, PYROMETA:)
  method       the method (call, stream, wait)
  args         a Python expression for the argument tuple, e.g. "(1, 'a')"
  kwargs       a Python expression for the keyword argument dict
  attr, value  the attribute and a Python expression for its new value
               (getattr, setattr)
  batch        [{"method", "args", "kwargs"}...] made in one Pyro5 batch;
               "oneway": true sends it as a oneway batch
  oneway       (call) makes the proxy treat the method as oneway
  take         (stream) items to take before closing the stream (default:
               all); "check_closed": true then asks Pyro.Daemon for the
               next item until it says the stream is gone
  equals       (wait) a Python expression: the call is repeated until its
               result equals it, for up to "bound" seconds (default 20)
  follow       {"method", "args"}: called on every proxy in the result
               (autoproxies); the answers are the result's "followed"
  proxy        a name: steps with the same name share one proxy (and its
               connection), released at the end; without it each step
               has its own proxy, released after the step
  serializer   overrides the run's serializer for this step
  timeout      the proxy's _pyroTimeout (default 20 s)
  handshake    a Python expression for _pyroHandshake; the daemon's
               answer is the result's "handshake"
  passphrase   connect with the README's pyrogo_proxy (pyrogo's passphrase
               authentication, testdata/auth/client.py)
  annotations  {"NAME": "text"} request annotations; correlation_id: a
               UUID string; the result's "response_annotations" has what
               the reply carried (text, or "hex:..." when not UTF-8)
  host, port, broadcast   (locate_ns) Pyro5.core.locate_ns's arguments

A result is {"name", "ok": true, "type": "<module.class>", "value":
canon(result)} or {"name", "ok": false, "class": "<module.class of the
exception>", "message": str(e), "args": canon(e.args), "remote": whether
it carries a remote traceback, "traceback_tail": the last line of that
traceback}, plus "flags": the header flags of the last reply received for
the step, as they were on the wire. The server's address is written
<location> in error messages, so that runs can be compared. canon()
describes a value with its Python types, so that the Go tests can compare
exactly (sets and dicts are sorted; a proxy is ["proxy", object id, or
"obj_*" for a generated id]).

The expressions are test data written by the Go tests; datetime, uuid and
Pyro5.api are importable in them.
"""

import datetime  # noqa: F401 (used by the argument expressions)
import json
import os
import sys
import time
import uuid

import Pyro5
import Pyro5.api
import Pyro5.callcontext
import Pyro5.client
import Pyro5.core
import Pyro5.errors
import Pyro5.protocol

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "auth"))


def qualname(x):
    t = type(x)
    return "%s.%s" % (t.__module__, t.__qualname__)


def canon(v):
    """A JSON-able description of a value including its Python types."""
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
    if isinstance(v, (bytes, bytearray, memoryview)):
        return ["bytes", bytes(v).hex()]
    if isinstance(v, tuple):
        return ["tuple", [canon(x) for x in v]]
    if isinstance(v, list):
        return ["list", [canon(x) for x in v]]
    if isinstance(v, (set, frozenset)):
        return [type(v).__name__, sorted((canon(x) for x in v), key=json.dumps)]
    if isinstance(v, dict):
        return ["dict", sorted(([canon(k), canon(x)] for k, x in v.items()), key=json.dumps)]
    if isinstance(v, Pyro5.client.Proxy):
        obj = v._pyroUri.object
        return ["proxy", "obj_*" if obj.startswith("obj_") else obj]
    if isinstance(v, Pyro5.core.URI):
        return ["uri", str(v)]
    if isinstance(v, uuid.UUID):
        return ["uuid", str(v)]
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return [type(v).__name__, v.isoformat()]
    if isinstance(v, BaseException):
        return ["exception", qualname(v), canon(v.args)]
    return ["other", qualname(v), repr(v)]


def proxies_in(v):
    if isinstance(v, Pyro5.client.Proxy):
        yield v
    elif isinstance(v, (list, tuple, set, frozenset)):
        for x in v:
            yield from proxies_in(x)
    elif isinstance(v, dict):
        for k in sorted(v, key=lambda k: json.dumps(canon(k))):
            yield from proxies_in(v[k])


# The header flags of every reply this client receives, as they were on
# the wire (Pyro5 clears FLAGS_COMPRESSED once it has decompressed).
reply_flags = []
_add_payload = Pyro5.protocol.ReceivingMessage.add_payload


def recording_add_payload(self, payload):
    reply_flags.append(self.flags)
    return _add_payload(self, payload)


Pyro5.protocol.ReceivingMessage.add_payload = recording_add_payload


class ShakeProxy(Pyro5.api.Proxy):
    def _pyroValidateHandshake(self, response):
        self.__dict__["_shake_response"] = response


shared = {}


def make_proxy(step, serializer):
    if "passphrase" in step:
        from client import pyrogo_proxy
        p = pyrogo_proxy(step["uri"], step["passphrase"], base=Pyro5.api.Proxy)
    elif "handshake" in step:
        p = ShakeProxy(step["uri"])
        p._pyroHandshake = eval(step["handshake"])
    else:
        p = Pyro5.api.Proxy(step["uri"])
    p._pyroSerializer = serializer
    p._pyroTimeout = step.get("timeout", 20)
    return p


def get_proxy(step, serializer):
    name = step.get("proxy")
    if name is None:
        return make_proxy(step, serializer), True
    if name not in shared:
        shared[name] = make_proxy(step, serializer)
    return shared[name], False


# (text, replacement) pairs that take the server's address out of error
# messages, so that they can be compared from run to run; set per step.
locations = []


def set_locations(uri):
    del locations[:]
    if not uri or "@" not in uri:
        return
    loc = uri.split("@", 1)[1]
    locations.append((loc, "<location>"))
    host, _, port = loc.rpartition(":")
    if port.isdigit():
        locations.append(("(%r, %s)" % (host.strip("[]"), port), "<location>"))


def unlocate(v):
    if isinstance(v, str):
        for old, new in locations:
            v = v.replace(old, new)
        return v
    if isinstance(v, list):
        return [unlocate(x) for x in v]
    return v


def error_result(e):
    tb = getattr(e, "_pyroTraceback", None)
    tail = ""
    if tb:
        lines = [ln for ln in "".join(tb).splitlines() if ln.strip()]
        tail = lines[-1] if lines else ""
    try:
        args = canon(e.args)
    except Exception:  # an exception with odd args
        args = ["other", "args", repr(e.args)]
    return {"ok": False, "class": qualname(e), "message": unlocate(str(e)), "args": unlocate(args),
            "remote": bool(tb), "traceback_tail": unlocate(tail)}


def ok_result(v):
    return {"ok": True, "type": qualname(v), "value": canon(v)}


def call_args(d):
    return eval(d.get("args") or "()"), eval(d.get("kwargs") or "{}")


def do_call(p, step):
    if step.get("oneway"):
        if not p._pyroMethods and not p._pyroAttrs:
            p._pyroBind()
        p._pyroOneway.add(step["method"])
    args, kwargs = call_args(step)
    return getattr(p, step["method"])(*args, **kwargs)


def do_stream(p, step):
    args, kwargs = call_args(step)
    it = getattr(p, step["method"])(*args, **kwargs)
    items = []
    take = step.get("take")
    try:
        for x in it:
            items.append(x)
            if take is not None and len(items) >= take:
                break
    except Exception as e:
        r = error_result(e)
        r["items"] = canon(items)
        return r
    r = {"ok": True, "type": qualname(it), "value": canon(items)}
    if take is not None:
        sid = getattr(it, "streamId", None)
        it.close()
        if step.get("check_closed") and sid is not None:
            r["after_close"] = stream_gone(p, sid, step)
    return r


def stream_gone(p, sid, step):
    """Asks Pyro.Daemon for the next item of a closed stream until it says
    the stream is gone (close_stream is oneway, so it may take a moment)."""
    u = Pyro5.core.URI(str(p._pyroUri))
    u.object = Pyro5.core.DAEMON_NAME
    d = make_proxy(dict(step, uri=str(u)), p._pyroSerializer)
    deadline = time.time() + step.get("bound", 20)
    try:
        while True:
            try:
                v = d.get_next_stream_item(sid)
            except StopIteration:
                return {"ok": True, "type": "StopIteration", "value": ["None"]}
            except Exception as e:
                return error_result(e)
            if time.time() > deadline:
                return {"ok": True, "type": "still open", "value": canon(v)}
            time.sleep(0.02)
    finally:
        d._pyroRelease()


def do_batch(p, step):
    b = Pyro5.api.BatchProxy(p)
    for bc in step["batch"]:
        args, kwargs = call_args(bc)
        getattr(b, bc["method"])(*args, **kwargs)
    if step.get("oneway"):
        return ok_result(b(oneway=True))
    items = []
    try:
        for r in b():
            items.append(ok_result(r))
    except Exception as e:  # the call that ended the batch
        items.append(error_result(e))
    return {"ok": True, "type": "batch", "value": ["batch", items]}


def do_wait(p, step):
    args, kwargs = call_args(step)
    want = canon(eval(step["equals"]))
    deadline = time.time() + step.get("bound", 20)
    pause = 0.005
    while True:
        v = getattr(p, step["method"])(*args, **kwargs)
        if canon(v) == want or time.time() > deadline:
            return v
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def value_op(p, step, op):
    """The raw result of a step whose result is one value."""
    if op == "call":
        return do_call(p, step)
    if op == "getattr":
        return getattr(p, step["attr"])
    if op == "setattr":
        setattr(p, step["attr"], eval(step["value"]))
        return None
    if op == "bind":
        return p._pyroBind()
    if op == "metadata":
        p._pyroBind()
        return {"methods": set(p._pyroMethods), "oneway": set(p._pyroOneway), "attrs": set(p._pyroAttrs)}
    if op == "wait":
        return do_wait(p, step)
    raise ValueError("unknown op %r" % op)


def follow(value, step, serializer):
    f = step["follow"]
    followed = []
    for q in proxies_in(value):
        try:
            q._pyroSerializer = serializer
            q._pyroTimeout = step.get("timeout", 20)
            args, kwargs = call_args(f)
            followed.append(ok_result(getattr(q, f["method"])(*args, **kwargs)))
        except Exception as e:
            followed.append(error_result(e))
        finally:
            q._pyroRelease()
    return followed


def run_step(step, serializer):
    """Runs one step; returns its result and the proxy it used (or None)."""
    op = step.get("op", "call")
    if op == "locate_ns":
        ns = Pyro5.core.locate_ns(step.get("host", ""), step.get("port"), step.get("broadcast", True))
        with ns:
            ns._pyroSerializer = serializer
            ns.ping()
            return ok_result(ns._pyroUri), None
    if op == "resolve":
        return ok_result(Pyro5.core.resolve(step["uri"])), None
    p, own = get_proxy(step, serializer)
    try:
        if op == "stream":
            return do_stream(p, step), p
        if op == "batch":
            return do_batch(p, step), p
        v = value_op(p, step, op)
        r = ok_result(v)
        if "follow" in step:
            r["followed"] = follow(v, step, serializer)
        return r, p
    except Exception as e:  # every failure is the result
        return error_result(e), p
    finally:
        if "handshake" in step:
            shake[0] = p.__dict__.get("_shake_response")
        if own:
            p._pyroRelease()


shake = [None]


def main():
    req = json.load(sys.stdin)
    default_ser = req.get("serializer", "serpent")
    ctx = Pyro5.callcontext.current_context
    results = []
    for step in req["steps"]:
        serializer = step.get("serializer", default_ser)
        ctx.annotations = {k: v.encode("utf-8") for k, v in step.get("annotations", {}).items()}
        ctx.correlation_id = uuid.UUID(step["correlation_id"]) if step.get("correlation_id") else None
        ctx.response_annotations = {}
        del reply_flags[:]
        shake[0] = None
        set_locations(step.get("uri"))
        try:
            r, _ = run_step(step, serializer)
        except Exception as e:  # every failure is the result
            r = error_result(e)
        if "handshake" in step:
            r["handshake"] = canon(shake[0])
        if ctx.response_annotations:
            r["response_annotations"] = {k: annotation_text(v) for k, v in sorted(ctx.response_annotations.items())}
        if reply_flags:
            r["flags"] = reply_flags[-1]
        r["name"] = step.get("name", "")
        results.append(r)
    for p in shared.values():
        p._pyroRelease()
    ctx.annotations = {}
    ctx.correlation_id = None
    json.dump({"serializer": default_ser, "pyro5": Pyro5.__version__, "results": results}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def annotation_text(v):
    b = bytes(v)
    try:
        s = b.decode("utf-8")
        if s.isprintable():
            return s
    except UnicodeDecodeError:
        pass
    return "hex:" + b.hex()


if __name__ == "__main__":
    main()
