"""Pyro5 wire frames for package wire's tests, made and parsed by the real
Pyro5 (Pyro5/protocol.py): run with PYTHONPATH set to the Pyro5 source.

    pyro5_frames.py emit    one JSON line per frame that Pyro5's SendingMessage
                            builds: {"name", "frame" (hex), and the message's
                            fields as the sender set them}
    pyro5_frames.py parse   reads JSON lines {"name", "frame" (hex)} on stdin
                            and parses each with Pyro5's recv_stub, answering
                            one JSON line per frame: the fields Pyro5 read, or
                            {"error": "<class>: <text>"}
"""

import json
import sys
import uuid

from Pyro5 import config, errors, protocol
from Pyro5.callcontext import current_context


def emit():
    corr = uuid.UUID("25bfe292-9a47-47fd-b360-f482c5dc1e27")
    big = b"".join(b"pyro5 payload %04d; " % i for i in range(40))  # 800 bytes, compresses
    # (name, type, flags, seq, serializer id, payload, annotations, correlation id, compression)
    cases = [
        ("connect", protocol.MSG_CONNECT, 0, 0, 1, b"{'handshake':'hello','object':'Pyro.NameServer'}", None, None, False),
        ("connectok_corr", protocol.MSG_CONNECTOK, 0, 0, 1, b"{'handshake':'hello','meta':{}}", None, corr, False),
        ("connectfail", protocol.MSG_CONNECTFAIL, 0, 3, 2, b"\xfa\x1dinvalid protocol version: 48", None, None, False),
        ("invoke", protocol.MSG_INVOKE, 0, 1, 3, b'{"object":"obj","method":"echo","params":[1,2],"kwargs":{}}', None, None, False),
        ("invoke_annotations", protocol.MSG_INVOKE, 0, 2, 4, b"\x94\xa3obj\xa4echo\x90\x80",
         {"XANN": b"hello", "BLBI": b"\x00" * 40, "EMPT": b""}, None, False),
        ("result_corr_annotations", protocol.MSG_RESULT, 0, 2, 4, b"\xa5hello", {"STRM": b"stream-id-1"}, corr, False),
        ("exception", protocol.MSG_RESULT, protocol.FLAGS_EXCEPTION, 9, 1, b"{'__class__':'builtins.ValueError'}", None, corr, False),
        ("oneway", protocol.MSG_INVOKE, protocol.FLAGS_ONEWAY, 10, 1, b"('obj','fire',(),{})", None, None, False),
        ("batch", protocol.MSG_INVOKE, protocol.FLAGS_BATCH, 11, 1, b"('obj','<batch>',(),{})", None, None, False),
        ("itemstream", protocol.MSG_RESULT, protocol.FLAGS_EXCEPTION | protocol.FLAGS_ITEMSTREAMRESULT, 12, 1,
         b"{'__class__':'Pyro5.errors.ProtocolError'}", {"STRM": b"0123"}, corr, False),
        ("keepserialized", protocol.MSG_INVOKE, protocol.FLAGS_KEEPSERIALIZED, 13, 1, b"blob", {"BLBI": b"info"}, None, False),
        ("corr_flag_zero_id", protocol.MSG_INVOKE, protocol.FLAGS_CORR_ID, 14, 1, b"x", None, None, False),
        ("high_flags", protocol.MSG_INVOKE, 0x8180, 15, 1, b"x", None, None, False),
        ("ping", protocol.MSG_PING, 0, 0, 42, b"ping", None, None, False),
        ("pong", protocol.MSG_PING, 0, 65535, 42, b"pong", None, corr, False),
        ("compressed", protocol.MSG_RESULT, 0, 16, 1, big, None, corr, True),
        ("compressed_annotations", protocol.MSG_INVOKE, protocol.FLAGS_ONEWAY, 17, 3, big, {"XANN": b"not compressed"}, None, True),
        ("short_not_compressed", protocol.MSG_INVOKE, 0, 18, 1, b"y" * 100, None, None, True),
        ("compressed_101", protocol.MSG_INVOKE, 0, 19, 1, b"z" * 101, None, None, True),
        ("empty", protocol.MSG_RESULT, 0, 20, 255, b"", None, None, False),
    ]
    for name, typ, flags, seq, ser, payload, anns, corr_id, compression in cases:
        config.COMPRESSION = compression
        current_context.correlation_id = corr_id
        msg = protocol.SendingMessage(typ, flags, seq, ser, payload, annotations=anns)
        print(json.dumps({
            "name": name,
            "frame": msg.data.hex(),
            "type": typ,
            "flags": msg.flags,
            "seq": seq,
            "ser": ser,
            "data": payload.hex(),
            "corr": corr_id.bytes.hex() if corr_id else "",
            "anns": [[k, v.hex()] for k, v in (anns or {}).items()],
        }))
    config.COMPRESSION = False
    current_context.correlation_id = None


class Conn:
    """What recv_stub needs of a connection: recv(n) returns n bytes."""

    def __init__(self, data):
        self.data = data

    def recv(self, size):
        if len(self.data) < size:
            raise errors.ConnectionClosedError("receiving: not enough data")
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def parse():
    config.MAX_MESSAGE_SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else config.MAX_MESSAGE_SIZE
    for line in sys.stdin:
        req = json.loads(line)
        conn = Conn(bytes.fromhex(req["frame"]))
        try:
            msg = protocol.recv_stub(conn)
        except Exception as x:
            print(json.dumps({"name": req["name"], "error": "%s: %s" % (type(x).__name__, x)}))
            continue
        print(json.dumps({
            "name": req["name"],
            "type": msg.type,
            "flags": msg.flags,   # after decompression, without FLAGS_COMPRESSED
            "seq": msg.seq,
            "ser": msg.serializer_id,
            "data": bytes(msg.data).hex(),
            "corr": bytes(msg.corr_id).hex(),
            "anns": [[k, bytes(v).hex()] for k, v in msg.annotations.items()],
            "left": len(conn.data),
        }))


if __name__ == "__main__":
    {"emit": emit, "parse": parse}[sys.argv[1]]()
