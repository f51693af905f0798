"""Sign-in codes are rate-limited per phone and per address; with Redis the limits hold across workers."""

import random

import pytest

from app import create_app
from tests import services


def ask_code(client, phone="13812345678", address="10.1.1.1"):
    return client.post("/api/v1/auth/codes", json={"phone": phone}, environ_base={"REMOTE_ADDR": address})


def test_too_many_codes_for_one_phone_are_refused_with_retry_after(client):
    statuses = [ask_code(client, address=f"10.0.0.{i}").status_code for i in range(6)]
    assert statuses == [201] * 5 + [429]
    response = ask_code(client, address="10.0.0.99")
    assert response.json["error"]["code"] == "rate_limited"
    assert response.json["error"]["message"] == "尝试次数过多，请稍后再试。"
    assert int(response.headers["Retry-After"]) > 0


def test_other_phones_are_not_affected(client):
    for _ in range(5):
        ask_code(client)
    assert ask_code(client, phone="13912345678").status_code == 201


def test_one_address_cannot_spray_many_phones(app_config, database_url):
    app_config.OTP_RATE_PER_ADDRESS = "3 per hour"
    client = create_app(app_config).test_client()
    statuses = [ask_code(client, phone=f"1381234567{i}").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_the_sign_in_page_is_limited_too(client):
    from tests.conftest import csrf_token_from

    for _ in range(5):
        client.post("/auth/login", data={"phone": "13812345678", "csrf_token": csrf_token_from(client, "/auth/login")})
    response = client.post("/auth/login", data={"phone": "13812345678",
                                                "csrf_token": csrf_token_from(client, "/auth/login")})
    assert response.status_code == 429 and "尝试次数过多" in response.get_data(as_text=True)


@pytest.mark.redis
def test_with_redis_two_workers_share_one_limit(app_config, database_url):
    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    app_config.RATELIMIT_STORAGE_URI = services.REDIS_URL
    worker_a = create_app(app_config).test_client()
    worker_b = create_app(app_config).test_client()
    # A phone and addresses of this run only, so earlier or parallel runs sharing Redis never interfere.
    phone = f"138{random.randrange(10**8):08d}"
    subnet = f"10.{random.randrange(256)}.{random.randrange(256)}"
    statuses = [ask_code(worker, phone=phone, address=f"{subnet}.{i}").status_code
                for i, worker in enumerate([worker_a, worker_b] * 3)]
    assert statuses == [201] * 5 + [429]


def test_a_limited_answer_still_says_its_limit_and_others_carry_no_limit_headers(client):
    """The limiter's after-request step runs where a limit was checked (app.extensions_setup), as before."""
    limited = ask_code(client, address="10.2.2.2")
    assert limited.status_code == 201
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(limited.headers.keys())
    assert not any(name.startswith("X-RateLimit") for name, _value in client.get("/healthz").headers.items())
