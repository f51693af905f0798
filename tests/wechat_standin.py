"""A local stand-in for WeChat's servers, both of them on one port: open.weixin.qq.com's authorize page (the person
"in WeChat" is `standin.person`; the page redirects at once, as `snsapi_base` does; so does the website app's QR
code page, or with `qr_page` it shows the code and a link that plays the scan and the confirmation on the phone) and
api.weixin.qq.com's `sns/oauth2/access_token`, `cgi-bin/token` and `cgi-bin/ticket/getticket` (only the latest
access token is valid), with WeChat's documented error codes. It checks each request as WeChat does: the app id and
secret, `response_type=code`, a known scope, a code works once."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

APP_ID, SECRET = "wx520c15f417810387", "test-app-secret-0123456789abcdef"
WEB_APP_ID, WEB_SECRET = "wxbdc5610cc59c1631", "test-web-app-secret-0123456789ab"  # the website app (QR code)


class WeChatStandIn:
    def __init__(self, *, app_id: str = APP_ID, secret: str = SECRET) -> None:
        self.app_id, self.secret = app_id, secret
        self.web_app_id, self.web_secret = WEB_APP_ID, WEB_SECRET
        self.person: dict = {"openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}  # who is "in WeChat" now
        self.codes: dict[str, dict] = {}  # code -> the person it was issued for; a code works once
        self.requests: list[dict] = []
        self.answer_next: list[dict] = []  # canned answers for the next API calls (error codes)
        self.issued = 0  # access tokens issued; only the latest is valid (as WeChat does after its grace period)
        self.valid_token: str | None = None
        self.tickets = 0
        self.expires_in = 7200
        self.delay = 0.0  # seconds each API answer takes (to let requests cross)
        # The website app's QR code: False, the person has scanned and confirmed already (a redirect at once);
        # True, a page with the QR code and a link that plays the phone's scan and confirmation (a browser test).
        self.qr_page = False
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                standin.requests.append({"path": parts.path, "query": query})
                if parts.path == "/connect/oauth2/authorize":
                    return self._authorize(query, standin.app_id, ("snsapi_base", "snsapi_userinfo"))
                if parts.path == "/connect/qrconnect" and standin.qr_page:
                    return self._qr_page(query, parts.query)
                if parts.path in ("/connect/qrconnect", "/connect/qrconnect/scanned"):  # scanned and confirmed
                    return self._authorize(query, standin.web_app_id, ("snsapi_login",))
                status, answer = standin.api(parts.path, query)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorize(self, query, app_id, scopes):
                ok = (query.get("appid") == app_id and query.get("response_type") == "code"
                      and query.get("scope") in scopes and query.get("redirect_uri"))
                if not ok:
                    data = "参数错误".encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                code = secrets.token_hex(16)
                standin.codes[code] = {**standin.person_in(app_id), "app": app_id}
                separator = "&" if "?" in query["redirect_uri"] else "?"
                self.send_response(302)
                self.send_header("Location", query["redirect_uri"] + separator + urlencode(
                    {"code": code, "state": query.get("state", "")}))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _qr_page(self, query, raw_query):
                """WeChat's QR code page, as a computer shows it: the code to scan, and here a link that plays the
                person scanning it with WeChat and confirming on the phone (WeChat then sends this browser back)."""
                if query.get("appid") != standin.web_app_id or query.get("scope") != "snsapi_login":
                    return self._authorize(query, standin.web_app_id, ("snsapi_login",))  # its 参数错误 page
                data = ("<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>微信登录</title></head>"
                        "<body><h1>微信登录</h1><div data-testid='wechat-qr-code'>[QR]</div>"
                        "<p>请使用微信扫描二维码登录</p>"
                        f"<a data-testid='scan-and-confirm' href='/connect/qrconnect/scanned?{raw_query}'>"
                        "用手机微信扫码并确认登录</a></body></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def api(self, path: str, query: dict) -> tuple[int, dict]:
        if self.delay:
            time.sleep(self.delay)
        if self.answer_next:
            return 200, self.answer_next.pop(0)
        if path == "/sns/oauth2/access_token":
            secrets_by_app = {self.app_id: self.secret, self.web_app_id: self.web_secret}
            if query.get("appid") not in secrets_by_app:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != secrets_by_app[query["appid"]]:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if query.get("grant_type") != "authorization_code":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            person = dict(self.codes.get(query.get("code", "")) or {})
            if not person or person.pop("app") != query["appid"]:  # a code is one app's
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            del self.codes[query["code"]]  # a code works once
            return 200, {"access_token": "WEB-ACCESS", "expires_in": 7200, "refresh_token": "REFRESH",
                         "scope": "snsapi_login" if query["appid"] == self.web_app_id else "snsapi_base", **person}
        if path == "/cgi-bin/token":
            if query.get("grant_type") != "client_credential":
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            if query.get("appid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            with self.lock:
                self.issued += 1
                self.valid_token = f"ACCESS-TOKEN-{self.issued}"
            return 200, {"access_token": self.valid_token, "expires_in": self.expires_in}
        if path == "/cgi-bin/ticket/getticket":
            if query.get("type") != "jsapi":
                return 200, {"errcode": 40097, "errmsg": "invalid args"}
            if query.get("access_token") != self.valid_token:
                return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            with self.lock:
                self.tickets += 1
                ticket = f"JSAPI-TICKET-{self.tickets}"
            return 200, {"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": self.expires_in}
        return 404, {"errcode": -1, "errmsg": "no such API in the stand-in"}

    def person_in(self, app_id: str) -> dict:
        """What WeChat says of `person` to this app: the website app has its own openid for them (`web_openid`)."""
        person = dict(self.person)
        web_openid = person.pop("web_openid", None)
        if app_id == self.web_app_id:
            person["openid"] = web_openid or "oWEB" + person["openid"][4:]
        return person

    def code_for(self, person: dict, app_id: str | None = None) -> str:
        """A code as WeChat would hand it back for `person` (for tests that skip the authorize page)."""
        code = secrets.token_hex(16)
        self.codes[code] = {**person, "app": app_id or self.app_id}
        return code

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def configure(self, app) -> None:
        from app.wechat import forget_credentials

        forget_credentials()
        app.config.update(WECHAT_APP_ID=self.app_id, WECHAT_APP_SECRET=self.secret, WECHAT_API_BASE=self.base,
                          WECHAT_OAUTH_BASE=self.base)

    def configure_website(self, app) -> None:
        app.config.update(WECHAT_WEB_APP_ID=self.web_app_id, WECHAT_WEB_APP_SECRET=self.web_secret,
                          WECHAT_API_BASE=self.base, WECHAT_OAUTH_BASE=self.base)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
