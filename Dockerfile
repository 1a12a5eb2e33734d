# syntax=docker/dockerfile:1
# civicarchive: static Go binary on distroless (non-root, uid 65532).
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t civicarchive .
#   docker run -p 8080:8080 -v civicarchive-data:/data civicarchive

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Module cache layer: rebuilt only when go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/civicarchive ./cmd/civicarchive
# The data volume's mount point, owned by distroless' nonroot user (65532), so
# that a fresh named volume is writable by the server.
RUN mkdir -p /out/data && chmod 0750 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
# distroless static ships CA certificates, tzdata and a passwd entry for nonroot.
COPY --from=build /out/civicarchive /civicarchive
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV CIVICARCHIVE_DATA_DIR=/data \
    CIVICARCHIVE_LISTEN=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/civicarchive", "healthcheck"]
ENTRYPOINT ["/civicarchive"]
CMD ["serve"]
