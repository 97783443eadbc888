"""What several test modules share: data builders, the fake clock, the pool and studio makers,
the whole-bot fixtures. Test modules import from here and from ``tests.discord_standin``,
never from another test module or a conftest; fixtures every test may use (``db``, ``clock``)
are in the root ``tests/conftest.py``."""
