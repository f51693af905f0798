"""SMS through Alibaba Cloud and Tencent Cloud, each against a local server that checks the request as the provider
documents it (its own re-computation of the signature from the request that arrived)."""

import json

import pytest

from notifications.channels import Outgoing, PermanentFailure
from notifications.channels.sms_providers import AliyunProvider, TencentProvider, aliyun_signature
from tests.notifications.providers import Recorder, aliyun_checker, tencent_checker


def outgoing(phone="+8613912345678"):
    return Outgoing(delivery_id=1, notification_id=7, user_id=1, channel="sms", category="schedule",
                    kind="event_changed", urgent=True, locale="zh_Hans_CN", title="活动时间变更：模速路演日",
                    body="新时间：12月3日 14:00", url="https://events.beiyang.test/events/3", dedupe_key="x",
                    phone=phone)


def test_the_alibaba_signature_matches_the_documented_example():
    """The worked example of Alibaba Cloud's RPC signature documentation (AccessKeySecret 'testsecret')."""
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
              "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert aliyun_signature(params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


@pytest.fixture
def aliyun():
    server = Recorder(aliyun_checker("LTAI5tTestKeyId", "test/secret+key=="))
    config = {"ALIYUN_SMS_ACCESS_KEY_ID": "LTAI5tTestKeyId", "ALIYUN_SMS_ACCESS_KEY_SECRET": "test/secret+key==",
              "ALIYUN_SMS_SIGN_NAME": "北杨小镇", "ALIYUN_SMS_TEMPLATE_CODE": "SMS_460000001",
              "ALIYUN_SMS_ENDPOINT": server.base + "/"}
    yield server, config
    server.close()


def test_alibaba_cloud_accepts_a_correctly_signed_send_sms(app, aliyun):
    server, config = aliyun
    AliyunProvider().send(outgoing(), config)
    [request] = server.requests
    assert request["query"]["PhoneNumbers"] == "13912345678" and request["query"]["SignName"] == "北杨小镇"
    assert json.loads(request["query"]["TemplateParam"]) == {"title": "活动时间变更：模速路演日",
                                                             "link": "https://events.beiyang.test/events/3"}


def test_alibaba_cloud_refusals_are_permanent_and_a_wrong_secret_is_caught(app, aliyun):
    server, config = aliyun
    with pytest.raises(PermanentFailure, match="MOBILE_NUMBER_ILLEGAL"):
        AliyunProvider().send(outgoing("+8613800000000"), config)
    with pytest.raises(PermanentFailure, match="SignatureDoesNotMatch"):
        AliyunProvider().send(outgoing(), {**config, "ALIYUN_SMS_ACCESS_KEY_SECRET": "wrong"})


@pytest.fixture
def tencent():
    server = Recorder(tencent_checker("AKIDtestSecretId", "testSecretKey"))
    config = {"TENCENT_SMS_SECRET_ID": "AKIDtestSecretId", "TENCENT_SMS_SECRET_KEY": "testSecretKey",
              "TENCENT_SMS_SDK_APP_ID": "1400000001", "TENCENT_SMS_SIGN_NAME": "北杨小镇",
              "TENCENT_SMS_TEMPLATE_ID": "1500001", "TENCENT_SMS_ENDPOINT": server.base + "/"}
    yield server, config
    server.close()


def test_tencent_cloud_accepts_a_correctly_signed_send_sms(app, tencent):
    server, config = tencent
    TencentProvider().send(outgoing(), config)
    [request] = server.requests
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == ["+8613912345678"] and body["TemplateParamSet"][0] == "活动时间变更：模速路演日"
    assert request["headers"]["x-tc-action"] == "SendSms"


def test_tencent_cloud_catches_a_wrong_key(app, tencent):
    server, config = tencent
    with pytest.raises(PermanentFailure, match="AuthFailure.SignatureFailure"):
        TencentProvider().send(outgoing(), {**config, "TENCENT_SMS_SECRET_KEY": "wrong"})


def test_an_urgent_message_goes_by_sms_through_the_configured_provider(app, aliyun, create_resident, create_event,
                                                                      organizer, sign_up):
    from app.db_types import utcnow
    from app.extensions import db
    from events.services import update_event

    server, config = aliyun
    app.config.update(config, NOTIFICATIONS_SMS_PROVIDER="aliyun")
    event = create_event(created_by_id=organizer.id)
    person = create_resident(phone="+8613912340000")
    sign_up(event, person)  # confirmations are not urgent: no SMS
    assert server.requests == []
    update_event(event.id, organizer, now=utcnow(), venue="模速空间 B1")
    db.session.commit()
    [request] = server.requests
    assert request["query"]["PhoneNumbers"] == "13912340000"
