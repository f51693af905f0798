import pytest

from app import create_app
from app.config import Config, ProductionConfig, TestingConfig, config_from_environment, normalise_database_url


def test_testing_config_is_applied(app):
    assert app.config["TESTING"]
    assert app.config["TASK_QUEUE"] == "immediate"


def test_every_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/beiyang")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("PORT", "8123")
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db.example/beiyang"
    assert config.REDIS_URL == "redis://cache:6379/2"
    assert config.RATELIMIT_STORAGE_URI == "redis://cache:6379/2"
    assert config.TASK_QUEUE == "redis"
    assert config.SECRET_KEY == "s3cret"
    assert config.PORT == 8123


def test_embedded_default_needs_no_services(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "TASK_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    config = TestingConfig()
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.REDIS_URL is None
    assert config.RATELIMIT_STORAGE_URI == "memory://"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_turns_demo_mode_off(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("DEMO_MODE", raising=False)
    assert ProductionConfig().DEMO_MODE is False


def test_unknown_app_env_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(RuntimeError, match="APP_ENV"):
        config_from_environment()


@pytest.mark.parametrize("url, expected", [
    ("postgresql://a@b/c", "postgresql+psycopg://a@b/c"),
    ("postgres://a@b/c", "postgresql+psycopg://a@b/c"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_are_normalised_to_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_factory_accepts_a_config_class(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app(TestingConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_healthz_answers_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up"}


def test_behind_a_proxy_the_client_address_comes_from_its_headers(app_config):
    from flask import request

    from app import create_app

    app_config.PROXY_COUNT = 1
    app = create_app(app_config)
    app.add_url_rule("/_address", "address", lambda: f"{request.remote_addr} {request.scheme}")
    answer = app.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.7",
                                                         "X-Forwarded-Proto": "https"})
    assert answer.get_data(as_text=True) == "203.0.113.7 https"


def test_without_a_proxy_forwarded_headers_are_ignored(app_config):
    from flask import request

    from app import create_app

    app = create_app(app_config)
    app.add_url_rule("/_address", "address", lambda: request.remote_addr)
    answer = app.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.get_data(as_text=True) == "127.0.0.1"


def test_a_setting_that_is_not_a_number_is_refused_clearly(monkeypatch):
    import pytest

    from app.config import DevelopmentConfig

    monkeypatch.setenv("PROXY_COUNT", "one")
    with pytest.raises(RuntimeError, match="PROXY_COUNT must be a whole number"):
        DevelopmentConfig()


EMBEDDED = object()  # DATABASE_URL unset: the embedded SQLite in instance/


@pytest.mark.parametrize("app_env, database_url, demo_mode, expected", [
    (None, EMBEDDED, None, True),  # `python -m app` on a fresh machine
    (None, "postgresql://u@db.example/beiyang", None, False),  # APP_ENV forgotten on a production server
    (None, "sqlite:////srv/beiyang/prod.sqlite3", None, False),  # a database of its own is not the demo
    (None, "postgresql://u@db.example/beiyang", "1", True),  # asked for outright
    ("development", "postgresql://u@db.example/beiyang", None, True),  # asked for: a developer's PostgreSQL
    ("demo", "postgresql://u@db.example/beiyang", None, True),  # a shared demo server
    ("development", EMBEDDED, "0", False),  # refused outright
    ("production", EMBEDDED, None, False),
    ("production", "postgresql://u@db.example/beiyang", None, False),
    ("production", "postgresql://u@db.example/beiyang", "1", True),
])
def test_demo_mode_only_when_asked_for_or_on_the_embedded_database(monkeypatch, app_env, database_url, demo_mode,
                                                                   expected):
    monkeypatch.setenv("SECRET_KEY", "x")
    for name, value in (("APP_ENV", app_env), ("DEMO_MODE", demo_mode),
                        ("DATABASE_URL", None if database_url is EMBEDDED else database_url)):
        monkeypatch.setenv(name, value) if value is not None else monkeypatch.delenv(name, raising=False)
    assert config_from_environment().DEMO_MODE is expected


def test_make_run_asks_for_the_demo():
    from app.config import PROJECT_ROOT

    run = (PROJECT_ROOT / "Makefile").read_text().split("\nrun:")[1].split("\n\n")[0]
    assert "APP_ENV=$${APP_ENV:-development}" in run and "python -m app" in run


def test_healthz_asks_the_database_at_most_once_per_probe_interval(app, monkeypatch):
    """A flood of health checks costs the database one probe per HEALTH_PROBE_SECONDS; the others repeat it."""
    from app import layout

    probes = []
    real_connect = type(layout.db.engine).connect
    monkeypatch.setattr(type(layout.db.engine), "connect", lambda engine: probes.append(1) or real_connect(engine))
    monkeypatch.setattr(layout, "_last_probe", (float("-inf"), False))
    client = app.test_client()
    app.config["HEALTH_PROBE_SECONDS"] = 60
    answers = [client.get("/healthz") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5 and len(probes) == 1
    app.config["HEALTH_PROBE_SECONDS"] = 0  # the testing default: every check asks
    client.get("/healthz")
    client.get("/healthz")
    assert len(probes) == 3


def test_healthz_says_down_while_the_database_does_not_answer(app, monkeypatch):
    from app import layout

    def refuse(engine):
        raise ConnectionRefusedError("the database is away")

    monkeypatch.setattr(type(layout.db.engine), "connect", refuse)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "down"}
