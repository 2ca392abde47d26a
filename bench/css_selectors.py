"""What an outlet's CSS selectors cost a page, in the two engines newslake could run them in.

On the 178 fundus-dev pages, per page (best of ``--repeat``), same run:

- ``parse_article``: the whole generic parse, the baseline the other figures are a share of;
- ``lxml tree``: the tree ``parse_article`` builds anyway (``newslake.parse.article._parse_tree``);
- ``cssselect``: a typical rules set (one ``body_selector``, eleven ``drop_selectors``, as the
  shipped outlets have) run on that tree, compiled once (``newslake.parse.css``);
- ``bs4 tree + soupsieve``: what soupsieve needs on top: a BeautifulSoup tree of the page
  (lxml's parser under it), then the same selectors.

The match counts differ a little: only for tag selectors (``script``, ``style``...),
because bs4 builds its own tree (lxml under it drops or moves a few elements differently);
class, id and attribute selectors match the same elements in both.

    .venv/bin/python bench/css_selectors.py [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from _common import best_of, report
from bs4 import BeautifulSoup

from newslake.parse import parse_article
from newslake.parse.article import _parse_tree
from newslake.parse.css import select

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "fundus-dev"
BODY = "article, div.entry-content, div.article-body"
DROPS = ("figure", ".td-a-rec", ".sharedaddy", ".jp-relatedposts", "#comments", "script",
         "style", "noscript", "form", "aside", "div.newsletter-signup a[href^=http]")


def pages() -> list[tuple[str, str]]:
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return [(gzip.decompress((CORPUS / e["html"]).read_bytes()).decode("utf-8"), e["url"])
            for e in index["cases"]]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=3)
    repeat = args.parse_args().repeat
    corpus = pages()
    trees = [_parse_tree(html) for html, _ in corpus]
    soups = [BeautifulSoup(html, "lxml") for html, _ in corpus]
    matched = {"cssselect": 0, "soupsieve": 0}

    def run_parse() -> None:
        for html, url in corpus:
            parse_article(html, url)

    def run_trees() -> None:
        for html, _ in corpus:
            _parse_tree(html)

    def run_cssselect() -> None:
        matched["cssselect"] = sum(len(select(s, t)) for t in trees for s in (BODY, *DROPS))

    def run_bs4() -> None:
        for html, _ in corpus:
            BeautifulSoup(html, "lxml")

    def run_soupsieve() -> None:
        matched["soupsieve"] = sum(len(soup.select(s)) for soup in soups for s in (BODY, *DROPS))

    n = len(corpus)
    ms = {name: 1000 * best_of(fn, repeat) / n for name, fn in (
        ("parse_article", run_parse), ("lxml tree", run_trees), ("cssselect", run_cssselect),
        ("bs4 tree", run_bs4), ("soupsieve", run_soupsieve))}
    for name, value in ms.items():
        print(f"  {name:<16} {value:8.3f} ms/page")
    on_top = {"cssselect": ms["cssselect"],
              "bs4 tree + soupsieve": ms["bs4 tree"] + ms["soupsieve"]}
    for name, value in on_top.items():
        print(f"  {name:<22} adds {value:7.3f} ms/page = {100 * value / ms['parse_article']:5.1f}% "
              f"of parse_article")
    print(f"  elements matched: {matched}")
    report("css_selectors", {"pages": n, "ms_per_page": ms, "matched": matched,
                         "share_of_parse": {k: v / ms["parse_article"] for k, v in on_top.items()}})


if __name__ == "__main__":
    main()
