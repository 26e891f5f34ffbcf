"""The YAML case file: strict validation with line numbers, all-or-nothing import, export.

Format (version 1) is documented in README.md. Import upserts by slug; an export
imported again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import alerts, courts, transfers, updates
from bot.services.case_rules import (
    Address,
    Authority,
    BornOn,
    Charges,
    Country,
    DetainedOn,
    LetterRules,
    Locale,
    Name,
    Place,
    Salutation,
    Sentence,
    Slug,
    Summary,
    Topics,
    has_base_text,
    limited,
)
from bot.services.cases import COURT_TIMEZONES
from bot.services.search import search_key
from config.settings import SUPPORTED_LOCALES
from db.models import (
    Case,
    CaseStatus,
    CaseText,
    Hearing,
    HearingKind,
    HearingStatus,
    UpdateKind,
    Visibility,
)
from db.repositories import cases as repo
from db.types import utcnow


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextIn(_Strict):
    name: Name
    summary: Summary | None = None
    charges: Charges | None = None
    sentence: Sentence | None = None
    place_of_detention: Place | None = None
    authority: Authority
    salutation: Salutation
    letter_rules: LetterRules | None = None
    topics: Topics | None = None


class AuthorityIn(_Strict):
    language: Locale
    address: Address


class HearingIn(_Strict):
    at: dt.datetime
    timezone: str | None = None
    court: Annotated[str, limited(300)]
    kind: HearingKind = HearingKind.TRIAL
    status: HearingStatus = HearingStatus.SCHEDULED

    @model_validator(mode="after")
    def _zone(self) -> HearingIn:
        if self.at.tzinfo is not None:
            raise ValueError("`at` is the court's local time: write it without an offset")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.court.startswith(courts.PREFIX) and courts.by_stored(self.court) is None:
            raise ValueError(f"no court {self.court!r} in bot/data/courts.yaml")
        return self


class CaseIn(_Strict):
    slug: Slug
    country: Country
    status: CaseStatus
    detained_on: DetainedOn | None = None
    born_on: BornOn | None = None
    release_expected_on: dt.date | None = None
    accepts_letters: bool = True
    letter_locale: Locale | None = None
    visibility: Visibility = Visibility.PUBLIC
    authority: AuthorityIn
    prison_address: Address | None = None
    text: dict[Locale, TextIn]
    hearings: list[HearingIn] | None = None

    @model_validator(mode="after")
    def _needs_base_text(self) -> CaseIn:
        if not has_base_text(self.text):
            raise ValueError("text must include at least `en` or `ru`")
        return self


class CaseFile(_Strict):
    version: Literal[1]
    cases: list[CaseIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_slugs(self) -> CaseFile:
        seen: set[str] = set()
        for case in self.cases:
            if case.slug in seen:
                raise ValueError(f"slug {case.slug!r} appears twice")
            seen.add(case.slug)
        return self


# libyaml's parser where it is installed (several times faster on big files); the
# resolvers stay Python's, so the change of them below applies to both.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[valid-type,misc]
    """SafeLoader that leaves dates as text, so pydantic reports a bad date by field."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class CaseFileError(Exception):
    """A file that cannot be imported; str() is `FILE:LINE: path: problem`."""


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, str]:
    """Follow a pydantic error location into the YAML node tree to find its line."""
    line = node.start_mark.line + 1 if node is not None else 1
    path = ""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                key_node = next((k for k, _ in node.value if k.value == str(part)), None)
                node = key_node
            else:
                line = next(k.start_mark.line + 1 for k, v in node.value if v is match)
                node = match
            path += f".{part}" if path else str(part)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            path += f"[{part}]"
        else:
            path += f".{part}" if path and not isinstance(part, int) else f"[{part}]"
    return line, path


# A case file is read and checked whole, in memory: 4 MiB holds about 300 cases in every
# language (the 14 demo cases take 170 KB). A larger campaign imports in several files.
MAX_BYTES = 4 * 2**20


def read(path: Path) -> str:
    """The file's text; CaseFileError (one line) when it is too large or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CaseFileError(
                f"{path}: {size / 2**20:.1f} MiB is more than a case file may hold "
                f"({MAX_BYTES // 2**20} MiB): import it in several files"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CaseFileError(
            f"{path}:{line}: not UTF-8 text: save the file as UTF-8 and import it again"
        ) from None


def parse(source: str, name: str = "<file>") -> CaseFile:
    """Validate a whole file; the first problem is raised with its line and field."""
    try:
        data = yaml.load(source, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise CaseFileError(
            f"{name}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(data, dict):
        raise CaseFileError(f"{name}:1: expected a mapping with `version` and `cases`")
    try:
        return CaseFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        # The node tree is built only now: line numbers are needed only to report a problem.
        line, path = _line_of(yaml.compose(source, Loader=_Loader), loc)
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise CaseFileError(f"{name}:{line}: {path or 'file'}: {msg}") from None


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # (slug, old status, new status): what the alert engine announces to followers.
    status_changes: list[tuple[str, str, str]] = field(default_factory=list)


def _case_values(item: CaseIn) -> dict[str, Any]:
    names = [t.name for t in item.text.values()]
    return {
        "country": item.country,
        "status": item.status.value,
        "detained_on": item.detained_on,
        "born_on": item.born_on,
        "release_expected_on": item.release_expected_on,
        "accepts_letters": item.accepts_letters,
        "letter_locale": item.letter_locale,
        "visibility": item.visibility.value,
        "authority_locale": item.authority.language,
        "authority_address": item.authority.address,
        "prison_address": item.prison_address,
        "search_key": search_key(names, item.slug),
    }


def _text_rows(case_id: int, item: CaseIn) -> list[CaseText]:
    return [
        CaseText(case_id=case_id, locale=loc, **text.model_dump())
        for loc, text in item.text.items()
    ]


def _text_tuple(t: CaseText) -> tuple[Any, ...]:
    return (
        t.locale,
        t.name,
        t.summary,
        t.charges,
        t.sentence,
        t.place_of_detention,
        t.authority,
        t.salutation,
        t.letter_rules,
        t.topics,
    )


HearingRow = tuple[dt.datetime, str, str, HearingKind, HearingStatus]


def _new_hearing(case_id: int, row: HearingRow) -> Hearing:
    starts, tz, court, kind, status = row
    return Hearing(
        case_id=case_id, starts_at=starts, timezone=tz, court=court, kind=kind, status=status
    )


def _hearing_rows(case: Case, item: CaseIn) -> list[HearingRow]:
    rows = []
    for h in item.hearings or []:
        tz = h.timezone or COURT_TIMEZONES[case.country]
        starts = h.at.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
        rows.append((starts, tz, h.court, h.kind, h.status))
    return sorted(rows)


async def apply(session: AsyncSession, parsed: CaseFile, actor: str = "cli") -> ImportReport:
    """Upsert every case of a validated file in the caller's transaction.

    A changed status is published as a case update (`actor` is named in it and in the
    audit log), so followers hear of it the same way as of a status change made in the bot.
    """
    report = ImportReport()
    existing = await repo.all_slugs(session)
    for item in parsed.cases:
        values = _case_values(item)
        case = existing.get(item.slug)
        if case is None:
            case = Case(slug=item.slug, **values)
            session.add(case)
            await session.flush()
            assert case.id is not None
            session.add_all(_text_rows(case.id, item))
            session.add_all(_new_hearing(case.id, row) for row in _hearing_rows(case, item))
            report.created.append(item.slug)
            continue
        assert case.id is not None
        changed = False
        # Not set here: updates.publish changes it, the one path for status alerts.
        status = values.pop("status")
        if any(getattr(case, k) != v for k, v in values.items()):
            old_address = case.prison_address
            for key, value in values.items():
                setattr(case, key, value)
            changed = True
            await transfers.announce(session, case, old_address)
        current = (await repo.texts(session, [case.id]))[case.id]
        new_texts = _text_rows(case.id, item)
        if sorted(map(_text_tuple, current.values())) != sorted(map(_text_tuple, new_texts)):
            await repo.replace_texts(session, case.id, new_texts)
            changed = True
        if item.hearings is not None:
            changed |= await _sync_hearings(session, case, item)
        if status != case.status:
            report.status_changes.append((item.slug, case.status, status))
            # Written in this transaction: the import and its alerts land together or not at all.
            await updates.publish(
                session,
                case,
                UpdateKind.STATUS,
                {},
                new_status=status,
                actor=actor,
            )
            changed = True
        if changed:
            case.updated_at = utcnow()
            report.updated.append(item.slug)
        else:
            report.unchanged.append(item.slug)
    await session.flush()
    return report


async def _sync_hearings(session: AsyncSession, case: Case, item: CaseIn) -> bool:
    """Make the case's hearings equal the file's list, matching by time and court."""
    assert case.id is not None
    current = await repo.hearings(session, case.id)
    wanted = _hearing_rows(case, item)
    by_key = {(h.starts_at, h.court): h for h in current}
    changed = False
    keep: set[int] = set()
    for starts, tz, court, kind, status in wanted:
        hearing = by_key.get((starts, court))
        if hearing is None:
            session.add(_new_hearing(case.id, (starts, tz, court, kind, status)))
            changed = True
            continue
        assert hearing.id is not None
        keep.add(hearing.id)
        if (hearing.timezone, hearing.kind, hearing.status) != (tz, kind, status):
            if status == HearingStatus.CANCELLED and hearing.status != status:
                await alerts.hearing_withdrawn(session, hearing, moved_to=None)
            hearing.timezone, hearing.kind, hearing.status = tz, kind, status
            hearing.updated_at = utcnow()
            changed = True
    for hearing in current:
        if hearing.id not in keep:
            if hearing.status == HearingStatus.SCHEDULED:
                await alerts.hearing_withdrawn(session, hearing, moved_to=None)
            await session.delete(hearing)
            changed = True
    return changed


async def export(session: AsyncSession) -> str:
    """Every case as a version-1 YAML document that imports back unchanged."""
    cases = sorted((await repo.all_slugs(session)).values(), key=lambda c: c.slug)
    texts = await repo.texts(session, [c.id for c in cases if c.id is not None])
    out: list[dict[str, Any]] = []
    for case in cases:
        assert case.id is not None
        entry: dict[str, Any] = {
            "slug": case.slug,
            "country": case.country,
            "status": case.status,
        }
        if case.detained_on:
            entry["detained_on"] = case.detained_on
        if case.born_on:
            entry["born_on"] = case.born_on
        if case.release_expected_on:
            entry["release_expected_on"] = case.release_expected_on
        entry["accepts_letters"] = case.accepts_letters
        if case.letter_locale:
            entry["letter_locale"] = case.letter_locale
        if case.visibility != Visibility.PUBLIC:
            entry["visibility"] = case.visibility
        entry["authority"] = {"language": case.authority_locale, "address": case.authority_address}
        if case.prison_address:
            entry["prison_address"] = case.prison_address
        entry["text"] = {
            loc: {
                k: v
                for k, v in texts[case.id][loc].model_dump(exclude={"case_id", "locale"}).items()
                if v is not None
            }
            for loc in SUPPORTED_LOCALES
            if loc in texts[case.id]
        }
        hearings = await repo.hearings(session, case.id)
        if hearings:
            entry["hearings"] = [_hearing_out(h, case.country) for h in hearings]
        out.append(entry)
    return yaml.dump(
        {"version": 1, "cases": out},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )


class _Dumper(yaml.SafeDumper):
    """The safe dumper, writing a column's enum member as the plain value it stands for."""


_Dumper.add_multi_representer(StrEnum, lambda dumper, value: dumper.represent_str(value.value))


def _hearing_out(h: Hearing, country: str) -> dict[str, Any]:
    local = h.starts_at.astimezone(ZoneInfo(h.timezone)).replace(tzinfo=None)
    item: dict[str, Any] = {"at": local.isoformat(timespec="minutes"), "court": h.court}
    if h.timezone != COURT_TIMEZONES[country]:
        item["timezone"] = h.timezone
    item["kind"] = h.kind
    if h.status != HearingStatus.SCHEDULED:
        item["status"] = h.status
    return item
