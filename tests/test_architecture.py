"""The dependency rule (README: "Architecture"), held by import-linter's contracts in
pyproject.toml.

Each forbidden import is written into a copy of the code, and lint-imports must refuse it: a
contract that passes whatever the code does would hold nothing.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("newsroom", "articles", "comments")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "pyproject.toml"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def code_copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("code")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_code_keeps_every_contract(code_copy):
    result = lint_imports(code_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_imports_another_modules_private_name():
    """A name that starts with an underscore belongs to its module: one that others need moves
    to a public module of its own."""
    imports = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGES):
                    imports += [
                        f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                        for alias in node.names
                        if alias.name.startswith("_") and not alias.name.startswith("__")
                    ]
    assert imports == []


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("comments/models.py", "import articles.models", "comments imports nothing from articles"),
        ("newsroom/views.py", "import comments.models", "newsroom imports no app"),
        (
            "newsroom/settings.py",
            "import newsroom.ratelimit",
            "settings import nothing from the project",
        ),
        (
            "articles/views.py",
            "import comments.moderation",
            "articles uses only the public modules of comments",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(code_copy, tmp_path, module, forbidden, contract):
    tree = tmp_path / "tree"
    shutil.copytree(code_copy, tree)
    path = tree / module
    path.write_text(f"{forbidden}  # noqa\n{path.read_text()}")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
