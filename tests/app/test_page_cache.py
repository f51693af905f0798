"""Anonymous pages from the cache (app.page_cache): served without rendering, never one person's page to another,
stale after any write and when the page changes by itself with time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import time_machine
from flask import template_rendered

from app import page_cache
from app.db_types import utcnow
from app.extensions import db
from tests import services
from tests.conftest import eventually, session_cookie_for, sign_in
from tests.live_server import live_server


@pytest.fixture
def app_config(app_config):
    app_config.PAGE_CACHE_SECONDS = 30
    page_cache.store.clear()
    page_cache.valid_tokens.clear()
    return app_config


@contextmanager
def counting_renders():
    """The pages rendered (templates) and JSON read from the database while inside."""
    rendered: list[str] = []

    def note(sender, template, context, **extra):
        rendered.append(template.name)

    def note_statement(conn, cursor, statement, *args):
        rendered.append(statement)

    template_rendered.connect(note)
    sa.event.listen(db.engine, "before_cursor_execute", note_statement)
    try:
        yield rendered
    finally:
        template_rendered.disconnect(note)
        sa.event.remove(db.engine, "before_cursor_execute", note_statement)


def csrf_meta(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_a_second_anonymous_visit_is_answered_without_touching_the_database(app, client, create_event):
    create_event(title="周四AI技术沙龙")
    first = client.get("/")
    assert first.status_code == 200 and "周四AI技术沙龙" in first.get_data(as_text=True)
    with counting_renders() as rendered:
        again = client.get("/")
    assert again.status_code == 200
    assert rendered == []
    assert again.get_data(as_text=True) == first.get_data(as_text=True)  # the same visitor: the same token too
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert again.headers[header] == first.headers[header]


def test_every_visitor_gets_a_csrf_token_of_their_own_that_works(app, create_event):
    create_event()
    one, two = app.test_client(), app.test_client()
    page_one = one.get("/").get_data(as_text=True)
    page_two = two.get("/").get_data(as_text=True)  # from the cache
    assert csrf_meta(page_one) != csrf_meta(page_two)
    assert page_two.replace(csrf_meta(page_two), "T") == page_one.replace(csrf_meta(page_one), "T")
    for client, page in ((one, page_one), (two, page_two)):
        answer = client.post("/lang", data={"csrf_token": csrf_meta(page), "lang": "en", "next": "/"})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]


# Over real HTTP: each request has its own application context there, as in production (the test client's
# requests share the test's, and with it who is signed in).

def test_a_signed_in_person_never_gets_the_anonymous_copy(app, create_resident, create_event):
    event = create_event(title="模速路演日")
    cookie = session_cookie_for(app, create_resident(name="王小明"))
    with live_server(app) as url:
        paths = ("/", f"/events/{event.id}", f"/events/{event.id}/invite")
        for path in paths:
            assert "王小明" not in requests.get(url + path, timeout=10).text  # cached now
        for path in paths:
            assert "王小明" in requests.get(url + path, cookies={"session": cookie}, timeout=10).text, path


def test_a_signed_in_page_is_never_kept_for_anyone(app, create_resident, create_event):
    event = create_event(title="技术沙龙：缓存")
    cookie = session_cookie_for(app, create_resident(name="李四"))
    with live_server(app) as url:
        for path in ("/", f"/events/{event.id}"):
            assert "李四" in requests.get(url + path, cookies={"session": cookie}, timeout=10).text
            anonymous = requests.get(url + path, timeout=10)
            assert anonymous.status_code == 200 and "李四" not in anonymous.text
        answer = requests.get(f"{url}/api/v1/events/{event.id}", cookies={"session": cookie}, timeout=10)
        assert answer.status_code == 200
        assert "李四" not in requests.get(f"{url}/api/v1/events/{event.id}", timeout=10).text


def test_a_bearer_token_read_checks_the_token_then_may_be_answered_from_the_copy(app, create_resident, create_event):
    """An event's JSON is the same for everyone: a token holder gets the cached copy, but only once their token is
    checked; a bad, revoked or blocked token is refused as always."""
    from app.accounts.services import issue_api_token
    from app.accounts.tokens import revoke_api_token

    event = create_event()
    resident = create_resident()
    token = issue_api_token(resident, name="phone", now=utcnow())
    db.session.commit()
    anonymous = app.test_client().get(f"/api/v1/events/{event.id}")
    assert anonymous.status_code == 200
    with counting_renders() as statements:
        with_token = app.test_client().get(f"/api/v1/events/{event.id}",
                                           headers={"Authorization": f"Bearer {token}"})
        assert with_token.status_code == 200
    assert any("api_token" in s for s in statements), "the token is checked"
    assert not any("FROM events" in s for s in statements), "the event is not read again"
    assert with_token.json == anonymous.json
    bad = app.test_client().get(f"/api/v1/events/{event.id}", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    revoke_api_token(token, now=utcnow())
    db.session.commit()
    app.test_client().get(f"/api/v1/events/{event.id}")  # cached again after the revocation's write
    revoked = app.test_client().get(f"/api/v1/events/{event.id}", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    blocked_token = issue_api_token(resident, name="phone", now=utcnow())
    resident.is_active_account = False
    db.session.commit()
    app.test_client().get(f"/api/v1/events/{event.id}")
    blocked = app.test_client().get(f"/api/v1/events/{event.id}",
                                    headers={"Authorization": f"Bearer {blocked_token}"})
    assert blocked.status_code == 401


def test_a_token_holders_draft_is_never_kept_nor_served_to_others(app, create_resident, create_event):
    """A draft's JSON is its organizers' alone: answered to them, marked private, kept for nobody."""
    from app.accounts.services import issue_api_token

    organizer = create_resident(name="王珂", roles=["organizer"])
    event = create_event(status="draft", title="未发布的草稿活动")
    token = issue_api_token(organizer, name="laptop", now=utcnow())
    db.session.commit()
    path = f"/api/v1/events/{event.id}"
    with live_server(app) as url:
        for _ in range(2):
            mine = requests.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert mine.status_code == 200 and mine.json()["title"] == "未发布的草稿活动"
            assert mine.headers["Cache-Control"].startswith("private")
            anonymous = requests.get(url + path, timeout=10)
            assert anonymous.status_code == 401 and "未发布的草稿活动" not in anonymous.text  # sign in first


def test_a_token_holders_read_fills_the_copy_for_the_next(app, create_resident, create_event):
    """Readers who all hold tokens (the app) are answered from the copy too: the first one's answer is kept."""
    from app.accounts.services import issue_api_token

    event = create_event(title="只用令牌的读者")
    tokens = [issue_api_token(create_resident(), name="phone", now=utcnow()) for _ in range(2)]
    db.session.commit()
    path = f"/api/v1/events/{event.id}"
    first = app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[0]}"})
    assert first.status_code == 200
    with counting_renders() as statements:
        second = app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[1]}"})
    assert second.status_code == 200 and second.json == first.json
    assert not any("FROM events" in s for s in statements)


def test_a_token_found_valid_is_not_asked_again_until_a_write_or_its_next_recorded_use(app, create_resident,
                                                                                      create_event):
    from app.accounts.models import ApiToken
    from app.accounts.services import issue_api_token
    from app.accounts.tokens import TOKEN_USE_RECORDED_EVERY

    app.config["PAGE_CACHE_SECONDS"] = 3600  # the copy outlives the token's check
    event = create_event()
    token = issue_api_token(create_resident(), name="phone", now=utcnow())
    db.session.commit()
    path, headers = f"/api/v1/events/{event.id}", {"Authorization": f"Bearer {token}"}
    app.test_client().get(path)
    assert app.test_client().get(path, headers=headers).status_code == 200  # checked in the database
    with counting_renders() as statements:
        assert app.test_client().get(path, headers=headers).status_code == 200
    assert statements == []
    with time_machine.travel(utcnow() + TOKEN_USE_RECORDED_EVERY + timedelta(seconds=1)):
        with counting_renders() as statements:
            assert app.test_client().get(path, headers=headers).status_code == 200
        assert any("api_token" in s for s in statements), "checked again, and its use recorded"
        assert not any("FROM events" in s for s in statements), "still answered from the copy"
        db.session.expire_all()
        last_used = db.session.scalar(sa.select(ApiToken.last_used_at))
        assert utcnow() - last_used < timedelta(seconds=5)


def test_a_tokens_last_use_does_not_end_the_copies(app, create_resident, create_event):
    """Recording a token's use (every few minutes) writes nothing a page shows."""
    from app.accounts.services import issue_api_token

    event = create_event()
    token = issue_api_token(create_resident(), name="phone", now=utcnow())
    db.session.commit()
    path = f"/api/v1/events/{event.id}"
    app.test_client().get(path)
    before = page_cache.generation.current()
    assert app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert page_cache.generation.current() == before


def test_any_write_makes_the_cached_pages_stale(app, client, create_event):
    event = create_event(title="旧标题沙龙")
    assert "旧标题沙龙" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "旧标题沙龙" in client.get("/").get_data(as_text=True)
    event.title = "新标题沙龙"
    db.session.commit()
    assert "新标题沙龙" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "新标题沙龙" in client.get("/").get_data(as_text=True)
    assert client.get(f"/api/v1/events/{event.id}").get_json()["title"] == "新标题沙龙"


def test_a_sign_up_changes_the_seats_shown_at_once(app, client, create_resident, create_event):
    event = create_event(capacity=2)
    before = client.get(f"/api/v1/events/{event.id}").get_json()
    resident = app.test_client()
    sign_in(resident, create_resident())
    token = csrf_meta(resident.get(f"/events/{event.id}").get_data(as_text=True))
    answer = resident.post(f"/api/v1/events/{event.id}/registrations", json={}, headers={"X-CSRFToken": token})
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    after = client.get(f"/api/v1/events/{event.id}").get_json()
    assert after != before


def test_the_page_changes_when_sign_up_opens_without_any_write(app, client, create_event):
    opens = utcnow() + timedelta(hours=1)
    event = create_event(starts_in=timedelta(days=2), registration_opens_at=opens)
    closed = client.get(f"/events/{event.id}").get_data(as_text=True)
    with time_machine.travel(opens + timedelta(seconds=1), tick=False):
        opened = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert opened != closed
    with time_machine.travel(opens - timedelta(seconds=5), tick=False):
        page_cache.store.clear()
        client.get(f"/events/{event.id}")
    with time_machine.travel(opens + timedelta(seconds=1), tick=False):
        again = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert again.replace(csrf_meta(again), "T") == opened.replace(csrf_meta(opened), "T")


def test_each_language_has_its_own_copy(app, create_event):
    event = create_event()
    chinese = app.test_client().get(f"/events/{event.id}", headers={"Accept-Language": "zh-CN"})
    english = app.test_client().get(f"/events/{event.id}", headers={"Accept-Language": "en"})
    assert 'lang="zh-CN"' in chinese.get_data(as_text=True)
    assert 'lang="en"' in english.get_data(as_text=True)


def test_wechat_gets_its_own_page_every_time(app, create_event):
    event = create_event()
    agent = "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"
    app.test_client().get(f"/events/{event.id}", headers={"User-Agent": agent})
    with counting_renders() as rendered:
        app.test_client().get(f"/events/{event.id}", headers={"User-Agent": agent})
    assert "events/detail.html" in rendered


def test_off_when_the_setting_is_zero(app, client, create_event):
    app.config["PAGE_CACHE_SECONDS"] = 0
    create_event()
    client.get("/")
    with counting_renders() as rendered:
        client.get("/")
    assert "events/index.html" in rendered


def test_a_calendar_from_the_cache_keeps_its_headers_and_answers_304(app, client, create_event):
    create_event(title="周四AI技术沙龙")
    first = client.get("/calendar.ics")
    assert first.status_code == 200 and "周四AI技术沙龙" in first.get_data(as_text=True)
    with counting_renders() as work:
        again = client.get("/calendar.ics")
        unchanged = client.get("/calendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert work == []
    assert again.get_data() == first.get_data()
    for header in ("Content-Type", "Content-Disposition", "Cache-Control", "ETag"):
        assert again.headers[header] == first.headers[header]
    assert "Accept-Language" in again.headers["Vary"]
    assert unchanged.status_code == 304 and unchanged.get_data() == b""


@pytest.mark.redis
def test_a_write_made_by_another_instance_ends_this_instances_copies(app, client, database_url, create_event):
    """Two instances share Redis: a write committed by another process (here a CLI-like script) bumps the
    generation there, and this instance stops serving its copy (it hears the bump over pub/sub)."""
    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    # This instance's cache follows Redis as with REDIS_URL (the app itself stays without it: Flask-SocketIO's
    # test client refuses a message queue, and the extension is one per process).
    page_cache.generation.configure(services.REDIS_URL, f"{prefix}:pages:generation")
    try:
        event = create_event(title="另一实例前")
        assert "另一实例前" in client.get(f"/events/{event.id}").get_data(as_text=True)
        with counting_renders() as rendered:
            client.get(f"/events/{event.id}")
        assert rendered == []  # served from this instance's copy
        script = f"""
import sqlalchemy as sa
from tests.conftest import make_config
from app import create_app
from app.extensions import db
from events.models import Event
config = make_config({database_url!r}, REDIS_URL={services.REDIS_URL!r}, RATELIMIT_KEY_PREFIX={prefix!r})
other = create_app(config)
with other.app_context():
    db.session.execute(sa.update(Event).where(Event.id == {event.id}).values(title="另一实例后"))
    db.session.commit()
"""
        subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[2],
                       capture_output=True, timeout=120)

        def fresh() -> bool:  # the bump arrives over pub/sub, within milliseconds
            db.session.expire_all()  # the test holds the event in its own session: read it afresh
            return "另一实例后" in client.get(f"/events/{event.id}").get_data(as_text=True)

        assert eventually(fresh, timeout=5)
    finally:
        page_cache.generation.configure(None, app.config.get("RATELIMIT_KEY_PREFIX", "beiyang") + ":pages:generation")


def test_with_redis_away_pages_are_rendered_not_refused(app, client, create_event):
    event = create_event(title="Redis 不在也能看")
    page_cache.generation.configure("redis://127.0.0.1:1/0", "test-away:pages:generation")  # nothing listens
    try:
        for _ in range(2):
            with counting_renders() as rendered:
                answer = client.get(f"/events/{event.id}")
            assert answer.status_code == 200 and "Redis 不在也能看" in answer.get_data(as_text=True)
            assert "events/detail.html" in rendered  # nothing kept, nothing served from memory
        event.title = "写入也不失败"
        db.session.commit()  # the bump cannot reach Redis: the write stands
        assert "写入也不失败" in client.get(f"/events/{event.id}").get_data(as_text=True)
    finally:
        page_cache.generation.configure(None, "beiyang:pages:generation")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_copy_that_is_the_same_for_everyone_is_compressed_once_per_encoding(app, create_event, monkeypatch,
                                                                              encoding):
    import flask_compress.flask_compress as flask_compress

    from tests.app.test_assets import decoded

    compressed = []
    compress_data = flask_compress._compress_data

    def counted(app, data, algorithm):
        compressed.append(algorithm)
        return compress_data(app, data, algorithm)

    monkeypatch.setattr(flask_compress, "_compress_data", counted)
    event = create_event(description="大模型应用落地：从原型到产品。" * 40)  # long enough to be compressed
    plain = app.test_client().get(f"/api/v1/events/{event.id}")
    answers = [app.test_client().get(f"/api/v1/events/{event.id}", headers={"Accept-Encoding": encoding})
               for _ in range(3)]
    assert compressed == [encoding]  # the first answer from the cache compressed it; the others reused it
    for answer in answers:
        assert answer.headers["Content-Encoding"] == encoding and "Accept-Encoding" in answer.headers["Vary"]
        assert int(answer.headers["Content-Length"]) == len(answer.data)
        assert decoded(answer) == plain.data
    db.session.get(type(event), event.id).title = "改期：周五AI技术沙龙"
    db.session.commit()  # a write: the copy, and its compressed copies with it, are stale
    changed = app.test_client().get(f"/api/v1/events/{event.id}", headers={"Accept-Encoding": encoding})
    assert json.loads(decoded(changed))["title"] == "改期：周五AI技术沙龙"


def test_a_page_holding_the_visitors_csrf_token_is_compressed_for_each_visitor(app, create_event):
    from tests.app.test_assets import decoded

    event = create_event(description="大模型应用落地：从原型到产品。" * 40)
    app.test_client().get(f"/events/{event.id}")  # kept
    pages = [decoded(app.test_client().get(f"/events/{event.id}", headers={"Accept-Encoding": "br"})).decode()
             for _ in range(2)]
    assert csrf_meta(pages[0]) != csrf_meta(pages[1])  # each visitor's own token, in their own compressed page


def test_a_visitor_without_a_session_is_given_no_cookie_on_a_request_that_makes_none(app):
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" in answer.headers["Vary"]  # the session was looked at (who is signed in): caches must know
