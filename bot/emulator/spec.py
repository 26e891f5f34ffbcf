"""What the real Bot API has: methods and their parameters, from the bundled specification
(botapi/api.min.json, MIT licensed, see botapi/LICENSE)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SPEC_FILE = Path(__file__).resolve().parent / "botapi" / "api.min.json"


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[str, ...]
    required: bool

    @property
    def is_string(self) -> bool:
        return self.types == ("String",)


@dataclass(frozen=True)
class Method:
    name: str
    params: dict[str, Param]


@lru_cache(maxsize=1)
def methods() -> dict[str, Method]:
    """Every method of the Bot API, keyed by lower-cased name (Telegram ignores case)."""
    data = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    out: dict[str, Method] = {}
    for name, method in data["methods"].items():
        params = {
            f["name"]: Param(f["name"], tuple(f["types"]), bool(f["required"]))
            for f in method.get("fields", [])
        }
        out[name.lower()] = Method(name, params)
    return out


def version() -> str:
    return str(json.loads(SPEC_FILE.read_text(encoding="utf-8"))["version"])
