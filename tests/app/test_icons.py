"""Icons are Streamlit's Material icons, which ship with it: emoji need a font many school PCs lack."""
import re
from pathlib import Path

from conftest import ROOT

EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


def test_no_emoji_in_what_the_pages_show():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files
             for n, line in enumerate(Path(p).read_text().splitlines(), 1) if EMOJI.search(line)]
    assert not found, "\n".join(found)
