// The tables of `migrations/{sqlite,postgres}`, in the subset both engines
// share (BIGINT ids and millisecond timestamps).

diesel::table! {
    users (id) {
        id -> BigInt,
        name -> Text,
        username -> Text,
        email -> Text,
        last_active_at -> BigInt,
        password_hash -> Text,
    }
}

diesel::table! {
    posts (id) {
        id -> BigInt,
        user_id -> BigInt,
        title -> Text,
        body -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        post_id -> BigInt,
        name -> Text,
        email -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        subject -> Text,
        at -> BigInt,
    }
}

diesel::joinable!(posts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(comments -> posts (post_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    posts,
    comments,
    idempotency_keys,
    events,
    sessions,
    sign_in_failures
);
