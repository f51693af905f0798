"""Investor meetings of a roadshow day: the whole-day planner (CP-SAT) beside the old slot-by-slot one, same run.

    .venv/bin/python bench/meetings_plan.py                        # 40 investors x 120 founders x 16 slots
    .venv/bin/python bench/meetings_plan.py --investors 20 --founders 60 --slots 8 --tables 10

One synthetic day (seeded, so every run plans the same instance): each investor wishes 8-16 teams, some teams far
more wanted than others; each team wishes 2-6 investors (a third of the wishes are mutual, as happens when both
sides saw the pitch); a quarter of the people come late or leave early; a table per investor (40). The small case
of issue 23 (tests/mentoring/test_meetings.py) runs too. Each planner runs in a fresh process, so its time (from
the plain inputs to the schedule) and peak memory (VmHWM: the interpreter and OR-Tools included) are its own.

"bound": no schedule can place more meetings (the lower of mentoring.matching.feasible_upper_bound, which counts
people, slots and tables, and relaxation_bound, the model's linear relaxation). Every result is checked (nobody
twice in a slot, a table once per slot, a pair once, only when both can). The exit status is 1 when a check fails,
the whole-day planner places fewer meetings than slot by slot, or takes 5 s or more.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_SECONDS = 5.0
SMALL_CASE = ({("i0", "f0"): 8, ("i1", "f0"): 3, ("i1", "f2"): 3, ("i2", "f0"): 8, ("i2", "f1"): 2,
               ("i1", "f1"): 3, ("i0", "f1"): 3, ("i0", "f2"): 3}, 4, 2, {"i2": {0, 1, 2}})


def make_day(investors: int, founders: int, slots: int, tables: int, seed: int):
    """(wanted, slots, tables, available) with ids "i<n>" and "f<n>"."""
    import numpy as np

    rng = np.random.default_rng(seed)
    popularity = rng.pareto(1.5, founders) + 1
    popularity /= popularity.sum()
    by_investor, by_founder = set(), set()
    for i in range(investors):
        for f in rng.choice(founders, int(rng.integers(8, 17)), replace=False, p=popularity):
            by_investor.add((f"i{i}", f"f{int(f)}"))
    for f in range(founders):
        mutual = sorted(pair for pair in by_investor if pair[1] == f"f{f}")
        for pair in mutual:
            if rng.random() < 0.33:
                by_founder.add(pair)
        for i in rng.choice(investors, int(rng.integers(2, 7)), replace=False):
            if rng.random() < 0.5:
                by_founder.add((f"i{int(i)}", f"f{f}"))
    wanted = {}
    for pair in sorted(by_investor | by_founder):
        a, b = pair in by_investor, pair in by_founder
        wanted[pair] = 3 * a + 2 * b + 3 * (a and b)
    available = {}
    for person in [f"i{i}" for i in range(investors)] + [f"f{f}" for f in range(founders)]:
        if rng.random() < 0.25:
            start = int(rng.integers(0, slots // 2))
            end = int(rng.integers(start + 2, slots + 1))
            available[person] = set(range(start, end))
    return wanted, slots, tables, available


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check(result, wanted, slots, tables, available) -> list[str]:
    problems = []
    people, places = Counter(), Counter()
    for m in result:
        if (m.investor, m.founder) not in wanted or not (0 <= m.slot < slots and 0 <= m.table < tables):
            problems.append("an unwished pair or a slot/table out of range")
        for person in (m.investor, m.founder):
            people[(person, m.slot)] += 1
            if person in available and m.slot not in available[person]:
                problems.append("a meeting outside someone's time")
        places[(m.table, m.slot)] += 1
    if max(people.values(), default=0) > 1:
        problems.append("someone double-booked")
    if max(places.values(), default=0) > 1:
        problems.append("a table double-booked")
    if len({(m.investor, m.founder) for m in result}) != len(result):
        problems.append("a pair meets twice")
    return sorted(set(problems))


def instance(args):
    if args.case == "small":
        return SMALL_CASE
    return make_day(args.investors, args.founders, args.slots, args.tables, args.seed)


def run_child(args) -> None:
    from mentoring import matching

    wanted, slots, tables, available = instance(args)
    planner = matching.schedule_meetings if args.child == "whole-day" else matching.schedule_meetings_by_slot
    started = time.perf_counter()
    result = planner(wanted, slots=slots, tables=tables, available=available)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "planner": args.child, "seconds": seconds, "peak_mb": peak_memory_mb(), "placed": len(result),
        "bound": min(matching.feasible_upper_bound(wanted, slots=slots, tables=tables, available=available),
                     matching.relaxation_bound(wanted, slots=slots, tables=tables, available=available)),
        "weight": sum(m.score for m in result), "mutual": sum(1 for m in result if m.score == 8),
        "wishes": len(wanted), "problems": check(result, wanted, slots, tables, available),
        "schedule": sorted((str(m.investor), str(m.founder), m.slot, m.table) for m in result),
    }))


def run(planner: str, case: str, args) -> dict:
    command = [sys.executable, __file__, "--child", planner, "--case", case, "--investors", str(args.investors),
               "--founders", str(args.founders), "--slots", str(args.slots), "--tables", str(args.tables),
               "--seed", str(args.seed)]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--investors", type=int, default=40)
    parser.add_argument("--founders", type=int, default=120)
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--tables", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--case", choices=["small", "day"], default="day", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["whole-day", "by-slot"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    print(f"\ninvestor meetings: the issue's small case, then {args.investors} investors x {args.founders} "
          f"founders x {args.slots} slots, {args.tables} tables (seed {args.seed}); {os.cpu_count()} CPUs")
    header = (f"{'case':<6} {'planner':<10} {'seconds':>8} {'peak MB':>8} {'wishes':>7} {'placed':>7} {'bound':>6} "
              f"{'weight':>7} {'mutual':>7}  result")
    print(header)
    print("-" * len(header))
    failed = False
    for case in ("small", "day"):
        rows = [run(planner, case, args) for planner in ("whole-day", "by-slot")]
        again = run("whole-day", case, args)
        for r in rows:
            problems = list(r["problems"])
            if r["planner"] == "whole-day":
                if r["placed"] < rows[1]["placed"]:
                    problems.append("fewer than slot by slot")
                if r["seconds"] >= LIMIT_SECONDS:
                    problems.append(f"slower than {LIMIT_SECONDS:.0f} s")
                if again["schedule"] != r["schedule"]:
                    problems.append("a second run planned differently")
            failed |= bool(problems)
            print(f"{case:<6} {r['planner']:<10} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['wishes']:>7} "
                  f"{r['placed']:>7} {r['bound']:>6} {r['weight']:>7} {r['mutual']:>7}  "
                  f"{'WRONG: ' + ', '.join(problems) if problems else 'ok'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
