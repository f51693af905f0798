"""WeChat subscription messages against a local stand-in of the official-account API: token with the app's
credentials, `subscribe/bizsend` with the documented body, a fresh token when WeChat says the old one expired."""

import json

import pytest

from app.wechat import forget_credentials
from notifications.channels import Outgoing, PermanentFailure, wechat
from tests.notifications.providers import Recorder


def message(openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"):
    return Outgoing(delivery_id=1, notification_id=7, user_id=1, channel="wechat", category="registrations",
                    kind="registration_promoted", urgent=False, locale="zh_Hans_CN",
                    title="候补转正：技术沙龙：大模型推理优化实战分享", body="一个座位空出来了，它是你的。",
                    url="https://events.beiyang.test/events/3", dedupe_key="x", wechat_openid=openid)


@pytest.fixture
def wechat_api():
    state = {"tokens": iter(["TOKEN-1", "TOKEN-2"]), "valid": set()}

    def handle(request):
        if request["path"] == "/cgi-bin/token":
            query = request["query"]
            if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
                    "client_credential", "wx1234567890", "app-secret"):
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            token = next(state["tokens"])
            state["valid"] = {token}
            return 200, {"access_token": token, "expires_in": 7200}
        if request["path"] == "/cgi-bin/message/subscribe/bizsend" and request["method"] == "POST":
            if request["query"].get("access_token") not in state["valid"]:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            body = json.loads(request["body"])
            if set(body) != {"touser", "template_id", "page", "data"} or any(
                    len(v["value"]) > 20 for v in body["data"].values()):
                return 200, {"errcode": 47003, "errmsg": "argument invalid!"}
            if body["touser"] == "refused":
                return 200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 1}
        return 404, {}

    server = Recorder(handle)
    forget_credentials()
    yield server, state, {"WECHAT_APP_ID": "wx1234567890", "WECHAT_APP_SECRET": "app-secret",
                          "WECHAT_TEMPLATE_ID": "tmpl-1", "WECHAT_API_BASE": server.base}
    server.close()


def test_a_subscription_message_is_sent_with_the_documented_body(wechat_api):
    server, _state, config = wechat_api
    wechat.send_wechat(message(), config)
    sent = json.loads(server.requests[-1]["body"])
    assert sent["touser"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" and sent["template_id"] == "tmpl-1"
    assert sent["data"]["thing1"]["value"].endswith("…") and len(sent["data"]["thing1"]["value"]) == 20
    assert sent["page"] == "https://events.beiyang.test/events/3"
    wechat.send_wechat(message(), config)  # the token is reused
    assert [r["path"] for r in server.requests].count("/cgi-bin/token") == 1


def test_an_expired_token_is_fetched_again(wechat_api):
    server, state, config = wechat_api
    wechat.send_wechat(message(), config)
    state["valid"] = set()  # WeChat invalidated it early
    state["tokens"] = iter(["TOKEN-3"])
    wechat.send_wechat(message(), config)
    assert server.requests[-1]["query"]["access_token"] == "TOKEN-3"


def test_a_refused_subscription_is_not_retried(wechat_api):
    _server, _state, config = wechat_api
    with pytest.raises(PermanentFailure, match="43101"):
        wechat.send_wechat(message("refused"), config)
