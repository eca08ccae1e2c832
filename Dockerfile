# Static lodestone binary in a distroless image. CGO is off: the SQLite
# driver (modernc.org/sqlite) is pure Go. Not built in CI (base images may
# not be fetchable there); see docs/operations.md.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/lodestone ./cmd/lodestone

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lodestone /usr/local/bin/lodestone
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lodestone"]
# A non-loopback address needs --auth (mount the identity file) or --insecure.
CMD ["serve", "--data", "/data", "--addr", "0.0.0.0:8080", "--auth", "/etc/lodestone/auth.json"]
