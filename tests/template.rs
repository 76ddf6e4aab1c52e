//! What `template.yaml` promises about keys, limits and alarms, checked against the code.

use chatroom_token::domain::discovery::INTERNAL_CODES_PATH;
use chatroom_token::domain::internal_callers::INTERNAL_CODES_ROUTE_KEY;
use chatroom_token::domain::service::Report;
use chatroom_token::http::metrics::{emf_line, NAMESPACE};
use serde_yaml_ng::Value;

fn template() -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string("template.yaml").unwrap()).unwrap()
}

/// A `!Ref Name` short form, as the YAML parser keeps it (a tagged value).
fn is_ref(value: &Value, name: &str) -> bool {
    serde_yaml_ng::to_string(value).unwrap().trim() == format!("!Ref {name}")
}

fn function() -> Value {
    template()["Resources"]["TokenFunction"]["Properties"].clone()
}

/// Anyone allowed `lambda:GetFunctionConfiguration` reads the environment: it must name the
/// secret, never hold a key, and no key may be resolved into it at deploy time.
#[test]
fn the_function_configuration_holds_no_key() {
    let variables = &function()["Environment"]["Variables"];
    let text = serde_yaml_ng::to_string(variables).unwrap();
    assert!(!text.contains("resolve:secretsmanager"), "{text}");
    for name in ["SIGNING_KEYS", "GRANT_TOKEN_KEYS"] {
        assert!(
            variables.get(name).is_none(),
            "{name} is in the configuration"
        );
    }
    assert!(is_ref(&variables["KEYS_SECRET_ARN"], "KeysSecretArn"));
}

/// The function may read that one secret, and nothing else from Secrets Manager.
#[test]
fn the_function_may_read_only_its_own_secret() {
    let policies = serde_yaml_ng::to_string(&function()["Policies"]).unwrap();
    let statements = &function()["Policies"][0]["Statement"];
    let secrets: Vec<&Value> = statements
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|s| {
            serde_yaml_ng::to_string(&s["Action"])
                .unwrap()
                .contains("secretsmanager")
        })
        .collect();
    assert_eq!(secrets.len(), 1, "{policies}");
    assert_eq!(secrets[0]["Action"], "secretsmanager:GetSecretValue");
    assert!(is_ref(&secrets[0]["Resource"], "KeysSecretArn"));
    let resources = statements
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| serde_yaml_ng::to_string(&(&s["Action"], &s["Resource"])).unwrap());
    for text in resources {
        assert!(
            !text.contains('*'),
            "no wildcard action or resource: {text}"
        );
    }
}

/// The function writes grant items and spent assertions only: a compromised function cannot
/// rewrite a client (its secret hash, keys, scopes or redirect URIs), whatever it sends.
#[test]
fn the_function_writes_only_grant_and_assertion_items() {
    let statements = &function()["Policies"][0]["Statement"];
    let mut writable = Vec::new();
    for statement in statements.as_sequence().unwrap() {
        let actions = serde_yaml_ng::to_string(&statement["Action"]).unwrap();
        if actions.contains("PutItem") || actions.contains("UpdateItem") {
            let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let keys: Vec<String> = serde_yaml_ng::from_value(keys.clone()).unwrap();
            if keys == ["assertion#*"] {
                assert_eq!(
                    actions.trim(),
                    "dynamodb:PutItem",
                    "assertions are only put"
                );
            }
            writable.extend(keys);
        }
    }
    writable.sort();
    assert_eq!(writable, ["assertion#*", "grant#*"]);
    let grant = chatroom_token::store::dynamodb::item::grant_key(
        &chatroom_token::crypto::grant_token::GrantId::random(),
    );
    assert!(grant.as_s().unwrap().starts_with("grant#"), "{grant:?}");
    let assertion = chatroom_token::store::dynamodb::item::assertion_key(&[7; 32]);
    assert!(
        assertion.as_s().unwrap().starts_with("assertion#"),
        "{assertion:?}"
    );
}

#[test]
fn reserved_concurrency_is_a_parameter() {
    let template = template();
    assert_eq!(template["Parameters"]["ReservedConcurrency"]["Default"], 0);
    let reserved = serde_yaml_ng::to_string(&function()["ReservedConcurrentExecutions"]).unwrap();
    assert!(reserved.contains("ReservedConcurrency"), "{reserved}");
}

/// Every alarm on our own metrics watches a metric the function really emits, and the security
/// signals each have one.
#[test]
fn alarms_watch_metrics_the_function_emits() {
    let line: serde_json::Value =
        serde_json::from_str(&emf_line(&Report::default(), None, 1, 1)).unwrap();
    let emitted: Vec<String> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect();
    let template = template();
    let watched: Vec<String> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .filter(|r| r["Properties"]["Namespace"] == NAMESPACE)
        .map(|r| r["Properties"]["MetricName"].as_str().unwrap().to_owned())
        .collect();
    for metric in &watched {
        assert!(
            emitted.contains(metric),
            "{metric} is not emitted: {emitted:?}"
        );
    }
    for metric in [
        "ReuseDetected",
        "InvalidClient",
        "CodeReplays",
        "KeysRefreshFailed",
    ] {
        assert!(watched.iter().any(|w| w == metric), "no alarm on {metric}");
    }
}

/// Every endpoint the function serves has its route, with the one method it takes.
#[test]
fn every_endpoint_is_routed() {
    use chatroom_token::domain::discovery::*;
    let events = &function()["Events"];
    let routes: Vec<(String, String)> = events
        .as_mapping()
        .unwrap()
        .values()
        .map(|e| {
            let p = &e["Properties"];
            (
                p["Method"].as_str().unwrap().to_owned(),
                p["Path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (method, path) in [
        ("POST", TOKEN_PATH),
        ("POST", REVOCATION_PATH),
        ("POST", INTROSPECTION_PATH),
        ("GET", METADATA_PATH),
        ("GET", JWKS_PATH),
    ] {
        assert!(
            routes.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not routed: {routes:?}"
        );
    }
}

/// The internal route, and only it, is behind IAM authorization, on an API of its own whose id
/// the function is given (the only IAM context it believes); the stack says what to allow.
#[test]
fn only_the_internal_route_needs_an_iam_signature() {
    let template = template();
    let resources = &template["Resources"];
    for (name, event) in function()["Events"].as_mapping().unwrap() {
        let path = event["Properties"]["Path"].as_str().unwrap();
        assert_ne!(path, INTERNAL_CODES_PATH, "{name:?} is on the public API");
        assert!(
            event["Properties"]["Auth"].is_null(),
            "{name:?} {path} must stay public"
        );
    }
    let route = &resources["InternalCodesRoute"]["Properties"];
    assert_eq!(route["RouteKey"], INTERNAL_CODES_ROUTE_KEY);
    assert_eq!(route["AuthorizationType"], "AWS_IAM");
    assert!(is_ref(&route["ApiId"], "InternalApi"));
    let variables = &function()["Environment"]["Variables"];
    assert!(is_ref(&variables["INTERNAL_CODES_API_ID"], "InternalApi"));
    assert!(is_ref(
        &variables["INTERNAL_CODES_PRINCIPALS"],
        "InternalCodesPrincipals"
    ));
    assert_eq!(
        template["Parameters"]["InternalCodesPrincipals"]["Default"],
        ""
    );
    let arn =
        serde_yaml_ng::to_string(&template["Outputs"]["InternalCodesInvokeArn"]["Value"]).unwrap();
    assert!(
        arn.contains("${InternalApi}/*/POST/internal/codes"),
        "{arn}"
    );
}

/// Whoever may invoke the function can hand it any event, IAM context included: only API
/// Gateway may, and only from this stack's APIs (SAM scopes the public routes' permissions the
/// same way).
#[test]
fn only_api_gateway_may_invoke_the_function_and_only_from_its_api() {
    let template = template();
    let permissions: Vec<&Value> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Permission")
        .collect();
    assert_eq!(permissions.len(), 1);
    let permission = &permissions[0]["Properties"];
    assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
    let source = serde_yaml_ng::to_string(&permission["SourceArn"]).unwrap();
    assert!(
        source.contains("${InternalApi}/*/POST/internal/codes"),
        "{source}"
    );
    // Nor does any role or policy of the stack grant it.
    let text = std::fs::read_to_string("template.yaml").unwrap();
    let grants = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter(|line| line.contains("lambda:InvokeFunction") || line.contains("lambda:*"))
        .count();
    assert_eq!(grants, 1, "API Gateway's permission only");
}

/// Every deploy publishes a version behind `live` and shifts traffic to it with CodeDeploy,
/// rolled back by the alarms on function errors, API 5xx and reuse detections; CodeDeploy's
/// role can move that alias and read alarms, nothing else.
#[test]
fn deployments_shift_traffic_and_roll_back_on_the_alarms() {
    let function = function();
    assert_eq!(function["AutoPublishAlias"], "live");
    let preference = &function["DeploymentPreference"];
    assert!(is_ref(&preference["Type"], "DeploymentType"));
    let alarms: Vec<String> = preference["Alarms"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| serde_yaml_ng::to_string(a).unwrap().trim().to_owned())
        .collect();
    for alarm in ["FunctionErrorsAlarm", "Api5xxAlarm", "ReuseDetectionsAlarm"] {
        assert!(
            alarms.contains(&format!("!Ref {alarm}")),
            "{alarm}: {alarms:?}"
        );
    }
    let role = serde_yaml_ng::to_string(&preference["Role"]).unwrap();
    assert!(role.contains("DeploymentRole"), "{role}");
    let template = template();
    let policy = serde_yaml_ng::to_string(
        &template["Resources"]["DeploymentRole"]["Properties"]["Policies"],
    )
    .unwrap();
    let statements = &template["Resources"]["DeploymentRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"];
    let actions: Vec<String> = statements
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|statement| match &statement["Action"] {
            Value::Sequence(actions) => actions.clone(),
            action => vec![action.clone()],
        })
        .map(|action| action.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "lambda:GetAlias",
            "lambda:UpdateAlias",
            "lambda:GetProvisionedConcurrencyConfig",
            "cloudwatch:DescribeAlarms"
        ],
        "{policy}"
    );
    assert!(!policy.contains("Resource: '*'"), "{policy}");
}

/// The Lambda authorizer exists only where the platform's APIs are named, reads the keys secret
/// and nothing else (no table: it keeps no state), and takes the APIs' base URL for DPoP.
#[test]
fn the_authorizer_reads_only_the_keys_secret() {
    let template = template();
    let authorizer = &template["Resources"]["AuthorizerFunction"];
    assert_eq!(authorizer["Condition"], "HasAuthorizer");
    let properties = &authorizer["Properties"];
    let statements = properties["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Action"], "secretsmanager:GetSecretValue");
    assert!(is_ref(&statements[0]["Resource"], "KeysSecretArn"));
    let variables = &properties["Environment"]["Variables"];
    assert!(is_ref(&variables["API_BASE_URL"], "AuthorizedApiBaseUrl"));
    assert!(is_ref(&variables["KEYS_SECRET_ARN"], "KeysSecretArn"));
    assert!(variables.get("TABLE_NAME").is_none());
}
