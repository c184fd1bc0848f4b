"""`make seed`: a small, friendly demo data set, written through the services so every rule applies."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select

from service.articles.schemas import NewArticle
from service.articles.service import ArticleService
from service.comments.schemas import NewComment
from service.comments.service import CommentService
from service.db import create_sessionmaker
from service.dialects import create_engine
from service.models import User
from service.profiles.service import ProfileService
from service.settings import Settings
from service.users.schemas import NewUser
from service.users.security import create_password_hasher
from service.users.service import UserService

log = structlog.get_logger("service.cli.demo_data")
DEMO_PASSWORD = "conduit-demo"  # noqa: S105 - documented demo credential, not a secret


@dataclass(frozen=True)
class DemoArticle:
    author: str
    title: str
    description: str
    body: str
    tags: tuple[str, ...]
    comments: tuple[tuple[str, str], ...] = ()
    favorited_by: tuple[str, ...] = ()


DEMO_USERS = ("ada", "linus", "grace")
DEMO_FOLLOWS = (("linus", "ada"), ("grace", "ada"), ("ada", "grace"))
DEMO_ARTICLES = (
    DemoArticle(
        "ada",
        "Welcome to Conduit",
        "What this demo data is for",
        "Log in as ada@example.com, linus@example.com or grace@example.com with the password "
        f"`{DEMO_PASSWORD}` and try the feed, favorites and comments.",
        ("welcome", "conduit"),
        comments=(("linus", "Thanks, the feed works!"), ("grace", "Following you now.")),
        favorited_by=("linus", "grace"),
    ),
    DemoArticle(
        "grace",
        "One transaction per request",
        "Why every write either lands whole or not at all",
        "The session opens when the request arrives and commits before the response is sent.",
        ("databases", "python"),
        comments=(("ada", "And a failed commit is a 4xx, never a silent success."),),
        favorited_by=("ada",),
    ),
    DemoArticle(
        "linus",
        "Reading a load-test report",
        "p95, p99 and the error ratio",
        "Start with the error ratio, then the tail latencies, then throughput.",
        ("performance", "python"),
    ),
)


async def seed_demo(settings: Settings) -> None:
    """Create the demo users, follows, articles, comments and favorites; a second run changes nothing."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            if await session.scalar(select(User.id).where(User.username == DEMO_USERS[0])):
                log.info("seed_skipped", reason="demo users already exist")
                return
            users_service = UserService(session, settings, create_password_hasher(settings))
            users = {
                name: await users_service.register(NewUser(name, f"{name}@example.com", DEMO_PASSWORD))
                for name in DEMO_USERS
            }
            for follower, followee in DEMO_FOLLOWS:
                await ProfileService(session).follow(users[follower], followee)
            articles, comments = ArticleService(session, settings.max_page_size), CommentService(session)
            for demo in DEMO_ARTICLES:
                new = NewArticle(demo.title, demo.description, demo.body, list(demo.tags))
                article = await articles.create(users[demo.author], new)
                for commenter, text in demo.comments:
                    await comments.add(users[commenter], article.slug, NewComment(text))
                for fan in demo.favorited_by:
                    await articles.favorite(users[fan], article.slug)
            log.info("seed_done", users=len(DEMO_USERS), articles=len(DEMO_ARTICLES))
    finally:
        await engine.dispose()
