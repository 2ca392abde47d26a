"""Extraction quality and speed: newslake's generic path vs. bare trafilatura, same run.

Scores both on the three dev corpora in ../shared/corpus, each by its README's rules:

- ``fundus-dev`` (178 news pages): body bag-of-tokens P/R/F1 (Han/Hiragana/Katakana one
  token per character), title exact match, published_at equal to the minute in UTC,
  author set match;
- ``dates-dev`` (583 pages of 553 sites): coverage (a day predicted; a page newslake
  refuses counts with the date its ``ParseError`` carries, which the pipeline keeps in
  the refusal's quarantine row), coverage over the pages not refused, day accuracy (the
  day as the prediction writes it, in the page's own offset: no time-zone conversion),
  day accuracy over covered pages, within one day;
- ``snippets-dev`` (580 pages): must-contain / must-not-contain snippets summed over
  all pages, precision / recall / F1, and author exact match.

Web pages are decoded as the pipeline decodes a fetched page (``decode_html``, no
header), outside the clock; both extractors get the same text. Prints one table, the
refusals (``ParseError`` reasons) per set, and pages/s over all pages (parse only).

Timing: each pass of one extractor over one set runs in a fresh process of its own
(``--worker``), so neither warms caches the other uses (both call htmldate; lazy models
and imports load on the first page, as in a fresh Airflow task) and the figure is what a
new worker sees. ``--repeat N`` makes N such rounds, the two extractors' order
alternating between rounds; each keeps its fastest round (the least disturbed by a
shared machine), and the predictions scored are those of the first round. Each round's
own ratio (its two passes over all sets) is printed too: their spread is the noise a
single round carries (on a 2-core VM, 2.07x to 2.58x over five rounds of one commit).

    .venv/bin/python bench/extraction.py [--sets fundus,dates,snippets] [--repeat N]
                                         [--failures] [--save DIR] [--no-baseline]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import trafilatura
from _common import report

from newslake.errors import ParseError
from newslake.parse import parse_article
from newslake.parse.decode import decode_html

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SETS = ("fundus", "dates", "snippets")
INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
CJK_RE = r"\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{CJK_RE}]|(?:(?![{CJK_RE}])\w)+")
WS_RE = re.compile(r"\s+")
DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")

Prediction = dict[str, Any]
Metrics = dict[str, tuple[float, int]]


@dataclass
class Case:
    case_id: str
    url: str
    html: str
    expected: dict[str, Any]


def load_fundus(corpus: Path) -> list[Case]:
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    cases = []
    for entry in index["cases"]:
        # UTF-8 whatever the page's <meta charset> says (corpus README: two pages declare
        # GB2312 / ISO-8859-1 but are UTF-8); both extractors get the same decoded text.
        html = gzip.decompress((corpus / entry["html"]).read_bytes()).decode("utf-8")
        expected = json.loads((corpus / entry["expected"]).read_text(encoding="utf-8"))
        cases.append(Case(entry["case_id"], entry["url"], html, expected))
    return cases


def load_web(corpus: Path) -> list[Case]:
    """dates-dev / snippets-dev: bytes decoded as a fetched page is (no HTTP header)."""
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    cases = []
    for entry in index["cases"]:
        case_id = entry["case_id"]
        data = gzip.decompress((corpus / f"{case_id}.html.gz").read_bytes())
        try:
            html = decode_html(data)
        except ParseError:
            html = ""
        expected = json.loads((corpus / f"{case_id}.json").read_text(encoding="utf-8"))
        cases.append(Case(case_id, entry["url"], html, expected))
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


def day_of(value: str | None) -> dt.date | None:
    """The day at the start of an ISO string, as written (no time-zone conversion)."""
    match = DAY_RE.match(value or "")
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def author_set(names: list[str] | None) -> set[str]:
    return {norm_ws(n).casefold() for n in names or [] if norm_ws(n)}


def body_text(pred: Prediction) -> str:
    body = pred.get("body") or ""
    return "\n".join(body) if isinstance(body, list) else str(body)


def newslake_predict(case: Case) -> Prediction:
    try:
        article = parse_article(case.html, case.url)
    except ParseError as exc:  # the date a refused page gives: its quarantine row keeps it
        at = exc.published_at
        return {"error": exc.reason, "published_at": at.isoformat() if at else None,
                "published_at_source": exc.published_at_source}
    except Exception as exc:  # a crash is scored as an empty prediction and counted
        return {"error": f"crash:{type(exc).__name__}"}
    return {
        "title": article.title,
        "authors": article.authors,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "published_at_source": getattr(article, "published_at_source", None),
        "body": article.body,
    }


def trafilatura_predict(case: Case) -> Prediction:
    try:
        doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True)
    except Exception as exc:
        return {"error": f"crash:{type(exc).__name__}"}
    if not isinstance(doc, trafilatura.settings.Document):  # None, or a dict on request
        return {}
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    # trafilatura gives a date without a time: it cannot match to the minute, by design
    return {"title": doc.title, "authors": authors, "published_at": doc.date, "body": doc.text}


def mean(values: list[Any]) -> float:
    return sum(values) / len(values) if values else 0.0


def score_fundus(cases: list[Case], predictions: dict[str, Prediction]) -> Metrics:
    prf: list[tuple[float, float, float]] = []
    titles, dates, authors, jaccard = [], [], [], []
    for case in cases:
        exp, pred = case.expected, predictions.get(case.case_id, {})
        prf.append(body_prf("\n".join(exp["body_paragraphs"]), body_text(pred)))
        titles.append(norm_ws(exp["title"] or "") == norm_ws(pred.get("title") or ""))
        if exp.get("published_at"):
            want = minute_utc(exp["published_at"])
            dates.append(want is not None and want == minute_utc(pred.get("published_at")))
        if exp.get("authors") is not None:
            e, p = author_set(exp["authors"]), author_set(pred.get("authors"))
            authors.append(bool(p) and e == p)
            jaccard.append(len(e & p) / len(e | p) if e | p else 1.0)
    return {
        "body precision": (mean([x[0] for x in prf]), len(prf)),
        "body recall": (mean([x[1] for x in prf]), len(prf)),
        "body F1": (mean([x[2] for x in prf]), len(prf)),
        "title exact": (mean(titles), len(titles)),
        "published_at (minute, UTC)": (mean(dates), len(dates)),
        "author set": (mean(authors), len(authors)),
        "author Jaccard": (mean(jaccard), len(jaccard)),
    }


def score_dates(cases: list[Case], predictions: dict[str, Prediction]) -> Metrics:
    covered, right, near = [], [], []
    abstained, parsed_covered = [], []
    for case in cases:
        prediction = predictions.get(case.case_id, {})
        predicted = day_of(prediction.get("published_at"))
        if case.expected.get("date") is None:
            abstained.append(predicted is None)
            continue
        gold = dt.date.fromisoformat(case.expected["date"])
        covered.append(predicted is not None)
        if prediction and "error" not in prediction:
            parsed_covered.append(predicted is not None)
        right.append(predicted == gold)
        near.append(predicted is not None and abs((predicted - gold).days) <= 1)
    n_covered = sum(covered)
    return {
        "coverage": (mean(covered), len(covered)),
        "coverage, pages not refused": (mean(parsed_covered), len(parsed_covered)),
        "day accuracy": (mean(right), len(right)),
        "day accuracy (covered)": (sum(right) / n_covered if n_covered else 0.0, n_covered),
        "within one day": (mean(near), len(near)),
        "null gold: abstained": (mean(abstained), len(abstained)),
    }


def snippet_counts(case: Case, pred: Prediction) -> tuple[int, int, int, int]:
    body = norm_ws(WS_RE.sub(" ", body_text(pred)))
    wanted = [norm_ws(s) for s in case.expected.get("with", [])]
    unwanted = [norm_ws(s) for s in case.expected.get("without", [])]
    tp = sum(1 for s in wanted if body and s in body)
    fp = sum(1 for s in unwanted if body and s in body)
    return tp, len(wanted) - tp, fp, len(unwanted) - fp


def author_string(pred: Prediction) -> str:
    if pred.get("authors") is not None:
        return norm_ws("; ".join(pred["authors"]))
    return norm_ws(pred.get("author") or "")


def score_snippets(cases: list[Case], predictions: dict[str, Prediction]) -> Metrics:
    tp = fn = fp = tn = 0
    authors, days = [], []
    for case in cases:
        pred = predictions.get(case.case_id, {})
        a, b, c, d = snippet_counts(case, pred)
        tp, fn, fp, tn = tp + a, fn + b, fp + c, tn + d
        gold_author = case.expected.get("author")
        if gold_author:
            gold = "; ".join(gold_author) if isinstance(gold_author, list) else gold_author
            authors.append(norm_ws(gold) == author_string(pred))
        if case.expected.get("date"):
            days.append(day_of(pred.get("published_at")) == dt.date.fromisoformat(
                case.expected["date"]))
    n = len(cases)
    return {
        "snippet precision": (tp / (tp + fp) if tp + fp else 0.0, n),
        "snippet recall": (tp / (tp + fn) if tp + fn else 0.0, n),
        "snippet F1": (2 * tp / (2 * tp + fp + fn) if tp else 0.0, n),
        "snippet accuracy": ((tp + tn) / (tp + fn + fp + tn) if n else 0.0, n),
        "author exact": (mean(authors), len(authors)),
        "date day accuracy": (mean(days), len(days)),
    }


SCORERS: dict[str, Callable[[list[Case], dict[str, Prediction]], Metrics]] = {
    "fundus": score_fundus,
    "dates": score_dates,
    "snippets": score_snippets,
}


def load(name: str) -> list[Case]:
    corpus = CORPORA / f"{name}-dev"
    return load_fundus(corpus) if name == "fundus" else load_web(corpus)


PREDICTORS: dict[str, Callable[[Case], Prediction]] = {
    "newslake": newslake_predict,
    "trafilatura": trafilatura_predict,
}


def run_worker(tool: str, name: str, out: Path) -> None:
    """One timed pass of ``tool`` over set ``name`` in this (fresh) process: its seconds
    and predictions as JSON in ``out``. The corpus is read before the clock starts."""
    cases = load(name)
    predict = PREDICTORS[tool]
    predictions: dict[str, Prediction] = {}
    start, start_cpu = time.perf_counter(), time.process_time()
    for case in cases:
        predictions[case.case_id] = predict(case)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    out.write_text(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "predictions": predictions},
                              ensure_ascii=False, default=str), encoding="utf-8")


class Runs(NamedTuple):
    """One extractor's passes over one set: the predictions of the first round, the best
    wall-clock and CPU seconds, and each round's wall-clock seconds."""

    predictions: dict[str, Prediction]
    best: float
    best_cpu: float
    rounds: list[float]


def run_fresh(name: str, tools: list[str], repeat: int) -> dict[str, Runs]:
    """Each tool's passes over set ``name``, ``repeat`` rounds, every pass in a fresh
    process; the tools' order alternates between rounds."""
    found: dict[str, Runs] = {}
    with tempfile.TemporaryDirectory(prefix="newslake-extraction-") as tmp:
        for round_ in range(repeat):
            for tool in tools if round_ % 2 == 0 else tools[::-1]:
                out = Path(tmp) / f"{tool}-{name}-{round_}.json"
                subprocess.run(
                    [sys.executable, __file__, "--worker", tool, "--sets", name,
                     "--out", str(out)],
                    check=True,
                )
                result = json.loads(out.read_text(encoding="utf-8"))
                runs = found.setdefault(
                    tool, Runs(result["predictions"], float("inf"), float("inf"), []))
                found[tool] = runs._replace(
                    best=min(runs.best, result["seconds"]),
                    best_cpu=min(runs.best_cpu, result["cpu_seconds"]),
                    rounds=[*runs.rounds, result["seconds"]],
                )
    return found


def refusals(predictions: dict[str, Prediction]) -> Counter[str]:
    return Counter(p["error"] for p in predictions.values() if "error" in p)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print(f"\n  {'set':<10}{'metric':<28}{'newslake':>10}{'trafil.':>10}{'cases':>7}")
    for name, result in results.items():
        for metric, (value, n) in result["newslake"].items():
            theirs = f"{result['trafilatura'][metric][0]:.3f}" if result["baseline"] else "-"
            print(f"  {name:<10}{metric:<28}{value:>10.3f}{theirs:>10}{n:>7}")
        theirs_pps = f"{result['trafilatura_pps']:.1f}" if result["baseline"] else "-"
        print(f"  {name:<10}{'pages/s':<28}{result['newslake_pps']:>10.1f}"
              f"{theirs_pps:>10}{result['cases']:>7}")
        theirs_cpu = f"{result['trafilatura_cpu_pps']:.1f}" if result["baseline"] else "-"
        print(f"  {name:<10}{'pages/s, CPU time':<28}{result['newslake_cpu_pps']:>10.1f}"
              f"{theirs_cpu:>10}{result['cases']:>7}")
        print(f"  {name:<10}refused: {dict(sorted(result['refused'].items()))}")


def print_failures(name: str, cases: list[Case], ours: dict[str, Prediction]) -> None:
    for case in cases:
        pred, exp = ours[case.case_id], case.expected
        problems = []
        if "error" in pred:
            problems.append(f"refused {pred['error']}")
        elif name == "fundus":
            _, _, f1 = body_prf("\n".join(exp["body_paragraphs"]), body_text(pred))
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
        elif name == "dates":
            if exp.get("date") and day_of(pred.get("published_at")) != dt.date.fromisoformat(
                exp["date"]
            ):
                problems.append(f"date {pred.get('published_at')} "
                                f"({pred.get('published_at_source')}) != {exp['date']}")
        else:
            _, fn, fp, _ = snippet_counts(case, pred)
            if fn or fp:
                problems.append(f"snippets missed {fn}, unwanted {fp}")
            gold = exp.get("author")
            if gold and norm_ws("; ".join(gold) if isinstance(gold, list) else gold) != (
                author_string(pred)
            ):
                problems.append(f"author {author_string(pred)!r} != {gold!r}")
        if problems:
            print(f"{name} {case.case_id}: " + "; ".join(problems))


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    args.add_argument("--repeat", type=int, default=1,
                      help="rounds of fresh-process passes; each extractor's fastest is kept")
    args.add_argument("--failures", action="store_true", help="list newslake's misses")
    args.add_argument("--save", type=Path, help="write newslake's predictions as JSON here")
    args.add_argument("--no-baseline", action="store_true",
                      help="skip trafilatura (quick iterations: no speed ratio, no results file)")
    args.add_argument("--worker", choices=sorted(PREDICTORS), help=argparse.SUPPRESS)
    args.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    options = args.parse_args()

    names = [n for n in options.sets.split(",") if n]
    if options.worker:
        run_worker(options.worker, names[0], options.out)
        return
    corpora = {name: load(name) for name in names}
    tools = ["newslake"] if options.no_baseline else ["newslake", "trafilatura"]
    results: dict[str, dict[str, Any]] = {}
    ours_seconds = theirs_seconds = ours_cpu = theirs_cpu = 0.0
    ours_rounds, theirs_rounds = [0.0] * options.repeat, [0.0] * options.repeat
    all_ours: dict[str, dict[str, Prediction]] = {}
    for name, cases in corpora.items():
        runs = run_fresh(name, tools, options.repeat)
        ours, ours_s, ours_c, ours_each = runs["newslake"]
        theirs, theirs_s, theirs_c, theirs_each = runs.get(
            "trafilatura", Runs({}, 0.0, 0.0, [0.0] * options.repeat))
        ours_rounds = [a + b for a, b in zip(ours_rounds, ours_each, strict=True)]
        theirs_rounds = [a + b for a, b in zip(theirs_rounds, theirs_each, strict=True)]
        all_ours[name] = ours
        ours_seconds += ours_s
        theirs_seconds += theirs_s
        ours_cpu += ours_c
        theirs_cpu += theirs_c
        results[name] = {
            "cases": len(cases),
            "baseline": not options.no_baseline,
            "newslake": SCORERS[name](cases, ours),
            "trafilatura": SCORERS[name](cases, theirs),
            "newslake_pps": len(cases) / ours_s,
            "trafilatura_pps": len(cases) / theirs_s if theirs_s else 0.0,
            "newslake_cpu_pps": len(cases) / ours_c,
            "trafilatura_cpu_pps": len(cases) / theirs_c if theirs_c else 0.0,
            "refused": refusals(ours),
        }
    print_table(results)
    pages = sum(len(c) for c in corpora.values())
    if options.no_baseline:
        print(f"\n  all {pages} pages: newslake {pages / ours_seconds:.1f} pages/s (no baseline)")
        save_and_list(options, corpora, all_ours)
        return
    ratio = theirs_seconds / ours_seconds
    cpu_ratio = theirs_cpu / ours_cpu
    print(f"\n  all {pages} pages: newslake {pages / ours_seconds:.1f} pages/s, trafilatura "
          f"{pages / theirs_seconds:.1f} pages/s, speed ratio {ratio:.2f}x")
    # CPU time: what the pass costs its own process, much less moved by other jobs on a
    # shared machine than the wall clock (a parse is one thread and reads no files)
    print(f"  all {pages} pages, CPU time: newslake {pages / ours_cpu:.1f} pages/s, "
          f"trafilatura {pages / theirs_cpu:.1f} pages/s, speed ratio {cpu_ratio:.2f}x")
    round_ratios = [t / o for t, o in zip(theirs_rounds, ours_rounds, strict=True)]
    print("  each round's speed ratio: " + ", ".join(f"{r:.2f}x" for r in round_ratios))
    fundus = results.get("fundus")
    report("extraction", {
        "cases": fundus["cases"] if fundus else 0,
        **({"newslake": {"pages_per_s": round(fundus["newslake_pps"], 1),
                         **{m: v for m, (v, _) in fundus["newslake"].items()}},
            "trafilatura": {"pages_per_s": round(fundus["trafilatura_pps"], 1),
                            **{m: v for m, (v, _) in fundus["trafilatura"].items()}}}
           if fundus else {}),
        "speed_ratio": round(ratio, 2),
        "cpu_speed_ratio": round(cpu_ratio, 2),
        "round_speed_ratios": [round(r, 2) for r in round_ratios],
        "method": f"fresh process per extractor and set, best of {options.repeat}",
        "sets": {name: {"cases": r["cases"], "refused": dict(r["refused"]),
                        "newslake": {m: v for m, (v, _) in r["newslake"].items()},
                        "trafilatura": {m: v for m, (v, _) in r["trafilatura"].items()}}
                 for name, r in results.items()},
    })
    save_and_list(options, corpora, all_ours)


def save_and_list(
    options: argparse.Namespace,
    corpora: dict[str, list[Case]],
    all_ours: dict[str, dict[str, Prediction]],
) -> None:
    if options.save:
        options.save.mkdir(parents=True, exist_ok=True)
        for name, ours in all_ours.items():
            (options.save / f"{name}.json").write_text(
                json.dumps(ours, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    if options.failures:
        for name, cases in corpora.items():
            print_failures(name, cases, all_ours[name])


if __name__ == "__main__":
    main()
