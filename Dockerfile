# raccord, for a Camunda 8.8 cluster: workers, HTTP API, console and status page, no embedded
# engine once ZEEBE_GRPC_ADDRESS names the cluster (see docker-compose.yml).
# bin/raccord.js runs the JavaScript that `npm run build` compiles into dist/node.
#
# Install scripts: the npm 10 of these images ignores package.json's allowScripts, so every
# `npm ci` runs none (--ignore-scripts) and `npm rebuild` then runs those allowScripts approves,
# by name. The others never run: @carbon/grid's and @carbon/layout's postinstall start IBM's
# telemetry program, which treats a Docker build as CI.

# Build: the full image has python3, make and g++ in case better-sqlite3 has no prebuilt binary.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild protobufjs
COPY . .
# The compiled sources (TypeScript) and the console's browser bundles (esbuild, bpmn-js, form-js)
# need the dev dependencies.
RUN npm run build && npm run build:console

# Production dependencies only, built where the compilers are.
FROM node:20-bookworm AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3 esbuild protobufjs

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RACCORD_DATA_DIR=/var/lib/raccord \
    RACCORD_API_HOST=0.0.0.0
WORKDIR /app
COPY --chown=node:node . /app
COPY --from=dependencies --chown=node:node /app/node_modules /app/node_modules
COPY --from=build --chown=node:node /app/dist /app/dist
# A named volume mounted here starts with these owners.
RUN mkdir -p /var/lib/raccord && chown node:node /var/lib/raccord
USER node
VOLUME ["/var/lib/raccord"]
EXPOSE 3000
ENTRYPOINT ["node", "/app/bin/raccord.js"]
# `docker compose run --rm raccord deploy` runs the other commands.
CMD ["start"]
