# Atelier for GPU hosts (README.md, "Docker and compose").
#
#   docker compose up -d --build
# or
#   docker build -t atelier .
#   docker run --gpus all --env-file .env -v atelier-data:/data --stop-timeout 60 atelier
#
# torch is the version the tests run on (TORCH_VERSION, like the Makefile's TORCH). On Linux,
# PyPI's torch wheel is the CUDA build and brings the CUDA libraries it needs, so the host
# needs only the NVIDIA driver and the NVIDIA Container Toolkit. Models downloaded from the
# Hugging Face Hub are cached under /data, so they survive restarts.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG TORCH_VERSION=2.13.0
# ATELIER_DATA_VOLUME makes `atelier check` (and `atelier run`) refuse a data folder outside
# the volume, e.g. ATELIER_DATA_DIR=./data from a .env passed with --env-file.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATELIER_DATA_DIR=/data \
    ATELIER_DATA_VOLUME=/data \
    HF_HOME=/data/huggingface

RUN groupadd --gid 10001 atelier \
    && useradd --uid 10001 --gid atelier --create-home --shell /usr/sbin/nologin atelier \
    && mkdir -p /data \
    && chown atelier:atelier /data

WORKDIR /app

# The dependencies in a layer of their own, from pyproject.toml alone: changing the code
# does not reinstall torch and its neighbours.
# EXTRAS=cluster adds Ray, for a bot with remote workers or a GPU worker host
# (compose.worker.yaml).
ARG EXTRAS=
COPY pyproject.toml ./
RUN python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; extras = [e for e in os.environ['EXTRAS'].split(',') if e]; print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" > /tmp/requirements.txt \
    && python -m pip install "torch==${TORCH_VERSION}" -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the code (.dockerignore keeps tests, data, .env and caches out).
COPY . .
RUN python -m pip install --no-deps . \
    && python -c "import torch, diffusers, discord; print('torch', torch.__version__)"

USER atelier
# Set ATELIER_WEB_HOST=0.0.0.0 to reach the pages from outside the container.
VOLUME ["/data"]
# The bot's web server answers GET /healthz (ATELIER_WEB_PORT); the first start may
# download the default model, hence the long start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=600s --retries=3 \
    CMD ["atelier", "health"]
# docker stop sends SIGTERM, then kills after 10 s unless told otherwise: the bot needs up
# to ATELIER_SHUTDOWN_GRACE_SECONDS (30) + 15 s, so use `docker stop -t 60` or
# `docker run --stop-timeout 60` (compose.yaml sets stop_grace_period: 60s).
ENTRYPOINT ["atelier"]
CMD ["run"]
