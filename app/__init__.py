"""Beiyang Events: the application factory. It only wires; rules live in each package's services."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import orm as sa_orm
from werkzeug.middleware.proxy_fix import ProxyFix

from app import api, assets, errors, extensions_setup, i18n, inputs, layout, page_cache, realtime, tasks
from app.accounts import tasks as account_tasks  # noqa: F401  (a separate worker must know every task)
from app.accounts import views as account_views
from app.cli import register_cli
from app.config import INSTANCE_PATH, Config, config_from_environment
from app.inputs import IdConverter


class BeiyangFlask(Flask):
    """Flask, except that `ensure_sync` remembers its answer per function. Flask asks it for every hook of every
    request (sixteen on a page), and each time asks `inspect` whether the function is a coroutine function: about
    a twentieth of what /healthz costs. No view or hook here is async; if one ever is, it is still wrapped."""

    _SYNC_MEMO_LIMIT = 4096  # hooks, views and handlers are registered once: a bound that is never reached

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_memo: dict = {}

    def ensure_sync(self, func):
        try:
            return self._sync_memo[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
        made = super().ensure_sync(func)
        if len(self._sync_memo) < self._SYNC_MEMO_LIMIT:
            self._sync_memo[func] = made
        return made


def create_app(config: Config | type[Config] | None = None) -> Flask:
    """Build the application. `config` is a Config instance or class; by default APP_ENV picks one."""
    if config is None:
        config = config_from_environment()
    elif isinstance(config, type):
        config = config()

    app = BeiyangFlask(__name__, instance_relative_config=False)
    app.url_map.converters["int"] = IdConverter  # before any route: every <int:id> is bounded (app.inputs)
    app.config.from_object(config)
    app.instance_path = str(_instance_path())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    _trust_proxy(app)
    extensions_setup.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)
    i18n.init_app(app)
    tasks.init_app(app)
    layout.init_app(app)
    assets.init_app(app)  # compression, content-hashed static URLs cached for a year
    account_views.init_app(app)
    realtime.init_app(app)

    # Domain packages, listed explicitly. Each has init_app(app) to register pages, API and handlers. Imported here,
    # not at the top: this is the composition root, and each domain package imports app (a cycle at load time).
    import checkin  # composition root (see above)
    import events  # composition root (see above)
    import insights  # composition root (see above)
    import judging  # composition root (see above)
    import live  # composition root (see above)
    import mentoring  # composition root (see above)
    import notifications  # composition root (see above)

    for package in (events, checkin, judging, mentoring, live, notifications, insights):
        package.init_app(app)

    api.init_app(app)  # after the packages, so every API blueprint they declared is in the OpenAPI document
    page_cache.init_app(app)  # last: it answers before every other step, and keeps a page before compression
    register_cli(app)
    # Every model is imported now: relate them here, once, rather than in the first request after a start (a
    # quarter of a second, while that request and those queued behind it wait).
    sa_orm.configure_mappers()
    return app


def _trust_proxy(app: Flask) -> None:
    """Behind nginx, take the client's address and scheme from the proxy's headers (PROXY_COUNT proxies)."""
    hops = app.config.get("PROXY_COUNT", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _instance_path():
    return INSTANCE_PATH
