"""My data: make a dataset of your own by drawing, photographing or uploading examples, then train on it."""
import streamlit as st

from cnn import userdata
from cnn.i18n import _
from ui import chrome, mydata
from ui.state import sticky

chrome.page_setup_ui("My data")
chrome.title_ui("My data", _("Your own data"))
if not chrome.presenting():
    st.markdown(_("Make a small dataset of your own: name a few classes (circle, triangle, square; arrows; your "
                  "own photos), add examples by drawing, with the camera or by uploading images, then train a CNN "
                  "on it and look inside it on every page, as with MNIST."))
choices = mydata.dataset_choices()
key = sticky("md_dataset", choices[0])
if st.session_state[key] not in choices:  # deleted meanwhile
    st.session_state[key] = choices[0]
picked = st.selectbox(_("Dataset"), choices, key=key,
                      format_func=lambda n: _(n) if n == mydata.NEW else _("My data: {name}", name=n))
if picked == mydata.NEW:
    mydata.message_ui()
    mydata.new_dataset_ui()
    st.stop()
try:
    ds = userdata.get(picked)
except userdata.UserDataError as e:
    st.error(str(e))
    st.stop()
st.caption(mydata.description(ds))
editable = mydata.may_change(ds)
mydata.manage_ui(ds, editable)
if editable:
    mydata.add_examples_ui(ds)
else:
    st.info(_("This is {value}'s dataset: you can train on it, not change it. Make your own with “+ New dataset”.",
              value=chrome.plain(ds.owner_name) or 'someone else'), icon=":material/lock:")
st.subheader(_("Examples"))
mydata.examples_ui(ds, editable)
