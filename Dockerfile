# Brook in a container: the single executable from `npm run build` (bun build --compile) on a distroless
# base. The image holds that one file and the C runtime it links against (glibc, and libgcc_s for the
# embedded native crc32c/lz4 bindings): no shell, no Node, no Bun, no sources or node_modules.
#
#   docker build -t brook .
#   docker run -p 9092:9092 -v brook-data:/data brook
#
# It listens on 0.0.0.0:9092 and advertises localhost:9092, which suits clients on the host. For clients
# in other containers add a second listener (README, "Docker"); arguments after the image name are
# appended to the ones below, and a later --override wins.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/stubs ./scripts/stubs
# Runtime dependencies only; `bun` is one of them, and builds the executable.
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY protocol ./protocol
RUN npm run build && ./dist/brook --version && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/brook /usr/local/bin/brook
# The volume starts out owned by the image's non-root user (65532), so a named volume is writable.
COPY --from=build --chown=65532:65532 /data /data
VOLUME /data
EXPOSE 9092
# No shell in the image: the binary's own client checks that the broker answers on the default port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s CMD ["/usr/local/bin/brook", "topics", "list", "-b", "127.0.0.1:9092", "--timeout", "4000"]
ENTRYPOINT ["/usr/local/bin/brook", "--override", "log.dirs=/data", "--override", "listeners=PLAINTEXT://0.0.0.0:9092", "--override", "advertised.listeners=PLAINTEXT://localhost:9092"]
