"""Boards that read the contest tables: the hall of fame of past winners."""
