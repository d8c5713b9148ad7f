//! The Order Service's people and API keys, as the dashboard's admin page manages them, and
//! the invitation a person accepts to set their password.

use platform::api::auth::{
    AcceptInvitation, ApiKey, CreatedApiKey, InvitedUser, NewApiKey, NewUser, Role, User, UserUpdate,
};

use super::fetch::{self, Method};
use super::{Service, ServiceResult, ServiceUrls};

pub async fn list(urls: &ServiceUrls) -> ServiceResult<Vec<User>> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, "/api/v1/auth/users")).await
}

pub async fn invite(urls: &ServiceUrls, new: &NewUser) -> ServiceResult<InvitedUser> {
    fetch::send_json(Service::Orders, Method::Post, urls.url(Service::Orders, "/api/v1/auth/users"), Some(new)).await
}

pub async fn set_role(urls: &ServiceUrls, id: i64, role: Role) -> ServiceResult<User> {
    update(urls, id, &UserUpdate { role: Some(role), ..UserUpdate::default() }).await
}

pub async fn set_disabled(urls: &ServiceUrls, id: i64, disabled: bool) -> ServiceResult<User> {
    update(urls, id, &UserUpdate { disabled: Some(disabled), ..UserUpdate::default() }).await
}

async fn update(urls: &ServiceUrls, id: i64, update: &UserUpdate) -> ServiceResult<User> {
    let url = urls.url(Service::Orders, &format!("/api/v1/auth/users/{id}"));
    fetch::send_json(Service::Orders, Method::Patch, url, Some(update)).await
}

/// A new invitation link for the account (its password stops working until it is used).
pub async fn reinvite(urls: &ServiceUrls, id: i64) -> ServiceResult<InvitedUser> {
    let url = urls.url(Service::Orders, &format!("/api/v1/auth/users/{id}/invitation"));
    fetch::send_json::<(), InvitedUser>(Service::Orders, Method::Post, url, None).await
}

pub async fn api_keys(urls: &ServiceUrls) -> ServiceResult<Vec<ApiKey>> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, "/api/v1/auth/api-keys")).await
}

pub async fn create_api_key(urls: &ServiceUrls, new: &NewApiKey) -> ServiceResult<CreatedApiKey> {
    fetch::send_json(Service::Orders, Method::Post, urls.url(Service::Orders, "/api/v1/auth/api-keys"), Some(new)).await
}

pub async fn revoke_api_key(urls: &ServiceUrls, id: i64) -> ServiceResult<ApiKey> {
    let url = urls.url(Service::Orders, &format!("/api/v1/auth/api-keys/{id}"));
    fetch::send_json::<(), ApiKey>(Service::Orders, Method::Delete, url, None).await
}

/// Sets the password of an invited account: the one call a person makes before signing in.
pub async fn accept_invitation(urls: &ServiceUrls, acceptance: &AcceptInvitation) -> ServiceResult<()> {
    let url = urls.url(Service::Orders, "/api/v1/auth/invitations/accept");
    fetch::send_anonymous(Service::Orders, url, acceptance).await
}

/// The address an invitation is accepted at, to hand to the person.
pub fn invitation_link(origin: &str, token: &str) -> String {
    format!("{}/invite?token={}", origin.trim_end_matches('/'), super::orders::encode(token))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_invitation_link_carries_the_token() {
        assert_eq!(
            super::invitation_link("http://127.0.0.1:5173/", "inv_a-b_c"),
            "http://127.0.0.1:5173/invite?token=inv_a-b_c"
        );
    }
}
