package devcert

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBundleMutualTLS(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := b.ServerTLS(true)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		cli, _ := b.ClientTLS(true)
		cli.ServerName = host
		c, err := tls.Dial("tcp", ln.Addr().String(), cli)
		if err != nil {
			t.Fatalf("mutual TLS to %s: %v", host, err)
		}
		c.Write([]byte("x"))
		buf := make([]byte, 1)
		if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 'x' {
			t.Errorf("echo over TLS: %v", err)
		}
		c.Close()
	}
	// a wrong host name is refused by hostname verification
	cli, _ := b.ClientTLS(true)
	cli.ServerName = "evil.example"
	raw, _ := net.Dial("tcp", ln.Addr().String())
	if raw != nil {
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		c := tls.Client(raw, cli)
		if err := c.Handshake(); err == nil {
			t.Error("hostname mismatch accepted")
		}
		c.Close()
	}
}

func TestWriteModes(t *testing.T) {
	b, err := New("example.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{CACertFile: 0o644, ServerCertFile: 0o644, ServerKeyFile: 0o600, ClientCertFile: 0o644, ClientKeyFile: 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)); err != nil {
		t.Error(err)
	}
	if err := b.Write(dir); err == nil {
		t.Error("overwrote existing files")
	}
}
