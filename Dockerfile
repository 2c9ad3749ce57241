# One image for every authmesh process (auth service, authmesh CLI, echo); the command picks one.
# Build: docker build -t authmesh .   Run: see docker-compose.yml.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages/client/package.json packages/client/
COPY packages/proto/package.json packages/proto/
COPY packages/testing/package.json packages/testing/
COPY packages/interceptor/package.json packages/interceptor/
COPY services/auth/package.json services/auth/
COPY services/echo/package.json services/echo/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --ignore-scripts
COPY proto proto
COPY packages packages
COPY services services
RUN npx tsc -b tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/proto proto
COPY --from=build /app/packages/client/package.json packages/client/
COPY --from=build /app/packages/client/dist packages/client/dist
COPY --from=build /app/packages/client/proto packages/client/proto
COPY --from=build /app/packages/interceptor/package.json packages/interceptor/
COPY --from=build /app/packages/interceptor/dist packages/interceptor/dist
COPY --from=build /app/packages/interceptor/proto packages/interceptor/proto
COPY --from=build /app/services/auth/package.json services/auth/
COPY --from=build /app/services/auth/bin services/auth/bin
COPY --from=build /app/services/auth/dist services/auth/dist
COPY --from=build /app/services/echo/package.json services/echo/
COPY --from=build /app/services/echo/dist services/echo/dist
USER node
# Listen on all interfaces inside the container; compose maps the ports.
ENV AUTHMESH_GRPC_ADDR=0.0.0.0:50051 AUTHMESH_HTTP_ADDR=0.0.0.0:8080 ECHO_GRPC_ADDR=0.0.0.0:50061
EXPOSE 50051 8080 50061
CMD ["node", "services/auth/bin/authmesh.js", "serve"]
