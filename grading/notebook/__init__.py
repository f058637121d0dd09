"""Students' Jupyter notebooks, read and never run.

Stages, each a function returning frozen dataclasses (after nbconvert's exporter/preprocessors):
read (``read.py``) → find math spans and answers (``locate.py``) → grade (``grade.py``) →
review pages (``review.py``) and the TA's overrides (``overrides.py``). The data passed between
the stages is defined in ``model.py``.
"""
