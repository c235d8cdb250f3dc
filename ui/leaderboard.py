"""The leaderboard of saved models per dataset, with the teacher's challenge marked (Leaderboard, Class)."""
from __future__ import annotations

import streamlit as st

from cnn import classroom, data
from ui.chrome import plain


def standings_rows(standings: list[classroom.Standing]) -> list[dict]:
    """Plain rows for a table (names are text, never markup)."""
    return [{"rank": s.rank, "model": s.name, "student": s.student, "test accuracy": f"{s.accuracy:.2%}",
             "parameters": f"{s.params:,}" if s.params is not None else "?", "epochs": s.epochs,
             "training time": f"{s.seconds:.0f} s" if s.seconds is not None else "?",
             "architecture": s.arch, "challenge": "meets it" if not s.problems else "; ".join(s.problems)}
            for s in standings]


def challenge_caption(challenge: classroom.Challenge | None) -> str:
    if challenge is None:
        return "No challenge set: the best test accuracy wins."
    limits = [f"at most {challenge.max_epochs} epochs" if challenge.max_epochs else "",
              f"at most {challenge.max_params:,} parameters" if challenge.max_params else ""]
    limits = [x for x in limits if x]
    title = f"**{plain(challenge.title)}** · " if challenge.title else ""
    return (f"{title}Challenge: best test accuracy on {plain(data.title(challenge.dataset))}"
            + (f", {' and '.join(limits)}" if limits else "") + ". Models over a limit are listed after the "
            "others, marked.")


def leaderboard_ui(dataset: str, challenge: classroom.Challenge | None, key: str) -> None:
    """The standings of one dataset as a table (large in presentation mode)."""
    standings = classroom.leaderboard(dataset, challenge)
    if not standings:
        st.info("No saved model for this dataset yet. Train one and save it on the Train page.")
        return
    if challenge is not None and challenge.dataset == dataset:
        leader = next((s for s in standings if not s.problems), None)
        if leader:
            st.metric(f"Leading the challenge: {plain(leader.student)}", f"{leader.accuracy:.2%}", border=True,
                      help=f"model {plain(leader.name)}")
    if st.session_state.get("present"):  # an HTML table: its text grows with presentation mode's fonts
        st.table(standings_rows(standings), border="horizontal")
    else:
        st.dataframe(standings_rows(standings), hide_index=True, width="stretch", key=f"{key}_table")
