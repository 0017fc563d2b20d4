# Isolane in a container. Not built on the project's CI machines (they have no Docker engine): it runs the
# same steps the README proves there, `npm ci` and `npm start`.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
# Builds the native addons, the thread CPU clock and the isolate watchdog (needs python3, make and g++,
# which this image has).
RUN npm ci --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    ISOLANE_HOST=0.0.0.0 \
    ISOLANE_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY runtime ./runtime
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8081/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--no-node-snapshot", "--max-semi-space-size=8", "src/cli.ts", "serve"]
