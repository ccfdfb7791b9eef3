// Package netnstest gives tests a private network: two Linux network
// namespaces joined by a veth pair, in which servers may bind wildcard
// addresses and send real broadcasts without touching the machine's own
// network. Tests that use it are skipped where namespaces cannot be made
// (not root, no iproute2, not Linux).
package netnstest
