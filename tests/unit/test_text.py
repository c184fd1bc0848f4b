"""Slugs, timestamps and field patterns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from service.articles.schemas import NewArticle
from service.articles.slugs import SUFFIXED_ATTEMPTS, is_slug_of, slug_candidates, slugify, with_suffix
from service.fields import format_timestamp


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  Spaces   and---dashes  ", "spaces-and-dashes"),
        ("Ünïcödé Çafé", "unicode-cafe"),
        ("🐉🐉", "article"),
        ("C'est l'été!", "c-est-l-ete"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slug_is_bounded_and_suffix_is_unique() -> None:
    assert len(slugify("word " * 100)) <= 200
    assert re.fullmatch(r"base-[0-9a-f]{8}", with_suffix("base"))
    assert with_suffix("base") != with_suffix("base")


def test_slug_candidates_start_plain_then_add_distinct_suffixes() -> None:
    candidates = list(slug_candidates("Hello World"))
    assert candidates[0] == "hello-world"
    assert len(candidates) == 1 + SUFFIXED_ATTEMPTS == len(set(candidates))
    assert all(is_slug_of(candidate, "hello world!") for candidate in candidates)


@pytest.mark.parametrize(
    ("slug", "title", "expected"),
    [
        ("dragons", "Dragons", True),
        ("dragons-1a2b3c4d", "DRAGONS!", True),
        ("dragons-2", "Dragons", False),
        ("dragons-1a2b3c4d", "Dragons 2", False),
        ("dragons-1a2b3c4", "Dragons", False),
        ("dragonslayer", "Dragons", False),
    ],
)
def test_is_slug_of_tells_whether_an_edit_keeps_the_slug(slug: str, title: str, expected: bool) -> None:
    assert is_slug_of(slug, title) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00.000Z"),
        (datetime(2024, 1, 1, 12, 30, 5, 123_999, tzinfo=UTC), "2024-01-01T12:30:05.123Z"),
        (datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))), "2024-01-01T00:00:00.000Z"),
        (datetime(2024, 1, 1), "2024-01-01T00:00:00.000Z"),  # naive values are taken as UTC
    ],
)
def test_timestamps_always_have_milliseconds_and_z(value: datetime, text: str) -> None:
    assert format_timestamp(value) == text


def test_blank_pattern_is_linear_time_on_hostile_input() -> None:
    """A quadratic regex on 64 KiB of spaces would take minutes; this must fail fast."""
    hostile = msgspec.json.encode({"title": "t", "description": "d", "body": " " * 65_536})
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(hostile, type=NewArticle)
