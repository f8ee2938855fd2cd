# Brook in a container: docker build -t brook . && docker run -p 9092:9092 -v brook-data:/data brook
# Listens on all interfaces inside the container; set advertised.listeners to the address clients use.
FROM oven/bun:1
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/stubs ./scripts/stubs
RUN bun install --production --frozen-lockfile || bun install --production
COPY src ./src
COPY protocol ./protocol
VOLUME /data
EXPOSE 9092
ENTRYPOINT ["bun", "src/cli.ts", "--override", "log.dirs=/data", "--override", "listeners=PLAINTEXT://0.0.0.0:9092", "--override", "advertised.listeners=PLAINTEXT://localhost:9092"]
