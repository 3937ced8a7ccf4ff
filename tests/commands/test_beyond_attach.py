"""-a/--attach: images, video and documents for the vision models, checked before sending, stored without bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import struct
import zlib
from pathlib import Path

import httpx
import pytest
import respx

from glm_cli.attachments import load_attachment
from glm_cli.batch.input import build_body, parse_line
from glm_cli.commands.ask import AskOptions, run_ask
from glm_cli.commands.chat import ChatOptions, run_chat
from glm_cli.commands.history import ExportOptions, ShowOptions, run_export, run_show
from glm_cli.errors import GlmError, UsageError
from glm_cli.store import Store, default_path
from tests.chat.test_chat import script
from tests.conftest import chunk, run_glm, sse_body

URL = "https://api.z.ai/api/paas/v4/chat/completions"


def png(width: int = 2, height: int = 3) -> bytes:
    """A real (tiny) PNG of WIDTHxHEIGHT grey pixels."""

    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + part(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + part(b"IDAT", zlib.compress(rows))
        + part(b"IEND", b"")
    )


def jpeg(width: int = 640, height: int = 480) -> bytes:
    """The head of a baseline JPEG: SOI, an APP0 segment, then the frame header with the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 32 + b"\xff\xd9"


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(png())
    return path


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse_body(chunk(content="A grey square."), chunk(content="", finish="stop"))
            )
        )


# ---- checking and reading


def test_a_png_becomes_a_data_url_with_its_type_size_and_hash(photo):
    att = load_attachment(str(photo))
    data = photo.read_bytes()
    assert att.url == data_url(photo, "image/png")
    assert (att.kind, att.mime, att.size, att.sha256) == (
        "image",
        "image/png",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert att.part() == {"type": "image_url", "image_url": {"url": att.url}}


def test_the_content_decides_the_type_not_the_name(tmp_path):
    path = tmp_path / "really-a-jpeg.png"
    path.write_bytes(jpeg())
    assert load_attachment(str(path)).url.startswith("data:image/jpeg;base64,/9j/")


@pytest.mark.parametrize(
    ("name", "data", "mime", "part"),
    [
        ("clip.mp4", b"\0\0\0\x18ftypisom" + b"\0" * 40, "video/mp4", "video_url"),
        ("clip.mov", b"\0\0\0\x14ftypqt  " + b"\0" * 40, "video/quicktime", "video_url"),
        ("clip.mkv", b"\x1a\x45\xdf\xa3" + b"\0" * 40 + b"matroska", "video/x-matroska", "video_url"),
        ("paper.pdf", b"%PDF-1.7\n" + b"x" * 40, "application/pdf", "file_url"),
        ("notes.txt", "naïve text\n".encode(), "text/plain", "file_url"),
        ("rows.jsonl", b'{"a": 1}\n', "application/jsonl", "file_url"),
        (
            "report.docx",
            b"PK\x03\x04" + b"\0" * 40,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "file_url",
        ),
    ],
)
def test_video_and_documents(tmp_path, name, data, mime, part):
    path = tmp_path / name
    path.write_bytes(data)
    att = load_attachment(str(path))
    assert att.mime == mime and att.part() == {"type": part, part: {"url": data_url(path, mime)}}


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("anim.gif", b"GIF89a" + b"\0" * 20, "a GIF image"),
        ("pic.webp", b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 20, "a WebP image"),
        ("fake.png", b"hello, not an image", "named like a PNG image, but its content is not one"),
        ("blob.bin", b"\0\x01\x02\x03" * 10, "not a type GLM's vision models accept"),
        ("stuff.zip", b"PK\x03\x04" + b"\0" * 40, "an archive or office file"),
        ("empty.txt", b"", "it is empty"),
    ],
)
def test_what_a_vision_model_does_not_take_is_refused_by_name(tmp_path, name, data, why):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UsageError, match=why) as exc:
        load_attachment(str(path))
    assert exc.value.exit_code == 2 and str(path) in exc.value.message


def test_documented_limits(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png())
    with open(big, "r+b") as fh:
        fh.truncate(5 * 1024 * 1024 + 1)
    with pytest.raises(UsageError, match="more than the 5 MB an image may be"):
        load_attachment(str(big))
    wide = tmp_path / "wide.jpg"
    wide.write_bytes(jpeg(width=6001, height=10))
    with pytest.raises(UsageError, match="6001x10 pixels is more than the 6000x6000"):
        load_attachment(str(wide))
    tall = tmp_path / "tall.png"
    tall.write_bytes(png(width=1, height=6001))
    with pytest.raises(UsageError, match="1x6001 pixels"):
        load_attachment(str(tall))


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(UsageError, match="cannot attach .*nope.png: No such file"):
        load_attachment(str(tmp_path / "nope.png"))
    with pytest.raises(UsageError, match="cannot attach"):
        load_attachment(str(tmp_path))


def test_urls_go_as_they_are_typed_by_their_extension():
    assert load_attachment("https://x.test/a.mp4?sig=1").part() == {
        "type": "video_url",
        "video_url": {"url": "https://x.test/a.mp4?sig=1"},
    }
    assert load_attachment("https://x.test/doc.PDF").part()["type"] == "file_url"
    assert load_attachment("https://x.test/image?id=3").part()["type"] == "image_url"


# ---- glm ask -a


def test_ask_sends_the_image_then_the_text(make_app, api, photo):
    app = make_app()
    assert run_ask(AskOptions(prompt=("what", "is", "this?"), model="glm-4.6v", attach=(str(photo),)), app) == 0
    body = sent(api)
    assert body["model"] == "glm-4.6v"
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url(photo, "image/png")}},
                {"type": "text", "text": "what is this?"},
            ],
        }
    ]
    assert app.ios.stdout.getvalue() == "A grey square.\n"


def test_an_attachment_alone_is_a_question(make_app, api, photo):
    run_ask(AskOptions(model="vision", attach=(str(photo),)), make_app())
    assert sent(api)["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": data_url(photo, "image/png")}}
    ]


def test_a_model_that_cannot_see_is_refused_before_sending(make_app, api, photo):
    with pytest.raises(GlmError) as exc:
        run_ask(AskOptions(prompt=("q",), attach=(str(photo),)), make_app())  # the default, glm-4.7
    assert exc.value.exit_code == 2 and not api.called
    assert "glm-4.7 cannot see images" in exc.value.message and exc.value.hint == "use a vision model: -m glm-4.6v"


def test_a_model_the_catalogue_does_not_know_is_given_the_benefit(make_app, api, photo):
    run_ask(AskOptions(prompt=("q",), model="some-new-vision-model", attach=(str(photo),)), make_app())
    assert api.called


def test_more_videos_than_the_model_takes_is_refused(make_app, api):
    urls = ("https://x.test/a.mp4", "https://x.test/b.mp4")
    with pytest.raises(GlmError, match="2 videos attached; glm-4.5v takes at most 1"):
        run_ask(AskOptions(prompt=("q",), model="glm-4.5v", attach=urls), make_app())
    assert not api.called


def test_dry_run_on_a_terminal_shortens_the_data_url(make_app, tmp_path):
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg() + b"\0" * 300_000)
    for kind in ("json", "curl"):
        app = make_app(stdout_tty=True)
        run_ask(AskOptions(prompt=("q",), model="glm-4.6v", attach=(str(path),), dry_run=kind), app)
        out = app.ios.stdout.getvalue()
        assert "data:image/jpeg;base64,/9j/" in out and "more characters]" in out and len(out) < 2000


def test_dry_run_piped_is_the_whole_request(make_app, photo):
    app = make_app(stdout_tty=False)
    run_ask(AskOptions(prompt=("q",), model="glm-4.6v", attach=(str(photo),), dry_run="json"), app)
    url = json.loads(app.ios.stdout.getvalue())["messages"][0]["content"][0]["image_url"]["url"]
    assert url == data_url(photo, "image/png")


def test_batch_dry_run_on_a_terminal_shortens_too(make_app, tmp_path):
    from glm_cli.commands.batch.run import BatchOptions, run_batch

    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg() + b"\0" * 300_000)
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"prompt": "q", "model": "glm-4.6v", "attachments": [str(path)]}) + "\n")
    app = make_app(stdout_tty=True)
    assert run_batch(BatchOptions(file=str(lines), dry_run=True), app) == 0
    out = app.ios.stdout.getvalue()
    assert "more characters]" in out and len(out) < 2000


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 900, "completion_tokens": 5, "total_tokens": 905, "image_tokens": 850},
        {
            "prompt_tokens": 900,
            "completion_tokens": 5,
            "total_tokens": 905,
            "prompt_tokens_details": {"image_tokens": 850},
        },
    ],
)
def test_usage_shows_image_tokens_when_reported(make_app, photo, usage):
    with respx.mock:
        respx.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse_body(chunk(content="ok"), chunk(content="", finish="stop", usage=usage))
            )
        )
        app = make_app()
        run_ask(AskOptions(prompt=("q",), model="glm-4.6v", attach=(str(photo),), usage=True), app)
    assert "in 900 (images 850)" in app.ios.stderr.getvalue()


def test_history_keeps_name_size_and_hash_never_the_bytes(make_app, env, api, photo):
    run_ask(AskOptions(prompt=("q",), model="glm-4.6v", attach=(str(photo), "https://x.test/clip.mp4")), make_app())
    encoded = base64.b64encode(photo.read_bytes()).decode()
    db = sqlite3.connect(default_path(env))
    stored = db.execute("SELECT content, attachments FROM messages WHERE role = 'user'").fetchone()
    assert stored[0] == "q" and encoded not in stored[1]
    app = make_app()
    run_show(ShowOptions("1", as_json=True), app)
    user = json.loads(app.ios.stdout.getvalue())["messages"][0]
    assert user["content"] == "q"
    assert user["attachments"] == [
        {
            "kind": "image",
            "name": "photo.png",
            "path": str(photo),
            "mime": "image/png",
            "size": len(png()),
            "sha256": hashlib.sha256(png()).hexdigest(),
        },
        {"kind": "video", "url": "https://x.test/clip.mp4"},
    ]
    app = make_app()
    run_export(ExportOptions("1", format="markdown"), app)
    text = app.ios.stdout.getvalue()
    assert (
        f"*attached: image photo.png (image/png, {len(png())} bytes, sha256 {hashlib.sha256(png()).hexdigest()[:12]})*"
        in text
    )
    assert encoded not in text


def test_continuing_sends_an_unchanged_file_again_and_names_a_changed_one(make_app, api, photo):
    run_ask(AskOptions(prompt=("q",), model="glm-4.6v", attach=(str(photo),)), make_app())
    run_ask(AskOptions(prompt=("and", "now?"), continue_=True), make_app())
    first = sent(api)["messages"][0]["content"]
    assert first[0] == {"type": "image_url", "image_url": {"url": data_url(photo, "image/png")}}
    photo.write_bytes(png(4, 4))
    run_ask(AskOptions(prompt=("again?",), continue_=True), make_app())
    note = sent(api)["messages"][0]["content"][0]
    assert note["type"] == "text" and "photo.png" in note["text"] and "not sent again" in note["text"]


def test_a_history_from_before_attachments_is_migrated(env, make_app, api):
    path = default_path(env)
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    from glm_cli.store import _v1

    _v1(db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO conversations (title, created, updated) VALUES ('old', 1, 1)")
    db.execute("INSERT INTO messages (conversation_id, seq, role, content, created) VALUES (1, 1, 'user', 'old q', 1)")
    db.commit()
    db.close()
    with Store.open(path) as store:
        assert store.load(1).messages[0].content == "old q" and store.load(1).messages[0].attachments is None


# ---- glm chat -a and /attach


def test_chat_attaches_to_the_first_message_only(make_app, api, photo):
    app = make_app()
    run_chat(ChatOptions(model="glm-4.6v", attach=(str(photo),)), app, read_line=script("describe", "more"))
    first, second = (json.loads(c.request.content) for c in api.calls)
    image = {"type": "image_url", "image_url": {"url": data_url(photo, "image/png")}}
    assert first["messages"][-1]["content"] == [image, {"type": "text", "text": "describe"}]
    assert second["messages"][-1] == {"role": "user", "content": "more"}
    assert second["messages"][0]["content"][0] == image  # the conversation still holds it


def test_chat_refuses_attachments_for_a_model_that_cannot_see_at_start(make_app, api, photo):
    with pytest.raises(GlmError, match="cannot see"):
        run_chat(ChatOptions(attach=(str(photo),)), make_app(), read_line=script("x"))
    assert not api.called


def test_slash_attach_keeps_the_files_when_the_message_is_refused(make_app, api, photo):
    app = make_app()
    run_chat(
        ChatOptions(),
        app,
        read_line=script(f"/attach {photo}", "what is it", "/model glm-4.6v", "/attach", "what is it"),
    )
    err = app.ios.stderr.getvalue()
    assert "attached image photo.png" in err and "note: glm-4.7 cannot see" in err
    assert "(1 attachment kept for the next message)" in err and err.count("attached: image photo.png") == 1
    assert len(api.calls) == 1
    assert sent(api)["messages"][-1]["content"][0]["image_url"]["url"] == data_url(photo, "image/png")


def test_slash_attach_a_path_with_spaces_and_off(make_app, api, tmp_path):
    spaced = tmp_path / "my photo.png"
    spaced.write_bytes(png())
    app = make_app()
    run_chat(ChatOptions(model="glm-4.6v"), app, read_line=script(f"/attach {spaced}", "/attach off", "hi"))
    assert sent(api)["messages"][-1] == {"role": "user", "content": "hi"}
    assert "dropped 1 attachment(s)" in app.ios.stderr.getvalue()


# ---- batch lines


def test_batch_line_attachments_become_content_parts(settings_for, photo):
    item = parse_line(json.dumps({"id": "a", "prompt": "what?", "attachments": [str(photo)], "model": "glm-4.6v"}), 1)
    body = build_body(item, settings_for(), None)
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url(photo, "image/png")}},
                {"type": "text", "text": "what?"},
            ],
        }
    ]


def test_batch_line_errors(settings_for, tmp_path):
    missing = parse_line(json.dumps({"prompt": "q", "attachments": [str(tmp_path / "gone.png")]}), 3)
    with pytest.raises(UsageError, match="gone.png: No such file"):
        build_body(missing, settings_for(), None)
    both = parse_line(json.dumps({"messages": [{"role": "user", "content": "q"}], "attachments": ["x.png"]}), 4)
    assert "with `messages`, put content parts" in both.error
    bad = parse_line(json.dumps({"prompt": "q", "attachments": "x.png"}), 5)
    assert "`attachments` must be a list" in bad.error


def test_batch_content_arrays_pass_through_and_are_checked_for_vision(settings_for):
    parts = [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}, {"type": "text", "text": "q"}]
    item = parse_line(json.dumps({"messages": [{"role": "user", "content": parts}], "model": "glm-4.6v"}), 1)
    assert build_body(item, settings_for(), None)["messages"][0]["content"] == parts
    from glm_cli.catalogue import load_catalogue

    text_model = parse_line(json.dumps({"messages": [{"role": "user", "content": parts}]}), 2)
    with pytest.raises(UsageError, match="glm-4.7 cannot see"):
        build_body(text_model, settings_for(), load_catalogue())


@pytest.fixture
def settings_for(env):
    from glm_cli.config import load_settings

    return lambda **flags: load_settings(env, flags)


# ---- the installed glm against the fake server


def test_e2e_ask_attach_sends_the_exact_bytes(srv, environ, tmp_path):
    path = tmp_path / "shot.jpg"
    path.write_bytes(jpeg(800, 600))
    out = run_glm(["ask", "-m", "glm-4.6v", "-a", str(path), "-a", "https://x.test/doc.pdf", "what is it"], environ)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Echo: what is it\n"
    content = srv.chat_requests()[-1]["messages"][-1]["content"]
    assert content == [
        {"type": "image_url", "image_url": {"url": data_url(path, "image/jpeg")}},
        {"type": "file_url", "file_url": {"url": "https://x.test/doc.pdf"}},
        {"type": "text", "text": "what is it"},
    ]


def test_e2e_refusals_send_nothing(srv, environ, tmp_path):
    path = tmp_path / "shot.jpg"
    path.write_bytes(jpeg())
    out = run_glm(["ask", "-a", str(path), "what is it"], environ)
    assert out.returncode == 2 and "glm: glm-4.7 cannot see images" in out.stderr and "-m glm-4.6v" in out.stderr
    out = run_glm(["ask", "-m", "glm-4.6v", "-a", str(tmp_path / "missing.png"), "q"], environ)
    assert out.returncode == 2 and "cannot attach" in out.stderr and "Traceback" not in out.stderr
    assert srv.chat_requests() == []


def test_e2e_batch_line_with_an_attachment(srv, environ, tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(png())
    lines = tmp_path / "in.jsonl"
    lines.write_text(
        json.dumps({"id": "img", "prompt": "describe", "model": "glm-4.6v", "attachments": [str(path)]})
        + "\n"
        + json.dumps(
            {"id": "gone", "prompt": "describe", "model": "glm-4.6v", "attachments": [str(tmp_path / "gone.png")]}
        )
        + "\n"
    )
    out = run_glm(["batch", str(lines), "-o", str(tmp_path / "out.jsonl")], environ)
    records = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert records["img"]["content"] == "Echo: describe"
    assert "gone.png" in records["gone"]["error"]["message"]
    assert out.returncode != 0
    assert srv.chat_requests()[0]["messages"][0]["content"][0]["image_url"]["url"] == data_url(path, "image/png")


def test_fake_server_refuses_a_malformed_content_part(srv):
    headers = {"Authorization": f"Bearer {srv.api_key}"}
    good = [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}, {"type": "text", "text": "q"}]
    for content, status in (
        (good, 200),
        ([{"type": "image_url", "image_url": "https://x.test/a.png"}], 400),
        ([{"type": "video_url", "video_url": {"url": ""}}], 400),
    ):
        resp = httpx.post(
            srv.url("chat/completions"),
            headers=headers,
            json={"model": "glm-4.6v", "messages": [{"role": "user", "content": content}]},
        )
        assert resp.status_code == status
        if status == 400:
            assert resp.json()["error"]["code"] == "1214"


def test_an_attachment_alone_titles_the_conversation(make_app, env, api, photo):
    run_ask(AskOptions(model="glm-4.6v", attach=(str(photo),)), make_app())
    with Store.open(default_path(env)) as store:
        assert store.list()[0].title == "[image photo.png]"
