"""Shared building blocks of the generated prose."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Topic:
    phrase: str
    tag: str


@dataclass(frozen=True)
class Piece:
    """One generated story: blocks are ("p" | "h2", text) in reading order."""

    title: str
    description: str
    tags: tuple[str, ...]
    blocks: tuple[tuple[str, str], ...]
    caption: str


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def title_case(text: str) -> str:
    small = {"a", "an", "and", "as", "at", "for", "in", "of", "on", "or", "the", "to", "with"}
    words = text.split()
    return " ".join(
        w if (i and w in small) or not w[:1].islower() else cap(w) for i, w in enumerate(words)
    )


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


class Slots(dict[str, object]):
    """Template values; numbers nobody set are drawn fresh from the RNG on each use."""

    def __init__(self, rng: random.Random, values: dict[str, object]) -> None:
        super().__init__(values)
        self.rng = rng

    def __missing__(self, key: str) -> object:
        r = self.rng
        draws: dict[str, object] = {
            "n": r.choice([2, 3, 4, 6, 8, 12, 15, 18, 24, 30, 45, 60, 75, 90]),
            "k": r.randint(2, 10),
            "jobs": r.randrange(50, 900, 10),
            "pct": r.choice([5, 6, 7, 8, 9, 10, 12, 15, 17, 18, 20, 25, 30, 35, 40]),
            "crowd": r.randrange(120, 3000, 20),
            "hours": r.randint(2, 6),
            "years": r.randint(5, 40),
            "day_num": r.randint(1, 28),
            "vote": r.choice(["5-2", "4-3", "6-1", "7-0", "3-2"]),
        }
        if key not in draws:
            raise KeyError(key)
        return draws[key]


def fill(rng: random.Random, template: str, values: dict[str, object]) -> str:
    return cap(template.format_map(Slots(rng, values)))


class Deck:
    """Draws templates without repeats until the deck runs out, then reshuffles."""

    def __init__(self, rng: random.Random, items: tuple[str, ...]) -> None:
        self.rng, self.items, self.pile = rng, items, list[str]()

    def draw(self) -> str:
        if not self.pile:
            self.pile = list(self.items)
            self.rng.shuffle(self.pile)
        return self.pile.pop()
