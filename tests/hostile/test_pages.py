"""Hostile pages through the real parse and validate steps, all in ONE chunk.

One chunk on purpose: whatever one page does (a parser crash included), every other page
of the chunk must still end as a row, a quarantine row with its reason, or a counted skip.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import Ledger

from newslake import pipeline
from newslake.config import parse_outlet
from newslake.fetch import FetchFailure, FetchResult
from newslake.lake import raw_ref
from newslake.raw import write_warc
from newslake.steps import RawChunk

pytestmark = pytest.mark.timeout(120)
DAY = dt.date(2025, 3, 17)
FETCHED = dt.datetime(2025, 3, 18, 1, tzinfo=dt.UTC)
BASE = "https://hostile.example"
OUTLET = parse_outlet({
    "id": "hostile", "name": "Hostile Herald", "base_url": f"{BASE}/", "language": "en",
    "timezone": "America/Chicago", "start_date": "2024-01-01",
    "validation": {"min_words": 40, "max_quarantine_share": 1.0},
})
PARAGRAPH = ("The city council voted on Monday to approve a new budget for road repairs, "
             "after a long debate about the cost of the harbour bridge and the schools. ")
TEXT = "".join(f"<p>{PARAGRAPH * 2}</p>" for _ in range(4))


_serial = iter(range(1, 10_000))


def article(title: str = "Council approves the road budget", body: str | None = None,
            published: str = "2025-03-17T10:00:00+00:00", head: str = "", lang: str = "en",
            charset: str = "utf-8") -> str:
    if body is None:  # every page its own text, or they would be duplicates of each other
        body = TEXT + f"<p>{PARAGRAPH.replace('Monday', f'day {next(_serial)}')}</p>"
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="{charset}">
<title>{title} - Hostile Herald</title>{head}
<meta property="article:published_time" content="{published}">
<meta name="author" content="Jane Doe"></head><body><nav><a href="/">Home</a></nav>
<article><h1>{title}</h1><div class="entry">{body}</div></article>
<footer>(c) Hostile Herald</footer></body></html>"""


def html(text: str, charset: str = "utf-8") -> bytes:
    return text.encode(charset)



GERMAN = "".join(
    f"<p>Der Stadtrat hat am Montag zum {n}. Mal einen neuen Haushalt für Straßenreparaturen "
    f"beschlossen, nachdem lange über die Kosten der Hafenbrücke Nummer {n} und der Schulen "
    "gestritten wurde.</p>"
    for n in range(1, 7)
)
HOME = "<html><head><title>Hostile Herald - Home</title></head><body>" + "".join(
    f'<h2><a href="/news/{i}">Headline number {i}</a></h2>' for i in range(40)
) + "</body></html>"

# name -> (response fields, the outcome it must have). Outcomes: "row",
# "quarantine:<one of the checks>", "skip:<reason>".
Case = tuple[dict[str, Any], str]
CASES: dict[str, Case] = {
    "plain article (control)": ({"body": html(article())}, "row"),
    "malformed html, unclosed tags": (
        {"body": html(article(body=TEXT.replace("</p>", "") + "<p>unclosed 1<div><span><b>"))},
        "row"),
    "binary bytes served as text/html": (
        {"body": bytes(range(256)) * 40}, "quarantine:parse:"),
    "zero-byte 200 response": ({"body": b""}, "quarantine:fetch:"),
    "whitespace only": ({"body": b"   \n\t  " * 100}, "quarantine:parse:"),
    "NUL bytes inside the text": (
        {"body": html(article(body=TEXT.replace("budget", "bud\x00get")))}, "row"),
    "utf-8 page with stray cp1252 bytes": (
        {"body": html(article()).replace(b"harbour", b"harb\x93our\x94")}, "row"),
    "meta says windows-1251, bytes are utf-8": (
        {"body": html(article(charset="windows-1251"))}, "row"),
    "header charset that does not exist": (
        {"body": html(article()), "headers": {"Content-Type": "text/html; charset=no-such-cs"}},
        "row"),
    "utf-16 with BOM": ({"body": article().encode("utf-16")}, "row"),
    "latin-1 page declared only in the header": (
        {"body": article(title="Café budget approved").encode("latin-1"),
         "headers": {"Content-Type": "text/html; charset=ISO-8859-1"}}, "row"),
    # libxml2 stops building the tree 256 levels down: the text is lost, the page is not.
    "5000 nested divs": (
        {"body": html(article(body="<div>" * 5000 + TEXT + "</div>" * 5000))},
        "quarantine:parse:"),
    # Past the bounds on the work one page may cost (newslake.parse.article): quarantined
    # at once, where trafilatura would take seconds to minutes (and memory) on each.
    "1 MB of short paragraphs (40,000 elements)": (
        {"body": html(article(body="".join(f"<p>Short {n}.</p>" for n in range(40_000))))},
        "quarantine:parse:too_complex"),
    "6 MB of text": (
        {"body": html(article(body="<p>" + PARAGRAPH * 40_000 + "</p>"))},
        "quarantine:parse:too_large"),
    "title of 5000 characters": (
        {"body": html(article(title="Budget " * 700))}, "quarantine:title_length"),
    # Implausible dates are no dates: the parser refuses them, the page is quarantined.
    "published in 2099": (
        {"body": html(article(published="2099-01-01T10:00:00+00:00"))},
        "quarantine:published_at_not_null"),
    "published in 1970 (epoch zero)": (
        {"body": html(article(published="1970-01-01T00:00:00+00:00"))},
        "quarantine:published_at_not_null"),
    "published the day after (its own day's run)": (
        {"body": html(article(published="2025-03-18T10:00:00+00:00"))}, "skip:out_of_window"),
    "local 10:30 without offset (Chicago)": (
        {"body": html(article(published="2025-03-17T10:30:00"))}, "row"),
    # 20:30 in Chicago is 01:30 UTC the next day: proof that it is not read as UTC.
    "local 20:30 without offset is the next UTC day": (
        {"body": html(article(published="2025-03-17T20:30:00"))}, "skip:out_of_window"),
    "no date anywhere": (  # (htmldate reads a date from any <meta content>: none left)
        {"body": html(article().replace(
            '<meta property="article:published_time" content="2025-03-17T10:00:00+00:00">', ""))},
        "quarantine:published_at_not_null"),
    "soft 404 served with 200": (
        {"body": html("<html><head><title>Page not found - Hostile Herald</title></head><body>"
                      "<h1>Page not found</h1><p>Sorry, nothing here.</p></body></html>")},
        "quarantine:parse:"),
    "home page listing headlines": ({"body": html(HOME)}, "quarantine:parse:"),
    "scripts only": ({"body": html("<html><head><script>" + "var a=1;" * 2000
                                   + "</script></head><body></body></html>")},
                     "quarantine:parse:"),
    # Client-rendered shells: the text only in the page's script data.
    "next.js shell, article in __NEXT_DATA__": (
        {"body": html(article(body="<div id='__next'></div>").replace(
            "</body>", '<script id="__NEXT_DATA__" type="application/json">'
            + json.dumps({"props": {"article": {"contentHtml": TEXT + "<p>Shell 1.</p>"}}})
            + "</script></body>"))}, "row"),
    "shell with a 4 MB unterminated script string": (
        {"body": html(article(body="<div id='__next'></div>").replace(
            "</body>", '<script>{"contentHtml": "' + "<p>a\\" * 700_000 + "</script></body>"))},
        "quarantine:parse:empty_body"),
    "german text on an english outlet": (
        {"body": html(article(title="Stadtrat beschließt Haushalt", body=GERMAN, lang="de"))},
        "quarantine:language_matches_outlet"),
    "too short to be an article": (
        {"body": html(article(body="<p>Council met. More soon.</p>"))}, "quarantine:"),
    "short but real paragraphs": (
        {"body": html(article(body="<p>" + PARAGRAPH + "</p>"))}, "quarantine:min_words"),
    "HTTP 404": ({"status": 404, "body": b"not found", "error": "http_404"},
                 "quarantine:fetch:http_404"),
    "HTTP 500 after retries": ({"status": 500, "body": b"oops", "error": "http_500"},
                               "quarantine:fetch:http_500"),
    "fetch timeout": ({"status": None, "body": None, "error": "timeout: read timed out"},
                      "quarantine:fetch:timeout"),
    "canonical on another site": (
        {"body": html(article(head='<link rel="canonical" href="https://evil.example/x">'))},
        "row"),
    "javascript: canonical": (
        {"body": html(article(head='<link rel="canonical" href="javascript:alert(1)">'))}, "row"),
    "parser crash on this page": ({"body": html(article(title="CRASH ME please"))},
                                  "quarantine:parse:exception:RuntimeError"),
}
# The same article twice: tracking parameters and an upper-case host on the second copy.
DUPLICATE_URL = (f"{BASE}/news/dup", "https://HOSTILE.example/news/dup?utm_source=x&fbclid=1")


def _result(n: int, name: str, fields: dict[str, Any]) -> FetchResult:
    url = f"{BASE}/news/{n}"
    return FetchResult(
        url=url, final_url=url, status=fields.get("status", 200),
        headers=fields.get("headers", {"Content-Type": "text/html"}), body=fields.get("body"),
        fetched_at=FETCHED, attempts=1,
        error=FetchFailure.from_text(fields["error"]) if "error" in fields else None,
    )


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: Any) -> dict[str, Any]:
    """Every case of the table in one WARC chunk, through parse_step and validate_step."""
    real_parse: Callable[..., Any] = pipeline.parse_article

    def crashing_parse(body: bytes, url: str, *args: Any, **kwargs: Any) -> Any:
        if b"CRASH ME" in (body or b""):
            raise RuntimeError("a parser bug")
        return real_parse(body, url, *args, **kwargs)

    monkeypatch_module.setattr(pipeline, "parse_article", crashing_parse)
    lake = tmp_path_factory.mktemp("lake")
    spec = pipeline.RunSpec(OUTLET, DAY, "hostile-run", str(lake))
    results = [_result(n, name, fields) for n, (name, (fields, _)) in enumerate(CASES.items())]
    for url in DUPLICATE_URL:
        results.append(FetchResult(url=url, final_url=url, status=200, headers={},
                                   body=html(article(title="The duplicate story")),
                                   fetched_at=FETCHED, attempts=1))
    syndicated = html(article(title="Syndicated story"))
    for path in ("/news/syndicated", "/amp/news/syndicated"):
        results.append(FetchResult(url=BASE + path, final_url=BASE + path, status=200,
                                   headers={}, body=syndicated, fetched_at=FETCHED, attempts=1))
    staging = Path(spec.staging_uri)
    warc = staging / "raw" / "00000.warc.gz"
    warc.parent.mkdir(parents=True, exist_ok=True)
    write_warc(str(warc), results)
    stats = pipeline.parse_step(spec, RawChunk(
        warc=str(warc), raw_ref=raw_ref(OUTLET.id, DAY), dates=None, source=str(warc),
        seconds=0.0))
    summary = json.loads(Path(pipeline.validate_step(spec, [stats])["summary"]).read_text())
    out = staging / "out"
    return {
        "articles": pq.read_table(out / "articles").to_pylist(),
        "quarantine": pq.read_table(out / "quarantine").to_pylist(),
        "out_of_window": stats["out_of_window"],
        "summary": summary,
        "inputs": len(results),
    }


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _outcome(landed: dict[str, Any], url: str) -> str:
    rows = [r for r in landed["articles"] if url in (r["url"], r["fetched_url"])]
    quarantined = [q for q in landed["quarantine"] if url in (q["url"], q["fetched_url"])]
    if rows and quarantined:
        return "crash"  # both: a row that is also quarantined would be a duplicate
    if rows:
        return "row"
    if quarantined:
        return "quarantine:" + ",".join(quarantined[0]["failed_checks"] or [])
    if any(url in u for u in landed["out_of_window"]):
        return "skip:out_of_window"
    return "lost"


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_page_ends_somewhere_visible(
    name: str, landed: dict[str, Any], ledger: Ledger
) -> None:
    n = list(CASES).index(name)
    expected = CASES[name][1]
    outcome = ledger.record(f"page: {name}", _outcome(landed, f"{BASE}/news/{n}"))
    if outcome == "lost":
        ledger.rows_lost += 1
    kind, _, check = expected.partition(":")
    assert outcome.startswith(kind) and check in outcome, (name, outcome)


def test_the_same_article_under_tracking_and_case_variants_lands_once(
    landed: dict[str, Any], ledger: Ledger
) -> None:
    rows = [r for r in landed["articles"] if r["title"] == "The duplicate story"]
    ledger.record("page: same URL with tracking params and upper-case host",
                  "row" if len(rows) == 1 else "crash")
    ledger.rows_duplicated += max(0, len(rows) - 1)
    assert len(rows) == 1 and rows[0]["url"] == DUPLICATE_URL[0]
    assert landed["summary"]["duplicates"] == 1


def test_the_same_article_under_two_urls_lands_once(
    landed: dict[str, Any], ledger: Ledger
) -> None:
    copies = [r for r in landed["articles"] if r["title"] == "Syndicated story"]
    quarantined = [q for q in landed["quarantine"] if q["title"] == "Syndicated story"]
    outcome = ledger.record("page: same article under two URLs (content_hash)",
                            "quarantine:duplicate_content" if quarantined else "crash")
    ledger.rows_duplicated += max(0, len(copies) - 1)
    assert len(copies) == 1 and outcome == "quarantine:duplicate_content"
    assert quarantined[0]["failed_checks"] == ["duplicate_content"]


def test_no_article_id_twice_and_nothing_lost(landed: dict[str, Any]) -> None:
    ids = [r["article_id"] for r in landed["articles"]]
    assert len(ids) == len(set(ids))
    accounted = (len(landed["articles"]) + len(landed["quarantine"])
                 + len(landed["out_of_window"]) + landed["summary"]["duplicates"])
    assert accounted == landed["inputs"]


def test_an_article_without_a_date_is_quarantined_with_its_title_and_body(
    landed: dict[str, Any],
) -> None:
    url = f"{BASE}/news/{list(CASES).index('no date anywhere')}"
    rows = [q for q in landed["quarantine"] if q["fetched_url"] == url]
    assert [r["failed_checks"] for r in rows] == [["published_at_not_null"]]
    assert rows[0]["title"] and rows[0]["body"] and rows[0]["published_at_source"] is None
