"""What a serving worker holds in memory: only what it serves with.

`python -m service.cli serve` with one worker serves in the process that parsed the command line,
so whatever service.cli and the app import stays resident for the worker's life. Alembic (with
Mako and Pygments' lexers) is only for `migrate`, and Swagger UI's package only pulls in Jinja2
for templates the service never renders (it serves the package's static files): together they
were ~7 MiB of the worker's RSS (docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

# In a fresh interpreter: the test process has imported everything already.
_SERVE_IMPORTS = textwrap.dedent(
    """
    import json, sys
    import service.cli  # what `python -m service.cli serve` imports before uvicorn starts the app
    from service.app import create_app
    from service.settings import Settings

    create_app(Settings(database_url=sys.argv[1], docs_enabled=True))
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
    """
)
_ONLY_FOR_OTHER_COMMANDS = {"alembic", "mako", "jinja2", "swagger_ui"}


def test_a_serving_worker_does_not_import_the_migration_tools_or_templates(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"  # create_app does not connect
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_IMPORTS, url], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "litestar" in loaded, "the probe did not build the app"
    assert not loaded & _ONLY_FOR_OTHER_COMMANDS, (
        f"a serving worker imports {sorted(loaded & _ONLY_FOR_OTHER_COMMANDS)}"
    )


def test_the_docs_still_serve_swagger_ui_assets() -> None:
    from service.openapi import swagger_assets_dir

    assert (swagger_assets_dir() / "swagger-ui-bundle.js").is_file()
