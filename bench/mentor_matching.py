"""Mentor matching at the town's scale: F founders x M mentors, optimal beside the greedy baseline and the stable mode.

    .venv/bin/python bench/mentor_matching.py                      # 2,000 founders x 300 mentors
    .venv/bin/python bench/mentor_matching.py --founders 500 --mentors 80 --per-founder 2

One synthetic cycle (seeded, so every run matches the same instance): mentors with 3-5 areas of expertise, 1-3
industries, 2-4 stages, Chinese and some English, capacity 3-8; founders with 1-3 ranked needs, an industry and a
stage, some preferring or avoiding mentors, 10% in a priority group (weight 1.5); forbidden pairs and pins as an
organizer would set them. Each mode runs in a fresh process, so its time (fit scores + solving, from the plain
inputs) and peak memory (VmHWM of that process, the interpreter and libraries included) are its own.

Every result is checked: no mentor above capacity, no founder above the limit, no forbidden pair, every pin kept;
and the optimum is never below greedy. The exit status is 1 when a check fails or the optimum takes 10 s or more.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXPERTISE = ["fundraising", "go-to-market", "product", "engineering", "ai-infrastructure", "legal", "hiring",
             "finance", "operations", "marketing", "data", "international"]
INDUSTRIES = ["大模型应用", "AI Infra", "医疗AI", "企业服务", "智能制造", "自动驾驶", "金融科技", "教育", "机器人",
              "消费"]
STAGES = ["idea", "prototype", "seed", "angel", "pre-a", "series-a", "series-b-plus"]
LIMIT_SECONDS = 10.0


def make_cycle(founders: int, mentors: int, seed: int):
    """The synthetic cycle: (founders, mentors, pins, forbidden)."""
    import numpy as np

    from mentoring.matching import Founder, Mentor

    rng = np.random.default_rng(seed)

    def some(values, low, high):
        return [str(v) for v in rng.choice(values, int(rng.integers(low, high + 1)), replace=False)]

    mentor_list = [Mentor(id=j, expertise=frozenset(some(EXPERTISE, 3, 5)),
                          industries=frozenset(some(INDUSTRIES, 1, 3)), stages=frozenset(some(STAGES, 2, 4)),
                          languages=frozenset(["zh", "en"] if rng.random() < 0.6 else ["zh"]),
                          capacity=int(rng.integers(3, 9)))
                   for j in range(mentors)]
    founder_list = []
    for i in range(founders):
        prefer = frozenset(int(x) for x in rng.choice(mentors, 2, replace=False)) if rng.random() < 0.1 else frozenset()
        avoid = frozenset({int(rng.integers(mentors))} - prefer) if rng.random() < 0.05 else frozenset()
        founder_list.append(Founder(
            id=i, needs=tuple(some(EXPERTISE, 1, 3)), industry=str(rng.choice(INDUSTRIES)),
            stage=str(rng.choice(STAGES)),
            languages=frozenset(["en"] if rng.random() < 0.03 else ["zh"]), prefer=prefer, avoid=avoid,
            weight=1.5 if rng.random() < 0.1 else 1.0))
    forbidden = {(int(rng.integers(founders)), int(rng.integers(mentors))) for _ in range(founders // 10)}
    pins = []
    for f in rng.choice(founders, min(20, founders), replace=False):
        pair = (int(f), int(rng.integers(mentors)))
        if pair not in forbidden and sum(1 for _, m in pins if m == pair[1]) < mentor_list[pair[1]].capacity:
            pins.append(pair)
    return founder_list, mentor_list, pins, sorted(forbidden)


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(args) -> None:
    """One mode, in this (fresh) process: print one JSON line."""
    from mentoring import matching

    founders, mentors, pins, forbidden = make_cycle(args.founders, args.mentors, args.seed)
    started = time.perf_counter()
    scores = matching.score_matrix(founders, mentors)
    scored = time.perf_counter()
    result = matching.match(args.child, founders, mentors, per_founder=args.per_founder, pins=pins,
                            forbidden=forbidden, scores=scores)
    finished = time.perf_counter()
    problems = check(result, founders, mentors, pins, forbidden, args.per_founder)
    print(json.dumps({
        "mode": args.child, "seconds": finished - started, "score_seconds": scored - started,
        "solve_seconds": finished - scored, "peak_mb": peak_memory_mb(), "total": result.total,
        "pairs": len(result.pairs), "matched": len({f for f, _ in result.pairs}),
        "eligible_pairs": int((scores > 0).sum()), "capacity": sum(m.capacity for m in mentors), "problems": problems,
    }))


def check(result, founders, mentors, pins, forbidden, per_founder) -> list[str]:
    problems = []
    per_mentor, per_founder_count = {}, {}
    for f, m in result.pairs:
        per_mentor[m] = per_mentor.get(m, 0) + 1
        per_founder_count[f] = per_founder_count.get(f, 0) + 1
    if any(per_mentor.get(m.id, 0) > m.capacity for m in mentors):
        problems.append("mentor above capacity")
    if any(n > per_founder for n in per_founder_count.values()):
        problems.append("founder above the limit")
    if set(result.pairs) & set(forbidden):
        problems.append("forbidden pair chosen")
    if not set(pins) <= set(result.pairs):
        problems.append("pin lost")
    return problems


def run_mode(mode: str, args) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--founders", str(args.founders), "--mentors",
               str(args.mentors), "--per-founder", str(args.per_founder), "--seed", str(args.seed)]
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--founders", type=int, default=2000)
    parser.add_argument("--mentors", type=int, default=300)
    parser.add_argument("--per-founder", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", choices=["optimal", "greedy", "stable"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    rows = [run_mode(mode, args) for mode in ("optimal", "greedy", "stable")]
    first = rows[0]
    print(f"\nmentor matching: {args.founders} founders x {args.mentors} mentors, at most {args.per_founder} "
          f"mentor(s) each, {first['capacity']} places in all, {first['eligible_pairs']} eligible pairs; "
          f"{os.cpu_count()} CPUs")
    header = f"{'mode':<8} {'seconds':>8} {'scores s':>9} {'solve s':>8} {'peak MB':>8} {'total fit':>10} " \
             f"{'vs greedy':>9} {'matched':>8} {'avg fit':>8}  result"
    print(header)
    print("-" * len(header))
    greedy_total = next(r["total"] for r in rows if r["mode"] == "greedy")
    failed = False
    for r in rows:
        problems = list(r["problems"])
        if r["mode"] == "optimal" and r["total"] < greedy_total:
            problems.append("below greedy")
        if r["mode"] == "optimal" and r["seconds"] >= LIMIT_SECONDS:
            problems.append(f"slower than {LIMIT_SECONDS:.0f} s")
        failed |= bool(problems)
        share = 100 * (r["total"] - greedy_total) / greedy_total if greedy_total else 0.0
        average = r["total"] / r["pairs"] if r["pairs"] else 0.0
        print(f"{r['mode']:<8} {r['seconds']:>8.2f} {r['score_seconds']:>9.2f} {r['solve_seconds']:>8.2f} "
              f"{r['peak_mb']:>8.0f} {r['total']:>10} {share:>+8.2f}% {r['matched']:>8} {average:>8.1f}  "
              f"{'WRONG: ' + ', '.join(problems) if problems else 'ok'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
