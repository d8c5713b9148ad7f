-- Identity: the Order Service is the platform's one token issuer. People (users) sign in and
-- hold sessions (refresh tokens); integrators hold API keys; tokens are signed with the keys of
-- `signing_keys`. Every secret a client holds is stored only as its SHA-256 (refresh tokens,
-- API keys, invitations: long random values, for which a slow hash would add nothing) or its
-- Argon2id hash (passwords).

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    -- Stored as given after trimming; compared without case.
    email                 TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name          TEXT    NOT NULL,
    role                  TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- PHC string ($argon2id$…); NULL until the person sets a password through an invitation.
    password_hash         TEXT,
    invitation_hash       TEXT    UNIQUE,
    invitation_expires_at INTEGER,
    disabled_at           TEXT,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    last_login_at         TEXT
);

-- A session is one sign-in: its refresh token is what the dashboard's cookie holds.
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash      TEXT    NOT NULL UNIQUE,
    created_at      TEXT    NOT NULL,
    last_used_at    TEXT    NOT NULL,
    -- Milliseconds since the epoch: extended on each use, up to expires_at.
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    key_hash     TEXT    NOT NULL UNIQUE,
    -- The key's first characters, shown in lists to tell keys apart.
    prefix       TEXT    NOT NULL,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE signing_keys (
    kid         TEXT    PRIMARY KEY,
    -- PKCS#8 DER of the Ed25519 key.
    private_key BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    -- Milliseconds since the epoch; NULL for the active key. A retired key no longer signs but
    -- stays published until every token it signed has expired.
    retired_at  INTEGER
);

-- Failed sign-ins per account and per client address, in fixed windows.
CREATE TABLE login_failures (
    scope             TEXT    NOT NULL CHECK (scope IN ('account', 'address')),
    subject           TEXT    NOT NULL,
    failures          INTEGER NOT NULL,
    -- Milliseconds since the epoch.
    window_started_at INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
);

-- Signed webhooks received, kept for the five minutes in which their signature is valid, so that
-- a replayed message is recognised. The sender signs each attempt anew (a retry of message
-- `webhook-id` has a new timestamp, hence a new signature), so a signature seen twice is a replay.
CREATE TABLE webhook_receipts (
    signature   TEXT    PRIMARY KEY,
    message_id  TEXT    NOT NULL,
    -- Milliseconds since the epoch.
    received_at INTEGER NOT NULL
);
CREATE INDEX webhook_receipts_received_at ON webhook_receipts(received_at);
