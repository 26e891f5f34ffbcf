"""The layers hold: the worker process loads no router, and handlers and screens leave the
session to services. (Which package may import which is import-linter's, in the README's test
command: pyproject.toml, [tool.importlinter].)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a handler may do with the session it is given: pass it on, and nothing else.
STORAGE_CALLS = {
    "get",
    "add",
    "add_all",
    "execute",
    "scalar",
    "scalars",
    "delete",
    "flush",
    "merge",
}


def test_the_worker_process_imports_no_router():
    probe = (
        "import sys, bot.worker_process\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'handlers'"
        " or m in {'bot.app', 'bot.runner'}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


def storage_calls(path: Path, root: Path = ROOT) -> list[str]:
    """`session.<call>(...)` in a module, as "file:line session.call"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
            and node.func.attr in STORAGE_CALLS
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno} session.{node.func.attr}")
    return found


def test_handlers_and_screens_reach_storage_only_through_services():
    paths = [*(ROOT / "handlers").rglob("*.py"), *(ROOT / "bot" / "presentation").rglob("*.py")]
    calls = [c for path in sorted(paths) for c in storage_calls(path)]
    assert calls == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("async def h(session):\n    await session.get(int, 1)\n    return session\n")
    assert storage_calls(sample, tmp_path) == ["sample.py:2 session.get"]
