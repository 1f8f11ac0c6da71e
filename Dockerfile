# syntax=docker/dockerfile:1
#
# wirelab in one small image: the relay binary and the built page, with the
# data (mailboxes, FTP files, zones, classes, recordings, the instructor
# secret) in a volume at /data.
#
#   docker build -t wirelab .
#   docker run -d --name wirelab -p 127.0.0.1:8080:8080 -v wirelab-data:/data wirelab
#
# With a config file in the volume (see `wirelab print-config`):
#   docker run ... -e WIRELAB_CONFIG=/data/wirelab.toml wirelab --classroom
# Put nginx in front for TLS (docs/hosting/nginx.conf); the relay then sees
# nginx as the bridge's gateway (172.17.0.1 on Docker's default bridge),
# which goes in trusted_proxies. README, "Hosting a class", walks through it.

# The build: the page (WASM, its JS bindings and compressed copies, all made
# by Rust crates, nothing downloaded at build time but crates) and the relay.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo xtask dist \
 && cargo build --release --locked -p wirelab-relay \
 && mkdir -p /out/data \
 && cp target/release/wirelab /out/wirelab \
 && cp -r dist /out/dist

# The image: glibc and libgcc, no shell, no package manager, not root.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/wirelab /app/wirelab
COPY --from=build /out/dist /app/dist
# A new named volume takes the owner of the folder it is mounted on.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
EXPOSE 8080
USER nonroot
# The reference servers stay on the container's own loopback; students
# reach them through /ws. Options after the image name are added to these.
ENTRYPOINT ["/app/wirelab", "serve", "--bind", "0.0.0.0", "--port", "8080", \
            "--dist", "/app/dist", "--data-dir", "/data"]
