//! The one HTTP transport of the dashboard. It has a server body (reqwest, while a page is
//! rendered) and a browser body (gloo-net, after hydration) with the same signatures, so a
//! component fetches the same API the same way in both places. Both send the signed-in user's
//! access token as `Authorization: Bearer` (see `session`): the server the one of the request
//! it renders, the browser the one it holds in memory, renewed once if a service refuses it.

use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Page, Service, ServiceError, ServiceResult};

/// The writes the dashboard makes.
#[derive(Clone, Copy, Debug)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

pub async fn get_json<T: DeserializeOwned>(service: Service, url: String) -> ServiceResult<T> {
    let (body, _) = transport::get(service, url).await?;
    parse(service, &body)
}

/// A list endpoint: the items and the `X-Total-Count` header.
pub async fn get_page<T: DeserializeOwned>(service: Service, url: String) -> ServiceResult<Page<T>> {
    let (body, total) = transport::get(service, url).await?;
    let items: Vec<T> = parse(service, &body)?;
    let total = total.unwrap_or(items.len() as i64);
    Ok(Page { items, total })
}

pub async fn send_json<B, T>(service: Service, method: Method, url: String, body: Option<&B>) -> ServiceResult<T>
where
    B: Serialize,
    T: DeserializeOwned,
{
    let body = match body {
        Some(body) => Some(serde_json::to_string(body).map_err(|err| unreadable(service, err))?),
        None => None,
    };
    let answer = transport::send(service, method, url, body).await?;
    parse(service, &answer)
}

/// A POST that needs no sign-in (accepting an invitation), answered without a body.
pub async fn send_anonymous<B: Serialize>(service: Service, url: String, body: &B) -> ServiceResult<()> {
    let body = serde_json::to_string(body).map_err(|err| unreadable(service, err))?;
    transport::send_anonymous(service, url, body).await?;
    Ok(())
}

/// The body of a GET as text, for a download (a CSV report) that needs the bearer token and so
/// cannot be a plain link.
pub async fn get_text(service: Service, url: String) -> ServiceResult<String> {
    let (body, _) = transport::get(service, url).await?;
    Ok(body)
}

/// Uploads one file as `multipart/form-data`, in the form field `field`, and returns the
/// answer with its status: an endpoint may say with 200 instead of 201 / 202 that it already
/// had this upload. Only the browser has files to send (see the server's `post_file`).
pub async fn post_file<T: DeserializeOwned>(
    service: Service,
    url: String,
    field: &'static str,
    file: SendWrapper<web_sys::File>,
) -> ServiceResult<(u16, T)> {
    let (status, body) = transport::post_file(service, url, field, file).await?;
    Ok((status, parse(service, &body)?))
}

fn parse<T: DeserializeOwned>(service: Service, body: &str) -> ServiceResult<T> {
    serde_json::from_str(body).map_err(|err| unreadable(service, err))
}

fn unreadable(service: Service, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unreadable { service, problem: err.to_string() }
}

/// An error status turned into `Refused`, with the `{"detail": …}` of the body when there
/// is one.
fn refused(service: Service, status: u16, body: &str) -> ServiceError {
    let detail = serde_json::from_str::<platform::api::ErrorBody>(body)
        .map(|error| error.detail)
        .unwrap_or_else(|_| format!("The {} answered with status {status}.", service.name()));
    ServiceError::Refused { service, status, detail }
}

const TOTAL_COUNT: &str = platform::api::TOTAL_COUNT_HEADER;

#[cfg(feature = "ssr")]
mod transport {
    use std::sync::LazyLock;
    use std::time::Duration;

    use send_wrapper::SendWrapper;

    use super::{refused, Method, Service, ServiceError, ServiceResult, TOTAL_COUNT};

    /// One client for the whole server, so connections to the services are reused. The
    /// timeout keeps a hung service from holding a page's render: the page shows it as down.
    static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default()
    });

    /// The request with the token of the request being rendered, if it is signed in.
    fn authorised(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match crate::api::session::signed_in() {
            Some(signed_in) => request.bearer_auth(signed_in.access_token),
            None => request,
        }
    }

    pub async fn get(service: Service, url: String) -> ServiceResult<(String, Option<i64>)> {
        let response = authorised(CLIENT.get(url)).send().await.map_err(|_| ServiceError::Unreachable { service })?;
        let total = response.headers().get(TOTAL_COUNT).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        Ok((read(service, response).await?, total))
    }

    pub async fn send(service: Service, method: Method, url: String, body: Option<String>) -> ServiceResult<String> {
        let request = match method {
            Method::Post => CLIENT.post(url),
            Method::Put => CLIENT.put(url),
            Method::Patch => CLIENT.patch(url),
            Method::Delete => CLIENT.delete(url),
        };
        let request = match body {
            Some(body) => request.header("content-type", "application/json").body(body),
            None => request,
        };
        let response = authorised(request).send().await.map_err(|_| ServiceError::Unreachable { service })?;
        read(service, response).await
    }

    pub async fn send_anonymous(service: Service, url: String, body: String) -> ServiceResult<String> {
        let request = CLIENT.post(url).header("content-type", "application/json").body(body);
        let response = request.send().await.map_err(|_| ServiceError::Unreachable { service })?;
        read(service, response).await
    }

    /// A file picked in the browser exists only there: no page uploads one while it is being
    /// rendered, so this is never reached, and says so if it ever is.
    pub async fn post_file(
        service: Service,
        _url: String,
        _field: &'static str,
        _file: SendWrapper<web_sys::File>,
    ) -> ServiceResult<(u16, String)> {
        Err(ServiceError::Unreadable { service, problem: "files are uploaded from the browser only".to_owned() })
    }

    async fn read(service: Service, response: reqwest::Response) -> ServiceResult<String> {
        let status = response.status();
        let body = response.text().await.map_err(|_| ServiceError::Unreachable { service })?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(refused(service, status.as_u16(), &body))
        }
    }
}

#[cfg(not(feature = "ssr"))]
mod transport {
    use std::future::Future;

    use gloo_net::http::{Request, RequestBuilder, Response};
    use leptos::prelude::on_cleanup;
    use send_wrapper::SendWrapper;

    use super::{refused, Method, Service, ServiceError, ServiceResult, TOTAL_COUNT};
    use crate::api::session::browser::{bearer, renew, session_ended, NoToken};

    /// Sends the request `build` makes with the in-memory access token; if the service refuses
    /// the token (it expired, or its key was rotated away), once more with a renewed one.
    async fn send_authorised(
        service: Service,
        build: impl Fn(RequestBuilder) -> Result<Request, gloo_net::Error>,
        start: impl Fn() -> RequestBuilder,
    ) -> ServiceResult<Response> {
        let no_token = |problem: NoToken| match problem {
            NoToken::SessionEnded => {
                ServiceError::Refused { service, status: 401, detail: "Your session has ended.".to_owned() }
            }
            // Only the Order Service issues tokens.
            NoToken::Unreachable => ServiceError::Unreachable { service: Service::Orders },
        };
        let send = |token: String| {
            let request = build(start().header("Authorization", &format!("Bearer {token}")));
            async move {
                request
                    .map_err(|_| ServiceError::Unreachable { service })?
                    .send()
                    .await
                    .map_err(|_| ServiceError::Unreachable { service })
            }
        };
        let response = send(bearer().await.map_err(no_token)?).await?;
        if response.status() != 401 {
            return Ok(response);
        }
        let response = send(renew().await.map_err(no_token)?).await?;
        if response.status() == 401 {
            session_ended();
        }
        Ok(response)
    }

    /// A GET that is aborted when the view that asked for it goes away (the user navigated
    /// on). The browser's futures are not `Send`; they never leave its one thread, which
    /// `SendWrapper` asserts so that resources accept them.
    pub fn get(service: Service, url: String) -> impl Future<Output = ServiceResult<(String, Option<i64>)>> + Send {
        SendWrapper::new(async move {
            let controller = SendWrapper::new(web_sys::AbortController::new().ok());
            let signal = controller.as_ref().map(|c| c.signal());
            on_cleanup(move || {
                if let Some(controller) = controller.take() {
                    controller.abort();
                }
            });
            let response = send_authorised(
                service,
                |builder| builder.abort_signal(signal.as_ref()).build(),
                || Request::get(&url),
            )
            .await?;
            let total = response.headers().get(TOTAL_COUNT).and_then(|v| v.parse().ok());
            Ok((read(service, response).await?, total))
        })
    }

    pub fn send(
        service: Service,
        method: Method,
        url: String,
        body: Option<String>,
    ) -> impl Future<Output = ServiceResult<String>> + Send {
        SendWrapper::new(async move {
            let start = || match method {
                Method::Post => Request::post(&url),
                Method::Put => Request::put(&url),
                Method::Patch => Request::patch(&url),
                Method::Delete => Request::delete(&url),
            };
            let build = |builder: RequestBuilder| match &body {
                Some(body) => builder.header("content-type", "application/json").body(body.clone()),
                None => builder.build(),
            };
            let response = send_authorised(service, build, start).await?;
            read(service, response).await
        })
    }

    pub fn send_anonymous(
        service: Service,
        url: String,
        body: String,
    ) -> impl Future<Output = ServiceResult<String>> + Send {
        SendWrapper::new(async move {
            let request = Request::post(&url)
                .header("content-type", "application/json")
                .body(body)
                .map_err(|_| ServiceError::Unreachable { service })?;
            let response = request.send().await.map_err(|_| ServiceError::Unreachable { service })?;
            read(service, response).await
        })
    }

    /// The browser sets the multipart boundary itself, so no content type is given here.
    pub fn post_file(
        service: Service,
        url: String,
        field: &'static str,
        file: SendWrapper<web_sys::File>,
    ) -> impl Future<Output = ServiceResult<(u16, String)>> + Send {
        SendWrapper::new(async move {
            let unprepared = |_| ServiceError::Unreadable {
                service,
                problem: "the browser could not prepare the upload".to_owned(),
            };
            let form = web_sys::FormData::new().map_err(unprepared)?;
            form.append_with_blob_and_filename(field, &file, &file.name()).map_err(unprepared)?;
            let response =
                send_authorised(service, |builder| builder.body(form.clone()), || Request::post(&url)).await?;
            let status = response.status();
            Ok((status, read(service, response).await?))
        })
    }

    async fn read(service: Service, response: Response) -> ServiceResult<String> {
        let status = response.status();
        let body = response.text().await.map_err(|_| ServiceError::Unreachable { service })?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(refused(service, status, &body))
        }
    }
}
