"""A short fuzz run of parse_article on mutated real-looking pages (seeded, fixed size).

Every mutant must give an Article or a ParseError with a reason: any other exception is
a crash. The seed pages are demo articles of one pinned day, rendered in-process, and
the mutants a function of SEED: the same MUTANTS pages on every machine and every day.
The long run, over the demo's whole history and the dev corpora, is ``make fuzz``."""

from __future__ import annotations

import random

import pytest
from conftest import Ledger
from helpers.clock import NOW, days_ago

from demo_site import catalog
from demo_site.server import route
from newslake.config import load_outlets
from newslake.errors import ParseError
from newslake.parse import parse_article

pytestmark = pytest.mark.timeout(180)
MUTANTS = 240
SEED = 20261126
DAY = days_ago(5)  # 2026-06-15 by the tests' frozen clock, NOW (the demo's "now" too)
BASE = "http://127.0.0.1:8000"  # rendered in-process: no server behind it


def _mutate(rng: random.Random, page: bytes) -> bytes:
    data = bytearray(page)
    for _ in range(rng.randint(1, 12)):
        op = rng.choice(("flip", "delete", "insert", "truncate", "splice", "tag"))
        pos = rng.randrange(len(data) or 1)
        if op == "flip" and data:
            data[pos] = rng.randrange(256)
        elif op == "delete":
            del data[pos : pos + rng.randint(1, 400)]
        elif op == "insert":
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        elif op == "truncate":
            del data[pos:]
        elif op == "splice" and data:
            start = rng.randrange(len(data))
            data[pos:pos] = data[start : start + rng.randint(1, 2000)]
        elif op == "tag":
            data[pos:pos] = rng.choice([b"<script>", b"</html>", b"<!--", b"<![CDATA[", b"\x00",
                                        b"<meta charset=utf-16>", b"&#xD800;", b"<svg><p>"])
    return bytes(data)


def test_mutated_pages_parse_or_fail_with_a_reason(ledger: Ledger) -> None:
    outlets = load_outlets()
    seeds = []
    for outlet_id in ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti"):
        article = next(a for a in catalog.articles_for(outlet_id, DAY) if a.is_article_ok)
        response = route(article.path, BASE, NOW)
        assert response.status == 200, article.path
        headers = {"Content-Type": response.content_type, **response.headers}
        seeds.append((outlets[outlet_id], article.url(BASE), response.body, headers))
    rng = random.Random(SEED)
    outcomes = {"article": 0, "parse_error": 0}
    crashes = []
    for tried in range(1, MUTANTS + 1):
        outlet, url, page, headers = seeds[tried % len(seeds)]
        mutant = _mutate(rng, page)
        try:
            parse_article(mutant, url, outlet if tried % 2 else None, headers=headers)
            outcomes["article"] += 1
        except ParseError:
            outcomes["parse_error"] += 1
        except Exception as exc:  # a crash: keep the evidence
            crashes.append(f"mutant {tried}: {type(exc).__name__}: {exc}")
    ledger.record(f"fuzz: {MUTANTS} mutated pages ({outcomes})",
                  "crash" if crashes else "row")
    print(f"fuzz: {MUTANTS} mutants: {outcomes}, {len(crashes)} crashes")
    assert not crashes, crashes[:5]
    # Both kinds of answer: mutants that break the page and mutants that leave an article.
    assert outcomes["article"] and outcomes["parse_error"], outcomes
