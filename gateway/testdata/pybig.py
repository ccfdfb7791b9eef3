"""A hostile daemon for the gateway's attack tests: a Pyro4 daemon on
127.0.0.1 with http.big registered in the name server at argv[1]:argv[2];
big(n) answers a string of n bytes, items(n) a list of n empty lists (made once, so that the daemon's own
cost stays out of the Go test process). Prints READY; runs until killed."""
import sys

import Pyro4

_cache = {}


@Pyro4.expose
class Big(object):
    def big(self, n):
        n = int(n)
        if n not in _cache:
            _cache[n] = "x" * n
        return _cache[n]

    def items(self, n):
        """n empty lists: 4 bytes of JSON each, dozens of bytes each
        once decoded."""
        return [[]] * int(n)


def main():
    ns_host, ns_port = sys.argv[1], int(sys.argv[2])
    daemon = Pyro4.Daemon(host="127.0.0.1", port=0)
    ns = Pyro4.locateNS(host=ns_host, port=ns_port)
    ns.register("http.big", daemon.register(Big(), "big"))
    ns._pyroRelease()
    print("READY", daemon.locationStr)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
