//! Starts the Order Service with the settings of the environment; Ctrl-C or SIGTERM stops it.

use order_svc::config::Config;
use order_svc::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info");
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    println!("order-svc listening on http://127.0.0.1:{}", app.port());
    app.run_until_stopped(platform::http::shutdown_on_signal()).await
}
