"""The lab's translation catalogs: extract the strings, update each language's .po, compile the .mo files.

    python scripts/i18n.py extract          # locales/cnnlab.pot from the code; every .po gets the new strings
    python scripts/i18n.py new fr           # start a language: locales/fr/LC_MESSAGES/cnnlab.po
    python scripts/i18n.py compile          # .po -> .mo (what the app reads); restart the app afterwards
    python scripts/i18n.py check            # what a language still misses (the tests run the same check)

Strings are marked in the code with ``_()``, ``n_()`` (plurals), ``N_()`` (constants), ``M_()`` (sentences kept
as data, said when shown) and ``D_()`` (sentences made where no page's language is known, said in it by
``translated()``), see cnn/i18n.py.
The command line (cnn/cli.py) stays English and is not extracted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages import mofile, pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "cnnlab.pot"
KEYWORDS = {"_": None, "N_": None, "D_": None, "M_": None, "n_": (1, 2)}
SOURCES = ("app.py", "pages", "ui", "cnn")
SKIP = {"cnn/cli.py", "cnn/__main__.py"}  # the command line stays English
HEADER = {"project": "CNN Lab", "version": "1", "copyright_holder": "the CNN Lab developers",
          "msgid_bugs_address": "", "last_translator": "the CNN Lab developers"}


def source_files() -> list[Path]:
    files = []
    for entry in SOURCES:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if f.relative_to(ROOT).as_posix() not in SKIP]


def template() -> Catalog:
    """Every marked string in the code, with where it is used."""
    catalog = Catalog(domain="cnnlab", charset="utf-8", fuzzy=False, **HEADER)
    for path in source_files():
        rel = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file("python", path, keywords=KEYWORDS):
            catalog.add(message, locations=[(rel, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / "cnnlab.po"


def codes() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/cnnlab.po"))


def read(code: str) -> Catalog:
    with po_path(code).open("rb") as f:
        return pofile.read_po(f, locale=code, domain="cnnlab")


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pofile.write_po(f, catalog, width=120, sort_output=False, omit_header=False, include_previous=False)


def extract() -> None:
    pot = template()
    write(pot, POT)
    for code in codes():
        catalog = read(code)
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.fuzzy = False  # the header: its fields are filled in
        write(catalog, po_path(code))
    print(f"{len(pot)} strings in {POT.relative_to(ROOT)}; updated: {', '.join(codes()) or 'no language yet'}")


def new(code: str) -> None:
    if po_path(code).exists():
        sys.exit(f"{po_path(code).relative_to(ROOT)} exists already: run extract to add new strings to it.")
    catalog = Catalog(locale=code, domain="cnnlab", charset="utf-8", fuzzy=False, **HEADER)
    catalog.update(template())
    write(catalog, po_path(code))
    print(f"Started {po_path(code).relative_to(ROOT)}: translate each msgstr, then compile.")


def compile_all() -> None:
    for code in codes():
        catalog = read(code)
        with po_path(code).with_suffix(".mo").open("wb") as f:
            mofile.write_mo(f, catalog, use_fuzzy=False)
        print(f"{code}: {po_path(code).with_suffix('.mo').relative_to(ROOT)}")


def missing(code: str, pot: Catalog | None = None) -> list[str]:
    """The strings of the code that ``code`` has no (or only a fuzzy) translation of."""
    catalog = read(code)
    pot = pot or template()
    gaps = []
    for message in pot:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = [] if found is None else (found.string if isinstance(found.string, tuple | list) else [found.string])
        if found is None or found.fuzzy or not all(strings):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def check() -> int:
    pot = template()
    total = sum(1 for message in pot if message.id)
    bad = 0
    for code in codes():
        gaps = missing(code, pot)
        bad += len(gaps)
        print(f"{code}: {total - len(gaps)} of {total} translated" + "".join(
            f"\n  missing: {g!r}" for g in gaps[:20]))
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["extract", "new", "compile", "check"])
    parser.add_argument("code", nargs="?", help="a language code (new): de, es, fr, pt_BR, ...")
    args = parser.parse_args()
    if args.command == "new":
        if not args.code:
            parser.error("new needs a language code, e.g. fr")
        new(args.code)
    elif args.command == "extract":
        extract()
    elif args.command == "compile":
        compile_all()
    else:
        sys.exit(check())


if __name__ == "__main__":
    main()
