"""The leaderboard of saved models per dataset, with the teacher's challenge marked (Leaderboard, Class)."""
from __future__ import annotations

import streamlit as st

from cnn import classroom, data
from cnn.i18n import _, number
from ui import figures
from ui.chrome import plain


def standings_rows(standings: list[classroom.Standing]) -> list[dict]:
    """Plain rows for a table (names are text, never markup)."""
    return [{_("rank"): s.rank, _("model"): s.name, _("student"): s.student,
             _("test accuracy"): number(s.accuracy, ".2%"),
             _("parameters"): number(s.params, ",") if s.params is not None else "?", _("epochs"): s.epochs,
             _("training time"): number(s.seconds, ".0f") + " s" if s.seconds is not None else "?",
             _("architecture"): s.arch, _("challenge"): _("meets it") if not s.problems else "; ".join(s.problems)}
            for s in standings]


def challenge_caption(challenge: classroom.Challenge | None) -> str:
    if challenge is None:
        return _("No challenge set: the best test accuracy wins.")
    limits = [_("at most {n} epochs", n=challenge.max_epochs) if challenge.max_epochs else "",
              _("at most {n:,} parameters", n=challenge.max_params) if challenge.max_params else ""]
    limits = [x for x in limits if x]
    title = f"**{plain(challenge.title)}** · " if challenge.title else ""
    dataset = plain(data.title(challenge.dataset))
    if limits:
        rule = _("Challenge: best test accuracy on {dataset}, {limits}.", dataset=dataset,
                 limits=_(" and ").join(limits))
    else:
        rule = _("Challenge: best test accuracy on {dataset}.", dataset=dataset)
    return f"{title}{rule} " + _("Models over a limit are listed after the others, marked.")


def leaderboard_ui(dataset: str, challenge: classroom.Challenge | None, key: str) -> None:
    """The standings of one dataset as a table (large in presentation mode)."""
    standings = classroom.leaderboard(dataset, challenge)
    if not standings:
        st.info(_("No saved model for this dataset yet. Train one and save it on the Train page."))
        return
    if challenge is not None and challenge.dataset == dataset:
        leader = next((s for s in standings if not s.problems), None)
        if leader:
            st.metric(_("Leading the challenge: {student}", student=plain(leader.student)),
                      number(leader.accuracy, ".2%"), border=True,
                      help=_("model {name}", name=plain(leader.name)))
    figures.table(st, standings_rows(standings), hide_index=True, width="stretch", key=f"{key}_table")
