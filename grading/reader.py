"""Read the CSV files that students really send.

Bytes come in as UTF-8 (with or without a byte-order mark), UTF-16 (with a
BOM), or a Windows code page; lines end in LF, CRLF or a lone CR; cells are
separated by commas, semicolons or tabs and may be quoted. :func:`read_rows`
turns all of that into a list of rows of stripped cells, each with the
physical line number it came from, so that every later message can point at a
line. Deciding which row is a header and which column is which is left to the
caller, which knows the answer key.

Problems that make a file unreadable raise :class:`UnreadableFile`, an
:class:`~grading.errors.InvalidSubmission` that carries a short ``code``.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from grading.errors import InvalidSubmission

__all__ = ["Rows", "UnreadableFile", "decode", "read_rows", "sniff_delimiter"]

DELIMITERS = ("\t", ";", ",")  # preference order when several fit the sample
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
_SAMPLE_LINES = 50

# Magic numbers of files students send instead of a CSV.
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive or an Excel workbook (.xlsx); save the sheet as CSV instead"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls); save the sheet as CSV instead"),
    (b"%PDF", "a PDF document, not a CSV file"),
    (b"\x89PNG", "a PNG image, not a CSV file"),
    (b"\xff\xd8\xff", "a JPEG image, not a CSV file"),
    (b"\x1f\x8b", "a gzip archive; unpack it and submit the CSV file"),
)


class UnreadableFile(InvalidSubmission):
    """A submission cannot be read as a table at all.

    Attributes:
        code: a short machine-readable reason (``"empty"``, ``"not_text"``, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rows:
    """The non-blank rows of a CSV file with their physical line numbers.

    Attributes:
        rows: one list of cells per non-blank row, each cell stripped of spaces.
        lines: the 1-based line number of each row, same length as ``rows``.
        delimiter: the cell separator that was detected.
        encoding: the text encoding that was detected.
    """

    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    encoding: str

    @property
    def delimiter_name(self) -> str:
        """A word for the delimiter (``"comma"``, ``"semicolon"``, ``"tab"``)."""
        return _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def decode(data: bytes, *, name: str = "the file") -> tuple[str, str]:
    """Decode a submission's bytes, guessing the encoding as Excel users need.

    Args:
        data: the raw bytes of the file.
        name: the file name used in messages.

    Returns:
        ``(text, encoding)``.

    Raises:
        UnreadableFile: ``code="empty"`` for no bytes, ``"not_text"`` for binary data.

    >>> decode(b"\\xef\\xbb\\xbfimage,class\\r\\n")
    ('image,class\\r\\n', 'utf-8-sig')
    """
    if not data.strip():
        raise UnreadableFile("empty", f"{name} is empty; the student submitted a file with no rows.")
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise UnreadableFile("not_text", f"{name} is not a CSV text file: it looks like {what}.")
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data, "utf-8-sig", name), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _strict(data, "utf-16", name), "utf-16"
    elif b"\x00" in data[:4096] and _looks_utf16(data):
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        text = _strict(data, encoding, name)
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252", errors="replace"), "cp1252"
    if "\x00" in text or _control_fraction(text) > 0.01:
        raise UnreadableFile(
            "not_text", f"{name} is not a CSV text file (it contains binary data); ask for the CSV export."
        )
    return text, encoding


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "not_text", f"{name} starts like {encoding} text but byte {exc.start} is not valid {encoding}."
        ) from None


def _looks_utf16(data: bytes) -> bool:
    head = data[:4096]
    zeros_even, zeros_odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2 or 1
    return max(zeros_even, zeros_odd) > 0.4 * half and min(zeros_even, zeros_odd) < 0.05 * half


def _control_fraction(text: str) -> float:
    sample = text[:4096]
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f\v")
    return bad / max(len(sample), 1)


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into equally many cells.

    A delimiter fits when every sample line splits into the same number (> 1)
    of cells, quotes respected. Tab is preferred to semicolon, and semicolon
    to comma, because a semicolon file may hold decimal commas (``8,0``).
    With no fitting delimiter, the one giving the most cells on the first line
    wins, and comma when nothing splits at all.

    >>> sniff_delimiter("image;class\\n0000000.png;8,0\\n")
    ';'
    """
    sample = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    best, best_cells = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(counts) == 1 and counts.pop() > 1:
            return delimiter
        first = len(next(csv.reader(sample[:1], delimiter=delimiter), []))
        if first > best_cells:
            best, best_cells = delimiter, first
    return best


def read_rows(data: bytes, *, name: str = "the file") -> Rows:
    """Read a CSV submission into stripped cells with line numbers.

    Blank lines (also ``,,`` rows that Excel leaves) are dropped. Nothing is
    decided yet about headers or columns.

    Args:
        data: the raw bytes of the file.
        name: the file name used in messages.

    Returns:
        the :class:`Rows` of the file.

    Raises:
        UnreadableFile: empty, binary, or not parseable as CSV.

    >>> read_rows(b"image;class\\r0000000.png;8\\r\\r").rows
    [['image', 'class'], ['0000000.png', '8']]
    """
    text, encoding = decode(data, name=name)
    delimiter = sniff_delimiter(text)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        if '"' not in text:  # fast path: one row per physical line
            for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
                if row:
                    rows.append(row)
                    lines.append(number)
        else:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            start = 1
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
    except csv.Error as exc:
        line = len(lines) + 1
        raise UnreadableFile("malformed", f"{name}, near line {line}: the CSV cannot be parsed ({exc}).") from None
    kept_rows: list[list[str]] = []
    kept_lines: list[int] = []
    for row, number in zip(rows, lines):
        cells = [cell.strip() for cell in row]
        if any(cells):
            kept_rows.append(cells)
            kept_lines.append(number)
    if not kept_rows:
        raise UnreadableFile("empty", f"{name} has no rows, only blank lines.")
    return Rows(kept_rows, kept_lines, delimiter, encoding)
