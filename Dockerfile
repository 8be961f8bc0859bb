# CCMS image: one image for every process. The default command, `ccms serve`, without
# DATABASE_URL runs the embedded default (SQLite, uploads and secret key under /data, and the
# background jobs and sweep inside the server). docker-compose.yml runs the same image as
# `ccms migrate`, `ccms serve --no-migrate`, `ccms worker` and `ccms scheduler` on PostgreSQL and Redis.

# The console and GraphiQL (web/), built into api/static; only the built files reach the image.
FROM node:22-slim AS console
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package (and only the package: see .dockerignore and [tool.setuptools] in pyproject.toml).
WORKDIR /src
COPY . .
COPY --from=console /src/api/static api/static
RUN pip install . && rm -rf build *.egg-info

# Run as an unprivileged user from a directory that holds no source, so the installed package is what runs.
# /data/uploads exists in the image so that a fresh named volume mounted on /data inherits the owner.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home ccms \
    && mkdir -p /data/uploads \
    && chown -R ccms:ccms /data
WORKDIR /data
USER ccms

ENV CCMS_HOST=0.0.0.0 \
    CCMS_PORT=8000 \
    CCMS_VAR_DIR=/data
VOLUME ["/data"]
# HTTP and the subscription WebSocket, both on /graphql.
EXPOSE 8000

CMD ["ccms", "serve"]
