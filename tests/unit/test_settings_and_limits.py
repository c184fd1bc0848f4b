"""Settings parsing and checks, and error-message shaping."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from service.errors import _describe
from service.ops.http_limits import ServerLimits
from service.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, parse_environment


@dataclass(frozen=True, slots=True)
class EveryType:
    """One field of each type a setting may have, so the parser is tested for types Settings lacks."""

    text: str = "default"
    count: int = 1
    ratio: float = 0.5
    enabled: bool = False
    names: tuple[str, ...] = ()
    limit: float | None = None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, EveryType()),
        ({"TEXT": "  spaced  "}, EveryType(text="spaced")),
        ({"COUNT": "42"}, EveryType(count=42)),
        ({"RATIO": "2.5"}, EveryType(ratio=2.5)),
        ({"RATIO": "3"}, EveryType(ratio=3.0)),
        ({"ENABLED": "true"}, EveryType(enabled=True)),
        ({"ENABLED": "On"}, EveryType(enabled=True)),
        ({"ENABLED": "1"}, EveryType(enabled=True)),
        ({"ENABLED": "no"}, EveryType(enabled=False)),
        ({"NAMES": "a, b,,c "}, EveryType(names=("a", "b", "c"))),
        ({"LIMIT": "7.5"}, EveryType(limit=7.5)),
        ({"LIMIT": ""}, EveryType(limit=None)),  # empty keeps the default
    ],
)
def test_each_field_type_is_read_from_its_string(environ: dict[str, str], expected: EveryType) -> None:
    assert parse_environment(EveryType, environ) == expected


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"COUNT": "1.5"}, "COUNT"),
        ({"RATIO": "half"}, "RATIO"),
        ({"ENABLED": "maybe"}, "ENABLED"),
        ({"LIMIT": "x"}, "LIMIT"),
    ],
)
def test_a_value_of_the_wrong_type_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        parse_environment(EveryType, environ)


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({}, env_file=None)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert not settings.is_production


def test_environment_overrides_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MAX_PAGE_SIZE=50\nLOG_LEVEL=DEBUG\nCORS_ALLOW_ORIGINS=https://a.example, https://b.example\n")
    settings = Settings.from_env({"LOG_LEVEL": "WARNING", "METRICS_ENABLED": "off"}, env_file=env_file)
    assert settings.max_page_size == 50
    assert settings.log_level == "WARNING"
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")
    assert settings.metrics_enabled is False


@pytest.mark.parametrize(
    "environ",
    [
        {"MAX_PAGE_SIZE": "many"},
        {"METRICS_ENABLED": "maybe"},
        {"ENVIRONMENT": "staging"},
        {"ENVIRONMENT": "production"},
        {"LOG_FORMAT": "xml"},
        {"JWT_EXPIRES_SECONDS": "0"},
        {"ARGON2_MEMORY_KIB": "4"},
        {"SERVER_MAX_HEADERS": "0"},
        {"SERVER_MAX_HEADER_BYTES": "4096"},  # below SERVER_MAX_REQUEST_LINE_BYTES (8192)
        {"SERVER_HEADER_TIMEOUT_SECONDS": "0"},
        {"SERVER_BODY_TIMEOUT_SECONDS": "nan"},
    ],
)
def test_invalid_or_unsafe_settings_are_refused_with_the_variable_named(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(environ, env_file=None)
    assert any(name in str(error.value) for name in (*environ, "SECRET_KEY"))


def test_server_limits_come_from_the_environment() -> None:
    environ = {"SERVER_MAX_HEADER_BYTES": "65536", "SERVER_HEADER_TIMEOUT_SECONDS": "2.5"}
    limits = ServerLimits.from_settings(Settings.from_env(environ, env_file=None))
    assert limits == ServerLimits(max_header_bytes=65536, header_timeout_seconds=2.5)
    assert ServerLimits.from_settings(Settings()) == ServerLimits()  # one set of defaults, close to NGINX's


def test_production_accepts_a_long_random_secret() -> None:
    settings = Settings.from_env({"ENVIRONMENT": "production", "SECRET_KEY": "s" * 40}, env_file=None)
    assert settings.is_production


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"key": "user.email", "message": "Expected `str`, got `int`"}, ("email", "expected `str`, got `int`")),
        ({"key": "user", "message": "Object missing required field `email`"}, ("email", "can't be blank")),
        ({"key": "article.tagList[3]", "message": "Expected `str` of length >= 1"}, ("tagList", "can't be blank")),
        ({"key": "data", "message": "'data'"}, ("body", "is missing or is not the expected JSON object")),
        ({"message": "odd"}, ("body", "odd")),
        ("plain", ("body", "plain")),
    ],
)
def test_validation_messages_are_keyed_by_field(item: object, expected: tuple[str, str]) -> None:
    assert _describe(item) == expected
