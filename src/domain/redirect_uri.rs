//! Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1), and
//! which requested URI matches a registered one.
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

/// What a native app (a public client) may register besides: a private-use URI scheme named by
/// a reversed domain (RFC 8252 §7.1: `com.example.app:/oauth2redirect`), with one slash after
/// the colon, no authority, no fragment.
pub fn is_registrable_native(uri: &str) -> bool {
    if is_registrable(uri) {
        return true;
    }
    if uri.len() > MAX_REDIRECT_URI
        || uri.contains('#')
        || !uri.bytes().all(|b| b.is_ascii_graphic())
    {
        return false;
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme.contains('.')
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b))
        && !matches!(scheme, "http" | "https");
    scheme_ok && rest.starts_with('/') && !rest.starts_with("//")
}

/// Whether a requested redirect URI is the registered one: the same text, except that a
/// loopback IP redirect matches on any port (RFC 8252 §7.3: a native app listens on whatever
/// port the system gives it at the time).
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    registered == requested
        || matches!(
            (loopback_without_port(registered), loopback_without_port(requested)),
            (Some(a), Some(b)) if a == b
        )
}

/// `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path` without its port (host and the rest
/// kept), if the URI is one; `localhost` is not an IP literal and keeps its exact match.
fn loopback_without_port(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let (host, _) = split_port(authority)?;
    matches!(host, "127.0.0.1" | "[::1]").then_some((host, path))
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
    use super::{is_registrable, is_registrable_native, redirect_matches};

    /// The longest URI taken is exactly the limit; a port is digits only (no sign); a host is
    /// a DNS name or an IP literal.
    #[test]
    fn edges_of_what_registers() {
        let at_limit = |len: usize| format!("https://a.example/{}", "p".repeat(len - 18));
        assert!(is_registrable(&at_limit(super::MAX_REDIRECT_URI)));
        assert!(!is_registrable(&at_limit(super::MAX_REDIRECT_URI + 1)));
        assert!(!is_registrable("http://127.0.0.1:+80/cb"));
        assert!(is_registrable("http://127.0.0.1:80/cb"));
        assert!(!is_registrable("https://exa_mple.example/cb"));
        assert!(!is_registrable("https://exa$mple.example/cb"));
    }

    #[test]
    fn native_apps_register_private_use_schemes() {
        for uri in [
            "com.example.app:/oauth2redirect",
            "com.example.app:/",
            "app.chat-1:/cb",
        ] {
            assert!(is_registrable_native(uri), "{uri}");
            assert!(!is_registrable(uri), "{uri}: for native apps only");
        }
        for uri in [
            "com.example.app://cb",
            "myapp:/cb",
            "Com.Example:/cb",
            "com.example.app:cb",
            "com.example.app:/cb#x",
            "javascript.x:/alert(1)x y",
            "http:/cb",
        ] {
            assert!(!is_registrable_native(uri), "{uri}");
        }
        assert!(is_registrable_native("https://app.example/cb"));
        // At most 256 bytes, as every redirect URI.
        let at_most = format!("com.example.app:/{}", "a".repeat(256 - 17));
        assert_eq!(at_most.len(), 256);
        assert!(is_registrable_native(&at_most));
        assert!(!is_registrable_native(&format!("{at_most}a")));
    }

    #[test]
    fn loopback_ip_redirects_match_on_any_port() {
        let registered = "http://127.0.0.1/callback";
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1:51234/callback"
        ));
        assert!(redirect_matches(registered, registered));
        assert!(redirect_matches(
            "http://[::1]:8080/cb",
            "http://[::1]:9/cb"
        ));
        for other in [
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:51234/callback?x=1",
            "http://127.0.0.2:51234/callback",
            "http://[::1]:51234/callback",
            "https://127.0.0.1:51234/callback",
            "http://127.0.0.1.evil.example:80/callback",
            "http://127.0.0.1@evil.example/callback",
        ] {
            assert!(!redirect_matches(registered, other), "{other}");
        }
        // localhost (a name, not an IP literal) and https URIs match exactly.
        assert!(!redirect_matches(
            "http://localhost/cb",
            "http://localhost:8080/cb"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example:444/cb"
        ));
    }

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
