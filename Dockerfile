# The destination's API and worker (one image; docker-compose.yml picks the command).
#   docker build -t hubspot-destination .
#   docker run ... hubspot-destination node --import tsx src/worker.ts
# TypeScript runs through tsx (a runtime dependency), as `npm run worker` / `npm run api` do.

FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the postinstall fetches the Temporal CLI for local dev and tests, not needed here.
# better-sqlite3 (the embedded store; unused with DATABASE_URL but loaded) gets its native build.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
# DATA_DIR (keys, and SQLite/uploads when DATABASE_URL is unset) belongs to the non-root user.
RUN mkdir -p /app/data/keys && chmod 700 /app/data/keys && chown -R node:node /app/data
USER node
EXPOSE 3000 9464
CMD ["node", "--import", "tsx", "src/worker.ts"]
