"""Serialized blobs (Pyro's SerializedBlob, FLAGS_KEEPSERIALIZED and the
BLBI annotation) between Python Pyro4/Pyro5 and pyrogo.

usage: blob.py 4|5 server
           serves a Sink as "sink" on 127.0.0.1 and prints "READY <uri>";
           sink.take(blob) answers {"info": blob.info,
           "args": blob.deserialized(), "size": bytes of the body}
       blob.py 4|5 client URI SERIALIZER
           calls take and forward on URI (a Go blobSink) with
           SerializedBlob(["info", 7], ["one", 2, [3.5]]) and prints one
           JSON line {"take": ..., "forward": ..., "kwargs_refused": ...}

With 4, Pyro4 is used (installed); with 5, Pyro5 (on PYTHONPATH).
"""
import json
import sys

gen, mode = sys.argv[1], sys.argv[2]
if gen == "4":
    import Pyro4 as pyro
    from Pyro4.core import SerializedBlob
    expose = pyro.expose
else:
    import Pyro5.api as pyro
    from Pyro5.api import SerializedBlob, expose
    from Pyro5 import config as pyro5config


@expose
class Sink(object):
    def take(self, blob):
        return {"info": blob.info, "args": list(blob.deserialized()), "size": len(blob._data.data)}


if mode == "server":
    daemon = pyro.Daemon(host="127.0.0.1")
    uri = daemon.register(Sink(), "sink")
    print("READY %s" % uri, flush=True)
    daemon.requestLoop()
    sys.exit(0)

uri, serializer = sys.argv[3], sys.argv[4]
if gen == "4":
    pyro.config.SERIALIZER = serializer
else:
    pyro5config.SERIALIZER = serializer
out = {}
with pyro.Proxy(uri) as p:
    blob = SerializedBlob(["info", 7], ["one", 2, [3.5]])
    out["take"] = p.take(blob)
    out["forward"] = p.forward(blob)
    try:
        p.take(blob, x=1)
        out["kwargs_refused"] = False
    except Exception as e:
        out["kwargs_refused"] = type(e).__name__
print(json.dumps(out))
