//! The cockpit over TLS (rustls): `edulake serve --tls-cert FILE --tls-key FILE`, a
//! certificate chain and its private key in PEM files. Each connection's handshake has
//! [`HANDSHAKE`] to finish; HTTP/1.1 and HTTP/2 are offered; every answer says
//! `Strict-Transport-Security`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt;

/// The longest a TLS handshake may take.
pub const HANDSHAKE: Duration = Duration::from_secs(10);

/// A server's TLS configuration.
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ServerConfig>,
}

impl Tls {
    /// Reads a certificate chain and its key (PEM).
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Tls> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .with_context(|| format!("--tls-cert {}", cert.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("--tls-cert {}: not a PEM certificate", cert.display()))?;
        if certs.is_empty() {
            anyhow::bail!("--tls-cert {}: no certificate in it", cert.display());
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("--tls-key {}: not a PEM private key", key.display()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("--tls-cert and --tls-key do not make a pair")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            config: Arc::new(config),
        })
    }
}

/// Serves `app` over TLS on `listener` until the process ends; each request carries the
/// address it came from, as over plain HTTP.
pub async fn serve(listener: tokio::net::TcpListener, app: Router, tls: Tls) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, say: wait a little rather than spin.
                tracing::warn!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!("TLS handshake with {addr}: {e}");
                    return;
                }
                Err(_) => return,
            };
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(addr));
                    let app = app.clone();
                    async move {
                        let mut response = app.oneshot(request.map(axum::body::Body::new)).await?;
                        // Browsers that saw the cockpit over TLS keep to it.
                        response.headers_mut().insert(
                            axum::http::header::STRICT_TRANSPORT_SECURITY,
                            axum::http::HeaderValue::from_static("max-age=31536000"),
                        );
                        Ok::<_, std::convert::Infallible>(response)
                    }
                },
            );
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("connection from {addr}: {e}");
            }
        });
    }
}
