//! What a token says (`Claims`), and who that makes the caller (`Principal`).

use serde::{Deserialize, Serialize};

use crate::api::auth::{Permission, Role, ORDER_SERVICE};

/// The `role` claim of a service's own token.
pub const ROLE_SERVICE: &str = "service";

/// The claims of every access token and ticket the Order Service signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// `user:{id}`, `key:{id}` or `service:{name}`.
    pub sub: String,
    /// The services the token is good for.
    pub aud: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    /// Unique per token, so two tokens minted in the same second differ.
    pub jti: String,
    /// `viewer`, `operator`, `admin`, or `service`.
    pub role: String,
    /// What a ticket is limited to, e.g. `import:{id}`; access tokens have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: i64,
        role: Role,
    },
    ApiKey {
        id: i64,
        role: Role,
    },
    /// A peer service calling with its own token (only the Order Service has one).
    Service {
        name: String,
    },
}

impl Principal {
    /// Reads the subject and role of verified claims; `None` if they do not make sense
    /// together (a signed token with nonsense in it is still refused).
    pub fn from_claims(claims: &Claims) -> Option<Principal> {
        let (kind, id) = claims.sub.split_once(':')?;
        match (kind, claims.role.as_str()) {
            ("service", ROLE_SERVICE) if !id.is_empty() => Some(Principal::Service { name: id.to_owned() }),
            ("user", role) => Some(Principal::User { id: id.parse().ok()?, role: Role::parse(role)? }),
            ("key", role) => Some(Principal::ApiKey { id: id.parse().ok()?, role: Role::parse(role)? }),
            _ => None,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        match self {
            Principal::User { role, .. } | Principal::ApiKey { role, .. } => role.allows(permission),
            Principal::Service { name } => name == ORDER_SERVICE && permission.granted_to_order_service(),
        }
    }

    /// The `sub` claim this principal is named by.
    pub fn subject(&self) -> String {
        match self {
            Principal::User { id, .. } => format!("user:{id}"),
            Principal::ApiKey { id, .. } => format!("key:{id}"),
            Principal::Service { name } => format!("service:{name}"),
        }
    }

    /// How a log line or a 403 names the caller.
    pub fn describe(&self) -> String {
        match self {
            Principal::User { role, .. } | Principal::ApiKey { role, .. } => format!("the {role} role"),
            Principal::Service { name } => format!("the service {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, role: &str) -> Claims {
        Claims {
            iss: "order-svc".into(),
            sub: sub.into(),
            aud: vec![],
            exp: 0,
            iat: 0,
            jti: "j".into(),
            role: role.into(),
            scope: None,
        }
    }

    #[test]
    fn subjects_and_roles_must_agree() {
        assert_eq!(
            Principal::from_claims(&claims("user:7", "admin")),
            Some(Principal::User { id: 7, role: Role::Admin })
        );
        assert_eq!(
            Principal::from_claims(&claims("key:3", "viewer")),
            Some(Principal::ApiKey { id: 3, role: Role::Viewer })
        );
        assert_eq!(
            Principal::from_claims(&claims("service:order-svc", "service")),
            Some(Principal::Service { name: "order-svc".into() })
        );
        for (sub, role) in [
            ("user:7", "service"),
            ("service:order-svc", "admin"),
            ("user:x", "admin"),
            ("7", "admin"),
            ("user:7", "root"),
        ] {
            assert_eq!(Principal::from_claims(&claims(sub, role)), None, "{sub} / {role}");
        }
    }

    #[test]
    fn only_the_order_service_has_service_permissions() {
        let order = Principal::Service { name: "order-svc".into() };
        let stranger = Principal::Service { name: "payment-svc".into() };
        assert!(order.may(Permission::Refund) && order.may(Permission::TakePayments));
        assert!(!order.may(Permission::ManageOrders) && !order.may(Permission::Administer));
        assert!(Permission::ALL.iter().all(|p| !stranger.may(*p)));
    }
}
