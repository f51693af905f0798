"""WeChat subscription messages through the official-account API (订阅通知, `subscribe/bizsend`), configured by
environment: WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TEMPLATE_ID (a template with thing1 = title, thing2 = detail).
The access token is app.wechat's (cached, shared across instances, fetched again once when WeChat says it is invalid
or expired). A person who refused the subscription (43101) is not retried."""

from __future__ import annotations

import requests

from app.wechat import TOKEN_INVALID, WeChatUnavailable, api_base, with_access_token
from notifications.channels import Outcome, Outgoing, PermanentFailure, TemporaryFailure

THING_MAX = 20  # a "thing" value holds at most 20 characters


def _thing(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= THING_MAX else text[: THING_MAX - 1] + "…"


def send_wechat(outgoing: Outgoing, config: dict) -> Outcome | None:
    if not (config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET") and config.get("WECHAT_TEMPLATE_ID")):
        raise TemporaryFailure("WeChat is not configured", retry_after=3600)
    if not outgoing.wechat_openid:
        raise PermanentFailure("no WeChat openid")
    message = {"touser": outgoing.wechat_openid, "template_id": config["WECHAT_TEMPLATE_ID"], "page": outgoing.url,
               "data": {"thing1": {"value": _thing(outgoing.title)}, "thing2": {"value": _thing(outgoing.body)}}}

    def send(token: str) -> dict:
        try:
            answer = requests.post(f"{api_base(config)}/cgi-bin/message/subscribe/bizsend",
                                   params={"access_token": token}, json=message, timeout=10).json()
        except (requests.RequestException, ValueError) as error:
            raise TemporaryFailure(f"wechat: {type(error).__name__}") from None
        return answer if isinstance(answer, dict) else {"errcode": -1, "errmsg": "not a JSON object"}

    try:
        answer = with_access_token(config, send)  # a token WeChat refuses is fetched again once, the send retried
    except WeChatUnavailable as error:
        raise TemporaryFailure(f"wechat token: {error}", retry_after=600) from None
    code = answer.get("errcode", 0)
    if code == 0:
        return None
    if code in TOKEN_INVALID:
        raise TemporaryFailure("wechat: token refused twice")
    if code in (43101, 40003, 47003):  # refused by the person, bad openid, bad data: retrying cannot help
        raise PermanentFailure(f"wechat: {code} {answer.get('errmsg', '')}")
    raise TemporaryFailure(f"wechat: {code} {answer.get('errmsg', '')}")
