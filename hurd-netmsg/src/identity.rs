//! Node identity: a key pair per node, peers named by the fingerprint of their
//! public key, and the TLS configuration that makes QUIC handshakes prove both.
//!
//! Each node presents a self-signed certificate made from its key at start-up.
//! Names and dates in it mean nothing: a peer is accepted when the SHA-256 of
//! the certificate's SubjectPublicKeyInfo is a configured peer's fingerprint and
//! the handshake signature verifies with that key. Both sides check (mutual
//! authentication); a peer that fails gets no application data at all, since
//! QUIC sends none before the handshake completes.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The ALPN protocol of node-to-node connections.
pub const ALPN: &[u8] = b"hurd-netmsg/1";
/// The ALPN protocol of `netmsg connect` probes: authenticated, then closed.
pub const ALPN_PROBE: &[u8] = b"hurd-netmsg-probe/1";
/// The server name used in handshakes (certificates are checked by key only).
pub const SERVER_NAME: &str = "netmsg";

/// The SHA-256 of a public key (its DER SubjectPublicKeyInfo), written
/// `sha256:` and 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER SubjectPublicKeyInfo.
    pub fn of_spki(spki: &[u8]) -> Fingerprint {
        let d = ring::digest::digest(&ring::digest::SHA256, spki);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Fingerprint(out)
    }

    /// The fingerprint of the key in a certificate; `None` if it does not parse.
    pub fn of_certificate(cert: &CertificateDer<'_>) -> Option<Fingerprint> {
        let ee = webpki::EndEntityCert::try_from(cert).ok()?;
        Some(Fingerprint::of_spki(ee.subject_public_key_info().as_ref()))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Fingerprint, String> {
        let bad = || format!("`{s}` is not a key fingerprint (sha256: and 64 hex digits)");
        let hex = s.strip_prefix("sha256:").ok_or_else(bad)?;
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

/// Why an identity could not be loaded or made.
#[derive(Debug)]
pub struct IdentityError(pub String);

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdentityError {}

/// A node's key pair and the certificate it presents.
pub struct Identity {
    key_pem: String,
    cert: CertificateDer<'static>,
    key_der: Vec<u8>,
    fingerprint: Fingerprint,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// A new random key pair (ECDSA P-256).
    ///
    /// # Errors
    ///
    /// When the system's random source or the certificate signing fails.
    pub fn generate() -> Result<Identity, IdentityError> {
        let kp = rcgen::KeyPair::generate()
            .map_err(|e| IdentityError(format!("cannot generate a key: {e}")))?;
        Identity::from_key_pair(kp)
    }

    /// The key in PEM text (PKCS#8).
    ///
    /// # Errors
    ///
    /// When `pem` is not a PKCS#8 private key of a kind TLS 1.3 can use.
    pub fn from_pem(pem: &str) -> Result<Identity, IdentityError> {
        let kp = rcgen::KeyPair::from_pem(pem)
            .map_err(|e| IdentityError(format!("not a usable PKCS#8 PEM private key: {e}")))?;
        Identity::from_key_pair(kp)
    }

    /// Reads a PEM key file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or holds no usable key (see
    /// [`Identity::from_pem`]); the message names the file.
    pub fn load(path: &Path) -> Result<Identity, IdentityError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| IdentityError(format!("{}: cannot read key: {e}", path.display())))?;
        Identity::from_pem(&pem).map_err(|e| IdentityError(format!("{}: {}", path.display(), e.0)))
    }

    fn from_key_pair(kp: rcgen::KeyPair) -> Result<Identity, IdentityError> {
        let params = rcgen::CertificateParams::new(vec![SERVER_NAME.to_owned()])
            .map_err(|e| IdentityError(format!("certificate parameters: {e}")))?;
        let cert = params
            .self_signed(&kp)
            .map_err(|e| IdentityError(format!("cannot sign the certificate: {e}")))?;
        Ok(Identity {
            key_pem: kp.serialize_pem(),
            fingerprint: Fingerprint::of_spki(&kp.public_key_der()),
            key_der: kp.serialize_der(),
            cert: cert.der().clone(),
        })
    }

    /// The private key as PEM text, for writing to a key file.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The fingerprint peers configure for this node.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// The TLS server side: requires a client certificate whose key is one of
    /// `trusted`.
    ///
    /// # Errors
    ///
    /// When rustls refuses the configuration (the key does not match the
    /// certificate).
    pub fn server_config(
        &self,
        trusted: Vec<Fingerprint>,
    ) -> Result<rustls::ServerConfig, IdentityError> {
        let provider = provider();
        let verifier = Arc::new(PeerVerifier {
            trusted,
            algorithms: provider.signature_verification_algorithms,
        });
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| IdentityError(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.cert.clone()], self.key())
            .map_err(|e| IdentityError(e.to_string()))?;
        cfg.alpn_protocols = vec![ALPN.to_vec(), ALPN_PROBE.to_vec()];
        Ok(cfg)
    }

    /// The TLS client side for dialing the peer whose key is `expected`.
    ///
    /// # Errors
    ///
    /// When rustls refuses the configuration (the key does not match the
    /// certificate).
    pub fn client_config(
        &self,
        expected: Fingerprint,
        alpn: &[u8],
    ) -> Result<rustls::ClientConfig, IdentityError> {
        let provider = provider();
        let verifier = Arc::new(PeerVerifier {
            trusted: vec![expected],
            algorithms: provider.signature_verification_algorithms,
        });
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| IdentityError(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![self.cert.clone()], self.key())
            .map_err(|e| IdentityError(e.to_string()))?;
        cfg.alpn_protocols = vec![alpn.to_vec()];
        Ok(cfg)
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts exactly the certificates whose key is in `trusted`, and checks the
/// handshake signature with that key.
#[derive(Debug)]
struct PeerVerifier {
    trusted: Vec<Fingerprint>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PeerVerifier {
    fn check(&self, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        match Fingerprint::of_certificate(cert) {
            Some(fp) if self.trusted.contains(&fp) => Ok(()),
            Some(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            )),
        }
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_and_print() {
        let id = Identity::generate().expect("key");
        let text = id.fingerprint().to_string();
        assert_eq!(text.parse::<Fingerprint>(), Ok(id.fingerprint()));
        assert!("sha256:12".parse::<Fingerprint>().is_err());
        assert!("md5:00".parse::<Fingerprint>().is_err());
        assert_eq!(
            Fingerprint::of_certificate(&id.cert),
            Some(id.fingerprint()),
            "the certificate carries the key's fingerprint"
        );
    }

    #[test]
    fn keys_survive_pem() {
        let id = Identity::generate().expect("key");
        let again = Identity::from_pem(id.key_pem()).expect("reload");
        assert_eq!(again.fingerprint(), id.fingerprint());
        assert!(Identity::from_pem("not a key").is_err());
    }
}
