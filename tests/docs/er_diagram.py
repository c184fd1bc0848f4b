"""Read the Mermaid ER diagram in docs/tour.md and compare it with the SQLAlchemy metadata.

The diagram is documentation that a test keeps honest: every table, column, key, type and
foreign key in `service.models` must be drawn, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Text
from sqlalchemy.types import TypeEngine

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "docs" / "tour.md"

_BLOCK = re.compile(r"```mermaid\s*\n\s*erDiagram\s*\n(?P<body>.*?)```", re.DOTALL)
_ENTITY_START = re.compile(r"^(?P<name>\w+)\s*\{$")
_ATTRIBUTE = re.compile(
    r'^(?P<type>\w+)\s+(?P<name>\w+)(?P<keys>(?:\s+(?:PK|FK|UK)(?:\s*,\s*(?:PK|FK|UK))*)?)(?:\s+"[^"]*")?$'
)
# parent ||--o{ child : "fk_column"   (|o on the parent side when the foreign key is nullable)
_RELATION = re.compile(
    r'^(?P<left>\w+)\s+(?P<lcard>\|\||\|o|o\|)\s*(?:--|\.\.)\s*(?P<rcard>o\{|\|\{|\}o|\}\|)\s+(?P<right>\w+)\s*:\s*"?(?P<label>[^"]+?)"?$'
)


@dataclass(frozen=True, slots=True)
class Attribute:
    type: str
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Relation:
    parent: str
    child: str
    column: str
    parent_cardinality: str


@dataclass(slots=True)
class Diagram:
    tables: dict[str, dict[str, Attribute]] = field(default_factory=dict)
    relations: set[Relation] = field(default_factory=set)


def extract_er_block(markdown: str) -> str:
    blocks = _BLOCK.findall(markdown)
    if len(blocks) != 1:
        raise ValueError(f"expected exactly one ```mermaid erDiagram block, found {len(blocks)}")
    return str(blocks[0])


def parse_er_diagram(body: str) -> Diagram:
    """Parse the subset of Mermaid erDiagram syntax the tour uses; unknown lines are errors."""
    diagram = Diagram()
    current: dict[str, Attribute] | None = None
    for number, raw in enumerate(body.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        if current is not None:
            if line == "}":
                current = None
                continue
            match = _ATTRIBUTE.match(line)
            if not match:
                raise ValueError(f"line {number}: not an attribute: {line!r}")
            keys = frozenset(re.findall(r"PK|FK|UK", match["keys"] or ""))
            current[match["name"]] = Attribute(match["type"], keys)
            continue
        if entity := _ENTITY_START.match(line):
            current = diagram.tables.setdefault(entity["name"], {})
            continue
        if relation := _RELATION.match(line):
            diagram.relations.add(
                Relation(relation["left"], relation["right"], relation["label"].strip(), relation["lcard"])
            )
            continue
        raise ValueError(f"line {number}: not understood: {line!r}")
    if current is not None:
        raise ValueError("an entity block is not closed with }")
    return diagram


def diagram_type(sql_type: TypeEngine[object]) -> str:
    """The word the diagram uses for a column type."""
    if isinstance(sql_type, DateTime) or isinstance(getattr(sql_type, "impl", None), DateTime):
        return "timestamptz" if getattr(sql_type, "timezone", False) or _impl_has_zone(sql_type) else "timestamp"
    if isinstance(sql_type, Integer):
        return "int"
    if isinstance(sql_type, Text):
        return "text"
    if isinstance(sql_type, String):
        return "varchar"
    raise ValueError(f"no diagram word for column type {sql_type!r}: add one to tests/docs/er_diagram.py")


def _impl_has_zone(sql_type: TypeEngine[object]) -> bool:
    impl = getattr(sql_type, "impl", None)
    return bool(getattr(impl, "timezone", False))


def _keys(column: Column[object]) -> frozenset[str]:
    keys = set()
    if column.primary_key:
        keys.add("PK")
    if column.foreign_keys:
        keys.add("FK")
    if column.unique:
        keys.add("UK")
    return frozenset(keys)


def diagram_from_metadata(metadata: MetaData) -> Diagram:
    """What the diagram must say, derived from the models."""
    expected = Diagram()
    for table in metadata.sorted_tables:
        expected.tables[table.name] = {
            column.name: Attribute(diagram_type(column.type), _keys(column)) for column in table.columns
        }
        for column in table.columns:
            for foreign_key in column.foreign_keys:
                expected.relations.add(
                    Relation(foreign_key.column.table.name, table.name, column.name, "|o" if column.nullable else "||")
                )
    return expected


def differences(drawn: Diagram, expected: Diagram) -> list[str]:
    """Human-readable differences; empty when the diagram matches the models."""
    problems: list[str] = []
    for name in sorted(expected.tables.keys() - drawn.tables.keys()):
        problems.append(f"table {name} is in service/models.py but not in the diagram")
    for name in sorted(drawn.tables.keys() - expected.tables.keys()):
        problems.append(f"table {name} is in the diagram but not in service/models.py")
    for name in sorted(expected.tables.keys() & drawn.tables.keys()):
        want, have = expected.tables[name], drawn.tables[name]
        for column in sorted(want.keys() - have.keys()):
            problems.append(f"column {name}.{column} is missing from the diagram")
        for column in sorted(have.keys() - want.keys()):
            problems.append(f"column {name}.{column} is drawn but does not exist")
        for column in sorted(want.keys() & have.keys()):
            if want[column] != have[column]:
                problems.append(
                    f"column {name}.{column}: diagram says {have[column].type} {sorted(have[column].keys)}, "
                    f"models say {want[column].type} {sorted(want[column].keys)}"
                )
    for relation in sorted(expected.relations - drawn.relations, key=str):
        problems.append(
            f'relationship missing: {relation.parent} {relation.parent_cardinality}--o{{ {relation.child} : "{relation.column}"'
        )
    for relation in sorted(drawn.relations - expected.relations, key=str):
        problems.append(f"relationship drawn but not a foreign key: {relation}")
    return problems


def check_tour_diagram(metadata: MetaData, tour: Path = TOUR) -> list[str]:
    return differences(
        parse_er_diagram(extract_er_block(tour.read_text(encoding="utf-8"))), diagram_from_metadata(metadata)
    )
