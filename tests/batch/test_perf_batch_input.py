"""The duplicate-id scan of a batch input, made three times cheaper, finds exactly what parsing every line
would: the same id for every line (json.loads' own rules), the same duplicates; a million lines stay small."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.batch.input import _scan_ids, iter_items, scan_input

IDS = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.booleans(), st.none(), st.lists(st.integers(), max_size=1))
OBJECTS = st.fixed_dictionaries(
    {}, optional={"id": IDS, "custom_id": IDS, "body": st.just({}), "prompt": st.text(max_size=5)}
)
SPACE = st.sampled_from(["", " ", "\t", "\r", " \t", "\u00a0", "\x0b", "\x0c", "\u3000", "\ufeff"])
LINES = st.one_of(
    st.builds(lambda o, a, b: a + json.dumps(o, ensure_ascii=False) + b, OBJECTS, SPACE, SPACE),
    st.builds(lambda o: json.dumps(o)[:-1], OBJECTS),  # cut short: not JSON
    st.builds(lambda o, tail: json.dumps(o) + tail, OBJECTS, st.sampled_from([" x", ",", " {}", "]", "\x00"])),
    st.text(max_size=12),
    st.sampled_from(['"a string"', "[]", "1", "null", '{"id": "a", "id": "b"}', "NaN", '{"id": "\\ud800"}']),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_scanned_ids_are_the_parsed_ids(lines: list[str]):
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    assert list(_scan_ids(io.BytesIO(data), False)) == [(i.line, i.id) for i in iter_items(io.BytesIO(data))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "line-2", 7, "7"]), max_size=30))
def test_scan_finds_exactly_the_duplicates(ids: list):
    data = "".join(json.dumps({"id": i, "prompt": "p"}) + "\n" for i in ids).encode()
    expected: dict[str, list[int]] = {}
    for item in iter_items(io.BytesIO(data)):
        expected.setdefault(item.id, []).append(item.line)
    scan = scan_input(io.BytesIO(data))
    assert scan.total == len(ids)
    assert scan.duplicates == {k: v for k, v in expected.items() if len(v) > 1}


def test_a_million_line_scan_stays_small(tmp_path):
    # RSS of a fresh interpreter scanning a million lines: the hashes (8 MB) and one bucket at a time.
    import subprocess
    import sys

    from tests.conftest import ROOT

    src = tmp_path / "million.jsonl"
    with src.open("w") as fh:
        fh.write("".join(map('{{"id": "q{:07d}"}}\n'.format, range(1_000_000))) + '{"id": "q0000007"}\n')
    code = (  # VmHWM: this process's own peak (ru_maxrss would count the forking parent's)
        "from glm_cli.batch.input import scan_input\n"
        f"scan = scan_input(open({str(src)!r}, 'rb'))\n"
        "peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) // 1024\n"
        "print(scan.total, scan.duplicates, peak)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    total, dups, rss = out.stdout.rsplit(" ", 1)[0], out.stdout.split("{", 1)[1], int(out.stdout.split()[-1])
    assert total.startswith("1000001 ") and dups.startswith("'q0000007': [8, 1000001]}"), out.stdout + out.stderr
    assert rss < 50, f"peak RSS {rss} MB"
