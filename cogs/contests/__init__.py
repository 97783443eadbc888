"""/contest: weekly contests with blind voting (domain rules in ``contests/``)."""
