"""The floor for `glm batch`: J threads, one sync httpx.Client each, one JSON record per answer.

The clients share one TLS context (httpx would build one per client, ~30 ms of CPU each: work a floor
need not do).

Usage: GLM_BASE_URL=… GLM_API_KEY=… python floor_batch.py PROMPTS.jsonl OUT.jsonl J
It sends what `glm batch` sends for a {"id", "prompt"} line (model and messages) and writes one record
per answer ({"id", "content", "usage"}), with a write and a flush each, as glm does.
"""

import json
import os
import sys
import threading

import httpx

src, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = os.environ["GLM_BASE_URL"] + "/chat/completions"
headers = {"Authorization": "Bearer " + os.environ["GLM_API_KEY"]}
lock = threading.Lock()
tls = httpx.create_ssl_context()
lines = open(src, "rb")  # noqa: SIM115 - read by every thread, closed at exit
sink = open(out, "w", encoding="utf-8")  # noqa: SIM115


def work() -> None:
    with httpx.Client(headers=headers, timeout=300, verify=tls) as client:
        while True:
            with lock:
                raw = lines.readline()
            if not raw:
                return
            item = json.loads(raw)
            body = {"model": "glm-4.7", "messages": [{"role": "user", "content": item["prompt"]}]}
            data = client.post(url, json=body).json()
            record = {"id": item["id"], "content": data["choices"][0]["message"]["content"], "usage": data["usage"]}
            text = json.dumps(record, ensure_ascii=False) + "\n"
            with lock:
                sink.write(text)
                sink.flush()


threads = [threading.Thread(target=work) for _ in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
