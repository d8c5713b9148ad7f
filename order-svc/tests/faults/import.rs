//! A 10,000-order import through SIGKILLs of each service in the middle of it: it resumes, and
//! every order is created, charged and confirmed exactly once.

use std::time::Duration;

use serde_json::Value;

use crate::cluster::{wait_until, Cluster, Service};
use crate::settled::assert_settled;

const ORDERS: usize = 10_000;
const PATIENCE: Duration = Duration::from_secs(300);

/// `orders` one-line orders, each for its own customer, referenced `{prefix}-{n}`.
pub fn file(orders: usize, prefix: &str) -> Vec<u8> {
    let mut text = String::from("order_ref,customer_email,customer_name,product_name,quantity,unit_price,currency");
    for n in 0..orders {
        text.push_str(&format!("\n{prefix}-{n},c{n}@example.jp,顧客{n},商品,{},{},JPY", n % 3 + 1, 500 + n % 7 * 100));
    }
    text.push('\n');
    text.into_bytes()
}

/// Uploads `file` as an import whose notifications are `notify`; returns the import's id.
pub async fn upload(cluster: &Cluster, token: &str, file: &[u8], notify: &str) -> String {
    let boundary = "----faults-import-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"orders.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = cluster
        .http
        .post(cluster.url(Service::Order, &format!("/api/v1/orders/imports?notify={notify}")))
        .bearer_auth(token)
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("the upload is answered");
    assert_eq!(response.status(), 202, "accepted");
    let accepted: Value = response.json().await.expect("an Import body");
    accepted["id"].as_str().expect("an import id").to_owned()
}

/// The import's processed orders, as its own page says (None while the service is down).
pub async fn processed(cluster: &Cluster, token: &str, id: &str) -> Result<(i64, String), String> {
    let import: Value = cluster
        .http
        .get(cluster.url(Service::Order, &format!("/api/v1/orders/imports/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|err| err.to_string())?
        .json()
        .await
        .map_err(|err| err.to_string())?;
    Ok((import["processed_orders"].as_i64().unwrap_or(0), import["status"].as_str().unwrap_or("").to_owned()))
}

async fn wait_for_processed(cluster: &Cluster, token: &str, id: &str, at_least: i64) {
    wait_until(&format!("{at_least} orders processed"), PATIENCE, || async {
        let (done, status) = processed(cluster, token, id).await?;
        if done >= at_least {
            Ok(())
        } else {
            Err(format!("{done} processed, {status}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_ten_thousand_order_import_survives_sigkills_of_every_service() {
    let mut cluster = Cluster::start(&[("PAYMENT_GATEWAY_LATENCY_MS", "20")]).await;
    let token = cluster.token().await.expect("a token");
    let id = upload(&cluster, &token, &file(ORDERS, "KILL"), "per_order").await;

    wait_for_processed(&cluster, &token, &id, 1_500).await;
    cluster.kill(Service::Order);
    cluster.start_service(Service::Order).await;

    wait_for_processed(&cluster, &token, &id, 4_000).await;
    cluster.kill(Service::Payment);
    cluster.kill(Service::Notification);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.start_service(Service::Payment).await;
    cluster.start_service(Service::Notification).await;

    wait_for_processed(&cluster, &token, &id, 7_000).await;
    cluster.kill(Service::Order);
    cluster.start_service(Service::Order).await;

    let settled = assert_settled(&cluster, PATIENCE).await;
    let (done, status) = processed(&cluster, &token, &id).await.expect("the import page");
    assert_eq!((done, status.as_str()), (ORDERS as i64, "completed"));
    assert_eq!(settled.orders.len(), ORDERS, "no order created twice");
    assert_eq!(settled.orders_in("paid"), ORDERS);
    assert_eq!(settled.payments.len(), ORDERS, "no order paid twice");
    assert_eq!(settled.gateway.len(), ORDERS, "no charge made twice");
    let confirmations = settled.notices.keys().filter(|(_, template)| template == "ORDER_CONFIRMATION").count();
    assert_eq!(confirmations, ORDERS, "one confirmation per order");
}
