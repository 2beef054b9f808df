# Leitstand container image: built from source on the official Rust image,
# run as a non-root user on Debian slim. The binary carries its web
# interface; PostgreSQL is a separate service (see compose.yaml).
#
#   docker build -t leitstand .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://… leitstand

FROM rust:1.95-bookworm AS build
# Node.js and npm for the stylesheet compiler and wasm-opt (tools/package.json).
# Debian's versions follow the base image (no pins: they would break on its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/ensure-tools.sh build \
    && PATH="/src/tools/node_modules/.bin:$PATH" SQLX_OFFLINE=true \
       cargo leptos build --release --precompress --split \
    && install -m 0755 target/release/leitstand /usr/local/bin/leitstand

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/leitstand \
       --create-home --shell /usr/sbin/nologin leitstand
COPY --from=build /usr/local/bin/leitstand /usr/bin/leitstand
USER 10001:10001
WORKDIR /var/lib/leitstand
ENV LEITSTAND_LISTEN=0.0.0.0:3000 \
    LEITSTAND_DATA_DIR=/var/lib/leitstand \
    LEITSTAND_LOG_FORMAT=json
VOLUME ["/var/lib/leitstand"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["leitstand", "health"]
ENTRYPOINT ["leitstand"]
CMD ["serve"]
