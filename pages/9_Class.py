"""Class (teacher mode only): every run on the server live, the queue, every saved model, the challenge."""
import streamlit as st

from cnn import data, dataset_sources
from cnn.i18n import _
from ui import chrome, leaderboard, teacher

chrome.page_setup_ui("Class")
chrome.title_ui("Class", _("Your class"))
if not st.session_state["teacher"]:
    st.markdown(_("This page is for the teacher."))
    teacher.passphrase_ui()
    st.stop()

st.subheader(_("Runs"))
teacher.runs_ui()
st.subheader(_("Leaderboard"))
names = dataset_sources.dataset_names()
titles = {n: data.title(n) for n in names}
challenge = teacher.challenge_ui(names, titles)
dataset = st.selectbox(_("Dataset"), names, index=names.index(challenge.dataset) if challenge and challenge.dataset
                       in names else 0, format_func=lambda n: titles[n], key="cls_lb_ds")
st.markdown(leaderboard.challenge_caption(challenge))
leaderboard.leaderboard_ui(dataset, challenge, "cls_lb")
st.caption(_("On the projector: {present_link}", present_link=teacher.present_link('Leaderboard', dataset=dataset)))
st.subheader(_("Saved models"))
teacher.models_ui()
