"""The compiled catalogues (.mo) every page, message and error speaks from, made sure of before serving.

The .mo files are build products (ignored by git); only `make` used to compile them, so a server started any other
way (`python -m app`, gunicorn, systemd, `flask worker`) spoke English and wrote English inbox messages for good.
create_app() now calls `ensure_compiled`: a catalogue whose .mo is missing or older than its .po is compiled in
process with Babel's own compiler (as `pybabel compile --use-fuzzy` does), and written atomically (a temporary file
in the same directory, then a rename), so several processes starting together each write a whole file and readers
see the old one or the new one, never half of one. If it cannot be written, or the default language has no
catalogue at all, the server refuses to start and says what to run (docs/decisions.md, docs/deploy.md).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import time
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

COMPILE_COMMAND = "pybabel compile --use-fuzzy -d translations"


class CataloguesUnavailable(RuntimeError):
    """The server would speak the wrong language: it does not start."""


def ensure_compiled(directories: list[str], *, required_locale: str) -> list[Path]:
    """Compile every `<locale>/LC_MESSAGES/*.po` under `directories` whose .mo is missing or stale, then check that
    `required_locale` (the default language) has a catalogue that loads. Returns the .mo files written."""
    written = []
    for directory in map(Path, directories):
        for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not _stale(po, mo):
                continue
            _compile(po, mo)
            written.append(mo)
            log.info("compiled the catalogue %s", mo)
    _check_loads(directories, required_locale)
    return written


def _stale(po: Path, mo: Path) -> bool:
    try:
        return mo.stat().st_mtime_ns < po.stat().st_mtime_ns
    except FileNotFoundError:
        return True


def _compile(po: Path, mo: Path) -> None:
    locale = po.parent.parent.name
    try:
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=True)
        _write_atomically(mo, compiled.getvalue(), not_before_ns=po.stat().st_mtime_ns)
    except Exception as error:
        raise CataloguesUnavailable(
            f"The {locale} catalogue {mo} is missing or older than {po.name}, and compiling it failed: {error}. "
            f"Without it the server would speak English. Run `{COMPILE_COMMAND}` in {po.parents[2]} as a user who "
            f"may write there (the release step in docs/deploy.md does it), then start again.") from error


def _write_atomically(target: Path, content: bytes, *, not_before_ns: int) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the server may run as another user than the compiler
        stamp = max(time.time_ns(), not_before_ns)  # never older than its .po, even with a .po from the future
        os.utime(temporary, ns=(stamp, stamp))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_loads(directories: list[str], locale: str) -> None:
    for directory in directories:
        try:
            loaded = support.Translations.load(directory, [locale])
        except Exception as error:  # a damaged .mo (copied half, written by hand): say which and why
            raise CataloguesUnavailable(
                f"The {locale} catalogue in {directory} cannot be read ({error}): the server would speak English. "
                f"Delete {directory}/{locale}/LC_MESSAGES/messages.mo and start again (it is compiled from the .po), "
                f"or run `{COMPILE_COMMAND}`.") from error
        if isinstance(loaded, support.Translations):
            return
    raise CataloguesUnavailable(
        f"No {locale} catalogue (<dir>/{locale}/LC_MESSAGES/messages.po or .mo) in {', '.join(directories)}: the "
        f"server would speak English. Check BABEL_TRANSLATION_DIRECTORIES and that the translations were installed "
        f"with the code.")
