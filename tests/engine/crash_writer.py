"""A writer for the kill -9 test: commits forever, printing each acknowledged LSN.

Each transaction writes its number into several KV keys and one SQL-free marker, so a reader
can tell a partly applied transaction (keys disagreeing) from a whole one.
"""

import sys

from sochdb import Database

path, start = sys.argv[1], int(sys.argv[2])
db = Database.open(path, config={"sync_mode": "full"})
i = start
while True:
    with db.transaction() as txn:
        for part in range(4):
            txn.put(b"txn:%08d:%d" % (i, part), b"%d" % i)
        txn.put(b"last", b"%d" % i)
    # Acknowledged: the commit returned.
    sys.stdout.write(f"{i}\n")
    sys.stdout.flush()
    if i % 97 == 0:
        db.checkpoint()
    i += 1
