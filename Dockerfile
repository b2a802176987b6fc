# syntax=docker/dockerfile:1
# One static binary; `serve` and `worker` (and `migrate`) run from this image:
#   docker run IMAGE serve     docker run IMAGE worker     docker run IMAGE migrate
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Templ output is committed, so no generator runs here.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/tandem ./cmd/tandem

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tandem /usr/local/bin/tandem
USER nonroot:nonroot
ENV TANDEM_ADDR=0.0.0.0:8080 LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tandem"]
CMD ["serve"]
