package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"switchboard/store"
)

// CertificateKey is the setting that holds the HTTPS certificate and its
// private key (PEM). Being in the store, it travels with every backup, so a
// restored box keeps the certificate its users already trust.
const CertificateKey = "https_certificate"

// storedCertificate is the JSON value of CertificateKey.
type storedCertificate struct {
	CertPEM string `json:"cert_pem"`
	KeyPEM  string `json:"key_pem"`
}

// certValidity is long: a LAN box's self-signed certificate is trusted by
// hand once (by its fingerprint), and renewing it would undo that.
const certValidity = 10 * 365 * 24 * time.Hour

// Certificate returns the HTTPS certificate kept in the store; at first run
// it creates a self-signed one (ECDSA P-256) for localhost, this host's name,
// 127.0.0.1 and every local IPv4 address, and stores it.
func Certificate(st *store.Store) (tls.Certificate, error) {
	var sc storedCertificate
	err := st.Setting(CertificateKey, &sc)
	if errors.Is(err, store.ErrNotFound) {
		fresh, genErr := newSelfSigned(certHosts(), time.Now())
		if genErr != nil {
			return tls.Certificate{}, fmt.Errorf("create the HTTPS certificate: %w", genErr)
		}
		// SettingOrInit: if another process stored one meanwhile, that one wins.
		sc, err = store.SettingOrInit(st, CertificateKey, func() storedCertificate { return fresh })
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("HTTPS certificate: %w", err)
	}
	cert, err := tls.X509KeyPair([]byte(sc.CertPEM), []byte(sc.KeyPEM))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("HTTPS certificate in setting %s: %w", CertificateKey, err)
	}
	return cert, nil
}

// Fingerprint is the certificate's SHA-256 fingerprint as browsers show it
// ("AB:CD:…"), so a user can check it before trusting the certificate.
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// certHosts are the names and addresses the certificate is valid for.
func certHosts() []string {
	hosts := []string{"localhost", "127.0.0.1"}
	if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
		hosts = append(hosts, name)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip := ipn.IP.To4(); ip != nil && !ip.IsLoopback() {
					hosts = append(hosts, ip.String())
				}
			}
		}
	}
	return hosts
}

func newSelfSigned(hosts []string, now time.Time) (storedCertificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return storedCertificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return storedCertificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Switchboard", Organization: []string{"Switchboard phone system"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(tmpl.DNSNames) > 0 {
		tmpl.Subject.CommonName = tmpl.DNSNames[len(tmpl.DNSNames)-1]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return storedCertificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return storedCertificate{}, err
	}
	if len(der) == 0 || len(keyDER) == 0 {
		return storedCertificate{}, errors.New("empty certificate")
	}
	return storedCertificate{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}, nil
}
