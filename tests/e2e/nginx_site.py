"""The shipped nginx site (deploy/nginx/umid.conf), made runnable on a test machine: free
ports, no TLS, the test's instances as upstreams; and a main configuration that keeps
everything nginx writes in one folder."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "umid.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def site_for_test(port: int, upstreams: list[int]) -> str:
    """The shipped site, on a free port, without TLS (the test has no certificate), in
    front of the test's instances. Each change must apply, or the shipped file has moved
    on and the test would no longer be testing it."""
    site = SITE.read_text(encoding="utf-8")
    servers = "".join(
        f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstreams
    )
    site, n = re.subn(r"(?m)^\s*server 127\.0\.0\.1:\d+ .*;\n", "", site)
    assert n == 3
    site, n = re.subn(r"upstream umid_bots \{\n", lambda m: m.group(0) + servers, site)
    assert n == 1
    site, n = re.subn(r"(?m)^\s*listen 443 ssl;$", f"    listen 127.0.0.1:{port};", site)
    assert n == 1
    site, n = re.subn(r"(?m)^\s*(listen \[::\]:443 ssl|ssl_\w+ [^;]*);\n", "", site)
    assert n == 4
    # The plain-HTTP server that redirects to HTTPS listens on port 80: not here.
    return site[: site.rindex("\nserver {")] + "\n"


def main_config(folder: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in TEMP_KINDS)
    return f"""{user}worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
{temp}
    include {folder / "umid.conf"};
}}
"""


def write_config(folder: Path, site: str) -> list[str]:
    """Write `site` and a main configuration around it into `folder`; the command that
    runs nginx on them (add -t to only check them)."""
    assert NGINX is not None
    (folder / "umid.conf").write_text(site, encoding="utf-8")
    (folder / "nginx.conf").write_text(main_config(folder), encoding="utf-8")
    for kind in TEMP_KINDS:
        (folder / kind).mkdir(exist_ok=True)
    return [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
            "-e", str(folder / "error.log")]  # fmt: skip


def prepare(folder: Path, port: int, upstreams: list[int]) -> list[str]:
    """The shipped site in front of `upstreams` on `port`, written into `folder`; the
    command that runs nginx on it."""
    return write_config(folder, site_for_test(port, upstreams))
