# One image for both processes: the web (admin, API, webhook) and the bot.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb-dev pkg-config gcc \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home moonvpn && mkdir -p /app/media && chown moonvpn /app/media
USER moonvpn
EXPOSE 8000
# The web process; docker-compose.yml runs the bot from the same image with `runbot`.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn moonvpn.wsgi:application --bind 0.0.0.0:8000 --workers 3 --access-logfile -"]
