# syntax=docker/dockerfile:1
# Image for the box office web app: the Vite-built static files and the small Node server that serves them
# and proxies /api/v1/* to the event and booking APIs (same origin, no CORS).
# Build from the repository root:
#   docker build -f docker/web-app.Dockerfile -t ticketing-web-app .

ARG NODE_VERSION=20.20.2

# ---- build: every dependency from the lockfile (Vite is a dev dependency), then build ---------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Every workspace manifest is copied: `npm ci` checks the whole lockfile.
COPY package.json package-lock.json tsconfig.base.json ./
COPY services/platform/package.json services/platform/
COPY services/event-service/package.json services/event-service/
COPY services/booking-service/package.json services/booking-service/
COPY services/web-app/package.json services/web-app/
# Install scripts are not needed to build (and would run unreviewed code at build time).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY services/platform services/platform
COPY services/web-app services/web-app
RUN npx tsc -b services/web-app && npx vite build --config services/web-app/vite.config.mjs

# ---- prod-deps: production dependencies of the workspaces the server runs --------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/platform/package.json services/platform/
COPY services/event-service/package.json services/event-service/
COPY services/booking-service/package.json services/booking-service/
COPY services/web-app/package.json services/web-app/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace=@ticketing/platform --workspace=@ticketing/web-app \
 && npm cache clean --force

# ---- runtime: node + compiled server + static files + production node_modules --------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# The server holds no state: a small heap is plenty (static files are streamed from disk).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=96" \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/package.json ./
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/services/platform/package.json services/platform/
COPY --from=build --chown=root:root /app/services/platform/dist services/platform/dist
COPY --from=build --chown=root:root /app/services/web-app/package.json services/web-app/
COPY --from=build --chown=root:root /app/services/web-app/dist services/web-app/dist
USER 1000:1000
EXPOSE 8080
CMD ["node", "services/web-app/dist/server/main.js"]
