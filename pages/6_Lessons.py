"""Lessons: each concept of the classic Keras CNN tutorial, hands-on, one at a time."""
import streamlit as st

import ui
from ui.lessons import LESSONS

ui.page_setup_ui("Lessons", "🎓")
st.title("🎓 Lessons")
st.markdown("Eight ideas that make a CNN work. Each lesson lets you *try* one; the training comparisons use small "
            "subsets and take well under two minutes.")
names = list(LESSONS)
wanted = st.query_params.get("lesson", "")
if "lesson" not in st.session_state:
    st.session_state["lesson"] = next((n for n in names if n.lower().startswith(wanted.lower()) and wanted), names[0])
choice = st.segmented_control("Lesson", names, key="lesson", label_visibility="collapsed") or names[0]
st.header(choice)
LESSONS[choice]()
