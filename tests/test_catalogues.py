"""Every catalogue complete, consistent with the source and compiled; nothing missed."""

from __future__ import annotations

import ast
import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from config.settings import SUPPORTED_LOCALES
from tests.support import check_html

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
KEYWORDS = {"_": None, "__": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?[a-z][a-z-]*>")


def po(locale: str):
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def pot():
    with (LOCALES / "messages.pot").open("rb") as fh:
        return read_po(fh)


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def source_msgids() -> set[str]:
    """Literal gettext calls found by walking the AST, f-strings included."""
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in KEYWORDS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
    return found


def test_template_holds_every_message_in_the_code():
    missing = source_msgids() - _ids(pot())
    assert not missing, f"run `python3 dev.py i18n`; not extracted: {sorted(missing)[:5]}"


def test_template_is_up_to_date_with_extraction():
    extracted = set()
    for folder in ("bot", "handlers"):
        for _, _, msg, *_ in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords={"_": None, "__": None, "lazy_gettext": None, "ngettext": (1, 2)},
        ):
            extracted.add(msg if isinstance(msg, str) else msg[0])
    assert extracted == _ids(pot()), "run `python3 dev.py i18n`"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogue_is_complete_and_consistent(locale: str):
    catalog = po(locale)
    assert _ids(catalog) == _ids(pot()), f"{locale}: run `python3 dev.py i18n`"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0][:40]}")
        want = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if not text:
                problems.append(f"untranslated: {ids[0][:40]}")
                continue
            if set(PLACEHOLDER.findall(text)) != want:
                problems.append(f"placeholders differ: {ids[0][:40]}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(ids[0])):
                problems.append(f"tags differ: {ids[0][:40]}")
            sample = PLACEHOLDER.sub("x", text)
            if TAG.search(ids[0]) and (err := check_html(sample)):
                problems.append(f"bad HTML ({err}): {ids[0][:40]}")
    assert not problems, f"{locale}: {problems[:8]}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_compiled_catalogue_is_current(locale: str):
    buffer = BytesIO()
    write_mo(buffer, po(locale))
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    mo = LOCALES / locale / "LC_MESSAGES" / "messages.mo"
    with mo.open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert shipped._catalog == fresh._catalog, f"{locale}: run `python3 dev.py i18n`"  # type: ignore[attr-defined]
