//! Starts the Payment Service with settings from the environment; Ctrl-C or SIGTERM stops it.

use payment_svc::config::Config;
use payment_svc::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info");
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    println!("payment-svc listening on http://127.0.0.1:{}", app.port());
    app.run_until_stopped(platform::http::shutdown_on_signal()).await
}
