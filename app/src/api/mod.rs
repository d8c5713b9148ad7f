//! The dashboard's calls to the three services' REST APIs: one client module per service,
//! over one transport (`fetch`) that runs with reqwest while the server renders a page and
//! with gloo-net in the browser after hydration, so both see the same data the same way.

mod fetch;
pub mod imports;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod session;
pub mod users;

use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the platform's services, as the dashboard names it to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Service {
    Orders,
    Payments,
    Notifications,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Orders, Service::Payments, Service::Notifications];

    pub fn name(self) -> &'static str {
        match self {
            Service::Orders => "Order Service",
            Service::Payments => "Payment Service",
            Service::Notifications => "Notification Service",
        }
    }
}

/// Where each service answers. The same addresses serve the server-side render and the
/// browser (the dashboard runs beside the services), so the server hands its own to the
/// page in `<meta>` tags and the browser reads them back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUrls {
    pub orders: String,
    pub payments: String,
    pub notifications: String,
}

impl Default for ServiceUrls {
    fn default() -> Self {
        ServiceUrls {
            orders: "http://127.0.0.1:8000".into(),
            payments: "http://127.0.0.1:8001".into(),
            notifications: "http://127.0.0.1:8002".into(),
        }
    }
}

impl ServiceUrls {
    /// The `<meta name=…>` that carries each address into the page.
    pub const META_NAMES: [(Service, &'static str); 3] = [
        (Service::Orders, "order-service-url"),
        (Service::Payments, "payment-service-url"),
        (Service::Notifications, "notification-service-url"),
    ];

    pub fn of(&self, service: Service) -> &str {
        match service {
            Service::Orders => &self.orders,
            Service::Payments => &self.payments,
            Service::Notifications => &self.notifications,
        }
    }

    /// `base + path` for one service.
    pub fn url(&self, service: Service, path: &str) -> String {
        format!("{}{path}", self.of(service).trim_end_matches('/'))
    }

    /// The addresses of this render: on the server, the ones `main` put in the context; in
    /// the browser, the ones the server wrote into the page.
    pub fn current() -> ServiceUrls {
        #[cfg(feature = "ssr")]
        {
            leptos::prelude::use_context::<ServiceUrls>().unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            let document = leptos::prelude::document();
            let read = |name: &str| {
                document
                    .query_selector(&format!("meta[name=\"{name}\"]"))
                    .ok()
                    .flatten()
                    .and_then(|meta| meta.get_attribute("content"))
            };
            let defaults = ServiceUrls::default();
            ServiceUrls {
                orders: read(Self::META_NAMES[0].1).unwrap_or(defaults.orders),
                payments: read(Self::META_NAMES[1].1).unwrap_or(defaults.payments),
                notifications: read(Self::META_NAMES[2].1).unwrap_or(defaults.notifications),
            }
        }
    }
}

/// Why a call to a service did not give the dashboard what it asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceError {
    /// No answer: the service is down, restarting or too slow.
    Unreachable { service: Service },
    /// An answer with an error status; `detail` is the service's own explanation.
    Refused { service: Service, status: u16, detail: String },
    /// An answer the dashboard could not read (a version mismatch between the two).
    Unreadable { service: Service, problem: String },
}

impl ServiceError {
    pub fn service(&self) -> Service {
        match self {
            ServiceError::Unreachable { service }
            | ServiceError::Refused { service, .. }
            | ServiceError::Unreadable { service, .. } => *service,
        }
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, ServiceError::Unreachable { .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ServiceError::Refused { status: 404, .. })
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Unreachable { service } => write!(f, "The {} is not answering.", service.name()),
            ServiceError::Refused { detail, .. } => f.write_str(detail),
            ServiceError::Unreadable { service, problem } => {
                write!(f, "The {} sent an answer the dashboard cannot read ({problem}).", service.name())
            }
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// One page of a list, with the total the service reported in `X-Total-Count`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Whether the service answers its `/health` probe.
pub async fn is_healthy(urls: &ServiceUrls, service: Service) -> bool {
    fetch::get_json::<serde_json::Value>(service, urls.url(service, "/health")).await.is_ok()
}
