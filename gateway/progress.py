"""Progress bars for long CLI commands (tqdm on stderr; silent when not a terminal)."""

from __future__ import annotations

import sys
from types import TracebackType

from tqdm import tqdm


class ProgressBars:
    def __init__(self) -> None:
        self._bars: dict[str, tqdm] = {}
        self._disable = not sys.stderr.isatty()

    def update(self, label: str, done: int, total: int) -> None:
        bar = self._bars.get(label)
        if bar is None:
            bar = tqdm(total=total or None, desc=label, unit="", disable=self._disable)
            self._bars[label] = bar
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for bar in self._bars.values():
            bar.close()
