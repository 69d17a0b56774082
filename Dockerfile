# syntax=docker/dockerfile:1
# Stage 1: the UI.
FROM node:20-bookworm AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json* ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund; fi
COPY ui/ ./
RUN if [ -f package.json ]; then npm run build; fi

# Stage 2: the Go binary with the UI embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ui /src/ui/dist ./ui/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tessera .

# Stage 3: runtime, with PostgreSQL binaries for the private cluster (unused with DATABASE_URL).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql ca-certificates tzdata fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/tessera /usr/local/bin/tessera
ENV TESSERA_DATA_DIR=/data TESSERA_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tessera"]
CMD ["serve"]
