// Command vcsim-launcher starts govmomi's vCenter/ESX simulator (vcsim) for the
// vim-sdk test suite.
//
// Debian packages govmomi only as a Go library (golang-github-vmware-govmomi-dev,
// 0.24.2), so the project carries this small launcher. It builds in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o target/vcsim/vcsim-launcher ./vim-sdk/vcsim
//
// Once the server listens, the launcher prints exactly one JSON line on stdout:
//
//	{"url":"https://127.0.0.1:PORT/sdk","thumbprint_sha1":"AA:..","thumbprint_sha256":"..","cert_file":"..."}
//
// (the thumbprints and cert_file are empty strings without -tls), then serves until
// stdin reaches end of file or SIGINT/SIGTERM arrives, and shuts down cleanly
// (closes the listener, removes the datastore directories the model created).
// It only ever listens on a loopback address.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// unset marks an integer flag the user did not give: the model's default applies.
const unset = -1

// sizes holds the inventory-size flags; each maps to one simulator.Model field.
type sizes struct {
	datacenter, cluster, clusterHost, standaloneHost int
	machine, pool, folder, datastore, portgroup      int
	portgroupNSX, opaqueNetwork, app, pod            int
}

// options holds every command-line setting of the launcher.
type options struct {
	model     string
	sizes     sizes
	autostart bool
	tls       bool
	listen    string
	username  string
	password  string
	certOut   string
	stdinEOF  bool
	trace     bool
	delayMS   int
}

// startupInfo is the JSON line printed once the server listens.
type startupInfo struct {
	URL              string `json:"url"`
	ThumbprintSHA1   string `json:"thumbprint_sha1"`
	ThumbprintSHA256 string `json:"thumbprint_sha256"`
	CertFile         string `json:"cert_file"`
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("vcsim-launcher", flag.ContinueOnError)
	fs.StringVar(&o.model, "model", "vpx", "inventory model: vpx (vCenter) or esx (standalone ESX host)")
	sizeFlag := func(p *int, name, usage string) {
		fs.IntVar(p, name, unset, usage+" (default: the model's own)")
	}
	s := &o.sizes
	sizeFlag(&s.datacenter, "dc", "vpx: number of datacenters")
	sizeFlag(&s.cluster, "cluster", "vpx: clusters per datacenter")
	sizeFlag(&s.clusterHost, "host", "vpx: hosts per cluster")
	sizeFlag(&s.standaloneHost, "standalone-host", "vpx: standalone hosts per datacenter")
	sizeFlag(&s.machine, "vm", "VMs per standalone host, per cluster root pool and per vApp (esx: on the host)")
	sizeFlag(&s.pool, "pool", "vpx: child resource pools per cluster (they hold no VMs)")
	sizeFlag(&s.folder, "folder", "vpx: datacenters placed inside a folder")
	sizeFlag(&s.datastore, "ds", "local datastores, mounted on every host")
	sizeFlag(&s.portgroup, "portgroup", "vpx: distributed port groups per datacenter")
	sizeFlag(&s.portgroup, "pg", "alias of -portgroup")
	sizeFlag(&s.portgroupNSX, "nsx-pg", "vpx: NSX-backed distributed port groups per datacenter")
	sizeFlag(&s.opaqueNetwork, "nsx", "vpx: opaque (NSX) networks per datacenter")
	sizeFlag(&s.app, "app", "vpx: vApps per cluster")
	sizeFlag(&s.pod, "pod", "vpx: storage pods per datacenter")
	fs.BoolVar(&o.autostart, "autostart", true, "power on the VMs the model creates")
	fs.BoolVar(&o.tls, "tls", false, "serve HTTPS with the simulator's self-signed certificate")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	fs.StringVar(&o.username, "username", "", "accept only this user name (default: any non-empty user and password)")
	fs.StringVar(&o.password, "password", "", "accept only this password (with -username)")
	fs.StringVar(&o.certOut, "cert-out", "", "with -tls: write the server certificate (PEM) to this file")
	fs.BoolVar(&o.stdinEOF, "exit-on-stdin-eof", true, "shut down when stdin reaches end of file")
	fs.BoolVar(&o.trace, "trace", false, "log every SOAP request and response to stderr")
	fs.IntVar(&o.delayMS, "delay", 0, "delay every SOAP call by this many milliseconds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if (o.username == "") != (o.password == "") {
		return nil, errors.New("-username and -password go together")
	}
	if o.certOut != "" && !o.tls {
		return nil, errors.New("-cert-out needs -tls")
	}
	if o.delayMS < 0 {
		return nil, errors.New("-delay must not be negative")
	}
	return o, nil
}

// buildModel returns the simulator model the options describe.
func buildModel(o *options) (*simulator.Model, error) {
	s := o.sizes
	all := []struct {
		name  string
		value int
		vpx   bool
	}{
		{"dc", s.datacenter, true},
		{"cluster", s.cluster, true},
		{"host", s.clusterHost, true},
		{"standalone-host", s.standaloneHost, true},
		{"pool", s.pool, true},
		{"folder", s.folder, true},
		{"portgroup", s.portgroup, true},
		{"nsx-pg", s.portgroupNSX, true},
		{"nsx", s.opaqueNetwork, true},
		{"app", s.app, true},
		{"pod", s.pod, true},
		{"vm", s.machine, false},
		{"ds", s.datastore, false},
	}

	var m *simulator.Model
	switch o.model {
	case "vpx":
		m = simulator.VPX()
	case "esx":
		m = simulator.ESX()
	default:
		return nil, fmt.Errorf("-model must be vpx or esx, not %q", o.model)
	}
	fields := map[string]*int{
		"dc": &m.Datacenter, "cluster": &m.Cluster, "host": &m.ClusterHost,
		"standalone-host": &m.Host, "pool": &m.Pool, "folder": &m.Folder,
		"portgroup": &m.Portgroup, "nsx-pg": &m.PortgroupNSX, "nsx": &m.OpaqueNetwork,
		"app": &m.App, "pod": &m.Pod, "vm": &m.Machine, "ds": &m.Datastore,
	}
	for _, f := range all {
		if f.value == unset {
			continue
		}
		if f.value < 0 {
			return nil, fmt.Errorf("-%s must not be negative", f.name)
		}
		if f.vpx && o.model != "vpx" {
			return nil, fmt.Errorf("-%s applies only to -model vpx", f.name)
		}
		*fields[f.name] = f.value
	}
	if m.Datastore == 0 && m.Machine > 0 {
		// The model places every VM on LocalDS_0.
		return nil, errors.New("VMs need a datastore: -ds 0 requires -vm 0")
	}
	m.Autostart = o.autostart
	m.DelayConfig.Delay = o.delayMS
	return m, nil
}

// loopbackHostPort checks that addr is host:port with a loopback host and returns it
// with "localhost" replaced by 127.0.0.1.
func loopbackHostPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-listen %q: %v", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("-listen %q: refusing to listen on a non-loopback address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("-listen %q: bad port", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// thumbprint formats a digest as colon-separated upper-case hex pairs, as vSphere does.
func thumbprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// startServer starts the HTTP(S) server, turning the simulator's panics into errors.
// loopbackCertificate makes a self-signed ECDSA P-256 server certificate (not a CA) valid for
// 127.0.0.1, ::1 and localhost for one day.
func loopbackCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vcsim loopback"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func startServer(m *simulator.Model) (srv *simulator.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("starting the server: %v", r)
		}
	}()
	return m.Service.NewServer(), nil
}

func run(o *options) error {
	hostPort, err := loopbackHostPort(o.listen)
	if err != nil {
		return err
	}
	simulator.Trace = o.trace

	m, err := buildModel(o)
	if err != nil {
		return err
	}
	// Remove the temporary datastore directories whatever happens next.
	defer m.Remove()
	if err = m.Create(); err != nil {
		return fmt.Errorf("creating the %s inventory: %v", o.model, err)
	}

	listen := &url.URL{Host: hostPort}
	if o.username != "" {
		listen.User = url.UserPassword(o.username, o.password)
	}
	m.Service.Listen = listen
	if o.tls {
		// govmomi 0.24's built-in test certificate has a 1024-bit RSA key, which rustls/ring
		// refuse for handshake signatures; serve a fresh ECDSA P-256 one instead.
		cert, err := loopbackCertificate()
		if err != nil {
			return fmt.Errorf("creating the TLS certificate: %v", err)
		}
		m.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}

	srv, err := startServer(m)
	if err != nil {
		return err
	}
	defer srv.Close()

	addr, ok := srv.Listener.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() {
		return fmt.Errorf("server bound to non-loopback address %v", srv.Listener.Addr())
	}
	info := startupInfo{URL: (&url.URL{Scheme: "http", Host: addr.String(), Path: "/sdk"}).String()}
	if o.tls {
		cert := srv.Certificate()
		sha1Sum := sha1.Sum(cert.Raw)
		sha256Sum := sha256.Sum256(cert.Raw)
		info.URL = (&url.URL{Scheme: "https", Host: addr.String(), Path: "/sdk"}).String()
		info.ThumbprintSHA1 = thumbprint(sha1Sum[:])
		info.ThumbprintSHA256 = thumbprint(sha256Sum[:])
		if o.certOut != "" {
			block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
			if err = ioutil.WriteFile(o.certOut, block, 0o644); err != nil {
				return fmt.Errorf("writing -cert-out: %v", err)
			}
			info.CertFile = o.certOut
		} else {
			// A temporary file, removed by srv.Close().
			if info.CertFile, err = srv.CertificateFile(); err != nil {
				return fmt.Errorf("writing the certificate file: %v", err)
			}
		}
	}

	line, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if _, err = fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		return fmt.Errorf("writing the startup line: %v", err)
	}

	stop := make(chan string, 2)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() { stop <- "signal " + (<-signals).String() }()
	if o.stdinEOF {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			stop <- "stdin closed"
		}()
	}
	reason := <-stop
	fmt.Fprintf(os.Stderr, "vcsim-launcher: %s, shutting down %s\n", reason, info.URL)
	return nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "vcsim-launcher: %v\n", err)
		os.Exit(2)
	}
	if err = run(o); err != nil {
		fmt.Fprintf(os.Stderr, "vcsim-launcher: %v\n", err)
		os.Exit(1)
	}
}
