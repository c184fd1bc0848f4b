"""The bad-input catalogue: every bad input the suite sends, its endpoint and the answer expected.

`test_catalogue.py` sends each row and checks the status and the error key; the table in
qa/README.md is `render_table()` of this list, and a test fails when the two differ. To add a row,
add it here and run `make qa-catalogue` to rewrite the README table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Placeholders filled at run time: {slug} is an article of the caller, {other_slug} someone else's.
DEEP = 10_000  # nesting depth of the "deeply nested JSON" rows: far past any sane document


@dataclass(frozen=True)
class BadInput:
    id: str
    method: str
    path: str
    what: str  # the bad input, in words, for the table
    body: object = None  # JSON to send; ignored when `raw` is set
    raw: str | bytes | None = None  # sent as-is: malformed JSON, huge or deep documents, bytes that are not UTF-8
    status: int = 422
    error_key: str | None = None  # the key expected under "errors"
    auth: bool = True  # send the caller's token
    # A proxy in front may refuse the request before the service sees it (NGINX answers a NUL byte
    # in the path with its own 400): that status, with `errors.body`, is accepted instead, but only
    # from an answer the proxy marks as its own (Proxy-Status).
    proxy_status: int | None = None
    content_type: str | None = "application/json"  # None: no Content-Type header at all
    headers: tuple[tuple[str, str], ...] = ()  # more headers (a CORS pre-flight's)

    def payload(self) -> bytes | None:
        if isinstance(self.raw, bytes):
            return self.raw
        if self.raw is not None:
            return expand_raw(self.raw).encode()
        return None if self.body is None else json.dumps(self.body).encode()


def expand_raw(raw: str) -> str:
    """Raw bodies too big to write out are named by a macro."""
    if raw == "@deep-array":
        return '{"user": ' + "[" * DEEP + "]" * DEEP + "}"
    if raw == "@deep-object":
        return '{"article": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}"
    if raw == "@oversized":
        return json.dumps({"article": {"title": "big", "description": "big", "body": "x" * (1_100_000)}})
    return raw


def _user(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "username": "catalogue_user",
        "email": "catalogue@example.com",
        "password": "long-enough-1",
    }
    base.update(fields)
    return {"user": {k: v for k, v in base.items() if v is not ...}}


def _article(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"title": "Catalogue", "description": "d", "body": "b", "tagList": ["qa"]}
    base.update(fields)
    return {"article": {k: v for k, v in base.items() if v is not ...}}


CATALOGUE: tuple[BadInput, ...] = (
    # --- register
    BadInput(
        "register-no-username",
        "POST",
        "/api/users",
        "username missing",
        _user(username=...),
        auth=False,
        error_key="username",
    ),
    BadInput("register-empty-email", "POST", "/api/users", 'email ""', _user(email=""), auth=False, error_key="email"),
    BadInput(
        "register-bad-email",
        "POST",
        "/api/users",
        'email "not-an-email"',
        _user(email="not-an-email"),
        auth=False,
        error_key="email",
    ),
    BadInput(
        "register-short-password",
        "POST",
        "/api/users",
        "password of 3 characters",
        _user(password="abc"),
        auth=False,
        error_key="password",
    ),
    BadInput(
        "register-long-username",
        "POST",
        "/api/users",
        "username of 33 characters",
        _user(username="u" * 33),
        auth=False,
        error_key="username",
    ),
    BadInput(
        "register-space-username",
        "POST",
        "/api/users",
        'username "two words"',
        _user(username="two words"),
        auth=False,
        error_key="username",
    ),
    BadInput(
        "register-sql-username",
        "POST",
        "/api/users",
        "username \"x' OR '1'='1\"",
        _user(username="x' OR '1'='1"),
        auth=False,
        error_key="username",
    ),
    BadInput(
        "register-int-username",
        "POST",
        "/api/users",
        "username is a number",
        _user(username=123),
        auth=False,
        error_key="username",
    ),
    BadInput(
        "register-unwrapped",
        "POST",
        "/api/users",
        "fields not wrapped in `user`",
        {"username": "a", "email": "a@b.c", "password": "long-enough-1"},
        auth=False,
        error_key="user",
    ),
    BadInput("register-array", "POST", "/api/users", "JSON array instead of object", [], auth=False, error_key="body"),
    BadInput(
        "register-malformed", "POST", "/api/users", "truncated JSON", raw='{"user": {', auth=False, error_key="body"
    ),
    BadInput("register-not-json", "POST", "/api/users", "plain text body", raw="hello", auth=False, error_key="body"),
    BadInput(
        "register-invalid-utf8",
        "POST",
        "/api/users",
        "bytes that are not UTF-8 (`C3 28`) inside the email string",
        raw=b'{"user": {"username": "catalogue_user", "email": "\xc3(@example.com", "password": "long-enough-1"}}',
        auth=False,
        error_key="body",
    ),
    BadInput(
        "register-bom",
        "POST",
        "/api/users",
        "a valid document after a UTF-8 byte order mark",
        raw=b"\xef\xbb\xbf" + json.dumps(_user()).encode(),
        auth=False,
        error_key="body",
    ),
    BadInput(
        "register-duplicate-key",
        "POST",
        "/api/users",
        'duplicate key: a valid `username`, then `"two words"` (the last one counts)',
        raw='{"user": {"username": "catalogue_ok", "email": "dup@example.com", "password": "long-enough-1", '
        '"username": "two words"}}',
        auth=False,
        error_key="username",
    ),
    BadInput(
        "register-lone-surrogate",
        "POST",
        "/api/users",
        "a lone surrogate escape `\\ud800` in the username",
        raw='{"user": {"username": "a\\ud800", "email": "s@example.com", "password": "long-enough-1"}}',
        auth=False,
        error_key="body",
    ),
    BadInput(
        "register-email-long-lowered",
        "POST",
        "/api/users",
        "email of 254 characters, mostly `İ`, which lower-cases to two characters",
        _user(email="a@" + "\u0130" * 252),
        auth=False,
        error_key="email",
    ),
    BadInput(
        "register-form",
        "POST",
        "/api/users",
        "a form (`application/x-www-form-urlencoded`) instead of JSON",
        raw="user[username]=a&user[email]=a%40b.c&user[password]=long-enough-1",
        auth=False,
        content_type="application/x-www-form-urlencoded",
        error_key="body",
    ),
    BadInput(
        "register-multipart",
        "POST",
        "/api/users",
        "a `multipart/form-data` body instead of JSON",
        raw='--fuzz\r\nContent-Disposition: form-data; name="user"\r\n\r\nx\r\n--fuzz--\r\n',
        auth=False,
        content_type="multipart/form-data; boundary=fuzz",
        error_key="body",
    ),
    BadInput(
        "register-text-plain",
        "POST",
        "/api/users",
        "`text/plain` body that is not JSON",
        raw="username=a",
        auth=False,
        content_type="text/plain",
        error_key="body",
    ),
    BadInput(
        "register-no-content-type",
        "POST",
        "/api/users",
        "no `Content-Type` and a body that is not JSON",
        raw="username=a",
        auth=False,
        content_type=None,
        error_key="body",
    ),
    BadInput(
        "register-deep-array",
        "POST",
        "/api/users",
        f"JSON nested {DEEP} arrays deep",
        raw="@deep-array",
        auth=False,
        error_key="body",
    ),
    # --- login
    BadInput(
        "login-no-password",
        "POST",
        "/api/users/login",
        "password missing",
        {"user": {"email": "a@b.c"}},
        auth=False,
        error_key="password",
    ),
    BadInput(
        "login-nul-email",
        "POST",
        "/api/users/login",
        "email containing NUL",
        {"user": {"email": "jake\u0000@example.com", "password": "x"}},
        auth=False,
        error_key="email",
    ),
    BadInput(
        "login-null-email",
        "POST",
        "/api/users/login",
        "email null",
        {"user": {"email": None, "password": "x"}},
        auth=False,
        error_key="email",
    ),
    # --- update user
    BadInput("update-user-empty", "PUT", "/api/user", "no field to change", {"user": {}}, error_key="user"),
    BadInput("update-user-bad-email", "PUT", "/api/user", 'email "x"', {"user": {"email": "x"}}, error_key="email"),
    BadInput(
        "update-user-nul-bio", "PUT", "/api/user", "bio containing NUL", {"user": {"bio": "a\u0000b"}}, error_key="bio"
    ),
    # --- articles
    BadInput("article-blank-title", "POST", "/api/articles", 'title "   "', _article(title="   "), error_key="title"),
    BadInput(
        "article-nul-title",
        "POST",
        "/api/articles",
        "title containing NUL",
        _article(title="a\u0000b"),
        error_key="title",
    ),
    BadInput("article-no-body", "POST", "/api/articles", "body missing", _article(body=...), error_key="body"),
    BadInput(
        "article-empty-description",
        "POST",
        "/api/articles",
        'description ""',
        _article(description=""),
        error_key="description",
    ),
    BadInput(
        "article-long-title",
        "POST",
        "/api/articles",
        "title of 201 characters",
        _article(title="t" * 201),
        error_key="title",
    ),
    BadInput(
        "article-taglist-string",
        "POST",
        "/api/articles",
        'tagList "dragons" (not an array)',
        _article(tagList="dragons"),
        error_key="tagList",
    ),
    BadInput("article-empty-tag", "POST", "/api/articles", 'tagList [""]', _article(tagList=[""]), error_key="tagList"),
    BadInput(
        "article-control-tag",
        "POST",
        "/api/articles",
        "tag with a BEL control character",
        _article(tagList=["a\u0007b"]),
        error_key="tagList",
    ),
    BadInput(
        "article-eleven-tags",
        "POST",
        "/api/articles",
        "11 tags",
        _article(tagList=[f"t{i}" for i in range(11)]),
        error_key="tagList",
    ),
    BadInput("article-int-tag", "POST", "/api/articles", "tagList [1]", _article(tagList=[1]), error_key="tagList"),
    BadInput(
        "article-invalid-utf8",
        "POST",
        "/api/articles",
        "bytes that are not UTF-8 (`FF`) inside the title string",
        raw=b'{"article": {"title": "\xff", "description": "d", "body": "b"}}',
        error_key="body",
    ),
    BadInput(
        "article-lone-surrogate",
        "POST",
        "/api/articles",
        "a lone surrogate escape `\\udc00` in the title",
        raw='{"article": {"title": "\\udc00", "description": "d", "body": "b"}}',
        error_key="body",
    ),
    BadInput(
        "article-deep-object",
        "POST",
        "/api/articles",
        f"JSON nested {DEEP} objects deep",
        raw="@deep-object",
        error_key="body",
    ),
    BadInput(
        "article-oversized",
        "POST",
        "/api/articles",
        "body of 1.1 MB (over MAX_BODY_BYTES)",
        raw="@oversized",
        status=413,
    ),
    BadInput(
        "update-article-empty",
        "PUT",
        "/api/articles/{slug}",
        "no field to change",
        {"article": {}},
        error_key="article",
    ),
    BadInput(
        "update-article-blank-body",
        "PUT",
        "/api/articles/{slug}",
        'body "\\n\\t"',
        {"article": {"body": "\n\t"}},
        error_key="body",
    ),
    # --- comments
    BadInput(
        "comment-empty", "POST", "/api/articles/{slug}/comments", 'body ""', {"comment": {"body": ""}}, error_key="body"
    ),
    BadInput(
        "comment-missing", "POST", "/api/articles/{slug}/comments", "no `comment` object", {}, error_key="comment"
    ),
    BadInput(
        "comment-long",
        "POST",
        "/api/articles/{slug}/comments",
        "body of 10001 characters",
        {"comment": {"body": "c" * 10_001}},
        error_key="body",
    ),
    BadInput(
        "comment-id-text",
        "DELETE",
        "/api/articles/{slug}/comments/abc",
        "comment id `abc`",
        status=404,
        error_key="body",
    ),
    BadInput(
        "comment-id-zero",
        "DELETE",
        "/api/articles/{slug}/comments/0",
        "comment id 0",
        error_key="comment_id",
    ),
    BadInput(
        "comment-id-int32-overflow",
        "DELETE",
        "/api/articles/{slug}/comments/2147483648",
        "comment id 2^31 (past the 32-bit ids)",
        error_key="comment_id",
    ),
    BadInput(
        "comment-id-huge",
        "DELETE",
        "/api/articles/{slug}/comments/99999999999999999999",
        "comment id of 20 digits",
        error_key="comment_id",
    ),
    BadInput(
        "comment-id-negative",
        "DELETE",
        "/api/articles/{slug}/comments/-1",
        "comment id -1",
        error_key="comment_id",
    ),
    # --- query parameters
    BadInput("list-limit-zero", "GET", "/api/articles?limit=0", "limit=0", auth=False, error_key="limit"),
    BadInput("list-limit-negative", "GET", "/api/articles?limit=-1", "limit=-1", auth=False, error_key="limit"),
    BadInput("list-limit-text", "GET", "/api/articles?limit=abc", "limit=abc", auth=False, error_key="limit"),
    BadInput("list-limit-huge", "GET", "/api/articles?limit=1000000", "limit=1000000", auth=False, error_key="limit"),
    BadInput("list-offset-negative", "GET", "/api/articles?offset=-5", "offset=-5", auth=False, error_key="offset"),
    BadInput("list-tag-nul", "GET", "/api/articles?tag=a%00b", "tag containing NUL", auth=False, error_key="tag"),
    BadInput(
        "list-author-nul", "GET", "/api/articles?author=%00", "author containing NUL", auth=False, error_key="author"
    ),
    # --- path parameters: NUL can be in no slug or username (and PostgreSQL refuses it in text);
    # NGINX refuses %00 in a path with 400 itself, whatever the route
    BadInput(
        "article-slug-nul",
        "GET",
        "/api/articles/a%00b",
        "slug containing NUL",
        auth=False,
        status=404,
        error_key="slug",
        proxy_status=400,
    ),
    BadInput(
        "update-slug-nul",
        "PUT",
        "/api/articles/a%00b",
        "slug containing NUL",
        {"article": {"body": "x"}},
        status=404,
        error_key="slug",
        proxy_status=400,
    ),
    BadInput(
        "comments-slug-nul",
        "GET",
        "/api/articles/a%00b/comments",
        "slug containing NUL",
        auth=False,
        status=404,
        error_key="slug",
        proxy_status=400,
    ),
    BadInput(
        "profile-nul",
        "GET",
        "/api/profiles/a%00b",
        "username containing NUL",
        auth=False,
        status=404,
        error_key="username",
        proxy_status=400,
    ),
    BadInput(
        "follow-nul",
        "POST",
        "/api/profiles/a%00b/follow",
        "username containing NUL",
        status=404,
        error_key="username",
        proxy_status=400,
    ),
    BadInput(
        "article-slug-invalid-utf8",
        "GET",
        "/api/articles/%C3%28",
        "slug whose percent-escapes are not UTF-8",
        auth=False,
        status=404,
        error_key="article",
    ),
    BadInput("feed-limit-text", "GET", "/api/articles/feed?limit=ten", "limit=ten", error_key="limit"),
    BadInput(
        "feed-offset-huge",
        "GET",
        "/api/articles/feed?offset=99999999999999999999",
        "offset of 20 digits",
        error_key="offset",
    ),
    # --- CORS: a pre-flight asking for what the API does not allow
    BadInput(
        "preflight-method",
        "OPTIONS",
        "/api/articles",
        "pre-flight asking for `PATCH`",
        auth=False,
        content_type=None,
        headers=(("Origin", "https://example.com"), ("Access-Control-Request-Method", "PATCH")),
        status=400,
        error_key="cors",
    ),
)


# Credentials tried on every token-protected operation (test_errors.py); each must give 401.
BAD_CREDENTIALS: dict[str, str] = {
    "no header": "no `Authorization` header",
    "empty": "`Authorization:` with an empty value",
    "scheme only": "`Token` with no token",
    "malformed token": "`Token not-a-jwt`",
    "wrong scheme": "`Basic <valid jwt>`",
    "token without scheme": "`<valid jwt>` with no scheme",
    "bad signature": "the caller's claims signed with another key",
    "alg none": "the caller's claims with `alg: none` and no signature",
    "expired": "signed with the server key, `exp` an hour ago (needs QA_SECRET_KEY)",
    "unknown user": "signed with the server key, `sub` of no user (needs QA_SECRET_KEY)",
    "subject out of range": "signed with the server key, `sub` of 2^64, past any id (needs QA_SECRET_KEY)",
    "subject not a string": "signed with the server key, `sub` the number 1 instead of a string (needs QA_SECRET_KEY)",
}

# Hostile text tried in title, description, body, comment, bio and tag (test_security.py): each
# must come back verbatim or be refused with 422, and leave the database answering.
HOSTILE_TEXT: dict[str, str] = {
    "sql quote": "Robert'); DROP TABLE articles;--",
    "sql or": "' OR '1'='1",
    "sql comment": 'x" /* */ UNION SELECT password FROM users --',
    "html": "<script>alert(1)</script>",
    "unicode": "Zoë, Łódź, 東京, مرحبا, עברית",
    "emoji": "dragons 🐉 and 👩‍👩‍👧 families",
    "control chars": "tab\tnew\nline\rbell\u0007esc\u001b",
    "zero width": "a\u200bb\ufeffc",
    "percent": "100% _wild_ %s %d {0}",
    "long line": "é" * 150,
}


def _cell(text: str) -> str:
    """Readable in Markdown: JSON escapes for invisible characters, long runs shortened."""
    shown = json.dumps(text, ensure_ascii=False)[1:-1].replace("\u200b", "\\u200b").replace("\ufeff", "\\ufeff")
    if len(text) > 60:
        shown = f"{shown[:10]}... ({len(text)} characters)"
    return shown.replace("|", "\\|").replace("`", "\\`")


def render_table() -> str:
    """The Markdown table in qa/README.md, between its catalogue markers."""
    lines = ["| id | endpoint | bad input | expected |", "|---|---|---|---|"]
    for row in CATALOGUE:
        expected = f"{row.status}" + (f" `errors.{row.error_key}`" if row.error_key else "")
        if row.proxy_status:
            expected += f", or {row.proxy_status} `errors.body` from a proxy"
        what = row.what.replace("|", "\\|")
        lines.append(f"| `{row.id}` | `{row.method} {row.path}` | {what} | {expected} |")
    lines += ["", "Credentials sent to each of the 12 token-protected operations, all expected to give 401:", ""]
    lines += ["| case | credential | expected |", "|---|---|---|"]
    lines += [f"| {name} | {what} | 401 `errors` |" for name, what in BAD_CREDENTIALS.items()]
    lines += ["", "Text sent in title, description, body, comment, bio and tag (and as list filters):", ""]
    lines += ["| case | text (JSON-escaped) | expected |", "|---|---|---|"]
    lines += [
        f"| {name} | `{_cell(text)}` | stored and returned verbatim, or 422 on that field |"
        for name, text in HOSTILE_TEXT.items()
    ]
    return "\n".join(lines)
