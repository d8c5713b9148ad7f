//! E-mail through SMTP (`smtp_url` set): a small RFC 5321 server inside the test receives
//! what lettre sends, and can refuse messages with a transient `451` to exercise retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform::api::notifications::NotificationStatus;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{base64_decode, decode_body, email_request, spawn_app_with, TestApp};

#[tokio::test]
async fn with_an_smtp_url_an_email_goes_to_the_smtp_server_and_no_eml_file_is_written() {
    let sink = SmtpSink::start(0).await;
    let app = spawn_app_with(|config| config.smtp_url = Some(sink.url())).await;

    let accepted = app.accept_email(&email_request(42)).await;
    let sent = app.wait_until_settled(accepted.id, Duration::from_secs(10)).await;
    assert_eq!(sent.status, NotificationStatus::Sent, "{sent:?}");
    assert_eq!(sent.attempts, 1);
    assert_eq!(sent.error, None);

    let delivered = sink.delivered();
    assert_eq!(delivered.len(), 1, "exactly one message reached the server: {delivered:?}");
    assert!(sink.refused().is_empty());
    let message = &delivered[0];
    assert_eq!(message.from, "noreply@example.co.jp", "the envelope sender");
    assert_eq!(message.recipients, ["tanaka@example.co.jp"], "the envelope recipients");

    let (headers, encoded_body) = message.data.split_once("\r\n\r\n").expect("headers and body");
    let message_id = format!("Message-ID: <notification-{}.", accepted.id);
    for header in ["From: ", "To: tanaka@example.co.jp", "Date: ", &message_id] {
        assert!(headers.contains(header), "missing {header:?} in\n{headers}");
    }
    assert!(headers.contains("noreply@example.co.jp"), "{headers}");
    let subject = header_value(headers, "Subject").unwrap_or_else(|| panic!("no Subject in\n{headers}"));
    assert_eq!(Some(subject), accepted.subject, "the e-mail carries the stored subject");
    let body = decode_body(headers, encoded_body).replace("\r\n", "\n");
    assert!(body.contains("田中 太郎 様"), "{body}");
    assert_eq!(body, accepted.body, "the e-mail carries the stored body");

    assert_no_eml_files(&app, accepted.id);
}

#[tokio::test]
async fn a_message_the_smtp_server_refuses_for_now_is_retried_and_then_sent() {
    let sink = SmtpSink::start(1).await;
    let app = spawn_app_with(|config| config.smtp_url = Some(sink.url())).await;

    let accepted = app.accept_email(&email_request(43)).await;
    let sent = app.wait_until_settled(accepted.id, Duration::from_secs(10)).await;
    assert_eq!(sent.status, NotificationStatus::Sent, "{sent:?}");
    assert_eq!(sent.attempts, 2, "one refused attempt, one delivered: {sent:?}");
    assert_eq!(sent.error, None, "a successful retry clears the error");

    let refused = sink.refused();
    let delivered = sink.delivered();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(delivered.len(), 1, "exactly one message was delivered: {delivered:?}");
    assert_eq!(delivered[0].recipients, ["tanaka@example.co.jp"]);
    let message_id = |data: &str| header_value(data.split_once("\r\n\r\n").expect("headers").0, "Message-ID");
    assert_eq!(
        message_id(&refused[0].data),
        message_id(&delivered[0].data),
        "the retry is recognisably the same message"
    );

    assert_no_eml_files(&app, accepted.id);
}

fn assert_no_eml_files(app: &TestApp, id: i64) {
    assert!(!app.mail_file(id).exists(), "an .eml file was written although SMTP is configured");
    if let Ok(entries) = std::fs::read_dir(&app.config.mail_dir) {
        let names: Vec<_> = entries.map(|entry| entry.expect("directory entry").file_name()).collect();
        assert!(names.is_empty(), "the mail folder should stay empty: {names:?}");
    }
}

/// One mail transaction the server saw through to the end of its data.
#[derive(Debug, Clone)]
struct Received {
    /// The reverse path of `MAIL FROM:<…>`.
    from: String,
    /// The forward paths of every accepted `RCPT TO:<…>`.
    recipients: Vec<String>,
    /// The message as the client meant it: dot-stuffing undone, the final `CRLF . CRLF`
    /// removed.
    data: String,
}

#[derive(Debug, Default)]
struct Mailbox {
    delivered: Vec<Received>,
    /// Transactions answered with `451` after their data.
    refused: Vec<Received>,
}

/// A plain-text SMTP server on a free local port; it does not offer STARTTLS or AUTH.
struct SmtpSink {
    port: u16,
    mailbox: Arc<Mutex<Mailbox>>,
    accept_loop: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl SmtpSink {
    /// Starts the server; the first `refuse_first` messages are answered `451` after their
    /// data, as a busy or greylisting server would.
    async fn start(refuse_first: usize) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let port = listener.local_addr().expect("local address").port();
        let mailbox = Arc::new(Mutex::new(Mailbox::default()));
        let refusals_left = Arc::new(AtomicUsize::new(refuse_first));
        let accept_loop = tokio::spawn({
            let mailbox = mailbox.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (mailbox, refusals_left) = (mailbox.clone(), refusals_left.clone());
                    tokio::spawn(async move {
                        if let Err(err) = serve(stream, mailbox, refusals_left).await {
                            eprintln!("SMTP sink: connection ended with {err}");
                        }
                    });
                }
            }
        });
        SmtpSink { port, mailbox, accept_loop }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn delivered(&self) -> Vec<Received> {
        self.mailbox.lock().unwrap().delivered.clone()
    }

    fn refused(&self) -> Vec<Received> {
        self.mailbox.lock().unwrap().refused.clone()
    }
}

/// One SMTP session (RFC 5321 §4.1), until `QUIT` or the client hangs up.
async fn serve(
    stream: TcpStream,
    mailbox: Arc<Mutex<Mailbox>>,
    refusals_left: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(b"220 sink.test ESMTP ready\r\n").await?;

    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut reader).await? else {
            return Ok(());
        };
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => {
                greeted = true;
                from = None;
                recipients.clear();
                let client = line[4..].trim();
                if verb == "EHLO" {
                    format!(
                        "250-sink.test greets {client}\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 ENHANCEDSTATUSCODES"
                    )
                } else {
                    format!("250 sink.test greets {client}")
                }
            }
            "MAIL" if !greeted => "503 5.5.1 send EHLO first".into(),
            "MAIL" => match path_argument(&line, "MAIL FROM:") {
                Some(path) => {
                    from = Some(path);
                    recipients.clear();
                    "250 2.1.0 sender OK".into()
                }
                None => "501 5.5.4 syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" if from.is_none() => "503 5.5.1 send MAIL first".into(),
            "RCPT" => match path_argument(&line, "RCPT TO:") {
                Some(path) => {
                    recipients.push(path);
                    "250 2.1.5 recipient OK".into()
                }
                None => "501 5.5.4 syntax: RCPT TO:<address>".into(),
            },
            "DATA" if recipients.is_empty() => "554 5.5.1 no valid recipients".into(),
            "DATA" => {
                writer.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let Some(data) = read_data(&mut reader).await? else {
                    return Ok(());
                };
                let message = Received {
                    from: from.take().expect("MAIL came first"),
                    recipients: std::mem::take(&mut recipients),
                    data,
                };
                let refuse =
                    refusals_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                let mut mailbox = mailbox.lock().unwrap();
                if refuse {
                    mailbox.refused.push(message);
                    "451 4.3.0 try again later".into()
                } else {
                    mailbox.delivered.push(message);
                    format!("250 2.0.0 OK queued as {}", mailbox.delivered.len())
                }
            }
            "RSET" => {
                from = None;
                recipients.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                writer.write_all(b"221 2.0.0 sink.test closing connection\r\n").await?;
                return Ok(());
            }
            _ => "500 5.5.2 command not recognized".into(),
        };
        writer.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// A command line without its CRLF; `None` when the client hung up.
async fn read_line(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned()))
}

/// The message after `354`, up to the `CRLF . CRLF` that ends it (RFC 5321 §4.1.1.4),
/// with the leading dot that transparency added to lines removed (§4.5.2).
async fn read_data(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" {
            break;
        }
        data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
    }
    // The CRLF before the final dot belongs to the terminator, not to the message.
    if data.ends_with(b"\r\n") {
        data.truncate(data.len() - 2);
    }
    Ok(Some(String::from_utf8_lossy(&data).into_owned()))
}

/// The address in `MAIL FROM:<address> [parameters]` or `RCPT TO:<address> [parameters]`.
fn path_argument(line: &str, prefix: &str) -> Option<String> {
    if !line.get(..prefix.len())?.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = line[prefix.len()..].trim_start().strip_prefix('<')?;
    let (path, _parameters) = rest.split_once('>')?;
    Some(path.to_owned())
}

/// A header's value, unfolded and with RFC 2047 encoded words decoded.
fn header_value(headers: &str, name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    let mut lines = headers.split("\r\n");
    let first = lines.find(|line| line.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(&prefix)))?;
    let mut value = first[prefix.len()..].to_owned();
    for continuation in lines.take_while(|line| line.starts_with([' ', '\t'])) {
        value.push_str(continuation);
    }
    Some(decode_encoded_words(&value))
}

/// Decodes `=?utf-8?b?…?=` / `=?utf-8?q?…?=` words; whitespace between two encoded words is
/// dropped (RFC 2047 §6.2), other text is kept with single spaces.
fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut previous_was_encoded = false;
    for token in value.split_whitespace() {
        match encoded_word(token) {
            Some(bytes) => {
                if !previous_was_encoded && !out.is_empty() {
                    out.push(' ');
                }
                pending.extend(bytes);
                previous_was_encoded = true;
            }
            None => {
                out.push_str(&String::from_utf8(std::mem::take(&mut pending)).expect("UTF-8 header"));
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                previous_was_encoded = false;
            }
        }
    }
    out.push_str(&String::from_utf8(pending).expect("UTF-8 header"));
    out
}

fn encoded_word(token: &str) -> Option<Vec<u8>> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    assert!(charset.eq_ignore_ascii_case("utf-8"), "unexpected charset in {token:?}");
    if encoding.eq_ignore_ascii_case("b") {
        Some(base64_decode(text))
    } else if encoding.eq_ignore_ascii_case("q") {
        let mut out = Vec::new();
        let mut bytes = text.bytes();
        while let Some(byte) = bytes.next() {
            match byte {
                b'_' => out.push(b' '),
                b'=' => {
                    let hex = [bytes.next()?, bytes.next()?];
                    out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
                }
                other => out.push(other),
            }
        }
        Some(out)
    } else {
        None
    }
}
