"""Which encoding a text file is in, and decoding it as it streams.

Chinese offices send CSV files in two encodings: UTF-8 (with a BOM when Excel saves "CSV UTF-8",
without one from most other tools) and GB18030, the superset of GBK that Chinese Excel uses for
plain "CSV". A client that knows says so in the Content-Type's `charset`, and that is used as
given. Otherwise the bytes decide: a UTF-8 BOM is UTF-8; a file whose first non-ASCII bytes (and
the 4 KiB after them) are valid UTF-8 is UTF-8, since GBK text almost never is; anything else is
GB18030 (unless even less of it reads as GB18030: then it is UTF-8 with a bad byte). The bytes before the first non-ASCII one are ASCII in both, so they are passed on before
the choice is made and nothing is held back but that window.

A byte sequence the chosen encoding cannot decode refuses the whole file (UNDECODABLE_FILE, with
the encoding and the line): a replacement character in a name or a unit would be written, or
reported as an unknown unit '���', which tells the user nothing.
"""

from __future__ import annotations

import codecs

from services.errors import ErrorCode, ServiceError

WINDOW = 4096  # bytes after the first non-ASCII one that decide between UTF-8 and GB18030
UTF8 = "UTF-8"
GB18030 = "GB18030"
# The labels browsers (WHATWG Encoding) read as GBK/GB18030: offices label GBK files "gb2312".
_GB_LABELS = {
    "gb18030",
    "gbk",
    "gb2312",
    "gb_2312",
    "gb_2312-80",
    "cp936",
    "x-gbk",
    "chinese",
    "csgb2312",
    "csiso58gb231280",
    "iso-ir-58",
    "ms936",
    "windows-936",
}
_UTF8_LABELS = {"utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8"}
_CODECS = {UTF8: "utf-8-sig", GB18030: "gb18030"}  # utf-8-sig: a BOM is dropped (Excel writes one)


def charset_of(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type header, if any."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').strip()
    return None


def declared(charset: str) -> str:
    """The encoding a declared charset means: UTF-8 and the GB family by their WHATWG labels,
    anything else by Python's codec names. An unknown one is UNSUPPORTED_CHARSET."""
    label = charset.strip().lower()
    if label in _UTF8_LABELS:
        return UTF8
    if label in _GB_LABELS:
        return GB18030
    try:
        return codecs.lookup(label).name
    except LookupError:
        raise ServiceError(
            ErrorCode.UNSUPPORTED_CHARSET,
            "the declared charset {charset} is not an encoding this server knows; send UTF-8 or GB18030",
            "file",
            params={"charset": repr(charset)},
        ) from None


class Decoder:
    """Decodes a byte stream chunk by chunk, choosing the encoding as described above.

    `lines` is told how many lines were complete before a chunk, so that a decoding error can
    name its line."""

    def __init__(self, charset: str | None = None) -> None:
        self.encoding: str | None = declared(charset) if charset else None
        self._decoder = self._make() if self.encoding else None
        self._held = b""  # undecided bytes: the first non-ASCII one and what follows

    def _make(self) -> codecs.IncrementalDecoder:
        assert self.encoding is not None
        return codecs.getincrementaldecoder(_CODECS.get(self.encoding, self.encoding))(errors="strict")

    def decode(self, chunk: bytes, lines: int, *, final: bool = False) -> str:
        if self._decoder is None:
            text = self._sniff(chunk, final)
            if self._decoder is None:
                return text
            return text + self._decode(self._held_out(), lines + text.count("\n"), final)
        return self._decode(chunk, lines, final)

    def _held_out(self) -> bytes:
        held, self._held = self._held, b""
        return held

    def _sniff(self, chunk: bytes, final: bool) -> str:
        """Pass ASCII through; once a non-ASCII byte and WINDOW bytes after it are here (or the
        stream ended), choose the encoding. Returns the ASCII text that precedes the choice."""
        text = ""
        if not self._held:
            if chunk.startswith(codecs.BOM_UTF8):
                self.encoding = UTF8
            elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise ServiceError(
                    ErrorCode.UNDECODABLE_FILE,
                    "the file is UTF-16 (Excel's 'Unicode text'); save it as CSV UTF-8 or plain CSV",
                    "file",
                )
            else:
                ascii_end = next((i for i, byte in enumerate(chunk) if byte >= 0x80), len(chunk))
                text, chunk = chunk[:ascii_end].decode("ascii"), chunk[ascii_end:]
                if not chunk:
                    if final:
                        self.encoding = UTF8
                        self._decoder = self._make()
                    return text
        if self.encoding is None:
            self._held += chunk
            if len(self._held) < WINDOW and not final:
                return text
            self.encoding = _guess(self._held[: WINDOW + 4])
        else:
            self._held += chunk
        self._decoder = self._make()
        return text

    def _decode(self, data: bytes, lines: int, final: bool) -> str:
        assert self._decoder is not None
        try:
            return self._decoder.decode(data, final)
        except UnicodeDecodeError as error:
            before = error.object[: error.start].decode(_CODECS.get(str(self.encoding), "utf-8"), "replace")
            line = lines + before.count("\n") + 1
            raise ServiceError(
                ErrorCode.UNDECODABLE_FILE,
                "line {line} is not valid {encoding} (byte {byte}); "
                "save the file as CSV UTF-8, or as CSV in GB18030/GBK, or declare its charset",
                "file",
                params={"line": line, "encoding": self.encoding, "byte": f"{error.object[error.start]:#04x}"},
            ) from None


def _readable(window: bytes, encoding: str) -> int:
    """How many bytes of the window decode in `encoding` (all of them: len + 1), a character
    cut off at its end aside (at the end of the file too: that file is cut short, and the
    decoder will say so)."""
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(window, False)
    except UnicodeDecodeError as error:
        return error.start
    return len(window) + 1


def _guess(window: bytes) -> str:
    """UTF-8 if the window is UTF-8; else GB18030 if it reads further in GB18030 than in UTF-8
    (then its error, if any, is GB18030's to report); else UTF-8 with a bad byte in it."""
    utf8 = _readable(window, "utf-8")
    if utf8 > len(window):
        return UTF8
    return GB18030 if _readable(window, "gb18030") > utf8 else UTF8
