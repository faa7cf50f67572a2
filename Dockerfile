# One image runs every tickmesh role: `tickmesh worker|ingest|operator|api|topics|dev|...`.
# BASE_IMAGE is any image with Node 24 (and npm, for the build stage) on glibc: the tests build on
# a base made locally (test/infra/image.sh), since they cannot pull one.
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cmd ./cmd
COPY internal ./internal
# The build config leaves out tests and test helpers. Pruning drops the devDependencies, among them
# the second Node binary that the `node` package installs for npm scripts, and tsx; type
# declarations and source maps of the dependencies are of no use at run time.
RUN npm run build \
  && cp -r internal/serve/dashboard dist/internal/serve/dashboard \
  && npm prune --omit=dev --no-audit --no-fund \
  && find node_modules -type f \( -name "*.map" -o -name "*.d.ts" -o -name "*.d.mts" -o -name "*.d.cts" \) -delete

FROM ${BASE_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tickmesh" \
  org.opencontainers.image.description="Exact, real-time crypto market analytics: one image runs every tickmesh role." \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Non-root, and the root filesystem can be mounted read-only: nothing is written under /app (the
# chart mounts an emptyDir on /tmp).
USER 10001:10001
EXPOSE 9464 8080
ENTRYPOINT ["node", "/app/dist/cmd/tickmesh/main.js"]
CMD ["--help"]
