"""Admin commands, run through Flask's CLI runner."""

import sqlalchemy as sa

from app.accounts.models import ApiToken, User
from app.authz import has_role, scope_key
from app.extensions import db


def test_users_create_makes_several_users_with_a_role(runner):
    result = runner.invoke(args=["users", "create", "13812345678", "+85291234567", "--name", "王珂",
                                 "--role", "organizer"])
    assert result.exit_code == 0, result.output
    users = db.session.scalars(sa.select(User).order_by(User.id)).all()
    assert [u.phone for u in users] == ["+8613812345678", "+85291234567"]
    assert all(has_role(u, "organizer") and u.name == "王珂" for u in users)


def test_users_create_with_one_bad_phone_creates_nobody(runner):
    result = runner.invoke(args=["users", "create", "13812345678", "12345"])
    assert result.exit_code == 1
    assert "invalid_phone" in result.output and "12345" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_tokens_create_prints_one_token_per_line_in_order_and_nothing_else(runner, app, client):
    runner.invoke(args=["users", "create", "13812345678", "13912345678"])
    result = runner.invoke(args=["tokens", "create", "13912345678", "13812345678"])
    assert result.exit_code == 0
    tokens = result.stdout.splitlines()
    assert len(tokens) == 2 and all(t.startswith("bye_") for t in tokens)
    phones = [client.get("/api/v1/me", headers={"Authorization": f"Bearer {t}"}).json["phone"] for t in tokens]
    assert phones == ["+8613912345678", "+8613812345678"]
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert not set(tokens) & set(stored)


def test_tokens_for_an_unknown_phone_fail_without_printing_a_token(runner):
    result = runner.invoke(args=["tokens", "create", "13812345678"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "unknown_user" in result.stderr


def test_users_import_reads_a_csv_from_excel(runner, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("\ufeffphone,name,company,title,persona,role\n"
                    "13812345678,林晓舟,星河智算,CEO,founder,\n"
                    "13912345678,陈立恒,启明创投,投资总监,investor,judge\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    judge = db.session.scalars(sa.select(User).where(User.phone == "+8613912345678")).one()
    assert judge.name == "陈立恒" and judge.persona == "investor" and has_role(judge, "judge")


def test_users_import_names_the_bad_line_and_imports_nothing(runner, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("phone,name\n13812345678,甲\n1234,乙\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1 and "3" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_users_grant_scopes_a_role_to_one_competition(runner):
    runner.invoke(args=["users", "create", "13812345678"])
    result = runner.invoke(args=["users", "grant", "13812345678", "judge", "--competition", "7"])
    assert result.exit_code == 0
    user = db.session.scalars(sa.select(User)).one()
    assert has_role(user, "judge", scope_key("competition", 7))
    assert not has_role(user, "judge", scope_key("competition", 8))
    assert not has_role(user, "judge")


def test_seed_demo_loads_the_town_once(runner):
    from events.models import Event
    from judging.models import Competition

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    counts = (db.session.scalar(sa.select(sa.func.count()).select_from(User)),
              db.session.scalar(sa.select(sa.func.count()).select_from(Event)))
    result = runner.invoke(args=["seed-demo"])
    assert "already" in result.stderr
    assert counts == (db.session.scalar(sa.select(sa.func.count()).select_from(User)),
                      db.session.scalar(sa.select(sa.func.count()).select_from(Event)))
    assert counts[0] >= 10
    kinds = sorted(db.session.scalars(sa.select(Event.kind)).all())
    assert kinds == ["competition", "roadshow", "salon", "salon"]
    competition = db.session.scalars(sa.select(Competition)).one()
    assert [r.kind for r in competition.rounds] == ["preliminary", "semifinal", "final"]


def test_users_block_stops_the_accounts_tokens_and_unblock_lets_it_back(runner, client):
    runner.invoke(args=["users", "create", "13812345678"])
    token = runner.invoke(args=["tokens", "create", "13812345678"]).stdout.strip()
    result = runner.invoke(args=["users", "block", "13812345678"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert runner.invoke(args=["users", "unblock", "+8613812345678"]).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["users", "block", "13999999999"]).exit_code == 1


def test_users_import_with_a_name_completes_the_profile_so_they_can_sign_up(runner, tmp_path, create_event):
    from app.db_types import utcnow
    from events.signup_batches import sign_up

    event = create_event()
    path = tmp_path / "users.csv"
    path.write_text("phone,name,persona\n13812345678,林晓舟,founder\n13912345678,,founder\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    named = db.session.scalars(sa.select(User).where(User.phone == "+8613812345678")).one()
    unnamed = db.session.scalars(sa.select(User).where(User.phone == "+8613912345678")).one()
    assert named.profile_complete and not unnamed.profile_complete
    registration, _ = sign_up(event.id, named, now=utcnow())
    assert registration.status in {"confirmed", "pending", "waitlisted"}


def test_users_create_with_a_name_completes_the_profile(runner):
    runner.invoke(args=["users", "create", "13812345678", "--name", "王珂"])
    runner.invoke(args=["users", "create", "13912345678"])
    by_phone = {u.phone: u for u in db.session.scalars(sa.select(User))}
    assert by_phone["+8613812345678"].profile_complete
    assert not by_phone["+8613912345678"].profile_complete


def test_users_import_refuses_a_name_too_long_for_the_profile(runner, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("phone,name\n13812345678," + "林" * 81 + "\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1 and "2" in result.stderr
