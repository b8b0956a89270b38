// Package asymmetric signs and decrypts with a private key the process can
// never read: an "asymmetric" key held by the Linux kernel, used through
// the kernel's public-key operations (keyctl_pkey_*(3), Linux 4.20). The
// package is named after the kernel's key type.
//
// [New] wraps a keyring.Key and its public key in a [Key], a crypto.Signer
// and crypto.Decrypter: a crypto/tls server can serve a certificate whose
// private key lives only in the kernel (tls.Certificate{Certificate:
// chain, PrivateKey: key}). Load the private key with add_key(2) as a
// PKCS#8 DER PrivateKeyInfo (keytypes.New with keytypes.TypeAsymmetric)
// under a description of your choosing (a PKCS#8 key gives the kernel no
// name, and add_key without one is EINVAL; a certificate names itself),
// wipe the bytes, and keep the certificate.
//
// # What the kernel offers (Linux 6.1, crypto/asymmetric_keys/)
//
// The "asymmetric" type has no read: the kernel never gives a key back,
// not even its public part. KEYCTL_PKEY_QUERY reports the size and the
// operations; so [New] takes the public key from the caller (the
// certificate's) and checks it against the kernel's key.
//
// The PKCS#8 parser (pkcs8_parser.c, CONFIG_PKCS8_PRIVATE_KEY_PARSER)
// takes RSA keys only (rsaEncryption; anything else is ENOPKG, which
// matches keyring.ErrNotSupported like every ENOPKG); X.509
// certificates (CONFIG_X509_CERTIFICATE_PARSER) give RSA or ECDSA public
// keys, which verify and encrypt but neither sign nor decrypt.
//
// The encodings (public_key.c, software_key_determine_akcipher): for RSA,
// "pkcs1" (PKCS#1 v1.5, with hash=sha1, sha224, sha256, sha384, sha512,
// md5 or rmd160 for signatures, or no hash) and "raw" (no padding, no
// hash); for ECDSA, "x962" with a SHA-1 or SHA-2 hash, verify only (6.1's
// ecdsa has no sign). There is no RSA-PSS and no OAEP (6.18 neither:
// pkey_query answers enc=pss and enc=oaep with EINVAL, observed on the
// host). [Key.Sign] makes
// PSS signatures anyway, which TLS 1.3 requires of RSA keys: it encodes
// the digest (EMSA-PSS) in the process, where nothing secret is involved,
// and has the kernel apply the private key with enc=raw. OAEP decryption
// is refused: its decoding would run on the kernel's raw output here, and
// is left to kernels that have it.
//
// # Kernel options
//
// CONFIG_ASYMMETRIC_KEY_TYPE and CONFIG_ASYMMETRIC_PUBLIC_KEY_SUBTYPE,
// CONFIG_X509_CERTIFICATE_PARSER for certificates,
// CONFIG_PKCS8_PRIVATE_KEY_PARSER for private keys, CONFIG_CRYPTO_RSA,
// and CONFIG_CRYPTO_ECDSA for ECDSA certificates.
//
// # Lifetime and threads
//
// A Key holds a keyring.Key, a value: nothing to close. The kernel key
// lives while a keyring links it. Every operation finds the key by its ID
// and needs SEARCH permission: possession, through a keyring the calling
// thread holds, or a grant to the user. A crypto/tls server signs on its
// connections' goroutines, on any thread: keep the key in a keyring all
// threads hold, the process keyring or the session keyring the process
// started with (not one a single locked thread joined), or grant the user
// SEARCH (keyring.Key.SetPerm).
//
// # Errors
//
// Every error is a *keyring.Error. Options the kernel cannot honour
// (PSS verification, OAEP, a hash it has no DigestInfo for) are refused
// before any system call with a Reason that names what is missing:
// keyring.ErrNotSupported where the kernel lacks an encoding,
// keyring.ErrInvalid with Refused set for input that cannot work.
package asymmetric
