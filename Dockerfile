# syntax=docker/dockerfile:1
# Tessera in one image: the Go binary with the UI embedded, PostgreSQL binaries for the private
# cluster (unused with DATABASE_URL), a non-root user, data in the /data volume.
# .dockerignore keeps the host's node_modules, data, bin and build caches out of the context;
# TestDockerfileCopiesOnlyWhatTheContextHas (dockerfile_test.go) checks the COPY sources.

# Stage 1: the UI, its npm packages installed here only (Node 22 LTS).
FROM node:22-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui/ ./
RUN npm run build

# Stage 2: the Go binary with the UI embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ui /src/ui/dist ./ui/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tessera .

# Stage 3: runtime. The PDF connector embeds its CJK font: no font package needed.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin tessera \
    && mkdir -p /data && chown tessera:tessera /data
COPY --from=build /out/tessera /usr/local/bin/tessera
USER tessera
# Inside a container the server must listen on every interface (the default is 127.0.0.1:8080).
ENV TESSERA_DATA_DIR=/data TESSERA_ADDR=:8080
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["/usr/local/bin/tessera", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tessera"]
CMD ["serve"]
