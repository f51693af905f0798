"""Mentoring's part of the demo town (called from app/demo.py once the people and events exist): a published cycle
whose matches the mentors accepted, with office-hour slots to book and one booking; an open cycle to ask in; and the
roadshow day's investor meetings set up with a few wishes. Goes through the services, as people would."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from mentoring import meetings, office_hours, services
from mentoring.models import MentoringCycle

PUBLISHED_CYCLE = "2026 冬季导师匹配"
OPEN_CYCLE = "2027 春季导师匹配"
# founder phone -> ranked needs, industry, stage, description
REQUESTS = {
    "+8613800000001": (["fundraising", "ai-infrastructure"], "AI Infra", "seed",
                       "星河智算准备开启种子轮，想梳理融资节奏和算力成本模型。"),
    "+8613800000006": (["legal", "fundraising"], "医疗AI", "angel", "医疗数据合规与天使轮条款。"),
    "+8613800000007": (["go-to-market", "product"], "企业服务", "series-a", "楼宇配送机器人如何打开物业渠道。"),
}
# mentor phone -> weekday (0 = Monday), start, end, place
AVAILABILITY = {
    "+8613800000004": (1, "14:00", "16:00", "模速空间 3F 导师室"),
    "+8613800000010": (3, "10:00", "11:30", "浦江律所 · 线上会议"),
    "+8613800000003": (4, "16:00", "17:00", "北杨小镇 2 号楼咖啡区"),
}


def seed_mentoring(people: dict, organizer, roadshow, *, now: datetime) -> None:
    if db.session.scalars(sa.select(MentoringCycle).where(MentoringCycle.name == PUBLISHED_CYCLE)).first():
        return
    cycle = services.create_cycle(organizer, name=PUBLISHED_CYCLE, now=now,
                                  description="导师团与红杉中国 Young Plan 推荐导师，本期每位创始人匹配一位导师。")
    for phone, (needs, industry, stage, description) in REQUESTS.items():
        services.submit_request(cycle.id, people[phone], needs=needs, industry=industry, stage=stage,
                                description=description, languages=["zh"], now=now)
    services.set_priority_group(cycle.id, organizer, name="Young Plan", weight=1.5,
                                founder_ids=[people["+8613800000006"].id])
    services.run_matching(cycle.id, organizer, now=now)
    services.publish_cycle(cycle.id, organizer, now=now)
    for phone, (weekday, start, end, place) in AVAILABILITY.items():
        mentor = people[phone]
        for match in services.my_mentees(mentor):
            services.respond_to_match(match.id, mentor, accept=True, now=now)
        office_hours.add_availability(mentor, weekday=weekday, start=start, end=end, slot_minutes=30,
                                      location=place, now=now)
    demo_founder = people["+8613800000001"]
    for match in services.my_matches(demo_founder):
        slots = office_hours.open_slots(match.mentor_id, now=now + timedelta(days=2))
        if slots:
            office_hours.book_slot(slots[0].id, demo_founder, topic="种子轮融资节奏", now=now)
    services.create_cycle(organizer, name=OPEN_CYCLE, mode="stable", now=now,
                          description="春季一期，稳定匹配：导师可以给申请的创始人排序。")
    _seed_meetings(people, organizer, roadshow, now=now)
    db.session.flush()


def _seed_meetings(people: dict, organizer, roadshow, *, now: datetime) -> None:
    start = max(meetings.last_pitch_end(roadshow.id) or roadshow.starts_at, roadshow.starts_at)
    start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if start <= now or meetings.get_plan(roadshow.id) is not None:
        return
    meetings.set_up_meetings(roadshow.id, organizer, starts_at=start, ends_at=start + timedelta(hours=1, minutes=30),
                             slot_minutes=15, tables=["A1", "A2", "A3"], now=now)
    investors = [people["+8613800000003"], people["+8613800000008"]]
    founders = meetings.pitching_founder_ids(roadshow.id)
    for investor in investors:
        for founder_id in founders[:3]:
            meetings.set_wish(roadshow.id, investor, target_id=founder_id, wanted=True, now=now)
    for founder_id in founders[:2]:
        founder = next(p for p in people.values() if p.id == founder_id)
        meetings.set_wish(roadshow.id, founder, target_id=investors[1].id, wanted=True, now=now)
