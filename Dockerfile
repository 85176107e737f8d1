# The app image: one image, two roles (worker, web) chosen by the compose command.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so code changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .
RUN mkdir -p var && chown -R node:node var

USER node
EXPOSE 3000
CMD ["node_modules/.bin/tsx", "src/web/main.ts"]
