"""Lessons: each concept of the classic Keras CNN tutorial, hands-on, one at a time."""
import streamlit as st

from cnn.i18n import _
from ui import chrome
from ui.lessons import LESSONS
from ui.state import sticky

chrome.page_setup_ui("Lessons")
chrome.title_ui("Lessons")
st.markdown(_("Eight ideas that make a CNN work. Each lesson lets you *try* one; the training comparisons use small "
              "subsets: when nobody else is training, they take 8 to 35 seconds (transfer learning, three networks, "
              "is the longest), longer while classmates train too."))
names = list(LESSONS)
wanted = st.query_params.get("lesson", "")
linked = next((n for n in names if wanted and n.lower().startswith(wanted.lower())), None)
key = sticky("lesson", names[0])
if linked and st.session_state.get("lesson_link") != wanted:  # a teacher's ?lesson= link, once
    st.session_state["lesson_link"] = wanted
    st.session_state[key] = linked
choice = st.segmented_control(_("Lesson"), names, key=key, label_visibility="collapsed", format_func=_) or names[0]
st.header(_(choice))
LESSONS[choice]()
