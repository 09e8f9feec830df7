# syntax=docker/dockerfile:1
# One image for the four lab services; the argument picks the service:
#   docker run lab:0.1.0 facade|logging|messages|config-server
# The build context is an allowlist (.dockerignore): sources, manifest and lockfile only.

# Node's LTS line, pinned to a release; bump it deliberately (a digest may be appended to pin the bytes).
ARG NODE_IMAGE=node:24.21.0-slim

# ---- deps: every dependency, from the manifest and lockfile alone, so a source edit reuses it
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script would build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- prod-deps: production dependencies only; also reused after a source edit
FROM deps AS prod-deps
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- build: the TypeScript compile, the only step a source edit redoes
FROM deps AS build
COPY tsconfig.json ./
COPY bin ./bin
COPY lib ./lib
COPY services ./services
RUN npm run build

# ---- runtime: Node, production dependencies and the compiled services; nothing else
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/bin ./dist/bin
COPY --from=build /app/dist/lib ./dist/lib
COPY --from=build /app/dist/services ./dist/services
# The image's own non-root user (`node`, uid 1000), by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080 8081 8082 8888
# Exec form: node is PID 1 and receives SIGTERM itself; each service drains and exits 0 on it.
ENTRYPOINT ["node", "dist/bin/lab.js"]
CMD ["facade"]
