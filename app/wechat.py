"""WeChat's web authorisation (网页授权, OAuth 2.0), the one client every package uses: sign-in and binding
(app.accounts.wechat), linking a person's WeChat for messages (notifications.wechat).

Settings (environment, app.config): WECHAT_APP_ID and WECHAT_APP_SECRET (the official account, 公众号), and the base
URLs of WeChat's servers, WECHAT_OAUTH_BASE (open.weixin.qq.com: the authorize page the person is sent to) and
WECHAT_API_BASE (api.weixin.qq.com: the code exchange), which tests point at a local stand-in.

The flow, as WeChat documents it: the person is sent to `connect/oauth2/authorize?appid&redirect_uri&
response_type=code&scope&state#wechat_redirect`; WeChat comes back to `redirect_uri?code=CODE&state=STATE`; the code
(valid 5 minutes, once) is exchanged at `sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` for
the person's `openid` (per app) and, when the account is bound to an open-platform account and the person has
authorised it, their `unionid` (the same for every app of that open platform)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import requests

API_BASE = "https://api.weixin.qq.com"
OAUTH_BASE = "https://open.weixin.qq.com"
SCOPES = ("snsapi_base", "snsapi_userinfo")
MAX_ID = 64  # openids are 28 characters and unionids 29 today; more than 64 is not WeChat


def api_base(config) -> str:
    return (config.get("WECHAT_API_BASE") or API_BASE).rstrip("/")


def oauth_base(config) -> str:
    return (config.get("WECHAT_OAUTH_BASE") or OAUTH_BASE).rstrip("/")


def configured(config) -> bool:
    """The official account's web authorisation can be used: both its app id and its secret are set."""
    return bool(config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET"))


def in_wechat(user_agent: str | None) -> bool:
    """WeChat's built-in browser says `MicroMessenger` in its user agent (WeCom's adds `wxwork`: not the same app)."""
    agent = user_agent or ""
    return "MicroMessenger" in agent and "wxwork" not in agent


def authorize_url(config, *, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
    """Where to send the person: for `snsapi_base` WeChat asks nothing (the openid only) and comes straight back to
    `redirect_uri?code=...&state=...`. The fragment `#wechat_redirect` is required by WeChat."""
    if scope not in SCOPES:
        raise ValueError(f"unknown WeChat scope {scope!r}")
    query = urlencode([("appid", config.get("WECHAT_APP_ID") or ""), ("redirect_uri", redirect_uri),
                       ("response_type", "code"), ("scope", scope), ("state", state)])
    return f"{oauth_base(config)}/connect/oauth2/authorize?{query}#wechat_redirect"


class OAuthRefused(Exception):
    """WeChat did not confirm the person: `errcode` (None when WeChat could not be reached or answered nonsense)
    and its words, for the log."""

    def __init__(self, detail: str, errcode: int | None = None) -> None:
        super().__init__(detail)
        self.errcode = errcode


@dataclass(frozen=True)
class Identity:
    """A WeChat account as one app sees it: `openid` is the app's own id of the person; `unionid`, when WeChat gives
    it, is the same across the apps of one open-platform account."""

    app_id: str
    openid: str
    unionid: str | None = None


def _clean_id(value) -> str | None:
    text = str(value or "").strip()
    return text if text and len(text) <= MAX_ID and text.isprintable() and " " not in text else None


def identity_for_code(config, code: str) -> Identity:
    """Exchange the one-time `code` (`sns/oauth2/access_token`) for the person's identity; OAuthRefused with
    WeChat's reason when the code is invalid, used or expired, or WeChat cannot be reached."""
    try:
        answer = requests.get(f"{api_base(config)}/sns/oauth2/access_token", timeout=10, params={
            "appid": config.get("WECHAT_APP_ID"), "secret": config.get("WECHAT_APP_SECRET"), "code": code,
            "grant_type": "authorization_code"}).json()
    except (requests.RequestException, ValueError) as error:
        raise OAuthRefused(f"unreachable: {type(error).__name__}") from None
    if not isinstance(answer, dict):
        raise OAuthRefused("not a JSON object")
    openid = _clean_id(answer.get("openid"))
    if not openid or answer.get("errcode"):
        errcode = answer.get("errcode")
        raise OAuthRefused(f"{errcode} {answer.get('errmsg', '')}".strip(),
                           errcode=errcode if isinstance(errcode, int) else None)
    return Identity(app_id=str(config.get("WECHAT_APP_ID")), openid=openid, unionid=_clean_id(answer.get("unionid")))


def openid_for_code(config, code: str) -> str:
    return identity_for_code(config, code).openid
