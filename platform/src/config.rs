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

/// A service's database: its own variable (`ORDER_DATABASE_URL`, …) when set, else
/// `DATABASE_URL`, else `default`. The shared name suits a service deployed alone (a container
/// per service, each given its own `DATABASE_URL`); where the three run from one environment,
/// as `make run` starts them, each needs its own name, or they would share one database.
pub fn database_url(own: &str, default: &str) -> String {
    let shared = env_string("DATABASE_URL", default);
    env_string(own, &shared)
}

pub fn env_list(name: &str, default: &str) -> Vec<String> {
    env_string(name, default).split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// `APP_ENV`: `development` (the default) or `production`.
///
/// Production refuses what is only fit for a developer's machine: the built-in development
/// secrets, and starting without an administrator's password (development generates one and
/// prints it once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn from_env() -> anyhow::Result<Environment> {
        match env_string("APP_ENV", "development").to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Environment::Development),
            "production" | "prod" => Ok(Environment::Production),
            other => anyhow::bail!("APP_ENV={other:?} is invalid: expected development or production"),
        }
    }

    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

/// A comma-separated list of secrets. Unset, it is `development_default` in development and
/// an error in production, where the development default itself is refused too: it is in
/// the source code, so it protects nothing.
pub fn secret_list(name: &str, environment: Environment, development_default: &str) -> anyhow::Result<Vec<String>> {
    let given = env_list(name, "");
    if environment.is_production() {
        anyhow::ensure!(!given.is_empty(), "{name} must be set when APP_ENV=production");
        anyhow::ensure!(
            given.iter().all(|secret| secret != development_default),
            "{name} holds the development default, which APP_ENV=production refuses"
        );
        return Ok(given);
    }
    if given.is_empty() {
        return Ok(vec![development_default.to_owned()]);
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_of_its_own_database_variable_wins_over_the_shared_one() {
        // Variables of this test's own; DATABASE_URL itself is left alone (other tests run
        // beside this one), so only what it does not decide is checked against it.
        let own = "PLATFORM_TEST_ORDER_DATABASE_URL";
        assert_eq!(database_url(own, "sqlite://x.db"), env_string("DATABASE_URL", "sqlite://x.db"));
        std::env::set_var(own, "postgres://db/order_service");
        assert_eq!(database_url(own, "sqlite://x.db"), "postgres://db/order_service");
        std::env::set_var(own, "  ");
        assert_eq!(database_url(own, "sqlite://x.db"), env_string("DATABASE_URL", "sqlite://x.db"));
    }

    #[test]
    fn production_refuses_missing_or_development_secrets() {
        // Read from a variable no test sets, so the answer depends on the environment only.
        let name = "PLATFORM_TEST_SECRET_NEVER_SET";
        assert_eq!(secret_list(name, Environment::Development, "dev").unwrap(), vec!["dev".to_owned()]);
        assert!(secret_list(name, Environment::Production, "dev").is_err());
        // Set, but to the development default (which is in the source code): refused too.
        // (A variable of this test's own: no other test reads it.)
        let name = "PLATFORM_TEST_SECRET_SET_TO_THE_DEFAULT";
        std::env::set_var(name, "a-real-secret, dev");
        let refused = secret_list(name, Environment::Production, "dev").unwrap_err().to_string();
        assert!(refused.contains("development default"), "{refused}");
        std::env::set_var(name, "a-real-secret");
        assert_eq!(secret_list(name, Environment::Production, "dev").unwrap(), vec!["a-real-secret".to_owned()]);
    }
}
