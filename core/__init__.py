"""What every Atelier package may import: the member-facing error base and the app clock.

Nothing here imports Discord, torch or the database.
"""
