# syntax=docker/dockerfile:1
# The Conduit API image: dependencies from uv.lock (hashes checked), the app as plain source, a
# non-root user, no compiler. Built by docker-compose.yml (services app and migrate).
#
#   docker build -t conduit-app .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=postgresql+asyncpg://... conduit-app

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv holding exactly uv.lock's runtime packages --------------------------
FROM ${PYTHON_IMAGE} AS build

# uv compiles the packages' bytecode here: the runtime file system is read-only (compose).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

WORKDIR /build
COPY requirements/bootstrap.lock pyproject.toml uv.lock ./
# uv from the hashed bootstrap lock (into a throwaway place), then the same uv.lock as .venv:
# --locked refuses a lock that disagrees with pyproject.toml, every file is checked against the
# lock's hashes, --no-dev leaves out the dependency groups (tests, linters, granian), and
# --no-build takes wheels only, so the image never needs a compiler (every locked package ships
# manylinux wheels for x86_64 and arm64). The app itself is plain source under /app.
RUN python -m venv /opt/uv \
    && /opt/uv/bin/pip install --require-hashes -r requirements/bootstrap.lock \
    && /opt/uv/bin/uv sync --locked --no-dev --no-install-project --no-build

# --- loadtest: Locust and the load scenarios (compose profile `load`) ----------------------
# The scenarios import the service (seed data, settings), so this image holds the dev group too.
FROM build AS loadtest

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN /opt/uv/bin/uv sync --locked --no-install-project --no-build \
    && groupadd --system --gid 10001 conduit \
    && useradd --system --uid 10001 --gid conduit --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conduit
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ migrations/
COPY service/ service/
COPY loadtests/ loadtests/
USER 10001:10001
EXPOSE 8089 5557
ENTRYPOINT ["locust", "-f", "loadtests/locustfile.py"]

# --- runtime (the default target): the virtualenv, the source, a user without privileges ---
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="conduit-service" \
      org.opencontainers.image.description="The Conduit (RealWorld) API on Litestar, SQLAlchemy and Alembic" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    LOG_FORMAT=json

RUN groupadd --system --gid 10001 conduit \
    && useradd --system --uid 10001 --gid conduit --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conduit

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Owned by root and read-only for the app user: the process cannot change its own code.
COPY alembic.ini ./
COPY migrations/ migrations/
COPY service/ service/
RUN python -m compileall -q migrations service

USER 10001:10001
EXPOSE 8000

# Readiness: 200 only when the database answers (urlopen raises on the 503 otherwise).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]

# The one serve command (server and worker choice live in service/cli/__init__.py). Compose overrides
# only --workers; the migrate service runs `python -m service.cli migrate` with this image.
CMD ["python", "-m", "service.cli", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
