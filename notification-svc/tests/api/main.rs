//! Integration tests of the Notification Service over real HTTP: one module per concern,
//! sharing `helpers::spawn_app`.

mod auth;
mod bad_input;
mod batch;
mod email;
mod helpers;
mod listing;
mod migrations;
mod sender;
mod service;
mod sms;
mod smtp;
mod templates;
