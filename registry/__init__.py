"""The model registry: models and their versions (checkpoints), their status, who may use
which, and their release. ``/imagine``, ``/models``, contests and campaigns all read it;
it imports ``db`` (and ``core``) only."""
