from tests.conftest import csrf_token_from, sign_in


def test_a_newcomer_sees_the_upcoming_events_in_chinese(client, create_event):
    create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice")
    create_event(title="已取消的活动", status="cancelled")
    create_event(title="草稿活动", status="draft")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "近期活动" in page and "技术沙龙：RAG 落地实践" in page
    assert "草稿活动" not in page and "已取消的活动" not in page


def test_the_language_switch_shows_english_and_is_remembered(client, create_event):
    create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice")
    response = client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_token_from(client)})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Upcoming events" in page and "Salon: RAG in practice" in page and '<html lang="en">' in page


def test_a_signed_in_persons_language_follows_them(client, create_resident, app):
    user = create_resident()
    sign_in(client, user)
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_token_from(client)})
    from app.extensions import db

    db.session.refresh(user)
    assert user.locale == "en"


def test_an_unknown_language_is_refused_clearly(client):
    response = client.post("/lang", data={"lang": "fr", "csrf_token": csrf_token_from(client)})
    assert response.status_code == 400 and "不支持该语言" in response.get_data(as_text=True)


def test_filters_by_kind(client, create_event):
    create_event(title="路演日", kind="roadshow")
    create_event(title="沙龙", kind="salon")
    page = client.get("/?kind=roadshow").get_data(as_text=True)
    assert "路演日" in page and ">沙龙<" not in page


def test_an_unknown_page_is_a_friendly_404_in_chinese(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "页面或内容不存在" in response.get_data(as_text=True)


def test_the_layout_fits_a_phone(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width, initial-scale=1' in page


def test_try_as_signs_in_a_demo_person_in_one_tap(client, app, runner):
    runner.invoke(args=["seed-demo"])
    page = client.get("/dev/try").get_data(as_text=True)
    assert "王珂" in page
    response = client.post("/dev/try/organizer", data={"csrf_token": csrf_token_from(client, "/dev/try")})
    assert response.status_code == 302
    assert "王珂" in client.get("/").get_data(as_text=True)


def test_demo_pages_do_not_exist_outside_demo_mode(app_config, database_url):
    from app import create_app

    app_config.DEMO_MODE = False
    client = create_app(app_config).test_client()
    assert client.get("/dev/try").status_code == 404
    assert client.get("/dev/sms").status_code == 404


def test_the_sms_outbox_shows_the_codes_sent_in_demo_mode(client):
    client.post("/api/v1/auth/codes", json={"phone": "13812345678"})
    page = client.get("/dev/sms").get_data(as_text=True)
    assert "+8613812345678" in page and "你的登录验证码是" in page


def _tabs(page: str) -> list[str]:
    import re

    subnav = re.search(r'<nav class="subnav".*?</nav>', page, flags=re.S)
    return re.findall(r">([^<>]+)</a>", subnav.group(0)) if subnav else []


def test_the_section_tabs_follow_who_is_signed_in(client, create_resident, create_event):
    event = create_event()
    assert _tabs(client.get("/").get_data(as_text=True)) == []  # a visitor sees only "Sign in"

    sign_in(client, create_resident())
    page = client.get("/me/events").get_data(as_text=True)
    assert _tabs(page) == ["活动", "我的活动", "我的日历", "导师", "创业大赛"]
    assert '<a href="/me/events" aria-current="page">' in page

    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    sign_in(client, create_resident(roles=(("organizer", f"event:{event.id}"),)))
    assert _tabs(client.get("/").get_data(as_text=True)) == ["活动", "我的活动", "我的日历", "导师", "创业大赛", "管理"]
