"""Read an LMS template's bytes so every field can be rewritten in place and the rest copied as it was."""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass

from grading.encodings import decode_legacy
from grading.errors import UsageError


@dataclass
class Record:
    """One CSV record: each field's raw span (quotes included) in the text, and its value."""

    spans: list[tuple[int, int]]
    values: list[str]


def decode(data: bytes, where: str) -> tuple[str, str]:
    """The text and its encoding: a byte-order mark, UTF-8, else the Windows code page Excel saved it
    in, as :func:`grading.encodings.decode_legacy` (the one decoder of every CSV) tells it.
    Undecodable bytes survive as surrogates, so the bytes outside the filled cells come back unchanged.

    Raises:
        UsageError: the file starts with a UTF-8 byte-order mark but is not UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise UsageError(f"{where}: starts with a UTF-8 mark but is not UTF-8; download it again.") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return decode_legacy(data, errors="surrogateescape")


def scan(text: str, delimiter: str, where: str) -> list[Record]:
    """Split CSV text into records, keeping each field's raw span so it can be rewritten in place."""
    records: list[Record] = []
    i, n = 0, len(text)
    while i < n:
        spans: list[tuple[int, int]] = []
        values: list[str] = []
        while True:
            start = i
            if i < n and text[i] == '"':
                j = i + 1
                while True:
                    q = text.find('"', j)
                    if q < 0:
                        line = text.count("\n", 0, start) + 1
                        raise UsageError(
                            f'{where}, line {line}: a quote (") is opened and never closed; '
                            "download the file from the LMS again."
                        )
                    if text.startswith('"', q + 1):
                        j = q + 2
                        continue
                    break
                i = q + 1
                value = text[start + 1 : q].replace('""', '"')
                while i < n and text[i] not in (delimiter, "\r", "\n"):  # "a"b: keep what follows
                    value += text[i]
                    i += 1
            else:
                while i < n and text[i] not in (delimiter, "\r", "\n"):
                    i += 1
                value = text[start:i]
            spans.append((start, i))
            values.append(value)
            if i < n and text[i] == delimiter:
                i += 1
                continue
            break
        if text.startswith("\r\n", i):
            i += 2
        elif i < n:
            i += 1
        records.append(Record(spans, values))
    return records


def sniff(first_line: str) -> str:
    """The delimiter of a header line: the one of ``,``, ``;``, tab that splits it most (``,`` on a tie)."""
    counts = {d: len(next(csv.reader([first_line], delimiter=d))) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def quote(value: str, delimiter: str) -> str:
    """A field as the LMS's own CSV writer would quote it."""
    if any(c in value for c in (delimiter, '"', "\r", "\n", " ")) or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value
