-- Accounts: a password per user (argon2id, PHC string; the demo users'
-- is the README's demo password), sessions by the SHA-256 of their
-- cookie's token, and failed sign-ins for the rate limit.
ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
UPDATE users SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$Vl5jXVWeeVxlt2hc7rh9fA$t+oAzfQfWxT7Y5+fNMrDrfJ8Rpbys4nG9l0ySsjS77s';

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- One row per failed sign-in, under "email:<address>" and "ip:<address>".
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_subject ON sign_in_failures (subject, at);
