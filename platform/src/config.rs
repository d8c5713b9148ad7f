//! Reading settings from the environment, the same way in every service: a variable that is
//! unset takes its default; one that is set but unreadable stops the start-up with its name.

use std::str::FromStr;

pub fn env_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => {
            text.trim().parse().map_err(|err| anyhow::anyhow!("environment variable {name}={text:?} is invalid: {err}"))
        }
        _ => Ok(default),
    }
}

pub fn env_string(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_owned())
}

pub fn env_list(name: &str, default: &str) -> Vec<String> {
    env_string(name, default).split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}
