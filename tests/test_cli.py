"""The command line as an operator uses it: one-line errors, import, export, keys."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.crypto import generate_key
from bot.services import case_files
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


def test_run_without_token_starts_the_sandbox(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env.update(PYTHONPATH=str(ROOT), DATA_KEY=generate_key())
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "No BOT_TOKEN" in line:
                assert "sandbox" in line
            match = re.search(r"Open (http://127\.0\.0\.1:\d+)/", line)
            url = match.group(1) if match else None
        assert url, "the sandbox did not print its address"
        with urllib.request.urlopen(f"{url}/api/personas", timeout=10) as response:  # noqa: S310
            personas = response.read()
            assert b"supporter-kk" in personas and b"staff-broadcaster" in personas
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:  # noqa: S310
            assert b"Umid sandbox" in response.read()
        assert (tmp_path / "data" / "sandbox.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_missing_key_is_one_line(tmp_path: Path):
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATA_KEY" in lines[0] and "keys generate" in lines[0]


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


def test_staff_add_list_revoke_and_audit_export(tmp_path: Path):
    env = {"DATA_KEY": generate_key(), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/s.db"}
    added = run_cli("staff", "add", "555000111", "editor", env=env)
    assert added.returncode == 0 and added.stdout.startswith("editor: ")
    assert "555000111" not in added.stdout
    assert run_cli("staff", "add", "555000222", "admin", env=env).returncode == 0
    listed = run_cli("staff", "list", env=env).stdout
    assert "editor:" in listed and "admin:" in listed and "555000" not in listed
    assert run_cli("staff", "revoke", "555000111", env=env).stdout == "revoked\n"
    assert "last admin" in run_cli("staff", "revoke", "555000222", env=env).stdout
    out = tmp_path / "audit.csv"
    assert run_cli("audit", "export", str(out), env=env).returncode == 0
    text = out.read_text()
    assert text.startswith("at,actor,action,target") and "staff.revoke" in text
    assert "555000" not in text


def test_import_of_a_file_not_in_utf8_or_too_large_is_one_clear_line(tmp_path: Path):
    env = {"DATA_KEY": generate_key(), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/u.db"}
    latin = tmp_path / "cp1251.yaml"
    latin.write_bytes(
        SMALL_CASES.read_text().replace("Test", "Тест").encode("cp1251", errors="replace")
    )
    result = run_cli("cases", "import", str(latin), env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "not UTF-8 text" in result.stderr and f"{latin}:" in result.stderr
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# padding\n" * (case_files.MAX_BYTES // 10 + 1))
    result = run_cli("cases", "import", str(huge), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "more than a case file may hold (4 MiB)" in result.stderr


def test_a_database_refuses_another_key_in_one_line(tmp_path: Path):
    database = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/u.db"}
    assert run_cli("db", "upgrade", env={"DATA_KEY": generate_key(), **database}).returncode == 0
    result = run_cli("db", "upgrade", env={"DATA_KEY": generate_key(), **database})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: DATA_KEY: not the key")
    assert len(result.stderr.strip().splitlines()) == 1  # no traceback
