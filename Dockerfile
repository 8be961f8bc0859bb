# syntax=docker/dockerfile:1
# CCMS image: one image for every process. The default command, `ccms serve`, without
# DATABASE_URL runs the embedded default (SQLite, uploads and secret key under /data, and the
# background jobs and sweep inside the server). docker-compose.yml runs the same image as
# `ccms migrate`, `ccms serve --no-migrate`, `ccms worker` and `ccms scheduler` on PostgreSQL and Redis.
#
# Three stages, each ordered so that what changes least comes first and stays cached:
#   console  the console and GraphiQL (web/), built with Node into api/static;
#   wheels   the dependencies as wheels (from pyproject.toml alone), then CCMS's own wheel;
#   runtime  python slim, the wheels installed, no compiler, no source tree, a non-root user.
# A change to the Python code rebuilds CCMS's wheel and its one layer in the runtime; the
# dependencies' layers are rebuilt only when pyproject.toml changes, the console's only when web/ does.

# -- console ---------------------------------------------------------------------------------
FROM node:22-slim AS console
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# -- wheels ----------------------------------------------------------------------------------
FROM python:3.11-slim AS wheels
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The dependency list, read from pyproject.toml before any source is copied.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip wheel --wheel-dir /wheels/deps -r requirements.txt
# Then CCMS itself (see .dockerignore for what reaches the build context), with the built console.
COPY . .
COPY --from=console /src/api/static api/static
RUN pip wheel --no-deps --wheel-dir /wheels/app .

# -- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Run as an unprivileged user from a directory that holds no source, so the installed package is what runs.
# /data/uploads exists in the image so that a fresh named volume mounted on /data inherits the owner.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home ccms \
    && mkdir -p /data/uploads \
    && chown -R ccms:ccms /data

# The wheels are mounted, not copied: the image keeps the installed packages only.
RUN --mount=type=bind,from=wheels,source=/wheels/deps,target=/wheels/deps \
    pip install --no-index --find-links /wheels/deps /wheels/deps/*.whl
RUN --mount=type=bind,from=wheels,source=/wheels/app,target=/wheels/app \
    pip install --no-index --no-deps /wheels/app/*.whl

WORKDIR /data
USER ccms

ENV CCMS_HOST=0.0.0.0 \
    CCMS_PORT=8000 \
    CCMS_VAR_DIR=/data \
    CCMS_LOG_FORMAT=json
VOLUME ["/data"]
# HTTP and the subscription WebSocket, both on /graphql; the worker's and the scheduler's
# metrics and liveness (`ccms worker`, `ccms scheduler`).
EXPOSE 8000 9101 9102

# Liveness of whichever process the container runs: `ccms probe` asks its own port's
# /health/live (8000 for serve; compose points the worker and scheduler at 9101 and 9102).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["ccms", "probe"]

CMD ["ccms", "serve"]
