"""Leaderboard: the class's saved models ranked by test accuracy, per dataset, with the teacher's challenge."""
import streamlit as st

from cnn import classroom, data, dataset_sources
from cnn.i18n import _
from ui import chrome, leaderboard
from ui.state import sticky

chrome.page_setup_ui("Leaderboard")
chrome.title_ui("Leaderboard")
challenge = classroom.load_challenge()
names = dataset_sources.dataset_names()
linked = st.query_params.get("dataset")
if linked in names and st.session_state.get("lb_link") != linked:  # a link (e.g. the teacher's) opens its dataset
    st.session_state["lb_link"] = linked
    st.session_state["sticky"]["lb_ds"] = st.session_state["lb_ds"] = linked
default = challenge.dataset if challenge and challenge.dataset in names else names[0]
dataset = st.selectbox(_("Dataset"), names, key=sticky("lb_ds", default), format_func=data.title)
st.markdown(leaderboard.challenge_caption(challenge))
leaderboard.leaderboard_ui(dataset, challenge, "lb")
if not chrome.presenting():
    st.caption(_("Every model saved on this server is here, with the name of the student who saved it. Save yours on "
                 "the Train page after a run."))
