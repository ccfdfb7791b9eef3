"""Shared helpers of the event-server test peers: pick Pyro4 or Pyro5 and
configure it the way the peers need. Run the peers with "python -u"."""
import sys


class Lib:
    """The parts of Pyro4 or Pyro5 the peers use, under one set of names."""

    def __init__(self, pyro5):
        self.pyro5 = pyro5
        if pyro5:
            import Pyro5.api
            import Pyro5.errors
            import Pyro5.server
            api = Pyro5.api
            self.config = api.config
            self.errors = Pyro5.errors
            self.server = Pyro5.server
        else:
            import Pyro4 as api
            import Pyro4.errors
            self.config = api.config
            self.errors = Pyro4.errors
            self.server = None
        self.api = api
        self.Daemon = api.Daemon
        self.Proxy = api.Proxy
        self.URI = api.URI
        self.expose = api.expose
        self.oneway = api.oneway

    def ordered_oneway(self):
        """Make oneway calls run one after the other on the connection's
        own thread, so a subscriber records events in the order they came
        off the wire (Pyro4: ONEWAY_THREADED=False; Pyro5 has no such
        setting and always starts a thread per oneway call, so the peer
        runs that thread's body inline instead)."""
        if self.pyro5:
            self.server._OnewayCallThread.start = lambda th: th.run()
        else:
            self.config.ONEWAY_THREADED = False

    def uri_of(self, sub):
        """The subscriber's URI as a string: sub is a proxy, a URI or a
        URI string (sent by a client that did not send a proxy)."""
        if isinstance(sub, self.Proxy):
            return str(sub._pyroUri)
        if isinstance(sub, self.URI):
            return str(sub)
        if isinstance(sub, str):
            return str(self.URI(sub))
        raise TypeError("subscriber must be a proxy, a URI or a URI string, not %s" % type(sub).__name__)


def take_pyro5(argv):
    """Remove a leading --pyro5 flag from argv; True when it was there."""
    if "--pyro5" in argv:
        argv.remove("--pyro5")
        return True
    return False


def die(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(2)
