# civicarchive — common tasks. `make help` lists them.

BINARY  := bin/civicarchive
PKG     := ./cmd/civicarchive
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE   ?= civicarchive
LDFLAGS := -s -w -X main.version=$(VERSION)

.DEFAULT_GOAL := build
.PHONY: help build run test ci lint fmt docker clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-8s %s\n", $$1, $$2 }'

build: ## static binary (CGO_ENABLED=0) in bin/civicarchive
	@mkdir -p $(dir $(BINARY))
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BINARY) $(PKG)

run: ## run the server (go run ./cmd/civicarchive serve)
	go run $(PKG) serve

test: ## unit tests with the race detector (real S3/PostgreSQL only if their env is set)
	go test -race -count=1 ./...

ci: ## the full CI run: lint, real S3 + PostgreSQL, all tests (needs root for apt)
	bash scripts/ci.sh

lint: ## gofmt + go vet (+ staticcheck if installed)
	bash scripts/lint.sh

fmt: ## gofmt -w .
	gofmt -w .

docker: ## build the container image $(IMAGE):$(VERSION)
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .

clean: ## remove build output
	rm -rf bin
