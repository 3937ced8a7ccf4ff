"""The floor for `glm history`: python's sqlite3 running glm's query and printing the rows, tab-separated.

Usage: python floor_history.py DB list [-n N]  |  python floor_history.py DB search WORDS…
"""

import sqlite3
import sys

db, action, rest = sqlite3.connect(sys.argv[1]), sys.argv[2], sys.argv[3:]
if action == "list":
    limit = int(rest[1]) if rest[:1] == ["-n"] else 20
    rows = db.execute(
        "SELECT c.id, c.name, c.title, c.model, c.source, c.created, c.updated, (SELECT count(*) FROM messages m"
        " WHERE m.conversation_id = c.id AND m.role = 'user') FROM conversations c"
        " ORDER BY c.updated DESC, c.id DESC LIMIT ?",
        (limit or -1,),
    )
else:  # as glm searches: FTS5 for words of 3 characters or more, LIKE for shorter ones
    words = " ".join(rest).split()
    long, short = [w for w in words if len(w) >= 3], [w for w in words if len(w) < 3]
    where = ["m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"] if long else []
    where += ["m.content LIKE ?"] * len(short)
    args = ([" ".join('"' + w + '"' for w in long)] if long else []) + ["%" + w + "%" for w in short]
    rows = db.execute(
        "SELECT c.id, c.name, c.title, m.role, substr(m.content, 1, 120) FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id WHERE "
        + " AND ".join(where)
        + " ORDER BY c.updated DESC, m.seq LIMIT 20",
        args,
    )
sys.stdout.write("".join("\t".join(map(str, r)) + "\n" for r in rows))
