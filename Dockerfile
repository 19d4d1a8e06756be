# One image for every service in docker-compose.yml: migrate, web (admin, API, webhook),
# bot and scheduler; they differ only in their command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# mysqlclient has no Linux wheel: pip compiles it against MariaDB's client library.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb-dev pkg-config gcc \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic reads the settings, which want a real SECRET_KEY unless DEBUG is on.
RUN DEBUG=true SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 moonvpn \
    && mkdir -p /app/media /app/backups && chown 10001 /app/media /app/backups
USER 10001
EXPOSE 8000
# Alone (docker run), the image migrates and serves the web process; docker-compose.yml
# migrates once in its `migrate` service and gives each service its command.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn moonvpn.wsgi:application --bind 0.0.0.0:8000 --workers 3 --access-logfile -"]
