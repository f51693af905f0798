"""Demo data for the embedded default: a small, realistic Beiyang town. Loaded once; running it again adds nothing.

This is the one place in `app` that reaches into domain models: it composes a town from all of them.
They are imported inside the seeding functions (marked "composition root"), so that loading `app` (and its CLI)
loads no domain package: the layers stay app < events < checkin | judging < mentoring < notifications.
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
             venue="模速空间 · 1 号楼路演厅", starts_at=_at(friday, 14), ends_at=_at(friday, 17, 30), capacity=200,
             pitch_slots_capacity=8, pitch_applications_open=True),
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


# The roadshow's pitch applications: applicant, project, one-liner, stage, funding ask, deck, team, status.
# The accepted ones form a published line-up (8-minute pitch + 5 minutes of questions, 2 minutes apart).
DEMO_PITCHES = [
    ("+8613800000006", "灵犀医疗AI", "多模态大模型辅助基层医院读片，已在徐汇 12 家社区卫生服务中心试点", "angel",
     "天使轮 800 万元", "https://example.com/bp/lingxi-medical.pdf",
     [("孙雨桐", "联合创始人 & CEO"), ("陈博", "首席医学官")], "accepted"),
    ("+8613800000007", "墨子机器人", "商业楼宇里的具身智能配送机器人，自己乘电梯、过门禁，一周部署", "pre_a",
     "Pre-A 轮 3000 万元", "https://example.com/bp/mozi-robotics.pdf",
     [("刘子墨", "创始人"), ("高远", "硬件负责人"), ("许宁", "运营")], "accepted"),
    ("+8613800000005", "深流科技", "企业知识库 RAG 引擎：私有化部署，答案句句可溯源", "seed",
     "种子轮 300 万元", "", [("赵一鸣", "CTO"), ("钱佳", "CEO")], "accepted"),
    ("+8613800000011", "语见科技", "多模态会议助手：实时转写、要点提炼、中英双语纪要", "prototype",
     "天使轮 500 万元", "https://example.com/bp/yujian.pdf", [("吴思远", "创始人 & 产品")], "accepted"),
    ("+8613800000009", "算力港", "为中小模型团队提供推理加速与弹性 GPU 调度，推理成本降低 40%", "idea",
     "", "", [("马骁", "创始人"), ("丁一", "算法工程师")], "submitted"),
]


def _seed_pitches(roadshow, people: dict, now: datetime) -> None:
    """Pitch applications and a published line-up for the demo roadshow, once (nothing when it already has some).
    The demo founder (林晓舟) has none, so trying the site as him shows the "apply to pitch" button."""
    from events.models import PitchApplication, PitchSlot  # composition root, at seeding time

    if db.session.scalars(sa.select(PitchApplication).where(PitchApplication.event_id == roadshow.id)).first():
        return
    start = roadshow.starts_at + timedelta(minutes=15)
    position = 0
    for phone, project, one_liner, stage, ask, deck, team, status in DEMO_PITCHES:
        application = PitchApplication(event_id=roadshow.id, applicant_id=people[phone].id, project_name=project,
                                       one_liner=one_liner, stage=stage, funding_ask=ask, deck_url=deck,
                                       team=[{"name": n, "role": r} for n, r in team], status=status,
                                       review_note="请提前 30 分钟到场调试设备。" if status == "accepted" else "",
                                       created_at=now, updated_at=now)
        db.session.add(application)
        db.session.flush()
        if status == "accepted":
            position += 1
            db.session.add(PitchSlot(event_id=roadshow.id, application_id=application.id, position=position,
                                     starts_at=start, ends_at=start + timedelta(minutes=13), published=True))
            start += timedelta(minutes=15)
    db.session.flush()


# The competition's tracks and team applications: team, track, project, summary, members (name, phone, role, lead),
# status, the organizers' note. Members without an account (139… numbers) are linked when they sign up.
DEMO_TRACKS = [
    {"key": "ai-manufacturing", "label": "AI+制造", "label_en": "AI + manufacturing"},
    {"key": "ai-healthcare", "label": "AI+医疗", "label_en": "AI + healthcare"},
    {"key": "ai-infra", "label": "AI基础设施", "label_en": "AI infrastructure"},
    {"key": "embodied-ai", "label": "具身智能", "label_en": "Embodied AI"},
]
_ROUND_ONE_NOTE = "恭喜进入初赛！初赛为线上评审，请在截止前上传 BP 和 3 分钟演示视频。"
DEMO_TEAMS = [
    ("灵犀医疗", "ai-healthcare", "灵犀读片：基层医院多模态辅助诊断",
     "面向社区卫生服务中心的胸片与 CT 辅助读片系统，已在徐汇 12 家社区卫生服务中心试点，日均辅助读片 1800 例。",
     [("孙雨桐", "+8613800000006", "联合创始人 & CEO", True), ("陈博", "+8613900002001", "首席医学官", False),
      ("苏晴", "+8613900002002", "算法负责人", False)], "accepted", _ROUND_ONE_NOTE),
    ("墨子机器人", "embodied-ai", "楼宇配送具身智能机器人",
     "在商业楼宇里自己乘电梯、过门禁的配送机器人，一周完成部署，已在 3 栋写字楼运营。",
     [("刘子墨", "+8613800000007", "创始人", True), ("高远", "+8613900002003", "硬件负责人", False),
      ("许宁", "+8613900002004", "运营", False)], "submitted", ""),
    ("深流科技", "ai-infra", "可溯源的企业知识库 RAG 引擎",
     "私有化部署的检索增强生成引擎，答案句句可溯源，已服务 5 家金融与制造企业。",
     [("钱佳", "+8613900002005", "CEO", True), ("赵一鸣", "+8613800000005", "CTO", False)], "submitted", ""),
    ("算力港", "ai-infra", "中小模型团队的推理加速与弹性 GPU 调度",
     "推理引擎与调度平台一体，让中小模型团队的推理成本降低 40%。",
     [("马骁", "+8613800000009", "创始人", True), ("丁一", "+8613900002006", "算法工程师", False)],
     "accepted", _ROUND_ONE_NOTE),
    ("慧眼质检", "ai-manufacturing", "汽车零部件视觉质检大模型",
     "小样本即可上线的缺陷检测模型，在两家一级供应商的产线试点，漏检率低于 0.1%。",
     [("周明", "+8613900002007", "创始人", True), ("李娜", "+8613900002008", "产品负责人", False),
      ("王磊", "+8613900002009", "工程师", False)], "submitted", ""),
    ("智链仓储", "ai-manufacturing", "仓储调度智能体",
     "用大模型智能体排产和调度中小仓库的人与车，目前在做概念验证。",
     [("唐宇", "+8613900002010", "创始人", True)], "declined", "项目目前还在概念阶段，建议做出原型后参加下一届，欢迎常来小镇交流。"),
]


def _seed_teams(competition, people: dict, now: datetime) -> None:
    """Tracks and team applications for the demo competition, once. The demo founder (林晓舟) is in no team, so
    trying the site as him shows "apply as a team"."""
    from judging.models import TeamApplication, TeamMember  # composition root, at seeding time

    if not competition.tracks:
        competition.tracks = [dict(t) for t in DEMO_TRACKS]
        competition.applications_open = True  # open in the demo, until two days before the final
        if competition.rounds and competition.rounds[-1].starts_at:
            competition.applications_close_at = competition.rounds[-1].starts_at - timedelta(days=2)
    if db.session.scalars(sa.select(TeamApplication).where(TeamApplication.competition_id == competition.id)).first():
        return
    for team, track, project, summary, members, status, note in DEMO_TEAMS:
        lead = people.get(members[0][1])
        application = TeamApplication(competition_id=competition.id, team_name=team, track=track, project_name=project,
                                      project_summary=summary, status=status, review_note=note,
                                      created_by_id=lead.id if lead else None, created_at=now, updated_at=now)
        application.members = [TeamMember(name=name, phone=phone, role=role, is_lead=is_lead,
                                          user_id=people[phone].id if phone in people else None)
                               for name, phone, role, is_lead in members]
        db.session.add(application)
    db.session.flush()


def seed_demo(*, now: datetime, force: bool = False) -> bool:
    """Create the demo town. Returns False (and does nothing) when it is already there, unless `force`."""
    from events.models import Event  # composition root, at seeding time
    from judging.models import Competition, CompetitionRound  # composition root, at seeding time
    from mentoring.models import MentorProfile  # composition root, at seeding time

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
    _seed_pitches(events["roadshow"], people, now)
    _seed_teams(competition, people, now)
    grant_role(people["+8613800000012"], "organizer", scope_key("competition", competition.id))
    grant_role(people["+8613800000003"], "judge", scope_key("competition", competition.id))
    from judging.demo import seed_judging  # composition root, at seeding time

    seed_judging(competition, people, organizer, now=now)

    for phone, (bio, expertise, industries, stages, capacity) in MENTORS.items():
        user = people[phone]
        profile = db.session.scalars(sa.select(MentorProfile).where(MentorProfile.user_id == user.id)).first()
        if profile is None:
            db.session.add(MentorProfile(user_id=user.id, bio=bio, expertise=expertise, industries=industries,
                                         stages=stages, languages=["zh", "en"], capacity=capacity))
        grant_role(user, "mentor")
    db.session.flush()
    from mentoring.demo import seed_mentoring  # composition root, at seeding time

    seed_mentoring(people, organizer, events["roadshow"], now=now)
    from checkin.demo import seed_checkin  # composition root, at seeding time

    seed_checkin(people, organizer, events, now=now)
    return True
