"""What an uploaded file is, before it is read: its format (CSV or OFX) and, for text, its
encoding. Anything else (empty, binary, a PDF, an undecodable text) is a 422 naming the problem.

Encodings, when not given: a byte order mark decides (UTF-8, UTF-16); otherwise strict UTF-8,
then Windows-1252, the encoding of most European bank exports that are not UTF-8. A file that is
neither fails: nothing is ever stored as mojibake from a guess that could not be checked.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from app.common.errors import Unprocessable

#: The encodings a caller may name (what banks write), by the name the API takes.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "windows-1252": "cp1252",
    "iso-8859-1": "latin-1",
    "iso-8859-15": "iso8859_15",
}
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Control characters no text export holds (tab, CR and LF are fine): a sign of binary data.
BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
OFX_START = re.compile(rb"^\s*(OFXHEADER\s*:|<\?xml[^>]*>\s*(<\?OFX|<OFX)|<OFX>)", re.IGNORECASE)
MAGIC = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a ZIP archive (or an Excel .xlsx)",
    b"\xd0\xcf\x11\xe0": "an Excel .xls",
}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the API's name for it


def refuse(message: str) -> Unprocessable:
    return Unprocessable(message, field="file")


def sniff_format(data: bytes, filename: str | None) -> str:
    """ "ofx" or "csv"; a 422 for an empty file or one that is plainly something else."""
    if not data.strip():
        raise refuse("The file is empty.")
    for magic, what in MAGIC.items():
        if data.startswith(magic):
            raise refuse(f"The file is {what}; import reads CSV, OFX and QFX files.")
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    if OFX_START.match(body):
        return "ofx"
    if filename and filename.lower().endswith((".ofx", ".qfx")):
        return "ofx"
    return "csv"


def decode(data: bytes, encoding: str | None) -> Decoded:
    """The file's text in `encoding` (an ENCODINGS name), or as detected (module docstring)."""
    if encoding is not None:
        candidates = [encoding]
    else:
        bom = next((name for mark, name in BOMS if data.startswith(mark)), None)
        candidates = [bom] if bom else ["utf-8", "windows-1252"]
        if bom is None and b"\x00" in data[:65536]:
            raise refuse(
                "The file holds binary data, not text: import reads CSV, OFX and QFX files."
            )
    for name in candidates:
        codec = ENCODINGS[name]
        if codec == "utf-8":
            codec = "utf-8-sig"  # the BOM is not part of the first header name
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            if encoding is not None:
                raise refuse(
                    f"The file is not valid {name} (byte {exc.start + 1} is "
                    f"0x{data[exc.start]:02X}): give the encoding it is written in."
                ) from None
            continue
        if text.startswith("\ufeff"):
            text = text[1:]
        if BINARY.search(text):
            raise refuse(
                "The file holds binary data, not text: import reads CSV, OFX and QFX files."
            )
        return Decoded(text, name)
    raise refuse(
        "The file is neither UTF-8 nor Windows-1252 text: give its encoding "
        f"(one of {', '.join(ENCODINGS)})."
    )
