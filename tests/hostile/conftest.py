"""The hostile-input suite: every case records its outcome; the session prints a summary.

    make hostile      # or: .venv/bin/python -m pytest tests/hostile -q

Outcomes: ``row`` (landed in articles), ``quarantine:<checks>``, ``skip:<reason>`` (a
counted skip in the manifest), ``error:<ConfigError|…>`` (a clear error), ``crash`` (an
exception nobody meant: must be 0), ``lost`` (an input that left no trace: must be 0).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class Ledger:
    outcomes: dict[str, str] = field(default_factory=dict)
    rows_lost: int = 0
    rows_duplicated: int = 0

    def record(self, case: str, outcome: str) -> str:
        self.outcomes[case] = outcome
        return outcome


LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return LEDGER


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LEDGER.outcomes:
        return
    kinds = Counter(outcome.split(":", 1)[0] for outcome in LEDGER.outcomes.values())
    write = terminalreporter.write_line
    write("")
    write("hostile inputs: summary")
    write(f"  inputs tried:    {len(LEDGER.outcomes)}")
    for kind in ("row", "quarantine", "skip", "error", "crash", "lost"):
        write(f"  {kind + ':':<16} {kinds.get(kind, 0)}")
    write(f"  rows lost:       {LEDGER.rows_lost}")
    write(f"  rows duplicated: {LEDGER.rows_duplicated}")
