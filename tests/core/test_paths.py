"""Stored paths are trusted only inside their folder; files are written whole or not at all."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.paths import file_inside, write_at_once


def test_a_stored_path_is_read_only_when_it_is_a_file_inside_its_folder(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "image-a.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("no")
    (inputs / "link.png").symlink_to(tmp_path / "secret.txt")
    assert file_inside(inputs, str(inputs / "image-a.png")) == (inputs / "image-a.png").resolve()
    for stored in ("inputs/../secret.txt", str(inputs / ".." / "secret.txt")):
        assert file_inside(inputs, str(tmp_path / stored)) is None
    assert file_inside(inputs, str(inputs / "link.png")) is None
    assert file_inside(inputs, str(inputs / "missing.png")) is None
    assert file_inside(inputs, str(inputs)) is None


def test_writers_of_one_path_at_once_leave_one_whole_file_and_no_parts(tmp_path: Path) -> None:
    target = tmp_path / "small" / "thumb.jpg"
    contents = [bytes([n]) * 200_000 for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as writers:
        list(writers.map(lambda data: write_at_once(target, data), contents))
    assert target.read_bytes() in contents
    assert [path.name for path in target.parent.iterdir()] == ["thumb.jpg"]
