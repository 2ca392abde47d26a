"""Extraction quality and speed: newslake's generic path vs. bare trafilatura.

Scores both on the fundus-dev corpus (../shared/corpus/fundus-dev) by the corpus README's
rules: body bag-of-tokens P/R/F1 (Han/Hiragana/Katakana one token per character), title
exact match, published_at equal to the minute in UTC, author set match. Prints one table
per extractor and pages/s (parse only: decoding of the gzip is outside the clock).

    .venv/bin/python bench/extraction.py [--corpus DIR] [--repeat N] [--failures]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trafilatura
from _common import report

from newslake.errors import ParseError
from newslake.parse import parse_article

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "fundus-dev"
INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
CJK_RE = r"\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{CJK_RE}]|(?:(?![{CJK_RE}])\w)+")
WS_RE = re.compile(r"\s+")

Prediction = dict[str, Any]


@dataclass
class Case:
    case_id: str
    url: str
    html: str
    expected: dict[str, Any]


def load_cases(corpus: Path) -> list[Case]:
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    cases = []
    for entry in index["cases"]:
        # UTF-8 whatever the page's <meta charset> says (corpus README: two pages declare
        # GB2312 / ISO-8859-1 but are UTF-8); both extractors get the same decoded text.
        html = gzip.decompress((corpus / entry["html"]).read_bytes()).decode("utf-8")
        expected = json.loads((corpus / entry["expected"]).read_text(encoding="utf-8"))
        cases.append(Case(entry["case_id"], entry["url"], html, expected))
    return cases


def tokens(text: str) -> Counter[str]:
    text = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", text))
    return Counter(TOKEN_RE.findall(text))


def body_prf(expected: str, predicted: str) -> tuple[float, float, float]:
    e, p = tokens(expected), tokens(predicted)
    if not p or not e:
        return 0.0, 0.0, 0.0
    tp = sum((e & p).values())
    precision, recall = tp / sum(p.values()), tp / sum(e.values())
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


def norm_ws(text: str) -> str:
    return WS_RE.sub(" ", INVISIBLE_RE.sub("", text)).strip()


def minute_utc(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC).replace(second=0, microsecond=0)


def author_set(names: list[str] | None) -> set[str]:
    return {norm_ws(n).casefold() for n in names or [] if norm_ws(n)}


def newslake_predict(case: Case) -> Prediction:
    try:
        article = parse_article(case.html, case.url)
    except ParseError as exc:
        return {"error": exc.reason}
    return {
        "title": article.title,
        "authors": article.authors,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "body": article.body,
    }


def trafilatura_predict(case: Case) -> Prediction:
    doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True)
    if not isinstance(doc, trafilatura.settings.Document):  # None, or a dict on request
        return {}
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    # trafilatura gives a date without a time: it cannot match to the minute, by design
    return {"title": doc.title, "authors": authors, "published_at": doc.date, "body": doc.text}


def score(cases: list[Case], predictions: dict[str, Prediction]) -> dict[str, tuple[float, int]]:
    prf: list[tuple[float, float, float]] = []
    titles, dates, authors, jaccard = [], [], [], []
    for case in cases:
        exp, pred = case.expected, predictions.get(case.case_id, {})
        body = pred.get("body") or ""
        if isinstance(body, list):
            body = "\n".join(body)
        prf.append(body_prf("\n".join(exp["body_paragraphs"]), body))
        titles.append(norm_ws(exp["title"] or "") == norm_ws(pred.get("title") or ""))
        if exp.get("published_at"):
            want = minute_utc(exp["published_at"])
            dates.append(want is not None and want == minute_utc(pred.get("published_at")))
        if exp.get("authors") is not None:
            e, p = author_set(exp["authors"]), author_set(pred.get("authors"))
            authors.append(bool(p) and e == p)
            jaccard.append(len(e & p) / len(e | p) if e | p else 1.0)

    def mean(values: list[Any]) -> float:
        return sum(values) / len(values) if values else 0.0

    return {
        "body precision": (mean([x[0] for x in prf]), len(prf)),
        "body recall": (mean([x[1] for x in prf]), len(prf)),
        "body F1": (mean([x[2] for x in prf]), len(prf)),
        "title exact": (mean(titles), len(titles)),
        "published_at (minute, UTC)": (mean(dates), len(dates)),
        "author set": (mean(authors), len(authors)),
        "author Jaccard": (mean(jaccard), len(jaccard)),
    }


def run_interleaved(
    cases: list[Case], predictors: list[Callable[[Case], Prediction]], repeat: int
) -> list[tuple[dict[str, Prediction], float]]:
    """Each extractor's predictions and its best pages/s; the extractors take turns within
    each repetition, so that a busy machine slows them alike."""
    predictions: list[dict[str, Prediction]] = [{} for _ in predictors]
    best = [float("inf")] * len(predictors)
    for _ in range(repeat):
        for index, predict in enumerate(predictors):
            start = time.perf_counter()
            for case in cases:
                predictions[index][case.case_id] = predict(case)
            best[index] = min(best[index], time.perf_counter() - start)
    return [(p, len(cases) / seconds) for p, seconds in zip(predictions, best, strict=True)]


def print_table(name: str, metrics: dict[str, tuple[float, int]], pages_per_s: float) -> None:
    print(f"\n{name}  ({pages_per_s:.1f} pages/s)")
    print(f"  {'metric':<28}{'value':>8}{'cases':>8}")
    for metric, (value, n) in metrics.items():
        print(f"  {metric:<28}{value:>8.3f}{n:>8}")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args.add_argument("--repeat", type=int, default=3, help="timing runs; the best is kept")
    args.add_argument("--failures", action="store_true", help="list newslake's misses")
    options = args.parse_args()

    cases = load_cases(options.corpus)
    newslake_case = cases[0]
    newslake_predict(newslake_case), trafilatura_predict(newslake_case)  # warm up models
    (ours, ours_speed), (theirs, theirs_speed) = run_interleaved(
        cases, [newslake_predict, trafilatura_predict], options.repeat
    )
    print(f"fundus-dev: {len(cases)} cases")
    print_table("newslake generic@1 (parse_article, no outlet)", score(cases, ours), ours_speed)
    print_table("trafilatura bare_extraction (with metadata)", score(cases, theirs), theirs_speed)
    print(f"\nspeed ratio newslake/trafilatura: {ours_speed / theirs_speed:.2f}x")
    report("extraction", {
        "cases": len(cases),
        "newslake": {"pages_per_s": round(ours_speed, 1),
                     **{m: v for m, (v, _) in score(cases, ours).items()}},
        "trafilatura": {"pages_per_s": round(theirs_speed, 1),
                        **{m: v for m, (v, _) in score(cases, theirs).items()}},
        "speed_ratio": round(ours_speed / theirs_speed, 2),
    })

    if options.failures:
        for case in cases:
            pred, exp = ours[case.case_id], case.expected
            if "error" in pred:
                print(f"{case.case_id}: ParseError {pred['error']}")
                continue
            _, _, f1 = body_prf("\n".join(exp["body_paragraphs"]), pred["body"])
            problems = []
            if f1 < 0.9:
                problems.append(f"body F1 {f1:.2f}")
            if norm_ws(exp["title"]) != norm_ws(pred["title"] or ""):
                problems.append(f"title {pred['title']!r} != {exp['title']!r}")
            want = minute_utc(exp.get("published_at"))
            if want and want != minute_utc(pred.get("published_at")):
                problems.append(f"date {pred.get('published_at')} != {exp['published_at']}")
            if exp.get("authors") is not None and author_set(exp["authors"]) != author_set(
                pred.get("authors")
            ):
                problems.append(f"authors {pred.get('authors')} != {exp['authors']}")
            if problems:
                print(f"{case.case_id}: " + "; ".join(problems))


if __name__ == "__main__":
    main()
