"""/leaderboard: creators, backers, models and trending images, paged with buttons."""
