# Calls whoami() through each URI given (PYRONAME:/PYROMETA: included) and
# prints "<uri> -> <result>" or "<uri> !! <class>: <message>".
import sys
import Pyro4

for u in sys.argv[1:]:
    try:
        with Pyro4.Proxy(u) as p:
            print("%s -> %s" % (u, p.whoami()))
    except Exception as e:
        print("%s !! %s: %s" % (u, type(e).__name__, e))
