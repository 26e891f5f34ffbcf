"""The letter checker: what in a draft could get a letter stopped or hurt the prisoner.

A supporter pastes a draft; `check` points out listed words and topics (per language,
kept by editors in the `check_terms` table and seeded from bot/data/check_terms/), a
language other than the one the facility requires, passages in another alphabet, links
and contact details, and excessive length.

The draft is an argument and nothing more: it is never stored, never logged, never put
into a dialogue's state. Everything here is pure except the thin wrappers that read the
terms and the seed file.

How terms match: by stem, word by word (bot/services/stemming.py: Snowball for Russian
and English, a suffix grammar for the Turkic languages and Tajik), so "пытать" catches
"пытали" and "qochish" catches "qochib ketdi", while "суд" no longer catches "судно". A
term of five letters or more also catches words that begin with it (compounds, and stems
an editor typed as stems). A phrase matches word by word. Uzbek Latin apostrophes (oʻ,
o', o‘, o’, o`) are one letter; "ё" is "е"; hyphens are spaces. A term with the reason
"ok" is an exception: words that begin with it, word by word, are never flagged, so an
idiom ("uyqum qochib ketdi": I could not sleep), a negation ("наразы емеспін") or a
false friend ("судя по письму") passes.

A term may belong to one country (its events and banned organisations): it applies to
drafts for a facility in that country, and to drafts whose facility is not known.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases, letters, staff, stemming
from config.settings import SUPPORTED_LOCALES
from db.migrate import MIGRATION_LOCK
from db.models import CheckTerm, LetterKind
from db.repositories import check_terms as repo

SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "check_terms"

CENSOR = "censor"
RISK = "risk"
OK = "ok"
REASONS = (CENSOR, RISK, OK)
MAX_TERM = 100
MIN_TERM = 2
MAX_ADVICE = 300

Reason = Literal["censor", "risk", "ok"]
Locale = Literal["en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl"]


@dataclass(frozen=True)
class Limits:
    """How much the checker reads, and when a letter is long."""

    max_chars: int = 4000  # one Telegram message, with room to spare
    long_chars: int = 1500  # about two handwritten pages
    page_chars: int = 750  # a handwritten page of a card or notepaper


LIMITS = Limits()


@dataclass(frozen=True)
class Term:
    locale: str
    term: str
    reason: str
    advice: str | None = None
    country: str | None = None  # only for drafts to this country's facilities


@dataclass(frozen=True)
class Hit:
    """A listed term found in the draft: the words as written (the first, then up to a few
    other forms) and how often."""

    term: str
    reason: str
    advice: str | None
    locale: str
    found: str
    count: int
    position: int
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Findings:
    hits: tuple[Hit, ...]
    language: str | None  # the locale the draft seems to be written in, if clear
    required: str | None  # the locale the facility requires, if known
    mixed: bool  # a real part of the draft is in another alphabet
    contacts: frozenset[str]  # "link", "email", "phone", "handle"
    chars: int
    pages: int
    too_long: bool

    @property
    def censor(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.reason == CENSOR)

    @property
    def risk(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.reason == RISK)

    @property
    def wrong_language(self) -> bool:
        """The draft is clearly in a language other than the one the facility requires."""
        return (
            self.required is not None
            and self.language is not None
            and not same_language(self.language, self.required)
        )

    @property
    def clean(self) -> bool:
        """Nothing to point out."""
        return not (
            self.hits or self.wrong_language or self.mixed or self.contacts or self.too_long
        )


class TermError(ValueError):
    """An editor's term is not acceptable; `code` says why (locale, term, reason, advice)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- normalising -----------------------------------------------------------------------

_APOSTROPHES = str.maketrans(dict.fromkeys("ʻʼ‘’`´ʹ′ʽ", "'"))
_DASHES = str.maketrans(dict.fromkeys("-‐‑‒–—―", " "))


def clean_term(term: str) -> str:
    """An editor's term as stored: lowercased, one kind of apostrophe, single spaces."""
    folded = unicodedata.normalize("NFC", term).casefold().translate(_APOSTROPHES)
    return " ".join(folded.split())


def normalise(text_: str) -> str:
    """Text as the matcher sees it (the same for drafts and terms)."""
    return clean_term(text_.translate(_DASHES)).replace("ё", "е")


def _mapped(draft: str) -> tuple[str, str, list[int]]:
    """The draft as written (NFC), as the matcher sees it, and for each character of the
    latter where it came from: so a word is shown back the way it was written."""
    written = unicodedata.normalize("NFC", draft)
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(written):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for folded in ch.translate(_DASHES).casefold().translate(_APOSTROPHES):
            if folded == " ":
                if out and out[-1] != " ":
                    out.append(" ")
                    origin.append(i)
                continue
            out.append("е" if folded == "ё" else folded)
            origin.append(i)
    return written, "".join(out), origin


def same_language(a: str, b: str) -> bool:
    """uz and uz_Cyrl are one language in two alphabets; a facility reads both."""
    return a.split("_")[0] == b.split("_")[0]


# --- the language of a draft ---------------------------------------------------------

CYRILLIC = "cyr"
LATIN = "lat"
SCRIPT_OF: dict[str, str] = {
    "en": LATIN,
    "tk": LATIN,
    "uz": LATIN,
    "ru": CYRILLIC,
    "kk": CYRILLIC,
    "ky": CYRILLIC,
    "tg": CYRILLIC,
    "uz_Cyrl": CYRILLIC,
}
# Whose terms apply when a draft's language is unclear: the common language of the script.
SCRIPT_DEFAULT = {CYRILLIC: "ru", LATIN: "en"}

# Letters that only some of the languages use, with how strongly each points to them.
_LETTERS: dict[str, dict[str, float]] = {
    "ә": {"kk": 3},
    "і": {"kk": 3},
    "ұ": {"kk": 3},
    "һ": {"kk": 3},
    "ӣ": {"tg": 3},
    "ӯ": {"tg": 3},
    "ҷ": {"tg": 3},
    "ў": {"uz_Cyrl": 3},
    "қ": {"kk": 1, "tg": 1, "uz_Cyrl": 1},
    "ғ": {"kk": 1, "tg": 1, "uz_Cyrl": 1},
    "ҳ": {"tg": 1.5, "uz_Cyrl": 1.5},
    "ң": {"kk": 1, "ky": 1.5},
    "ө": {"kk": 1, "ky": 1.5},
    "ү": {"kk": 1, "ky": 1.5},
    "ы": {"ru": 0.3, "kk": 0.3, "ky": 0.3},
    "щ": {"ru": 1},
    "ä": {"tk": 3},
    "ň": {"tk": 3},
    "ý": {"tk": 3},
    "ž": {"tk": 2},
    "ç": {"tk": 2},
    "ş": {"tk": 2},
    "ö": {"tk": 1.5},
    "ü": {"tk": 1.5},
}
# Uzbek Latin's oʻ and gʻ (after normalising, o' and g') and a q not followed by u.
_UZ_LATIN = re.compile(r"[og]'(?=\w)|q(?!u)")


# The commonest short words of each language; a few in every sentence.
def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and you to of is that in it with your are for my have hope this be was am not so all"
    ),
    "uz": _words(
        "va bu men sen siz sizga sizni uchun bilan juda ham emas deb endi salom hurmatli "
        "qanday yaxshi yo'q har kuni"
    ),
    "tk": _words(
        "bu men sen siz size sizi üçin bilen gaty hem däl ýok salam hormatly nähili gowy her güni"
    ),
    "ru": _words(
        "и в не на что я ты вы как это с у мы очень тебе тебя вам вас за по но все когда "
        "так уже привет"
    ),
    "kk": _words(
        "және мен сен сіз бұл үшін өте емес жоқ сізге саған менің сенің сәлем қалай жақсы"
    ),
    "ky": _words(
        "жана мен сен сиз бул үчүн абдан эмес жок сизге сага менин сенин салам кандай жакшы"
    ),
    "tg": _words("ва ман ту шумо ин барои бо хеле аст нест ҳам мо дар аз ба салом чӣ хуб"),
    "uz_Cyrl": _words(
        "ва бу мен сен сиз сизга сизни учун билан жуда ҳам эмас деб энди салом ҳурматли "
        "қандай яхши йўқ"
    ),
}

MIN_LETTERS = 12  # fewer letters than this say nothing about a language
MIXED_SHARE = 0.2  # another alphabet this big a part of the letters is a passage
MIXED_LETTERS = 20


def _script(ch: str) -> str | None:
    code = ord(ch)
    if 0x0400 <= code <= 0x052F:
        return CYRILLIC
    if ("a" <= ch <= "z") or 0x00C0 <= code <= 0x024F:
        return LATIN
    return None


@dataclass(frozen=True)
class Scripts:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def main(self) -> str | None:
        if not self.counts:
            return None
        return max(self.counts, key=lambda s: self.counts[s])

    @property
    def minor(self) -> str | None:
        """An alphabet other than the main one, if a real passage is written in it."""
        main = self.main
        for script, n in self.counts.items():
            if script != main and n >= MIXED_LETTERS and n >= MIXED_SHARE * self.total:
                return script
        return None


def scripts(normalised: str) -> Scripts:
    counts: dict[str, int] = {}
    for ch in normalised:
        if ch.isalpha() and (script := _script(ch)) is not None:
            counts[script] = counts.get(script, 0) + 1
    return Scripts(counts)


def _scores(norm: str) -> tuple[str, dict[str, float]] | None:
    """The draft's main alphabet and how strongly each of its languages shows; None when
    there are too few letters to tell."""
    found = scripts(norm)
    script = found.main
    if script is None or found.counts[script] < MIN_LETTERS:
        return None
    candidates = [loc for loc, s in SCRIPT_OF.items() if s == script]
    score = dict.fromkeys(candidates, 0.0)
    for ch in norm:
        for loc, weight in _LETTERS.get(ch, {}).items():
            if loc in score:
                score[loc] += weight
    if script == LATIN:
        score["uz"] += 2 * len(_UZ_LATIN.findall(norm))
    for word in re.findall(r"[\w']+", norm):
        for loc in candidates:
            if word in _WORDS[loc]:
                score[loc] += 2
    return script, score


def detect_language(draft: str) -> str | None:
    """The locale the draft seems written in, or None when there is too little to tell.

    A simple heuristic: the main alphabet, then letters only some languages use and
    their commonest short words. Cyrillic with no sign of a Turkic or Tajik letter is
    taken for Russian; Latin needs a positive sign of English, Turkmen or Uzbek.
    """
    scored = _scores(normalise(draft))
    if scored is None:
        return None
    script, score = scored
    best = max(score, key=lambda loc: (score[loc], loc == SCRIPT_DEFAULT[script]))
    if score[best] >= 2:
        return best
    return SCRIPT_DEFAULT[script] if script == CYRILLIC else None


def term_locales(draft: str, reader_locale: str) -> list[str]:
    """Whose lists apply: the draft's language when it is clear (the reader's, where it
    ties), otherwise the reader's language and the common language of the alphabet; a
    passage in another alphabet adds that alphabet's common language.

    Short drafts in the Turkic languages and Tajik share most of their letters: a
    sentence in Uzbek Cyrillic with "ҳ" and "қ" scores as much for Tajik, and one with
    no telling letter or word for nothing at all. The reader's own language is then the
    likelier one, and it must not be shut out.
    """
    norm = normalise(draft)
    found = scripts(norm)
    scored = _scores(norm)
    out: list[str] = []
    if scored is not None:
        script, score = scored
        best = max(
            score,
            key=lambda loc: (score[loc], loc == reader_locale, loc == SCRIPT_DEFAULT[script]),
        )
        if score[best] >= 2:
            out.append(best)
        else:
            if reader_locale in score:
                out.append(reader_locale)
            out.append(SCRIPT_DEFAULT[script])
    else:
        out.append(reader_locale)
        if found.main is not None:
            out.append(SCRIPT_DEFAULT[found.main])
    if found.minor is not None:
        out.append(SCRIPT_DEFAULT[found.minor])
    return list(dict.fromkeys(out))


# --- contact details and links ---------------------------------------------------------

# Bounded repetitions: a pasted run of thousands of letters or digits must not make the
# matcher backtrack over all of it from every position.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_LINK = re.compile(
    r"(?i)(?:https?://|www\.|\bt\.me/)\S+"
    r"|(?<![\w-])[\w-]{1,63}\.(?:com|org|net|info|io|me|ru|uz|kz|kg|tj|tm|eu|de|uk)\b(?:/\S*)?"
)
_HANDLE = re.compile(r"(?<![\w@])@\w{4,32}")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{7,20}\d(?!\w)")


def contacts(draft: str) -> frozenset[str]:
    """Kinds of contact details and links in the draft: censors cut links out, and an
    address, a number or a username can identify the writer or others."""
    kinds: set[str] = set()
    rest = draft
    if _EMAIL.search(rest):
        kinds.add("email")
        rest = _EMAIL.sub(" ", rest)
    if _LINK.search(rest):
        kinds.add("link")
        rest = _LINK.sub(" ", rest)
    if _HANDLE.search(rest):
        kinds.add("handle")
    if any(sum(c.isdigit() for c in m.group()) >= 9 for m in _PHONE.finditer(rest)):
        kinds.add("phone")
    return frozenset(kinds)


# --- matching --------------------------------------------------------------------------


_WORD = re.compile(r"[\w']+")
# A term this long also catches words that begin with it: a compound, or a stem typed
# as a stem ("следовател"). Shorter ones would catch unrelated words ("суд": "судно").
PREFIX_MIN = 5
MAX_FORMS = 5


@dataclass(frozen=True)
class _Word:
    text: str  # normalised
    start: int  # in the normalised draft
    end: int


def _tokens(norm: str) -> list[_Word]:
    words = (_Word(m.group().strip("'"), m.start(), m.end()) for m in _WORD.finditer(norm))
    return [w for w in words if w.text]


@lru_cache(maxsize=8192)
def _term_words(term: str, locale: str) -> tuple[tuple[str, str], ...]:
    """Each word of a term, with its stem."""
    return tuple((w.text, stemming.stem(w.text, locale)) for w in _tokens(normalise(term)))


def _same_word(word: str, locale: str, listed: str, listed_stem: str) -> bool:
    if len(listed) >= PREFIX_MIN and word.startswith(listed):
        return True
    return stemming.stem(word, locale) == listed_stem


def _spans(words: list[_Word], term: Term) -> list[tuple[int, int]]:
    """Where a censor or risk term matches: (first word, last word + 1)."""
    listed = _term_words(term.term, term.locale)
    if not listed:
        return []
    n = len(listed)
    return [
        (i, i + n)
        for i in range(len(words) - n + 1)
        if all(
            _same_word(words[i + j].text, term.locale, w, st) for j, (w, st) in enumerate(listed)
        )
    ]


def _begins(word: str, listed: str) -> bool:
    # A word of one or two letters (a preposition: "в", "от", "аз") is itself only, or
    # "сбежать от" would also spare "сбежать оттуда".
    return word == listed if len(listed) <= 2 else word.startswith(listed)


def _excepted(words: list[_Word], exceptions: Iterable[Term]) -> set[int]:
    """The words an "ok" exception covers: each begins with the exception's word (is it,
    for a word of one or two letters)."""
    covered: set[int] = set()
    for term in exceptions:
        # Its words as written (cached with their stems), matched by their beginning.
        listed = [w for w, _stem in _term_words(term.term, term.locale)]
        n = len(listed)
        if not n:
            continue
        for i in range(len(words) - n + 1):
            if all(_begins(words[i + j].text, w) for j, w in enumerate(listed)):
                covered.update(range(i, i + n))
    return covered


@dataclass
class _Seen:
    term: Term
    forms: list[str]
    position: int
    count: int = 1


def find_terms(draft: str, terms: Iterable[Term]) -> tuple[Hit, ...]:
    """Listed terms in the draft, in the order they first appear.

    Where terms overlap the longest one wins; a term is not flagged where an "ok"
    exception covers one of its words.
    """
    written, norm, origin = _mapped(draft)
    words = _tokens(norm)
    terms = list(terms)
    covered = _excepted(words, (t for t in terms if t.reason == OK))
    matches: list[tuple[int, int, str, Term]] = []
    for term in terms:
        if term.reason not in (CENSOR, RISK):
            continue
        key = normalise(term.term)
        for first, last in _spans(words, term):
            if covered.isdisjoint(range(first, last)):
                matches.append((first, last, key, term))
    matches.sort(key=lambda m: (m[0], -(m[1] - m[0]), -len(m[2])))
    seen: dict[str, _Seen] = {}
    covered_to = -1
    for first, last, key, term in matches:
        if first < covered_to:
            continue
        covered_to = last
        start, end = words[first].start, words[last - 1].end
        found = " ".join(written[origin[start] : origin[end - 1] + 1].split())[:60]
        if key not in seen:
            seen[key] = _Seen(term=term, forms=[found], position=start)
            continue
        entry = seen[key]
        entry.count += 1
        if len(entry.forms) < MAX_FORMS and found.casefold() not in map(str.casefold, entry.forms):
            entry.forms.append(found)
    return tuple(
        Hit(
            term=s.term.term,
            reason=s.term.reason,
            advice=s.term.advice,
            locale=s.term.locale,
            found=s.forms[0],
            count=s.count,
            position=s.position,
            forms=tuple(s.forms),
        )
        for s in sorted(seen.values(), key=lambda s: s.position)
    )


def check(
    draft: str,
    reader_locale: str,
    terms: Sequence[Term],
    required_locale: str | None = None,
    limits: Limits = LIMITS,
    country: str | None = None,
) -> Findings:
    """What stands out in a draft. Pure and in memory: nothing is kept or logged.

    `terms` may hold several languages; the lists of `term_locales` apply (the first
    of them wins where two lists hold the same term). `required_locale` is the language
    the facility requires letters in, if known; `country` the facility's country, whose
    own terms apply with the rest (every country's do when it is not known).
    """
    draft = draft[: limits.max_chars]
    wanted = term_locales(draft, reader_locale)
    rank = {loc: i for i, loc in enumerate(wanted)}
    applying = sorted(
        (
            t
            for t in terms
            if t.locale in rank and (t.country is None or country in (None, t.country))
        ),
        key=lambda t: rank[t.locale],
    )
    unique: dict[str, Term] = {}
    for t in applying:
        unique.setdefault(normalise(t.term), t)
    chars = len(draft.strip())
    return Findings(
        hits=find_terms(draft, unique.values()),
        language=detect_language(draft),
        required=required_locale,
        mixed=scripts(normalise(draft)).minor is not None,
        contacts=contacts(draft),
        chars=chars,
        pages=max(1, math.ceil(chars / limits.page_chars)),
        too_long=chars > limits.long_chars,
    )


# --- with the database -----------------------------------------------------------------


def _term(row: CheckTerm) -> Term:
    return Term(
        locale=row.locale, term=row.term, reason=row.reason, advice=row.advice, country=row.country
    )


async def check_draft(
    session: AsyncSession,
    draft: str,
    reader_locale: str,
    required_locale: str | None = None,
    limits: Limits = LIMITS,
    country: str | None = None,
) -> Findings:
    """`check` with the editors' current lists; only the terms are read, nothing written."""
    locales = term_locales(draft[: limits.max_chars], reader_locale)
    rows = await repo.for_locales(session, locales)
    terms = [_term(r) for r in rows]
    return check(draft, reader_locale, terms, required_locale, limits, country)


@dataclass(frozen=True)
class Target:
    """The case a draft is written for: its name and the language its facility requires."""

    case_id: int
    name: str
    letter_locale: str | None
    country: str


async def target(session: AsyncSession, case_id: int, chain: Sequence[str]) -> Target | None:
    """A visible case that takes cards now, or None (hidden, released, no letters)."""
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or LetterKind.CARD not in letters.kinds_for(case):
        return None
    texts = await cases.texts_for(session, case.id)
    return Target(
        case_id=case.id,
        name=cases.pick_text(texts, chain).name,
        letter_locale=case.letter_locale,
        country=case.country,
    )


# --- editors' lists --------------------------------------------------------------------


def validate(locale: str, term: str, reason: str, advice: str | None) -> Term:
    """An editor's entry, cleaned, or TermError naming what is wrong."""
    if locale not in SUPPORTED_LOCALES:
        raise TermError("locale")
    cleaned = clean_term(term)
    if not (MIN_TERM <= len(cleaned) <= MAX_TERM) or not any(c.isalpha() for c in cleaned):
        raise TermError("term")
    reason = reason.strip().casefold()
    if reason not in REASONS:
        raise TermError("reason")
    advice = " ".join((advice or "").split()) or None
    if advice is not None and len(advice) > MAX_ADVICE:
        raise TermError("advice")
    return Term(locale=locale, term=cleaned, reason=reason, advice=advice)


async def terms_of(session: AsyncSession, locale: str) -> list[Term]:
    """One language's list, alphabetically: an exception stands next to its term."""
    return [_term(r) for r in await repo.for_locale(session, locale)]


async def counts(session: AsyncSession) -> dict[str, int]:
    """How many terms each language's list has."""
    return await repo.counts(session)


def _target(term: Term) -> str:
    return f"{term.locale}:{term.term}"[:100]


async def add_term(session: AsyncSession, term: Term, actor: str) -> bool:
    """Add or change a validated term, audited; True if it is new."""
    new = await repo.put(session, term.locale, term.term, term.reason, term.advice)
    await staff.audit(session, actor, "check_terms.add", _target(term))
    return new


async def remove_term(session: AsyncSession, locale: str, term: str, actor: str) -> bool:
    """Remove a term, audited when there was one; False if the list did not hold it."""
    cleaned = clean_term(term)
    removed = await repo.remove(session, locale, cleaned)
    if removed:
        await staff.audit(session, actor, "check_terms.remove", _target(Term(locale, cleaned, "")))
    return removed


# --- the seed lists --------------------------------------------------------------------

Text300 = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ADVICE)]


class SeedTerm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: Annotated[str, StringConstraints(min_length=MIN_TERM, max_length=MAX_TERM)]
    reason: Reason
    advice: Text300 | None = None
    country: Literal["kz", "kg", "tj", "tm", "uz"] | None = None


class SeedFile(BaseModel):
    """One language's shipped list (bot/data/check_terms/<locale>.yaml)."""

    model_config = ConfigDict(extra="forbid")
    # Raised when the list gains terms that bots already running should get.
    version: int = Field(ge=1)
    locale: Locale
    terms: list[SeedTerm]


def load_seed(path: Path = SEED_DIR) -> list[Term]:
    """The shipped lists, validated and cleaned as an editor's entries would be."""
    return [t for _version, terms in _read_seed(path).values() for t in terms]


def _read_seed(path: Path) -> dict[str, tuple[int, list[Term]]]:
    out: dict[str, tuple[int, list[Term]]] = {}
    for file in sorted(path.glob("*.yaml")):
        parsed = SeedFile.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
        if file.stem != parsed.locale or parsed.locale in out:
            raise ValueError(f"{file.name}: the file of {parsed.locale!r} is <locale>.yaml")
        seen: set[str] = set()
        terms: list[Term] = []
        for entry in parsed.terms:
            term = validate(parsed.locale, entry.term, entry.reason, entry.advice)
            if term.term in seen:
                raise ValueError(f"{parsed.locale}: {term.term!r} is listed twice")
            seen.add(term.term)
            terms.append(replace(term, country=entry.country))
        out[parsed.locale] = (parsed.version, terms)
    return out


async def sync(session: AsyncSession, path: Path = SEED_DIR) -> int:
    """Give each language the shipped terms it has not had yet; editors' lists stay.

    A language with no terms gets its whole list. A language whose list came from an
    older version of its file gets the terms it lacks (an editor's own wording of a term
    stays as it is); after that, until the file's version is raised again, the editors'
    list is the list. Returns how many terms were added. (A language whose every term an
    editor removed is seeded again at the next start: an empty list would check nothing.)
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    shipped = _read_seed(path)
    had = await repo.seed_versions(session)
    stored = await repo.keys(session)
    have = {locale for locale, _term in stored}
    rows = [
        CheckTerm(locale=t.locale, term=t.term, reason=t.reason, advice=t.advice, country=t.country)
        for locale, (version, terms) in shipped.items()
        for t in terms
        if locale not in have or (had.get(locale, 0) < version and (locale, t.term) not in stored)
    ]
    if rows:
        await repo.add_all(session, rows)
    for locale, (version, _terms) in shipped.items():
        await repo.set_seed_version(session, locale, version)
    return len(rows)
