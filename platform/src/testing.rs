//! What the three services' route-table tests share (feature `test-support`): every operation
//! of a service's OpenAPI document — which utoipa-axum builds from the router itself, so a
//! route served is a route listed — with the permission it declares, and the check that the
//! running service refuses each one without a token (401) and with a token lacking that
//! permission (403).
//!
//! A route added later without a declared permission fails the check, unless it is named as
//! public; one that declares a permission its handler does not demand fails it too.
//!
//! Also the tokens those tests need: minted as the Order Service would, for a service tested on
//! its own, and a client that sends one with every request; and the database a service under
//! test starts on, of the backend the test run is for.

use reqwest::Method;
use serde_json::Value;

use std::time::Duration;

use crate::api::auth::{Permission, Role};
use crate::auth::issuer::{throwaway_issuer, Grant, Issuer};
use crate::auth::Principal;
use crate::http::BEARER_SCHEME;

/// What an operation needs, by its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Nothing: it is how a caller gets credentials, or a probe.
    Public,
    Permission(Permission),
    /// A webhook signature (Standard Webhooks, or the payment gateway's).
    Signature(String),
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The documented path, e.g. `/api/v1/orders/{order_id}`.
    pub template: String,
    pub requirement: Requirement,
}

impl Operation {
    /// The path with every parameter set to an id that does not exist, so an allowed call
    /// changes nothing.
    pub fn path(&self) -> String {
        let mut path = String::new();
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find('{') {
            path.push_str(&rest[..start]);
            let end = rest[start..].find('}').map_or(rest.len(), |end| start + end + 1);
            path.push_str("999999");
            rest = &rest[end..];
        }
        path.push_str(rest);
        path
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// Every operation of an OpenAPI document, with what it requires.
pub fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    let Some(paths) = document["paths"].as_object() else { return operations };
    for (template, item) in paths {
        let Some(item) = item.as_object() else { continue };
        for (method, operation) in item {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else { continue };
            if !matches!(method, Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
                continue;
            }
            operations.push(Operation { method, template: template.clone(), requirement: requirement_of(operation) });
        }
    }
    operations
}

fn requirement_of(operation: &Value) -> Requirement {
    // The first scheme of the first requirement: the documents name one per operation.
    let first = operation["security"].as_array().and_then(|schemes| schemes.first()).and_then(Value::as_object);
    let Some((name, scopes)) = first.and_then(|scheme| scheme.iter().next()) else { return Requirement::Public };
    if name != BEARER_SCHEME {
        return Requirement::Signature(name.clone());
    }
    let scope = scopes.as_array().and_then(|s| s.first()).and_then(Value::as_str).unwrap_or_default();
    match Permission::parse(scope) {
        Some(permission) => Requirement::Permission(permission),
        None => Requirement::Signature(format!("unknown bearer scope {scope:?}")),
    }
}

/// A caller of the check: who it is (None for a token that is not valid) and its token.
pub struct Caller {
    pub principal: Option<Principal>,
    pub token: String,
}

/// Checks every operation of `document` on the service at `base_url`:
/// - one not listed in `public` must declare a permission or a signature;
/// - without credentials, a secured one answers 401;
/// - with each caller's token, a bearer one answers 401 if the token is invalid, 403 if the
///   caller lacks the permission, and neither otherwise; a signed one answers 401 to any
///   bearer token, for no token is a signature.
///
/// Returns how many operations were checked.
pub async fn check_route_table(base_url: &str, document: &Value, public: &[&str], callers: &[Caller]) -> usize {
    let client = reqwest::Client::new();
    let all = operations(document);
    assert!(!all.is_empty(), "the document lists no operations");
    let mut problems = Vec::new();
    for operation in &all {
        let url = format!("{base_url}{}", operation.path());
        let listed_public = public.contains(&operation.template.as_str());
        match (&operation.requirement, listed_public) {
            (Requirement::Public, true) => continue,
            (Requirement::Public, false) => {
                problems.push(format!("{} declares no permission and is not listed as public", operation.describe()));
                continue;
            }
            (_, true) => problems.push(format!("{} is listed as public but declares security", operation.describe())),
            _ => {}
        }
        let status = send(&client, operation, &url, None).await;
        if status != 401 {
            problems.push(format!("{} without credentials answered {status}, not 401", operation.describe()));
        }
        for caller in callers {
            let status = send(&client, operation, &url, Some(&caller.token)).await;
            let expected = match (&operation.requirement, &caller.principal) {
                (_, None) | (Requirement::Signature(_), _) => Some(401),
                (Requirement::Permission(permission), Some(principal)) => (!principal.may(*permission)).then_some(403),
                (Requirement::Public, _) => None,
            };
            let who = caller.principal.as_ref().map_or("an invalid token".to_owned(), Principal::describe);
            match expected {
                Some(expected) if status != expected => {
                    problems.push(format!("{} with {who} answered {status}, not {expected}", operation.describe()))
                }
                None if status == 401 || status == 403 => problems
                    .push(format!("{} with {who} was refused ({status}) although allowed", operation.describe())),
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "route table problems:\n{}", problems.join("\n"));
    all.len()
}

/// The PostgreSQL server the tests may use, as a URL (`.ci/with-postgres` sets it to a throwaway
/// cluster's): where each service under test gets a database of its own when the run is for
/// PostgreSQL, and where the replica tests, which need it whatever the run, put their replicas.
pub const TEST_POSTGRES_URL: &str = "TEST_POSTGRES_URL";
/// `postgres` runs the services under test on PostgreSQL (`make test`'s second pass); unset or
/// `sqlite`, on SQLite.
pub const TEST_BACKEND: &str = "TEST_BACKEND";

/// The backend this test run is for.
pub fn backend() -> crate::db::Backend {
    match std::env::var(TEST_BACKEND).unwrap_or_default().trim() {
        "postgres" => crate::db::Backend::Postgres,
        "" | "sqlite" => crate::db::Backend::Sqlite,
        other => panic!("{TEST_BACKEND}={other:?}: expected sqlite or postgres"),
    }
}

/// A fresh, empty database for one service under test, as a `DATABASE_URL`: the SQLite file
/// `{dir}/{name}.db`, or on PostgreSQL (see `backend`) a new database named after `name`.
pub async fn database_url(dir: &std::path::Path, name: &str) -> String {
    match backend() {
        crate::db::Backend::Postgres => postgres_database_url(name).await,
        crate::db::Backend::Sqlite => format!("sqlite://{}/{name}.db", dir.display()),
    }
}

/// A new, empty PostgreSQL database on the `TEST_POSTGRES_URL` server, named after `name`.
pub async fn postgres_database_url(name: &str) -> String {
    let server = std::env::var(TEST_POSTGRES_URL).ok().filter(|url| !url.trim().is_empty()).unwrap_or_else(|| {
        panic!("{TEST_POSTGRES_URL} is not set: run the tests through `.ci/with-postgres` (as `make test` does)")
    });
    create_postgres_database(&server, name).await
}

/// Creates `{name}_{random}` on the server at `server` and returns its URL. The databases are
/// left behind: the test run's cluster is thrown away as a whole.
async fn create_postgres_database(server: &str, name: &str) -> String {
    use sqlx::Connection;
    let database =
        format!("{}_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"), uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|err| panic!("{TEST_POSTGRES_URL}={server} does not answer: {err}"));
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|err| panic!("creating the test database {database}: {err}"));
    let mut url = reqwest::Url::parse(server).unwrap_or_else(|err| panic!("{TEST_POSTGRES_URL}: {err}"));
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// A token for `subject` with `role`, meant for `audience`, valid for an hour.
pub fn token(issuer: &Issuer, subject: &str, role: &str, audience: &str) -> String {
    issuer
        .mint(&Grant {
            subject: subject.into(),
            role: role.into(),
            audience: vec![audience.into()],
            ttl: Duration::from_secs(3600),
            scope: None,
        })
        .unwrap_or_else(|err| panic!("minting a token: {err}"))
}

/// A client whose every request carries `token`, if given. It keeps no idle connections: a
/// service stopped and started again must not be reached through a socket of its past life.
pub fn client_with_token(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap_or_else(|err| panic!("a token header: {err}"));
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .default_headers(headers)
        .build()
        .unwrap_or_else(|err| panic!("a test client: {err}"))
}

/// The callers a peer service's route table is checked with: a person of each role, the Order
/// Service's own token, and a token signed by a key the service does not know.
pub fn callers_of_every_kind(issuer: &Issuer, audience: &str) -> Vec<Caller> {
    let mut callers: Vec<Caller> = Role::ALL
        .into_iter()
        .zip(1..)
        .map(|(role, id)| Caller {
            principal: Some(Principal::User { id, role }),
            token: token(issuer, &format!("user:{id}"), role.as_str(), audience),
        })
        .collect();
    callers.push(Caller {
        principal: Some(Principal::Service { name: crate::api::auth::ORDER_SERVICE.into() }),
        token: token(issuer, "service:order-svc", crate::auth::ROLE_SERVICE, audience),
    });
    let (stranger, _) = throwaway_issuer();
    callers.push(Caller { principal: None, token: token(&stranger, "user:1", "admin", audience) });
    callers
}

async fn send(client: &reqwest::Client, operation: &Operation, url: &str, token: Option<&str>) -> u16 {
    let mut request = client.request(operation.method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if matches!(operation.method, Method::POST | Method::PUT | Method::PATCH) {
        request = request.header("content-type", "application/json").body("{}");
    }
    let response = request.send().await.unwrap_or_else(|err| panic!("{} {url}: {err}", operation.method));
    response.status().as_u16()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_with_what_they_require() {
        let document = serde_json::json!({"paths": {
            "/a/{id}/b": {"get": {"security": [{"bearer": ["read"]}]},
                          "post": {"security": [{"bearer": ["manage_orders"]}]}},
            "/hook": {"post": {"security": [{"webhook_signature": []}]}},
            "/login": {"post": {}},
        }});
        let mut found: Vec<(String, String, Requirement)> =
            operations(&document).into_iter().map(|op| (op.method.to_string(), op.path(), op.requirement)).collect();
        found.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        assert_eq!(
            found,
            vec![
                ("GET".into(), "/a/999999/b".into(), Requirement::Permission(Permission::Read)),
                ("POST".into(), "/a/999999/b".into(), Requirement::Permission(Permission::ManageOrders)),
                ("POST".into(), "/hook".into(), Requirement::Signature("webhook_signature".into())),
                ("POST".into(), "/login".into(), Requirement::Public),
            ]
        );
    }
}
