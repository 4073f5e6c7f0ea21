# The backend and the SPA in one small image.
#
#   docker build -t posts-users .
#   docker run -p 3000:3000 -v posts-data:/app/data posts-users
#
# Build stage: the pinned tools install through `cargo xtask build` (trunk,
# wasm-bindgen and wasm-opt from crates.io and npm), as on a developer
# machine. Runtime stage: the binary and dist/, nothing else; SQLite and the
# PostgreSQL client are compiled into the binary.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo xtask build \
 && cargo build --release --locked -p backend

FROM debian:bookworm-slim
RUN useradd --system --home-dir /app app \
 && mkdir -p /app/data \
 && chown app /app/data
WORKDIR /app
COPY --from=build /src/target/release/backend /app/backend
COPY --from=build /src/dist /app/dist
USER app
ENV BIND=0.0.0.0:3000 \
    DIST_DIR=/app/dist \
    DATABASE_URL=/app/data/app.db \
    LOG_FORMAT=json
EXPOSE 3000
VOLUME ["/app/data"]
CMD ["/app/backend"]
