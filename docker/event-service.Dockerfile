# syntax=docker/dockerfile:1
# Image for the event service: one image, three processes (API, RabbitMQ consumer, migrations).
# Build from the repository root:
#   docker build -f docker/event-service.Dockerfile -t ticketing-event-service .
# The chart picks the process with `command:`; the default CMD runs the API on port 8000.

# The current LTS line (Node 24 "Krypton", supported to April 2028). The code also runs on Node 20.19+
# (package.json engines); CI tests both (.github/workflows/ci.yml, matrix node).
ARG NODE_VERSION=24.17.0

# ---- build: every dependency from the lockfile, then compile TypeScript --------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Manifests first so the npm layer is cached until package*.json change.
# Every workspace manifest is copied: `npm ci` checks the whole lockfile.
COPY package.json package-lock.json tsconfig.base.json ./
COPY services/platform/package.json services/platform/
COPY services/event-service/package.json services/event-service/
COPY services/booking-service/package.json services/booking-service/
COPY services/web-app/package.json services/web-app/
# Install scripts are not needed to compile (and would run unreviewed code at build time).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY services/platform services/platform
COPY services/event-service services/event-service
# tsc -b follows the project reference from event-service to platform.
RUN npx tsc -b services/event-service

# ---- prod-deps: production dependencies of the workspaces this service runs ----------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/platform/package.json services/platform/
COPY services/event-service/package.json services/event-service/
COPY services/booking-service/package.json services/booking-service/
COPY services/web-app/package.json services/web-app/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace=@ticketing/platform --workspace=@ticketing/event-service \
 && npm cache clean --force

# ---- runtime: node + compiled JS + production node_modules, nothing else ------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# No package manager or build tooling in the final image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# V8 sized for the containers (limits 256-384 Mi): a 16 MB young generation and a 128 MB old generation
# (default: a share of the node's RAM, so the heap grows far past what the process keeps alive). Measured under
# the on-sale benchmark: peak RSS event-api 201 -> ~150 MB, booking-api 205 -> ~145 MB. A 4 MB young generation
# kept RSS ~25 MB lower but cost the booking API 13-15 % more CPU per reservation in scavenges (1.38 vs 1.17 ms,
# two rounds back to back), so the young generation stays at V8's 16 MB. A 100,000-seat bulk insert and its
# 20 MB seat map stay well inside. Override through the chart's config.extraEnv (NODE_OPTIONS) when changing
# the memory limits.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=128" \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/package.json ./
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/services/platform/package.json services/platform/
COPY --from=build --chown=root:root /app/services/platform/dist services/platform/dist
COPY --from=build --chown=root:root /app/services/event-service/package.json services/event-service/
COPY --from=build --chown=root:root /app/services/event-service/dist services/event-service/dist
# Files are owned by root and read-only for the app; it runs as the image's `node` user by
# numeric id so Kubernetes `runAsNonRoot` can verify it.
USER 1000:1000
EXPOSE 8000 9101
# Exec form: node is PID 1 and receives SIGTERM directly (no shell in between).
CMD ["node", "services/event-service/dist/entry-points/api-main.js"]
