//! The client's address, for the login limiter. Directly connected clients are known by the
//! peer address of their connection. Behind a reverse proxy every request comes from the
//! proxy, so the operator names the header the proxy sets (`--client-address-header
//! X-Forwarded-For`); only that header is believed, and only when it is configured, because a
//! client can send any header it likes.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::SocketAddr;

/// Longest address text kept (an IPv6 address with a zone fits).
const MAX_ADDR_LEN: usize = 64;

/// The client's address as text ("unknown" when neither source gives one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(client_addr(&parts.headers, state.client_header.as_ref(), peer))
    }
}

/// The address from the trusted header when one is configured (its last entry: the one the
/// proxy itself appended), else the connection's peer address.
pub fn client_addr(
    headers: &HeaderMap,
    trusted: Option<&axum::http::HeaderName>,
    peer: Option<SocketAddr>,
) -> ClientAddr {
    if let Some(name) = trusted {
        let from_header = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|a| !a.is_empty() && a.len() <= MAX_ADDR_LEN);
        if let Some(addr) = from_header {
            return ClientAddr(addr.to_string());
        }
    }
    ClientAddr(peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    #[test]
    fn a_forwarded_header_counts_only_when_configured() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.7"));
        let peer: SocketAddr = "10.1.1.1:5555".parse().expect("addr");
        assert_eq!(client_addr(&h, None, Some(peer)), ClientAddr("10.1.1.1".into()));
        let xff = HeaderName::from_static("x-forwarded-for");
        assert_eq!(client_addr(&h, Some(&xff), Some(peer)), ClientAddr("203.0.113.7".into()));
        assert_eq!(client_addr(&HeaderMap::new(), Some(&xff), Some(peer)), ClientAddr("10.1.1.1".into()));
        assert_eq!(client_addr(&HeaderMap::new(), None, None), ClientAddr("unknown".into()));
    }
}
