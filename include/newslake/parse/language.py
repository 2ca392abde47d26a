"""The language of the body text (ISO 639-1), by py3langid; the page's declaration when
the text is too short to tell."""

from __future__ import annotations

import re

import py3langid

from newslake.parse.metadata import PageMeta

# Below this many characters the classifier guesses; trust the page's declaration.
MIN_CLASSIFY_CHARS = 40
# Classifying the first few hundred characters is as accurate (the same language for every
# page of the fundus-dev corpus at 300, 500, 700 and 1,500 characters) and its cost grows
# with the length (~0.5 ms at 600 characters, 1.3 ms at 1,500).
CLASSIFY_CHARS = 600
LANG_CODE_RE = re.compile(r"^([a-zA-Z]{2})(?:$|[-_])")
DECLARED_LANGUAGE_KEYS = ("content-language", "og:locale", "language", "dc.language")


def declared_language(page: PageMeta) -> str | None:
    """The ISO 639-1 code the page declares (``<html lang>``, meta, JSON-LD)."""
    candidates = [page.html_lang, *(page.first(key) for key in DECLARED_LANGUAGE_KEYS)]
    in_language = page.ld("inLanguage")
    if isinstance(in_language, str):
        candidates.append(in_language)
    for value in candidates:
        match = LANG_CODE_RE.match((value or "").strip())
        if match:
            return match.group(1).lower()
    return None


def detect_language(body: str, page: PageMeta) -> str | None:
    text = body[:CLASSIFY_CHARS]
    if len(text.strip()) >= MIN_CLASSIFY_CHARS:
        code, _score = py3langid.classify(text)  # loads its model on first use
        if code:
            return str(code)[:2].lower()
    return declared_language(page)
