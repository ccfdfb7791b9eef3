"""A Python Pyro4 client authenticating to a pyrogo daemon that requires a
passphrase (Daemon.SetAllowedIdentifications).

The lines from "import hashlib" to "# end of README snippet" are the ones
README.md shows; TestPassphrasePythonClient runs this script and checks
that README.md still shows the same lines.

usage: client.py URI PASSPHRASE
Prints "echo: 'hi'; reconnect with the same handshake refused: True" and
exits 0, or prints "error: ..." and exits 1 when the daemon refuses.
"""
import sys

uri, passphrase = sys.argv[1], sys.argv[2]

import hashlib, hmac, os, time
import Pyro4

def pyrogo_auth(passphrase, data="hello"):
    """A fresh proof of the passphrase, for one connection."""
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), b"pyrogo passphrase v1", 100000)
    nonce, ts = os.urandom(16).hex(), int(time.time())
    mac = hmac.new(key, ("pyrogo-auth-v1\n%s\n%d" % (nonce, ts)).encode(), hashlib.sha256).hexdigest()
    return {"auth": "pyrogo-auth-v1", "nonce": nonce, "time": ts, "mac": mac, "data": data}

proxy = Pyro4.Proxy(uri)
proxy._pyroHandshake = pyrogo_auth(passphrase)  # again before any reconnect
# end of README snippet

try:
    result = proxy.echo("hi")
except Pyro4.errors.CommunicationError as e:
    print("error:", e)
    sys.exit(1)

# reconnecting with the same handshake value is a replay: refused
proxy._pyroRelease()
try:
    proxy._pyroBind()
    replay_refused = False
except Pyro4.errors.CommunicationError:
    replay_refused = True
print("echo: %r; reconnect with the same handshake refused: %s" % (result, replay_refused))
