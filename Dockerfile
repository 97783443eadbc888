# Atelier for GPU hosts.
#
#   docker build -t atelier .
#   docker run --gpus all --env-file .env -v atelier-data:/data atelier
#
# The official PyTorch CUDA runtime image brings Python, CUDA and a CUDA build of torch;
# pip keeps that torch (the project asks for torch>=2.4) and adds the rest. Models
# downloaded from the Hugging Face Hub are cached under /data, so they survive restarts.
ARG BASE_IMAGE=pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATELIER_DATA_DIR=/data \
    HF_HOME=/data/huggingface

RUN groupadd --gid 10001 atelier \
    && useradd --uid 10001 --gid atelier --create-home --shell /usr/sbin/nologin atelier \
    && mkdir -p /data \
    && chown atelier:atelier /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY inference ./inference
COPY contests ./contests
COPY funding ./funding
COPY db ./db
COPY studio ./studio
# INSTALL=".[cluster]" adds Ray, for a bot with remote workers or a GPU worker host
# (compose.worker.yaml).
ARG INSTALL=.
RUN python -m pip install "${INSTALL}" \
    && python -c "import torch, diffusers, discord; print('torch', torch.__version__)"

USER atelier
VOLUME ["/data"]
ENTRYPOINT ["atelier"]
CMD ["run"]
