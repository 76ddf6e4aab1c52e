//! Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §2.1).
//!
//! An absolute `https` URI, or plain `http` only to the loopback interface. The authority is
//! split off and checked as a whole, never by prefix: `http://localhost.evil.example/` and
//! `http://localhost@evil.example/` name other hosts, so they are refused. No fragment, no user
//! information, nothing but printable ASCII, at most `MAX_REDIRECT_URI` bytes.

use super::code_issuer::MAX_REDIRECT_URI;

/// Hosts that are the loopback interface, and nothing else.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

pub fn is_registrable(uri: &str) -> bool {
    if uri.len() > MAX_REDIRECT_URI
        || uri.contains('#')
        || !uri.bytes().all(|b| b.is_ascii_graphic())
    {
        return false;
    }
    let (scheme, rest) = match uri.split_once("://") {
        Some(parts) => parts,
        None => return false,
    };
    // The authority ends at the first '/', '?' (RFC 3986 §3.2); the path may be empty.
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let Some((host, port)) = split_port(authority) else {
        return false;
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => is_host_name(host),
        "http" => {
            let host = host.to_ascii_lowercase();
            LOOPBACK_HOSTS.contains(&host.as_str()) && port.is_none_or(|p| p > 0)
        }
        _ => false,
    }
}

/// Splits `host[:port]`; `None` if the port is not a number from 0 to 65535 or the host is
/// empty.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    // An IPv6 literal carries colons inside its brackets.
    let host_end = if authority.starts_with('[') {
        authority.find(']')? + 1
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    if host.is_empty() {
        return None;
    }
    match rest {
        "" => Some((host, None)),
        _ => {
            let digits = rest.strip_prefix(':')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((host, Some(digits.parse().ok()?)))
        }
    }
}

/// A DNS name or an IP literal: letters, digits, '-', '.', and brackets/colons for IPv6.
fn is_host_name(host: &str) -> bool {
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::is_registrable;

    #[test]
    fn https_and_loopback_http_are_registrable() {
        for uri in [
            "https://app.example/callback",
            "https://app.example:8443/cb?x=1",
            "https://app.example",
            "http://localhost/cb",
            "http://localhost:8080/callback",
            "http://127.0.0.1:9000/cb?x=1",
            "http://[::1]:8080/cb",
            "http://LOCALHOST/cb",
        ] {
            assert!(is_registrable(uri), "{uri}");
        }
    }

    #[test]
    fn lookalikes_and_unsafe_uris_are_not() {
        for uri in [
            "http://localhost.evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost@evil.example/cb",
            "http://localhost:8080@evil.example/cb",
            "http://[::1].evil.example/cb",
            "http://[::1]evil/cb",
            "http://localhost:99999/cb",
            "http://localhost:/cb",
            "http://localhost:0/cb",
            "http://app.example/cb",
            "https://app.example@evil.example/cb",
            "https://app.example/cb#fragment",
            "https:///cb",
            "https://app.example/c b",
            "javascript://localhost/%0aalert(1)",
            "localhost/cb",
            "",
        ] {
            assert!(!is_registrable(uri), "{uri}");
        }
        assert!(!is_registrable(&format!(
            "https://app.example/{}",
            "a".repeat(300)
        )));
    }
}
