//! The outside world a message leaves through: an e-mail transport (RFC 5322 `.eml` files
//! by default, SMTP through lettre when `SMTP_URL` is set) and an SMS gateway simulator
//! that writes `.txt` files.
//!
//! This is the only place anything is simulated, and it can fail like the real thing: with
//! probability `failure_rate` a send is refused, so retries and FAILED are exercised.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use platform::api::notifications::Channel;

use crate::config::Config;

pub const SIMULATED_FAILURE: &str = "simulated transport failure";

/// One message on its way out, exactly as stored.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

enum EmailTransport {
    /// Each message becomes `<id>.eml` in this folder.
    EmlFiles(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Transport {
    from: Mailbox,
    email: EmailTransport,
    sms_dir: PathBuf,
    failure_rate: f64,
    /// Inside the sender's lease, so a slow server cannot make a second round pick up a
    /// message still being sent.
    timeout: Duration,
}

impl Transport {
    /// Checks the sender address and SMTP URL now, so a bad setting stops the start-up
    /// instead of failing every message later.
    pub fn from_config(config: &Config) -> anyhow::Result<Transport> {
        let from = Mailbox::from_str(&config.from)
            .map_err(|err| anyhow::anyhow!("NOTIFICATION_FROM={:?} is not a valid mailbox: {err}", config.from))?;
        let email = match &config.smtp_url {
            Some(url) => EmailTransport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| anyhow::anyhow!("SMTP_URL is invalid: {err}"))?
                    .timeout(Some(config.send_timeout))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&config.mail_dir)?;
                EmailTransport::EmlFiles(config.mail_dir.clone())
            }
        };
        std::fs::create_dir_all(&config.sms_dir)?;
        Ok(Transport {
            from,
            email,
            sms_dir: config.sms_dir.clone(),
            failure_rate: config.failure_rate,
            timeout: config.send_timeout,
        })
    }

    /// Sends one message; the error text is what gets stored on the notification.
    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), String> {
        if self.failure_rate > 0.0 && rand::random::<f64>() < self.failure_rate {
            return Err(SIMULATED_FAILURE.to_owned());
        }
        let sending = async {
            match message.channel {
                Channel::Email => self.send_email(message).await,
                Channel::Sms => self.send_sms(message).await,
            }
        };
        tokio::time::timeout(self.timeout, sending)
            .await
            .unwrap_or_else(|_| Err(format!("not sent within {} s", self.timeout.as_secs())))
    }

    async fn send_email(&self, message: &OutgoingMessage) -> Result<(), String> {
        let email = self.build_email(message)?;
        match &self.email {
            EmailTransport::EmlFiles(dir) => write_atomically(dir, &format!("{}.eml", message.id), &email.formatted())
                .await
                .map_err(|err| format!("could not write {}.eml: {err}", message.id)),
            EmailTransport::Smtp(smtp) => smtp.send(email).await.map(|_| ()).map_err(|err| format!("SMTP: {err}")),
        }
    }

    fn build_email(&self, message: &OutgoingMessage) -> Result<Message, String> {
        let to = Mailbox::from_str(&message.recipient)
            .map_err(|err| format!("recipient {:?} is not a valid mailbox: {err}", message.recipient))?;
        // Stable across retries of the same notification, so a receiving system can tell a
        // resend from a new message.
        let message_id = format!(
            "<notification-{}.{}@{}>",
            message.id,
            message.created_at.timestamp_millis(),
            self.from.email.domain()
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .date_now()
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|err| format!("could not build the e-mail: {err}"))
    }

    async fn send_sms(&self, message: &OutgoingMessage) -> Result<(), String> {
        let text = format!(
            "To: {}\nDate: {}\nNotification-Id: {}\n\n{}\n",
            message.recipient,
            Utc::now().to_rfc3339(),
            message.id,
            message.body
        );
        write_atomically(&self.sms_dir, &format!("{}.txt", message.id), text.as_bytes())
            .await
            .map_err(|err| format!("SMS gateway: could not write {}.txt: {err}", message.id))
    }
}

/// Writes a temporary file beside the target and renames it into place: the rename is
/// atomic within a folder, so a reader (or a crash) never sees half a message.
async fn write_atomically(dir: &Path, file_name: &str, contents: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;

    tokio::fs::create_dir_all(dir).await?;
    let temp = dir.join(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4()));
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(contents).await?;
        file.sync_all().await?;
        tokio::fs::rename(&temp, dir.join(file_name)).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}
