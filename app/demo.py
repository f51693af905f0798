"""Demo data for the embedded default: a small, realistic Beiyang town. Loaded once; running it again adds nothing.

This is the one place in `app` that reaches into domain models: it composes a town from all of them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.services import get_or_create_user, grant_role
from app.authz import scope_key
from app.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")

DEMO_PEOPLE = [
    # phone, name, company, title, persona, interests, global role
    ("+8613800000001", "林晓舟", "星河智算", "创始人 & CEO", "founder", ["大模型应用", "AI Infra", "融资"], None),
    ("+8613800000002", "王珂", "北杨小镇服务团队", "活动运营", "other", ["社区运营"], "organizer"),
    ("+8613800000003", "陈立恒", "启明创投", "投资总监", "investor", ["早期投资", "企业服务"], "judge"),
    ("+8613800000004", "周静怡", "导师团", "前阿里云产品总监", "other", ["产品", "商业化"], "mentor"),
    ("+8613800000005", "赵一鸣", "深流科技", "CTO", "engineer", ["RAG", "向量数据库"], None),
    ("+8613800000006", "孙雨桐", "灵犀医疗AI", "联合创始人", "founder", ["医疗AI", "合规"], None),
    ("+8613800000007", "刘子墨", "墨子机器人", "创始人", "founder", ["具身智能", "机器人"], None),
    ("+8613800000008", "何嘉欣", "红杉中国", "投资经理", "investor", ["Seed 轮", "AI 应用"], None),
    ("+8613800000009", "马骁", "算力港", "算法工程师", "engineer", ["推理加速", "GPU"], None),
    ("+8613800000010", "郑乐", "浦江律所", "合伙人律师", "other", ["知识产权", "股权"], "mentor"),
    ("+8613800000011", "吴思远", "语见科技", "产品经理", "engineer", ["多模态", "产品设计"], None),
    ("+8613800000012", "黄蕾", "港科大上海中心", "孵化经理", "other", ["创业大赛", "孵化"], "organizer"),
]

MENTORS = {
    "+8613800000004": ("前阿里云产品总监，带过 20+ 个 AI 产品从 0 到 1。", ["product", "go-to-market"],
                       ["企业服务", "大模型应用"], ["seed", "series-a"], 3),
    "+8613800000010": ("专注科技企业股权架构、知识产权与数据合规。", ["legal", "fundraising"],
                       ["医疗AI", "企业服务"], ["idea", "seed"], 4),
    "+8613800000003": ("启明创投投资总监，关注 AI 基础设施与企业服务。", ["fundraising", "ai-infrastructure"],
                       ["AI Infra", "企业服务"], ["seed", "series-a"], 2),
}


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    local = datetime.combine(day.date(), time(hour, minute), tzinfo=SHANGHAI)
    return local.astimezone(ZoneInfo("UTC"))


def _next_weekday(now_local: datetime, weekday: int, min_days: int = 1) -> datetime:
    days = (weekday - now_local.weekday()) % 7
    if days < min_days:
        days += 7
    return now_local + timedelta(days=days)


def demo_events(now: datetime) -> list[dict]:
    local = now.astimezone(SHANGHAI)
    friday = _next_weekday(local, 4, 3)
    thursday = _next_weekday(local, 3, 2)
    saturday = _next_weekday(local, 5, 10)
    return [
        dict(kind="roadshow", title="模速路演日 · 第 12 期：大模型应用专场", title_en="ModelSpeed Roadshow Day #12",
             summary="8 支大模型应用团队现场路演，20+ 家投资机构到场。",
             description="模速空间每月一次的路演日。创业团队 8 分钟路演 + 5 分钟问答；路演结束后有投资人一对一交流。"
                         "创始人可在线申请路演，投资人和小镇居民报名旁听。",
             venue="模速空间 · 1 号楼路演厅", starts_at=_at(friday, 14), ends_at=_at(friday, 17, 30), capacity=200),
        dict(kind="salon", title="技术沙龙：RAG 在企业知识库的落地实践", title_en="Tech salon: RAG in enterprise knowledge bases",
             summary="三位一线工程师分享检索增强生成的踩坑与经验。",
             description="每周四晚的小镇技术沙龙。先到先得，满员后自动进入候补。", venue="北杨人才公寓 B1 共享客厅",
             starts_at=_at(thursday, 19), ends_at=_at(thursday, 21), capacity=60),
        dict(kind="salon", title="技术沙龙：具身智能的数据闭环", title_en="Tech salon: the data loop of embodied AI",
             summary="机器人团队闭门交流，需组织者审核。",
             description="面向具身智能方向的创业者与工程师，名额有限，报名后由组织者审核。", venue="北杨小镇 3 号楼 2F 会议室",
             starts_at=_at(thursday + timedelta(days=7), 19), ends_at=_at(thursday + timedelta(days=7), 21, 30),
             capacity=40, requires_approval=True),
        dict(kind="competition", title="港科大百万元奖金创业大赛 · 决赛", title_en="HKUST Million-Yuan Startup Competition: Final",
             summary="十强团队现场决赛，评委现场打分，大屏实时公布排名。",
             description="港科大上海中心主办，奖金池一百万元。初赛线上评审，复赛与决赛现场路演。", venue="港科大上海中心 · 报告厅",
             starts_at=_at(saturday, 9, 30), ends_at=_at(saturday, 17), capacity=300),
    ]


def seed_demo(*, now: datetime, force: bool = False) -> bool:
    """Create the demo town. Returns False (and does nothing) when it is already there, unless `force`."""
    from events.models import Event
    from judging.models import Competition, CompetitionRound
    from mentoring.models import MentorProfile

    already = db.session.scalars(sa.select(User).where(User.phone == DEMO_PEOPLE[1][0])).first()
    if already is not None and not force:
        return False

    people: dict[str, User] = {}
    for phone, name, company, title, persona, interests, role in DEMO_PEOPLE:
        user = get_or_create_user(phone, now=now, name=name)
        user.name, user.company, user.title, user.persona, user.interests = name, company, title, persona, interests
        user.profile_completed_at = user.profile_completed_at or now
        if role:
            grant_role(user, role)
        people[phone] = user

    organizer = people["+8613800000002"]
    events = {}
    for spec in demo_events(now):
        event = db.session.scalars(sa.select(Event).where(Event.title == spec["title"])).first()
        if event is None:
            event = Event(status="published", created_by_id=organizer.id, **spec)
            db.session.add(event)
        events[spec["kind"] if spec["kind"] != "salon" else spec["title"]] = event
    db.session.flush()

    final = events["competition"]
    competition = db.session.scalars(sa.select(Competition).where(Competition.event_id == final.id)).first()
    if competition is None:
        competition = Competition(name="港科大百万元奖金创业大赛", prize_pool_yuan=1_000_000, event_id=final.id,
                                  description="面向 AI 与硬科技早期团队；初赛线上评审，复赛、决赛现场路演。")
        competition.rounds = [
            CompetitionRound(kind="preliminary", name="初赛", position=1, starts_at=final.starts_at - timedelta(days=30)),
            CompetitionRound(kind="semifinal", name="复赛", position=2, starts_at=final.starts_at - timedelta(days=10)),
            CompetitionRound(kind="final", name="决赛", position=3, event_id=final.id, starts_at=final.starts_at),
        ]
        db.session.add(competition)
        db.session.flush()
    grant_role(people["+8613800000012"], "organizer", scope_key("competition", competition.id))
    grant_role(people["+8613800000003"], "judge", scope_key("competition", competition.id))

    for phone, (bio, expertise, industries, stages, capacity) in MENTORS.items():
        user = people[phone]
        profile = db.session.scalars(sa.select(MentorProfile).where(MentorProfile.user_id == user.id)).first()
        if profile is None:
            db.session.add(MentorProfile(user_id=user.id, bio=bio, expertise=expertise, industries=industries,
                                         stages=stages, languages=["zh", "en"], capacity=capacity))
        grant_role(user, "mentor")
    db.session.flush()
    return True
