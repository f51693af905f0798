"""SMS providers for notifications, chosen by NOTIFICATIONS_SMS_PROVIDER (env SMS_PROVIDER): `console` (the embedded
default: the app's log and demo outbox), `aliyun` (Alibaba Cloud SMS, SendSms 2017-05-25, RPC signature v1:
HMAC-SHA1) or `tencent` (Tencent Cloud SMS, SendSms 2021-01-11, signature v3: TC3-HMAC-SHA256). Mainland SMS must
use an approved sign name and template: the template gets the message's title and link as parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import requests

from app.accounts.sms import ConsoleSmsProvider
from notifications.channels import PermanentFailure, TemporaryFailure

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
MAX_SMS = 140


def sms_text(outgoing) -> str:
    """The text the console provider writes (providers with templates get the title and link as parameters)."""
    text = f"【北杨小镇】{outgoing.title}"
    if outgoing.url:
        text += f" {outgoing.url}"
    return text[:MAX_SMS]


def _template_values(outgoing) -> tuple[str, str]:
    return outgoing.title[:30], outgoing.url


class ConsoleProvider:
    def send(self, outgoing, config: dict) -> None:
        ConsoleSmsProvider().send(outgoing.phone, sms_text(outgoing))


# ---- Alibaba Cloud ---------------------------------------------------------------------------------------------------

def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 as Alibaba Cloud documents it: unreserved characters kept, space as %20, * as %2A, ~ kept."""
    return quote(str(value), safe="~")


def aliyun_signature(params: dict, secret: str, method: str = "GET") -> str:
    """Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", Method + "&" + pe("/") + "&" + pe(sorted query)))."""
    canonical = "&".join(f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunProvider:
    def send(self, outgoing, config: dict) -> None:
        title, link = _template_values(outgoing)
        params = {
            "AccessKeyId": config["ALIYUN_SMS_ACCESS_KEY_ID"], "Action": "SendSms", "Format": "JSON",
            "RegionId": config.get("ALIYUN_SMS_REGION") or "cn-hangzhou", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()), "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
            "PhoneNumbers": outgoing.phone.removeprefix("+86"), "SignName": config["ALIYUN_SMS_SIGN_NAME"],
            "TemplateCode": config["ALIYUN_SMS_TEMPLATE_CODE"],
            "TemplateParam": json.dumps({"title": title, "link": link}, ensure_ascii=False),
        }
        params["Signature"] = aliyun_signature(params, config["ALIYUN_SMS_ACCESS_KEY_SECRET"])
        query = "&".join(f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in params.items())
        endpoint = config.get("ALIYUN_SMS_ENDPOINT") or ALIYUN_ENDPOINT
        body = _call(lambda: requests.get(f"{endpoint}?{query}", timeout=10))
        code = body.get("Code")
        if code == "OK":
            return
        if code in ("isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "ServiceUnavailable"):
            raise TemporaryFailure(f"aliyun: {code}", retry_after=300)
        raise PermanentFailure(f"aliyun: {code}: {body.get('Message', '')}")


# ---- Tencent Cloud ---------------------------------------------------------------------------------------------------

def tc3_authorization(*, secret_id: str, secret_key: str, host: str, action: str, payload: str, timestamp: int,
                      service: str = "sms", content_type: str = "application/json; charset=utf-8") -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud documents it (signature v3), signing content-type, host and x-tc-action."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host;x-tc-action"
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    canonical_request = "\n".join(["POST", "/", "", canonical_headers, signed_headers,
                                   hashlib.sha256(payload.encode()).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])

    def sign(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signing_key = sign(sign(sign(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, "
            f"Signature={signature}")


class TencentProvider:
    def send(self, outgoing, config: dict) -> None:
        title, link = _template_values(outgoing)
        payload = json.dumps({
            "PhoneNumberSet": [outgoing.phone], "SmsSdkAppId": config["TENCENT_SMS_SDK_APP_ID"],
            "SignName": config["TENCENT_SMS_SIGN_NAME"], "TemplateId": config["TENCENT_SMS_TEMPLATE_ID"],
            "TemplateParamSet": [title, link],
        }, ensure_ascii=False, separators=(",", ":"))
        endpoint = config.get("TENCENT_SMS_ENDPOINT") or TENCENT_ENDPOINT
        host = urlsplit(endpoint).netloc
        timestamp = int(datetime.now(UTC).timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8", "Host": host, "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11", "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": config.get("TENCENT_SMS_REGION") or "ap-guangzhou",
            "Authorization": tc3_authorization(secret_id=config["TENCENT_SMS_SECRET_ID"],
                                               secret_key=config["TENCENT_SMS_SECRET_KEY"], host=host,
                                               action="SendSms", payload=payload, timestamp=timestamp),
        }
        body = _call(lambda: requests.post(endpoint, data=payload.encode(), headers=headers, timeout=10))
        response = body.get("Response", {})
        if "Error" in response:
            code = response["Error"].get("Code", "")
            if code.startswith(("RequestLimitExceeded", "InternalError", "LimitExceeded")):
                raise TemporaryFailure(f"tencent: {code}", retry_after=300)
            raise PermanentFailure(f"tencent: {code}: {response['Error'].get('Message', '')}")
        statuses = response.get("SendStatusSet") or [{}]
        if statuses[0].get("Code") != "Ok":
            code = statuses[0].get("Code", "?")
            if code.startswith("LimitExceeded"):
                raise TemporaryFailure(f"tencent: {code}", retry_after=300)
            raise PermanentFailure(f"tencent: {code}: {statuses[0].get('Message', '')}")


def _call(request) -> dict:
    try:
        response = request()
    except requests.RequestException as error:
        raise TemporaryFailure(f"sms provider unreachable: {type(error).__name__}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TemporaryFailure(f"sms provider answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise TemporaryFailure(f"sms provider answered {response.status_code} without JSON") from None


PROVIDERS = {"console": ConsoleProvider, "aliyun": AliyunProvider, "tencent": TencentProvider}


def provider_for(config: dict):
    name = config.get("NOTIFICATIONS_SMS_PROVIDER") or config.get("SMS_PROVIDER") or "console"
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise PermanentFailure(f"unknown SMS provider {name!r}") from None
