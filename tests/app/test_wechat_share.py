"""Share cards: the event page carries Open Graph tags for every app, and in WeChat's browser the JS-SDK's config,
signed for the page's URL with the `jsapi_ticket` from a local stand-in of WeChat's API. The signature is checked
against WeChat's documented algorithm computed here, independently. The access token and the ticket are cached
(in Redis, shared, when it is configured), fetched again before they expire by one caller at a time, and a token
WeChat refuses (40001, 42001) is fetched again once and the call retried. Nothing of it can make a page fail."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from html import unescape

import pytest

from app import wechat
from tests import services
from tests.app.test_wechat_sign_in import IN_WECHAT
from tests.wechat_standin import APP_ID, WeChatStandIn


@pytest.fixture
def standin(app):
    server = WeChatStandIn()
    server.configure(app)
    yield server
    server.close()
    wechat.forget_credentials()


def metas(html: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html)
    return {name: unescape(content) for name, content in found}


def documented_signature(fields: dict[str, str]) -> str:
    """WeChat's JS-SDK documentation, step by step: the fields' names in lower case, sorted by ASCII order, joined as
    URL key=value pairs with '&' (values as they are, not escaped), and the SHA-1 of that string, in hex."""
    text = "&".join(f"{key}={fields[key]}" for key in sorted(key.lower() for key in fields))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324  (WeChat's algorithm)


def assert_signed_in_wechat(app, client, url: str) -> dict[str, str]:
    """The page at `url`, opened in WeChat's browser, is signed for exactly that URL (WeChat's documented
    algorithm, computed here independently). Returns the page's share tags."""
    standin = WeChatStandIn()
    standin.configure(app)
    try:
        tags = metas(client.get(url, headers=IN_WECHAT).get_data(as_text=True))
        assert tags["wechat:app-id"] == APP_ID
        assert tags["wechat:signature"] == documented_signature({
            "jsapi_ticket": "JSAPI-TICKET-1", "noncestr": tags["wechat:nonce"],
            "timestamp": tags["wechat:timestamp"], "url": url})
        return tags
    finally:
        standin.close()
        wechat.forget_credentials()


def test_the_documented_example_signs_as_wechat_says():
    """The worked example in WeChat's JS-SDK documentation (附录1), its signature as published there."""
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    fields = {"noncestr": "Wm3WZYTPz0wzccnW", "jsapi_ticket": ticket, "timestamp": "1414587457",
              "url": "http://mp.weixin.qq.com?params=value"}
    assert documented_signature(fields) == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    assert wechat.js_sdk_signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457,
                                   "http://mp.weixin.qq.com?params=value#section") == documented_signature(fields)


def test_the_event_page_has_open_graph_tags_and_no_wechat_sdk_outside_wechat(client, standin, create_event):
    event = create_event(title="技术沙龙：RAG 落地实践", summary="大模型应用的检索增强实践")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    tags = metas(page)
    assert tags["og:title"] == "技术沙龙：RAG 落地实践" and tags["og:description"] == "大模型应用的检索增强实践"
    assert tags["og:url"] == f"http://localhost/events/{event.id}"
    assert tags["og:image"].startswith("http://localhost/static/icons/icon-512.png")
    assert "wechat:signature" not in tags and "jweixin" not in page
    assert standin.requests == []  # WeChat is not asked for a page outside WeChat


def test_in_wechat_the_event_page_is_signed_as_wechat_documents(client, standin, create_event):
    event = create_event(summary="")
    response = client.get(f"/events/{event.id}?from=groupmessage", headers=IN_WECHAT)
    page = response.get_data(as_text=True)
    tags = metas(page)
    assert tags["og:description"]  # no summary: when and where
    assert tags["wechat:app-id"] == APP_ID
    assert re.fullmatch(r"\d{10}", tags["wechat:timestamp"]) and len(tags["wechat:nonce"]) >= 16
    expected = documented_signature({"jsapi_ticket": "JSAPI-TICKET-1", "noncestr": tags["wechat:nonce"],
                                      "timestamp": tags["wechat:timestamp"],
                                      "url": f"http://localhost/events/{event.id}?from=groupmessage"})
    assert tags["wechat:signature"] == expected
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert any("/static/vendor/jweixin/jweixin-1.6.0.js" in s for s in scripts)
    assert any("/static/js/wechat-share.js" in s for s in scripts)
    for src in scripts:
        assert client.get(src).status_code == 200
    client.get(f"/events/{event.id}", headers=IN_WECHAT)  # a second page: token and ticket from the cache
    assert [r["path"] for r in standin.requests] == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"]


def test_credentials_are_fetched_again_five_minutes_before_they_expire(app, standin):
    config, t0 = dict(app.config), 1_800_000_000.0
    assert wechat.jsapi_ticket(config, now=t0) == "JSAPI-TICKET-1"
    assert wechat.jsapi_ticket(config, now=t0 + 7200 - 301) == "JSAPI-TICKET-1"
    assert wechat.jsapi_ticket(config, now=t0 + 7200 - 299) == "JSAPI-TICKET-2"
    assert (standin.issued, standin.tickets) == (2, 2)


def test_a_token_wechat_refuses_is_fetched_again_once_and_the_call_retried(app, standin):
    config = dict(app.config)
    assert wechat.access_token(config, now=1e9) == "ACCESS-TOKEN-1"
    standin.valid_token = "replaced-elsewhere"  # another party fetched a token: ours is no longer the latest
    assert wechat.jsapi_ticket(config, now=1e9) == "JSAPI-TICKET-1"
    assert [r["path"] for r in standin.requests] == ["/cgi-bin/token", "/cgi-bin/ticket/getticket",
                                                     "/cgi-bin/token", "/cgi-bin/ticket/getticket"]


def test_a_token_refused_twice_is_an_error_in_words_and_the_page_still_opens(app, client, standin, create_event):
    standin.answer_next += [{"access_token": "T1", "expires_in": 7200}, {"errcode": 42001, "errmsg": "expired"},
                            {"access_token": "T2", "expires_in": 7200}, {"errcode": 42001, "errmsg": "expired"}]
    with pytest.raises(wechat.WeChatUnavailable, match="42001"):
        wechat.jsapi_ticket(dict(app.config), now=1e9)
    standin.answer_next += [{"errcode": 40013, "errmsg": "invalid appid"}]
    event = create_event()
    response = client.get(f"/events/{event.id}", headers=IN_WECHAT)
    assert response.status_code == 200 and "wechat:signature" not in response.get_data(as_text=True)
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"  # unreachable
    wechat.forget_credentials()
    assert client.get(f"/events/{event.id}", headers=IN_WECHAT).status_code == 200


def fetch_together(config, callers: int = 8) -> list[str]:
    tickets, errors = [], []

    def one():
        try:
            tickets.append(wechat.jsapi_ticket(config, now=1e9))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return tickets


def test_callers_at_the_same_moment_fetch_once_in_one_process(app, standin):
    standin.delay = 0.2
    assert fetch_together(dict(app.config)) == ["JSAPI-TICKET-1"] * 8
    assert (standin.issued, standin.tickets) == (1, 1)


@pytest.mark.redis
def test_with_redis_every_instance_shares_one_fetch(app, standin):
    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    app_id = f"wxtest{uuid.uuid4().hex[:12]}"  # keys of their own in the shared Redis
    standin.app_id = app_id
    config = {**app.config, "WECHAT_APP_ID": app_id, "REDIS_URL": services.REDIS_URL}
    standin.delay = 0.2
    try:
        assert fetch_together(config) == ["JSAPI-TICKET-1"] * 8
        wechat.forget_credentials()
        wechat._redis_stores.clear()  # another instance: its own connection, nothing in its memory
        assert wechat.jsapi_ticket(config, now=1e9 + 60) == "JSAPI-TICKET-1"
        assert (standin.issued, standin.tickets) == (1, 1)
    finally:
        store = wechat._store(config)
        store.client.delete(f"beiyang:wechat:access_token:{app_id}", f"beiyang:wechat:jsapi_ticket:{app_id}")
