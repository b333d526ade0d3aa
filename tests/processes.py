"""Running Django in a fresh process, for what only start-up shows (settings, a second worker)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The project's own settings in this process's environment; the child gets only those given.
OWN_SETTINGS = (
    "DJANGO_", "DATABASE_", "REDIS_", "COUNTERS_", "COMMENT", "ADMIN_LOGIN_", "ARTICLE_PAGE_",
    "TRUSTED_PROXY_",
)


def django_process(
    env: dict[str, str], code: str, *, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run `code` after `django.setup()` with newsroom's settings and `env` as their source."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    full.update(env, DJANGO_SETTINGS_MODULE="newsroom.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + textwrap.dedent(code)],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=timeout,
    )
