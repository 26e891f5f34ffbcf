#!/usr/bin/env python3
"""Two commands for a fresh machine with only Python 3.11+.

    python3 dev.py run    create .venv, install, migrate data/umid.sqlite3, start the bot
                          (without BOT_TOKEN: the local sandbox, in a browser)
    python3 dev.py test   create .venv, install, run ruff, mypy and pytest
    python3 dev.py i18n   extract messages, update every catalogue, compile them

The environment is rebuilt only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".umid-installed"


def _ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (runs before the venv exists)
        sys.exit("Umid needs Python 3.11 or newer.")
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("Installing dependencies into .venv ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=False, cwd=ROOT)
    subprocess.run([*pip, "-e", ".[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(want)


def _bot(*args: str, check: bool = True) -> int:
    return subprocess.run([str(PY), "-m", "bot", *args], cwd=ROOT, check=check).returncode


def run(extra: list[str]) -> int:
    _ensure_env()
    (ROOT / "data").mkdir(exist_ok=True)
    env_file = ROOT / ".env"
    if "DATA_KEY" not in os.environ and not env_file.exists():
        key = subprocess.run(
            [str(PY), "-m", "bot", "keys", "generate"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env_file.write_text(
            "# Created by dev.py on first run. Keep DATA_KEY secret and backed up apart\n"
            "# from the database: without it the stored identities cannot be read.\n"
            f"DATA_KEY={key}\n"
        )
        env_file.chmod(0o600)
        print("Generated a new DATA_KEY in .env", flush=True)
    # The real database is migrated here; without BOT_TOKEN the bot runs in the sandbox,
    # which has a database (and the demo cases) of its own.
    code = _bot("db", "upgrade", check=False)
    if code:
        return code
    try:
        return _bot("run", *extra, check=False)
    except KeyboardInterrupt:
        return 130


def test(extra: list[str]) -> int:
    _ensure_env()
    # One worker per core: each test has its own SQLite file, and on PostgreSQL each
    # worker its own database (tests/conftest.py).
    parallel = ["-n", "auto"]
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "mypy"), "."],
        [str(BIN / "lint-imports")],
        [str(PY), "-m", "pytest", *parallel, *extra],
    ]
    for step in steps:
        print(
            "$",
            " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)),
            flush=True,
        )
        code = subprocess.run(step, cwd=ROOT, check=False).returncode
        if code == 5:
            print("pytest collected no tests: that is a failure, not a pass.", flush=True)
            return 1
        if code:
            return code
    return 0


LOCALES = ("en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl")
EXTRACT = [
    "extract", "-F", "babel.cfg", "-k", "_", "-k", "__", "-k", "ngettext:1,2",
    "-k", "lazy_gettext", "--no-location", "--sort-output", "--project=Umid",
    "--copyright-holder=Umid developers", "--msgid-bugs-address=",
    "-o", "locales/messages.pot", ".",
]  # fmt: skip


def i18n(extra: list[str]) -> int:
    """pybabel extract, then update (or init) each catalogue, then compile."""
    _ensure_env()
    pybabel = str(BIN / "pybabel")
    subprocess.run([pybabel, "-q", *EXTRACT], cwd=ROOT, check=True)
    for loc in LOCALES:
        po = ROOT / "locales" / loc / "LC_MESSAGES" / "messages.po"
        verb = "update" if po.exists() else "init"
        args = ["-i", "locales/messages.pot", "-d", "locales", "-l", loc]
        if verb == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run([pybabel, "-q", verb, *args], cwd=ROOT, check=True)
    subprocess.run([pybabel, "-q", "compile", "-d", "locales", "--use-fuzzy"], cwd=ROOT, check=True)
    return 0


def main() -> int:
    commands = {"run": run, "test": test, "i18n": i18n}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
