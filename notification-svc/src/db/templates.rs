//! The `notification_templates` catalogue (seeded by the migrations).

use platform::api::notifications::{Channel, Template, TemplateName};

#[derive(Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub name: String,
    pub channel: String,
    pub subject: Option<String>,
    pub description: String,
}

impl TryFrom<TemplateRow> for Template {
    type Error = anyhow::Error;

    fn try_from(row: TemplateRow) -> anyhow::Result<Template> {
        Ok(Template {
            name: TemplateName::parse(&row.name)
                .ok_or_else(|| anyhow::anyhow!("unknown template name {:?} in the database", row.name))?,
            channel: Channel::parse(&row.channel)
                .ok_or_else(|| anyhow::anyhow!("unknown channel {:?} in the database", row.channel))?,
            subject: row.subject,
            description: row.description,
        })
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(pool: &platform::db::Pool) -> sqlx::Result<Vec<TemplateRow>> {
    platform::on_db!(pool, |e| sqlx::query_as(
        "SELECT name, channel, subject, description FROM notification_templates
         ORDER BY CASE name WHEN 'ORDER_CONFIRMATION' THEN 0 WHEN 'ORDER_SHIPPED' THEN 1
                       WHEN 'ORDER_CANCELLED' THEN 2 ELSE 3 END,
                  channel",
    )
    .fetch_all(e)
    .await)
}
