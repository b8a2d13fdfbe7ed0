# syntax=docker/dockerfile:1
# One image for every formflow process: the web app (gunicorn), the notification workers
# (`formflow worker`) and one-off commands (`formflow init`, `formflow users create`…).
# See docs/deploy.md; docker-compose.yml runs it with PostgreSQL, Redis and a mail catcher.

# -- build: wheels for the project and every dependency (compilers stay in this stage) ------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY web ./web
COPY workers ./workers
RUN pip wheel --wheel-dir /wheels '.[pdf]'

# -- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FORMFLOW_INSTANCE=/var/lib/formflow \
    FORMFLOW_FORMS_DIR=/app/forms \
    FORMFLOW_WORKFLOWS_DIR=/app/workflows
# Pango, HarfBuzz and a font for WeasyPrint (the PDF of a submission's print view).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 formflow \
 && useradd --system --uid 10001 --gid formflow --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin formflow
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels 'formflow[pdf]' \
 && rm -rf /wheels
WORKDIR /app
COPY forms ./forms
COPY workflows ./workflows
RUN mkdir -p /var/lib/formflow && chown formflow:formflow /var/lib/formflow
USER formflow
VOLUME ["/var/lib/formflow"]
EXPOSE 8000
# No HEALTHCHECK here: the same image runs workers, which serve no HTTP. docker-compose.yml
# checks the web service's /healthz.
# gunicorn calls the app factory; `formflow worker` etc. are given as the command instead.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*", "web:create_app()"]
