"""Read the CSV files that students really send.

Bytes come in as UTF-8 (with or without a byte-order mark), UTF-16 (with a
BOM), or a Windows code page (cp1252, Big5, GB18030 or Shift_JIS: :mod:`grading.encodings`); lines end in LF, CRLF or a lone CR; cells are
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
import re
from collections.abc import Sequence

from grading.encodings import ENCODING_NAMES, decode_legacy
from grading.errors import InvalidSubmission
from grading.report import Issue

__all__ = ["Rows", "UnreadableFile", "decode", "read_rows", "sniff_delimiter"]

DELIMITERS = ("\t", ";", ",")  # preference order when several fit the sample
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
_SAMPLE_LINES = 50
_BLANK_LINE = re.compile(r"\n[ \t,;]+\n")  # a line of separators only, once line ends are "\n"
_SEP_LINE = re.compile(r'^\ufeff?"?sep=(?P<d>[,;\t|])"?[ \t]*(\r\n|\r|\n|$)', re.IGNORECASE)  # Excel's hint

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


class Rows:
    """The non-blank rows of a CSV file with their physical line numbers.

    A plain rectangular file (no quotes, no blank lines, every line with the
    same number of cells) is kept as one flat list of cells, so that a column
    is a slice and no per-row list is built; :attr:`rows` is then made on
    first use.

    Attributes:
        lines: the 1-based line number of each row.
        delimiter: the cell separator that was detected.
        encoding: the text encoding that was detected.
        rectangular: True when the file took the flat fast path.
        issues: warnings found while reading (a stray quote).
    """

    def __init__(
        self,
        lines: Sequence[int],
        delimiter: str,
        encoding: str,
        *,
        rows: list[list[str]] | None = None,
        flat: list[str] | None = None,
        width: int = 0,
    ) -> None:
        self.lines = lines
        self.delimiter = delimiter
        self.encoding = encoding
        self._rows = rows
        self._flat = flat
        self._width = width
        self.rectangular = flat is not None
        self.issues: list[Issue] = []

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def rows(self) -> list[list[str]]:
        """One list of stripped cells per non-blank row."""
        if self._rows is None:
            flat, w = self._flat or [], self._width
            self._rows = [flat[i : i + w] for i in range(0, len(flat), w)]
        return self._rows

    def head(self, n: int) -> list[list[str]]:
        """The first ``n`` rows, without building all of them."""
        if self._rows is None:
            flat, w = self._flat or [], self._width
            return [flat[i : i + w] for i in range(0, min(len(flat), n * w), w)]
        return self._rows[:n]

    def column(self, j: int, start: int = 0) -> list[str]:
        """Cell ``j`` of every row from row ``start`` on; ``""`` where a row is shorter."""
        if self._rows is None and j < self._width:
            return (self._flat or [])[start * self._width + j :: self._width]
        rows = self.rows[start:] if start else self.rows
        try:
            return [row[j] for row in rows]
        except IndexError:
            return [row[j] if len(row) > j else "" for row in rows]

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
            text, encoding = decode_legacy(data)
    if text.count("\x00") > max(8, len(text) // 1000) or _control_fraction(text) > 0.01:
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
    """The share of control characters in the first 4 KB (a lone NUL in one cell is not binary data)."""
    sample = text[:4096]
    bad = sum(1 for ch in sample if ch < " " and ch not in "\x00\t\r\n\f\v")
    return bad / max(len(sample), 1)


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into equally many cells.

    A delimiter fits when every sample line splits into the same number (> 1)
    of cells, quotes respected; a first line that fits no delimiter (a title
    above the header) is then left out and the test repeated. Tab is preferred
    to semicolon, and semicolon to comma, because a semicolon file may hold
    decimal commas (``8,0``). With no fitting delimiter, the one giving the most
    cells on the first line wins, and comma when nothing splits at all.

    >>> sniff_delimiter("image;class\\n0000000.png;8,0\\n"), sniff_delimiter("HW2 by Ada\\nimage;class\\na.png;8\\n")
    (';', ';')
    """
    sample = [line for line in text[:8192].splitlines()[:_SAMPLE_LINES] if line.strip()]
    for lines in (sample, sample[1:] if len(sample) > 2 else []):
        for delimiter in DELIMITERS:
            counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
            if len(counts) == 1 and counts.pop() > 1:
                return delimiter
    best, best_cells = ",", 1
    for delimiter in DELIMITERS:
        first = len(next(csv.reader(sample[:1], delimiter=delimiter), []))
        if first > best_cells:
            best, best_cells = delimiter, first
    return best


def read_rows(data: bytes, *, name: str = "the file", fast: bool = True) -> Rows:
    """Read a CSV submission into stripped cells with line numbers.

    Blank lines (also ``,,`` rows that Excel leaves) are dropped, and so is
    Excel's ``sep=;`` first line (it names the delimiter). Nothing is decided
    yet about headers or columns.

    Args:
        data: the raw bytes of the file.
        name: the file name used in messages.
        fast: allow the flat path for rectangular files (see :class:`Rows`).

    Returns:
        the :class:`Rows` of the file.

    Raises:
        UnreadableFile: empty, binary, or not parseable as CSV.

    >>> read_rows(b"image;class\\r0000000.png;8\\r\\r").rows
    [['image', 'class'], ['0000000.png', '8']]
    """
    text, encoding = decode(data, name=name)
    issues: list[Issue] = []
    if encoding in ("cp950", "gb18030", "cp932"):
        issues.append(Issue("encoding", f"{name} is not UTF-8; it was read as {ENCODING_NAMES[encoding]}.", None))
    sep = _SEP_LINE.match(text)
    if sep:  # Excel's "sep=;" line: the delimiter, then a blank line 1 (line numbers stay right)
        delimiter = sep.group("d")
        text = sep.group(2) + text[sep.end() :] if sep.group(2) else "\n"
    else:
        delimiter = sniff_delimiter(text)
    if '"' in text:
        rows, lines, problem = _split_csv(text, delimiter, name)
        if problem is not None:
            issues.append(problem)
    else:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        flat = _split_flat(text, delimiter) if fast else None
        if flat is not None:
            width, n = flat
            ends_with_newline = text.endswith("\n")
            joined = text.replace("\n", delimiter)
            del text  # a 50 MB file: keep one copy of the text at a time
            cells = joined.split(delimiter)
            del joined
            if ends_with_newline:
                cells.pop()
            flat_table = Rows(range(1, n + 1), delimiter, encoding, flat=cells, width=width)
            flat_table.issues = issues
            return flat_table
        rows, lines = _split_plain(text, delimiter)
    if not rows:
        raise UnreadableFile("empty", f"{name} has no rows, only blank lines.")
    table = Rows(lines, delimiter, encoding, rows=rows)
    table.issues = issues
    return table


def _split_flat(text: str, delimiter: str) -> tuple[int, int] | None:
    """``(width, n_rows)`` when every line surely has the same cells, else None.

    Sure means: no spaces to strip, no blank line, and exactly ``width - 1``
    delimiters on every line (counted with numpy on the bytes, so a line with an
    extra cell and another with one fewer cannot pass as a rectangle). The flat
    read then gives exactly the rows of the row-by-row read, in a fraction of the
    memory.
    """
    if " " in text or "\t" in text and delimiter != "\t" or "\f" in text or "\v" in text or "\n\n" in text:
        return None
    n = text.count("\n") + (0 if text.endswith("\n") else 1)
    first = text[: text.find("\n")] if "\n" in text else text
    width = first.count(delimiter) + 1
    if n == 0 or text.startswith("\n") or text.count(delimiter) != (width - 1) * n or _BLANK_LINE.search(text):
        return None
    if not text.rstrip("\n").rsplit("\n", 1)[-1].strip(",;"):
        return None
    if n > 1 and not _every_line_has(text, delimiter, width - 1, n):
        return None
    return width, n


def _every_line_has(text: str, delimiter: str, count: int, n: int) -> bool:
    import numpy as np

    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if len(ends) < n:  # no newline after the last line
        ends = np.append(ends, len(raw))
    cuts = np.searchsorted(np.flatnonzero(raw == ord(delimiter)), ends)
    del raw
    return bool((np.diff(cuts, prepend=0) == count).all())


def _split_plain(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Files without quotes: one row per line."""
    all_lines = text.split("\n")
    if all_lines and not all_lines[-1]:
        all_lines.pop()
    rows = [line.split(delimiter) for line in all_lines]
    if " " in text or ("\t" in text and delimiter != "\t") or "\f" in text or "\v" in text:
        rows = [[cell.strip() for cell in row] for row in rows]
    kept = [(row, number) for number, row in enumerate(rows, 1) if any(row)]
    return [row for row, _ in kept], [number for _, number in kept]


def _unquote(cell: str) -> str:
    """``"a"`` -> ``a`` for a quoted cell the csv module kept whole (a space before its quote)."""
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"').strip()
    return cell


def _split_csv(text: str, delimiter: str, name: str) -> tuple[list[list[str]], list[int], Issue | None]:
    """Quoted cells (possibly spanning lines): the csv module, with physical line numbers.

    A quoted cell with a line break in it is data (a multi-line quiz response). Only a
    stray quote is not: one that never closes (the file has an odd number of quotes), or
    one that swallows whole rows (two or more of the cell's later lines split into as many
    cells as the header has). Then the file is read line by line with quotes ignored, and
    the issue says where the stray quote is.
    """
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    start = 1
    odd = text.count('"') % 2 == 1
    try:
        for row in reader:
            if reader.line_num > start and any(
                ("\n" in c or "\r" in c) and (odd or _swallows_rows(c, delimiter, len(rows[0]) if rows else len(row)))
                for c in row
            ):
                return _ignore_quotes(text, delimiter, name, start, reader.line_num)
            cells = [_unquote(cell.strip()) for cell in row]
            if any(cells):
                rows.append(cells)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "EOF" in str(exc) or "newline" in str(exc):
            return _ignore_quotes(text, delimiter, name, start, text.count("\n") + 1)
        raise UnreadableFile("malformed", f"{name}, near line {start}: the CSV cannot be parsed ({exc}).") from None
    return rows, lines, None


def _swallows_rows(cell: str, delimiter: str, width: int) -> bool:
    """True when a multi-line cell holds whole rows of the table (a stray quote's work)."""
    later = cell.replace("\r\n", "\n").replace("\r", "\n").split("\n")[1:]
    rowlike = sum(1 for line in later if width > 1 and line.count(delimiter) == width - 1)
    return rowlike >= 2 and 2 * rowlike > len(later)


def _ignore_quotes(
    text: str, delimiter: str, name: str, start: int, end: int
) -> tuple[list[list[str]], list[int], Issue]:
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    rows, lines = _split_plain(plain, delimiter)
    rows = [[cell.strip().strip('"').strip() for cell in row] for row in rows]
    kept = [(row, line) for row, line in zip(rows, lines, strict=True) if any(row)]
    issue = Issue(
        "unbalanced_quote",
        f'{name}, line {start}: a quote (") opens a cell and is not closed '
        f"{'before line ' + str(end) if end > start + 1 else 'on that line'}, which would make lines "
        f"{start} to {end} one cell; the file was read with quotes ignored. Remove the stray quote.",
        start,
    )
    return [r for r, _ in kept], [n for _, n in kept], issue
