"""Python Pyro4 TLS daemon for pyrogo's TLS interop tests (Go proxy -> Python daemon).

Usage: pyserver_tls.py

The TLS settings come from the PYRO_SSL* environment variables the test
sets (PYRO_SSL, PYRO_SSL_SERVERCERT, PYRO_SSL_SERVERKEY, PYRO_SSL_CACERTS,
PYRO_SSL_REQUIRECLIENTCERT), exactly as a Pyro4 user configures them. The
daemon binds to localhost, registers a Probe as "probe", prints
"READY <uri>" and serves until killed.
"""

import Pyro4


@Pyro4.expose
class Probe(object):
    def echo(self, x):
        return x

    def peer(self):
        """The client certificate's common name, or None without one."""
        cert = Pyro4.current_context.client.getpeercert()
        if not cert:
            return None
        subject = dict(p[0] for p in cert["subject"])
        return subject.get("commonName")

    def conn_id(self):
        """The client's address: a new connection has a new port."""
        return "%s:%d" % Pyro4.current_context.client.sock.getpeername()[:2]

    def tls_version(self):
        return Pyro4.current_context.client.sock.version()


def main():
    assert Pyro4.config.SSL, "PYRO_SSL not set"
    daemon = Pyro4.Daemon(host="localhost")
    uri = daemon.register(Probe(), "probe")
    print("READY", uri)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
