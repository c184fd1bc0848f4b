"""Slugs: URL-safe names derived from titles, unique by a random suffix when the plain one is taken."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator

SLUG_BASE_MAX = 200
SUFFIXED_ATTEMPTS = 4  # after the plain slug; each suffix has 2**32 values, so a 5th is never needed
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SUFFIX = re.compile(r"-[0-9a-f]{8}")


def slugify(title: str) -> str:
    """ "How to train your Dragon!" -> "how-to-train-your-dragon"; accents folded to ASCII."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_ALNUM.sub("-", ascii_title.lower()).strip("-")
    return slug[:SLUG_BASE_MAX].rstrip("-") or "article"


def with_suffix(slug: str) -> str:
    """A unique variant for a taken slug (titles are not unique, slugs are: spec quirk Q8)."""
    return f"{slug}-{secrets.token_hex(4)}"


def slug_candidates(title: str) -> Iterator[str]:
    """The slugs to try for `title`, in order: the plain one, then random variants."""
    slug = slugify(title)
    yield slug
    for _ in range(SUFFIXED_ATTEMPTS):
        yield with_suffix(slug)


def is_slug_of(slug: str, title: str) -> bool:
    """Whether `slug` was made from `title`, plainly or with a suffix (an edit then keeps it)."""
    base = slugify(title)
    return slug == base or (slug.startswith(base) and _SUFFIX.fullmatch(slug, len(base)) is not None)
