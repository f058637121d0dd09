"""Give a class's grades back to the LMS: fill Moodle's or Canvas's own CSV and nothing else.

A TA downloads a template from the LMS, ``grade`` fills it, the TA uploads it:

- **Moodle** grading worksheet (Assignment → View all submissions → Grading
  action → Download grading worksheet): header ``Identifier, Full name, …,
  Grade, …, Last modified (grade), Feedback comments``, in the user's language
  (:mod:`grading.lms.headers`: en, de, fr, es, ja, zh_cn, zh_tw); ``Identifier``
  holds ``Participant 52110``, the number in the "Download all submissions"
  folder names. The ``Grade`` cell is filled, and ``Feedback comments`` when the
  column is there. A scale assignment's worksheet (a ``Scale`` column) is refused:
  Moodle would take none of its numbers.
- **Canvas** gradebook export (Grades → Export → Export Entire Gradebook):
  header ``Student, ID, SIS User ID, SIS Login ID, Section, <Assignment>
  (<assignment id>), …``, then a ``Points Possible`` row. Rows match on ``ID``,
  the user id in the submission file names; the one assignment column is
  filled (``column`` picks one when there are several; a column whose Points
  Possible says ``(read only)`` is refused, and so is a ``column`` naming several).

Which LMS a template comes from is read from its header; a template that is not UTF-8 is
decoded by :func:`grading.encodings.decode_legacy`, as every CSV is, and the note says which
encoding was used. Only the grade cell
(and Moodle's feedback cell) of a matched student is rewritten; every other
byte — the header, the row order, the other cells and their quoting, the
``Points Possible`` row, the encoding, a byte-order mark, the line ends — is
copied as it was (a Canvas gradebook re-saved in another encoding is written
back in UTF-8, which Canvas requires, and the TA is told). A student in the
template without a grade keeps their cell; a grade whose student has no row is
listed in :attr:`LmsImport.unmatched`; grades above the LMS's maximum are one
warning with the count.

The modules: :mod:`~grading.lms.headers` (Moodle's column names per language),
:mod:`~grading.lms.template` (read and check), :mod:`~grading.lms.fill` (fill and
write), :mod:`~grading.lms.moodle` (a worksheet without a template).

The interface, for other tools as well as :func:`grading.grade_class`:

- :func:`read_lms_template` checks a template early (before a long class run).
- :func:`fill_lms_template` ``(template, grades, *, column=None) -> LmsImport``:
  ``grades`` maps the LMS identity (Moodle participant number or Canvas user id,
  as a string) to an :class:`LmsGrade` ``(grade, feedback)``.
- :func:`write_lms_import` ``(out_dir, template, grades, column=None)`` writes
  ``out_dir/lms-import.csv`` in the template's own encoding.
- Both take ``match="student"`` when ``grades`` is keyed by the student's own id
  (a roster id such as ``b11901001``, as ``grade --variants`` has) instead of the
  LMS identity: a row is then found, case-insensitively and trimmed, by Moodle's
  ``ID number`` (when the worksheet has it) or ``Email address`` (the whole
  address or the part before ``@``), by Canvas's ``SIS User ID``, ``SIS Login ID``
  or ``ID``.
- :func:`write_moodle_worksheet` writes, without a template, the smallest file
  Moodle's "Upload grading worksheet" accepts; :func:`worksheet_warnings` says
  when a grade is above the maximum of a new Moodle assignment (100).

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "w.csv").write_text('Identifier,"Full name",Grade,"Last modified (grade)"\\r\\n'
...                                   '"Participant 7","Ada L",,-\\r\\n', encoding="utf-8")
>>> filled = fill_lms_template(folder / "w.csv", {"7": LmsGrade(85.0, "")})
>>> filled.kind, filled.filled, filled.text.splitlines()[1]
('moodle', 1, '"Participant 7","Ada L",85.00,-')
"""

from grading.lms.fill import LMS_IMPORT_FILENAME, MATCH, LmsGrade, LmsImport, fill_lms_template, write_lms_import
from grading.lms.moodle import (
    MOODLE_DEFAULT_MAXIMUM,
    MOODLE_WORKSHEET_FILENAME,
    moodle_date,
    worksheet_warnings,
    write_moodle_worksheet,
)
from grading.lms.template import LmsTemplate, read_lms_template

__all__ = [
    "LMS_IMPORT_FILENAME",
    "MATCH",
    "MOODLE_DEFAULT_MAXIMUM",
    "MOODLE_WORKSHEET_FILENAME",
    "LmsGrade",
    "LmsImport",
    "LmsTemplate",
    "fill_lms_template",
    "moodle_date",
    "read_lms_template",
    "worksheet_warnings",
    "write_lms_import",
    "write_moodle_worksheet",
]
