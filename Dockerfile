# The app image: one image, four roles (worker, web, and the one-shot setup) chosen by the compose
# command. It runs compiled JavaScript from dist/ (tsc, plus the prebundled workflow code) on
# Node 24, the LTS the native cluster provisions; see docs/operations.md.

# Build: dev dependencies, `npm run build`.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run: production dependencies and dist/ only.
FROM node:24.22.3-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Dependencies first, so code changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p var && chown -R node:node var

USER node
EXPOSE 3000
CMD ["node", "dist/src/web/main.js"]
