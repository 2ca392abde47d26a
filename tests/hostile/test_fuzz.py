"""A short fuzz run of parse_article on mutated real-looking pages (seeded, bounded).

Every mutant must give an Article or a ParseError with a reason: any other exception is
a crash. The run stops after MUTANTS pages or BUDGET_S seconds, whichever comes first."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest
import requests
from conftest import Ledger

from demo_site import catalog
from newslake.config import load_outlets
from newslake.errors import ParseError
from newslake.parse import parse_article

pytestmark = pytest.mark.timeout(180)
MUTANTS = 240
BUDGET_S = 60.0


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


def test_mutated_pages_parse_or_fail_with_a_reason(demo_site: str, ledger: Ledger) -> None:
    outlets = load_outlets()
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    seeds = []
    for outlet_id in ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti"):
        article = next(a for a in catalog.articles_for(outlet_id, day) if a.is_article_ok)
        response = requests.get(article.url(demo_site), timeout=10)
        seeds.append((outlets[outlet_id], article.url(demo_site), response.content,
                      dict(response.headers)))
    rng = random.Random(20261126)
    outcomes = {"article": 0, "parse_error": 0}
    crashes = []
    started = time.monotonic()
    tried = 0
    while tried < MUTANTS and time.monotonic() - started < BUDGET_S:
        outlet, url, page, headers = seeds[tried % len(seeds)]
        mutant = _mutate(rng, page)
        tried += 1
        try:
            parse_article(mutant, url, outlet if tried % 2 else None, headers=headers)
            outcomes["article"] += 1
        except ParseError:
            outcomes["parse_error"] += 1
        except Exception as exc:  # a crash: keep the evidence
            crashes.append(f"{type(exc).__name__}: {exc}")
    ledger.record(f"fuzz: {tried} mutated pages ({outcomes})",
                  "crash" if crashes else "row")
    print(f"fuzz: {tried} mutants in {time.monotonic() - started:.1f}s: {outcomes}, "
          f"{len(crashes)} crashes")
    assert not crashes, crashes[:5]
