# A Python daemon that registers an object in a name server and serves it.
# usage: py_server.py NSHOST NSPORT NAME TAG...
# prints "READY <uri>" when registered.
import sys
import Pyro4


@Pyro4.expose
class Thing(object):
    def whoami(self):
        return "python"

    def echo(self, x):
        return x


host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
daemon = Pyro4.Daemon(host="127.0.0.1")
uri = daemon.register(Thing())
ns = Pyro4.locateNS(host, port)
ns.register(name, uri, metadata=set(sys.argv[4:]))
print("READY %s" % uri)
daemon.requestLoop()
