# The sxfleet binary in a small Debian image. Used by docker-compose.yml.
#
#   docker build -t sxfleet:local .
#   docker run --rm sxfleet:local --help

# ---- build ----------------------------------------------------------------
FROM rust:1-bookworm AS build

# rdkafka's bundled librdkafka is built with cmake and links libcurl.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cargo build --release -p sxfleet \
    && install -m 0755 target/release/sxfleet /usr/local/bin/sxfleet

# ---- runtime --------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libcurl4 libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/sxfleet --create-home sxfleet

COPY --from=build /usr/local/bin/sxfleet /usr/local/bin/sxfleet

USER sxfleet
WORKDIR /var/lib/sxfleet
ENTRYPOINT ["/usr/local/bin/sxfleet"]
CMD ["--help"]
