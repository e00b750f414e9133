//! Test certificates, made with the openssl command line as a user would:
//! a CA, a server certificate for 127.0.0.1 and localhost signed by it, a
//! client certificate signed by it, and a second CA that signs nothing we
//! trust. Plus a small blocking rustls client to talk to `tls://` listeners.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::{TempDir, DEADLINE};

pub struct Certs {
    pub dir: TempDir,
}

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Certs {
    /// A CA (`ca.pem`), server certificates `server.pem` (serial 1001) and
    /// `server2.pem` (serial 2002) with their keys, a client certificate
    /// `client.pem`, and `stranger.pem`, a client certificate of another CA.
    pub fn new() -> Certs {
        let dir = TempDir::new();
        let d = &dir.path;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509"];
            args.extend_from_slice(&ec);
            let subject = format!("/CN=percore test {ca}");
            let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
            args.extend_from_slice(&[
                "-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject,
            ]);
            openssl(&args, d);
        }
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            d.join("client.ext"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        let signed = [
            ("server", "ca", "server.ext", "1001"),
            ("server2", "ca", "server.ext", "2002"),
            ("client", "ca", "client.ext", "3003"),
            ("stranger", "other-ca", "client.ext", "4004"),
        ];
        for (name, ca, ext, serial) in signed {
            let (key, csr, pem) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
            );
            let subject = format!("/CN={name}");
            let mut args = vec!["req"];
            args.extend_from_slice(&ec);
            args.extend_from_slice(&["-keyout", &key, "-out", &csr, "-subj", &subject]);
            openssl(&args, d);
            let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
            openssl(
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    &ca_pem,
                    "-CAkey",
                    &ca_key,
                    "-set_serial",
                    serial,
                    "-days",
                    "2",
                    "-extfile",
                    ext,
                    "-out",
                    &pem,
                ],
                d,
            );
        }
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path.join(name)
    }

    pub fn path_str(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    /// The DER of the first certificate in a PEM file.
    pub fn der(&self, name: &str) -> Vec<u8> {
        CertificateDer::from_pem_file(self.path(name))
            .expect("a PEM certificate")
            .to_vec()
    }
}

pub type TlsClient = StreamOwned<ClientConnection, TcpStream>;

/// Connects to a `tls://` listener trusting `ca`, presenting `identity`
/// (a certificate and key file) when given, and completes the handshake.
pub fn tls_connect(
    addr: SocketAddr,
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> io::Result<TlsClient> {
    tls_connect_with(addr, ca, identity, rustls::DEFAULT_VERSIONS)
}

/// [`tls_connect`] offering only `versions` of the protocol.
pub fn tls_connect_with(
    addr: SocketAddr,
    ca: &Path,
    identity: Option<(&Path, &Path)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> io::Result<TlsClient> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).expect("CA PEM"))
        .expect("a CA certificate");
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(cert).expect("client PEM")],
                PrivateKeyDer::from_pem_file(key).expect("client key"),
            )
            .expect("client identity"),
    };
    let name = ServerName::try_from("localhost").expect("a server name");
    let conn = ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    let tcp = TcpStream::connect_timeout(&addr, DEADLINE)?;
    tcp.set_read_timeout(Some(DEADLINE))?;
    tcp.set_write_timeout(Some(DEADLINE))?;
    let mut stream = StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}
