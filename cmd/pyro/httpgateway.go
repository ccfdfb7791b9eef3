package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway"
	"github.com/pyrogo/pyro/naming"
)

const httpgatewayHelp = `
Httpgateway runs Pyro4's HTTP gateway (pyro4-httpgateway): browsers and
programs in any language call Pyro objects with HTTP and JSON:

    GET|POST http://HOST:PORT/pyro/NAME/METHOD?param=value...

NAME is looked up in the name server (located as Pyro4.locateNS does:
PYRO_NS_HOST, PYRO_NS_PORT, broadcast; or -n/--nsport), METHOD is called
with the parameters as string keyword arguments, and the JSON result is
the answer; NAME/$meta lists the methods and attributes. Headers:
X-Pyro-Options: oneway, X-Pyro-Correlation-Id, X-Pyro-Gateway-Key. The
web console is at /pyro/. Any Pyro4 or Pyro5 daemon may be behind it.

Only names matching the -e regex (Python syntax, matched at the start of
the name; default http\.) are reachable; "" exposes everything. The
gateway key (required of every request when set) comes from
PYRO_HTTPGATEWAY_KEY, --gateway-key-file, or -g (deprecated: visible in
the process list). Binding to a non-loopback address without a key logs a
warning. -t bounds each request's Pyro work (default 30 s; Pyro4's
default is 0, forever, which this gateway does not offer).

Browsers are kept from being used against the gateway: on a loopback
address, a request whose Host header is not an IP address, localhost,
this machine's name or an --allow-host name is refused (DNS rebinding);
a call a browser marks as coming from another site or origin
(Sec-Fetch-Site, Origin) is refused unless its origin is an
--allow-origin (CSRF). Programs (Python, curl, node) send neither header.

HTTPS: --tls-cert and --tls-key (PEM files). The --ssl-* flags are for the
Pyro side (name server and daemons), as are -k, PYRO_HMAC_KEY and
--key-file.

Exit status: 0 after a signal; 1 when the gateway cannot run; 2 for usage
errors.`

func runHTTPGateway(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	return httpgatewayMain(ctx, args, stdout, stderr, environ, nil)
}

// httpgatewayMain is the command; ready (tests) gets the base URL once
// the gateway serves.
func httpgatewayMain(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string, ready func(url string)) int {
	fs := newFlagSet("httpgateway", "httpgateway [-H host] [-p port] [-e regex] [-g gatewaykey] [-t timeout] [-k key] [--tls-cert F --tls-key F] [--metrics ADDR]", httpgatewayHelp, stderr)
	var host, expose, gwKey, gwKeyFile, key, nsHost, tlsCert, tlsKey string
	var metricsAddr string
	var port, nsPort int
	var timeout float64
	for _, n := range []string{"H", "host"} {
		fs.StringVar(&host, n, "localhost", "`hostname` to bind the server on")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&port, n, 8080, "`port` to bind the server on")
	}
	for _, n := range []string{"e", "expose"} {
		fs.StringVar(&expose, n, gateway.DefaultExpose, "a `regex` of object names to expose")
	}
	for _, n := range []string{"g", "gatewaykey"} {
		fs.StringVar(&gwKey, n, "", "the api `key` clients must send (deprecated: visible to other local users; use PYRO_HTTPGATEWAY_KEY)")
	}
	for _, n := range []string{"k", "pyrokey"} {
		fs.StringVar(&key, n, "", keyFlagHelp)
	}
	for _, n := range []string{"t", "timeout"} {
		fs.Float64Var(&timeout, n, gateway.DefaultTimeout.Seconds(), "bound on each request's Pyro work, in `seconds` (0: the default)")
	}
	var allowHosts, allowOrigins listFlag
	fs.Var(&allowHosts, "allow-host", "also accept this `name` in the Host header of requests on loopback (repeatable; DNS rebinding protection refuses other names)")
	fs.Var(&allowOrigins, "allow-origin", "let pages of this web `origin` (https://app.example) make browsers call objects (repeatable; \"*\": any; cross-site browser requests are refused otherwise)")
	fs.StringVar(&gwKeyFile, "gateway-key-file", "", "read the gateway api key from `file` (mode 0600)")
	fs.StringVar(&nsHost, "n", "", "the name server's `host` (default: located as Pyro4.locateNS does)")
	fs.IntVar(&nsPort, "nsport", 0, "the name server's `port` (default NS_PORT)")
	fs.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with the certificate PEM `file`")
	fs.StringVar(&tlsKey, "tls-key", "", "the private key PEM `file` of --tls-cert")
	addMetricsFlag(fs, &metricsAddr)
	tf := addTLSFlags(fs, tlsClient)
	sf := addSecretFlags(fs, false)
	lf := addLogFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments: %q", fs.Args())
	}
	if (tlsCert == "") != (tlsKey == "") {
		return usageError(fs, "--tls-cert and --tls-key go together")
	}
	if timeout < 0 {
		return usageError(fs, "-t must not be negative")
	}
	if key != "" || gwKey != "" {
		fmt.Fprintln(stderr, "Warning: using -k and/or -g to supply keys on the command line is a security problem "+
			"(other local users see them in the process list); use PYRO_HMAC_KEY / --key-file and PYRO_HTTPGATEWAY_KEY / --gateway-key-file.")
	}
	cfg, passphrases, err := commandConfig(environ, key, tf, sf, stderr)
	if err != nil {
		return failf(stderr, "httpgateway", exitUsage, "%v", err)
	}
	if envKey, ok := getenv(environ, "PYRO_HTTPGATEWAY_KEY"); ok {
		if gwKey != "" || gwKeyFile != "" {
			return failf(stderr, "httpgateway", exitUsage, "don't use -g or --gateway-key-file and PYRO_HTTPGATEWAY_KEY at the same time")
		}
		gwKey = envKey
	}
	gatewayKey := []byte(gwKey)
	if gwKeyFile != "" {
		if gwKey != "" {
			return failf(stderr, "httpgateway", exitUsage, "use only one of -g and --gateway-key-file")
		}
		if gatewayKey, err = pyro.ReadKeyFile(gwKeyFile); err != nil {
			return failf(stderr, "httpgateway", exitUsage, "%v", err)
		}
	}
	logger, closeLog, err := lf.logger(cfg, nil, stderr)
	if err != nil {
		return failf(stderr, "httpgateway", exitUsage, "%v", err)
	}
	defer closeLog()
	var popts []pyro.ProxyOption
	if len(passphrases) > 0 {
		popts = append(popts, pyro.WithIdentification(passphrases[0]))
	}
	gopts := []gateway.Option{gateway.WithExpose(expose), gateway.WithGatewayKey(gatewayKey), gateway.WithLogger(logger),
		gateway.WithProxyOptions(popts...), gateway.WithAllowedHosts(allowHosts...), gateway.WithAllowedOrigins(allowOrigins...)}
	if timeout > 0 {
		gopts = append(gopts, gateway.WithTimeout(time.Duration(timeout*float64(time.Second))))
	}
	var lopts []naming.LocateOption
	if nsHost != "" {
		lopts = append(lopts, naming.WithNSHost(nsHost))
	}
	if nsPort != 0 {
		lopts = append(lopts, naming.WithNSPort(nsPort))
	}
	gopts = append(gopts, gateway.WithLocateOptions(lopts...))
	g, err := gateway.New(cfg, gopts...)
	if err != nil {
		return failf(stderr, "httpgateway", exitUsage, "%v", err)
	}
	defer g.Close()

	out := &syncWriter{w: stdout}
	if expose != "" {
		fmt.Fprintln(out, "Exposing objects with names matching: ", expose)
	} else {
		fmt.Fprintln(out, "Warning: exposing all objects (no expose regex set)")
	}
	if len(gatewayKey) > 0 {
		fmt.Fprintln(out, "Requiring the gateway api key.")
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := g.Ping(lctx); err != nil {
		fmt.Fprintln(out, "Not yet connected to a name server.")
	} else {
		fmt.Fprintln(out, "Connected to name server at: ", g.NameServerURI())
	}
	cancel()
	met, err := listenMetrics(metricsAddr, logger)
	if err != nil {
		return failf(stderr, "httpgateway", exitRemote, "%v", err)
	}
	defer met.stop()
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return failf(stderr, "httpgateway", exitRemote, "%v", err)
	}
	srv := g.NewServer(l.Addr().String())
	if met != nil {
		srv.Handler = met.reg.InstrumentHandler("gateway", srv.Handler)
	}
	scheme := "http"
	if tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
		if err != nil {
			l.Close()
			return failf(stderr, "httpgateway", exitUsage, "--tls-cert/--tls-key: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(srv, l) }()
	url := scheme + "://" + l.Addr().String()
	fmt.Fprintf(out, "Pyro HTTP gateway running on %s/pyro/\n", url)
	met.run(out)
	if ready != nil {
		ready(url)
	}
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-done:
		failf(stderr, "httpgateway", 0, "%v", err)
		return exitRemote
	}
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		failf(stderr, "httpgateway", 0, "warning: shutdown: %v", err)
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		failf(stderr, "httpgateway", 0, "%v", err)
		code = exitRemote
	}
	fmt.Fprintln(out, "Pyro HTTP gateway stopped.")
	return code
}
