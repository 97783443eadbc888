"""The bot serves /healthz and /metrics on its web address, from its own pool and database,
after a job made over the Discord stand-in; ATELIER_WEB_METRICS=off refuses /metrics."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, is_result


async def test_the_bot_answers_health_and_metrics_of_its_own_pool(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a red fox --seed 3"}, user=alice)
    await rec.wait_original(is_result, timeout=30)
    assert bot.web is not None
    async with aiohttp.ClientSession() as session:
        async with session.get(bot.web.url + "/healthz") as response:
            assert response.status == 200
            assert (await response.json())["checks"]["workers"] == "ok"
        async with session.get(bot.web.url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["atelier_pool_images_total"] == 4
    assert samples["atelier_web_requests_total"] == 1  # the /healthz above


async def test_metrics_off_answers_404(bots: Bots) -> None:
    bot = await bots.start(web_metrics="off")
    assert bot.web is not None
    async with aiohttp.ClientSession() as session:
        async with session.get(bot.web.url + "/metrics") as response:
            assert response.status == 404
        async with session.get(bot.web.url + "/healthz") as response:
            assert response.status == 200
