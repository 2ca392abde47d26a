"""Extraction drift: how an outlet's parsed rows look today against its recent days.

A redesign rarely breaks a page outright: the byline goes, the date falls back to another
source, the body halves because the text now spans two containers, the rules stop
matching and the generic extractor takes over, promo lines leak into the text. Each run
keeps a small **profile** of its parsed rows in its manifest (``profile``), and the batch
gate compares the day's profile with the **baseline**: per figure, the median over the
outlet's last ``validation.drift.baseline_days`` days that have one (their latest runs).

Every figure is a share of the day's rows, so each is judged the same way: it drifts when
``|value - baseline|`` exceeds ``max(tolerance, Z * sqrt(p(1 - p) (1/rows + 1/n) +
spread ** 2))``: the check's tolerance, or ``Z`` (4) standard errors of the difference
between two binomial shares, today's of ``rows`` rows and the baseline's of ``n`` rows
(the two-proportion test's), widened by the spread of the baseline days' own values
(1.4826 × their median absolute deviation: a figure that swings from day to day, like
the share of updated stories, gets the room it swings in; one odd day does not).
``p`` is whichever of the baseline (the median of the days) and the **pooled** share
(the baseline days' rows that have the property over all their rows) is nearer one half,
smoothed as ``(share * n + 1) / (n + 2)`` so that 100 % still leaves room for one odd
row. The pooled share is what the baseline's rows say ``p`` is, so a minority that shows
on some baseline days but not on most (2 of a week's 5 small days hold short stories:
median 0 %) still gets its sampling room; the median keeps the room it gives when one big
day dominates the pool. A small day thus needs a large step to fire; a big day fires at
the tolerance.

The checks (``CHECKS``), each a Great Expectations expectation of the batch suite on the
check's worst ``score`` (``|value - baseline| / allowed``; over 1 fails or warns):

- ``drift_field_coverage``: the share of rows that have each field (``FIELDS``);
- ``drift_date_source``: the share of rows per ``published_at_source`` (``none``: no date);
- ``drift_parser_path``: the share of rows per parser path (rules/structured/embedded/generic);
- ``drift_body_length``: the share of rows under the word count that a quarter of the
  baseline days' rows (pooled, ``word_bins``) are under, and the share at or over the one
  three quarters are under (each against the same share on each baseline day);
- ``drift_boilerplate``: the share of rows whose body holds a line (paragraph, at least
  ``MIN_LINE_CHARS`` characters) that at least ``max(MIN_REPEATS, REPEAT_SHARE * rows)`` of
  the day's rows hold (leaked promo or navigation text), against, per baseline day, the
  larger of that day's share and the largest share of its rows that any baseline day held
  one of today's repeated lines in (``common_lines``: a stock sentence of the outlet's own
  text, like a closing line that a third of the stories end with, is in 5 of 6 stories on
  some small day; it is not new, a leaked promo is);
- ``drift_language``: the share of rows whose detected language is not the outlet's.

Plain Python over plain values: no pandas, no GX (``newslake.validate`` runs the suite).
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newslake.config import Drift

FIELDS = ("authors", "description", "published_at", "modified_at", "section", "tags",
          "image_url", "language")
PARSER_PATHS = ("rules", "structured", "embedded", "generic")
CHECKS = ("drift_field_coverage", "drift_date_source", "drift_parser_path",
          "drift_body_length", "drift_boilerplate", "drift_language")
Z = 4.0
MIN_LINE_CHARS = 30
MIN_REPEATS = 5
REPEAT_SHARE = 0.8
QUANTILES = (10, 25, 50, 75, 90)
# Word-count bins of the profile: a day's body-length distribution in 15 numbers, pooled
# over the baseline days to find the cuts that the body-length check counts rows under.
WORD_EDGES = (25, 50, 100, 150, 200, 250, 300, 400, 500, 700, 1000, 1500, 2500, 5000)
SHOWN_LINE_CHARS = 80
# The lines in two rows or more that a profile keeps (key and rows, ~30 bytes each): what
# a later day's repeated line is looked up in.
COMMON_LINES = 20


def present(value: Any) -> bool:
    """A field is there: not None/NaN, and not an empty string or list."""
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    try:
        return len(value) > 0
    except TypeError:
        return not _is_nat(value)


def _is_nat(value: Any) -> bool:
    return str(value) == "NaT"


def parser_path(parser: Any) -> str:
    """``rules:demo@1`` -> ``rules``; ``generic@1`` -> ``generic``."""
    text = str(parser or "unknown")
    return text.split("@", 1)[0].split(":", 1)[0]


def _line_key(line: str) -> bytes | None:
    text = " ".join(line.split())
    if len(text) < MIN_LINE_CHARS:
        return None
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


@dataclass(frozen=True)
class RepeatedLines:
    rows_with: int  # rows holding at least one repeated line
    rows: int
    top_line: str | None  # the repeated line in most rows (cut to SHOWN_LINE_CHARS)
    top_rows: int
    repeated: tuple[str, ...] = ()  # the repeated lines' keys (hex)
    common: tuple[tuple[str, int], ...] = ()  # (key, rows) of lines in 2+ rows, most first

    @property
    def share(self) -> float:
        return self.rows_with / self.rows if self.rows else 0.0


def repeated_lines(bodies: Iterable[str | None]) -> RepeatedLines:
    """Which rows hold a line that many of the day's rows hold (see the module doc).
    One pass; memory: 8 bytes per line of the day, text only for lines seen twice."""
    per_row: list[tuple[bytes, ...]] = []
    counts: Counter[bytes] = Counter()
    texts: dict[bytes, str] = {}
    for body in bodies:
        keys: dict[bytes, str] = {}
        for line in (body or "").split("\n"):
            key = _line_key(line)
            if key is not None:
                keys.setdefault(key, line)
        for key, line in keys.items():
            counts[key] += 1
            if counts[key] == 2:
                texts[key] = " ".join(line.split())
        per_row.append(tuple(keys))
    rows = len(per_row)
    need = max(MIN_REPEATS, math.ceil(REPEAT_SHARE * rows))
    repeated = {key for key, n in counts.items() if n >= need}
    rows_with = sum(any(k in repeated for k in keys) for keys in per_row)
    top = max(repeated, key=lambda k: (counts[k], texts[k]), default=None)
    common = sorted(((k, n) for k, n in counts.items() if n >= 2),
                    key=lambda kn: (-kn[1], kn[0]))[:COMMON_LINES]
    return RepeatedLines(rows_with, rows, texts[top][:SHOWN_LINE_CHARS] if top else None,
                         counts[top] if top else 0, tuple(sorted(k.hex() for k in repeated)),
                         tuple((k.hex(), n) for k, n in common))


def _quantiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {f"p{q}": float(values[0]) for q in QUANTILES}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {f"p{q}": round(cuts[q - 1], 1) for q in QUANTILES}


def _shares(labels: Iterable[str], rows: int) -> dict[str, float]:
    return {k: round(n / rows, 4) for k, n in sorted(Counter(labels).items())} if rows else {}


def build_profile(columns: Mapping[str, Sequence[Any]], language: str,
                  lines: RepeatedLines) -> dict[str, Any]:
    """The profile of a day's parsed rows: ``columns`` holds ``FIELDS``, ``parser``,
    ``published_at_source`` and ``word_count``, one value a row; ``lines`` is
    ``repeated_lines`` over the same rows' bodies."""
    rows = len(columns["parser"])
    words = sorted(int(w) for w in columns["word_count"] if present(w))
    languages = [v for v in columns["language"] if present(v)]
    return {
        "rows": rows,
        "coverage": {f: round(sum(present(v) for v in columns[f]) / rows, 4) if rows else 0.0
                     for f in FIELDS},
        "date_source": _shares((str(s) if present(s) else "none"
                                for s in columns["published_at_source"]), rows),
        "parser_path": _shares((parser_path(p) for p in columns["parser"]), rows),
        "words": _quantiles(words),
        "word_bins": [sum(1 for w in words if lower <= w < upper) for lower, upper in zip(
            (0, *WORD_EDGES), (*WORD_EDGES, math.inf), strict=True)],
        "boilerplate": round(lines.share, 4),
        "repeated_line": lines.top_line,
        "repeated_line_rows": lines.top_rows,
        "repeated_keys": list(lines.repeated),
        "common_lines": dict(lines.common),
        "language_mismatch": round(
            sum(v != language for v in languages) / rows, 4) if rows else 0.0,
    }


@dataclass(frozen=True)
class Finding:
    """One figure of a check against its baseline."""

    check: str
    metric: str
    value: float
    baseline: float
    allowed: float
    rows: int
    days: int

    @property
    def score(self) -> float:
        return abs(self.value - self.baseline) / self.allowed if self.allowed else 0.0

    @property
    def drifted(self) -> bool:
        return self.score > 1.0

    def text(self) -> str:
        return (f"{self.metric} {self.value:.0%} vs baseline {self.baseline:.0%} "
                f"(median of {self.days} days; allowed ±{self.allowed:.0%} at {self.rows} rows)")


@dataclass
class DriftResult:
    """Per check: its worst score (None: not judged) and the figures that drifted."""

    scores: dict[str, float | None]
    findings: dict[str, list[Finding]]
    not_judged: str | None = None  # why nothing was judged
    baseline_days: list[str] | None = None

    def message(self, check: str) -> str | None:
        """What drifted, named, with value and baseline (None when nothing did)."""
        drifted = sorted((f for f in self.findings.get(check, []) if f.drifted),
                         key=lambda f: -f.score)
        return "; ".join(f.text() for f in drifted) or None


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _spread(values: list[float]) -> float:
    """The baseline days' spread, robustly: 1.4826 × the median absolute deviation (the
    standard deviation of a normal sample), so that one odd day among them does not
    widen the room for a week."""
    if len(values) < 2:
        return 0.0
    middle = statistics.median(values)
    return 1.4826 * statistics.median(abs(v - middle) for v in values)


def _smoothed(share: float, rows: int) -> float:
    """A share of ``rows`` rows moved one row's worth off 0 and 1 (Laplace's rule)."""
    return (share * rows + 1) / (rows + 2)


def _sampling_share(median: float, pooled: float) -> float:
    """The share whose binomial variance sizes the room (see the module doc): of the
    baseline days' median and their pooled share, the one nearer one half (the larger
    ``p(1 - p)``)."""
    return min((median, pooled), key=lambda p: abs(p - 0.5))


def _allowed(median: float, pooled: float, baseline_rows: int, rows: int, tolerance: float,
             spread: float) -> float:
    p = _smoothed(_sampling_share(median, pooled), baseline_rows)
    sampling = p * (1 - p) * (1 / rows + 1 / baseline_rows)
    return max(tolerance, Z * math.sqrt(sampling + spread ** 2))


def _held(profile: Mapping[str, Any], keys: Sequence[str]) -> float:
    """The share of a baseline day's rows that held one of today's repeated lines (as
    far as its ``common_lines`` say: in 2 rows or more)."""
    rows = int(profile.get("rows") or 0)
    common = profile.get("common_lines") or {}
    return max((int(common.get(k, 0)) for k in keys), default=0) / rows if rows else 0.0


def _under(bins: Sequence[int], cut: int) -> float:
    """The share of a profile's rows under ``WORD_EDGES[cut]`` words."""
    total = sum(bins)
    return sum(bins[: cut + 1]) / total if total else 0.0


def _body_cuts(usable: Sequence[Mapping[str, Any]]) -> tuple[int, int] | None:
    """The word-count edges (indexes in ``WORD_EDGES``) under which the pooled baseline
    rows come nearest a quarter and three quarters; None without bins."""
    binned = [b["word_bins"] for b in usable if b.get("word_bins")]
    if not binned:
        return None
    pooled = [sum(column) for column in zip(*binned, strict=True)]
    shares = [_under(pooled, i) for i in range(len(WORD_EDGES))]
    low = min(range(len(shares)), key=lambda i: abs(shares[i] - 0.25))
    high = min(range(len(shares)), key=lambda i: abs(shares[i] - 0.75))
    return low, high


def judge(today: Mapping[str, Any], baselines: Sequence[Mapping[str, Any]],
          rules: Drift, baseline_days: list[str] | None = None) -> DriftResult:
    """Each check's score for ``today`` (a ``build_profile``) against ``baselines`` (the
    recent days' profiles, newest first)."""
    rows = int(today.get("rows") or 0)
    usable = [b for b in baselines if int(b.get("rows") or 0) >= rules.min_rows]
    unjudged = dict.fromkeys(CHECKS, None)
    if rows < rules.min_rows:
        return DriftResult(unjudged, {}, f"{rows} rows < drift.min_rows {rules.min_rows}")
    if len(usable) < rules.min_baseline_days:
        return DriftResult(unjudged, {}, f"{len(usable)} baseline days with "
                           f">= {rules.min_rows} rows < drift.min_baseline_days "
                           f"{rules.min_baseline_days}")
    base_rows = [int(b["rows"]) for b in usable]
    days = len(usable)
    findings: dict[str, list[Finding]] = {c: [] for c in CHECKS}

    def add(check: str, metric: str, value: float, past: list[float],
            past_rows: list[int] | None = None) -> None:
        """``past``: the baseline days' values (their median is the baseline, their
        spread widens what is allowed; pooled over ``past_rows``, each day's rows, they
        give the pooled share), one per usable day unless ``past_rows`` says."""
        weights = base_rows if past_rows is None else past_rows
        baseline = _median(past)
        total = sum(weights)
        pooled = sum(v * n for v, n in zip(past, weights, strict=True)) / total if total else 0.0
        allowed = _allowed(baseline, pooled, total, rows, rules.tolerance(check),
                           _spread(past))
        findings[check].append(Finding(check, metric, round(value, 4), round(baseline, 4),
                                       round(allowed, 4), rows, days))

    def shares(check: str, key: str, names: Iterable[str]) -> None:
        for name in names:
            add(check, f"{key} {name}" if key else f"{name} present",
                float(today.get(key or "coverage", {}).get(name, 0.0)),
                [float(b.get(key or "coverage", {}).get(name, 0.0)) for b in usable])

    shares("drift_field_coverage", "", FIELDS)
    sources = sorted({s for p in [today, *usable] for s in p.get("date_source", {})})
    shares("drift_date_source", "date_source", sources)
    paths = sorted({s for p in [today, *usable] for s in p.get("parser_path", {})})
    shares("drift_parser_path", "parser_path", paths)
    cuts = _body_cuts(usable)
    bins = today.get("word_bins")
    if cuts is not None and bins:
        low, high = cuts
        with_bins = [b["word_bins"] for b in usable if b.get("word_bins")]
        # A body-length share is of the rows with a word count (all of them, as a rule).
        counted = [sum(b) for b in with_bins]
        add("drift_body_length", f"rows under {WORD_EDGES[low]} words", _under(bins, low),
            [_under(b, low) for b in with_bins], counted)
        add("drift_body_length", f"rows of {WORD_EDGES[high]} words or more",
            1 - _under(bins, high), [1 - _under(b, high) for b in with_bins], counted)
    held = max((_held(b, today.get("repeated_keys") or []) for b in usable), default=0.0)
    add("drift_boilerplate", "rows with a line repeated across the day"
        + (f" (\u201c{today['repeated_line']}\u201d in {today.get('repeated_line_rows')} rows)"
           if today.get("repeated_line") else ""),
        float(today.get("boilerplate", 0.0)),
        [max(float(b.get("boilerplate", 0.0)), held) for b in usable])
    add("drift_language", "rows not in the outlet's language",
        float(today.get("language_mismatch", 0.0)),
        [float(b.get("language_mismatch", 0.0)) for b in usable])
    scores: dict[str, float | None] = {
        c: round(max((f.score for f in findings[c]), default=0.0), 4) for c in CHECKS}
    return DriftResult(scores, findings, None, baseline_days)
