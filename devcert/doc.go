// Package devcert makes a development certificate authority with a server
// and a client certificate, so that TLS and mutual TLS between pyrogo and
// Pyro4 peers work in a minute (`pyro certs DIR`). The keys are ECDSA
// P-256, the certificates valid for one year. They are meant for
// development and tests, not for production PKI.
package devcert
