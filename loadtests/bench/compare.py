"""`make bench-compare`: the same data and the same wrk load on several RealWorld back-ends, one table.

For each target in order: seed it through its own API with one deterministic data set (dataset.py,
seeding.py; the names carry the run id and the target's position, the rest is identical), then
read the data back (readback.py). A target that fails either step is reported with the reason and
left out: its figures would mean nothing. Then wrk runs each endpoint against each remaining target
in turn (run_wrk of `make bench`, wrk pinned to one CPU) and one side-by-side table is printed:
requests/s, p50, p99, errors, and requests/s relative to the first target. The table is also
written to reports/bench-compare/<UTC time>-<run id>.{md,json}.

    python -m loadtests.bench.compare a=http://127.0.0.1:8001/api b=http://127.0.0.1:8002/api
        [--users 20 --articles 50 --follows 3 --favorites 5 --comments 2] [--run-id ID]
        [--duration 5] [--connections 32] [--wrk-cpus 1] [--concurrency 8] [--allow-remote]

Only loopback targets unless --allow-remote. Exit code 0 when every target passed its check and
answered every request without an error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from loadtests.bench import readback, seeding
from loadtests.bench.__main__ import Endpoint, Result, run_wrk
from loadtests.bench.compare_table import ComparedTarget, ratios, render_markdown, render_text
from loadtests.bench.dataset import DataSet, SeedSize, new_run_id
from loadtests.run import ROOT

WARMUP_S = 2  # pools, caches, the first compilation of each statement

REPORTS = ROOT / "reports" / "bench-compare"
DEFAULT_SIZE = SeedSize()
PROBLEMS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    api: str  # the API base URL, e.g. http://127.0.0.1:8000/api


def parse_target(text: str) -> Target:
    name, separator, api = text.partition("=")
    if not separator or not name or urlsplit(api).scheme not in ("http", "https") or not urlsplit(api).hostname:
        raise argparse.ArgumentTypeError(f"expected name=http://host:port/api, got {text!r}")
    return Target(name, api.rstrip("/"))


def is_loopback(api: str) -> bool:
    """Only loopback address literals: a name could resolve anywhere."""
    try:
        return ipaddress.ip_address(urlsplit(api).hostname or "").is_loopback
    except ValueError:
        return False


def endpoints(target: Target, seeded: seeding.Seeded) -> list[tuple[str, str, str | None]]:
    """(name, URL, token): the same requests on every target, on the articles this run seeded."""
    size = seeded.dataset.size
    token = seeded.tokens[0]  # user 0 follows `follows` authors: a feed of follows x articles
    slug = seeded.slugs[(size.users // 2, size.articles_per_user // 2)]
    return [
        ("article list, anonymous, 20", f"{target.api}/articles?limit=20", None),
        ("article list, with a token, 20", f"{target.api}/articles?limit=20", token),
        ("feed, 20", f"{target.api}/articles/feed?limit=20", token),
        ("single article", f"{target.api}/articles/{slug}", None),
        ("tags", f"{target.api}/tags", None),
    ]


def prepare(target: Target, dataset: DataSet, concurrency: int) -> tuple[seeding.Seeded | None, list[str]]:
    """Seed the target and read the data back: (what it answered, the mismatches or refusal)."""
    try:
        seeded = asyncio.run(seeding.seed(target.api, dataset, concurrency))
    except seeding.ApiError as exc:
        return None, [f"seeding failed: {exc}"]
    return seeded, asyncio.run(readback.check(target.api, seeded, concurrency))


def bench(
    targets: Sequence[tuple[Target, seeding.Seeded]], wrk_cpus: str, duration: int, connections: int
) -> dict[str, list[Result]]:
    """Each target's results, endpoint by endpoint in `endpoints` order.

    Endpoint by endpoint, each target in turn: a change in the machine's background load during the
    run then touches one endpoint's figures on every target, rather than all of one target's.
    """
    # run_wrk also measures a server process's CPU time; a target here may be any process, on any
    # server, so it gets this process to measure and that figure stays out of the table.
    this_process = psutil.Process()
    plans = {target.name: endpoints(target, seeded) for target, seeded in targets}
    results: dict[str, list[Result]] = {name: [] for name in plans}
    for row in range(len(next(iter(plans.values()), []))):
        for name, plan in plans.items():
            endpoint, url, token = plan[row]
            print(f"wrk {name}: {endpoint}")
            target = Endpoint(endpoint, url, with_token=token is not None)
            timing = (WARMUP_S, duration)
            results[name].append(run_wrk(target, token, wrk_cpus, timing, connections, this_process))
    return results


def _target_report(target: ComparedTarget, target_ratios: list[float | None]) -> dict[str, object]:
    results = [
        # No cpu_ms: run_wrk measured this process, not the target's (see bench).
        {"endpoint": r.name, "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors, "ratio": ratio}
        for r, ratio in zip(target.results, target_ratios or [None] * len(target.results), strict=True)
    ]
    return {"name": target.name, "api": target.api, "problems": target.problems, "results": results}


def write_reports(compared: list[ComparedTarget], header: str, settings: dict[str, object]) -> Path:
    """reports/bench-compare/<UTC time>-<run id>.md and .json; returns the path without its suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = REPORTS / f"{stamp}-{settings['run_id']}"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".md").write_text(f"# bench-compare {stamp}\n\n{header}\n\n{render_markdown(compared)}\n")
    by_target = ratios(compared)
    report = {**settings, "targets": [_target_report(c, by_target.get(c.name, [])) for c in compared]}
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return base


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", type=parse_target, metavar="NAME=URL", help="API base URLs, in order")
    parser.add_argument("--users", type=int, default=DEFAULT_SIZE.users)
    parser.add_argument("--articles", type=int, default=DEFAULT_SIZE.articles_per_user, help="per user")
    parser.add_argument("--follows", type=int, default=DEFAULT_SIZE.follows_per_user, help="per user")
    parser.add_argument("--favorites", type=int, default=DEFAULT_SIZE.favorites_per_user, help="per user")
    parser.add_argument("--comments", type=int, default=DEFAULT_SIZE.comments_per_user, help="per user")
    parser.add_argument("--run-id", default=new_run_id(), help="in every seeded name, then the target's position")
    parser.add_argument("--concurrency", type=int, default=8, help="seeding and checking requests in flight")
    warmup = f"after a {WARMUP_S} s warm-up"
    parser.add_argument("--duration", type=int, default=5, help=f"seconds of wrk per endpoint ({warmup})")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-cpus", default="1" if (os.cpu_count() or 1) >= 2 else "0", help="taskset CPU list")
    parser.add_argument("--allow-remote", action="store_true", help="accept targets that are not on loopback")
    args = parser.parse_args(argv)
    names = [target.name for target in args.targets]
    if len(set(names)) != len(names):
        parser.error(f"target names must differ: {names}")
    remote = [target.api for target in args.targets if not is_loopback(target.api)]
    if remote and not args.allow_remote:
        parser.error(f"not a loopback address: {', '.join(remote)} (pass --allow-remote to load another host)")
    if not re.fullmatch(r"[a-z0-9]{1,10}", args.run_id):
        parser.error("--run-id takes 1 to 10 characters a-z, 0-9 (it goes into usernames)")
    try:
        args.size = SeedSize(args.users, args.articles, args.follows, args.favorites, args.comments)
    except ValueError as exc:
        parser.error(str(exc))
    for tool, package in (("wrk", "wrk"), ("taskset", "util-linux")):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is missing (Debian: apt-get install -y {package})")
    return args


def _print_problems(target: Target, problems: list[str]) -> None:
    for problem in problems[:PROBLEMS_SHOWN]:
        print(f"  {target.name}: {problem}")
    if len(problems) > PROBLEMS_SHOWN:
        print(f"  {target.name}: ... and {len(problems) - PROBLEMS_SHOWN} more")


def dataset_for(run_id: str, position: int, size: SeedSize) -> DataSet:
    """The run's data set with the target's position in the run id: two targets that share one
    database (two versions of one service, say) would otherwise refuse the second sign-ups."""
    return DataSet(f"{run_id}{position}", size)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    prepared = []
    for position, target in enumerate(args.targets):  # every check first: a failure shows before minutes of wrk
        dataset = dataset_for(args.run_id, position, args.size)
        print(f"{target.name}: seeding {target.api} (run id {dataset.run_id}), then reading it back")
        seeded, problems = prepare(target, dataset, args.concurrency)
        print(f"{target.name}: {'FAILED the check' if problems else 'data checked'}")
        _print_problems(target, problems)
        prepared.append((target, seeded, problems))
    passed = [(target, seeded) for target, seeded, problems in prepared if seeded is not None and not problems]
    results = bench(passed, args.wrk_cpus, args.duration, args.connections)
    compared = [ComparedTarget(t.name, t.api, problems, results.get(t.name, [])) for t, _, problems in prepared]
    size = args.size
    header = (
        f"run id {args.run_id}: {size.users} users x {size.articles_per_user} articles; "
        f"wrk {args.duration} s per endpoint, {args.connections} connections, on CPU {args.wrk_cpus}"
    )
    print(f"\n{header}\n{render_text(compared)}")
    settings = {"run_id": args.run_id, "size": dataclasses.asdict(size), "duration_s": args.duration}
    base = write_reports(compared, header, {**settings, "connections": args.connections})
    print(f"reports: {base}.md, {base}.json")
    clean = all(not c.problems and all(r.errors == 0 for r in c.results) for c in compared)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
