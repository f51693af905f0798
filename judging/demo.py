"""Judging's part of the demo town (called from app/demo.py once the people, the competition and its team
applications exist): the preliminary (初赛) open online with its criteria, three judges and a shadow judge, the
accepted teams, and scores from two of the judges — the demo judge (陈立恒, "Try as… judge") has scored nothing yet;
the semi-final's criteria set; and the live final (决赛) open and ready to run from the console: criteria, judges,
the accepted teams in pitch order, a hidden leaderboard to reveal rank by rank. Goes through the services, as
people would; does nothing when the preliminary already has criteria."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.extensions import db
from judging import realtime, services

CRITERIA = [
    {"key": "innovation", "label": "创新性", "label_en": "Innovation", "weight": 30, "min": 0, "max": 10, "step": 0.5,
     "description": "技术或模式是否新颖，壁垒是否清楚"},
    {"key": "market", "label": "市场", "label_en": "Market", "weight": 25, "min": 0, "max": 10, "step": 0.5,
     "description": "市场规模、客户痛点与付费意愿"},
    {"key": "team", "label": "团队", "label_en": "Team", "weight": 25, "min": 0, "max": 10, "step": 0.5,
     "description": "团队完整度与执行力"},
    {"key": "feasibility", "label": "可行性", "label_en": "Feasibility", "weight": 20, "min": 0, "max": 10,
     "step": 0.5, "description": "落地路径、里程碑与资源是否匹配"},
]
DEMO_JUDGE = "+8613800000003"  # 陈立恒, the "Try as… judge" persona
PANEL = [DEMO_JUDGE, "+8613800000008", "+8613800000010"]  # 陈立恒, 何嘉欣, 郑乐
SHADOW = "+8613800000004"  # 周静怡 learns to judge in the preliminary; her scores never count
# The preliminary's scores already given: judge phone -> team name -> (scores, comment, weak points)
GIVEN = {
    "+8613800000008": {
        "灵犀医疗": ({"innovation": 8.5, "market": 8, "team": 8, "feasibility": 7.5},
                 "试点数据扎实，下一步要讲清楚收费模式。", ["go_to_market"]),
        "算力港": ({"innovation": 7, "market": 7.5, "team": 6.5, "feasibility": 7},
                "成本优势明显，团队需要补充商务负责人。", ["team", "fundraising"]),
    },
    "+8613800000010": {
        "灵犀医疗": ({"innovation": 8, "market": 7.5, "team": 8.5, "feasibility": 7},
                 "医疗数据合规方案需要尽快落地。", ["legal"]),
    },
}


def seed_judging(competition, people: dict, organizer, *, now: datetime) -> None:
    rounds = {r.kind: r for r in competition.rounds}
    prelim, semifinal, final = rounds.get("preliminary"), rounds.get("semifinal"), rounds.get("final")
    if prelim is None or final is None or prelim.criteria:
        return
    session = db.session()
    session.info[realtime.QUIET_KEY] = True  # nobody watches rounds being created: nothing to announce
    try:
        _seed(prelim, semifinal, final, people, organizer, now=now)
    finally:
        session.info.pop(realtime.QUIET_KEY, None)


def _seed(prelim, semifinal, final, people: dict, organizer, *, now: datetime) -> None:
    for round_ in (prelim, semifinal, final):
        if round_ is not None:
            services.set_criteria(round_.id, organizer, [dict(c) for c in CRITERIA], now=now)
    services.configure_round(prelim.id, organizer, mode="online", normalize=True, leaderboard_mode="hidden", now=now)
    services.configure_round(final.id, organizer, mode="live", drop_extremes=False, leaderboard_mode="hidden",
                             pitch_seconds=480, qa_seconds=300, now=now)
    if semifinal is not None:
        services.configure_round(semifinal.id, organizer, mode="live", now=now)
    for round_ in (prelim, final):
        for phone in PANEL:
            services.add_judge(round_.id, organizer, phone=phone, name=people[phone].name, now=now)
        services.add_teams(round_.id, organizer, None, now=now)
    services.add_judge(prelim.id, organizer, phone=SHADOW, name=people[SHADOW].name, shadow=True, now=now)
    services.open_round(prelim.id, organizer, now=now)
    teams = {t.application_id: t for t in services.teams_of(prelim.id)}
    names = {a.team_name: teams[a.id] for a in services.applications_by_id(teams).values()}
    for phone, scored in GIVEN.items():
        for team_name, (scores, comment, tags) in scored.items():
            if team_name in names:
                services.submit_score(prelim.id, people[phone], round_team_id=names[team_name].id,
                                      submission_id=f"demo-{uuid.uuid4()}", base_revision=0, scores=scores,
                                      comment=comment, tags=tags, now=now)
    services.open_round(final.id, organizer, now=now)
    db.session.flush()
