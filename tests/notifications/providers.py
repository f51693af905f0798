"""Local stand-ins for the providers' HTTP APIs. Each checks a request exactly as the provider documents it (its own
re-computation of the signature from what arrived on the wire, the required parameters and headers) and answers
the way the provider answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit


class Recorder:
    """A tiny HTTP server; `handle(method, path, query, headers, body) -> (status, json)` decides each answer."""

    def __init__(self, handle):
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                parts = urlsplit(self.path)
                request = {"method": self.command, "path": parts.path, "raw_query": parts.query,
                           "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
                           "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                recorder.requests.append(request)
                status, answer = handle(request)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- Alibaba Cloud SMS (RPC, signature v1) ---------------------------------------------------------------------------

def _pe(value: str) -> str:
    return quote(value, safe="-_.~")


def aliyun_checker(access_key_id: str, secret: str):
    seen_nonces: set[str] = set()

    def handle(request):
        params = dict(request["query"])
        problems = []
        if request["method"] != "GET" or request["path"] != "/":
            problems.append("not GET /")
        signature = params.pop("Signature", "")
        for key, value in {"Action": "SendSms", "Version": "2017-05-25", "SignatureMethod": "HMAC-SHA1",
                           "SignatureVersion": "1.0", "Format": "JSON", "AccessKeyId": access_key_id}.items():
            if params.get(key) != value:
                problems.append(f"{key}={params.get(key)!r}")
        for key in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "Timestamp", "SignatureNonce",
                    "RegionId"):
            if not params.get(key):
                problems.append(f"missing {key}")
        stamp = datetime.strptime(params.get("Timestamp", "1970-01-01T00:00:00Z"), "%Y-%m-%dT%H:%M:%SZ")
        if abs(stamp.replace(tzinfo=UTC).timestamp() - time.time()) > 900:
            problems.append("Timestamp not within 15 minutes (ISO 8601, UTC, Z)")
        if params.get("SignatureNonce") in seen_nonces:
            problems.append("SignatureNonce reused")
        seen_nonces.add(params.get("SignatureNonce"))
        canonical = "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(params.items()))
        string_to_sign = "GET&%2F&" + _pe(canonical)
        expected = base64.b64encode(hmac.new((secret + "&").encode(), string_to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if signature != expected:
            problems.append("SignatureDoesNotMatch")
        if problems:
            return 400, {"Code": "SignatureDoesNotMatch" if "SignatureDoesNotMatch" in problems else
                         "MissingParameter", "Message": "; ".join(problems), "RequestId": "test"}
        if params["PhoneNumbers"] == "13800000000":
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "test"}
        return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "test"}

    return handle


# ---- Tencent Cloud SMS (signature v3, TC3-HMAC-SHA256) ---------------------------------------------------------------

def tencent_checker(secret_id: str, secret_key: str):
    def handle(request):
        headers = request["headers"]
        problems = []
        authorization = headers.get("authorization", "")
        try:
            algorithm, rest = authorization.split(" ", 1)
            fields = dict(part.strip().split("=", 1) for part in rest.split(","))
            credential, signed_headers, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
        except (ValueError, KeyError):
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad header"},
                                      "RequestId": "test"}}
        timestamp = headers.get("x-tc-timestamp", "0")
        date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        if algorithm != "TC3-HMAC-SHA256" or credential != f"{secret_id}/{date}/sms/tc3_request":
            problems.append("credential scope")
        if abs(int(timestamp) - time.time()) > 300:
            problems.append("AuthFailure.SignatureExpire")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            problems.append("action/version")
        if not headers.get("x-tc-region"):
            problems.append("region")
        # "the key and the value of each header in lower case, leading and trailing spaces removed"
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n"
                                    for name in signed_headers.split(";"))
        canonical_request = "\n".join(["POST", "/", "", canonical_headers, signed_headers,
                                       hashlib.sha256(request["body"]).hexdigest()])
        string_to_sign = "\n".join(["TC3-HMAC-SHA256", timestamp, f"{date}/sms/tc3_request",
                                    hashlib.sha256(canonical_request.encode()).hexdigest()])

        def sign(key, message):
            return hmac.new(key, message.encode(), hashlib.sha256).digest()

        key = sign(sign(sign(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
        if hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest() != signature:
            problems.append("AuthFailure.SignatureFailure")
        if "content-type" not in signed_headers or "host" not in signed_headers:
            problems.append("content-type and host must be signed")
        body = json.loads(request["body"] or b"{}")
        for key_name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId", "SignName"):
            if not body.get(key_name):
                problems.append(f"missing {key_name}")
        if problems:
            return 200, {"Response": {"Error": {"Code": problems[0].split(" ")[0], "Message": "; ".join(problems)},
                                      "RequestId": "test"}}
        return 200, {"Response": {"SendStatusSet": [
            {"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": body["PhoneNumberSet"][0], "Fee": 1,
             "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}], "RequestId": "test"}}

    return handle
