"""Chinese typography: full-width punctuation in Chinese text, no ASCII , : ( ) ; next to a Chinese character, no
space around full-width punctuation; templates put the language's punctuation between pieces (app.layout.punct)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"
TEMPLATE_PACKAGES = ["app", "events", "checkin", "judging", "mentoring", "live", "notifications", "insights"]

CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]"
ASCII_NEXT_TO_CJK = re.compile(rf"{CJK}[,:;()]|[,:;()]{CJK}|{CJK} +[,:;()]|[,:;()] +{CJK}")
SPACE_AROUND_FULL_WIDTH = re.compile(r" [，。：；！？、）]|[，。：；！？、（] ")
TIME = re.compile(r"\b\d{1,2}:\d{2}\b")  # 16:00 is a time, not a colon
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
# Not prose: the lottery's formula names the exact string that is hashed ("seed:registration number").
ALLOWED = {"Each entry's draw key is SHA-256 of “seed:registration number”; entries are ranked by draw key, "
           "smallest first, and the first %(n)d get the seats."}


def _problems(text: str) -> list[str]:
    text = PLACEHOLDER.sub("X", TIME.sub("T", text))
    return [m.group(0) for pattern in (ASCII_NEXT_TO_CJK, SPACE_AROUND_FULL_WIDTH) for m in pattern.finditer(text)]


def test_the_chinese_catalogue_uses_full_width_punctuation():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="zh_Hans_CN")
    bad = []
    for message in catalogue:
        if not message.id or message.id in ALLOWED:
            continue
        for string in message.string if isinstance(message.string, tuple) else (message.string,):
            if string and _problems(string):
                bad.append(f"{message.id!r} -> {string!r}: {_problems(string)}")
    assert not bad, "\n".join(bad)


def test_the_checker_knows_good_from_bad():
    assert _problems("您的总分:") and _problems("林晓舟, 星河智算") and _problems("(文本, 必填)")
    assert _problems("16:00。 ·")
    assert not _problems("报名截止 16:00，请准时到场（模速空间 3F）。") and not _problems("%(name)s：%(n)d 人")


def test_templates_put_no_ascii_punctuation_between_translated_pieces():
    """`{{ _("Your total") }}: ` reads "您的总分: " in Chinese: use {{ punct("colon") }} and friends."""
    between = re.compile(r"\}\}\s?[,:;]\s*(<(?!/?code)|\{\{)|\(\{\{ ?_\(|\}\}, \{\{|\{% endif %\}\)")
    bad = []
    for package in TEMPLATE_PACKAGES:
        for path in (ROOT / package).rglob("*.html"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if between.search(line.replace("<code>", "")) and "sha256sum" not in line:
                    bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not bad, "\n".join(bad)


def test_the_manage_page_writes_a_question_in_chinese_punctuation(client, create_resident, create_event):
    from app.extensions import db
    from tests.conftest import sign_in

    organizer = create_resident(name="王珂", roles=["organizer"])
    event = create_event(questions=[{"key": "company", "label": "公司", "kind": "text", "required": True}])
    db.session.commit()
    sign_in(client, organizer)
    html = client.get(f"/manage/events/{event.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "（文本，必填）" in html, re.findall(r"公司.{0,80}", html)
