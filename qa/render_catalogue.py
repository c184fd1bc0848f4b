"""Rewrite the bad-input table in qa/README.md from qa/catalogue.py (`make qa-catalogue`)."""

from __future__ import annotations

from pathlib import Path

from qa.catalogue import render_table

BEGIN, END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"
README = Path(__file__).resolve().parent / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{BEGIN}\n{render_table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
