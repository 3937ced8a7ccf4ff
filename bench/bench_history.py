"""`glm history list` and `glm history search WORD` over 100,000 stored conversations, beside their floor.

Run: .venv/bin/python bench/bench_history.py [--runs N] [--glm PATH] [--conversations N]
The store is filled through glm's own schema (triggers and FTS5 index included) with realistic conversations:
a question of a line and a markdown answer of a few paragraphs, in English or Chinese. The floor is
floor_history.py: python's sqlite3 running the same query and printing the same rows. Target: ≤ 0.3 s each.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import BENCH, ROOT, bench_env, header, parser, row, versus
from content import answer

sys.path.insert(0, str(ROOT))

WORDS = ("configuration", "配置")  # in every English / Chinese answer: the search must sort and cut, not just find


def fill(path: Path, conversations: int) -> None:
    """Write N conversations (a question and an answer each) through glm's schema, in one transaction."""
    from glm_cli.store import Store

    english, chinese = answer("markdown", 120), answer("chinese", 120)
    now = time.time()
    with Store.open(path) as store:
        db = store.db
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO conversations (id, title, model, source, options, created, updated)"
            " VALUES (?, ?, 'glm-4.7', 'ask', '{}', ?, ?)",
            ((i, f"How do I configure step {i}?", now - i, now - i) for i in range(1, conversations + 1)),
        )
        db.executemany(
            "INSERT INTO messages (conversation_id, seq, role, content, created) VALUES (?, ?, ?, ?, ?)",
            (
                (i, seq, role, text, now - i)
                for i in range(1, conversations + 1)
                for seq, role, text in (
                    (1, "user", f"How do I configure step {i}? I tried twice and it failed."),
                    (2, "assistant", f"Step {i}.\n\n" + (chinese if i % 3 == 0 else english)),
                )
            ),
        )
        db.execute("COMMIT")


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--conversations", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="glm-bench-history-") as tmp:
        env = bench_env(args.glm, XDG_DATA_HOME=tmp)
        db = Path(tmp) / "glm" / "history.db"
        started = time.perf_counter()
        fill(db, args.conversations)
        size = db.stat().st_size / 1e6
        print(f"# {args.conversations:,} conversations written in {time.perf_counter() - started:.0f} s: {size:.0f} MB")
        header("bench_history", args.runs, args.glm)
        floor = [sys.executable, str(BENCH / "floor_history.py"), str(db)]
        for args_ in (
            ["list"],
            ["list", "-n", "0"],
            ["search", WORDS[0]],
            ["search", WORDS[1]],
            ["search", "step 9999"],
        ):
            mine, base = versus([args.glm, "history", *args_], [*floor, *args_], args.runs, env)
            row(
                f"`glm history {' '.join(args_)}`, {args.conversations:,} conversations",
                mine,
                base,
                f"glm history {' '.join(args_)}  vs  floor_history.py DB {' '.join(args_)}",
                target="0.3 s",
            )


if __name__ == "__main__":
    main()
