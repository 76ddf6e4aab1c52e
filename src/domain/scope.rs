//! Scopes: a set of scope tokens, written space-separated on the wire (RFC 6749 §3.3).

use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-separated list. `None` when a token has characters RFC 6749 §3.3 forbids.
    pub fn parse(text: &str) -> Option<Self> {
        let mut set = BTreeSet::new();
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            let allowed = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !allowed {
                return None;
            }
            set.insert(token.to_owned());
        }
        Some(Self(set))
    }

    pub fn from_tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Self {
        Self(tokens.into_iter().map(Into::into).collect())
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_space_separated() {
        let scope = Scope::parse("b a  b").unwrap();
        assert_eq!(scope.to_string(), "a b");
        assert!(Scope::parse("a\"b").is_none());
        assert!(Scope::parse("a\\b").is_none());
        // RFC 6749 §3.3's NQCHAR: every printable character but '"' and '\\'.
        let every: String = (0x21u8..=0x7E)
            .filter(|b| *b != b'"' && *b != b'\\')
            .map(char::from)
            .collect();
        assert_eq!(Scope::parse(&every).unwrap().to_string(), every);
        assert!(Scope::parse("caf\u{e9}").is_none());
    }

    #[test]
    fn subsets() {
        let wide = Scope::parse("a b c").unwrap();
        assert!(Scope::parse("a c").unwrap().is_subset_of(&wide));
        assert!(!Scope::parse("a d").unwrap().is_subset_of(&wide));
    }
}
