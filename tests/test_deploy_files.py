"""The deployment files, held to the code: deploy/systemd, deploy/caddy, deploy/compose.yaml,
deploy/Dockerfile, deploy/nginx/compose.conf and docs/operating.md.

None of them runs here (systemd is not PID 1, and there is no Docker daemon), so these
tests check what can be checked without: every variable they set is a real setting with
a valid value, every `python -m bot ...` they run parses with the bot's own parser, the
proxies pass only /webhook to the instances they list, exactly one instance registers the
webhook, and every long-running process is stopped with the signal it handles. Where
nginx, Caddy or systemd-analyze is installed, the files also go through those tools' own
checks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import _parser
from bot.crypto import generate_key
from bot.metrics import Metrics
from bot.pacing.budget import BudgetStats
from config import Settings
from tests.e2e import nginx_site
from tests.e2e.nginx_site import NGINX

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
BOT_UNIT = SYSTEMD / "umid-bot@.service"
WORKER_UNIT = SYSTEMD / "umid-worker.service"
BACKUP_UNIT = SYSTEMD / "umid-backup.service"
BACKUP_TIMER = SYSTEMD / "umid-backup.timer"
SERVICES = (BOT_UNIT, WORKER_UNIT, BACKUP_UNIT)
ENV_EXAMPLE = SYSTEMD / "umid.env.example"
WRAPPER = SYSTEMD / "umid"
CADDYFILE = DEPLOY / "caddy" / "Caddyfile"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
SITE = DEPLOY / "nginx" / "umid.conf"
COMPOSE_SITE = DEPLOY / "nginx" / "compose.conf"
GUIDE = ROOT / "docs" / "operating.md"
SH = shutil.which("sh") or "/bin/sh"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
CADDY = shutil.which("caddy")

SETTINGS = frozenset(name.upper() for name in Settings.model_fields)
# The interpreter's own variables: the only ones a Umid process is given besides settings.
PYTHON_VARIABLES = frozenset({"PYTHONDONTWRITEBYTECODE"})
# The postgres image's variables (compose.yaml, the guide).
POSTGRES_VARIABLES = frozenset({"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"})
# What each process's own unit or service sets. In the shared settings file a line would
# override the unit's (systemd reads EnvironmentFile= after Environment=) for every process.
PER_PROCESS = frozenset({"WEBHOOK_PORT", "WEBHOOK_REGISTER", "HEALTH_HOST", "HEALTH_PORT"})
# Left empty in the example for the administrator to fill in, and what the test fills in.
SECRETS = {"BOT_TOKEN": "123456:TEST", "DATA_KEY": generate_key(), "WEBHOOK_SECRET": "test_secret"}
# Long-running processes: stopped with SIGINT, which they handle (see the units).
LONG_RUNNING = frozenset({"run", "worker"})
PUNCTUATION = re.compile(r"[();<>|&]+")
PYTHON = re.compile(r"(?:.*/)?python(?:3(?:\.\d+)?)?")


def settings_of(variables: dict[str, str]) -> Settings:
    """Settings from these values alone, validated as at start (neither the environment
    nor a .env file is read)."""
    return Settings.model_validate({k.lower(): v for k, v in variables.items() if k in SETTINGS})


def parses(args: list[str]) -> None:
    """The bot's own command line accepts `python -m bot ARGS`; a failure names them."""
    try:
        _parser().parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"`python -m bot {shlex.join(args)}` does not parse (exit {exc.code})")


# -- shell command lines ---------------------------------------------------------------


def shell_tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _arguments(rest: list[str]) -> list[str]:
    args: list[str] = []
    for i, token in enumerate(rest):
        if PUNCTUATION.fullmatch(token):
            break
        if token.isdigit() and rest[i + 1 : i + 2] and rest[i + 1][0] in "<>":
            break  # 2>/dev/null
        args.append(token)
    return args


def bot_commands(tokens: list[str]) -> list[list[str]]:
    """The arguments of every `python -m bot ...` (and of the `umid` wrapper, which runs
    `python -m bot ...` with the services' settings) in one command line."""
    found = []
    for i, token in enumerate(tokens):
        if PYTHON.fullmatch(token) and tokens[i + 1 : i + 3] == ["-m", "bot"]:
            found.append(_arguments(tokens[i + 3 :]))
        elif token == "umid" and (
            i == 0 or tokens[i - 1] == "sudo" or PUNCTUATION.fullmatch(tokens[i - 1])
        ):
            args = _arguments(tokens[i + 1 :])
            found.append(args[2:] if args[:1] == ["--env"] else args)
    return found


def logical_lines(text: str) -> list[str]:
    return text.replace("\\\n", " ").splitlines()


# -- systemd -----------------------------------------------------------------------------


@dataclass
class Unit:
    path: Path
    entries: list[tuple[str, str, str]]

    @classmethod
    def read(cls, path: Path) -> Unit:
        entries, section = [], ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            assert not line.endswith("\\"), f"{path.name}: keep each setting on one line"
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not a setting: {raw}"
            entries.append((section, key.strip(), value.strip()))
        return cls(path, entries)

    def all(self, key: str, section: str = "Service") -> list[str]:
        return [v for s, k, v in self.entries if s == section and k == key]

    def one(self, key: str, section: str = "Service") -> str:
        values = self.all(key, section)
        assert len(values) == 1, f"{self.path.name}: {key}= {values}"
        return values[0]

    def environment(self, instance: str = "8081") -> dict[str, str]:
        found = {}
        for value in self.all("Environment"):
            for item in shlex.split(expand(value, instance)):
                name, sep, setting = item.partition("=")
                assert sep, f"{self.path.name}: Environment={value}"
                found[name] = setting
        return found

    def commands(self, instance: str = "8081") -> list[list[str]]:
        found = []
        for key in ("ExecStart", "ExecStartPre", "ExecStartPost"):
            for value in self.all(key):
                argv = shlex.split(expand(value, instance))
                if Path(argv[0]).name in {"sh", "bash"} and argv[1] == "-c":
                    found += bot_commands(shell_tokens(argv[2]))
                else:
                    found += bot_commands(argv)
        return found


def expand(value: str, instance: str) -> str:
    """systemd's specifiers: %i (the instance) and %% only; any other fails the test."""
    known = {"%": "%", "i": instance}
    return re.sub(r"%(.)", lambda m: known[m.group(1)], value)


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_each_unit_runs_the_bot_as_umid_with_its_settings(path: Path):
    unit = Unit.read(path)
    assert unit.one("User") == "umid" and unit.one("Group") == "umid"
    assert unit.one("WorkingDirectory") == "/opt/umid"
    # The shared file first: whatever comes after it overrides it.
    assert unit.all("EnvironmentFile")[0] == "/etc/umid/umid.env"
    commands = unit.commands()
    assert commands, f"{path.name} runs no `python -m bot ...`"
    for args in commands:
        parses(args)
    assert all("/opt/umid/.venv/bin/python -m bot " in v for v in unit.all("ExecStart"))
    env = unit.environment()
    assert set(env) <= SETTINGS | PYTHON_VARIABLES, set(env) - SETTINGS - PYTHON_VARIABLES
    settings_of(env)
    unset = {name for value in unit.all("UnsetEnvironment") for name in value.split()}
    assert unset <= SETTINGS, unset - SETTINGS
    for key, want in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "UMask": "0077",
    }.items():
        assert unit.one(key) == want, f"{path.name}: {key}"
    assert "-/opt/umid/data" in " ".join(unit.all("ReadWritePaths")).split()


@pytest.mark.parametrize("path", [BOT_UNIT, WORKER_UNIT], ids=lambda p: p.name)
def test_long_running_units_stop_with_sigint_and_restart_on_failure(path: Path):
    unit = Unit.read(path)
    assert {args[0] for args in unit.commands()} <= LONG_RUNNING
    # SIGTERM would end webhook mode and the worker without their clean-up; on SIGINT
    # they finish and exit with 130, which is then no failure.
    assert unit.one("KillSignal") == "SIGINT"
    assert "130" in unit.one("SuccessExitStatus").split()
    assert unit.one("Restart") == "on-failure"
    assert int(unit.one("TimeoutStopSec")) >= 30
    assert unit.one("WantedBy", "Install") == "multi-user.target"


def test_the_instance_unit_takes_its_port_from_its_name_and_registers_only_if_told():
    unit = Unit.read(BOT_UNIT)
    for instance in ("8081", "8082"):
        env = unit.environment(instance)
        assert env["WEBHOOK_PORT"] == instance
        settings = settings_of(env)
        assert settings.webhook_port == int(instance)
        # Only an instance whose own file says WEBHOOK_REGISTER=true calls setWebhook.
        assert settings.webhook_register is False
    # That file is read last, so that it wins; optional ("-"), so that others need none.
    assert unit.all("EnvironmentFile") == ["/etc/umid/umid.env", "-/etc/umid/umid-%i.env"]
    assert unit.commands() == [["run"]]


def test_the_worker_serves_health_on_a_port_of_its_own():
    unit = Unit.read(WORKER_UNIT)
    assert unit.commands() == [["worker"]]
    assert settings_of(unit.environment()).health_port > 0


def test_the_backup_job_never_holds_the_key():
    unit = Unit.read(BACKUP_UNIT)
    assert [args[0] for args in unit.commands()] == ["backup"]
    unset = {name for value in unit.all("UnsetEnvironment") for name in value.split()}
    assert {"DATA_KEY", "NEW_DATA_KEY", "BOT_TOKEN"} <= unset
    assert "/var/backups/umid" in " ".join(unit.all("ReadWritePaths")).split()
    assert unit.one("Type") == "oneshot"
    timer = Unit.read(BACKUP_TIMER)
    assert timer.one("OnCalendar", "Timer") and timer.one("Persistent", "Timer") == "yes"


def env_file_lines(path: Path) -> Iterator[tuple[bool, str, str]]:
    """(commented out, name, value) for each NAME=value line, set or commented out."""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            yield bool(match.group(1)), match.group(2), match.group(3)


def test_the_settings_example_names_only_settings_with_valid_values():
    lines = list(env_file_lines(ENV_EXAMPLE))
    names = {name for _, name, _ in lines}
    assert names <= SETTINGS, names - SETTINGS
    assert {"BOT_TOKEN", "DATA_KEY", "DATABASE_URL", "REDIS_URL", "WEBHOOK_URL",
            "WEBHOOK_SECRET"} <= names  # fmt: skip
    set_here = {name: value for commented, name, value in lines if not commented}
    assert not set_here.keys() & PER_PROCESS, set_here.keys() & PER_PROCESS
    # What is left empty is a secret to fill in, or a setting left unset on purpose.
    values = {name: value or SECRETS.get(name, "") for name, value in set_here.items()}
    base = settings_of(values)
    assert base.webhook_url and base.database_url.startswith("sqlite+aiosqlite:////opt/umid/")
    for _, name, value in (line for line in lines if line[0]):
        settings_of({**values, name: value})  # each commented alternative is valid too


def test_the_umid_command_runs_the_bot_cli_as_umid_with_the_settings(tmp_path: Path):
    subprocess.run([SH, "-n", str(WRAPPER)], check=True)
    assert os.access(WRAPPER, os.X_OK)
    # A stand-in for systemd-run that prints what it was given.
    fake = tmp_path / "systemd-run"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}

    def given(*args: str) -> list[str]:
        done = subprocess.run(
            [SH, str(WRAPPER), *args], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.splitlines()

    plain = given("staff", "add", "123456789", "admin")
    assert "--uid=umid" in plain and "--wait" in plain and "--pipe" in plain
    assert "--property=EnvironmentFile=/etc/umid/umid.env" in plain
    assert "--property=WorkingDirectory=/opt/umid" in plain
    at = plain.index("/opt/umid/.venv/bin/python")
    assert plain[at + 1 : at + 3] == ["-m", "bot"]
    parses(plain[at + 3 :])
    assert plain[at + 3 :] == ["staff", "add", "123456789", "admin"]

    extra = given("--env", "/etc/umid/restore-test.env", "cases", "export")
    files = [a for a in extra if a.startswith("--property=EnvironmentFile=")]
    # The extra file is read after umid.env, so that its lines win.
    assert files == [
        "--property=EnvironmentFile=/etc/umid/umid.env",
        "--property=EnvironmentFile=/etc/umid/restore-test.env",
    ]
    assert extra[extra.index("/opt/umid/.venv/bin/python") + 3 :] == ["cases", "export"]


def _systemd_copies(tmp_path: Path) -> list[Path]:
    """The units, with the interpreter's path made one that exists here."""
    copies = []
    for unit in (*SERVICES, BACKUP_TIMER):
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/umid/.venv/bin/python", sys.executable)
        name = unit.name.replace("@.", "@8081.")
        (tmp_path / name).write_text(text, encoding="utf-8")
        copies.append(tmp_path / name)
    return copies


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="needs systemd-analyze")
def test_systemd_reads_the_units_without_a_complaint(tmp_path: Path):
    assert SYSTEMD_ANALYZE is not None
    copies = _systemd_copies(tmp_path)
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, copies)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if str(tmp_path) in line or "umid" in line
        # Names newer than this systemd's table, inside @system-service itself.
        if "Failed to parse system call" not in line
    ]
    assert not complaints, "\n".join(complaints)
    services = [c for c in copies if c.suffix == ".service"]
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", *map(str, services)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    levels = re.findall(r"Overall exposure level for (\S+): ([\d.]+)", done.stdout + done.stderr)
    assert len(levels) == len(services), done.stdout + done.stderr
    assert all(float(level) <= 2.5 for _, level in levels), levels


# -- Caddy -------------------------------------------------------------------------------


@dataclass
class Block:
    tokens: list[str]
    children: list[Block] = field(default_factory=list)

    def walk(self, ancestors: tuple[Block, ...] = ()) -> Iterator[tuple[Block, tuple[Block, ...]]]:
        for child in self.children:
            yield child, ancestors
            yield from child.walk((*ancestors, child))


def caddy_blocks(text: str) -> Block:
    root = Block([])
    stack = [root]
    for raw in text.splitlines():
        tokens = shlex.split(raw, comments=True)
        if not tokens:
            continue
        if tokens == ["}"]:
            stack.pop()
            continue
        opens = tokens[-1] == "{"
        block = Block(tokens[:-1] if opens else tokens)
        stack[-1].children.append(block)
        if opens:
            stack.append(block)
    assert len(stack) == 1, "unbalanced braces"
    return root


def test_caddy_passes_only_post_webhook_to_the_instances():
    root = caddy_blocks(CADDYFILE.read_text(encoding="utf-8"))
    options = [b for b in root.children if not b.tokens]
    sites = [b for b in root.children if b.tokens]
    assert len(sites) == 1 and not sites[0].tokens[0].startswith("http://")  # HTTPS
    site = sites[0]
    matchers = {b.tokens[0]: [c.tokens for c in b.children] for b in site.children
                if b.tokens[0].startswith("@")}  # fmt: skip
    assert sorted(matchers["@webhook"]) == [["method", "POST"], ["path", "/webhook"]]
    handles = [b for b in site.children if b.tokens[0] == "handle"]
    assert [h.tokens for h in handles] == [["handle", "@webhook"], ["handle"]]
    assert [c.tokens for c in handles[1].children] == [["respond", "404"]]
    proxies = [(b, up) for b, up in site.walk() if b.tokens[0] == "reverse_proxy"]
    assert proxies
    for proxy, ancestors in proxies:
        assert ancestors and ancestors[0].tokens == ["handle", "@webhook"]
        # Upstreams only: an inline matcher would open another path.
        assert all(re.fullmatch(r"127\.0\.0\.1:\d+", t) for t in proxy.tokens[1:]), proxy.tokens
        assert not any(c.tokens[0].startswith(("fail_duration", "max_fails"))
                       for c in proxy.children)  # fmt: skip
    # No access log: Caddy writes one only for a site with a `log` directive.
    assert not any(b.tokens[0] == "log" for b, _ in site.walk())
    limits = [c.tokens for b, _ in site.walk() if b.tokens == ["request_body"] for c in b.children]
    assert limits == [["max_size", "256KB"]]
    # Caddy's own error lines would show the secret header: the global log drops it.
    assert any(b.tokens == ["request>headers>X-Telegram-Bot-Api-Secret-Token", "delete"]
               for option in options for b, _ in option.walk())  # fmt: skip


def _proxy_matchers(routes: list[dict[str, Any]], outer: list[Any]) -> Iterator[list[Any]]:
    for route in routes:
        matchers = outer + route.get("match", [])
        for handler in route.get("handle", []):
            if handler["handler"] == "reverse_proxy":
                yield matchers
            elif handler["handler"] == "subroute":
                yield from _proxy_matchers(handler["routes"], matchers)


@pytest.mark.skipif(CADDY is None, reason="needs caddy (Debian's package)")
def test_caddy_itself_reads_the_caddyfile_the_same_way():
    assert CADDY is not None
    done = subprocess.run(
        [CADDY, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    servers = config["apps"]["http"]["servers"].values()
    found = [m for server in servers for m in _proxy_matchers(server["routes"], [])]
    assert found
    for matchers in found:
        assert {"method": ["POST"], "path": ["/webhook"]} in matchers, matchers
    assert "X-Telegram-Bot-Api-Secret-Token" in json.dumps(config["logging"])


# -- compose, nginx, Dockerfile --------------------------------------------------------


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))[
        "services"
    ]
    return services


def umid_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose_services().items() if s.get("image") == "umid:local"}


def command_of(service: dict[str, Any]) -> list[str]:
    found = bot_commands(list(service["command"]))
    assert len(found) == 1, service["command"]
    return found[0]


def bot_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in umid_services().items() if command_of(s) == ["run"]}


def upstream(site: str) -> list[tuple[str, int]]:
    block = re.search(r"upstream umid_bots \{(.*?)\n\}", site, re.S)
    assert block is not None
    return [(h, int(p)) for h, p in re.findall(r"(?m)^\s*server\s+([\w.-]+):(\d+)\s", block[1])]


def test_compose_runs_the_bot_with_real_settings_and_commands():
    services = umid_services()
    assert {command_of(s)[0] for s in services.values()} == {"db", "run", "worker"}
    for name, service in services.items():
        parses(command_of(service))
        env = {k: str(v) for k, v in service.get("environment", {}).items()}
        assert set(env) <= SETTINGS | PYTHON_VARIABLES, (name, set(env) - SETTINGS)
        settings_of(env)
        # Secrets live outside the repository, never in a file beside this one.
        files = (
            service["env_file"] if isinstance(service["env_file"], list) else [service["env_file"]]
        )
        for file in files:
            assert Path(file).is_absolute() and ROOT not in Path(file).parents, file
        if command_of(service)[0] in LONG_RUNNING:
            assert service["stop_signal"] == "SIGINT", name
    for name, service in compose_services().items():
        if name not in services:
            assert set(service.get("environment", {})) <= POSTGRES_VARIABLES, name


def test_compose_has_one_registering_instance_and_nginx_in_front_of_them_all():
    bots = bot_services()
    assert len(bots) >= 2
    settings = {name: settings_of({k: str(v) for k, v in s["environment"].items()})
                for name, s in bots.items()}  # fmt: skip
    assert [n for n, s in settings.items() if s.webhook_register] == ["bot1"]
    # nginx runs in another container: an instance on 127.0.0.1 could not be reached.
    assert all(s.webhook_host == "0.0.0.0" for s in settings.values())  # noqa: S104
    ports = {(name, s.webhook_port) for name, s in settings.items()}
    assert len({port for _, port in ports}) == len(ports)
    nginx = compose_services()["nginx"]
    assert "./nginx/compose.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert set(upstream(COMPOSE_SITE.read_text(encoding="utf-8"))) == ports
    assert set(nginx["depends_on"]) == set(bots)


def normalised_site(text: str) -> list[str]:
    """The site without comments, with the upstream's server lines as one placeholder."""
    lines: list[str] = []
    in_upstream = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("upstream "):
            in_upstream = True
        elif in_upstream and line == "}":
            in_upstream = False
        elif in_upstream and line.startswith("server "):
            line = "server (instances);"
            if lines[-1] == line:
                continue
        lines.append(line)
    return lines


def test_the_compose_site_is_the_shipped_site_but_for_its_upstream():
    shipped, compose = SITE.read_text(encoding="utf-8"), COMPOSE_SITE.read_text(encoding="utf-8")
    assert normalised_site(compose) == normalised_site(shipped)
    assert [port for _, port in upstream(compose)] == [port for _, port in upstream(shipped)]


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.mark.skipif(NGINX is None, reason="needs nginx (Debian's package: nginx)")
def test_nginx_accepts_the_compose_site(tmp_path: Path):
    assert NGINX is not None
    site = COMPOSE_SITE.read_text(encoding="utf-8")
    # The compose services' names resolve only inside compose's network.
    site, n = re.subn(r"(?m)^(\s*server )bot\d+:", r"\g<1>127.0.0.1:", site)
    assert n == len(bot_services())
    cert, key = self_signed(tmp_path)
    site, n = re.subn(r"(?m)^(\s*ssl_certificate) \S+;", rf"\g<1> {cert};", site)
    assert n == 1
    site, n = re.subn(r"(?m)^(\s*ssl_certificate_key) \S+;", rf"\g<1> {key};", site)
    assert n == 1
    done = subprocess.run(
        [*nginx_site.write_config(tmp_path, site), "-t"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_image_runs_the_bot_as_a_user_and_stops_it_with_sigint():
    instructions = dockerfile_instructions()
    of = {word: [rest for w, rest in instructions if w == word] for word, _ in instructions}
    assert of["FROM"] == ["python:3.11-slim"]
    assert of["USER"] and of["USER"][-1] not in {"root", "0"}
    assert of["STOPSIGNAL"] == ["SIGINT"]
    assert any("'.[postgres,redis]'" in run and "pip install" in run for run in of["RUN"])
    names = {item.partition("=")[0] for env in of["ENV"] for item in shlex.split(env)}
    assert names <= PYTHON_VARIABLES, names
    command = json.loads(of["CMD"][-1])
    assert bot_commands(command) == [["run"]]
    parses(bot_commands(command)[0])


# -- the guide ---------------------------------------------------------------------------


def guide_blocks() -> list[tuple[str, str]]:
    """(language, text) of each fenced code block of docs/operating.md."""
    return re.findall(r"```(\w*)\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def guide_commands() -> list[list[str]]:
    found = []
    for language, text in guide_blocks():
        if language not in {"sh", "bash", ""}:
            continue
        for line in logical_lines(text):
            if re.search(r"\bpython3?\s+-m\s+bot\b|(^|[\s;&|(])umid\s", line):
                found += bot_commands(shell_tokens(line))
    return found


def test_every_command_in_the_guide_parses():
    commands = guide_commands()
    for args in commands:
        parses(args)
    assert {args[0] for args in commands} >= {
        "keys", "staff", "backup", "restore", "db", "cases",
    }  # fmt: skip
    assert ["keys", "rotate"] in commands and ["db", "upgrade"] in commands


def test_the_guide_names_only_real_settings():
    named = set()
    for language, text in guide_blocks():
        if language in {"sh", "bash", ""}:
            for line in logical_lines(text):
                named |= set(re.findall(r"(?:^|[\s;&|(])(?:export\s+)?([A-Z][A-Z0-9_]*)=", line))
    text = GUIDE.read_text(encoding="utf-8")
    named |= set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`", text))
    assert named, "the guide names no setting"
    assert named <= SETTINGS | POSTGRES_VARIABLES, named - SETTINGS - POSTGRES_VARIABLES
    # The retention settings the guide explains are real, with the defaults it gives.
    defaults = Settings.model_validate({})
    assert "`INACTIVE_RETENTION_DAYS` (180)" in text and defaults.inactive_retention_days == 180
    assert "`OUTBOX_RETENTION_DAYS` (30)" in text and defaults.outbox_retention_days == 30


def real_metrics() -> tuple[set[str], set[str]]:
    """(family names, sample names) of a process's /metrics, every series present."""
    metrics = Metrics()
    metrics.watch_budget(BudgetStats())
    metrics.updates.labels(type="message").inc()
    metrics.handler_seconds.labels(type="message").observe(0.01)
    metrics.set_outbox({"pending": 0})
    metrics.job_done("reminders", failed=True)
    families = list(metrics.registry.collect())
    return {f.name for f in families}, {s.name for f in families for s in f.samples}


def test_the_guide_explains_every_metric_and_no_other():
    families, samples = real_metrics()
    text = GUIDE.read_text(encoding="utf-8")
    # umid_bots is nginx's upstream; umid_restore_test a scratch database in the guide.
    named = set(re.findall(r"\bumid_[a-z_]+", text)) - {"umid_bots", "umid_restore_test"}
    assert named <= families | samples, named - families - samples
    for family in families:
        assert any(name.startswith(family) for name in named), f"{family} is not explained"


def test_the_guide_points_at_files_that_exist_and_the_readme_at_the_guide():
    text = GUIDE.read_text(encoding="utf-8")
    paths = {p.rstrip(".") for p in re.findall(r"\bdeploy/[\w./@-]*", text)}
    assert paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, missing
    assert "(docs/operating.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_guide_says_plainly_that_docker_was_never_run():
    text = GUIDE.read_text(encoding="utf-8")
    assert "**They have never been run.**" in text
    for path in (COMPOSE, DOCKERFILE):
        head = path.read_text(encoding="utf-8")[:800]
        assert "NOT RUN HERE" in head or "NOT BUILT HERE" in head, path.name
