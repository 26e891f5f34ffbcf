"""The command line as an operator uses it: one-line errors, import, export, keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.crypto import generate_key
from tests.conftest import DEMO_CASES, ROOT, SMALL_CASES


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    base = {
        k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATA_KEY", "DATABASE_URL"}
    }
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_keys_generate_prints_a_usable_key():
    result = run_cli("keys", "generate")
    assert result.returncode == 0
    assert len(result.stdout.strip()) == 43


def test_run_without_token_says_what_to_do(tmp_path: Path):
    result = run_cli("run", env={"DATA_KEY": generate_key()}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_value_is_one_line(tmp_path: Path):
    result = run_cli("db", "upgrade", env={"DATA_KEY": "nonsense"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: DATA_KEY:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_rejects_a_bad_file_whole_then_imports_and_exports(tmp_path: Path):
    env = {"DATA_KEY": generate_key(), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/u.db"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_CASES.read_text().replace("status: released", "status: freed"))
    result = run_cli("cases", "import", str(bad), env=env)
    assert result.returncode == 1
    assert f"{bad}:36: cases[1].status:" in result.stderr
    assert "Nothing was imported" in result.stderr
    exported = run_cli("cases", "export", env=env)
    assert exported.returncode == 0 and "cases: []" in exported.stdout

    assert run_cli("cases", "import", str(DEMO_CASES), env=env).returncode == 0
    out = tmp_path / "out.yaml"
    assert run_cli("cases", "export", str(out), env=env).returncode == 0
    again = run_cli("cases", "import", str(out), env=env)
    assert "0 created, 0 updated, 14 unchanged" in again.stdout
