"""A Python Pyro4 client authenticating to a pyrogo daemon that requires a
passphrase (Daemon.SetAllowedIdentifications), with pyrogo-auth-v2.

The lines from "import hashlib" to "# end of README snippet" are the ones
README.md shows; TestPassphrasePythonClient runs this script (with each
serializer, with and without TLS, through a relay) and checks that
README.md still shows the same lines.

usage: client.py URI PASSPHRASE
The serializer and the TLS settings come from the PYRO_* environment.
Prints one JSON line: {"ok": true, "echo": ..., "again": ...} where again
is the echo after a reconnect (a new challenge), or {"ok": false,
"error": "<class>: <message>", "connected": <whether the proxy kept the
connection>}.

pyro5_shape.py imports pyrogo_proxy from here to run it with Pyro5.
"""
import json
import sys

import hashlib, hmac, os
import Pyro4

def pyrogo_proxy(uri, passphrase, base=Pyro4.Proxy):
    """A proxy that proves the passphrase to a pyrogo daemon on every new
    connection, and checks that the daemon knows it too."""
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), b"pyrogo passphrase v1", 100000)

    class Proxy(base):
        def _pyroValidateHandshake(self, response):
            try:
                if not isinstance(response, dict) or response.get("auth") != "pyrogo-auth-v2":
                    raise PermissionError("the server did not ask for the passphrase")
                sock = self._pyroConnection.sock
                peer = sock.getpeername()  # the server as this socket sees it
                endpoint = "%s:%d" % peer[:2] if isinstance(peer, tuple) else os.fsdecode(peer)
                cert = sock.getpeercert(True) if hasattr(sock, "getpeercert") else None
                certhash = hashlib.sha256(cert).hexdigest() if cert else ""
                cnonce = os.urandom(16).hex()
                fields = "\n".join((response["challenge"], cnonce, endpoint, certhash))
                def mac(side):
                    text = "pyrogo-auth-v2\n%s\n%s" % (side, fields)
                    return hmac.new(key, text.encode(), "sha256").hexdigest()
                answer = self._pyroInvoke("authenticate", (cnonce, endpoint, certhash, mac("client")), {},
                                          objectId="Pyro.Daemon")
                if not hmac.compare_digest(answer["mac"], mac("server")):
                    raise PermissionError("the server does not know the passphrase")
            except BaseException:
                self._pyroRelease()
                raise

    proxy = Proxy(uri)
    proxy._pyroHandshake = {"auth": "pyrogo-auth-v2", "data": "hello"}
    return proxy

# end of README snippet


def main():
    uri, passphrase = sys.argv[1], sys.argv[2]
    proxy = pyrogo_proxy(uri, passphrase)
    proxy._pyroTimeout = 20
    try:
        result = proxy.echo("hi")
        # a new connection answers a new challenge
        proxy._pyroRelease()
        again = proxy.echo("hi")
        out = {"ok": True, "echo": result, "again": again}
    except Exception as e:
        out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "connected": proxy._pyroConnection is not None}
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
