"""A Pyro4 daemon for the console's browser test: on 127.0.0.1, with an
Inventory object registered in the name server at argv[1]:argv[2] as
http.py.inventory (metadata lang:python, kind:store). Prints READY when
registered; runs until killed."""
import sys

import Pyro4


@Pyro4.expose
class Inventory(object):
    def __init__(self):
        self._items = {"apples": 3}

    def add(self, item, qty=1):
        self._items[item] = self._items.get(item, 0) + qty
        return {"item": item, "qty": self._items[item], "items": sorted(self._items)}

    def remove(self, item):
        if item not in self._items:
            raise KeyError(item)
        return self._items.pop(item)

    @Pyro4.oneway
    def audit(self, note=None):
        pass

    @property
    def total(self):
        return sum(self._items.values())


def main():
    ns_host, ns_port = sys.argv[1], int(sys.argv[2])
    daemon = Pyro4.Daemon(host="127.0.0.1", port=0)
    ns = Pyro4.locateNS(host=ns_host, port=ns_port)
    ns.register("http.py.inventory", daemon.register(Inventory(), "inventory"),
                metadata={"lang:python", "kind:store"})
    ns._pyroRelease()
    print("READY", daemon.locationStr)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
