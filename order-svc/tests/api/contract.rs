//! The OpenAPI documents are the services' contract, and this test holds each service to its
//! own: schemathesis generates requests from the document — valid ones, which must be
//! accepted, and invalid ones, which must be refused — and checks every answer against it
//! (status codes, bodies, headers, content types, authentication, undeclared methods), with
//! every check it has. A route that drifts from its document fails here.
//!
//! schemathesis is the version the Makefile pins (`make setup` installs it under
//! `target/schemathesis`; `SCHEMATHESIS` names another). What its configuration sets, and why,
//! is in `contract/schemathesis.toml`. The seed is fixed, so a run is repeatable;
//! `CONTRACT_SEED` tries another, `CONTRACT_EXAMPLES` more cases per operation.

use std::path::PathBuf;
use std::time::Duration;

use platform::api::auth::Role;
use platform::api::imports::Import;
use platform::api::notifications::{NotificationStatus, TemplateName};
use reqwest::header::CONTENT_TYPE;

use crate::helpers::spawn_platform;

const EXAMPLES_PER_OPERATION: &str = "30";
const SEED: &str = "20261202";

fn schemathesis() -> PathBuf {
    let path = std::env::var_os("SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis/bin/st"));
    assert!(path.exists(), "{} is missing: `make setup` installs schemathesis", path.display());
    path
}

fn contract_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/contract")
}

#[tokio::test]
async fn every_service_answers_exactly_as_its_openapi_document_says() {
    let st = schemathesis();
    let app = spawn_platform().await;
    let token = app.token_of_role(Role::Admin).await;
    // An import, so that the operations on one have something to find (a dry run: it is
    // final at once and creates no orders).
    let import = app
        .client
        .post(app.order_url("/api/v1/orders/imports?dry_run=true"))
        .header(CONTENT_TYPE, "text/csv")
        .body("order_ref,customer_email,customer_name,product_name,quantity,unit_price\nC-1,a@example.jp,青木,茶,1,500\nC-2,not-an-email,青木,茶,1,500\n")
        .send()
        .await
        .expect("an upload");
    assert_eq!(import.status(), 202);
    let import: Import = import.json().await.expect("an import");
    // And a paid order with its confirmation, so that listings have something in them.
    let order = app.paid_order().await;
    app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;

    let seed = std::env::var("CONTRACT_SEED").unwrap_or_else(|_| SEED.to_owned());
    let examples = std::env::var("CONTRACT_EXAMPLES").unwrap_or_else(|_| EXAMPLES_PER_OPERATION.to_owned());
    let mut failures = Vec::new();
    for (service, address) in [
        ("Order Service", &app.order_address),
        ("Payment Service", &app.payment_address),
        ("Notification Service", &app.notification_address),
    ] {
        let run = tokio::process::Command::new(&st)
            .current_dir(contract_dir())
            .env("CONTRACT_TOKEN", &token)
            .env("CONTRACT_IMPORT_ID", &import.id)
            .args(["--config-file", "schemathesis.toml", "--no-color", "run"])
            .arg(format!("{address}/openapi.json"))
            .args(["--url", address, "--max-examples", &examples, "--seed", &seed])
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(600), run)
            .await
            .unwrap_or_else(|_| panic!("schemathesis did not finish with the {service} within 10 minutes"))
            .expect("schemathesis runs");
        let report = String::from_utf8_lossy(&output.stdout);
        eprintln!("{service}: {}", report.lines().last().unwrap_or_default());
        if !output.status.success() {
            failures.push(format!(
                "==== {service} ({address}) ====\n{report}\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "the documents and the services disagree (seed {seed}):\n{}", failures.join("\n"));
}
