"""Share cards: what a page shared from WeChat's browser shows in a chat or Moments (the JS-SDK's share functions,
signed for the page's URL), next to the Open Graph tags other apps read (app/templates/_share.html)."""

from __future__ import annotations

from flask import Flask, current_app, request

from app import wechat
from app.db_types import utcnow


def wechat_js_config() -> dict | None:
    """`wx.config`'s appId, timestamp, nonceStr and signature for this page, in WeChat's browser when WeChat is set
    up; None otherwise, or when WeChat cannot give a ticket now (logged: the page works without its card). The URL
    signed is the one the browser asked for (behind the proxy: ProxyFix gives the scheme and host it saw)."""
    config = current_app.config
    if not (wechat.configured(config) and wechat.in_wechat(request.headers.get("User-Agent"))):
        return None
    return wechat.js_sdk_config(config, request.url, now=utcnow().timestamp())


def init_app(app: Flask) -> None:
    app.jinja_env.globals["wechat_js_config"] = wechat_js_config
