"""bench-compare: seeding through the API and the read-back check against a real local app, the
check catching a target that lost or altered data, and the table's ratios (pure)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.processes import AppProcess, free_port
from loadtests.bench import compare, readback, seeding
from loadtests.bench.__main__ import Endpoint, Result
from loadtests.bench.compare_table import ComparedTarget, ratios, render_markdown, render_text
from loadtests.bench.dataset import DataSet, SeedSize
from service.cli import migrate

SIZE = SeedSize(users=4, articles_per_user=3, follows_per_user=2, favorites_per_user=2, comments_per_user=1)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a fresh SQLite database; fast Argon2, since every seeded user signs up."""
    workdir = tmp_path_factory.mktemp("bench-compare")
    database_url = f"sqlite+aiosqlite:///{workdir / 'conduit.db'}"
    env = {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": "bench-compare-test-secret-key-long-enough-0123",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "64",
        "LOG_LEVEL": "WARNING",
    }
    server = AppProcess(env, workdir / "server.log", workdir=workdir)
    try:
        migrate(database_url)  # while the server starts: only the first seeding request needs the tables
        server.wait_ready()
        yield f"{server.base_url}/api"
    finally:
        server.stop()


def _seed_and_check(api: str, run_id: str) -> tuple[seeding.Seeded, list[str]]:
    seeded = asyncio.run(seeding.seed(api, DataSet(run_id, SIZE)))
    return seeded, asyncio.run(readback.check(api, seeded))


def test_one_target_seeded_twice_passes_both_checks(api: str) -> None:
    first, first_problems = _seed_and_check(api, "run1")
    second, second_problems = _seed_and_check(api, "run2")
    assert first_problems == []
    assert second_problems == []
    assert len(second.slugs) == 12
    assert set(second.slugs.values()).isdisjoint(first.slugs.values())
    assert asyncio.run(readback.check(api, first)) == [], "the second run must not disturb the first's check"


def test_the_check_catches_a_target_that_lost_or_altered_data(api: str) -> None:
    seeded, problems = _seed_and_check(api, "lying")
    assert problems == []
    dataset, slugs, tokens = seeded.dataset, seeded.slugs, seeded.tokens
    author = {"Authorization": f"Token {tokens[3]}"}  # user 0 neither follows nor favorites 3
    follower = {"Authorization": f"Token {tokens[0]}"}
    with httpx.Client(base_url=api) as client:
        # Each change below is seen by a different part of the check.
        assert client.delete(f"/articles/{slugs[(3, 2)]}", headers=author).status_code in (200, 204)
        edit = {"article": {"body": "not what was seeded"}}
        assert client.put(f"/articles/{slugs[(3, 1)]}", json=edit, headers=author).is_success
        unfollowed = dataset.username(dataset.followed_by(0)[1])
        assert client.delete(f"/profiles/{unfollowed}/follow", headers=follower).is_success
        favorite = slugs[dataset.favorited_by(0)[0]]
        assert client.delete(f"/articles/{favorite}/favorite", headers=follower).is_success
    found = "\n".join(asyncio.run(readback.check(api, seeded)))
    assert f"GET /articles/{slugs[(3, 2)]}: 404" in found
    assert f"GET /articles?author={dataset.username(3)}: articlesCount 2, expected 3" in found
    assert f"GET /articles/{slugs[(3, 1)]}: body is 'not what was seeded'" in found
    assert "GET /articles/feed: articlesCount 3, expected 6" in found
    assert f"GET /articles/{favorite}: favoritesCount is 0, expected 1" in found
    assert f"GET /articles?favorited={dataset.username(0)}: missing {favorite}" in found


def test_a_target_that_refuses_the_seeding_is_left_out() -> None:
    target = compare.Target("nothing", f"http://127.0.0.1:{free_port()}/api")  # nothing listens there
    seeded, problems = compare.prepare(target, DataSet("none", SIZE), concurrency=4)
    assert seeded is None
    assert len(problems) == 1
    assert problems[0].startswith("seeding failed: POST /users")


def test_main_seeds_checks_and_reports_two_targets_on_one_database(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two names for one server (one database): each target gets its own run id, so both seed."""
    measured: list[str] = []

    def fake_wrk(endpoint: Endpoint, token: str | None, *_: object) -> Result:
        measured.append(endpoint.url)
        return Result(endpoint.name, 100.0 * len(measured), 1.0, 2.0, 0)

    monkeypatch.setattr(compare, "run_wrk", fake_wrk)
    monkeypatch.setattr(compare, "REPORTS", tmp_path)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    sizes = ["--users", "3", "--articles", "2", "--follows", "1", "--favorites", "1", "--comments", "1"]
    assert compare.main([f"a={api}", f"b={api}/", *sizes, "--run-id", "main"]) == 0
    out = capsys.readouterr().out
    assert "a: data checked" in out
    assert "b: data checked" in out
    assert len(measured) == 10
    assert all(url.startswith(api) for url in measured)
    report = json.loads(next(tmp_path.glob("*-main.json")).read_text())
    assert [t["name"] for t in report["targets"]] == ["a", "b"]
    assert report["targets"][1]["results"][0]["ratio"] == pytest.approx(2.0)  # interleaved: b 200 req/s, a 100


def _results(*rps: float) -> list[Result]:
    names = ("list", "feed")
    return [Result(name, value, 1.5, 9.0, 0) for name, value in zip(names, rps, strict=True)]


def test_ratios_are_to_the_first_measured_target_and_left_out_targets_get_no_column() -> None:
    compared = [
        ComparedTarget("broken", "http://127.0.0.1:1/api", ["GET /articles/x: 404"], []),
        ComparedTarget("base", "http://127.0.0.1:2/api", [], _results(1000.0, 0.0)),
        ComparedTarget("new", "http://127.0.0.1:3/api", [], _results(1500.0, 50.0)),
    ]
    assert ratios(compared) == {"base": [1.0, None], "new": [1.5, None]}
    text = render_text(compared)
    assert "broken" not in text.splitlines()[0]
    assert "left out: broken (http://127.0.0.1:1/api): 1 problem(s), first: GET /articles/x: 404" in text
    list_row = next(line for line in text.splitlines() if line.startswith("list "))
    assert list_row.split("|")[1].split() == ["1000", "1.5", "9.0", "0", "1.00"]
    assert list_row.split("|")[2].split() == ["1500", "1.5", "9.0", "0", "1.50"]
    markdown = render_markdown(compared)
    assert "| list | 1000 | 1.5 | 9.0 | 0 | 1.00 | 1500 | 1.5 | 9.0 | 0 | 1.50 |" in markdown
    assert "| feed | 0 | 1.5 | 9.0 | 0 | - | 50 | 1.5 | 9.0 | 0 | - |" in markdown


def test_only_loopback_targets_unless_allowed() -> None:
    assert compare.is_loopback("http://127.0.0.1:8000/api")
    assert not compare.is_loopback("http://localhost:8000/api")  # a name could resolve anywhere
    assert not compare.is_loopback("http://10.0.0.8:8000/api")
    with pytest.raises(SystemExit):
        compare.main(["a=http://10.0.0.8:8000/api"])
