"""The README's pyrogo_proxy with base=Pyro5.api.Proxy, against a Python
Pyro5 daemon that plays pyrogo's side of pyrogo-auth-v2: a challenge in
the handshake response, no metadata before the proof,
Pyro.Daemon.authenticate checking the endpoint and the MAC, and the
daemon's own proof in the answer: it shows that the snippet's hooks
(_pyroValidateHandshake, _pyroInvoke with objectId, _pyroRelease,
_pyroConnection.sock) work the same in Pyro5. TestPassphrasePyro5Shape
runs it; TestInterop5Passphrase runs the snippet against Go daemons over
protocol 502.

usage: pyro5_shape.py   (with Pyro5 on PYTHONPATH)
Prints one JSON line: {"right": ..., "wrong": ..., "open": ..., "calls": [...]}
"""
import hashlib
import hmac
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import pyrogo_proxy  # noqa: E402

import Pyro5.api  # noqa: E402
import Pyro5.callcontext  # noqa: E402
import Pyro5.errors  # noqa: E402
import Pyro5.server  # noqa: E402

PASSPHRASE = "pyro5 pass phrase"
KEY = hashlib.pbkdf2_hmac("sha256", PASSPHRASE.encode(), b"pyrogo passphrase v1", 100000)
state = threading.local()
calls = []


def mac(side, fields):
    return hmac.new(KEY, ("pyrogo-auth-v2\n%s\n%s" % (side, fields)).encode(), "sha256").hexdigest()


class AuthDaemonObject(Pyro5.server.DaemonObject):
    @Pyro5.server.expose
    def authenticate(self, cnonce, endpoint, certhash, client_mac):
        conn = Pyro5.callcontext.current_context.client
        challenge, conn.pyrogo_challenge = getattr(conn, "pyrogo_challenge", None), None
        calls.append("authenticate")
        if challenge is None:
            raise Pyro5.errors.SecurityError("security reasons: no authentication pending on this connection")
        if endpoint != "%s:%d" % conn.sock.getsockname()[:2] or certhash:
            raise Pyro5.errors.SecurityError("security reasons: the proof is for another server")
        fields = "\n".join((challenge, cnonce, endpoint, certhash))
        if not hmac.compare_digest(client_mac, mac("client", fields)):
            raise Pyro5.errors.SecurityError("security reasons: authentication failed")
        conn.pyrogo_identity = "py5"
        return {"mac": mac("server", fields), "data": "hello"}

    @Pyro5.server.expose
    def get_metadata(self, objectId):
        if getattr(state, "pending", False):  # the CONNECTOK: nothing before the proof
            state.pending = False
            return {}
        calls.append("get_metadata")
        return super().get_metadata(objectId)


class AuthDaemon(Pyro5.server.Daemon):
    def validateHandshake(self, conn, data):
        if not isinstance(data, dict) or data.get("auth") != "pyrogo-auth-v2":
            raise Pyro5.errors.SecurityError("security reasons: passphrase authentication required")
        conn.pyrogo_challenge = os.urandom(32).hex()
        state.pending = True
        return {"auth": "pyrogo-auth-v2", "challenge": conn.pyrogo_challenge}


@Pyro5.api.expose
class Echo:
    def echo(self, x):
        calls.append("echo")
        return x


def serve(daemon):
    uri = daemon.register(Echo(), "echo")
    threading.Thread(target=daemon.requestLoop, daemon=True).start()
    return uri


def attempt(uri, passphrase):
    proxy = pyrogo_proxy(uri, passphrase, base=Pyro5.api.Proxy)
    proxy._pyroTimeout = 20
    try:
        return {"ok": True, "echo": proxy.echo("hi")}
    except Exception as e:
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "connected": proxy._pyroConnection is not None}
    finally:
        proxy._pyroRelease()


def main():
    auth = AuthDaemon(host="127.0.0.1", interface=AuthDaemonObject)
    plain = Pyro5.server.Daemon(host="127.0.0.1")
    auth_uri, plain_uri = serve(auth), serve(plain)
    out = {
        "right": attempt(auth_uri, PASSPHRASE),
        "wrong": attempt(auth_uri, "wrong"),
        "open": attempt(plain_uri, PASSPHRASE),
        "calls": list(calls),
    }
    auth.shutdown()
    plain.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
