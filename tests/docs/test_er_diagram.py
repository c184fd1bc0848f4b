"""The data-model diagram in docs/tour.md matches service/models.py: tables, columns, keys, links."""

from __future__ import annotations

import pytest

from service.db import Base
from tests.docs.er_diagram import (
    TOUR,
    check_tour_diagram,
    diagram_from_metadata,
    differences,
    extract_er_block,
    parse_er_diagram,
)


def test_tour_diagram_matches_the_models() -> None:
    import service.models  # noqa: F401 - registers every table on Base.metadata

    problems = check_tour_diagram(Base.metadata)
    assert not problems, "docs/tour.md is out of step with service/models.py:\n" + "\n".join(problems)


def _drawn_lines() -> list[str]:
    return extract_er_block(TOUR.read_text(encoding="utf-8")).splitlines()


def test_a_column_removed_from_the_diagram_is_reported() -> None:
    import service.models  # noqa: F401

    lines = _drawn_lines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("text bio"))
    drawn = parse_er_diagram("\n".join(lines[:index] + lines[index + 1 :]))
    assert differences(drawn, diagram_from_metadata(Base.metadata)) == ["column users.bio is missing from the diagram"]


def test_a_changed_key_or_a_missing_relationship_is_reported() -> None:
    import service.models  # noqa: F401

    body = "\n".join(_drawn_lines())
    drawn = parse_er_diagram(
        body.replace("varchar slug UK", "varchar slug").replace('users ||--o{ comments : "author_id"', "")
    )
    problems = differences(drawn, diagram_from_metadata(Base.metadata))
    assert any("articles.slug" in problem for problem in problems)
    assert any("relationship missing" in problem and "author_id" in problem for problem in problems)


def test_the_parser_rejects_lines_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="not understood"):
        parse_er_diagram("users ??? articles")
