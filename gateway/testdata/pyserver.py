"""Objects for the gateway's differential tests: a Pyro4 daemon on
127.0.0.1 with objects registered in the name server at argv[1]:argv[2]
under http.thing (exposed by the default regex) and secret.thing (not
exposed). Prints READY when registered; runs until killed."""
import sys

import Pyro4


@Pyro4.expose
class Thing(object):
    def __init__(self):
        self._value = 42

    def echo(self, message=None):
        return message

    def add(self, a, b):
        return a + b

    def greet(self, name="world"):
        return u"h\u00e9llo " + name + u" \u2603 \U0001F600"

    def fail(self):
        raise ValueError(u"bad thing \u00e9")

    def nested(self):
        return {"a": [1, 2.5, None, True, False], "b": {"c": "d"}, "e": 1e300, "f": -0.0, "g": 1.0 / 3}

    def many(self, **kw):
        return kw

    @Pyro4.oneway
    def fire(self, x=None):
        pass

    @property
    def value(self):
        return self._value


def main():
    ns_host, ns_port = sys.argv[1], int(sys.argv[2])
    daemon = Pyro4.Daemon(host="127.0.0.1", port=0)
    ns = Pyro4.locateNS(host=ns_host, port=ns_port)
    ns.register("http.thing", daemon.register(Thing(), "thing"))
    ns.register("secret.thing", daemon.register(Thing(), "secret"))
    ns._pyroRelease()
    print("READY", daemon.locationStr)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
