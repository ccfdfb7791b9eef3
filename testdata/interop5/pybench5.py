"""Python Pyro5 client throughput: N echo calls of a 48-character string.

Usage: pybench5.py URI N   (serializer from PYRO_SERIALIZER; Pyro5 on PYTHONPATH)

Prints one JSON line: {"serializer": ..., "calls": N, "seconds": ..., "calls_per_sec": ...}.
The connection is made (and metadata fetched) before timing starts.
"""

import json
import sys
import time

import Pyro5.api
from Pyro5 import config

uri, n = sys.argv[1], int(sys.argv[2])
payload = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
assert len(payload) == 48

with Pyro5.api.Proxy(uri) as p:
    p._pyroBind()
    for _ in range(50):  # warm up
        p.echo(payload)
    echo = p.echo
    t0 = time.perf_counter()
    for _ in range(n):
        if echo(payload) != payload:
            raise SystemExit("wrong echo")
    dt = time.perf_counter() - t0

print(json.dumps({"serializer": config.SERIALIZER, "calls": n, "seconds": dt, "calls_per_sec": n / dt}))
