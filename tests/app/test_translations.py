"""Every user-facing string is translatable, and the Chinese catalogue covers all of them."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["app", "events", "judging", "mentoring", "checkin", "live", "notifications", "insights"]


def test_the_chinese_catalogue_translates_every_message(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), *PACKAGES],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as f:
        catalogue = read_po(f, locale="zh_Hans_CN")
    translated = {m.id for m in catalogue if m.id and _filled(m.string) and not m.fuzzy}
    missing = sorted(wanted - translated, key=str)  # a plural's id is a (singular, plural) tuple
    assert not missing, "untranslated (run `make translations-update` and fill them in): " + "; ".join(
        map(str, missing))


def _filled(string) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)
