// Package echoserver is the Go twin of Pyro4's test echo server
// (Pyro4.test.echoserver): the same object id, methods and attribute, so
// that clients written for pyro4-test-echoserver work against it
// unchanged.
package echoserver
