# syntax=docker/dockerfile:1
# Bank API image: `docker build -t bank .`
# Runs `gunicorn -c bank/gunicorn_conf.py "bank.app:make_asgi_app()"` as a non-root user.
# Migrations are a separate one-shot step: `docker run --rm ... bank bank migrate`
# (docker-compose.yml runs it before the API). tests/container runs both commands natively.

ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# README.m[d]: the readme is optional for the build (a glob that matches nothing copies nothing).
COPY pyproject.toml README.m[d] ./
COPY bank/ bank/
COPY generated/ generated/
RUN pip install --no-cache-dir --no-deps . \
    && python -m compileall -q bank generated

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="bank" \
      org.opencontainers.image.description="Bank REST API (Connexion 3, SQLAlchemy 2, Alembic)"

RUN groupadd --system --gid 10001 bank \
    && useradd --system --uid 10001 --gid bank --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin bank \
    && mkdir -p /data \
    && chown 10001:10001 /data

# PYTHONPATH=/app: the app, `bank migrate` and gunicorn all import the same /app/bank, so paths
# derived from the package (openapi/, alembic/, frontend/) resolve under /app.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/bank-metrics

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/bank/ bank/
COPY --from=build /src/generated/ generated/
COPY openapi/ openapi/
COPY alembic/ alembic/
COPY alembic.ini ./
COPY frontend/ frontend/

# Numeric ids: runtimes (e.g. Kubernetes runAsNonRoot) can verify the user is not root.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# No curl in slim images: python's urllib fails (non-zero) on a 503 or a refused connection.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/v1/health\", timeout=4)"]

# Exec form: gunicorn is PID 1 and receives SIGTERM directly (graceful_timeout 30 s; give the
# orchestrator a longer stop grace period, e.g. `stop_grace_period: 40s`).
CMD ["gunicorn", "-c", "bank/gunicorn_conf.py", "bank.app:make_asgi_app()"]
