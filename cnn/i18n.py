"""The lab's languages: every string a student or teacher reads goes through :func:`_` (gettext).

Catalogs live in ``locales/<code>/LC_MESSAGES/cnnlab.po`` and are compiled to ``.mo`` files next to them
(``python scripts/i18n.py compile``; both are committed, so a fresh clone needs no build step). The language
is per thread (Streamlit runs each browser session's script in its own thread): the pages set it at the start
of every run from the sidebar's picker or the browser's language; anything else (the command line, training
workers) stays English.

Numbers inside translated strings are formatted for the language: ``_("{acc:.1%} right", acc=0.992)`` reads
"99.2% right" in English and "99,2 % richtig" in German. The format spec stays Python's; only the symbols
change.
"""
from __future__ import annotations

import contextlib
import contextvars
import gettext
import json
import re
import string
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "cnnlab"
# Code -> the language's own name (what the picker shows: a German reader looks for "Deutsch").
LANGUAGES = {"en": "English", "de": "Deutsch", "es": "Español", "fr": "Français", "pt_BR": "Português (Brasil)",
             "zh_Hans": "简体中文", "hi": "हिन्दी", "ar": "العربية"}
DEFAULT = "en"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("cnnlab_language", default=DEFAULT)


def languages() -> dict[str, str]:
    """The languages the lab speaks: English plus every catalog under ``locales/`` (a teacher's new one too, after a
    restart). Looked up once: every page run and every fragment's tick asks."""
    return dict(_found_languages())


@cache
def _found_languages() -> dict[str, str]:
    found = dict(LANGUAGES)
    if LOCALE_DIR.is_dir():
        for mo in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
            code = mo.parent.parent.name
            found.setdefault(code, _own_name(code))
    return found


def _own_name(code: str) -> str:
    try:
        from babel import Locale

        return Locale.parse(code).get_display_name(code).capitalize()
    except Exception:  # an unknown code still gets a name: the code itself
        return code


def set_language(code: str) -> None:
    """Speak ``code`` in this thread from now on (an unknown code means English)."""
    _language.set(code if code in languages() else DEFAULT)


def language() -> str:
    return _language.get()


def best_language(locale: str | None) -> str:
    """The lab's language for a browser's ``de-DE`` / ``es_419`` / ``pt-PT`` / ``zh-CN`` / ``fr``: the catalog of that
    language and region, else of that language (Chinese: of that script, Simplified unless Taiwan, Hong Kong or Macau
    or ``Hant`` is named), else of that language in another region (``pt-PT`` reads Brazilian Portuguese), else
    English."""
    parts = [p for p in (locale or "").replace("_", "-").split("-") if p]
    if not parts:
        return DEFAULT
    lang, rest = parts[0].lower(), [p.lower() for p in parts[1:]]
    known = languages()
    if lang == "zh":
        script = "Hant" if {"hant", "tw", "hk", "mo"} & set(rest) else "Hans"
        return f"zh_{script}" if f"zh_{script}" in known else DEFAULT
    regions = [p.upper() for p in rest if len(p) == 2 or p.isdigit()]
    for code in [*(f"{lang}_{r}" for r in regions), lang]:
        if code in known:
            return code
    return next((code for code in known if code.split("_")[0] == lang), DEFAULT)


def html_lang(code: str | None = None) -> str:
    """A language code as HTML's ``lang`` and the browser's Intl want it (BCP 47): ``pt-BR``, ``zh-Hans``."""
    return (code or language()).replace("_", "-")


@cache
def _locale_data(code: str) -> tuple[str, str]:
    """(writing direction "ltr"/"rtl", CLDR's default numbering system) of a language, by Babel."""
    if code == DEFAULT:
        return "ltr", "latn"
    try:
        from babel import Locale

        locale = Locale.parse(code)
        return ("rtl" if locale.character_order == "right-to-left" else "ltr",
                getattr(locale, "default_numbering_system", "latn") or "latn")
    except Exception:  # no Babel, or a code it does not know
        return "ltr", "latn"


def direction(code: str | None = None) -> str:
    """"rtl" for a language written right to left (Arabic), else "ltr": the page's ``dir``."""
    return _locale_data(code or language())[0]


def number_locale(code: str | None = None) -> str:
    """The locale the browser formats this language's numbers with: its BCP 47 tag and CLDR's default digits
    (``ar-u-nu-latn``: CLDR writes Arabic's numbers in Western digits by default), so that the Draw pad's numbers
    read as the server's do."""
    return f"{html_lang(code)}-u-nu-{_locale_data(code or language())[1]}"


@cache
def _catalog(code: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)


def reload_catalogs() -> None:
    """Forget loaded catalogs (after ``compile``, for tests)."""
    _catalog.cache_clear()
    _symbols.cache_clear()
    _locale_data.cache_clear()
    _found_languages.cache_clear()


def _(message: str, /, **values: object) -> str:
    """``message`` in this thread's language, with ``values`` put in (numbers formatted for the language)."""
    text = _catalog(language()).gettext(message) if message else message
    return _FORMATTER.format(text, **values) if values else text


def n_(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The singular or plural form for ``n`` in this thread's language; ``{n}`` can be used in both."""
    text = _catalog(language()).ngettext(singular, plural, n)
    return _FORMATTER.format(text, n=n, **values)


class Message(str):
    """A sentence kept as data: its words (the catalog's id) and its values, for what is made once and read by many
    (a cached dataset's note) or made where no page's language is known (a run's ending, in the engine). As text it
    reads in English (logs, the command line, the tests); :func:`said` says it in the reader's language."""

    text: str
    values: tuple[tuple[str, Any], ...]

    def __new__(cls, text: str, values: tuple[tuple[str, Any], ...] = ()) -> Message:
        english = text.format(**dict(values)) if values else text
        made = super().__new__(cls, english)
        made.text, made.values = text, tuple(values)
        return made

    def __reduce__(self):  # pickled as its words and values (a worker's, the Ray driver's), not as English text
        return Message, (self.text, self.values)

    def say(self) -> str:
        """In this thread's language (numbers too)."""
        return _(self.text, **{k: v.say() if isinstance(v, Message) else v for k, v in self.values})


def M_(text: str, /, **values: Any) -> Message:
    """Mark (like N_) a sentence and keep it with its values as a :class:`Message`; translated when shown."""
    return Message(text, tuple(values.items()))


def headed(rows: list[dict]) -> list[dict]:
    """Table rows with their column names translated (the library's rows have English keys: code reads them), and
    their shapes kept left to right on a right-to-left page (:func:`bidi`)."""
    return [{_(str(k)): bidi(v) for k, v in row.items()} for row in rows]


# A shape (28×28×1, 3×3) or a tuple of sizes ((None, 28, 28, 32)): read left to right in every language.
_LEFT_TO_RIGHT = re.compile(r"\(?(?:None|\d+(?:[.,]\d+)*)(?:(?:×|, )(?:None|\d+(?:[.,]\d+)*))+\)?")


def bidi(text: Any) -> Any:
    """``text`` as a right-to-left page should show it: its shapes and tuples isolated left to right (Unicode's
    LRI ... PDI), which the page's direction would otherwise reverse (28×28×1 read as 1×28×28). Unchanged on a
    left-to-right page, and when not text. The catalogs mark the shapes of their own sentences the same way."""
    if not isinstance(text, str) or direction() != "rtl":
        return text
    return _LEFT_TO_RIGHT.sub(lambda m: f"\u2066{m.group()}\u2069", text)


def N_(message: str, /) -> str:
    """Mark a string for the catalog without translating it now (module constants: translated where shown)."""
    return message


def said(text: Message | str | None) -> str:
    """What the library said, in this thread's language: a :class:`Message` (a job's ending, where it trains, the
    engine's notice: made where no page's language is known) is said now; plain text (an error's own words, Ray's,
    a run an older version recorded) as it is. No sentence is ever parsed back from English."""
    return text.say() if isinstance(text, Message) else (text or "")


def to_record(text: Message | str | None) -> str:
    """A message as the class database keeps it (a run's ending, read by every server in its reader's language):
    JSON with the sentence and its values; plain text as it is."""
    if not isinstance(text, Message):
        return text or ""
    return json.dumps(_encoded(text), default=str)


def from_record(text: str | None) -> Message | str:
    """What :func:`to_record` kept: the Message again, or the plain text."""
    if text and text.startswith('{"say":'):
        with contextlib.suppress(ValueError, TypeError, KeyError):
            return _decoded(json.loads(text))
    return text or ""


def _encoded(m: Message) -> dict[str, Any]:
    return {"say": m.text, "values": {k: _encoded(v) if isinstance(v, Message) else v for k, v in m.values}}


def _decoded(d: dict[str, Any]) -> Message:
    values = {k: _decoded(v) if isinstance(v, dict) and "say" in v else v for k, v in d["values"].items()}
    return Message(str(d["say"]), tuple(values.items()))


def number(value: float, spec: str = "") -> str:
    """One number formatted for this thread's language with a Python format spec (``",.0f"``, ``".1%"``)."""
    return _FORMATTER.format_field(value, spec)


@cache
def _symbols(code: str) -> tuple[str, str, str, int]:
    """(decimal mark, group separator, text before "%", size of the groups after the first) of a language, by CLDR
    (Hindi groups lakhs and crores: 12,34,567); English is Python's own."""
    if code == DEFAULT:
        return ".", ",", "", 3
    try:
        from babel import Locale, numbers

        locale = Locale.parse(code)
        pattern = locale.percent_formats[None].pattern
        before = "\u00a0" if "\u00a0%" in pattern or " %" in pattern else ""
        grouping = locale.decimal_formats[None].grouping[1]
        return numbers.get_decimal_symbol(locale), numbers.get_group_symbol(locale), before, int(grouping)
    except Exception:  # no Babel, or a language it does not know: Python's symbols
        return ".", ",", "", 3


_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")


def _regrouped(text: str, size: int) -> str:
    """Python's thousands groups ("1,234,567") as groups of ``size`` after the first three ("12,34,567")."""
    def group(match: re.Match) -> str:
        digits = match.group().replace(",", "")
        head, tail = digits[:-3], digits[-3:]
        groups = [head[max(0, i - size):i] for i in range(len(head), 0, -size)][::-1]
        return ",".join([*groups, tail])
    return _GROUPED.sub(group, text, count=1)


class _LocaleFormatter(string.Formatter):
    """str.format, with the language's decimal mark, group separator, grouping and percent sign on numbers."""

    def format_field(self, value: object, format_spec: str) -> str:
        text = format(value, format_spec)
        if isinstance(value, str):
            return bidi(text)  # a shape put into a sentence ("{shape}") stays left to right on a right-to-left page
        if not isinstance(value, int | float) or isinstance(value, bool) or language() == DEFAULT:
            return text
        decimal, group, before_percent, size = _symbols(language())
        if size != 3 and "," in format_spec:
            text = _regrouped(text, size)
        text = text.translate({ord("."): "\0", ord(","): group}).replace("\0", decimal)
        if text.endswith("%"):
            text = text[:-1] + before_percent + "%"
        return text


_FORMATTER = _LocaleFormatter()
