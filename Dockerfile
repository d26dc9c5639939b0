# debtbot GitHub App: `docker build -t debtbot . && docker run --env-file .env -p 8000:8000 debtbot`
# (one process, SQLite), or `docker compose up` for web, workers, PostgreSQL and Redis.
# The base is pinned by digest so that a rebuild is the same image; to move it on, look the
# tag's current digest up (`docker buildx imagetools inspect python:3.11-slim-bookworm`).
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

# git: the App fetches pull requests into local mirrors with GitPython, which runs git.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md app.yml constraints.txt ./
COPY bot ./bot
COPY rules ./rules
# The versions the project tested, not whatever the index holds on the day of the build.
RUN pip install -c constraints.txt ".[app]"

# Never run as root: the App handles untrusted repositories. Its state (SQLite database, git
# mirrors) lives in /data, a volume to keep across restarts.
RUN useradd --create-home --uid 10001 debtbot \
    && mkdir /data \
    && chown debtbot:debtbot /data
USER debtbot
WORKDIR /data
ENV DATABASE_URL=sqlite:////data/debtbot.sqlite3 \
    DATA_DIR=/data
VOLUME ["/data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

CMD ["debtbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
