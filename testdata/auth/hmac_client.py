"""A Python Pyro4 client with an HMAC key (Pyro4's own HMAC).

usage: hmac_client.py URI KEY
Prints "echo: 'hi'", or "error: ..." and exits 1.
"""
import sys

import Pyro4

proxy = Pyro4.Proxy(sys.argv[1])
proxy._pyroHmacKey = sys.argv[2]
try:
    print("echo: %r" % (proxy.echo("hi"),))
except Pyro4.errors.CommunicationError as e:
    print("error:", e)
    sys.exit(1)
