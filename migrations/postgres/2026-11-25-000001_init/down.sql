DROP TABLE events;
DROP TABLE idempotency_keys;
DROP TABLE comments;
DROP TABLE posts;
DROP TABLE users;
