"""The floor for `glm ask`: a 30-line stdlib client (http.client + json), flushing stdout per delta.

Usage: GLM_BASE_URL=http://127.0.0.1:PORT/api/paas/v4 GLM_API_KEY=… python floor_client.py [--no-think] PROMPT
It sends what `glm ask` sends (model, messages, stream, thinking) and prints the content deltas.
"""

import http.client
import json
import os
import sys
from urllib.parse import urlsplit

args = sys.argv[1:]
body = {
    "model": "glm-4.7",
    "messages": [{"role": "user", "content": " ".join(a for a in args if a != "--no-think")}],
    "stream": True,
}
if "--no-think" in args:
    body["thinking"] = {"type": "disabled"}
url = urlsplit(os.environ["GLM_BASE_URL"] + "/chat/completions")
conn = http.client.HTTPConnection(url.hostname, url.port)
conn.request(
    "POST",
    url.path,
    json.dumps(body),
    {"Authorization": "Bearer " + os.environ["GLM_API_KEY"], "Content-Type": "application/json"},
)
resp = conn.getresponse()
out = sys.stdout
for line in resp:
    if not line.startswith(b"data:"):
        continue
    data = line[5:].strip()
    if data == b"[DONE]":
        break
    for choice in json.loads(data).get("choices", []):
        text = choice.get("delta", {}).get("content")
        if text:
            out.write(text)
            out.flush()
out.write("\n")
