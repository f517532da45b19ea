"""The example operations GraphiQL opens with, one per kind of caller.

They live as ``.graphql`` files in ``docs/queries/`` (a test runs each against the demo so
they never rot). A file's first comment lines carry its metadata:
``# title: …`` and ``# token: demo-staff``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_KEYS = frozenset({"title", "token", "variables"})
QUERIES_DIR = Path(__file__).resolve().parent.parent / "docs" / "queries"


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    title: str
    token: str | None
    query: str
    variables: str | None = None

    @property
    def is_subscription(self) -> bool:
        """A subscription runs over the WebSocket only (GraphiQL uses it for these)."""
        for line in self.query.splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                return text.startswith("subscription")
        return False


def load_examples(directory: Path = QUERIES_DIR) -> list[Example]:
    examples = []
    for path in sorted(directory.glob("*.graphql")):
        text = path.read_text()
        meta: dict[str, str] = {}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].partition(":")
            if sep and key.strip().lower() in _KEYS:
                meta[key.strip().lower()] = value.strip()
        examples.append(
            Example(
                name=path.stem,
                title=meta.get("title", path.stem),
                token=meta.get("token"),
                query=text,
                variables=meta.get("variables"),
            )
        )
    return examples
