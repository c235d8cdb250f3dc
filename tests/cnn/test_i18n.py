"""The lab's languages: complete catalogs, placeholders kept, numbers in each language's form, strings on pages
marked for translation, the command line in English."""
import ast
import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnn import i18n
from cnn.i18n import _, n_

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import i18n as catalogs  # scripts/i18n.py: the same extraction a teacher runs

LANGUAGES = catalogs.codes()  # every catalog shipped in locales/


@pytest.fixture
def speak():
    """Switch this thread's language for one test (English again afterwards)."""
    yield i18n.set_language
    i18n.set_language(i18n.DEFAULT)


@pytest.fixture(scope="module")
def template():
    return catalogs.template()


def test_the_shipped_languages_are_offered():
    assert {"en", "de", "es", "fr", "pt_BR", "zh_Hans", "hi", "ar"} <= set(i18n.languages()) == {"en", *LANGUAGES}
    assert i18n.languages()["de"] == "Deutsch" and i18n.languages()["es"] == "Español"
    assert i18n.languages()["ar"] == "العربية" and i18n.languages()["zh_Hans"] == "简体中文"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_string_of_the_code_is_translated(code, template):
    """Fails when a marked string has no translation (run scripts/i18n.py extract, translate, compile)."""
    assert len(template) > 800
    assert catalogs.missing(code, template) == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_translation_keeps_the_placeholders_and_the_compiled_file_is_up_to_date(code):
    """A translation with another {name} would break .format; a .mo older than its .po would show old text."""
    catalog = catalogs.read(code)
    compiled = gettext.GNUTranslations(catalogs.po_path(code).with_suffix(".mo").open("rb"))
    fields = re.compile(r"\{[^{}]*\}")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert sorted(fields.findall(text)) == sorted(fields.findall(ids[-1])), (ids[0], text)
        if len(ids) == 1:
            assert compiled.gettext(ids[0]) == strings[0], f"{code}: compile the catalogs again"
        else:
            for n in (0, 1, 2, 5, 11, 100):  # each plural form the language's rule picks (Arabic has six)
                assert compiled.ngettext(ids[0], ids[1], n) == strings[compiled.plural(n)]


def test_numbers_read_the_way_each_language_writes_them(speak):
    assert _("{n:,} images", n=1234567) == "1,234,567 images"
    assert i18n.number(0.9923, ".1%") == "99.2%"
    speak("de")
    assert i18n.number(0.9923, ".1%") == "99,2\u00a0%" and i18n.number(1234567, ",") == "1.234.567"
    assert _("Finished: test accuracy {acc:.1%}.", acc=0.9923) == "Fertig: Testgenauigkeit 99,2\u00a0%."
    assert n_("{n:,} example", "{n:,} examples", 1) == "1 Beispiel"
    assert n_("{n:,} example", "{n:,} examples", 2000) == "2.000 Beispiele"
    speak("es")
    assert i18n.number(2.5, ".1f") == "2,5"
    assert _("Home") == "Inicio"
    speak("fr")  # CLDR: a narrow no-break space between groups, a no-break space before "%"
    assert i18n.number(1234567, ",") == "1\u202f234\u202f567" and i18n.number(0.9923, ".1%") == "99,2\u00a0%"
    speak("hi")  # lakhs and crores: the groups after the first three are of two digits
    assert i18n.number(1234567, ",") == "12,34,567" and i18n.number(60000, ",") == "60,000"
    assert n_("{n:,} example", "{n:,} examples", 1234567) == "12,34,567 उदाहरण"
    speak("ar")  # CLDR writes Arabic's numbers in Western digits by default (ar-u-nu-latn)
    assert i18n.number(0.9923, ".1%") == "99.2%" and i18n.number_locale() == "ar-u-nu-latn"
    assert [n_("{n} machine", "{n} machines", n) for n in (0, 1, 2, 3, 11, 100)] == [
        "0 جهاز", "1 جهاز", "2 جهازان", "3 أجهزة", "11 جهازًا", "100 جهاز"]  # Arabic's six plural forms
    speak("zh_Hans")
    assert n_("{n:,} image", "{n:,} images", 2) == "2 张图像" and i18n.html_lang() == "zh-Hans"


def test_arabic_is_written_right_to_left_and_every_other_language_left_to_right():
    assert [code for code in i18n.languages() if i18n.direction(code) == "rtl"] == ["ar"]
    assert i18n.html_lang("pt_BR") == "pt-BR" and i18n.number_locale("pt_BR") == "pt-BR-u-nu-latn"


def test_shapes_stay_left_to_right_on_a_right_to_left_page(speak):
    """In Arabic the page's direction would show 28×28×1 as 1×28×28: shapes and tuples are isolated left to right
    (LRI ... PDI), in the catalog's sentences, in the values put into them and in table cells; other languages are
    untouched."""
    lri, pdi = "\u2066", "\u2069"
    speak("ar")
    said = _("Input: {h}×{w}×{c} image. The output layer (Dense {k}, softmax) is added after your layers.",
             h=28, w=28, c=1, k=10)
    assert f"{lri}28×28×1{pdi}" in said
    assert f"{lri}32×32×3{pdi}" in _("{name}: {shape}, expected {shape2}.", name="a", shape="28×28", shape2="32×32×3")
    cells = i18n.headed([{"output shape": "(None, 28, 28, 32)"}])
    assert cells == [{_("output shape"): f"{lri}(None, 28, 28, 32){pdi}"}]
    assert i18n.bidi("1,234 images") == "1,234 images" and i18n.bidi(5) == 5
    speak("de")
    assert i18n.bidi("28×28×1") == "28×28×1" and lri not in _("{name}: {shape}, expected {shape2}.", name="a",
                                                                  shape="28×28", shape2="32×32×3")


def test_the_browser_language_picks_a_spoken_one_and_anything_else_is_english():
    assert i18n.best_language("de-DE") == "de" and i18n.best_language("es_419") == "es"
    assert i18n.best_language("fr-FR") == "fr" and i18n.best_language(None) == "en" and i18n.best_language("") == "en"
    assert i18n.best_language("pt-BR") == "pt_BR" and i18n.best_language("pt-PT") == "pt_BR", "same language first"
    assert i18n.best_language("zh-CN") == "zh_Hans" and i18n.best_language("zh") == "zh_Hans"
    assert i18n.best_language("zh-TW") == "en", "Traditional Chinese is not read as Simplified"
    assert i18n.best_language("ar-EG") == "ar" and i18n.best_language("hi-IN") == "hi"
    assert i18n.best_language("nl-NL") == "en" and i18n.best_language("xx") == "en"


def test_a_message_made_where_no_page_is_known_is_said_in_each_readers_language(speak):
    """Runs are stopped by the engine and the worker, which know no page's language: they keep a message (its
    sentence and values), and each page says it in its reader's language; the class database keeps it as data too.
    Nothing is parsed back from English."""
    from cnn.jobs.endings import stop_message

    message = stop_message("teacher", (2, 30), 60)
    assert i18n.said(message) == "Stopped by your teacher at epoch 2, batch 30."
    stored = i18n.to_record(message)
    speak("de")
    assert i18n.said(message) == "Von deiner Lehrkraft gestoppt bei Epoche 2, Batch 30."
    assert i18n.said(i18n.from_record(stored)) == "Von deiner Lehrkraft gestoppt bei Epoche 2, Batch 30."
    assert i18n.said("Something an older version recorded.") == "Something an older version recorded."
    assert i18n.said("Stopped by you.") == "Stopped by you.", "English text is never parsed back"
    speak("es")
    assert i18n.said(stop_message("user", None, 60)) == "Detenida por ti."
    nested = i18n.M_("The training cluster is unavailable since {at}: {reason} Runs train on this server until it is "
                     "back (tried again every half minute).", at="10:15",
                     reason=i18n.M_("The training cluster stopped answering."))
    assert i18n.said(i18n.from_record(i18n.to_record(nested))) == i18n.said(nested)
    assert "10:15" in i18n.said(nested) and "training cluster stopped" not in i18n.said(nested)


def test_catalog_strings_are_whole_sentences_not_english_pieces():
    """Pieces glued by code ("a " + word) cannot be translated; a marked string never starts or ends mid-word in a
    way only English grammar allows (spot checks of the mistakes gettext beginners make)."""
    for message in catalogs.template():
        text = message.id if isinstance(message.id, str) else message.id[0]
        assert not re.search(r"\{\w+\}s\b", text), text  # "{n} file{s}": use n_() instead


# Streamlit calls whose text people read, and the keyword arguments that are read too.
_UI_CALLS = {"markdown", "write", "caption", "title", "header", "subheader", "info", "warning", "error", "success",
             "button", "toggle", "checkbox", "radio", "selectbox", "multiselect", "slider", "select_slider",
             "number_input", "text_input", "text_area", "file_uploader", "expander", "metric", "download_button",
             "segmented_control", "form_submit_button", "spinner", "progress", "toast", "popover", "camera_input",
             "tabs", "image", "page_link"}
_UI_KEYWORDS = {"label", "help", "placeholder", "caption", "text", "alt"}


def _unmarked(path: Path) -> list[str]:
    """Literal text given to a Streamlit call without going through _() (f-strings included)."""
    tree = ast.parse(path.read_text())
    found = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _UI_CALLS):
            continue
        first = call.args[:1] if call.func.attr not in ("image", "page_link") else []
        if call.func.attr == "tabs" and call.args and isinstance(call.args[0], ast.List):
            first = list(call.args[0].elts)
        for arg in first + [k.value for k in call.keywords if k.arg in _UI_KEYWORDS]:
            parts = [arg.left, arg.right] if isinstance(arg, ast.BinOp) else [arg]
            for part in parts:
                text = ""
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    text = part.value
                elif isinstance(part, ast.JoinedStr):
                    text = "".join(v.value for v in part.values if isinstance(v, ast.Constant))
                if re.search(r"[A-Za-z]{3}", text) and not text.lstrip().startswith(("<", ":material/")):
                    found.append(f"{path.name}:{part.lineno}: {text[:60]!r}")
    return found


def test_every_string_a_page_shows_is_marked_for_translation():
    """Fails when a page passes Streamlit English text that is not in the catalog (wrap it in _())."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    problems = [p for f in files for p in _unmarked(f)]
    assert problems == []


def test_the_checker_finds_an_unmarked_string(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('import streamlit as st\nst.caption("Hello there")\nst.button(_("Fine"), help=f"Not {x} fine")\n')
    assert [p.split(": ", 1)[1] for p in _unmarked(page)] == ["'Hello there'", "'Not  fine'"]


def test_the_command_line_stays_english_whatever_the_system_language():
    env = {"LANG": "de_DE.UTF-8", "LANGUAGE": "de", "LC_ALL": "de_DE.UTF-8", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "cnn", "train", "--dataset", "nope"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "Unknown dataset 'nope'" in out.stderr + out.stdout


def test_the_readmes_extract_command_names_every_keyword_the_check_reads():
    """README's ``pybabel extract`` and scripts/i18n.py's check find the same strings: one list of keywords."""
    import re

    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("pybabel extract"))
    flags = dict(re.findall(r"-k (\w+)(?::([\d,]+))?", command))
    ours = {k: v for k, v in catalogs.KEYWORDS.items() if k not in catalogs.DEFAULT_KEYWORDS}
    assert {k: (tuple(int(x) for x in v.split(",")) if v else None) for k, v in flags.items()} == ours
    assert "-F babel.cfg" in command


@pytest.mark.parametrize("code", LANGUAGES)
def test_no_translation_hedges_a_word_it_cannot_know_the_gender_of(code):
    """"Zeichne ein(e) Kreis": a class name a student typed has no gender the catalog can know, so a translation
    words around it instead of hedging the article."""
    hedged = [m.id for m in catalogs.read(code) if m.id and re.search(r"\b\w+\((e|n|r|s|a|as|os)\)", str(m.string))]
    assert hedged == []
