"""The YAML case file: validation with line numbers, atomic import, export round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services import case_files
from db.models import Case, CaseText, Hearing
from tests.conftest import SMALL_CASES

GOOD = SMALL_CASES.read_text(encoding="utf-8")


def test_small_file_parses():
    parsed = case_files.parse(GOOD)
    assert [c.slug for c in parsed.cases] == ["test-detained", "test-released", "test-hidden"]


@pytest.mark.parametrize(
    ("broken", "line", "where"),
    [
        (GOOD.replace("status: released", "status: freed"), 36, "cases[1].status"),
        (GOOD.replace("country: kg", "country: ru"), 35, "cases[1].country"),
        (GOOD.replace("  - slug: test-hidden", "  - slug: Test Hidden"), 46, "cases[2].slug"),
        (
            GOOD.replace(
                "        court: Tashkent City Court\n",
                "        court: Tashkent City Court\n        room: 4\n",
            ),
            33,
            "cases[0].hearings[0].room",
        ),
        (
            GOOD.replace("detained_on: 2022-07-01", "detained_on: 2022-13-45"),
            6,
            "cases[0].detained_on",
        ),
        (GOOD.replace("      address: Бишкек, Кыргызстан\n", ""), 38, "cases[1].authority.address"),
    ],
)
def test_errors_name_line_and_field(broken: str, line: int, where: str):
    with pytest.raises(case_files.CaseFileError) as err:
        case_files.parse(broken, "cases.yaml")
    message = str(err.value)
    assert message.startswith(f"cases.yaml:{line}: {where}:"), message


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(case_files.CaseFileError, match=r"x.yaml:\d+: not valid YAML"):
        case_files.parse("version: 1\ncases:\n  - slug: [unclosed\n", "x.yaml")


def test_duplicate_slug_and_missing_base_text_are_rejected():
    doubled = GOOD.replace("slug: test-hidden", "slug: test-released")
    with pytest.raises(case_files.CaseFileError, match="appears twice"):
        case_files.parse(doubled)
    with pytest.raises(case_files.CaseFileError, match="at least `en` or `ru`"):
        case_files.parse(
            GOOD.replace(
                "      en:\n        name: Hidden Person", "      kk:\n        name: Hidden Person"
            )
        )


async def test_import_upserts_and_export_roundtrips(session):
    report = await case_files.apply(session, case_files.parse(GOOD))
    await session.commit()
    assert len(report.created) == 3
    exported = await case_files.export(session)
    again = await case_files.apply(session, case_files.parse(exported))
    await session.commit()
    assert again.created == [] and again.updated == []
    assert sorted(again.unchanged) == ["test-detained", "test-hidden", "test-released"]
    assert await case_files.export(session) == exported


async def test_changed_status_is_reported_for_alerts(session):
    await case_files.apply(session, case_files.parse(GOOD))
    await session.commit()
    changed = GOOD.replace("status: detained\n    detained_on", "status: released\n    detained_on")
    report = await case_files.apply(session, case_files.parse(changed))
    await session.commit()
    assert report.updated == ["test-detained"]
    assert report.status_changes == [("test-detained", "detained", "released")]


async def test_hearings_follow_the_file(session):
    await case_files.apply(session, case_files.parse(GOOD))
    await session.commit()
    moved = GOOD.replace("at: 2099-03-01T10:00", "at: 2099-03-02T11:30")
    await case_files.apply(session, case_files.parse(moved))
    await session.commit()
    hearings = list((await session.execute(select(Hearing))).scalars())
    assert len(hearings) == 1
    # 11:30 in Tashkent (UTC+5) is 06:30 UTC.
    assert hearings[0].starts_at.hour == 6 and hearings[0].starts_at.minute == 30


async def test_bad_file_writes_nothing(session):
    broken = GOOD.replace("status: released", "status: freed")
    with pytest.raises(case_files.CaseFileError):
        await case_files.apply(session, case_files.parse(broken))
    for model in (Case, CaseText, Hearing):
        assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0


def test_a_court_of_the_list_is_named_by_a_key_it_has():
    listed = GOOD.replace("court: Tashkent City Court", "court: court:uz-tashkent-city")
    (hearing,) = case_files.parse(listed).cases[0].hearings or []
    assert hearing.court == "court:uz-tashkent-city"
    unknown = GOOD.replace("court: Tashkent City Court", "court: court:uz-nowhere")
    with pytest.raises(case_files.CaseFileError, match="no court 'court:uz-nowhere'"):
        case_files.parse(unknown, "cases.yaml")
