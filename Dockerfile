# decree-bot: the Telegram bot in webhook mode, serving the webhook and GET /healthz on :8080.
#
#   docker build -t decree-bot .
#   docker compose up            (with Redis; see compose.yaml and .env.example)
#
# The build stage installs the package (runtime dependencies only) into /opt/venv and compiles
# the gettext catalogs; the runtime stage copies that venv and nothing else: no compiler, no
# sources, no .po files, no tests.

# Both stages start from this one image, so the venv's interpreter symlinks stay valid. Pinned by
# digest, so a rebuild gets the same base; to move on, look up the tag's current digest with
# `docker buildx imagetools inspect python:3.11.14-slim-trixie` and replace it here.
FROM python:3.11.14-slim-trixie@sha256:193fdd0bbcb3d2ae612bd6cc3548d2f7c78d65b549fcaa8af75624c47474444d AS base

FROM base AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# README.md* : the readme pyproject.toml names, if there is one (the wildcard lets it be absent).
# Exactly the locked runtime dependencies, each checked against its hash, then the package alone.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md* ./
COPY rules/ rules/
COPY bot/ bot/
RUN pip install --no-cache-dir --no-deps --no-build-isolation .
COPY locales/ locales/
# bot/i18n.py loads catalogs from `<parent of the bot package>/locales`; installed, that is
# /opt/venv/lib/python3.11/site-packages/locales. Ask the installed package where (-P: not
# the sources in /src) and put the compiled catalogs there (.mo only), then load them all
# once so a missing language fails the build, not the first user.
RUN pybabel compile -d locales -D messages \
    && target="$(python -P -c 'from bot.i18n import LOCALES_DIR; print(LOCALES_DIR)')" \
    && for mo in locales/*/LC_MESSAGES/messages.mo; do \
         install -D -m 0644 "$mo" "$target/${mo#locales/}"; \
       done \
    && python -P -c 'from bot.i18n import load_catalogs; load_catalogs()'

FROM base AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DECREEBOT_LISTEN=0.0.0.0:8080
RUN groupadd --system --gid 10001 decreebot \
    && useradd --system --uid 10001 --gid decreebot --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin decreebot
COPY --from=build /opt/venv /opt/venv
# An empty working directory: pydantic-settings looks for `.env` here; settings come from
# the environment (compose's env_file), so there is none.
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# /healthz answers 200 only while Redis answers. Standard library only (no curl in the image);
# the port follows DECREEBOT_LISTEN; proxies from the environment are ignored for this call.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; port = os.environ.get('DECREEBOT_LISTEN', '').rpartition(':')[2] or '8080'; u.build_opener(u.ProxyHandler({})).open(f'http://localhost:{port}/healthz', timeout=4)"]
CMD ["decree-bot", "webhook"]
