"""Python Pyro4 TLS client for pyrogo's TLS interop tests (Python proxy -> Go daemon).

Usage: pyclient_tls.py URI [URI...]

The TLS settings come from the PYRO_SSL* environment variables the test
sets (PYRO_SSL, PYRO_SSL_CACERTS, PYRO_SSL_CLIENTCERT, PYRO_SSL_CLIENTKEY).
For each URI (of a pyrogo tlsProbe object) it calls echo('hi') and
peer(), and prints one JSON line: {"ok": true, "echo": ..., "peer": ...,
"serial": <server certificate serial from getpeercert()>} or
{"ok": false, "error": "<class>: <message>"}.
"""

import json
import sys

import Pyro4
import Pyro4.errors


class CertProxy(Pyro4.Proxy):
    """Records the server certificate's serial, as the ssl example does."""

    def _pyroValidateHandshake(self, response):
        cert = self._pyroConnection.getpeercert()
        if not cert:
            raise Pyro4.errors.CommunicationError("server cert missing")
        self.__dict__["_server_serial"] = cert["serialNumber"]


def main():
    assert Pyro4.config.SSL, "PYRO_SSL not set"
    for uri in sys.argv[1:]:
        try:
            with CertProxy(uri) as p:
                p._pyroTimeout = 10
                out = {"ok": True, "echo": p.echo("hi"), "peer": p.peer(), "serial": p._server_serial}
        except Exception as e:
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
