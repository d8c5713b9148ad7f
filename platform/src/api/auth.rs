//! Identity on the wire: the roles and what each may do, and the bodies of the Order
//! Service's sign-in, token, user and API-key endpoints (it is the platform's one issuer).
//!
//! The permission table is here, without the server feature, because the dashboard needs it
//! too: it offers only the actions the signed-in role allows (the services refuse the rest
//! anyway).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The audience names: each service accepts only tokens that name it.
pub const ORDER_SERVICE: &str = "order-svc";
pub const PAYMENT_SERVICE: &str = "payment-svc";
pub const NOTIFICATION_SERVICE: &str = "notification-svc";
/// The audience of an import's event-stream ticket: good for that stream and nothing else.
pub const IMPORT_EVENTS: &str = "order-svc:import-events";
/// The `iss` of every token: the Order Service.
pub const ISSUER: &str = ORDER_SERVICE;
/// Where the Order Service publishes its public keys (a JSON Web Key Set).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// What a person or an integrator's API key may do, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Runs the shop: creates, ships, delivers and cancels orders, imports, sends notifications.
    Operator,
    /// Everything: refunds and direct payments, users, API keys, signing keys.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The role table of the README. A role holds its own permissions and those of every
    /// role below it.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Viewer => matches!(permission, Read),
            Role::Operator => matches!(permission, Read | ManageOrders | SendNotifications),
            Role::Admin => true,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Operator => "Operator",
            Role::Admin => "Admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a caller may be allowed to do. Every secured route requires exactly one; the
/// OpenAPI documents name it as the bearer scheme's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read orders, payments, notifications, imports, templates.
    Read,
    /// Create, ship, deliver and cancel orders; run imports.
    ManageOrders,
    /// Queue e-mails and SMS.
    SendNotifications,
    /// Take payments directly (the Order Service takes each order's payment itself).
    TakePayments,
    /// Refund payments.
    Refund,
    /// Users, API keys and signing keys.
    Administer,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::Read,
        Permission::ManageOrders,
        Permission::SendNotifications,
        Permission::TakePayments,
        Permission::Refund,
        Permission::Administer,
    ];

    /// The name used as the OpenAPI scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::ManageOrders => "manage_orders",
            Permission::SendNotifications => "send_notifications",
            Permission::TakePayments => "take_payments",
            Permission::Refund => "refund",
            Permission::Administer => "administer",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// What the Order Service may do at its peers with its own service token: read, take
    /// each order's payment, refund a cancelled one, and send the order e-mails.
    pub fn granted_to_order_service(self) -> bool {
        matches!(self, Permission::Read | Permission::TakePayments | Permission::Refund | Permission::SendNotifications)
    }
}

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in characters (so at most 1 KiB): Argon2 takes any length, but
/// a megabyte of "password" is a denial of service, not a secret.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The password rule (NIST SP 800-63B: length, not composition), shared by the Order Service
/// and the dashboard's form.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("password must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(format!("password must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.trim().is_empty() {
        return Err("password must not be only spaces".to_owned());
    }
    Ok(())
}

/// The JSON Schema of a password `check_password` accepts: 12 ..= 256 characters, not only
/// white space (`char::is_whitespace`).
pub fn password_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(MIN_PASSWORD_CHARS))
        .max_length(Some(MAX_PASSWORD_CHARS))
        .pattern(Some(r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"))
        .build()
}

/// The JSON Schema of the password of a sign-in: any text up to the longest password.
fn sign_in_password_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(MAX_PASSWORD_CHARS))
        .build()
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com")]
    pub email: String,
    #[schema(schema_with = sign_in_password_schema)]
    pub password: String,
}

/// Who a token speaks for, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    /// `user:{id}` or `key:{id}`.
    pub subject: String,
    /// The person's display name, or the API key's name.
    pub name: String,
    /// The person's e-mail address (none for an API key).
    pub email: Option<String>,
    pub role: Role,
}

impl Identity {
    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

/// A short-lived access token: send it as `Authorization: Bearer <access_token>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessGrant {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub identity: Identity,
}

/// The answer to a sign-in: an access token and the refresh token that is the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionGrant {
    #[serde(flatten)]
    pub access: AccessGrant,
    /// Exchanged at `POST /api/v1/auth/refresh` for new access tokens until the session ends
    /// (sign-out, idle timeout, maximum age, or the account being disabled).
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Body of `POST /api/v1/auth/token`: an integrator's API key, exchanged for an access token.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[schema(example = "sk_…")]
    pub api_key: String,
}

/// Where an account is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited; signs in once the password is set through the invitation.
    Invited,
    Active,
    /// Cannot sign in; its sessions were ended.
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Body of `POST /api/v1/auth/users`: invite a person.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    #[schema(schema_with = crate::new_order::email_schema)]
    pub email: String,
    #[schema(schema_with = crate::new_order::name_schema)]
    pub display_name: String,
    pub role: Role,
}

/// Body of `PATCH /api/v1/auth/users/{id}`: only the fields given change.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    #[serde(default)]
    #[schema(schema_with = crate::new_order::optional_name_schema)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// `true` disables the account (and ends its sessions), `false` enables it again.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A one-time link for setting a password: shown once, to be passed on to the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invitation {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvitedUser {
    pub user: User,
    pub invitation: Invitation,
}

/// Body of `POST /api/v1/auth/invitations/accept`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcceptInvitation {
    pub token: String,
    #[schema(schema_with = password_schema)]
    pub password: String,
}

/// An integrator's API key, as listed (the key itself is shown only once, at creation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Body of `POST /api/v1/auth/api-keys`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewApiKey {
    #[schema(schema_with = crate::new_order::name_schema)]
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    /// `sk_…`: shown this once, stored only as a hash.
    pub key: String,
    pub api_key: ApiKey,
}

/// A ticket for one import's event stream (`?ticket=`), because a browser's `EventSource`
/// cannot send an `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventsTicket {
    pub ticket: String,
    pub expires_in: i64,
}

/// One signing key of the Order Service, as `POST /api/v1/auth/signing-keys` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SigningKeyInfo {
    /// The `kid` tokens name in their header.
    pub kid: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_password_pattern_agrees_with_the_rule() {
        let schema = serde_json::to_value(password_schema()).unwrap();
        let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        for filler in [" ", "\t", "\n", "\u{3000}", "\u{a0}", "\u{85}", "\u{2029}", "a", "\u{200b}", "\u{1}", "パ"] {
            for password in [filler.repeat(12), format!("{} x", filler.repeat(11))] {
                assert_eq!(pattern.is_match(&password), check_password(&password).is_ok(), "{password:?}");
            }
        }
    }

    #[test]
    fn each_role_holds_the_permissions_of_the_roles_below_it() {
        use Permission::*;
        let table: [(Role, &[Permission]); 3] = [
            (Role::Viewer, &[Read]),
            (Role::Operator, &[Read, ManageOrders, SendNotifications]),
            (Role::Admin, &[Read, ManageOrders, SendNotifications, TakePayments, Refund, Administer]),
        ];
        for (role, allowed) in table {
            for permission in Permission::ALL {
                assert_eq!(role.allows(permission), allowed.contains(&permission), "{role} / {permission:?}");
            }
        }
    }

    #[test]
    fn the_order_service_may_pay_refund_notify_and_read_but_not_manage() {
        let granted: Vec<Permission> = Permission::ALL.into_iter().filter(|p| p.granted_to_order_service()).collect();
        assert_eq!(
            granted,
            vec![Permission::Read, Permission::SendNotifications, Permission::TakePayments, Permission::Refund]
        );
    }

    #[test]
    fn passwords_are_judged_by_length() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("パスワードは十二文字以上です").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&" ".repeat(20)).is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.as_str()), Some(permission));
        }
        assert_eq!(Role::parse("service"), None);
    }
}
