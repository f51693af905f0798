"""Merge Chinese translations from JSON files ({"English msgid": "中文"}) into the zh_Hans_CN catalogue.

    .venv/bin/python tools/merge_translations.py translations/incoming/*.json

Run `make translations-update` first so the catalogue has the new msgids; unknown msgids are reported.
Then `make translations` compiles. Merged files can be deleted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).resolve().parent.parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def main(paths: list[str]) -> int:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="zh_Hans_CN")
    unknown = []
    for path in paths:
        for msgid, msgstr in json.loads(Path(path).read_text(encoding="utf-8")).items():
            message = catalogue.get(msgid)
            if message is None:
                unknown.append(msgid)
                continue
            message.string = msgstr
            message.flags.discard("fuzzy")
    with CATALOGUE.open("wb") as f:
        write_po(f, catalogue, width=120)
    missing = [m.id for m in catalogue if m.id and not m.string]
    for msgid in unknown:
        print(f"not in the catalogue (run make translations-update?): {msgid}", file=sys.stderr)
    for msgid in missing:
        print(f"still untranslated: {msgid}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
