"""The entity-relationship diagram of the published tables, drawn from ``vocabulary.py`` (columns,
types, primary keys, references, nullable columns) as a Mermaid ``erDiagram``, so that the picture
in docs/data-dictionary.md cannot drift from the code (tests/test_er_diagram.py compares them).

    python scripts/er_diagram.py            # print the diagram's block
    python scripts/er_diagram.py --write    # put it in docs/data-dictionary.md between its markers
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synth_spark.vocabulary import NULLABLE, OUTPUT_TABLES, PRIMARY_KEYS, REFERENCES, column_types

PAGE = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"
BEGIN = "<!-- er-diagram: drawn by scripts/er_diagram.py from vocabulary.py; do not edit by hand -->"
END = "<!-- end of er-diagram -->"


def diagram() -> str:
    lines = ["```mermaid", "erDiagram"]
    for child, refs in REFERENCES.items():
        for column, parent in refs.items():
            # a reference that may be null: the row need not have a parent (zero or one)
            parent_side = "|o" if column in NULLABLE[child] else "||"
            lines.append(f'    {parent} {parent_side}--o{{ {child} : "{column}"')
    for table in OUTPUT_TABLES:
        lines.append(f"    {table} {{")
        for column, kind in column_types(table).items():
            marks = ["PK"] if PRIMARY_KEYS[table] == column else []
            if column in REFERENCES.get(table, {}):
                marks.append("FK")
            # Mermaid takes a word as the type: decimal(10,2) is shown as decimal
            parts = [
                kind.split("(")[0],
                column,
                ",".join(marks),
                '"may be null"' if column in NULLABLE[table] else "",
            ]
            lines.append("        " + " ".join(p for p in parts if p))
        lines.append("    }")
    lines.append("```")
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n\n{diagram()}\n\n{END}"


def on_the_page(text: str) -> str:
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="update docs/data-dictionary.md in place")
    if p.parse_args().write:
        text = PAGE.read_text()
        PAGE.write_text(text.replace(on_the_page(text), block()))
    else:
        print(block())


if __name__ == "__main__":
    main()
