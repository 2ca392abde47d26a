"""The language of the body text (ISO 639-1), by py3langid; the page's declaration when
the text is too short to tell.

py3langid ships its model LZMA-compressed (4.5 MB on disk, 68 MB unpacked): unpacking it
is most of what a fresh process's first page costs (0.5 s of 0.6 s), and every parse task
is a fresh process. The unpacked model (the very ``.npz`` inside the ``.xz``) is kept in
``$XDG_CACHE_HOME/newslake`` (``~/.cache/newslake``), named by the model file's SHA-256
and py3langid's version, written atomically; later processes read it in about a tenth of
the time. The classifier is built from it by py3langid's own ``LanguageIdentifier``, as
py3langid builds it from its file. Where the cache cannot be written or read, the model is
unpacked as py3langid does, with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import lzma
import os
import re
import tempfile
from array import array
from importlib.metadata import version
from pathlib import Path
from typing import IO

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from newslake.parse.metadata import PageMeta

log = logging.getLogger(__name__)

# Below this many characters the classifier guesses; trust the page's declaration.
MIN_CLASSIFY_CHARS = 40
# Classifying the first few hundred characters is as accurate (the same language for every
# page of the fundus-dev corpus at 300, 500, 700 and 1,500 characters) and its cost grows
# with the length (~0.5 ms at 600 characters, 1.3 ms at 1,500).
CLASSIFY_CHARS = 600
LANG_CODE_RE = re.compile(r"^([a-zA-Z]{2})(?:$|[-_])")
DECLARED_LANGUAGE_KEYS = ("content-language", "og:locale", "language", "dc.language")
MODEL_PATH = MODEL_DIR / MODEL_FILE
# The arrays of py3langid's model file (``py3langid.modelio.save_model``).
MODEL_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
# array.array's typecode for an unsigned integer of this many bytes (py3langid's DFA
# tables are array.array, read by index in its Python loop).
UNSIGNED_TYPECODES = {2: "H", 4: "I", 8: "L"}


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
        code, _score = _identifier().classify(text)  # loads its model on first use
        if code:
            return str(code)[:2].lower()
    return declared_language(page)


def _unsigned_array(values: np.ndarray) -> array[int]:
    out = array(UNSIGNED_TYPECODES[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def _from_npz(source: IO[bytes] | Path) -> LanguageIdentifier:
    """The classifier from the unpacked model, built as ``py3langid.modelio.load_model``
    and ``LanguageIdentifier.from_model_file`` build it."""
    with np.load(source, allow_pickle=False) as data:
        missing = set(MODEL_ARRAYS).difference(data.files)
        if missing:
            raise ValueError(f"py3langid model without {sorted(missing)}")
        return LanguageIdentifier(
            np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
            _unsigned_array(data["nextmove"]), data["out_feat"].tolist(),
            tk_row=_unsigned_array(data["nextmove_row"]),
        )


def cache_path(model: Path = MODEL_PATH) -> Path:
    """Where the unpacked model is kept: named by the model file's content and
    py3langid's version, so an upgrade or another model is never read from a stale copy."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    return Path(base) / "newslake" / f"py3langid-{version('py3langid')}-{digest}.npz"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as tmp:
        try:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


@functools.cache
def _identifier() -> LanguageIdentifier:
    """py3langid's classifier with its bundled model: from the unpacked copy in the cache
    when there is one, else unpacked from the package (and cached for the next process)."""
    cached = cache_path()
    try:
        return _from_npz(cached)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # unreadable or damaged: unpack it again
        log.warning("py3langid model cache %s unreadable (%s): unpacking the model", cached, exc)
    with lzma.open(MODEL_PATH) as source:
        unpacked = source.read()
    try:
        _write_atomically(cached, unpacked)
    except OSError as exc:
        log.warning("py3langid model not cached at %s (%s): each process unpacks it", cached, exc)
    return _from_npz(io.BytesIO(unpacked))
