"""The language of the body text (ISO 639-1), by py3langid; the page's declaration when
the text is too short to tell.

py3langid ships its model LZMA-compressed (4.5 MB on disk, 68 MB unpacked): unpacking it
takes ~0.5 s, and every parse task is a fresh process. The model's arrays, unpacked, are kept
as ``.npy`` files in a directory of ``$XDG_CACHE_HOME/newslake`` (``~/.cache/newslake``)
named by the model file's SHA-256 and py3langid's version, written to a temporary directory
renamed into place. Later processes map them read-only rather than read them (py3langid
reads only the rows of ``ptc`` of a text's features and the DFA cells the text visits):
the classifier costs a fresh process ~0.01 s of CPU, most of it py3langid's own
constructor, against 0.06-0.16 s when the cache was one ``.npz`` read whole. The
classifier is py3langid's own ``LanguageIdentifier``, built from the arrays as py3langid
builds it from its file, except that its two DFA tables are memoryviews of the mapped files
where py3langid copies them into ``array.array`` (the same ints by index, as fast). Where
the cache cannot be written or read, the model is unpacked as py3langid does, with a
warning.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import lzma
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

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


def _dfa_table(values: np.ndarray) -> memoryview:
    """A DFA table as py3langid indexes it (one Python int per item, like its
    ``array.array``), without copying: a view of the array (of the mapped file)."""
    if values.ndim != 1 or values.dtype.kind != "u" or not values.dtype.isnative:
        raise ValueError(f"py3langid DFA table of {values.dtype} and {values.ndim} dimensions")
    return np.ascontiguousarray(values).data


def _build(arrays: Mapping[str, np.ndarray]) -> LanguageIdentifier:
    """The classifier from the model's arrays, built as ``py3langid.modelio.load_model``
    and ``LanguageIdentifier.from_model_file`` build it (the DFA tables are memoryviews
    where py3langid has ``array.array``: the same ints by index)."""
    missing = set(MODEL_ARRAYS).difference(arrays)
    if missing:
        raise ValueError(f"py3langid model without {sorted(missing)}")
    ptc, pc, classes, out_feat = (arrays[name] for name in ("ptc", "pc", "classes", "out_feat"))
    nextmove, rows = _dfa_table(arrays["nextmove"]), _dfa_table(arrays["nextmove_row"])
    if ptc.ndim != 2 or pc.ndim != 1 or classes.ndim != 1 or out_feat.ndim != 1:
        raise ValueError("py3langid model arrays of unexpected dimensions")
    sizes_match = ptc.shape[1] == len(pc) == len(classes) and len(rows) == len(out_feat)
    if not sizes_match or len(nextmove) % 256:
        raise ValueError("py3langid model arrays of mismatched sizes")
    return LanguageIdentifier(
        np.asarray(ptc), np.asarray(pc), classes.tolist(), nextmove, out_feat.tolist(),
        tk_row=rows,
    )


def _read_cache(path: Path) -> LanguageIdentifier:
    """The classifier from the cached arrays, mapped read-only rather than read: py3langid
    reads only the rows of ``ptc`` (28 MB) of the features a text has and the cells of
    ``nextmove`` (39 MB) its DFA visits."""
    return _build({
        name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        for name in MODEL_ARRAYS
    })


def cache_path(model: Path = MODEL_PATH) -> Path:
    """Where the unpacked model is kept (a directory of ``.npy`` files): named by the
    model file's content and py3langid's version, so an upgrade or another model is
    never read from a stale copy."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    return user_cache_dir() / f"py3langid-{version('py3langid')}-{digest}"


def user_cache_dir() -> Path:
    """Where newslake keeps what a process would otherwise rebuild on first use:
    ``$XDG_CACHE_HOME/newslake``, else ``~/.cache/newslake``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newslake"


def _write_cache(path: Path, arrays: Mapping[str, np.ndarray], *, damaged: bool) -> None:
    """Writes the arrays into a temporary directory renamed into place, so that a reader
    sees the whole cache or none; a ``damaged`` copy there is swapped out first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        for name in MODEL_ARRAYS:
            with open(tmp / f"{name}.npy", "wb") as out:
                np.save(out, arrays[name], allow_pickle=False)
                out.flush()
                os.fsync(out.fileno())
        if damaged and (path.exists() or path.is_symlink()):
            stale = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.stale."))
            os.replace(path, stale / "damaged")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, path)
        except OSError:
            if not path.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process's copy came first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@functools.cache
def _identifier() -> LanguageIdentifier:
    """py3langid's classifier with its bundled model: from the unpacked copy in the cache
    when there is one, else unpacked from the package (and cached for the next process)."""
    cached = cache_path()
    found = cached.exists() or cached.is_symlink()
    if found:
        try:
            return _read_cache(cached)
        except (OSError, ValueError, EOFError) as exc:  # unreadable or damaged: unpack again
            log.warning(
                "py3langid model cache %s unreadable (%s): unpacking the model", cached, exc
            )
    with lzma.open(MODEL_PATH) as source:
        unpacked = io.BytesIO(source.read())
    with np.load(unpacked, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    identifier = _build(arrays)
    try:
        _write_cache(cached, arrays, damaged=found)  # found here: damaged
    except OSError as exc:
        log.warning("py3langid model not cached at %s (%s): each process unpacks it", cached, exc)
    else:
        _drop_legacy_cache(cached)
    return identifier


def _drop_legacy_cache(cached: Path) -> None:
    """The cache of the same model in the earlier format (one ``.npz`` file beside the
    directory), 68 MB no reader looks at any more."""
    legacy = cached.with_name(f"{cached.name}.npz")
    try:
        legacy.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("stale py3langid model cache %s not removed (%s)", legacy, exc)
