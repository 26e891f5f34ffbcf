"""Outbox specs: every kind reads what the outbox already holds and writes it back byte
for byte, and a spec that no longer reads is reported by its kind alone."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.delivery import specs
from bot.delivery.specs import (
    ActionReminderSpec,
    ApprovalSpec,
    BirthdaySpec,
    BroadcastSpec,
    DigestSpec,
    HearingCancelledSpec,
    HearingMovedSpec,
    HearingReminderSpec,
    ReleaseSoonSpec,
    ReportAnswerSpec,
    ReportReadSpec,
    ReviewedSpec,
    StatusSpec,
    TransferSpec,
    UnreadableSpec,
    UpdateSpec,
    read_spec,
    write_spec,
)
from bot.presentation import alert_views, broadcast_views, family_views, prompt_views

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # 1767225600
LATER = dt.datetime(2026, 1, 8, 9, 30, tzinfo=dt.UTC)  # 1767864600

# What the producers wrote before the models (json.dumps, compact, keys sorted, ASCII),
# and the model each must read as. A court's Cyrillic name was stored \u-escaped.
STORED: list[tuple[str, specs.Spec]] = [
    (
        '{"case":1,"fam":false,"t":"update","update":7}',
        UpdateSpec(case_id=1, update_id=7),
    ),
    (
        '{"case":1,"fam":true,"t":"update","update":8}',
        UpdateSpec(case_id=1, update_id=8, family_only=True),
    ),
    (
        '{"case":1,"fam":false,"new":"released","t":"update","update":9}',
        UpdateSpec(case_id=1, update_id=9, new_status="released"),
    ),
    (
        '{"case":1,"digest":false,"fam":false,"kind":"action","t":"update","until":1767225600,'
        '"update":10}',
        UpdateSpec(case_id=1, update_id=10, action_kind="action", digest=False, deadline=AT),
    ),
    (
        '{"case":1,"digest":false,"fam":false,"kind":"info","t":"update","update":11}',
        UpdateSpec(case_id=1, update_id=11, action_kind="info", digest=False),
    ),
    (
        '{"case":1,"digest":false,"t":"action_reminder","until":1767225600,"update":10}',
        ActionReminderSpec(case_id=1, update_id=10, deadline=AT),
    ),
    (
        '{"case":1,"new":"released","old":"detained","t":"status"}',
        StatusSpec(case_id=1, old_status="detained", new_status="released"),
    ),
    (
        '{"at":1767225600,"hearing":3,"lead":"24h","t":"reminder"}',
        HearingReminderSpec(hearing_id=3, starts_at=AT, lead="24h"),
    ),
    (
        '{"at":1767225600,"case":1,"court":"\\u0421\\u0443\\u0434 \\"A\\"",'
        '"t":"hearing_cancelled","tz":"Asia/Tashkent"}',
        HearingCancelledSpec(
            case_id=1, starts_at=AT, court='Суд "A"', court_timezone="Asia/Tashkent"
        ),
    ),
    (
        '{"at":1767225600,"case":1,"court":"Tashkent City Court","t":"hearing_moved",'
        '"to":1767864600,"tz":"Asia/Tashkent"}',
        HearingMovedSpec(
            case_id=1,
            starts_at=AT,
            moved_to=LATER,
            court="Tashkent City Court",
            court_timezone="Asia/Tashkent",
        ),
    ),
    (
        '{"addr":"0123456789ab","case":1,"t":"transfer"}',
        TransferSpec(case_id=1, address_tag="0123456789ab"),
    ),
    (
        '{"case":1,"digest":false,"on":"2027-03-08","t":"birthday"}',
        BirthdaySpec(case_id=1, day=dt.date(2027, 3, 8)),
    ),
    (
        '{"case":1,"digest":false,"on":"2027-03-08","t":"release_soon"}',
        ReleaseSoonSpec(case_id=1, day=dt.date(2027, 3, 8)),
    ),
    (
        '{"digest":false,"id":5,"t":"broadcast"}',
        BroadcastSpec(broadcast_id=5),
    ),
    (
        '{"broadcast":5,"t":"approval"}',
        ApprovalSpec(broadcast_id=5),
    ),
    (
        '{"broadcast":5,"ok":true,"t":"reviewed"}',
        ReviewedSpec(broadcast_id=5, approved=True),
    ),
    (
        '{"broadcast":5,"ok":false,"t":"reviewed"}',
        ReviewedSpec(broadcast_id=5, approved=False),
    ),
    (
        '{"digest":false,"report":9,"t":"report_read"}',
        ReportReadSpec(report_id=9),
    ),
    (
        '{"a":"c2VhbGVkIGJ5IHRoZSBrZXk=","digest":false,"report":9,"t":"report_answer"}',
        ReportAnswerSpec(report_id=9, sealed_answer="c2VhbGVkIGJ5IHRoZSBrZXk="),
    ),
    (
        '{"items":[{"case":1,"fam":false,"t":"update","update":7},'
        '{"at":1767225600,"hearing":3,"lead":"24h","t":"reminder"},'
        '{"addr":"0123456789ab","case":1,"t":"transfer"}],"t":"digest"}',
        DigestSpec(
            items=(
                UpdateSpec(case_id=1, update_id=7),
                HearingReminderSpec(hearing_id=3, starts_at=AT, lead="24h"),
                TransferSpec(case_id=1, address_tag="0123456789ab"),
            )
        ),
    ),
]


def test_every_kind_there_is_is_covered_here():
    assert {model.kind for _text, model in STORED} == set(specs.KINDS)


@pytest.mark.parametrize(("text", "model"), STORED, ids=[m.kind for _t, m in STORED])
def test_a_stored_spec_reads_as_its_model_and_is_written_back_byte_for_byte(text, model):
    assert read_spec(text) == model
    assert type(read_spec(text)) is type(model)
    assert write_spec(model) == text
    assert read_spec(write_spec(model)) == model
    assert read_spec(text.encode()) == model  # as a driver may hand the column over


def test_rows_written_a_little_differently_still_read():
    # A status update whose new status was null, and a key no model knows.
    assert read_spec(
        '{"case":1,"fam":false,"new":null,"t":"update","update":7,"x":1}'
    ) == UpdateSpec(case_id=1, update_id=7)
    # Unordered and spaced, as a hand or another tool would write it.
    assert read_spec('{"t": "approval", "broadcast": 5}') == ApprovalSpec(broadcast_id=5)


def test_what_may_wait_for_a_digest():
    may_wait = {m.kind for _t, m in STORED if m.digestible}
    assert may_wait == {
        "update", "status", "reminder", "hearing_cancelled", "hearing_moved",
        "approval", "reviewed",
    }  # fmt: skip
    # A new address does not wait: a digest line would not carry it.
    assert not read_spec('{"addr":"a1","case":1,"t":"transfer"}').digestible
    # News may wait; a call to act may not.
    assert UpdateSpec(case_id=1, update_id=7).digestible
    assert not UpdateSpec(case_id=1, update_id=7, action_kind="action", digest=False).digestible
    assert not DigestSpec(items=()).digestible


def test_specs_are_values_a_cache_can_key_by():
    one, other = read_spec(STORED[-1][0]), read_spec(STORED[-1][0])
    assert one is not other and one == other and hash(one) == hash(other)
    with pytest.raises(ValueError, match="frozen"):
        one.kind = "update"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"t":"petition","case":1}', "petition"),  # a kind since retired
        ('{"t":"update","update":7}', "update"),  # a known kind without its case
        ('{"t":"broadcast","id":"five"}', "broadcast"),
        ('{"t":"<b>Alisher Testov</b>","case":1}', "?"),  # nothing but a kind's name is told
        ('{"case":1}', "?"),
        ("[1, 2]", "?"),
        ("not json", "?"),
        ('{"t":"digest","items":"none"}', "digest"),
    ],
)
def test_a_spec_that_no_longer_reads_is_refused_naming_its_kind_alone(text, kind):
    with pytest.raises(UnreadableSpec) as refused:
        read_spec(text)
    assert refused.value.kind == kind
    assert "Testov" not in str(refused.value) and refused.value.__cause__ is None


def test_a_digest_keeps_what_reads_and_reports_the_kinds_it_left_out():
    left_out: list[str] = []
    digest = read_spec(
        '{"items":[{"t":"petition","case":1},{"case":1,"fam":false,"t":"update","update":7},'
        '{"t":"update"}],"t":"digest"}',
        left_out=left_out,
    )
    assert digest == DigestSpec(items=(UpdateSpec(case_id=1, update_id=7),))
    assert left_out == ["petition", "update"]


def test_every_kind_has_its_renderer_and_one_only():
    shown = [
        *alert_views.KINDS,
        *broadcast_views.KINDS,
        *family_views.KINDS,
        *prompt_views.KINDS,
    ]
    assert sorted(shown) == sorted(specs.KINDS)
