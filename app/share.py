"""Pages in WeChat's browser: share cards (what a page shared from there shows in a chat or Moments: the JS-SDK's
share functions, signed for the page's URL, next to the Open Graph tags other apps read: app/templates/_share.html),
and whether this is WeChat's browser at all (what it lacks, pages say in words)."""

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


def in_wechat_browser() -> bool:
    """This page is open in WeChat's built-in browser: no Web Push there (pages say so and offer WeChat messages)."""
    return wechat.in_wechat(request.headers.get("User-Agent"))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["wechat_js_config"] = wechat_js_config
    app.jinja_env.globals["in_wechat_browser"] = in_wechat_browser
