"""A server started any way at all speaks Chinese (issue 23, item 4). The compiled catalogues (.mo) are not in git
and only `make` used to compile them, so `python -m app`, gunicorn or a systemd unit after a plain install showed
English and wrote English inbox messages for good. Now create_app() compiles a missing or stale catalogue itself
(Babel's compiler, written atomically), or refuses to start saying why: it never degrades silently.

Each test points the application at a copy of the translations holding only the .po sources."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo

from app import create_app
from app.extensions import babel
from tests.conftest import csrf_token_from, sign_in

ROOT = Path(__file__).resolve().parents[2]
ZH_MO = Path("zh_Hans_CN/LC_MESSAGES/messages.mo")
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def translations(tmp_path):
    """A translations directory as a fresh checkout has it: the .po files, no .mo."""
    target = tmp_path / "translations"
    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        destination = target / po.relative_to(ROOT / "translations")
        destination.parent.mkdir(parents=True)
        shutil.copy2(po, destination)
    assert not list(target.rglob("*.mo"))
    return target


@pytest.fixture(autouse=True)
def no_catalogue_from_another_app():
    """Flask-Babel keeps loaded catalogues per locale for the whole process (one app per process in production);
    here every test builds its own app, so forget what an earlier one loaded, before and after."""
    _forget_loaded_catalogues()
    yield
    _forget_loaded_catalogues()


def _forget_loaded_catalogues():
    domain = babel.__dict__.get("domain_instance")  # Flask-Babel's cached_property, once an app has translated
    if domain is not None:
        domain.cache.clear()


@pytest.fixture
def app_config(app_config, translations):
    app_config.BABEL_TRANSLATION_DIRECTORIES = str(translations)
    return app_config


def test_without_compiled_catalogues_the_pages_and_the_inbox_speak_chinese(client, translations, create_resident,
                                                                          create_event):
    page = client.get("/", headers=CHINESE).get_data(as_text=True)
    assert "北杨" in page and "登录" in page and "Sign in" not in page
    assert (translations / ZH_MO).is_file()

    person = create_resident()
    event = create_event(title="周四AI技术沙龙")
    sign_in(client, person)
    response = client.post(f"/api/v1/events/{event.id}/registrations", json={},
                           headers={"X-CSRFToken": csrf_token_from(client), **CHINESE})
    assert response.status_code == 201, response.json

    titles = [item["title"] for item in client.get("/api/v1/notifications", headers=CHINESE).json["items"]]
    assert "报名成功：周四AI技术沙龙" in titles, titles


def test_a_stale_catalogue_is_compiled_again(app_config, translations):
    stale = translations / ZH_MO
    with stale.open("wb") as f:
        write_mo(f, Catalog(locale="zh_Hans_CN"))  # an old build that knows none of today's messages
    old = (translations / "zh_Hans_CN/LC_MESSAGES/messages.po").stat().st_mtime - 3600
    os.utime(stale, (old, old))

    app = create_app(app_config)
    with app.test_request_context("/", headers=CHINESE):
        from flask_babel import gettext
        assert gettext("Sign in") == "登录"
    with stale.open("rb") as f:
        assert read_mo(f).get("Sign in").string == "登录"


def test_a_fresh_catalogue_is_left_as_it_is(app_config, translations):
    create_app(app_config)
    compiled = translations / ZH_MO
    before = compiled.stat().st_mtime_ns
    create_app(app_config)
    assert compiled.stat().st_mtime_ns == before


def test_several_processes_starting_together_leave_one_whole_catalogue(translations):
    from app.catalogues import ensure_compiled

    failures = []

    def start():
        try:
            ensure_compiled([str(translations)], required_locale="zh_Hans_CN")
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    starters = [threading.Thread(target=start) for _ in range(6)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    assert not failures
    with (translations / ZH_MO).open("rb") as f:
        assert read_mo(f).get("Sign in").string == "登录"
    leftovers = [p.name for p in translations.rglob("*") if p.is_file() and p.suffix not in (".po", ".mo")]
    assert not leftovers


def test_a_server_that_cannot_write_its_catalogues_refuses_to_start_and_says_why(app_config, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.catalogues.tempfile.mkstemp", read_only)
    with pytest.raises(RuntimeError) as refused:
        create_app(app_config)
    message = str(refused.value)
    assert "messages.mo" in message and "pybabel compile" in message and "Permission denied" in message


def test_a_server_without_a_chinese_catalogue_refuses_to_start(app_config, translations):
    shutil.rmtree(translations / "zh_Hans_CN")
    with pytest.raises(RuntimeError) as refused:
        create_app(app_config)
    assert "zh_Hans_CN" in str(refused.value) and str(translations) in str(refused.value)


def test_a_damaged_catalogue_stops_the_start_with_what_to_do(app_config, translations):
    create_app(app_config)
    damaged = translations / ZH_MO
    damaged.write_bytes(b"not a catalogue")  # newer than its .po: not compiled again
    with pytest.raises(RuntimeError) as refused:
        create_app(app_config)
    assert "cannot be read" in str(refused.value) and "messages.mo" in str(refused.value)
