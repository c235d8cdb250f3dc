"""Streamlit helpers shared by the pages, one module per job.

chrome (page setup, sidebar, presentation mode) · state (every session key; values that survive
pages) · runs (this session's training runs) · models (picking, uploading, caching models) ·
datasets (cached datasets) · images (crisp small images) · settings (the Train settings widgets)
· results (after a run) · editor (the layer editor) · classroom (share links) · lessons.
Functions that draw UI end in ``_ui``. Nothing here runs on import.
"""
