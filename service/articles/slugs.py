"""Slugs: URL-safe names derived from titles."""

from __future__ import annotations

import re
import secrets
import unicodedata

SLUG_BASE_MAX = 200
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """ "How to train your Dragon!" -> "how-to-train-your-dragon"; accents folded to ASCII."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = _NON_ALNUM.sub("-", ascii_title.lower()).strip("-")
    return slug[:SLUG_BASE_MAX].rstrip("-") or "article"


def with_suffix(slug: str) -> str:
    """A unique variant for a taken slug (titles are not unique, slugs are: spec quirk Q8)."""
    return f"{slug}-{secrets.token_hex(4)}"
