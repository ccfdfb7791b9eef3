# client.py URI MODULE: ship MODULE (signed: MODULE.sig) to the server, run it there, print the summary
import sys, Pyro4

uri, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as f, open(path + ".sig") as s:
    module, signature = f.read(), s.read()
with Pyro4.Proxy(uri) as mobile_code:
    mid = mobile_code.load(module, signature)
    print(mobile_code.call(mid, "hot", 33.5))
    mobile_code.unload(mid)
