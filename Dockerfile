# The production gateway: the omnigate wheel only (no sandboxes, no tests, no GraphiQL
# assets: GraphiQL is off in production). Settings come from the environment (docs/deploy.md).
# Build: docker build -t omnigate .      Run: see deploy/compose.yaml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY schema ./schema
COPY resolvers ./resolvers
COPY connectors ./connectors
RUN pip install . && rm -rf /src

# No root: the gateway needs no privileges, and writes nothing to disk.
RUN useradd --system --uid 10001 omnigate
USER omnigate
WORKDIR /home/omnigate

ENV OMNIGATE_ENVIRONMENT=production \
    OMNIGATE_DEMO=false \
    OMNIGATE_HOST=0.0.0.0 \
    OMNIGATE_PORT=8000 \
    OMNIGATE_LOG_FORMAT=json
EXPOSE 8000

# Liveness: the process answers. Readiness (/readyz: the store is reachable) is for the load
# balancer, not a restart trigger: a store outage must not restart every replica.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# One process per container; run more containers for more capacity (docs/deploy.md).
CMD ["omnigate", "serve"]
