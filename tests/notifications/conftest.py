import socket

import pytest

from app.db_types import utcnow
from app.extensions import db

# The tests' DNS: names that appear in these tests, each with a public address (example.com's); every other name is
# unknown. No test asks the network's resolver (app.safe_urls.resolve), so none depends on it.
PUBLIC = "93.184.215.14"
DNS = {name: [PUBLIC] for name in (
    "push.example.com", "push.example", "push.example.cn", "fcm.googleapis.com", "updates.push.services.mozilla.com",
    "qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn", "open.larksuite.com")}


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """{name: [addresses]}: what app.safe_urls resolves names to in these tests (a test may add or change names).
    IP literals (in every form the system's resolver reads, e.g. 2130706433) resolve to themselves."""
    from app import safe_urls

    table = {name: list(addresses) for name, addresses in DNS.items()}

    def resolve(host: str, port: int) -> list[str]:
        name = host.rstrip(".").lower()
        if name in table:
            return list(table[name])
        if name == "localhost":
            return ["127.0.0.1"]
        try:
            return sorted({info[4][0] for info in socket.getaddrinfo(name, port, flags=socket.AI_NUMERICHOST,
                                                                     type=socket.SOCK_STREAM)})
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    monkeypatch.setattr(safe_urls, "resolve", resolve)
    return table


@pytest.fixture
def sign_up():
    from events.services import register_for_event

    def do(event, user, **kwargs):
        registration, _created = register_for_event(event.id, user, now=kwargs.pop("now", utcnow()), **kwargs)
        db.session.commit()
        return registration
    return do


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


def messages_of(user_id):
    import sqlalchemy as sa

    from notifications.models import Notification

    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))


@pytest.fixture(scope="session")
def vapid_keys():
    from notifications.channels.webpush import generate_vapid_keys

    return generate_vapid_keys()


@pytest.fixture
def app_config(database_url, vapid_keys):
    """Web Push configured, and push endpoints on 127.0.0.1 accepted (the tests' own push service)."""
    from tests.conftest import make_config

    private, public = vapid_keys
    return make_config(database_url, NOTIFICATIONS_VAPID_PRIVATE_KEY=private, NOTIFICATIONS_VAPID_PUBLIC_KEY=public,
                       NOTIFICATIONS_VAPID_SUBJECT="mailto:ops@beiyang.test", NOTIFICATIONS_ALLOW_INSECURE_PUSH=True,
                       SERVER_NAME_FOR_LINKS="https://events.beiyang.test")


def quiet_hours_off(user_id):
    """Tests must not depend on the hour they run at: no quiet hours for this person."""
    from notifications.models import NotificationSettings

    db.session.merge(NotificationSettings(user_id=user_id, quiet_hours_enabled=False))
    db.session.commit()


def subscribe(user, keys, endpoint):
    from notifications.services import subscribe_device

    quiet_hours_off(user.id)
    subscription = subscribe_device(user.id, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth, now=utcnow())
    db.session.commit()
    return subscription
