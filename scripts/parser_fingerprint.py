"""The parser's fingerprint: a digest of what ``parse_article`` gives for a fixed sample of
dev pages, with the ``PARSER_VERSION`` it was made with.

``tests/test_parser_version.py`` recomputes it and fails when the outputs changed but the
version did not (bump ``newslake.parse.version.PARSER_VERSION``), or when the version
changed but the fingerprint was not regenerated. Regenerate with::

    make parser-fingerprint      # .venv/bin/python scripts/parser_fingerprint.py --write

The sample: from each of ``../shared/corpus/{fundus,dates,snippets}-dev``, the
``PER_SET`` cases whose SHA-256 of the case id is smallest (stable when a set grows by a
few pages). Each page goes through ``parse_article(bytes, url)`` as the pipeline gives a
fetched page with no outlet config; the digest covers every field the parser fills (the
fields of a row the fetch and run do not set), or the ``ParseError`` reason, or the type
of a crash. The fundus pages' URL is the one the corpus recorded. The parser's "now" (the
latest plausible date) is pinned to ``FINGERPRINT_NOW`` through ``NEWSLAKE_NOW``, so the
fingerprint is the same on any day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newslake.clock import NOW_VARIABLE
from newslake.errors import ParseError
from newslake.parse import parse_article
from newslake.parse.version import PARSER_VERSION

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURE = ROOT / "tests" / "fixtures" / "parser_fingerprint.json"
SETS = ("fundus-dev", "dates-dev", "snippets-dev")
# The parser's "now" while fingerprinting: after every dev page, fixed for ever.
FINGERPRINT_NOW = "2026-11-30T00:00:00+00:00"
PER_SET = 20
# What parse_article decides; url is the page's canonical URL.
FIELDS = ("url", "title", "description", "authors", "published_at", "published_at_source",
          "modified_at", "section", "tags", "language", "body", "image_url", "is_paywalled",
          "parser")


@dataclass(frozen=True)
class Page:
    key: str  # "<set>/<case id>"
    url: str
    html: Path


def _rank(case_id: str) -> str:
    return hashlib.sha256(case_id.encode("utf-8")).hexdigest()


def sample(corpus: Path = CORPUS, per_set: int = PER_SET) -> list[Page]:
    """The fixed sample; FileNotFoundError naming what is missing when a set is absent."""
    pages = []
    for name in SETS:
        index_path = corpus / name / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(
                f"dev corpus missing: {index_path} (the parser fingerprint is computed over "
                f"{', '.join(SETS)} in {corpus})")
        cases = json.loads(index_path.read_text(encoding="utf-8"))["cases"]
        for case in sorted(cases, key=lambda c: _rank(c["case_id"]))[:per_set]:
            html = case.get("html") or f"{case['case_id']}.html.gz"
            pages.append(Page(f"{name}/{case['case_id']}", case["url"], corpus / name / html))
    return pages


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def output(page: Page) -> dict[str, Any]:
    """What the parser gives for the page, JSON-ready."""
    data = gzip.decompress(page.html.read_bytes())
    try:
        article = parse_article(data, page.url)
    except ParseError as exc:
        return {"refused": exc.reason}
    except Exception as exc:  # a crash is an output too: its fix must bump the version
        return {"crashed": type(exc).__name__}
    return {name: _value(getattr(article, name)) for name in FIELDS}


def digest(value: dict[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@contextmanager
def _pinned_clock() -> Iterator[None]:
    before = os.environ.get(NOW_VARIABLE)
    os.environ[NOW_VARIABLE] = FINGERPRINT_NOW
    try:
        yield
    finally:
        if before is None:
            del os.environ[NOW_VARIABLE]
        else:
            os.environ[NOW_VARIABLE] = before


def fingerprint(pages: list[Page]) -> dict[str, Any]:
    """``{"parser_version": N, "pages": {key: digest}}`` for this code."""
    with _pinned_clock():
        return {"parser_version": PARSER_VERSION,
                "pages": {page.key: digest(output(page)) for page in pages}}


def outputs(pages: list[Page]) -> Iterator[tuple[str, dict[str, Any]]]:
    for page in pages:
        yield page.key, output(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {FIXTURE.name}")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show", metavar="KEY", help="print one page's output (set/case id)")
    args = parser.parse_args(argv)
    pages = sample(args.corpus)
    if args.show:
        shown = [p for p in pages if p.key == args.show]
        if not shown:
            print(f"{args.show}: not in the sample", file=sys.stderr)
            return 1
        with _pinned_clock():
            shown_output = output(shown[0])
        print(json.dumps(shown_output, indent=2, ensure_ascii=False))
        return 0
    made = fingerprint(pages)
    if args.write:
        FIXTURE.write_text(json.dumps(made, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {FIXTURE.relative_to(ROOT)}: {len(pages)} pages, "
              f"parser version {PARSER_VERSION}")
        return 0
    stored = json.loads(FIXTURE.read_text(encoding="utf-8"))
    changed = sorted(k for k, v in made["pages"].items() if stored["pages"].get(k) != v)
    print(f"parser version {PARSER_VERSION} (fingerprint: {stored['parser_version']}); "
          f"{len(changed)} of {len(pages)} pages changed")
    for key in changed:
        print(f"  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
