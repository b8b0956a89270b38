package asymmetric_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log"
	"net/http"
	"os"

	"github.com/kernkeys/kernkeys/asymmetric"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

// An HTTPS server whose private key lives only in the kernel: the PKCS#8
// key is loaded into the session keyring and wiped; the server keeps only
// the certificate and the key's ID.
func Example_tlsServer() {
	certPEM, err := os.ReadFile("server.crt")
	if err != nil {
		log.Fatal(err)
	}
	keyPEM, err := os.ReadFile("server.key") // "PRIVATE KEY": PKCS#8, RSA
	if err != nil {
		log.Fatal(err)
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		log.Fatal("server.crt or server.key is not PEM")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	kk, err := keytypes.New(keyring.Session(), "server key", keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: keyBlock.Bytes})
	keyring.Wipe(keyBlock.Bytes)
	keyring.Wipe(keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	// The connections sign on any thread: let the user's threads find the
	// key whether or not they possess it.
	possessor := (keyring.PermView | keyring.PermSearch | keyring.PermLink | keyring.PermSetattr).Possessor()
	if err := kk.SetPerm(possessor | (keyring.PermView | keyring.PermSearch).User()); err != nil {
		log.Fatal(err)
	}
	key, err := asymmetric.New(kk, cert.PublicKey)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{
		Addr: ":8443",
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}},
		},
	}
	log.Fatal(server.ListenAndServeTLS("", ""))
}
