"""Editing cases: the YAML import and the editors' dialogue share one set of rules, and a
case made in Telegram exports and imports again unchanged."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.services import case_editing, case_files, cases
from bot.services.case_editing import CaseDraft
from bot.services.case_rules import Problem, RuleError
from db.models import AuditEntry, Case

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
TODAY = dt.date.today().isoformat()

DRAFT = CaseDraft(
    slug="ivan-petrov",
    country="uz",
    locale="en",
    name="Ivan Petrov",
    authority="Prosecutor General",
    salutation="Dear Prosecutor General,",
    authority_address="Tashkent",
    authority_locale="ru",
    summary="A blogger.",
    charges="Article 159",
    prison_address="Colony 64/1",
    detained_on="2021-03-15",
)

# Where each draft field lives in the case file.
PATHS: dict[str, tuple[str, ...]] = {
    "slug": ("slug",),
    "country": ("country",),
    "name": ("text", "en", "name"),
    "summary": ("text", "en", "summary"),
    "charges": ("text", "en", "charges"),
    "authority": ("text", "en", "authority"),
    "salutation": ("text", "en", "salutation"),
    "authority_address": ("authority", "address"),
    "authority_locale": ("authority", "language"),
    "prison_address": ("prison_address",),
    "detained_on": ("detained_on",),
}


def file_for(draft: CaseDraft) -> str:
    """The case file that says what the draft says."""
    entry: dict[str, Any] = {
        "slug": draft.slug,
        "country": draft.country,
        "status": "detained",
        "detained_on": draft.detained_on,
        "accepts_letters": draft.accepts_letters,
        "authority": {"language": draft.authority_locale, "address": draft.authority_address},
        "prison_address": draft.prison_address,
        "text": {
            draft.locale: {
                "name": draft.name,
                "summary": draft.summary,
                "charges": draft.charges,
                "authority": draft.authority,
                "salutation": draft.salutation,
            }
        },
    }
    return yaml.safe_dump({"version": 1, "cases": [entry]}, allow_unicode=True)


def with_value(field: str, value: Any) -> tuple[CaseDraft, str]:
    draft = dataclasses.replace(DRAFT, **{field: value})
    source = yaml.safe_load(file_for(DRAFT))
    node = copy.deepcopy(source)
    target = node["cases"][0]
    *parents, last = PATHS[field]
    for key in parents:
        target = target[key]
    target[last] = value
    return draft, yaml.safe_dump(node, allow_unicode=True)


INVALID = [
    ("slug", "Test Hidden"),
    ("slug", "ab"),
    ("slug", "-ivan-"),
    ("slug", "x" * 65),
    ("country", "ru"),
    ("name", "x" * 201),
    ("name", "   "),
    ("summary", "x" * 2001),
    ("charges", "x" * 501),
    ("authority", "x" * 301),
    ("salutation", ""),
    ("authority_address", "x" * 601),
    ("authority_locale", "fr"),
    ("prison_address", "x" * 601),
    ("detained_on", FUTURE),
    ("detained_on", "2022-13-45"),
]
VALID = [
    ("name", "x" * 200),
    ("summary", "x" * 2000),
    ("charges", "<b>not</b> & markup"),
    ("prison_address", None),
    ("detained_on", TODAY),
    ("detained_on", None),
    ("slug", "a1-" + "b" * 61),
]


@pytest.mark.parametrize(("field", "value"), INVALID)
async def test_import_and_dialogue_refuse_the_same(session, field: str, value: Any):
    draft, source = with_value(field, value)
    with pytest.raises(case_files.CaseFileError) as in_file:
        case_files.parse(source, "cases.yaml")
    assert ".".join(PATHS[field]) in str(in_file.value)
    with pytest.raises(RuleError) as in_dialogue:
        await case_editing.create(session, draft, "test")
    assert in_dialogue.value.field == field
    assert (await session.execute(select(Case))).first() is None


@pytest.mark.parametrize(("field", "value"), VALID)
async def test_import_and_dialogue_accept_the_same(session, field: str, value: Any):
    draft, source = with_value(field, value)
    case_files.parse(source, "cases.yaml")
    case = await case_editing.create(session, draft, "test")
    assert case.visibility == "hidden"


async def test_edits_are_checked_by_the_same_rules(session):
    case = await case_editing.create(session, DRAFT, "test")
    with pytest.raises(RuleError) as err:
        await case_editing.set_text(session, case, "en", "name", "x" * 201, "test")
    assert err.value.problem is Problem.TOO_LONG and err.value.limit == 200
    with pytest.raises(RuleError):
        await case_editing.set_text(session, case, "en", "salutation", None, "test")
    with pytest.raises(RuleError):
        await case_editing.set_field(session, case, "detained_on", FUTURE, "test")
    with pytest.raises(RuleError):  # the country is fixed, the status is /update's
        await case_editing.set_field(session, case, "country", "kz", "test")
    with pytest.raises(RuleError):
        await case_editing.set_field(session, case, "status", "released", "test")
    with pytest.raises(RuleError):  # only en or ru can be a case's first version
        await case_editing.create(
            session, dataclasses.replace(DRAFT, slug="other-one", locale="kk"), "test"
        )
    with pytest.raises(RuleError) as taken:
        await case_editing.create(session, dataclasses.replace(DRAFT, name="Other"), "test")
    assert taken.value.problem is Problem.TAKEN


async def test_a_case_made_in_telegram_roundtrips_through_the_file(session):
    case = await case_editing.create(session, DRAFT, "test")
    await case_editing.add_language(
        session,
        case,
        "kk",
        {"name": "Жан Петров", "authority": "Бас прокурор", "salutation": "Құрметті!"},
        "test",
    )
    await case_editing.set_photo(session, case, "AgAC-photo", "test")
    await session.commit()
    exported = await case_files.export(session)
    report = await case_files.apply(session, case_files.parse(exported))
    await session.commit()
    assert report.unchanged == ["ivan-petrov"] and report.updated == []
    # The new version's name is searchable at once, by staff only while the case is hidden.
    assert [m.slug for m in await case_editing.find_any(session, "Zhan", ["en"])] == ["ivan-petrov"]
    assert await cases.search(session, "Zhan", ["en"]) == []
    actions = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
    assert actions == ["case.create", "case.edit", "case.photo"]


def test_slug_suggestion():
    assert case_editing.suggest_slug("Алишер Тестов") == "alisher-testov"
    assert case_editing.suggest_slug("Oʻlmas  Ergashev!") == "olmas-ergashev"
    assert case_editing.suggest_slug("!!") is None
