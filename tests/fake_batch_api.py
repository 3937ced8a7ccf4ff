"""The fake's Batch API: uploaded files and batches (state on FakeGLM, handlers on its request handler)."""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from tests.fake_wire import (
    BATCH_ENDPOINTS,
    EMBED_BATCH_MAX_LINES,
    FILE_PURPOSES,
    TERMINAL,
    dumps,
    error_body,
    parse_json,
    parse_multipart,
)

if TYPE_CHECKING:
    from tests.fake_server import Recorded


class BatchApiState:
    """FakeGLM's Files and Batch API state: uploads, batches, each advanced a step per status GET."""

    files: dict[str, Any]
    batches: dict[str, Any]
    lock: threading.Lock

    # ---- files

    def _store_file(self, filename: str, content: bytes, purpose: str) -> dict:
        now = int(time.time())
        obj = {
            "bytes": len(content),
            "created_at": now,
            "filename": filename,
            "id": f"{now}_{uuid.uuid4().hex}",
            "object": "file",
            "purpose": purpose,
        }
        with self.lock:
            self.files[obj["id"]] = {"object": obj, "content": content}
        return obj

    # ---- batches

    def _create_batch(self, body: dict) -> tuple[int, dict]:
        file_id, endpoint = body.get("input_file_id"), body.get("endpoint")
        if not isinstance(file_id, str) or not file_id:
            return 400, error_body("1213", "input_file_id is required.")
        if endpoint not in BATCH_ENDPOINTS:
            return 400, error_body("1214", f"endpoint must be one of {', '.join(BATCH_ENDPOINTS)}.")
        metadata = body.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and len(metadata) <= 16
            and all(
                isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= 512
                for k, v in metadata.items()
            )
        ):
            return 400, error_body("1214", "metadata: at most 16 string pairs, keys ≤ 64 and values ≤ 512 chars.")
        with self.lock:
            stored = self.files.get(file_id)
        if stored is None:
            return 400, error_body("1214", f"input_file_id {file_id} does not exist.")
        lines, errors = self._parse_batch_file(stored["content"], endpoint)
        now = int(time.time() * 1000)
        batch_id = f"batch_{random.randrange(10**18, 10**19)}"
        batch = {
            "cancelled_at": None,
            "cancelling_at": None,
            "completed_at": None,
            "completion_window": body.get("completion_window") or "24h",
            "created_at": now,
            "endpoint": endpoint,
            "error_file_id": None,
            "errors": None,
            "expired_at": None,
            "expires_at": now + 86_400_000,
            "failed_at": None,
            "finalizing_at": None,
            "id": batch_id,
            "in_progress_at": None,
            "input_file_id": file_id,
            "metadata": metadata,
            "object": "batch",
            "output_file_id": None,
            "request_counts": {"completed": 0, "failed": 0, "total": 0 if errors else len(lines)},
            "status": "validating",
        }
        with self.lock:
            self.batches[batch_id] = batch
            self._batch_state[batch_id] = {
                "gets": 0,
                "lines": lines,
                "errors": errors,
                "results": None,
                "auto_delete": body.get("auto_delete_input_file", True) is not False,
            }
            return 200, json.loads(json.dumps(batch))

    def _parse_batch_file(self, content: bytes, endpoint: str) -> tuple[list[dict], list[dict]]:
        """The §7.2 lines of an input file, and validation errors (OpenAI-style error objects)."""
        lines: list[dict] = []
        errors: list[dict] = []
        seen: set[str] = set()
        models: set[str] = set()

        def err(code: str, line: int | None, message: str) -> None:
            if len(errors) < 100:
                errors.append({"code": code, "line": line, "message": message, "param": None})

        for n, raw in enumerate(content.splitlines(), 1):
            if not raw.strip():
                continue
            obj = parse_json(raw)
            if not isinstance(obj, dict):
                err("invalid_json_line", n, f"line {n} is not a JSON object")
                continue
            cid = obj.get("custom_id")
            if not isinstance(cid, str) or not cid:
                err("missing_custom_id", n, f"line {n}: custom_id is required")
            elif cid in seen:
                err("duplicate_custom_id", n, f"line {n}: custom_id {cid!r} is not unique")
            if obj.get("method") != "POST":
                err("invalid_method", n, f"line {n}: method must be POST")
            if obj.get("url") != endpoint:
                err("invalid_url", n, f"line {n}: url must be {endpoint}")
            body = obj.get("body")
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                err("invalid_body", n, f"line {n}: body must be an object with a model")
            else:
                models.add(body["model"])
            if isinstance(cid, str):
                seen.add(cid)
            lines.append(obj)
        if not lines and not errors:
            err("empty_file", None, "the input file has no requests")
        if endpoint == "/v4/embeddings" and len(lines) > EMBED_BATCH_MAX_LINES:
            err("too_many_lines", None, f"an embeddings batch holds at most {EMBED_BATCH_MAX_LINES:,} requests")
        if self.batch_single_model and len(models) > 1:
            err("mixed_models", None, f"one model per file; found {', '.join(sorted(models))}")
        return lines, errors

    def _get_batch(self, batch_id: str, advance: bool) -> dict | None:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return None
            state = self._batch_state[batch_id]
            if advance and batch["status"] not in TERMINAL:
                state["gets"] += 1
                steps = int(self.batch_steps_per_status)
                if steps <= 0:
                    while batch["status"] not in TERMINAL:
                        self._advance(batch, state)
                elif state["gets"] >= steps:
                    state["gets"] = 0
                    self._advance(batch, state)
            return json.loads(json.dumps(batch))

    def _advance(self, batch: dict, state: dict) -> None:
        """One status step: validating → in_progress → finalizing → completed (or failed / cancelled)."""
        now, status = int(time.time() * 1000), batch["status"]
        if status == "validating" and state["errors"]:
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": state["errors"]})
        elif status == "validating":
            batch.update(status="in_progress", in_progress_at=now)
        elif status == "in_progress":
            state["results"] = [self._run_batch_line(batch["id"], line) for line in state["lines"]]
            ok = sum(1 for status_code, _ in state["results"] if status_code == 200)
            batch["request_counts"].update(completed=ok, failed=len(state["results"]) - ok)
            batch.update(status="finalizing", finalizing_at=now)
        elif status == "finalizing":
            good = [text for code, text in state["results"] if code == 200]
            bad = [text for code, text in state["results"] if code != 200]
            if good:
                out = self._store_file(f"{batch['id']}_output.jsonl", "".join(good).encode(), "batch")
                batch["output_file_id"] = out["id"]
            if bad:
                out = self._store_file(f"{batch['id']}_error.jsonl", "".join(bad).encode(), "batch")
                batch["error_file_id"] = out["id"]
            batch.update(status="completed", completed_at=now)
        elif status == "cancelling":
            batch.update(status="cancelled", cancelled_at=now)
        if batch["status"] in TERMINAL and state["auto_delete"]:
            self.files.pop(batch["input_file_id"], None)

    def _run_batch_line(self, batch_id: str, line: dict) -> tuple[int, str]:
        """Answer one request line with the default reply (no queued replies/faults); return (status, line).

        A `/v4/embeddings` line is answered as POST /embeddings would be (its body: data, model, usage).
        """
        cid, body = line["custom_id"], dict(line["body"])
        if cid in self.batch_fail_custom_ids:
            status, resp = 500, error_body("500", "Internal server error")
        elif line.get("url") == "/v4/embeddings":
            status, resp = self._embeddings(body)
        elif (problem := self._validate_chat({**body, "stream": False})) is not None:
            status, resp = 400, error_body(*problem)
        else:
            status, resp = 200, self._answer({**body, "stream": False}, None).to_json()
        text = (
            '{"response":{"status_code":'
            + str(status)
            + ',"body":'
            + dumps(resp, sort=True)
            + '},"custom_id":'
            + dumps(cid)
            + ',"id":'
            + dumps(batch_id)
            + "}\n"
        )
        return status, text

    def _cancel_batch(self, batch_id: str) -> tuple[int, dict]:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return 404, error_body("1214", f"Batch {batch_id} does not exist.")
            if batch["status"] in TERMINAL:
                return 400, error_body("1214", f"Batch {batch_id} is {batch['status']} and cannot be cancelled.")
            if batch["status"] != "cancelling":
                batch.update(status="cancelling", cancelling_at=int(time.time() * 1000))
                self._batch_state[batch_id]["gets"] = 0
            return 200, json.loads(json.dumps(batch))


class BatchApiHandlers:
    """The HTTP handlers of the Files and Batch endpoints, mixed into the fake's request handler."""

    # ---- files

    def _h_file_upload(self, rec: Recorded) -> None:
        fake = self.server.fake
        ctype = rec.headers.get("content-type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.lower().startswith("multipart/form-data") or not m:
            return self._json(400, error_body("1214", "Content-Type must be multipart/form-data."))
        fields = parse_multipart(rec.body, m.group(1).encode())
        if "file" not in fields:
            return self._json(400, error_body("1213", "The file field is required."))
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace").strip()
        if purpose not in FILE_PURPOSES:
            return self._json(400, error_body("1214", f"Invalid purpose {purpose!r}."))
        filename, content = fields["file"]
        if len(content) > fake.max_file_bytes:
            return self._json(435, error_body("1214", "File size exceeds the 100MB limit."))
        self._json(200, fake._store_file(filename or "file", content, purpose))

    def _h_file_list(self, rec: Recorded) -> None:
        fake, q = self.server.fake, rec.query
        with fake.lock:
            objs = [f["object"] for f in fake.files.values()]
        if q.get("purpose"):
            objs = [o for o in objs if o["purpose"] == q["purpose"]]
        if q.get("order", "desc") != "asc":
            objs.reverse()
        if q.get("after"):
            ids = [o["id"] for o in objs]
            objs = objs[ids.index(q["after"]) + 1 :] if q["after"] in ids else []
        limit = self._limit(q, 20, 100)
        if limit is None:
            return
        self._json(200, {"data": objs[:limit], "has_more": len(objs) > limit, "object": "list"})

    def _file(self, file_id: str) -> dict | None:
        with self.server.fake.lock:
            stored = self.server.fake.files.get(file_id)
        if stored is None:
            self._json(404, error_body("1214", f"File {file_id} does not exist."))
        return stored

    def _h_file_get(self, rec: Recorded, file_id: str) -> None:
        stored = self._file(file_id)
        if stored:
            self._json(200, stored["object"])

    def _h_file_content(self, rec: Recorded, file_id: str) -> None:
        stored = self._file(file_id)
        if stored:
            self._send(200, stored["content"], "application/octet-stream")

    def _h_file_delete(self, rec: Recorded, file_id: str) -> None:
        if self._file(file_id):
            with self.server.fake.lock:
                self.server.fake.files.pop(file_id, None)
            self._json(200, {"deleted": True, "id": file_id, "object": "file"})

    # ---- batches

    def _limit(self, q: dict, default: int, most: int) -> int | None:
        try:
            limit = int(q.get("limit") or default)
        except ValueError:
            limit = 0
        if not 1 <= limit <= most:
            self._json(400, error_body("1214", f"limit must be between 1 and {most}."))
            return None
        return limit

    def _h_batch_create(self, rec: Recorded) -> None:
        if not isinstance(rec.json, dict):
            return self._json(400, error_body("1210", "The request body is not a JSON object."))
        self._json(*self.server.fake._create_batch(rec.json))

    def _h_batch_get(self, rec: Recorded, batch_id: str) -> None:
        batch = self.server.fake._get_batch(batch_id, advance=True)
        if batch is None:
            return self._json(404, error_body("1214", f"Batch {batch_id} does not exist."))
        self._json(200, batch)

    def _h_batch_cancel(self, rec: Recorded, batch_id: str) -> None:
        self._json(*self.server.fake._cancel_batch(batch_id))

    def _h_batch_list(self, rec: Recorded) -> None:
        fake, q = self.server.fake, rec.query
        limit = self._limit(q, 20, 100)
        if limit is None:
            return
        with fake.lock:
            ids = list(reversed(fake.batches))  # newest first
        if q.get("after"):
            ids = ids[ids.index(q["after"]) + 1 :] if q["after"] in ids else []
        page = [fake._get_batch(i, advance=False) for i in ids[:limit]]
        self._json(
            200,
            {
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "has_more": len(ids) > limit,
                "last_id": page[-1]["id"] if page else None,
                "object": "list",
            },
        )
