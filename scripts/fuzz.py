"""A long fuzz run of ``parse_article`` (``make fuzz``; never part of ``make test``).

Mutants of demo newsroom articles (all three outlets, any day of the demo's history,
rendered in-process) and of the dev corpora's pages (``../shared/corpus``: fundus-dev,
dates-dev, snippets-dev) go through ``parse_article``: each must give an Article or a
``ParseError``; any other exception is a crash. Mutant ``i`` of seed ``S`` is a function of
(S, i) alone, so a run is replayed by its seed; each crashing mutant is also written to
the crash folder (``<seed>-<i>.html`` and ``.json``) with its replay command.

    .venv/bin/python scripts/fuzz.py [--seconds 600] [--seed N] [--crashes DIR]
    .venv/bin/python scripts/fuzz.py --replay fuzz-crashes/<seed>-<i>.html
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import secrets
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from demo_site import catalog
from demo_site.server import route
from newslake.config import Outlet, load_outlets
from newslake.errors import ParseError
from newslake.parse import parse_article

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CORPORA = ("fundus-dev", "dates-dev", "snippets-dev")
DEMO_BASE = "http://127.0.0.1:8000"
DEMO_OUTLETS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti")
DEMO_LAST_DAY = dt.date(2026, 6, 30)  # pinned: the same seed gives the same pages any day
DEMO_DAYS = (DEMO_LAST_DAY - catalog.START).days + 1
DEMO_SHARE = 0.5  # of mutants made from demo pages; the rest from corpus pages
SLOW_S = 20.0  # a mutant that takes longer is reported (and kept) as slow

TAGS = (
    "html", "head", "body", "title", "meta", "base", "link", "p", "div", "span", "a", "br",
    "article", "main", "section", "aside", "footer", "header", "nav", "ul", "ol", "li",
    "table", "tr", "td", "h1", "h2", "time", "script", "style", "noscript", "template",
    "svg", "math", "iframe", "frameset", "form", "select", "option", "textarea", "figure",
    "picture", "blockquote", "pre", "code", "b", "foo:bar", "x-y",
)  # fmt: skip
NASTY_TEXT = (
    "\x00", "\x01", "\x0b", "\x1f", "\x7f", "\ufffe", "\uffff", "\u2028", "\u202e",
    "\ufeff", "&#0;", "&#1;", "&#x1F;", "&#xD800;", "&#xFFFF;", "&#x110000;", "&#99999999;",
    "&amp;#1;", "&nbsp", "<!--", "-->", "<![CDATA[", "]]>", "<?php ?>", "<!DOCTYPE html>",
    "</html><!-- x -->", "</body>", "</head>", "<html>", "<body>", "\r", "\r\n\r\n",
    "{", "}", '"', "'", "<", ">", "\\", "\\u0000", "\\ud800", "%00", "%",
)  # fmt: skip
NASTY_VALUES = (
    "", " ", "0", "-1", "1e309", "NaN", "null", "[]", "{}", "9" * 400, "0000-00-00",
    "2024-02-30", "2024-13-45T25:61:61", "99999-01-01", "10000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+00:00", "2024-05-01T10:00:00+99:99", "2024-05-01T10:00:00-24:00",
    "२०२४-०५-०१", "２０２４年５月１日", "1714557600", "17145576000000", "-62135596800",
    "Mon, 32 Foo 2024", "yesterday", "javascript:alert(1)", "http://[::1", "http://x:99999/",
    "//", "http://ex ample.com/a b", "data:,x", "\x01\x02", "x" * 5000,
)  # fmt: skip
JSON_LD = (
    '{"@type":"NewsArticle","datePublished":%s,"headline":%s,"author":%s}',
    '{"@graph":[null,1,"x",{"@type":%s,"author":{"name":%s},"image":%s}]}',
    '[{"@type":["NewsArticle",%s],"articleBody":%s,"dateModified":%s}]',
    '{"@type":"NewsArticle","author":[{"@type":"Person","name":%s},%s],"publisher":%s}',
)
JSON_VALUES = (
    "null", "1", "-1", "1e309", "true", "[]", "{}", "[[[]]]", '{"@id":"#x"}', '"x"',
    '"2024-05-01T10:00:00+02:00"', '"99999-01-01"', '"\\u0000"', '"\\ud800"', '{"name":{}}',
    '[{"name":null},{"givenName":1,"familyName":[]}]', '"' + "a" * 3000 + '"',
)  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A page to mutate, with what ``parse_article`` is given beside it."""

    name: str
    url: str
    page: bytes
    headers: dict[str, str]
    outlet_id: str | None = None


def demo_source(rng: random.Random) -> Source:
    """An article page (bad cases included) of a demo outlet on a day of its history."""
    outlet_id = rng.choice(DEMO_OUTLETS)
    while True:  # a few early days have no article in UTC terms
        day = catalog.START + dt.timedelta(days=rng.randrange(DEMO_DAYS))
        articles = catalog.articles_for(outlet_id, day)
        if articles:
            break
    article = rng.choice(articles)
    now = dt.datetime.combine(day + dt.timedelta(days=3), dt.time(), dt.UTC)
    response = route(article.path, DEMO_BASE, now)
    headers = {"Content-Type": response.content_type, **response.headers}
    return Source(f"demo:{outlet_id}:{day}:{article.id}", article.url(DEMO_BASE), response.body,
                headers, outlet_id)


def corpus_cases(corpus: Path) -> list[tuple[Path, str]]:
    """Every page of the dev corpora under ``corpus``: (its .html.gz, its URL)."""
    cases = []
    for name in CORPORA:
        index = corpus / name / "index.json"
        if not index.exists():
            continue
        for entry in json.loads(index.read_text(encoding="utf-8"))["cases"]:
            cases.append((corpus / name / f"{entry['case_id']}.html.gz", entry["url"]))
    return cases


def corpus_source(rng: random.Random, cases: list[tuple[Path, str]]) -> Source:
    path, url = rng.choice(cases)
    return Source(f"corpus:{path.parent.name}/{path.name}", url,
                gzip.decompress(path.read_bytes()), {})


def _nasty_element(rng: random.Random) -> bytes:
    """An element or a metadata tag made of the values parsers trip over."""
    kind = rng.randrange(5)
    value = rng.choice(NASTY_VALUES + NASTY_TEXT)
    if kind == 0:
        prop = rng.choice(("article:published_time", "og:title", "og:url", "og:image",
                           "author", "date", "og:type", "article:modified_time"))
        text = f'<meta property="{prop}" name="{prop}" content="{value}">'
    elif kind == 1:
        template = rng.choice(JSON_LD)
        values = tuple(rng.choice(JSON_VALUES) for _ in range(template.count("%s")))
        text = f'<script type="application/ld+json">{template % values}</script>'
    elif kind == 2:
        attribute = rng.choice(("class", "id", "href", "datetime", "rel", "lang", "{x}",
                                "\x01a", "a:b", "content", "itemprop"))
        text = f'<{rng.choice(TAGS)} {attribute}="{value}">{rng.choice(NASTY_TEXT)}'
    elif kind == 3:
        text = f'<link rel="canonical" href="{value}"><time datetime="{value}">{value}</time>'
    else:
        tag = rng.choice(TAGS)
        text = f"<{tag}>" * rng.randint(1, 300) + value
    return text.encode("utf-8", "surrogatepass")


def mutate(rng: random.Random, page: bytes) -> bytes:
    """``page`` with 1 to 12 byte-level or markup-level changes."""
    data = bytearray(page)
    for _ in range(rng.randint(1, 12)):
        op = rng.randrange(10)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:  # delete a run
            del data[pos : pos + rng.randint(1, 400)]
        elif op == 2:  # insert random bytes
            data[pos:pos] = rng.randbytes(rng.randint(1, 40))
        elif op == 3 and rng.random() < 0.3:  # truncate
            del data[pos:]
        elif op == 4 and data:  # copy a run elsewhere
            start = rng.randrange(len(data))
            data[pos:pos] = data[start : start + rng.randint(1, 2000)]
        elif op == 5:  # a stray or unbalanced tag
            tag = rng.choice(TAGS)
            data[pos:pos] = rng.choice((f"<{tag}>", f"</{tag}>", f"<{tag}/>")).encode()
        elif op == 6:  # characters lxml or a decoder may refuse
            data[pos:pos] = rng.choice(NASTY_TEXT).encode("utf-8", "surrogatepass")
        elif op == 7:  # into an attribute value
            quote = data.find(b'="', pos)
            if quote >= 0:
                text = rng.choice(NASTY_TEXT + NASTY_VALUES)
                data[quote + 2 : quote + 2] = text.encode("utf-8", "surrogatepass")
        elif op == 8:
            data[pos:pos] = _nasty_element(rng)
        elif op == 9:  # a charset the bytes are not in
            label = rng.choice(("utf-16", "utf-7", "utf-32", "no-such", "gb2312", "shift_jis"))
            data[pos:pos] = f"<meta charset={label}>".encode()
    return bytes(data)


def make_mutant(seed: int, index: int, cases: list[tuple[Path, str]]) -> tuple[Source, bytes]:
    """Mutant ``index`` of run ``seed``: the same for the same arguments and corpus."""
    rng = random.Random(f"{seed}:{index}")
    demo = not cases or rng.random() < DEMO_SHARE
    source = demo_source(rng) if demo else corpus_source(rng, cases)
    if rng.random() < 0.2 and source.headers:
        source = Source(source.name, source.url, source.page,
                      {"Content-Type": "text/html; charset=" + rng.choice(NASTY_VALUES)},
                      source.outlet_id)
    return source, mutate(rng, source.page)


def parse_once(page: bytes, url: str, outlet: Outlet | None, headers: dict[str, str]) -> str:
    """The outcome: ``article`` or ``parse_error:<reason>``; a crash raises."""
    try:
        parse_article(page, url, outlet, headers=headers)
    except ParseError as exc:
        return f"parse_error:{exc.reason}"
    return "article"


def crash_key(exc: BaseException) -> str:
    """The crash class: the exception's type and where it was raised (innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f" at {Path(last.filename).name}:{last.lineno}" if last else ""
    return type(exc).__name__ + where


def keep(folder: Path, stem: str, source: Source, mutant: bytes, outlet_id: str | None,
         note: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{stem}.html"
    page.write_bytes(mutant)
    meta = {"source": source.name, "url": source.url, "outlet": outlet_id,
            "headers": source.headers, "note": note}
    page.with_suffix(".json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    return page


def replay(page_path: Path) -> int:
    """Parse a kept mutant again, with its URL, outlet and headers; show any crash."""
    meta = json.loads(page_path.with_suffix(".json").read_text())
    outlet = load_outlets()[meta["outlet"]] if meta["outlet"] else None
    print(f"replaying {page_path} ({meta['source']}, outlet {meta['outlet']})")
    try:
        print(parse_once(page_path.read_bytes(), meta["url"], outlet, meta["headers"]))
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def run(seed: int, seconds: float, corpus: Path, crashes_dir: Path) -> int:
    outlets = load_outlets()
    cases = corpus_cases(corpus)
    print(f"fuzz: seed {seed}, {seconds:.0f} s, {len(cases)} corpus pages from {corpus}, "
          f"demo pages of {DEMO_DAYS} days; crashes to {crashes_dir}/", flush=True)
    outcomes: Counter[str] = Counter()
    crashes: dict[str, list[Path]] = {}
    slowest = (0.0, "")
    started = time.monotonic()
    index = 0
    while time.monotonic() - started < seconds:
        source, mutant = make_mutant(seed, index, cases)
        # the outlet's rules on every other demo mutant, the generic path on the rest
        outlet_id = source.outlet_id if index % 2 else None
        outlet = outlets[outlet_id] if outlet_id else None
        stem = f"{seed}-{index}"
        begun = time.monotonic()
        try:
            outcomes[parse_once(mutant, source.url, outlet, source.headers)] += 1
        except Exception as exc:
            outcomes["crash"] += 1
            key = crash_key(exc)
            kept = crashes.setdefault(key, [])
            if len(kept) < 3:
                note = "".join(traceback.format_exception(exc))
                kept.append(keep(crashes_dir, stem, source, mutant, outlet_id, note))
                print(f"CRASH {key}: {exc!s:.200} (mutant {index} of {source.name})",
                      flush=True)
        took = time.monotonic() - begun
        if took > slowest[0]:
            slowest = (took, f"mutant {index} of {source.name}")
        if took > SLOW_S:
            path = keep(crashes_dir, f"slow-{stem}", source, mutant, outlet_id, f"{took:.1f} s")
            print(f"SLOW {took:.1f} s: {path}", flush=True)
        index += 1
    elapsed = time.monotonic() - started
    print(f"fuzz: seed {seed}: {index} mutants in {elapsed:.0f} s, "
          f"{outcomes['crash']} crashes in {len(crashes)} classes; "
          f"slowest {slowest[0]:.1f} s ({slowest[1]})")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:<32} {count}")
    for key, paths in crashes.items():
        print(f"crash {key}:")
        for path in paths:
            print(f"  replay: .venv/bin/python scripts/fuzz.py --replay {path}")
    if crashes:
        print(f"  or the whole run: .venv/bin/python scripts/fuzz.py --seed {seed} "
              f"--seconds {seconds:.0f}")
    return 1 if crashes else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A long fuzz run of parse_article.")
    parser.add_argument("--seed", type=int, help="default: a random one (printed)")
    parser.add_argument("--seconds", type=float, default=600.0, help="time budget")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the dev corpora's folder")
    parser.add_argument("--crashes", type=Path, default=ROOT / "fuzz-crashes",
                        help="where crashing (and slow) mutants are written")
    parser.add_argument("--replay", type=Path, help="parse one kept mutant again")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    return run(seed, args.seconds, args.corpus, args.crashes)


if __name__ == "__main__":
    sys.exit(main())
