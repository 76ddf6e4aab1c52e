//! Which AWS partition a Region belongs to: each partition is a separate cloud, with its own
//! endpoints (`amazonaws.com`, `amazonaws.com.cn`, GovCloud's) and its own certificates.
//!
//! The patterns are the SDK's partition table's (`aws-cn`: `cn-*`, `aws-us-gov`: `us-gov-*`,
//! the isolated ones `us-iso*` and `eu-isoe-*`, the European Sovereign Cloud `eusc-*`; `aws`:
//! `us|eu|ap|sa|ca|me|af|il|mx` then two more parts), read by prefix.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// `aws`: the commercial Regions.
    Aws,
    /// `aws-cn`: Beijing and Ningxia, operated by local partners.
    China,
    /// `aws-us-gov`: GovCloud (US).
    GovCloud,
    /// Any other: an isolated or sovereign partition, or a name this code does not know.
    Other,
}

const COMMERCIAL: [&str; 9] = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"];

pub fn of_region(region: &str) -> Partition {
    let parts: Vec<&str> = region.split('-').collect();
    match parts.as_slice() {
        ["cn", _, n] if is_number(n) => Partition::China,
        ["us", "gov", _, n] if is_number(n) => Partition::GovCloud,
        [area, middle, n]
            if COMMERCIAL.contains(area)
                && !middle.starts_with("iso")
                && middle.bytes().all(|b| b.is_ascii_lowercase())
                && is_number(n) =>
        {
            Partition::Aws
        }
        _ => Partition::Other,
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
