# One image runs every tickmesh role: `tickmesh worker|ingest|operator|api|dev|...`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY cmd ./cmd
COPY internal ./internal
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's static files (tsc emits only the TypeScript), beside the module that serves them.
COPY --from=build /app/internal/serve/dashboard ./dist/internal/serve/dashboard
COPY package.json ./
# Non-root, and the root filesystem can be mounted read-only: nothing is written under /app.
USER 10001:10001
EXPOSE 9464 8080
ENTRYPOINT ["node", "/app/dist/cmd/tickmesh/main.js"]
CMD ["--help"]
