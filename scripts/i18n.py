"""What each language of the lab still misses: ``python scripts/i18n.py check`` (the tests run the same check).

Babel's own commands do the rest (README, Languages), reading ``babel.cfg`` for where the strings are:

    pybabel extract -F babel.cfg -k M_ -k n_:1,2 -w 120 -o locales/cnnlab.pot .
    pybabel update -i locales/cnnlab.pot -d locales -D cnnlab -w 120 --no-fuzzy-matching
    pybabel init -i locales/cnnlab.pot -d locales -D cnnlab -l fr -w 120
    pybabel compile -d locales -D cnnlab

Strings are marked in the code with ``_()``, ``n_()`` (plurals), ``N_()`` (constants) and ``M_()`` (sentences kept
as data, said in the reader's language when shown: ``i18n.said``), see cnn/i18n.py. The command line (cnn/cli.py)
stays English and is not extracted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
MAPPING = ROOT / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "M_": None, "n_": (1, 2)}  # pybabel extract -k M_ -k n_:1,2


def template() -> Catalog:
    """Every marked string in the code, with where it is used, as ``pybabel extract`` finds them."""
    with MAPPING.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(domain="cnnlab", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / "cnnlab.po"


def codes() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/cnnlab.po"))


def read(code: str) -> Catalog:
    with po_path(code).open("rb") as f:
        return pofile.read_po(f, locale=code, domain="cnnlab")


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
    parser.add_argument("command", choices=["check"])
    parser.parse_args()
    sys.exit(check())


if __name__ == "__main__":
    main()
