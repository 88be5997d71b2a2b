# One image for every campus-power service; the command picks which (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-fund --no-audit
COPY bin ./bin
COPY broker ./broker
COPY ingest ./ingest
COPY alerts ./alerts
COPY api ./api
COPY simulator ./simulator
COPY domain ./domain
COPY infra ./infra
COPY cli ./cli
COPY config ./config
COPY scenarios ./scenarios
# The build the bin runs (bin/compiled.js), made now: the image is read-only to the `node` user.
RUN node bin/campus-power.js --help > /dev/null && test -n "$(ls node_modules/.cache/campus-power)"
RUN mkdir -p /data && chown node:node /data
USER node
ENV DATA_DIR=/data
# The bin itself, so its shebang's node flags apply (bin/campus-power.js).
ENTRYPOINT ["/app/bin/campus-power.js"]
CMD ["up"]
