//! The last touches every service's OpenAPI document gets before it is served.
//!
//! Some answers come from the platform rather than from a route — the extractors refuse an
//! unreadable body or parameter, the body limit refuses a large one, the bearer check refuses a
//! missing token — so every route can give them. `complete` adds them to each operation that
//! can give them, from what the operation declares (a body, parameters, a security scheme),
//! so that no route has to list them and none can forget one. A route's own entry for a status
//! wins: it says more about the cause.
//!
//! An event stream is written in a route's document as `body = T, content_type =
//! "text/event-stream"`: events whose data is a `T` as JSON (axum's `Event::json_data`).
//! `complete` spells that out as JSON Schema describes a stream's events (`event`, and `data`
//! holding the JSON text), so that a tool reading the stream can check each event.
//!
//! `document_alias` documents a path a router also answers under a second spelling (with or
//! without the trailing slash): the same operation, so a tool that reads the document knows
//! the alias exists and what it does.

use serde_json::{json, Map, Value};

use crate::api::IDEMPOTENCY_KEY_HEADER;
use crate::extract::IdempotencyKey;
use crate::http::{BEARER_SCHEME, EVENTS_TICKET_SCHEME, WEBHOOK_SIGNATURE_SCHEME};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Adds the platform's answers to every operation of `document`.
pub fn complete(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let shared_parameters = item.get("parameters").cloned();
        for method in METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            describe_idempotency_keys(operation);
            describe_event_streams(operation);
            for (status, description) in platform_answers(operation, shared_parameters.as_ref()) {
                let responses = operation.entry("responses").or_insert_with(|| json!({}));
                if let Some(responses) = responses.as_object_mut() {
                    responses.entry(status).or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

/// Every `Idempotency-Key` header is read by `IdempotencyKey`, so its rule is the parameter's.
fn describe_idempotency_keys(operation: &mut Map<String, Value>) {
    let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten();
    for parameter in parameters {
        let is_key = parameter.get("in").and_then(Value::as_str) == Some("header")
            && parameter
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.eq_ignore_ascii_case(IDEMPOTENCY_KEY_HEADER));
        if is_key {
            parameter["schema"] = IdempotencyKey::schema();
        }
    }
}

/// Each `text/event-stream` answer's schema, the schema of its events' data, becomes the schema
/// of the events themselves.
fn describe_event_streams(operation: &mut Map<String, Value>) {
    let responses = operation.get_mut("responses").and_then(Value::as_object_mut).into_iter().flatten();
    for (_, response) in responses {
        let Some(stream) = response.pointer_mut("/content/text~1event-stream") else {
            continue;
        };
        let Some(data) = stream.get("schema").cloned() else {
            continue;
        };
        stream["schema"] = json!({
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string"},
                "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
            },
        });
    }
}

/// The statuses the platform may answer `operation` with, and why.
fn platform_answers(
    operation: &Map<String, Value>,
    shared_parameters: Option<&Value>,
) -> Vec<(&'static str, &'static str)> {
    let mut answers = Vec::new();
    if operation.contains_key("requestBody") {
        answers.push(("413", "The body is larger than the service accepts"));
        answers.push(("415", "The body is not of a declared content type"));
        answers.push(("422", "The body cannot be read, or a field is invalid"));
    }
    let parameters: Vec<&Value> = [operation.get("parameters"), shared_parameters]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .collect();
    if !parameters.is_empty() {
        answers.push(("422", "A parameter cannot be read, or is invalid"));
    }
    if parameters.iter().any(|p| p.get("in").and_then(Value::as_str) == Some("path")) {
        answers.push(("404", "Nothing has this id"));
    }
    let schemes: Vec<(&String, &Value)> = operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flatten()
        .collect();
    for (scheme, scopes) in schemes {
        if scheme == BEARER_SCHEME {
            answers.push(("401", "No valid access token"));
            if scopes.as_array().is_some_and(|scopes| !scopes.is_empty()) {
                answers.push(("403", "The token's role lacks the permission this needs"));
            }
        } else if scheme == WEBHOOK_SIGNATURE_SCHEME {
            answers.push(("401", "Unsigned, forged or stale"));
        } else if scheme == EVENTS_TICKET_SCHEME {
            answers.push(("401", "An unknown, expired or other import's ticket"));
        }
    }
    answers
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

/// A path a router answers under a second spelling, for one method.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    pub path: &'static str,
    /// The documented path it answers as.
    pub of: &'static str,
    /// Lowercase, as in the document: `get`, `post`, …
    pub method: &'static str,
}

/// Documents each alias, then the platform's answers: the document as served.
pub fn finish(openapi: utoipa::openapi::OpenApi, aliases: &[Alias]) -> Value {
    let mut document = serde_json::to_value(openapi).unwrap_or_else(|err| panic!("an OpenAPI document is JSON: {err}"));
    for alias in aliases {
        document_alias(&mut document, alias.path, alias.of, alias.method);
    }
    complete(&mut document);
    document
}

/// Documents `alias` as answering `method` exactly as `documented` does.
///
/// # Panics
/// When `documented` has no such operation: the alias would be documented as nothing, and a
/// route renamed without its alias must fail the service's tests, not the client.
pub fn document_alias(document: &mut Value, alias: &str, documented: &str, method: &str) {
    let mut operation = document
        .pointer(&format!("/paths/{}/{method}", escape(documented)))
        .cloned()
        .unwrap_or_else(|| panic!("{method} {documented} is not documented, so its alias {alias} cannot be"));
    if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
        operation["operationId"] = json!(format!("{id}_alias"));
    }
    let summary = operation.get("summary").and_then(Value::as_str).unwrap_or_default().to_owned();
    operation["summary"] = json!(format!("{summary} (also at {documented})").trim_start().to_owned());
    let paths = document["paths"].as_object_mut().expect("a document has paths");
    let item = paths.entry(alias.to_owned()).or_insert_with(|| json!({}));
    item[method] = operation;
}

/// A JSON pointer token for `path` (RFC 6901).
fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "paths": {
                "/things/{id}": {
                    "put": {
                        "operationId": "put_thing",
                        "summary": "Change a thing",
                        "parameters": [
                            {"name": "id", "in": "path", "required": true},
                            {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                        ],
                        "requestBody": {"content": {"application/json": {}}},
                        "security": [{"bearer": ["manage_things"]}],
                        "responses": {"200": {"description": "Changed"}, "404": {"description": "No such thing"}},
                    },
                },
                "/health": {"get": {"operationId": "health", "responses": {"200": {"description": "Up"}}}},
                "/hook": {"post": {"security": [{"webhook_signature": []}], "responses": {}}},
                "/stream": {"get": {"responses": {"200": {"description": "Events", "content": {
                    "text/event-stream": {"schema": {"$ref": "#/components/schemas/Thing"}},
                }}}}},
            }
        })
    }

    #[test]
    fn each_operation_gets_what_the_platform_can_answer_it_and_keeps_its_own_words() {
        let mut doc = document();
        complete(&mut doc);
        let put = &doc["paths"]["/things/{id}"]["put"]["responses"];
        let statuses: Vec<&String> = put.as_object().unwrap().keys().collect();
        assert_eq!(statuses, ["200", "401", "403", "404", "413", "415", "422"]);
        assert_eq!(put["404"]["description"], "No such thing", "the route's own description stays");
        assert_eq!(put["415"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
        let key = &doc["paths"]["/things/{id}"]["put"]["parameters"][1]["schema"];
        assert_eq!((&key["minLength"], &key["maxLength"]), (&json!(1), &json!(200)));
        let health = doc["paths"]["/health"]["get"]["responses"].as_object().unwrap();
        assert_eq!(health.keys().collect::<Vec<_>>(), ["200"], "nothing to refuse, nothing added");
        let hook = doc["paths"]["/hook"]["post"]["responses"].as_object().unwrap();
        assert_eq!(hook.keys().collect::<Vec<_>>(), ["401"]);
        let event = &doc["paths"]["/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(event["properties"]["data"]["contentSchema"]["$ref"], "#/components/schemas/Thing");
        assert_eq!(event["properties"]["data"]["contentMediaType"], "application/json");
    }

    #[test]
    fn an_alias_is_the_same_operation_under_another_path_and_id() {
        let mut doc = document();
        document_alias(&mut doc, "/things/{id}/", "/things/{id}", "put");
        let alias = &doc["paths"]["/things/{id}/"]["put"];
        assert_eq!(alias["operationId"], "put_thing_alias");
        assert_eq!(alias["summary"], "Change a thing (also at /things/{id})");
        assert_eq!(alias["responses"], doc["paths"]["/things/{id}"]["put"]["responses"]);
    }

    #[test]
    #[should_panic(expected = "is not documented")]
    fn an_alias_of_nothing_is_refused() {
        document_alias(&mut document(), "/nothing/", "/nothing", "get");
    }
}
