//! The dashboard's server: renders each page with the services' data (leptos_axum) and serves
//! the WASM, JavaScript and CSS that cargo-leptos built into the site directory.
//!
//! Every page but the sign-in ones is behind `sign_in::guard`, and `/session/*` are the
//! dashboard's own sign-in endpoints (see `app::sign_in`).
//!
//! Configuration: cargo-leptos's `LEPTOS_*` variables (address, site root; defaults from the
//! workspace's `[[workspace.metadata.leptos]]`), and `ORDER_SERVICE_URL`,
//! `PAYMENT_SERVICE_URL`, `NOTIFICATION_SERVICE_URL` for the services (defaults: ports
//! 8000–8002 on 127.0.0.1). The browser calls the same addresses, so they must be reachable
//! from it, and each service must allow this dashboard's origin through CORS.
//! `DASHBOARD_SECURE_COOKIE=true` (the default when `APP_ENV=production`) marks the session
//! cookie `Secure`, for a dashboard served over HTTPS.

use app::api::ServiceUrls;
use app::sign_in::{self, SessionSettings};
use app::{shell, App};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let options = get_configuration(None)?.leptos_options;
    let address = options.site_addr;
    let urls = service_urls_from_env();
    let production = std::env::var("APP_ENV").is_ok_and(|env| env.eq_ignore_ascii_case("production"));
    let secure_cookie = std::env::var("DASHBOARD_SECURE_COOKIE").map_or(production, |v| v.eq_ignore_ascii_case("true"));
    let sessions = SessionSettings::new(&urls.orders, secure_cookie);
    let routes = generate_route_list(App);
    let context = move || provide_context(urls.clone());
    let router = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(axum::middleware::from_fn_with_state(sessions.clone(), sign_in::guard))
        .merge(sign_in::routes(sessions));

    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!("dashboard listening on http://{address}");
    // The client's address goes to the Order Service, which throttles failed sign-ins by it.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(stop_signal()).await?;
    Ok(())
}

fn service_urls_from_env() -> ServiceUrls {
    let defaults = ServiceUrls::default();
    let read =
        |name: &str, default: String| std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or(default);
    ServiceUrls {
        orders: read("ORDER_SERVICE_URL", defaults.orders),
        payments: read("PAYMENT_SERVICE_URL", defaults.payments),
        notifications: read("NOTIFICATION_SERVICE_URL", defaults.notifications),
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish the pages being rendered.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
