//! Bulk import over real HTTP, across the three services: files in each encoding and shape
//! become paid and notified orders; bad rows fail only their own order; limits, re-uploads,
//! dry runs, the notify modes, the event stream, and restarts in the middle of an import.

use platform::on_db;
use std::time::Duration;

use platform::api::imports::{Import, ImportError, ImportStatus};
use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use platform::api::payments::PaymentStatus;
use platform::Yen;
use reqwest::header::CONTENT_TYPE;

use crate::helpers::{detail_of, spawn_platform, spawn_platform_with, wait_for, TestPlatform, PATIENCE};

const HEADER: &str = "order_ref,customer_email,customer_name,product_name,quantity,unit_price,currency";

/// A multipart/form-data body with the file in the field `file`, and its content type.
fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----import-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestPlatform {
    async fn upload(&self, bytes: &[u8], query: &str) -> reqwest::Response {
        self.upload_with(bytes, query, None).await
    }

    async fn upload_with(&self, bytes: &[u8], query: &str, key: Option<&str>) -> reqwest::Response {
        let (content_type, body) = multipart("orders.csv", bytes);
        let mut request = self
            .client
            .post(self.order_url(&format!("/api/v1/orders/imports{query}")))
            .header(CONTENT_TYPE, content_type)
            .body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("upload answered")
    }

    /// Uploads and expects a new import (202).
    async fn start_import(&self, bytes: &[u8], query: &str) -> Import {
        let response = self.upload(bytes, query).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 202, "upload: {text}");
        serde_json::from_str(&text).expect("an Import body")
    }

    async fn import(&self, id: &str) -> Import {
        let response =
            self.client.get(self.order_url(&format!("/api/v1/orders/imports/{id}"))).send().await.expect("answered");
        assert_eq!(response.status(), 200);
        response.json().await.expect("an Import body")
    }

    /// The import history, newest first, as one answer.
    async fn import_history(&self) -> Vec<Import> {
        let response = self.client.get(self.order_url("/api/v1/orders/imports")).send().await.expect("answered");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a list of imports")
    }

    async fn wait_for_import(&self, id: &str, patience: Duration) -> Import {
        wait_for("the import to finish", patience, || async move {
            let import = self.import(id).await;
            import.status.is_final().then_some(import)
        })
        .await
    }

    async fn import_errors(&self, id: &str) -> Vec<ImportError> {
        let url = self.order_url(&format!("/api/v1/orders/imports/{id}/errors?limit=1000"));
        let response = self.client.get(url).send().await.expect("answered");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a list of errors")
    }

    /// Every order of the import, oldest first.
    async fn orders_of_batch(&self, batch_id: &str) -> Vec<Order> {
        let mut orders = Vec::new();
        loop {
            let query = format!("batch_id={batch_id}&limit=100&skip={}", orders.len());
            let page: Vec<Order> = self.list_orders(&query).await.json().await.expect("orders");
            if page.is_empty() {
                break;
            }
            orders.extend(page);
        }
        orders.reverse();
        orders
    }

    async fn total_orders(&self) -> i64 {
        on_db!(self.order_pool(), |e| sqlx::query_scalar("SELECT COUNT(*) FROM orders").fetch_one(e).await)
            .expect("count")
    }
}

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text.into_bytes()
}

/// `orders` orders of `items` items each, every order for its own customer.
fn generated(orders: usize, items: usize, tag: &str) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for order in 0..orders {
        for item in 0..items {
            text.push_str(&format!(
                "\n{tag}-{order},c{order}@example.jp,顧客{order},商品{item},{},{},JPY",
                item + 1,
                500 + item * 10
            ));
        }
    }
    text.push('\n');
    text.into_bytes()
}

#[tokio::test]
async fn a_file_becomes_paid_orders_grouped_by_reference_with_one_confirmation_each() {
    let app = spawn_platform().await;
    // A-1's rows are not adjacent; currency is optional.
    let file = csv(&[
        "A-1,tanaka@example.co.jp,田中太郎,ノートPC,1,89800,JPY",
        "B-7,suzuki@example.jp,鈴木花子,マウス,2,1980,",
        "A-1,tanaka@example.co.jp,田中太郎,USBケーブル,3,500,JPY",
    ]);
    let accepted = app.start_import(&file, "").await;
    assert!(matches!(accepted.status, ImportStatus::Validating | ImportStatus::Processing), "{accepted:?}");
    assert_eq!((accepted.total_rows, accepted.total_orders), (3, 2));
    assert_eq!(accepted.encoding, "utf-8");
    assert!(!accepted.dry_run);

    let done = app.wait_for_import(&accepted.id, PATIENCE).await;
    assert_eq!(done.status, ImportStatus::Completed, "{done:?}");
    assert_eq!((done.processed_orders, done.succeeded_orders, done.failed_orders), (2, 2, 0));
    assert!(done.finished_at.is_some());

    let orders = app.orders_of_batch(&accepted.id).await;
    assert_eq!(orders.len(), 2);
    let a1 = orders.iter().find(|o| o.order_ref.as_deref() == Some("A-1")).expect("A-1 imported");
    assert_eq!(a1.batch_id.as_deref(), Some(accepted.id.as_str()));
    assert_eq!(a1.status, OrderStatus::Paid);
    assert_eq!(a1.items.iter().map(|i| i.product_name.as_str()).collect::<Vec<_>>(), ["ノートPC", "USBケーブル"]);
    assert_eq!(a1.total_amount, Yen::new(89_800 + 1_500));
    let payment = app.payment_of(a1.id).await;
    assert_eq!((payment.status, payment.amount), (PaymentStatus::Completed, Yen::new(91_300)));
    let history = app.history_of(a1.id).await;
    assert_eq!(history.last().map(|h| h.to_status), Some(OrderStatus::Paid));

    for order in &orders {
        let email =
            app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
        assert_eq!(email.recipient, order.customer_email);
    }
    app.wait_until_outboxes_drained().await;
    for order in &orders {
        assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1, "exactly once");
    }
}

#[tokio::test]
async fn shift_jis_with_japanese_headers_and_crlf_is_read_as_excel_saved_it() {
    let app = spawn_platform().await;
    let text = "通貨,注文番号,顧客名,メールアドレス,商品名,数量,単価,備考\r\n\
                JPY,注-1,山田一郎,yamada@example.jp,\"緑茶, 特上\",2,1200,急ぎ\r\n\
                ,注-2,佐藤次郎,sato@example.jp,抹茶,1,3000,\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    let accepted = app.start_import(&bytes, "").await;
    assert_eq!(accepted.encoding, "shift_jis");
    assert_eq!(accepted.unknown_columns, ["備考"]);
    let done = app.wait_for_import(&accepted.id, PATIENCE).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", app.import_errors(&accepted.id).await);
    let orders = app.orders_of_batch(&accepted.id).await;
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].customer_name, "山田一郎");
    assert_eq!(orders[0].items[0].product_name, "緑茶, 特上");
    assert_eq!(orders[0].total_amount, Yen::new(2_400));

    // The same text as UTF-8 with a BOM is the same orders (a different file, so a new import).
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.replace("注-", "BOM-").as_bytes());
    let with_bom = app.start_import(&bom, "").await;
    assert_eq!(with_bom.encoding, "utf-8-bom");
    assert_eq!(app.wait_for_import(&with_bom.id, PATIENCE).await.succeeded_orders, 2);
    let orders = app.orders_of_batch(&with_bom.id).await;
    assert_eq!(orders[0].order_ref.as_deref(), Some("BOM-1"), "the BOM is not part of the first header");

    // An explicit encoding overrides detection: these Shift_JIS bytes are not UTF-8.
    let forced = app.upload(&bytes, "?encoding=utf-8&dry_run=true").await;
    let detail = detail_of(forced, 422, "Shift_JIS read as UTF-8").await;
    assert!(detail.to_lowercase().contains("utf-8"), "{detail}");
}

#[tokio::test]
async fn quoted_fields_with_line_breaks_keep_the_line_numbers_of_later_rows_right() {
    let app = spawn_platform().await;
    // Line 2 spans lines 2–4; the bad e-mail is on line 5.
    let file = csv(&[
        "Q-1,q@example.jp,\"Quote \"\"Q\"\" Name\",\"Multi\nline\nproduct\",1,1000,JPY",
        "Q-2,not-an-email,Bad,Thing,1,1000,JPY",
    ]);
    let accepted = app.start_import(&file, "").await;
    let done = app.wait_for_import(&accepted.id, PATIENCE).await;
    assert_eq!(done.status, ImportStatus::CompletedWithErrors);
    let errors = app.import_errors(&accepted.id).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 5);
    assert_eq!(errors[0].order_ref.as_deref(), Some("Q-2"));
    assert_eq!(errors[0].column.as_deref(), Some("customer_email"));
    let orders = app.orders_of_batch(&accepted.id).await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].customer_name, "Quote \"Q\" Name");
    // A break inside a cell is layout: the name is read as one line, which an e-mail can carry.
    assert_eq!(orders[0].items[0].product_name, "Multi line product");
    app.wait_for_notification(orders[0].id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
}

#[tokio::test]
async fn each_invalid_row_fails_only_its_own_order_with_its_line_and_column() {
    let app = spawn_platform().await;
    let file = csv(&[
        "OK-1,ok@example.jp,良子,品,1,1000,JPY",  // 2
        "E-MAIL,bad-address,悪,品,1,1000,JPY",    // 3
        "E-QTY,q@example.jp,数,品,0,1000,JPY",    // 4
        "E-PRICE,p@example.jp,価,品,1,-5,JPY",    // 5
        "E-NAME,n@example.jp,,品,1,1000,JPY",     // 6
        "E-CUR,c@example.jp,通,品,1,1000,USD",    // 7
        "E-OVER,o@example.jp,超,品,2,600000,JPY", // 8
        "E-UNDER,u@example.jp,少,品,1,99,JPY",    // 9
        "E-MIX,m@example.jp,混,品,1,1000,JPY",    // 10
        "OK-2,ok2@example.jp,良二,品,1,2000,JPY", // 11
        "E-MIX,m@example.jp,混,品,abc,1000,JPY",  // 12: fails E-MIX's good row too
        "E-TEXT,t@example.jp,字,品,1,12.5,JPY",   // 13
    ]);
    let before = app.total_orders().await;
    let accepted = app.start_import(&file, "").await;
    assert_eq!(accepted.total_orders, 11);
    let done = app.wait_for_import(&accepted.id, PATIENCE).await;
    assert_eq!(done.status, ImportStatus::CompletedWithErrors);
    assert_eq!((done.succeeded_orders, done.failed_orders, done.processed_orders), (2, 9, 11));

    let errors = app.import_errors(&accepted.id).await;
    let at =
        |line: i64| errors.iter().find(|e| e.line == line).unwrap_or_else(|| panic!("no error at {line}: {errors:?}"));
    assert_eq!(at(3).column.as_deref(), Some("customer_email"));
    assert_eq!(at(4).column.as_deref(), Some("quantity"));
    assert_eq!(at(5).column.as_deref(), Some("unit_price"));
    assert_eq!(at(6).column.as_deref(), Some("customer_name"));
    assert_eq!(at(7).column.as_deref(), Some("currency"));
    assert!(at(8).message.contains("1,000,000"), "{:?}", at(8));
    assert!(at(9).message.contains("100"), "{:?}", at(9));
    assert_eq!(at(12).order_ref.as_deref(), Some("E-MIX"));
    assert_eq!(at(12).column.as_deref(), Some("quantity"));
    assert_eq!(at(13).column.as_deref(), Some("unit_price"));
    assert!(errors.iter().all(|e| e.line != 2 && e.line != 11), "valid rows are not reported: {errors:?}");

    let orders = app.orders_of_batch(&accepted.id).await;
    let refs: Vec<_> = orders.iter().map(|o| o.order_ref.clone().unwrap_or_default()).collect();
    assert_eq!(refs, ["OK-1", "OK-2"]);
    assert!(orders.iter().all(|o| o.status == OrderStatus::Paid));
    assert_eq!(app.total_orders().await, before + 2, "nothing of the failed orders was created");

    // The report as a download: a BOM, the header, one line per error.
    let url = app.order_url(&format!("/api/v1/orders/imports/{}/errors?format=csv", accepted.id));
    let response = app.client.get(url).send().await.expect("answered");
    assert_eq!(response.status(), 200);
    assert!(response.headers()[CONTENT_TYPE].to_str().unwrap_or_default().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap_or_default().contains("attachment"));
    let body = response.bytes().await.expect("body");
    assert!(body.starts_with(b"\xEF\xBB\xBFline,order_ref,column,message\n"));
    let text = String::from_utf8(body[3..].to_vec()).expect("UTF-8");
    assert_eq!(text.lines().count(), errors.len() + 1);
    assert!(text.contains("3,E-MAIL,customer_email,"), "{text}");
}

#[tokio::test]
async fn a_file_too_large_or_unreadable_is_refused_at_once_and_creates_nothing() {
    let app = spawn_platform().await;
    let mut huge = csv(&[]);
    huge.resize(20 * 1024 * 1024 + 1, b'\n');
    detail_of(app.upload(&huge, "").await, 413, "over 20 MB").await;

    let too_many = generated(10_001, 1, "MANY");
    let detail = detail_of(app.upload(&too_many, "").await, 422, "10,001 orders").await;
    assert!(detail.contains("10000") || detail.contains("10,000"), "{detail}");

    let missing = b"order_ref,customer_email,product_name,quantity,unit_price\nX,x@example.jp,p,1,100\n";
    let detail = detail_of(app.upload(missing, "").await, 422, "no customer_name column").await;
    assert!(detail.contains("customer_name"), "{detail}");
    detail_of(app.upload(b"", "").await, 422, "empty file").await;
    detail_of(app.upload(HEADER.as_bytes(), "").await, 422, "header only").await;
    let not_text = [0xFFu8, 0xFE, 0x00, 0x81, 0x00, 0xFF];
    detail_of(app.upload(&not_text, "").await, 422, "undecodable bytes").await;
    detail_of(app.upload(&csv(&[]), "?notify=loud").await, 422, "unknown notify mode").await;

    let json = app
        .client
        .post(app.order_url("/api/v1/orders/imports"))
        .json(&serde_json::json!({"file": "no"}))
        .send()
        .await
        .expect("answered");
    detail_of(json, 415, "a JSON body").await;

    let history = app.client.get(app.order_url("/api/v1/orders/imports")).send().await.expect("answered");
    assert_eq!(history.headers()["x-total-count"], "0");
    assert_eq!(app.total_orders().await, 0);
}

#[tokio::test]
async fn the_same_file_or_key_again_returns_the_existing_import_and_creates_nothing() {
    let app = spawn_platform().await;
    let file = generated(3, 2, "SAME");
    let first = app.start_import(&file, "").await;
    app.wait_for_import(&first.id, PATIENCE).await;

    let again = app.upload(&file, "?notify=none").await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Import>().await.expect("an Import").id, first.id);

    // A plain text/csv body of the same bytes is the same file.
    let raw = app
        .client
        .post(app.order_url("/api/v1/orders/imports"))
        .header(CONTENT_TYPE, "text/csv")
        .body(file.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.json::<Import>().await.expect("an Import").id, first.id);

    let other = generated(2, 1, "KEYED");
    let keyed = app.upload_with(&other, "", Some("upload-42")).await;
    assert_eq!(keyed.status(), 202);
    let keyed: Import = keyed.json().await.expect("an Import");
    let replay = app.upload_with(&other, "", Some("upload-42")).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Import>().await.expect("an Import").id, keyed.id);
    let reused = app.upload_with(&generated(1, 1, "OTHER"), "", Some("upload-42")).await;
    detail_of(reused, 409, "the key with another file").await;

    app.wait_for_import(&keyed.id, PATIENCE).await;
    assert_eq!(app.total_orders().await, 5, "3 + 2 orders, none twice");
    let history = app.client.get(app.order_url("/api/v1/orders/imports")).send().await.expect("answered");
    assert_eq!(history.headers()["x-total-count"], "2");
    let history: Vec<Import> = history.json().await.expect("imports");
    assert_eq!(history[0].id, keyed.id, "newest first");
}

#[tokio::test]
async fn a_failed_import_runs_again_when_its_file_is_uploaded_again() {
    // Every charge declined: no order can be imported.
    let mut app = spawn_platform_with(|c| c.payment.gateway.decline_rate = 1.0).await;
    let file = generated(3, 1, "RERUN");
    let keyed = app.upload_with(&file, "", Some("first-run")).await;
    assert_eq!(keyed.status(), 202);
    let first: Import = keyed.json().await.expect("an Import");
    let failed = app.wait_for_import(&first.id, PATIENCE).await;
    assert_eq!((failed.status, failed.failed_orders), (ImportStatus::Failed, 3), "{failed:?}");

    // Its key still names that import: a retried request is answered as before.
    let replay = app.upload_with(&file, "", Some("first-run")).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Import>().await.expect("an Import").id, first.id);

    // The gateway is well again, and the same bytes are a new run.
    app.stop_payment_service().await;
    app.payment_config().gateway.decline_rate = 0.0;
    app.restart_payment_service().await;
    let second = app.start_import(&file, "").await;
    assert_ne!(second.id, first.id);
    let done = app.wait_for_import(&second.id, PATIENCE).await;
    assert_eq!((done.status, done.succeeded_orders), (ImportStatus::Completed, 3), "{done:?}");
    let orders = app.orders_of_batch(&second.id).await;
    assert!(orders.iter().all(|o| o.status == OrderStatus::Paid), "{orders:?}");
    // The failed run's orders stay as it left them: unpaid, in its own batch.
    let unpaid = app.orders_of_batch(&first.id).await;
    assert!(unpaid.iter().all(|o| o.status == OrderStatus::Pending), "{unpaid:?}");

    // Now that the file has a run that did not fail, the same bytes are that run again.
    let again = app.upload(&file, "").await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Import>().await.expect("an Import").id, second.id);
}

#[tokio::test]
async fn imports_beyond_the_concurrency_wait_queued_and_start_in_turn_across_a_restart() {
    let mut app = spawn_platform_with(|c| {
        c.order.import_concurrency = 1;
        // Slow enough that the first import is still running when the others arrive.
        c.payment.gateway.latency = Duration::from_millis(300);
    })
    .await;
    let first = app.start_import(&generated(1_200, 1, "TURN-A"), "").await;
    let second = app.start_import(&generated(3, 1, "TURN-B"), "").await;
    let third = app.start_import(&generated(3, 1, "TURN-C"), "").await;
    assert_ne!(first.status, ImportStatus::Queued, "a free place: it starts at once");
    assert_eq!((second.status, third.status), (ImportStatus::Queued, ImportStatus::Queued));

    // Queued imports wait through a restart too, and then start oldest first, one at a time.
    app.restart_order_service().await;
    let ids = [first.id.clone(), second.id.clone(), third.id.clone()];
    let mut order_of_start: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + PATIENCE * 4;
    loop {
        let mut running = 0;
        let mut done = 0;
        // One list request is one read of the database: asking for each import in turn could see
        // the first still running and, a moment later, the second already started after it.
        let snapshot = app.import_history().await;
        for id in &ids {
            let import = snapshot.iter().find(|import| &import.id == id).expect("in the history");
            match import.status {
                ImportStatus::Queued => continue,
                status if status.is_final() => done += 1,
                _ => running += 1,
            }
            if !order_of_start.contains(id) {
                order_of_start.push(id.clone());
            }
        }
        assert!(running <= 1, "{running} imports running at once with IMPORT_CONCURRENCY=1");
        if done == ids.len() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the imports did not finish: {order_of_start:?} started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(order_of_start, ids, "oldest first");
    for import in [&first, &second, &third] {
        assert_eq!(app.import(&import.id).await.status, ImportStatus::Completed);
    }
}

#[tokio::test]
async fn a_dry_run_reports_everything_and_creates_nothing() {
    let app = spawn_platform().await;
    let file =
        csv(&["D-1,d@example.jp,乾,品,1,1000,JPY", "D-2,bad,乾,品,1,1000,JPY", "D-3,e@example.jp,乾,品,1,1000,JPY"]);
    let response = app.upload(&file, "?dry_run=true").await;
    assert_eq!(response.status(), 202);
    let dry: Import = response.json().await.expect("an Import");
    assert!(dry.dry_run);
    assert_eq!(dry.status, ImportStatus::CompletedWithErrors, "a dry run is final at once");
    assert_eq!((dry.succeeded_orders, dry.failed_orders, dry.error_count), (2, 1, 1));
    assert_eq!(app.import_errors(&dry.id).await[0].line, 3);
    assert_eq!(app.total_orders().await, 0);

    // Running it for real is another import of the same file.
    let real = app.start_import(&file, "").await;
    assert_ne!(real.id, dry.id);
    assert_eq!(app.wait_for_import(&real.id, PATIENCE).await.succeeded_orders, 2);
    assert_eq!(app.total_orders().await, 2);
}

#[tokio::test]
async fn digest_mode_sends_one_summary_per_customer_and_none_mode_sends_nothing() {
    let app = spawn_platform().await;
    let file = csv(&[
        "G-1,kato@example.jp,加藤,りんご,1,300,JPY",
        "G-2,ito@example.jp,伊藤,みかん,2,200,JPY",
        "G-3,KATO@example.jp,加藤,ぶどう,1,800,JPY",
    ]);
    let digest = app.start_import(&file, "?notify=digest").await;
    assert_eq!(app.wait_for_import(&digest.id, PATIENCE).await.status, ImportStatus::Completed);
    let orders = app.orders_of_batch(&digest.id).await;
    let kato = &orders[0];
    let summary = app.wait_for_notification(kato.id, TemplateName::OrderDigest, NotificationStatus::Sent).await;
    assert!(summary.body.contains("G-1") && summary.body.contains("G-3"), "{}", summary.body);
    app.wait_for_notification(orders[1].id, TemplateName::OrderDigest, NotificationStatus::Sent).await;
    app.wait_until_outboxes_drained().await;
    for order in &orders {
        assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 0);
    }
    assert_eq!(app.notification_count(orders[2].id, TemplateName::OrderDigest).await, 0, "filed under G-1");

    let silent = app.start_import(&generated(2, 1, "QUIET"), "?notify=none").await;
    assert_eq!(app.wait_for_import(&silent.id, PATIENCE).await.succeeded_orders, 2);
    app.wait_until_outboxes_drained().await;
    for order in app.orders_of_batch(&silent.id).await {
        assert_eq!(order.status, OrderStatus::Paid);
        assert!(app.notifications_for(order.id).await.is_empty(), "no e-mail for order {}", order.id);
    }
}

#[tokio::test]
async fn the_event_stream_reports_progress_until_the_import_ends() {
    let app = spawn_platform().await;
    let accepted = app.start_import(&generated(1_200, 2, "SSE"), "").await;
    let url = app.order_url(&format!("/api/v1/orders/imports/{}/events", accepted.id));
    let response = app.client.get(url).send().await.expect("answered");
    assert_eq!(response.status(), 200);
    assert!(response.headers()[CONTENT_TYPE].to_str().unwrap_or_default().starts_with("text/event-stream"));
    // The stream ends by itself after the final status.
    let body = tokio::time::timeout(PATIENCE * 3, response.text()).await.expect("the stream ends").expect("body");
    let events: Vec<Import> = body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| serde_json::from_str(data.trim()).expect("an Import per event"))
        .collect();
    assert!(body.contains("event: progress"));
    let last = events.last().expect("at least one event");
    assert_eq!(last.status, ImportStatus::Completed);
    assert_eq!(last.succeeded_orders, 1_200);
    assert!(events.windows(2).all(|w| w[0].processed_orders <= w[1].processed_orders), "progress only grows");
    assert!(events.iter().filter(|e| !e.status.is_final()).count() >= 1, "progress before the end");

    let unknown = app.client.get(app.order_url("/api/v1/orders/imports/nope/events")).send().await.expect("answered");
    detail_of(unknown, 404, "unknown import").await;
}

/// Every order of the import exists once, is paid once, and got one confirmation.
async fn assert_imported_exactly_once(app: &TestPlatform, import: &Import, orders: usize) {
    assert_eq!(import.status, ImportStatus::Completed, "{import:?}");
    assert_eq!(import.succeeded_orders, orders as i64);
    let imported = app.orders_of_batch(&import.id).await;
    assert_eq!(imported.len(), orders);
    assert_eq!(app.total_orders().await, orders as i64, "no order created twice");
    assert!(imported.iter().all(|o| o.status == OrderStatus::Paid));
    let payments: i64 =
        on_db!(app.payment_pool(), |e| sqlx::query_scalar("SELECT COUNT(*) FROM payments").fetch_one(e).await)
            .expect("count");
    assert_eq!(payments, orders as i64, "no order paid twice");
    app.wait_until_outboxes_drained().await;
    let confirmations: i64 = on_db!(app.notification_pool(), |e| sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE template = 'ORDER_CONFIRMATION'"
    )
    .fetch_one(e)
    .await)
    .expect("count");
    assert_eq!(confirmations, orders as i64, "one confirmation per order");
}

#[tokio::test]
async fn an_order_service_restart_mid_import_resumes_without_duplicates() {
    // A slow gateway keeps the import in progress long enough to restart in the middle.
    let mut app = spawn_platform_with(|c| c.payment.gateway.latency = Duration::from_millis(500)).await;
    let orders = 2_000;
    let accepted = app.start_import(&generated(orders, 2, "RESTART"), "").await;
    let id = accepted.id.as_str();
    let app_ref = &app;
    wait_for("some orders paid", PATIENCE * 3, || async move {
        let import = app_ref.import(id).await;
        (import.processed_orders > 0 && import.status == ImportStatus::Processing).then_some(())
    })
    .await;
    // A dashboard watching the import must not hold the shutdown up: its stream ends.
    let url = app.order_url(&format!("/api/v1/orders/imports/{id}/events"));
    let mut watching = app.client.get(url).send().await.expect("events answered");
    let first = watching.chunk().await.expect("a readable stream").expect("a first event");
    assert!(String::from_utf8_lossy(&first).contains("event: progress"));
    let watcher = tokio::spawn(async move { while let Ok(Some(_)) = watching.chunk().await {} });
    app.restart_order_service().await;
    tokio::time::timeout(PATIENCE, watcher).await.expect("the stream ended").expect("joined");
    let done = app.wait_for_import(id, PATIENCE * 6).await;
    assert_imported_exactly_once(&app, &done, orders).await;
}

#[tokio::test]
async fn payment_and_notification_restarts_mid_import_lose_nothing() {
    let mut app = spawn_platform_with(|c| c.payment.gateway.latency = Duration::from_millis(200)).await;
    let orders = 2_000;
    let accepted = app.start_import(&generated(orders, 1, "PEERS"), "").await;
    let id = accepted.id.as_str();
    let app_ref = &app;
    wait_for("some orders paid", PATIENCE, || async move {
        let import = app_ref.import(id).await;
        (import.processed_orders > 0).then_some(())
    })
    .await;
    app.stop_payment_service().await;
    app.stop_notification_service().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paused = app.import(id).await;
    assert_eq!(paused.status, ImportStatus::Processing, "the import waits for the Payment Service");
    app.restart_payment_service().await;
    app.restart_notification_service().await;
    let done = app.wait_for_import(id, PATIENCE * 3).await;
    assert_imported_exactly_once(&app, &done, orders).await;
}

#[tokio::test]
async fn payments_the_gateway_leaves_pending_keep_the_import_processing_until_they_settle() {
    let app = spawn_platform_with(|c| c.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred).await;
    let accepted = app.start_import(&generated(3, 1, "LATER"), "").await;
    let id = accepted.id.as_str();
    let app_ref = &app;
    let orders = wait_for("the orders created", PATIENCE, || async move {
        let orders = app_ref.orders_of_batch(id).await;
        (orders.len() == 3).then_some(orders)
    })
    .await;
    let mut transactions = Vec::new();
    for order in &orders {
        let payment = app.wait_for_payment(order.id).await;
        assert_eq!(payment.status, PaymentStatus::Pending);
        transactions.push(payment.transaction_id);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = app.import(id).await;
    assert_eq!(waiting.status, ImportStatus::Processing, "no outcome yet: {waiting:?}");
    assert_eq!(waiting.succeeded_orders, 0);

    // The gateway settles two and declines one.
    for (transaction, status) in transactions.iter().zip(["completed", "completed", "failed"]) {
        let event =
            serde_json::json!({"transaction_id": transaction, "status": status, "reason": "insufficient funds"});
        assert_eq!(app.gateway_event(&event).await.status(), 200);
    }
    let done = app.wait_for_import(id, PATIENCE).await;
    assert_eq!(done.status, ImportStatus::CompletedWithErrors, "{done:?}");
    assert_eq!((done.succeeded_orders, done.failed_orders), (2, 1));
    assert_eq!(app.order(orders[2].id).await.status, OrderStatus::Pending);
    app.wait_until_outboxes_drained().await;
    for order in &orders[..2] {
        assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
        assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1, "exactly once");
    }
    let errors = app.import_errors(id).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].order_ref.as_deref(), Some("LATER-2"));
}

#[tokio::test]
async fn orders_the_payment_webhook_pays_first_keep_their_imports_notify_mode() {
    let app = spawn_platform_with(|c| c.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred).await;
    let app_ref = &app;
    for (notify, tag) in [("none", "QUIET"), ("digest", "SUMMED")] {
        let accepted = app.start_import(&generated(2, 1, tag), &format!("?notify={notify}")).await;
        let id = accepted.id.as_str();
        let orders = wait_for("the orders created", PATIENCE, || async move {
            let orders = app_ref.orders_of_batch(id).await;
            (orders.len() == 2).then_some(orders)
        })
        .await;
        // The gateway settles them through its webhook, while the import waits for them.
        for order in &orders {
            let payment = app.wait_for_payment(order.id).await;
            let event = serde_json::json!({"transaction_id": payment.transaction_id, "status": "completed"});
            assert_eq!(app.gateway_event(&event).await.status(), 200);
        }
        assert_eq!(app.wait_for_import(id, PATIENCE).await.status, ImportStatus::Completed);
        app.wait_until_outboxes_drained().await;
        for order in &orders {
            assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
            assert_eq!(
                app.notification_count(order.id, TemplateName::OrderConfirmation).await,
                0,
                "notify={notify}: the webhook that paid it sent no confirmation of its own"
            );
        }
        let digests = app.notification_count(orders[0].id, TemplateName::OrderDigest).await
            + app.notification_count(orders[1].id, TemplateName::OrderDigest).await;
        assert_eq!(digests, usize::from(notify == "digest") * 2, "notify={notify}: one digest per customer");
    }
}
