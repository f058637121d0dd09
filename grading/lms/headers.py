"""The column names of Moodle's grading worksheet in the languages Moodle's language packs spell them.

Moodle writes and reads the worksheet's header in the user's language. The upload
(``mod/assign/feedback/offline/importgradeslib.php``, ``init``) looks for the columns
``get_string('recordid', 'assign')``, ``get_string('grade')`` and
``get_string('lastmodifiedgrade', 'assign')``, and for each enabled feedback plugin's
editor field (Feedback comments: ``get_string('pluginname', 'assignfeedback_comments')``);
the download (``mod/assign/gradingtable.php``) also writes ``get_string('maxgrade',
'assign')``, or ``get_string('scale', 'assign')`` for a scale assignment, and the identity
fields (``get_string('idnumber')``, ``get_string('email')``). A participant is written as
``get_string('hiddenuser', 'assign') . $uniqueid`` (``col_recordid``), so the number may
follow the word without a space.

Where each string comes from (copied, never translated here):

- ``en``: moodle/moodle ``mod/assign/lang/en/assign.php``, ``lang/en/moodle.php``,
  ``mod/assign/feedback/comments/lang/en/assignfeedback_comments.php``; older sites wrote
  ``Maximum Grade``.
- ``de``, ``fr``, ``es``, ``ja``, ``zh_cn``: the Moodle 4.5 language packs as mirrored in
  projectestac/moodle-langpacks (commit 6340d351fc13, June 2026): ``<lang>/assign.php``,
  ``<lang>/moodle.php``, ``<lang>/assignfeedback_comments.php``.
- ``zh_tw``: the MOODLE_31_STABLE pack as shipped in ay9010x/2020moodlesetHo
  ``lang/zh_tw/assign.php`` (commit bfff61dba7e4) and ``lang/zh_tw/moodle.php``,
  ``lang/zh_tw/assignfeedback_comments.php`` (commit dc418fdb3176); its ``email`` string was not
  checked, so it is left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

__all__ = ["MOODLE_STRINGS", "ROLES", "find_moodle_columns", "moodle_needs", "normalise"]

ROLES = ("recordid", "grade", "lastmodifiedgrade", "feedback", "maxgrade", "scale", "idnumber", "email")
"""What a column is, by the language string Moodle names it with (``feedback``: Feedback comments)."""

MOODLE_STRINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "recordid": ("Identifier",),
        "grade": ("Grade",),
        "lastmodifiedgrade": ("Last modified (grade)",),
        "feedback": ("Feedback comments",),
        "maxgrade": ("Maximum grade",),
        "scale": ("Scale",),
        "idnumber": ("ID number",),
        "email": ("Email address",),
    },
    "de": {
        "recordid": ("ID",),
        "grade": ("Bewertung",),
        "lastmodifiedgrade": ("Zuletzt geändert (Bewertung)",),
        "feedback": ("Feedback als Kommentar",),
        "maxgrade": ("Bestwertung",),
        "scale": ("Skala",),
        "idnumber": ("ID-Nummer",),
        "email": ("E-Mail-Adresse",),
    },
    "fr": {
        "recordid": ("Identifiant",),
        "grade": ("Note",),
        "lastmodifiedgrade": ("Dernière modification (note)",),
        "feedback": ("Feedback par commentaires",),
        "maxgrade": ("Note maximale",),
        "scale": ("Barème",),
        "idnumber": ("Numéro d’identification",),
        "email": ("Adresse de courriel",),
    },
    "es": {
        "recordid": ("Identificador",),
        "grade": ("Calificación",),
        "lastmodifiedgrade": ("Última modificación (calificación)",),
        "feedback": ("Comentarios de retroalimentación",),
        "maxgrade": ("Calificación máxima",),
        "scale": ("Escala",),
        "idnumber": ("Número de ID",),
        "email": ("Dirección de correo",),
    },
    "ja": {
        "recordid": ("ID",),
        "grade": ("評定",),
        "lastmodifiedgrade": ("最終更新日時 (評定)",),
        "feedback": ("フィードバックコメント",),
        "maxgrade": ("最大評点",),
        "scale": ("評価尺度",),
        "idnumber": ("IDナンバ",),
        "email": ("メールアドレス",),
    },
    "zh_cn": {
        "recordid": ("标识符",),
        "grade": ("成绩",),
        "lastmodifiedgrade": ("上次修改（评分）",),
        "feedback": ("反馈意见",),
        "maxgrade": ("最高分",),
        "scale": ("量表",),
        "idnumber": ("学号",),
        "email": ("电子邮件地址",),
    },
    "zh_tw": {
        "recordid": ("識別碼",),
        "grade": ("成績",),
        "lastmodifiedgrade": ("最後修改的(得分)",),
        "feedback": ("評語回饋",),
        "maxgrade": ("最高成績",),
        "scale": ("量尺",),
        "idnumber": ("學號",),
    },
}

_NEEDED = ("recordid", "grade", "lastmodifiedgrade")  # what Moodle's upload refuses the file without


def normalise(name: str) -> str:
    """A header as compared: NFKC (full-width brackets), case folded, without spaces.

    >>> normalise(" 上次修改（评分） ") == normalise("上次修改(评分)"), normalise("Last modified (grade)")
    (True, 'lastmodified(grade)')
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def find_moodle_columns(header: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """The language of a Moodle worksheet's header and the index of each column it names, or None.

    A header is a worksheet when it has the three columns Moodle's upload needs in one language;
    the other roles are then looked up in that language first, then in any.

    >>> find_moodle_columns(["ID", "Vollständiger Name", "Bewertung", "Zuletzt geändert (Bewertung)"])
    ('de', {'recordid': 0, 'grade': 2, 'lastmodifiedgrade': 3})
    >>> find_moodle_columns(["Student", "ID", "HW2 (1)"]) is None
    True
    """
    seen = [normalise(h) for h in header]
    for lang, strings in MOODLE_STRINGS.items():
        found = {role: _index(seen, strings.get(role, ())) for role in _NEEDED}
        if all(i is not None for i in found.values()):
            columns = {role: i for role, i in found.items() if i is not None}
            for role in ROLES:
                if role in columns:
                    continue
                i = _index(seen, strings.get(role, ()))
                if i is None:
                    i = _index(seen, [s for other in MOODLE_STRINGS.values() for s in other.get(role, ())])
                if i is not None:
                    columns[role] = i
            return lang, columns
    return None


def _index(seen: list[str], names: Sequence[str]) -> int | None:
    wanted = {normalise(n) for n in names}
    return next((i for i, h in enumerate(seen) if h in wanted), None)


def moodle_needs(lang: str = "en") -> list[str]:
    """The three column names Moodle's upload needs, in ``lang``."""
    return [MOODLE_STRINGS[lang][role][0] for role in _NEEDED]
