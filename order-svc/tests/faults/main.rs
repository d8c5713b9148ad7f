//! Fault injection with real processes: the three services run as the binaries `cargo test`
//! built, each with its own database of the run's backend, and are killed with SIGKILL — no graceful shutdown,
//! no last write — at chosen moments (`moments`), at random under load (`chaos`) and in the
//! middle of a 10,000-order import (`import`). What must hold afterwards is in `settled`.
//!
//! The in-process tests (`tests/api`) check each recovery path on its own; these check that,
//! together, they leave nothing behind when a process dies — also with two replicas of each
//! service on one PostgreSQL (`replicas`).

mod chaos;
mod cluster;
mod import;
mod moments;
mod replicas;
mod settled;
mod shopper;
