//! Who may issue codes through `POST /internal/codes`: the IAM principals on an allowlist,
//! calling through one API's one route. API Gateway checks the SigV4 signature and the caller's
//! `execute-api:Invoke` right; that right is far too common (PowerUserAccess,
//! AmazonAPIGatewayInvokeFullAccess grant it on `*`), so the function admits only the callers
//! named here, and only when the IAM context comes from the configured API and route.
//!
//! Matching is exact, part by part, never by prefix:
//! - a role, `arn:P:iam::A:role[/path]/Name`, admits its sessions as API Gateway reports them,
//!   `arn:P:sts::A:assumed-role/Name/<session>` (the path is not in that ARN), and nothing else;
//! - a user, `arn:P:iam::A:user[/path]/Name`, admits exactly that ARN.
//!
//! The account root, `arn:P:iam::A:root`, is refused at start-up. In a policy it means "every
//! principal of account A that its own policies allow": read that way it would reopen the hole
//! this list closes; read as "the root user only", it would admit a caller that must never
//! issue codes. Neither reading is safe, so it is no allowlist entry at all.

/// The route key API Gateway reports for the internal route.
pub const INTERNAL_CODES_ROUTE_KEY: &str = "POST /internal/codes";

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// One allowlist entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Principal {
    /// Any session of this role.
    Role {
        partition: String,
        account: String,
        name: String,
    },
    /// This IAM user's exact ARN.
    User(String),
}

/// The IAM identity of a request, as API Gateway put it in the request context.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub api_id: Option<&'a str>,
    pub route_key: Option<&'a str>,
    pub principal_arn: &'a str,
}

/// The allowlist and the one API whose IAM context is believed. Empty: closed to everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InternalCallers {
    api_id: String,
    principals: Vec<Principal>,
}

impl InternalCallers {
    /// Parses comma-separated principal ARNs. `Err` says what is wrong with which entry.
    pub fn parse(api_id: &str, principals: &str) -> Result<Self, String> {
        let principals = principals
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| parse_principal(entry).map_err(|why| format!("'{entry}': {why}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            api_id: api_id.trim().to_owned(),
            principals,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.principals.is_empty()
    }

    /// Whether this caller may use the internal route.
    pub fn admit(&self, caller: &Caller) -> bool {
        !self.api_id.is_empty()
            && caller.api_id == Some(self.api_id.as_str())
            && caller.route_key == Some(INTERNAL_CODES_ROUTE_KEY)
            && self
                .principals
                .iter()
                .any(|principal| principal.matches(caller.principal_arn))
    }
}

impl Principal {
    fn matches(&self, caller_arn: &str) -> bool {
        match self {
            Self::User(arn) => arn == caller_arn,
            Self::Role {
                partition,
                account,
                name,
            } => {
                let Some((p, service, a, resource)) = split_arn(caller_arn) else {
                    return false;
                };
                let session = resource.strip_prefix("assumed-role/").map(|rest| {
                    let mut parts = rest.split('/');
                    (parts.next(), parts.next(), parts.next())
                });
                matches!(session, Some((Some(role), Some(session), None))
                    if role == name && !session.is_empty())
                    && p == partition
                    && service == "sts"
                    && a == account
            }
        }
    }
}

/// `arn:<partition>:<service>::<account>:<resource>` (IAM and STS ARNs have no region).
fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((partition, service, account, resource))
}

fn parse_principal(entry: &str) -> Result<Principal, &'static str> {
    let (partition, service, account, resource) =
        split_arn(entry).ok_or("not an IAM ARN (arn:<partition>:iam::<account>:...)")?;
    if !PARTITIONS.contains(&partition) {
        return Err("the partition must be aws, aws-cn or aws-us-gov");
    }
    if service != "iam" {
        return Err("name an IAM role or user (arn:...:iam::...), not a session");
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the account must be 12 digits");
    }
    if resource == "root" {
        return Err("the account root would admit every principal of the account; name a role");
    }
    let (kind, path_and_name) = resource
        .split_once('/')
        .ok_or("name a role (role/Name) or a user (user/Name)")?;
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    let well_formed = path_and_name
        .split('/')
        .all(|segment| !segment.is_empty() && segment.bytes().all(name_byte));
    if !well_formed || name.len() > 64 {
        return Err("a path or name holds characters IAM does not allow (or is empty)");
    }
    match kind {
        "role" => Ok(Principal::Role {
            partition: partition.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        }),
        "user" => Ok(Principal::User(entry.to_owned())),
        _ => Err("name a role (role/Name) or a user (user/Name)"),
    }
}

/// The characters IAM allows in role and user names and paths (no wildcard).
fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "abcdef1234";

    fn callers(list: &str) -> InternalCallers {
        InternalCallers::parse(API, list).unwrap()
    }

    fn admits(list: &str, arn: &str) -> bool {
        callers(list).admit(&Caller {
            api_id: Some(API),
            route_key: Some(INTERNAL_CODES_ROUTE_KEY),
            principal_arn: arn,
        })
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/Consent";

    #[test]
    fn a_role_admits_its_sessions_and_nothing_else() {
        assert!(admits(
            ROLE,
            "arn:aws:sts::123456789012:assumed-role/Consent/page-1"
        ));
        for arn in [
            // Lookalike names, either way round.
            "arn:aws:sts::123456789012:assumed-role/ConsentPage/page-1",
            "arn:aws:sts::123456789012:assumed-role/Consen/page-1",
            "arn:aws:sts::123456789012:assumed-role/consent/page-1",
            // The same name in another account, or another partition.
            "arn:aws:sts::210987654321:assumed-role/Consent/page-1",
            "arn:aws-cn:sts::123456789012:assumed-role/Consent/page-1",
            // The role's own ARN is not a session; no session, or a path smuggled in.
            ROLE,
            "arn:aws:sts::123456789012:assumed-role/Consent/",
            "arn:aws:sts::123456789012:assumed-role/Consent",
            "arn:aws:sts::123456789012:assumed-role/Consent/page-1/extra",
            // Other principals of the account.
            "arn:aws:iam::123456789012:user/Consent",
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:federated-user/Consent",
            "",
        ] {
            assert!(!admits(ROLE, arn), "{arn}");
        }
    }

    #[test]
    fn a_role_path_is_not_in_its_session_arns() {
        let role = "arn:aws-us-gov:iam::123456789012:role/service/consent/Consent";
        assert!(admits(
            role,
            "arn:aws-us-gov:sts::123456789012:assumed-role/Consent/s"
        ));
        assert!(!admits(
            role,
            "arn:aws-us-gov:sts::123456789012:assumed-role/service/consent/Consent/s"
        ));
    }

    #[test]
    fn a_user_admits_exactly_itself() {
        let user = "arn:aws:iam::123456789012:user/ops/consent-page";
        assert!(admits(user, user));
        assert!(!admits(user, "arn:aws:iam::123456789012:user/consent-page"));
        assert!(!admits(
            user,
            "arn:aws:iam::123456789012:user/ops/consent-page2"
        ));
    }

    #[test]
    fn only_the_configured_api_and_route_are_believed() {
        let list = callers(ROLE);
        let session = "arn:aws:sts::123456789012:assumed-role/Consent/page-1";
        for (api_id, route_key) in [
            (Some("otherapi99"), Some(INTERNAL_CODES_ROUTE_KEY)),
            (None, Some(INTERNAL_CODES_ROUTE_KEY)),
            (Some(API), Some("$default")),
            (Some(API), Some("ANY /{proxy+}")),
            (Some(API), None),
        ] {
            assert!(!list.admit(&Caller {
                api_id,
                route_key,
                principal_arn: session,
            }));
        }
        let no_api = InternalCallers::parse("", ROLE).unwrap();
        assert!(!no_api.admit(&Caller {
            api_id: Some(""),
            route_key: Some(INTERNAL_CODES_ROUTE_KEY),
            principal_arn: session,
        }));
    }

    #[test]
    fn an_empty_list_admits_no_one() {
        assert!(callers("").is_closed());
        assert!(!admits(
            " , ",
            "arn:aws:sts::123456789012:assumed-role/Consent/page-1"
        ));
    }

    #[test]
    fn entries_that_would_admit_too_much_are_refused() {
        for entry in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::123456789012:role/Consent*",
            "arn:aws:sts::123456789012:assumed-role/Consent/page-1",
            "arn:aws:iam::*:role/Consent",
            "arn:aws:iam::12345678901:role/Consent",
            "arn:aws-xx:iam::123456789012:role/Consent",
            "arn:aws:iam:us-east-1:123456789012:role/Consent",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:group/Consent",
            "123456789012",
            "*",
        ] {
            assert!(
                InternalCallers::parse(API, entry).is_err(),
                "{entry} was accepted"
            );
        }
    }

    /// IAM names are 64 characters at most: the longest one is accepted, one more refused.
    #[test]
    fn names_are_at_most_64_characters() {
        let name = |len: usize| format!("arn:aws:iam::123456789012:role/{}", "r".repeat(len));
        assert!(InternalCallers::parse(API, &name(64)).is_ok());
        assert!(InternalCallers::parse(API, &name(65)).is_err());
        assert!(InternalCallers::parse(API, &name(1)).is_ok());
    }
}
