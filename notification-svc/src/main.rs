//! Starts the Notification Service with settings from the environment.

use notification_svc::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("info");
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    println!("notification-svc listening on http://127.0.0.1:{}", app.port());
    app.run_until_stopped(platform::http::shutdown_on_signal()).await
}
