"""WeChat subscription messages through the official-account API (订阅通知, `subscribe/bizsend`), configured by
environment: WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TEMPLATE_ID (a template with thing1 = title, thing2 = detail).
The access token is fetched with the app's credentials, kept until shortly before it expires, and fetched again when
WeChat says it is invalid or expired. A person who refused the subscription (43101) is not retried."""

from __future__ import annotations

import threading
import time

import requests

from app.wechat import api_base
from notifications.channels import Outcome, Outgoing, PermanentFailure, TemporaryFailure

THING_MAX = 20  # a "thing" value holds at most 20 characters
TOKEN_ERRORS = (40001, 40014, 42001)
_tokens: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def _base(config: dict) -> str:
    return api_base(config)


def _thing(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= THING_MAX else text[: THING_MAX - 1] + "…"


def access_token(config: dict, *, refresh: bool = False) -> str:
    app_id = config.get("WECHAT_APP_ID")
    with _lock:
        cached = _tokens.get(app_id)
        if cached and cached[0] > time.time() and not refresh:
            return cached[1]
    try:
        answer = requests.get(f"{_base(config)}/cgi-bin/token", timeout=10, params={
            "grant_type": "client_credential", "appid": app_id, "secret": config.get("WECHAT_APP_SECRET")}).json()
    except (requests.RequestException, ValueError) as error:
        raise TemporaryFailure(f"wechat token: {type(error).__name__}") from None
    if "access_token" not in answer:
        raise TemporaryFailure(f"wechat token: {answer.get('errcode')} {answer.get('errmsg', '')}", retry_after=600)
    with _lock:
        _tokens[app_id] = (time.time() + int(answer.get("expires_in", 7200)) - 300, answer["access_token"])
    return answer["access_token"]


def send_wechat(outgoing: Outgoing, config: dict) -> Outcome | None:
    if not (config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET") and config.get("WECHAT_TEMPLATE_ID")):
        raise TemporaryFailure("WeChat is not configured", retry_after=3600)
    if not outgoing.wechat_openid:
        raise PermanentFailure("no WeChat openid")
    message = {"touser": outgoing.wechat_openid, "template_id": config["WECHAT_TEMPLATE_ID"], "page": outgoing.url,
               "data": {"thing1": {"value": _thing(outgoing.title)}, "thing2": {"value": _thing(outgoing.body)}}}
    for attempt in range(2):
        token = access_token(config, refresh=attempt > 0)
        try:
            answer = requests.post(f"{_base(config)}/cgi-bin/message/subscribe/bizsend",
                                   params={"access_token": token}, json=message, timeout=10).json()
        except (requests.RequestException, ValueError) as error:
            raise TemporaryFailure(f"wechat: {type(error).__name__}") from None
        code = answer.get("errcode", 0)
        if code == 0:
            return None
        if code in TOKEN_ERRORS and attempt == 0:
            continue  # the token expired early or was replaced: fetch a new one and try once more
        if code in (43101, 40003, 47003):  # refused by the person, bad openid, bad data: retrying cannot help
            raise PermanentFailure(f"wechat: {code} {answer.get('errmsg', '')}")
        raise TemporaryFailure(f"wechat: {code} {answer.get('errmsg', '')}")
    raise TemporaryFailure("wechat: token refused twice")
