"""Which legacy code page a CSV that is not UTF-8 was saved in: Western, Big5, GB18030 or Shift_JIS.

Excel saves "CSV" in the Windows code page of the machine: cp1252 in Western Europe and the
Americas, cp950 (Big5) on Traditional Chinese Windows (Taiwan), cp936/GB18030 on Simplified
Chinese Windows, cp932 (Shift_JIS) on Japanese Windows. This is the one decoder of such files:
prediction CSVs, answer files, answer keys and LMS templates all come through it. The same bytes often decode without error in all three, so the choice is made
by plausibility, not by whether decoding fails:

- UTF-8 always comes first (the caller tries it; :func:`guess_legacy` is for what is left).
- Each candidate gets a score: how many bytes >= 0x80 it explains with a character that fits
  text. For cp1252 an accented letter next to an ASCII letter (``é`` in ``José``) counts 1 (next
  to accented letters only, one half), a common symbol (``°``, ``€``, ``£``) next to a digit 1,
  elsewhere one half; for Big5 and GB18030 a common ideograph counts its
  high bytes (a rarer one three quarters), CJK punctuation, fullwidth forms and Greek count too,
  and an ideograph squeezed between two ASCII letters (``D廥ir`` from ``Désir``) counts nothing;
  for Shift_JIS kana, symbols and level-1 kanji count (a level-2 kanji three quarters), and its
  one-byte halfwidth katakana nothing (they are what Big5 and GB18030 bytes look like in it).
- A CJK candidate is chosen only when it explains strictly more than the ones before it; Big5
  wins a tie with GB18030 (the course is taught in Taiwan), and both win a tie with Shift_JIS.

>>> guess_legacy("鄭呈毅,σ".encode("cp950")), guess_legacy("José,Müller,Désirée".encode("cp1252"))
('cp950', 'cp1252')
>>> guess_legacy("陈小明".encode("gb18030")), guess_legacy("最終更新日時 (評定),山田花子".encode("cp932"))
('gb18030', 'cp932')
"""

from __future__ import annotations

import unicodedata

__all__ = ["ENCODING_NAMES", "decode_legacy", "guess_legacy"]

ENCODING_NAMES = {
    "cp950": "Big5 (cp950, Excel on Traditional Chinese Windows)",
    "gb18030": "GB18030 (Excel on Simplified Chinese Windows)",
    "cp1252": "Windows-1252 (Excel on Western Windows)",
    "cp932": "Shift_JIS (cp932, Excel on Japanese Windows)",
}
_SAMPLE_BYTES = 1 << 16
_SYMBOLS = frozenset("°€£§©®«»±×·µ²³½¼¾–—‘’“”…•¿¡")


def guess_legacy(data: bytes) -> str:
    """``"cp1252"``, ``"cp950"``, ``"gb18030"`` or ``"cp932"``: the code page that best explains ``data``.

    Only the first 64 KB are scored (cut at a line end).
    """
    sample = data[:_SAMPLE_BYTES]
    if len(data) > _SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    best, best_score = "cp1252", _latin_score(sample.decode("cp1252", errors="replace"))
    for encoding in ("cp950", "gb18030", "cp932"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _cjk_score(text, encoding)
        if score > best_score:
            best, best_score = encoding, score
    return best


def decode_legacy(data: bytes, *, errors: str = "replace") -> tuple[str, str]:
    """``(text, encoding)`` for bytes that are not UTF-8; undecodable bytes become U+FFFD.

    ``errors="surrogateescape"`` keeps them instead, so that ``text.encode(encoding,
    "surrogateescape")`` gives the bytes back (an LMS template written back unchanged).
    """
    encoding = guess_legacy(data)
    return data.decode(encoding, errors=errors), encoding


def _is_latin_letter(ch: str) -> bool:
    return ord(ch) < 0x250 and unicodedata.category(ch) in ("Lu", "Ll")


def _latin_score(text: str) -> float:
    score = 0.0
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if _is_latin_letter(ch):
            if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
                score += 1
            elif _is_latin_letter(before) or _is_latin_letter(after):
                score += 0.5  # only next to other accented letters: "ÀîÄÈ" is GB bytes more often than a word
        elif ch in _SYMBOLS:
            score += 1 if before.isdigit() or after.isdigit() else 0.5
    return score


def _cjk_weight(ch: str, raw: bytes, encoding: str) -> float:
    """How well one multi-byte character fits Chinese text (0 to 1)."""
    if len(raw) != 2:
        return 0.0
    lead, trail = raw[0], raw[1]
    code = lead << 8 | trail
    if encoding == "cp932":
        if 0x8140 <= code <= 0x84BE or 0x889F <= code <= 0x9872:  # symbols, kana, Greek, level-1 kanji
            return 1.0
        return 0.75 if 0x989F <= code <= 0xEAA4 else 0.0
    if encoding == "cp950":
        if 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E:  # symbols, Greek, common ideographs
            return 1.0
        return 0.75 if 0xC940 <= code <= 0xF9D5 else 0.0
    if trail < 0xA1:  # GBK's extension: rare characters
        return 0.0
    if 0xA1 <= lead <= 0xA3 or lead == 0xA6 or 0xB0 <= lead <= 0xD7:  # punctuation, fullwidth, Greek, level 1
        return 1.0
    return 0.75 if 0xD8 <= lead <= 0xF7 else 0.0


def _cjk_score(text: str, encoding: str) -> float:
    score = 0.0
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        raw = ch.encode(encoding, errors="replace")
        weight = _cjk_weight(ch, raw, encoding)
        if weight and unicodedata.category(ch) == "Lo":
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if before.isascii() and before.isalpha() and after.isascii() and after.isalpha():
                weight = 0.0
        score += weight * sum(b >= 0x80 for b in raw)
    return score
