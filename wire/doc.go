// Package wire reads and writes Pyro4 protocol-48 messages: the 24-byte
// header with its checksum, annotation chunks, zlib compression, size
// limits and HMAC-SHA1 message signing, byte for byte as Pyro4 4.82 does
// (see spec.md in the repository root, and the protocol doc §1).
//
// A message on the wire is
//
//	header (24 bytes) | annotation chunks | payload
//
// ReadMessage checks, in Pyro's order, the magic and version, the
// checksum, the size limit, then reads annotations and payload and checks
// the HMAC. It never trusts a length before checking it against the limit,
// and it allocates only as fast as bytes actually arrive, so a header that
// claims 2 GiB followed by ten bytes costs ten bytes, and a large payload
// costs at most 1.5 times its size. Compressed payloads are inflated
// within the limit without ever holding more than the inflated size plus
// 1 MiB, so a zip bomb costs one bounded buffer. With Options.Budget set,
// every allocation is charged to the budget before it is made.
//
// AppendMessage builds a message in one buffer; AppendFrame returns the
// header and the payload apart, so that a large payload is written without
// being copied.
package wire
