"""Rewrite the README's configuration reference from gateway/settings.py."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import reference_table

README = Path(__file__).resolve().parents[1] / "README.md"

text = README.read_text()
start = text.index("\n", text.index("<!-- settings:start")) + 1
end = text.index("<!-- settings:end -->")
README.write_text(text[:start] + reference_table() + "\n" + text[end:])
