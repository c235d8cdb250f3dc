"""A database URL shown or logged without its password, whatever form it has: PostgreSQL's user-info (also with
an unencoded ``/``, ``#``, ``?`` or ``@`` in the password), libpq's ``password=`` in a query or key-value form."""
from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa

from cnn.i18n import _

_USERINFO = re.compile(r"^[^:/?#]*:?//([^/?#]*)@")  # scheme://USER:PASS@host (or a malformed scheme//USER:PASS@)
_PASSWORD_PARAM = re.compile(r"(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^&\s]*)")


def secret_parts(url: str) -> list[str]:
    """Every piece of ``url`` that may be a password, longest first: the user-info's after its first colon (as
    written and decoded, also when the password holds an unencoded ``/``, ``#``, ``?`` or ``@``), and every
    ``password=`` value (libpq's query and key-value forms)."""
    parts: set[str] = set()
    head = url.split("//", 1)
    if len(head) == 2:  # user-info runs to the LAST @ before the host, whatever the password holds
        rest = head[1]
        at = rest.rfind("@")
        if at >= 0:
            userinfo = rest[:at]
            if ":" in userinfo:
                parts.add(userinfo.split(":", 1)[1])
    m = _USERINFO.match(url)
    if m and ":" in m.group(1):
        parts.add(m.group(1).split(":", 1)[1])
    for value in _PASSWORD_PARAM.findall(url):
        parts.add(value.strip("'"))
    with contextlib.suppress(ValueError):
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if key.lower() == "password":
                parts.add(value)
    parts |= {unquote(p) for p in parts}
    return sorted((p for p in parts if p), key=len, reverse=True)


def mask(text: str, url: str) -> str:
    """``text`` with every possible password of ``url`` replaced by ``***``."""
    for part in secret_parts(url):
        text = text.replace(part, "***")
    return text


def describe(url: str) -> str:
    """The URL to show or log: its kind, host, port and database, never a password. A URL that cannot be read is
    shown only by its kind."""
    with contextlib.suppress(Exception):
        u = sa.engine.make_url(url)
        if u.drivername.split("+")[0] == "sqlite":
            return f"sqlite:///{u.database or ''}"
        user = f"{u.username}:***@" if u.username and u.password is not None else (
            f"{u.username}@" if u.username else "")
        port = f":{u.port}" if u.port else ""
        return mask(f"{u.drivername.split('+')[0]}://{user}{u.host or ''}{port}/{u.database or ''}", url)
    scheme = url.split(":", 1)[0] if re.match(r"^[A-Za-z][A-Za-z0-9+.-]{0,20}:", url) else ""
    return f"{scheme}://…" if scheme else _("(a URL CNN Lab cannot read)")
