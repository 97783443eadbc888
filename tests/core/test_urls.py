"""Which URLs lose their query when published: Discord's signed attachment links only."""

from __future__ import annotations

from core.urls import published_url

SIGNED = (
    "https://cdn.discordapp.com/attachments/1/2/fox.png"
    "?ex=6650a1b2&is=664f5032&hm=0123456789abcdef0123456789abcdef&"
)


def test_a_discord_attachment_link_is_published_without_its_signature() -> None:
    assert published_url(SIGNED) == "https://cdn.discordapp.com/attachments/1/2/fox.png"
    media = SIGNED.replace("cdn.discordapp.com", "MEDIA.discordapp.net.")
    assert published_url(media) == "https://MEDIA.discordapp.net./attachments/1/2/fox.png"


def test_other_urls_are_published_as_given() -> None:
    for url in (
        "https://images.example.org/fox.png?size=large",
        "https://cdn.discordapp.com/attachments/1/2/fox.png",
        "not a url [",
    ):
        assert published_url(url) == url
