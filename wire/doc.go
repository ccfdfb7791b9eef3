// Package wire reads and writes Pyro messages of both wire protocols:
// Pyro4's 48 (24-byte header with its checksum, annotation chunks with
// 16-bit lengths, HMAC-SHA1 message signing) byte for byte as Pyro4 4.82
// does, and Pyro5's 502 (40-byte header with a correlation id and a magic
// number, 32-bit annotation lengths, no HMAC) byte for byte as Pyro5's
// protocol.py does; with zlib compression and size limits for both (see
// spec.md in the repository root).
//
// A message on the wire is
//
//	header (24 or 40 bytes) | annotation chunks | payload
//
// The version field is at offset 4 in both headers, so the first six bytes
// tell the protocol (SniffProtocol). ReadMessage accepts the protocol
// Options.Protocol names (48 by default), or either with
// Options.AnyProtocol, and records it in Message.Version; the writer uses
// Message.Version or Options.Protocol. Message.Flags and Message.CorrID are
// protocol-neutral: the flag bits Pyro5 numbers differently are
// translated, and the correlation id is the 502 header's or 48's CORR
// annotation.
//
// ReadMessage checks, in Pyro's order, the magic and version, the
// checksum (48) or magic number (502), the size limit, then reads
// annotations and payload and checks the HMAC. It never trusts a length
// before checking it against the limit, and it allocates only as fast as
// bytes actually arrive, so a header that claims 2 GiB followed by ten
// bytes costs ten bytes, and a large payload costs at most 1.5 times its
// size. Annotations are bounded (64 KiB, 256 chunks) in both protocols.
// Compressed payloads are inflated within the limit without ever holding
// more than the inflated size plus 1 MiB, so a zip bomb costs one bounded
// buffer. With Options.Budget set, every allocation is charged to the
// budget before it is made.
//
// AppendMessage builds a message in one buffer; AppendFrame returns the
// header and the payload apart, so that a large payload is written without
// being copied.
package wire
