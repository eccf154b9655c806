# raccord, for a Camunda 8.8 cluster: workers, HTTP API, console and status page, no embedded
# engine once ZEEBE_GRPC_ADDRESS names the cluster (see docker-compose.yml).
# The sources run through tsx as they do on a workstation, so there is no compile step.

# Build: the full image has python3, make and g++ in case better-sqlite3 has no prebuilt binary.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# The console's browser bundles need the dev dependencies (esbuild, bpmn-js, form-js).
RUN npm run build:console --if-present && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RACCORD_DATA_DIR=/var/lib/raccord \
    RACCORD_API_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# A named volume mounted here starts with these owners.
RUN mkdir -p /var/lib/raccord && chown node:node /var/lib/raccord
USER node
VOLUME ["/var/lib/raccord"]
EXPOSE 3000
ENTRYPOINT ["node", "/app/bin/raccord.js"]
# `docker compose run --rm raccord deploy` runs the other commands.
CMD ["start"]
