# Sourced by scripts/soak.sh and scripts/fanout.sh: runs target/release/backend
# on a fresh SQLite file in a temp dir, on a free port, and stops it on exit.
#
#   start_backend [NAME=VALUE...] -- [BACKEND ARGS...]
#
# Sets TMP (the temp dir; the server's log is $TMP/server.log), SERVER_PID
# and BASE (http://127.0.0.1:PORT), once /healthz answers.

TMP=
SERVER_PID=
BASE=

stop_backend() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [[ -n $TMP ]] && rm -rf "$TMP"
    return 0
}

start_backend() {
    local envs=()
    while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
    [[ ${1:-} == -- ]] && shift
    TMP=$(mktemp -d)
    trap stop_backend EXIT
    cp -R dist "$TMP/dist"
    env RUST_LOG=warn "${envs[@]}" target/release/backend --bind 127.0.0.1:0 \
        --database-url "$TMP/db.sqlite" --dist "$TMP/dist" "$@" \
        >"$TMP/stdout" 2>"$TMP/server.log" &
    SERVER_PID=$!
    local line
    for _ in $(seq 1 300); do
        line=$(head -n1 "$TMP/stdout" 2>/dev/null || true)
        if [[ $line == "Serving on "* ]]; then BASE=${line#Serving on }; break; fi
        sleep 0.1
    done
    [[ -n $BASE ]] || { cat "$TMP/server.log" >&2; exit 1; }
    until curl -fsS -o /dev/null "$BASE/healthz"; do sleep 0.1; done
    printf '==> backend up at %s (pid %s)\n' "$BASE" "$SERVER_PID" >&2
}
