"""The CLI's tables (rich): columns line up in terminal cells, so a row with CJK text or an emoji does not push
its neighbours out of line, as padding by ``len`` did; users' text is printed as it is."""

from __future__ import annotations

from rich.cells import cell_len

from uno.cli import _table

ROWS = [
    ("aspect", "support", "rule"),
    ("answer:yes_no", "6", "只回答是或否"),
    ("语气:正式", "12", "Use a formal tone."),
]


def old_table(rows: list[tuple[str, ...]]) -> str:
    """What uno printed before: columns padded to their length in characters."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c if i == len(r) - 1 else c.ljust(widths[i]) for i, c in enumerate(r)) for r in rows)


def column_starts(table: str, column: str, rows: list[tuple[str, ...]]) -> set[int]:
    """The terminal cell at which each row's cell of ``column`` (its index in the header) begins."""
    index = rows[0].index(column)
    return {
        cell_len(line[: line.index(row[index], len(row[0]))])
        for line, row in zip(table.splitlines(), rows, strict=True)
    }


def test_columns_line_up_in_terminal_cells_with_cjk_text() -> None:
    assert len(column_starts(old_table(ROWS), "support", ROWS)) > 1, "the old padding was off for 语气:正式"
    table = _table(ROWS, align_right={1})
    assert len(column_starts(table, "rule", ROWS)) == 1
    assert [line.split()[1] for line in table.splitlines()] == ["support", "6", "12"]
    assert table.splitlines()[1].index("6") + 1 == table.splitlines()[0].index("support") + len("support")


def test_cells_are_printed_as_given_unwrapped_and_without_trailing_spaces() -> None:
    rows = [("rule", "why"), ("[bold]Do this[/bold]", ":smile: " + "x" * 300), ("short", "")]
    lines = _table(rows).splitlines()
    assert "[bold]Do this[/bold]" in lines[1] and ":smile: " + "x" * 300 in lines[1], "no markup, no emoji codes"
    assert len(lines) == 3, "nothing wrapped"
    assert all(line == line.rstrip() for line in lines)
    assert lines[0].startswith("rule") and lines[2] == "short"
