"""Synthetic article rows of realistic shape, for the validate/write/query benchmarks."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa

from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

WORDS = (
    "council budget harbour storm vote river school market police court transit bridge "
    "mayor election housing energy hospital festival airport museum union rates"
).split()


def article_rows(n: int, day: dt.date, outlet: str = "bench", seed: int = 1,
                 body_words: int = 400) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        body = "\n\n".join(
            " ".join(rng.choice(WORDS) for _ in range(body_words // 8)).capitalize() + "."
            for _ in range(8)
        )
        rows.append(Article(
            url=f"https://{outlet}.example/news/{day:%Y/%m/%d}/{seed}-{i}",
            title=" ".join(rng.choice(WORDS) for _ in range(8)).title(),
            body=body,
            published_at=start + dt.timedelta(seconds=rng.randrange(86_400)),
            outlet=outlet, fetched_url=f"https://{outlet}.example/news/{i}",
            authors=[f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"],
            section=rng.choice(WORDS), tags=rng.sample(WORDS, 3), language="en",
            fetched_at=start + dt.timedelta(days=1), parser="generic@1", run_id="bench",
        ).to_row())
    return rows


def article_table(n: int, day: dt.date, outlet: str = "bench", seed: int = 1,
                  body_words: int = 400) -> pa.Table:
    return rows_to_table(article_rows(n, day, outlet, seed, body_words), ARTICLE_FILE_SCHEMA)
