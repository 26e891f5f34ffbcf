"""The letter checker on its own: drafts in Russian, English and Uzbek (both spellings of
oʻ) that must and must not be flagged, the language of a draft against the facility's,
length, links and contact details, editors' exceptions, and the shipped seed lists."""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.services import letter_check as lc
from bot.services.letter_check import CENSOR, RISK, Limits, Term
from db.models import AuditEntry, CheckTerm
from db.repositories import check_terms as repo

SEED = lc.load_seed()

WARM_RU = (
    "Дорогой Алишер! Пишу тебе из Москвы. У нас выпал первый снег, я перечитываю "
    "«Властелина колец» и думаю о тебе. Судьба ещё улыбнётся, держись! Мама испекла пирог, "
    "кот спит на подоконнике. Следовательно, всё у нас хорошо. Обнимаю, Анна."
)
WARM_EN = (
    "Dear Alisher, I hope this card finds you well. Autumn has come to our town, the "
    "leaves are golden and I am reading a wonderful book about the mountains. My cat "
    "sends greetings from the courtyard. We think of you every day. With love, Anna."
)
WARM_UZ = (
    "Hurmatli Alisher! Sizga salom yo'llayman. Bu yil kuz juda chiroyli, men yangi kitob "
    "o'qiyapman va har kuni sizni o‘ylayman. Oilangizga sog'lik tilayman."
)


def reasons(findings: lc.Findings) -> dict[str, str]:
    return {h.term: h.reason for h in findings.hits}


@pytest.mark.parametrize(("draft", "locale"), [(WARM_RU, "ru"), (WARM_EN, "en"), (WARM_UZ, "uz")])
def test_a_warm_letter_passes(draft: str, locale: str) -> None:
    findings = lc.check(draft, locale, SEED, required_locale=locale)
    assert findings.hits == ()
    assert findings.language == locale
    assert findings.clean


def test_russian_trial_regime_and_protest_are_flagged() -> None:
    draft = (
        "Дорогой Алишер! Мы все были на СУДЕ, приговор несправедлив. Этот режим "
        "боится правды, скоро снова выйдем на митинг. Ты настоящий политзаключённый."
    )
    findings = lc.check(draft, "ru", SEED, required_locale="ru")
    got = reasons(findings)
    assert got == {
        "суд": CENSOR,
        "приговор": CENSOR,
        "режим": CENSOR,
        "митинг": CENSOR,
        "политзаключ": RISK,
    }
    # The word as written, each with advice in Russian, in the draft's order.
    assert [h.found for h in findings.hits] == [
        "СУДЕ", "приговор", "режим", "митинг", "политзаключённый"
    ]  # fmt: skip
    assert all(h.advice and h.locale == "ru" for h in findings.hits)
    # Other forms of a term are kept too (up to a few), each once.
    court = lc.check("Суд, суда, судья, СУДА и суду.", "ru", SEED).hits
    assert [(h.forms, h.count) for h in court] == [(("Суд", "суда", "судья", "суду"), 5)]
    assert not findings.clean and not findings.wrong_language


def test_russian_exceptions_and_yo() -> None:
    # "судьба" is fate, not the court; "следовательно" is "therefore"; "Властелин" a book.
    assert lc.check("Судьба, следовательно, Властелин колец и ёлка", "ru", SEED).hits == ()
    # ё and е are the same letter to the matcher.
    terms = [Term("ru", "чёрн", CENSOR, "x")]
    assert [h.found for h in lc.check("Черный кот", "ru", terms).hits] == ["Черный"]


def test_english_trial_judge_protest_regime_flagged_with_reasons() -> None:
    draft = (
        "Dear Alisher, the judge at your trial did not listen. We held a protest outside "
        "and everyone says the 'regime' is afraid. You are a prisoner of conscience and "
        "I read what they told us about the torture."
    )
    got = reasons(lc.check(draft, "en", SEED, required_locale="en"))
    assert got == {
        "judge": CENSOR,
        "trial": CENSOR,
        "protest": CENSOR,
        "regime": CENSOR,
        "prisoner of conscience": RISK,
        "tortur": RISK,
    }


def test_english_near_misses_are_not_flagged() -> None:
    draft = (
        "The courtyard is full of leaves; the doctor changed my regimen. I am reading a "
        "book about old clocks and a prisoner of war's diary."
    )
    findings = lc.check(draft, "en", SEED)
    assert findings.hits == ()


@pytest.mark.parametrize("apostrophe", ["ʻ", "'", "‘", "’", "`"])
def test_uzbek_latin_apostrophes_are_one_letter(apostrophe: str) -> None:
    a = apostrophe
    draft = (
        f"Hurmatli Alisher! Sud adolatsiz bo{a}ldi, rejim qo{a}zg{a}olondan qo{a}rqadi. "
        "Siz siyosiy mahbussiz, lekin biz sizni har kuni eslaymiz."
    )
    findings = lc.check(draft, "uz", SEED, required_locale="uz")
    assert reasons(findings) == {
        "sud": CENSOR,
        "rejim": CENSOR,
        "qo'zg'olon": CENSOR,
        "siyosiy mahbus": RISK,
    }
    assert findings.language == "uz"
    assert not findings.wrong_language


def test_uzbek_word_inside_a_word_is_not_a_word_start() -> None:
    # "sud" must not match inside a word, nor after oʻ (an apostrophe inside a word).
    terms = [Term("uz", "zbek", CENSOR, "x"), Term("uz", "sud", CENSOR, "x")]
    assert lc.check("O‘zbekiston, o'zbek tili, Masʼud va Mas'ud, hasud", "uz", terms).hits == ()
    # A quote mark before a word is not a letter: 'sud' still starts a word.
    assert [h.term for h in lc.check("u 'sud' dedi", "uz", terms).hits] == ["sud"]


def test_uzbek_cyrillic_and_guvohnoma_exception() -> None:
    draft = "Ҳурматли Алишер! Суд адолатсиз бўлди, гувоҳлар ёлғон гапирди. Гувоҳномамни олдим."
    findings = lc.check(draft, "uz_Cyrl", SEED)
    assert findings.language == "uz_Cyrl"
    assert reasons(findings) == {"суд": CENSOR, "гувоҳ": CENSOR}
    assert [h.count for h in findings.hits] == [1, 1]


def test_a_russian_draft_for_a_facility_that_requires_uzbek() -> None:
    findings = lc.check(WARM_RU, "ru", SEED, required_locale="uz")
    assert findings.language == "ru"
    assert findings.wrong_language
    assert not findings.clean
    # Uzbek in either alphabet is what the facility reads.
    uz_cyrl = "Ҳурматли Алишер! Сизни ҳар куни ўйлайман, бизнинг шаҳарда қор ёғди."
    assert not lc.check(uz_cyrl, "ru", SEED, required_locale="uz").wrong_language
    # Without a required language there is nothing to compare.
    assert not lc.check(WARM_RU, "ru", SEED, required_locale=None).wrong_language


@pytest.mark.parametrize(
    ("draft", "locale"),
    [
        ("Сәлем, Әлішер! Сізді үнемі ойлаймын. Біздің қалада қар жауды, кітап оқып жүрмін.", "kk"),
        (
            "Салам, Алишер! Сизди дайыма ойлоп жүрөм. Биздин шаарда кар жаады, китеп окуп жатам.",
            "ky",
        ),
        ("Салом, Алишер! Ман ҳар рӯз шуморо ёд мекунам. Дар шаҳри мо барф борид.", "tg"),
        ("Hormatly Alişer! Men sizi her gün ýatlaýaryn. Şäherimizde gar ýagdy.", "tk"),
        ("Ҳурматли Алишер! Сизни ҳар куни ўйлайман. Шаҳарда қор ёғди.", "uz_Cyrl"),
        (WARM_UZ, "uz"),
        (WARM_EN, "en"),
        (WARM_RU, "ru"),
        ("Hi!", None),
    ],
)
def test_language_of_a_draft(draft: str, locale: str | None) -> None:
    assert lc.detect_language(draft) == locale


def test_terms_of_the_drafts_language_apply_not_the_readers() -> None:
    # A Kazakh reader writing in Russian: the Russian list applies ("сот" would match
    # "сотрудники" otherwise), and "суд" is flagged with Russian advice.
    draft = "Привет! Сотрудники почты говорят, что суд перенесли. Как ты?"
    findings = lc.check(draft, "kk", SEED)
    assert findings.language == "ru"
    assert reasons(findings) == {"суд": CENSOR}


def test_another_alphabet_and_contacts() -> None:
    mixed = (
        "Dear Alisher, I hope you are well and strong. Дорогой Алишер, я надеюсь, "
        "у тебя всё хорошо и ты держишься."
    )
    assert lc.check(mixed, "en", SEED).mixed
    assert not lc.check(WARM_EN, "en", SEED).mixed
    draft = "Write to anna@example.org or +998 90 123 45 67, see https://example.org, @annawrites"
    assert lc.check(draft, "en", SEED).contacts == {"email", "phone", "link", "handle"}
    assert lc.check("We met on 12.05.2024 at 10:30, 2 books.", "en", SEED).contacts == set()


def test_length_warning() -> None:
    short = lc.check(WARM_EN, "en", SEED)
    assert not short.too_long and short.pages == 1
    long_draft = (WARM_EN + " ") * 10
    findings = lc.check(long_draft, "en", SEED)
    assert findings.too_long
    assert findings.chars == len(long_draft.strip())
    assert findings.pages == -(-findings.chars // 750)
    assert not findings.clean
    # Only what the bot reads is checked, and the limits are the caller's.
    assert lc.check("x" * 5000, "en", [], limits=Limits(max_chars=100)).chars == 100


def test_overlapping_terms_the_longest_wins() -> None:
    terms = [
        Term("ru", "полити", CENSOR, "politics"),
        Term("ru", "политическ заключ", RISK, "risk"),
    ]
    findings = lc.check("Он политический заключённый, а не политик.", "ru", terms)
    assert [(h.term, h.found) for h in findings.hits] == [
        ("политическ заключ", "политический заключённый"),
        ("полити", "политик"),
    ]


def test_editors_entries_are_validated() -> None:
    assert lc.validate("ru", "  Режим ", "censor", " a  b ") == Term("ru", "режим", "censor", "a b")
    assert lc.validate("uz", "Qoʻzgʻolon", "risk", None).term == "qo'zg'olon"
    for args, code in [
        (("xx", "режим", "censor", None), "locale"),
        (("ru", "р", "censor", None), "term"),
        (("ru", "12", "censor", None), "term"),
        (("ru", "р" * 101, "censor", None), "term"),
        (("ru", "режим", "bad", None), "reason"),
        (("ru", "режим", "risk", "a" * 301), "advice"),
    ]:
        with pytest.raises(lc.TermError) as err:
            lc.validate(*args)
        assert err.value.code == code


def test_seed_lists_cover_every_language() -> None:
    by_locale: dict[str, list[Term]] = {}
    for term in SEED:
        by_locale.setdefault(term.locale, []).append(term)
    assert set(by_locale) == {"en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl"}
    for locale, terms in by_locale.items():
        assert len(terms) >= 10, locale
        assert {CENSOR, RISK} <= {t.reason for t in terms}, locale
        assert all(t.advice for t in terms if t.reason != "ok"), locale


async def test_seed_goes_in_once_and_editors_changes_stay(session) -> None:
    # prepare() has seeded every language already.
    counts = await repo.counts(session)
    assert counts == {loc: n for loc, n in _seed_counts().items()}
    await lc.add_term(session, Term("ru", "этап", CENSOR, "Не пишите об этапе."), "tester")
    assert await lc.remove_term(session, "ru", "режим", "tester")
    await repo.remove(session, "tk", "pul")
    for term in [t.term for t in await lc.terms_of(session, "ky")]:
        await repo.remove(session, "ky", term)
    assert await lc.sync(session) == _seed_counts()["ky"]  # only the emptied language
    ru = {t.term for t in await lc.terms_of(session, "ru")}
    assert "этап" in ru and "режим" not in ru
    assert "pul" not in {t.term for t in await lc.terms_of(session, "tk")}
    audit = (await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars().all()
    assert [(a.action, a.target) for a in audit][-2:] == [
        ("check_terms.add", "ru:этап"),
        ("check_terms.remove", "ru:режим"),
    ]
    assert not await lc.remove_term(session, "ru", "режим", "tester")


async def test_a_newer_list_reaches_a_bot_whose_editors_keep_their_own(session, tmp_path) -> None:
    """Raising a file's version gives a running bot the terms it lacks (a new event, say),
    once, and leaves an editor's own wording of a term as it is."""
    seeds = tmp_path / "check_terms"
    shutil.copytree(lc.SEED_DIR, seeds)
    await lc.add_term(session, Term("ru", "суд", RISK, "Своё слово редактора."), "tester")
    ru = seeds / "ru.yaml"
    text = ru.read_text(encoding="utf-8")
    version = int(re.search(r"^version: (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]
    text = text.replace(f"version: {version}", f"version: {version + 1}")
    ru.write_text(
        text + "  - term: событие-пример\n    reason: risk\n    country: kg\n"
        "    advice: 'Не упоминайте эти события.'\n",
        encoding="utf-8",
    )
    assert await lc.sync(session, seeds) == 1
    terms = {t.term: t for t in await lc.terms_of(session, "ru")}
    assert terms["событие-пример"].country == "kg"
    assert terms["суд"].advice == "Своё слово редактора."  # the editor's wording stays
    assert await lc.sync(session, seeds) == 0  # once


async def test_check_draft_reads_the_editors_list(session) -> None:
    draft = "Привет! Как прошёл этап? Держись."
    assert (await lc.check_draft(session, draft, "ru")).hits == ()
    await lc.add_term(session, Term("ru", "этап", CENSOR, "Не пишите об этапе."), "tester")
    findings = await lc.check_draft(session, draft, "ru", "ru")
    assert [(h.found, h.advice) for h in findings.hits] == [("этап", "Не пишите об этапе.")]
    assert (await session.get(CheckTerm, ("ru", "этап"))) is not None


def _seed_counts() -> dict[str, int]:
    out: dict[str, int] = {}
    for term in SEED:
        out[term.locale] = out.get(term.locale, 0) + 1
    return out
