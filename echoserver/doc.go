// Package echoserver is the Go twin of Pyro's test echo servers
// (Pyro4.test.echoserver and Pyro5.utils.echoserver): the same object id,
// methods and attribute, so that clients written for
// pyro4-test-echoserver or Pyro5's echo server work against it unchanged.
// The two Python servers differ only in the text of error()'s ValueError;
// the Go server answers each client as its generation's server would,
// telling them apart by the protocol of the call's connection (48 or
// 502, pyro.ConnInfo.Protocol).
package echoserver
