"""The letter templates shipped in bot/data, validated and kept in the database."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.migrate import MIGRATION_LOCK
from db.models import LetterKind, LetterTemplate
from db.repositories import letters as repo

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "data" / "letter_templates.yaml"
PLACEHOLDERS = {LetterKind.CARD: {"name"}, LetterKind.APPEAL: {"name", "salutation"}}

Body = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Locale = Literal["en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl"]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: LetterKind
    variant: int
    text: dict[Locale, Body]

    @model_validator(mode="after")
    def _placeholders(self) -> TemplateIn:
        allowed = PLACEHOLDERS[self.kind]
        for loc, body in self.text.items():
            used = {f for _, f, _, _ in string.Formatter().parse(body) if f is not None}
            if not used <= allowed:
                raise ValueError(
                    f"{self.kind.value} {self.variant} {loc}: unknown {used - allowed}"
                )
        return self


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    templates: list[TemplateIn]


def load(path: Path = TEMPLATES_FILE) -> TemplateFile:
    """Read and validate a templates file."""
    return TemplateFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


async def sync(session: AsyncSession, path: Path = TEMPLATES_FILE) -> int:
    """Make the stored templates what the file says: add, reword, drop. Returns how many
    changed.

    The file is the only source (no screen edits a template), so a corrected wording
    must reach a bot that already has the old one; nothing else refers to a template
    row, and a prompt on screen names only its variant.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    stored = await repo.all_templates(session)
    changed = 0
    for tpl in load(path).templates:
        for loc, body in tpl.text.items():
            row = stored.pop((tpl.kind.value, tpl.variant, loc), None)
            if row is None:
                session.add(
                    LetterTemplate(kind=tpl.kind, variant=tpl.variant, locale=loc, body=body)
                )
            elif row.body != body:
                row.body = body
            else:
                continue
            changed += 1
    for row in stored.values():
        await session.delete(row)
        changed += 1
    await session.flush()
    return changed
