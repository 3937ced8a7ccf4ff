"""Images, video and documents for GLM's vision models (`-a PATH|URL`): checked, then sent as content parts.

URLs go as they are; a local file goes as a base64 `data:` URL with its MIME type, read from its first
bytes (not its name), after the documented checks (tryAGI-spec of the Z.ai API, `VisionMultimodalContentItem`):
an image is JPEG or PNG, at most 5 MB and 6000x6000 pixels; a video MP4, MKV or MOV of at most 200 MB; a document
(PDF, TXT, Word, Excel, PowerPoint, JSONL) at most 50 MB. The store keeps an attachment's name, size and
sha256, never its bytes. Stdlib only.
"""

from __future__ import annotations

import base64
import os
import stat
import struct
from dataclasses import dataclass, field
from typing import Any, NoReturn

from glm_cli.errors import UsageError

MB = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    """What a vision model accepts of one kind: its content part, largest file, and MIME types by name."""

    name: str
    part: str
    max_bytes: int
    types: dict[str, str]  # MIME type -> what to call it


IMAGE = Kind("image", "image_url", 5 * MB, {"image/jpeg": "JPEG", "image/png": "PNG"})
VIDEO = Kind("video", "video_url", 200 * MB, {"video/mp4": "MP4", "video/x-matroska": "MKV", "video/quicktime": "MOV"})
DOCUMENT = Kind(
    "document",
    "file_url",
    50 * MB,
    {
        "application/pdf": "PDF",
        "text/plain": "TXT",
        "application/jsonl": "JSONL",
        "application/msword": "DOC",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
        "application/vnd.ms-excel": "XLS",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
        "application/vnd.ms-powerpoint": "PPT",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
    },
)
KINDS = {k.name: k for k in (IMAGE, VIDEO, DOCUMENT)}
BY_PART = {k.part: k for k in KINDS.values()}
MAX_PIXELS = 6000  # per side
# The most of each kind one request may carry, by model (documented for these families; others unchecked).
MEDIA_LIMITS = {"glm-4.6v": (150, 2), "glm-4.6v-flash": (150, 2), "glm-4.6v-flashx": (150, 2), "glm-4.5v": (50, 1)}
MAX_DOCUMENTS = 50
ACCEPTED = (
    "images: JPEG, PNG (5 MB, 6000x6000 pixels); video: MP4, MKV, MOV (200 MB); "
    "documents: PDF, TXT, DOC(X), XLS(X), PPT(X), JSONL (50 MB)"
)
_BY_EXTENSION = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".jsonl": "application/jsonl",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Formats recognised only to be refused by name (a vision model does not take them).
_REFUSED = {b"GIF87a": "a GIF image", b"GIF89a": "a GIF image", b"BM": "a BMP image", b"\x00\x00\x01\x00": "an icon"}


def kind_of(mime: str) -> Kind | None:
    return next((k for k in KINDS.values() if mime in k.types), None)


@dataclass
class Attachment:
    """One attachment. ``url`` is what is sent (the URL, or the file as a data: URL); None once it came back from
    the store, where only the name, size and sha256 of a file are kept (it is read again if unchanged)."""

    kind: str
    source: str  # the URL, or the file's absolute path
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = field(default=None, repr=False)

    @property
    def is_file(self) -> bool:
        return self.sha256 is not None

    @property
    def name(self) -> str:
        return os.path.basename(self.source) if self.is_file else self.source

    def part(self) -> dict[str, Any]:
        """The content part that sends it; a file that is gone or changed since becomes a note saying so."""
        url = self.url or self._read_again()
        if url is None:
            return {
                "type": "text",
                "text": f"[{self.describe()} was attached here; it is no longer readable "
                "unchanged, so it was not sent again]",
            }
        part = KINDS[self.kind].part
        return {"type": part, part: {"url": url}}

    def _read_again(self) -> str | None:
        if not self.is_file:
            return None
        try:
            again = load_attachment(self.source)
        except UsageError:
            return None
        if again.sha256 != self.sha256:
            return None
        self.url = again.url
        return self.url

    def record(self) -> dict[str, Any]:
        """What the store and `history show/export` keep: a file's name, type, size and sha256 (no bytes)."""
        if not self.is_file:
            return {
                "kind": self.kind,
                "url": self.source if not self.source.startswith("data:") else shorten(self.source),
            }
        return {
            "kind": self.kind,
            "name": self.name,
            "path": self.source,
            "mime": self.mime,
            "size": self.size,
            "sha256": self.sha256,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Attachment:
        if rec.get("sha256"):
            return cls(
                kind=rec.get("kind", "image"),
                source=rec.get("path") or rec.get("name") or "?",
                mime=rec.get("mime"),
                size=rec.get("size"),
                sha256=rec["sha256"],
            )
        url = str(rec.get("url") or "")
        return cls(kind=rec.get("kind", "image"), source=url, url=url if not url.startswith("data:") else None)

    def describe(self) -> str:
        """`image photo.jpg (image/jpeg, 123,456 bytes, sha256 1a2b3c4d5e6f)` or `image https://…`."""
        if not self.is_file:
            return f"{self.kind} {self.source if len(self.source) < 120 else shorten(self.source)}"
        return f"{self.kind} {self.name} ({self.mime}, {self.size:,} bytes, sha256 {str(self.sha256)[:12]})"


def load_attachment(ref: str) -> Attachment:
    """Check one -a value (a path, an http(s) URL or a data: URL) and return it ready to send; UsageError if not."""
    text = ref.strip()
    if text.lower().startswith(("http://", "https://")):
        ext = os.path.splitext(text.split("?", 1)[0].split("#", 1)[0])[1].lower()
        kind = kind_of(_BY_EXTENSION.get(ext, "")) or IMAGE  # a URL's type is its extension; else an image
        return Attachment(kind=kind.name, source=text, mime=_BY_EXTENSION.get(ext), url=text)
    if text.lower().startswith("data:"):
        return _data_url(text)
    return _file(text)


def _data_url(text: str) -> Attachment:
    head, _, data = text.partition(",")
    mime = head[5:].split(";")[0].strip().lower()
    kind = kind_of(mime)
    if kind is None or ";base64" not in head.lower():
        raise UsageError(
            f"cannot attach the data: URL ({mime or 'no type'}): give a base64 data: URL of a type GLM's "
            "vision models accept",
            ACCEPTED,
        )
    size = len(data) * 3 // 4
    _check_size(kind, "the data: URL", size)
    return Attachment(kind=kind.name, source=text, mime=mime, size=size, url=text)


def _file(path: str) -> Attachment:
    full = os.path.abspath(os.path.expanduser(path))
    try:
        with open(full, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"cannot attach {path}: not a regular file")
            head = fh.read(8192)
            mime = _sniff(path, head)
            kind = kind_of(mime)
            assert kind is not None
            _check_size(kind, path, info.st_size)
            data = head + fh.read(kind.max_bytes + 1 - len(head))  # bounded: the file may grow meanwhile
    except OSError as exc:
        raise UsageError(f"cannot attach {path}: {exc.strerror or exc}") from None
    _check_size(kind, path, len(data))
    if kind is IMAGE:
        _check_pixels(path, mime, data)
    import hashlib  # here: OpenSSL's hashes load only for an attached file (a plain ask imports this module)

    encoded = base64.b64encode(data).decode("ascii")
    return Attachment(
        kind=kind.name,
        source=full,
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        url=f"data:{mime};base64,{encoded}",
    )


def _sniff(path: str, head: bytes) -> str:
    """The MIME type from the first bytes (the name decides only between formats that look alike)."""
    ext = os.path.splitext(path)[1].lower()
    named = _BY_EXTENSION.get(ext)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
            _refuse(path, "a HEIC/AVIF image")
        if brand in (b"M4A ", b"M4B "):
            _refuse(path, "an audio file")
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            _refuse(path, "a WebM video")
        return "video/x-matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        _refuse(path, "a WebP image")
    for magic, what in _REFUSED.items():
        if head.startswith(magic):
            _refuse(path, what)
    office = {b"PK\x03\x04": (".docx", ".xlsx", ".pptx"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": (".doc", ".xls", ".ppt")}
    for signature, exts in office.items():
        if head.startswith(signature):
            if ext in exts and named:
                return named
            _refuse(path, "an archive or office file that is not " + "/".join(e[1:].upper() for e in exts))
    named_kind = kind_of(named) if named else None
    if named and named_kind is not None and named_kind is not DOCUMENT:  # photo.png that is none of the above
        raise UsageError(
            f"cannot attach {path}: it is named like a {named_kind.types[named]} {named_kind.name}, "
            "but its content is not one",
            "is the file whole?",
        )
    if b"\0" not in head:
        try:
            head.decode("utf-8")
            return "application/jsonl" if ext == ".jsonl" else "text/plain"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the 8 KiB read
                return "application/jsonl" if ext == ".jsonl" else "text/plain"
    _refuse(path, "not a type GLM's vision models accept")


def _refuse(path: str, what: str) -> NoReturn:
    what = what if what.startswith("not ") else f"{what}, which GLM's vision models do not accept"
    raise UsageError(f"cannot attach {path}: {what}", f"accepted: {ACCEPTED}")


def _check_size(kind: Kind, what: str, size: int) -> None:
    if size > kind.max_bytes:
        article = "an" if kind.name[0] in "aeiou" else "a"
        raise UsageError(
            f"cannot attach {what}: {size:,} bytes is more than the {kind.max_bytes // MB} MB "
            f"{article} {kind.name} may be",
            "send it as an http(s) URL, or make it smaller",
        )
    if size == 0:
        raise UsageError(f"cannot attach {what}: it is empty")


def _check_pixels(path: str, mime: str, data: bytes) -> None:
    size = image_size(mime, data)
    if size is None:
        raise UsageError(f"cannot attach {path}: not a readable {IMAGE.types[mime]} image (no size found in it)")
    width, height = size
    if width > MAX_PIXELS or height > MAX_PIXELS:
        raise UsageError(
            f"cannot attach {path}: {width}x{height} pixels is more than the {MAX_PIXELS}x{MAX_PIXELS} an image may be",
            "scale it down",
        )


def image_size(mime: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, read from its header; None when it cannot be found."""
    if mime == "image/png":
        if len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # no length
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xDA:  # image data starts: no frame header came
            return None
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def user_content(text: str, attachments: list[Attachment] | tuple[Attachment, ...]) -> str | list[dict[str, Any]]:
    """A user message's content: TEXT alone, or the attachments' parts followed by the text part."""
    if not attachments:
        return text
    parts = [a.part() for a in attachments]
    return [*parts, {"type": "text", "text": text}] if text else parts


def media_parts(messages: list[dict[str, Any]]) -> dict[str, int]:
    """Count the image, video and document parts of every message."""
    counts = dict.fromkeys(KINDS, 0)
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                kind = BY_PART.get(str(part.get("type"))) if isinstance(part, dict) else None
                if kind is not None:
                    counts[kind.name] += 1
    return counts


def check_media(info: Any, model: str, messages: list[dict[str, Any]], vision_model: str) -> None:
    """Refuse, before sending, attachments to a model that cannot see, or more of a kind than it takes."""
    counts = media_parts(messages)
    if not any(counts.values()):
        return
    what = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.items() if n)
    check_can_see(info, model, vision_model, what)
    images, videos = MEDIA_LIMITS.get(model, (None, None))
    for kind, most in (("image", images), ("video", videos), ("document", MAX_DOCUMENTS)):
        if most is not None and counts[kind] > most:
            raise UsageError(f"{counts[kind]} {kind}s attached; {model} takes at most {most} in one request")


def check_can_see(info: Any, model: str, vision_model: str, what: str = "", switch: str = "-m") -> None:
    """Refuse attachments for a model the catalogue says cannot see (an unknown model is given the benefit).

    SWITCH is how the hint says to choose another model: `-m` on the command line, `/model` in chat."""
    if info is not None and info.vision is False:
        raise UsageError(
            f"{model} cannot see images, video or documents" + (f" ({what} attached)" if what else ""),
            f"use a vision model: {switch} {vision_model}",
        )


def shorten(url: str, keep: int = 48) -> str:
    """A data: URL cut for showing: its head, then how much was left out."""
    if not url.startswith("data:") or len(url) <= keep * 2:
        return url
    return f"{url[:keep]}…[{len(url) - keep:,} more characters]"


def shortened_body(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a request body with every data: URL shortened (for --dry-run: never megabytes of base64)."""
    messages = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                kind = BY_PART.get(str(part.get("type"))) if isinstance(part, dict) else None
                inner = part.get(kind.part) if kind is not None else None
                if isinstance(inner, dict) and isinstance(inner.get("url"), str):
                    part = {**part, kind.part: {**inner, "url": shorten(inner["url"])}}  # type: ignore[union-attr]
                parts.append(part)
            message = {**message, "content": parts}
        messages.append(message)
    return {**body, "messages": messages}
