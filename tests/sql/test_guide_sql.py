"""Every SQL example of the user guide, run verbatim, printing what the guide prints.

The guide runs its UPDATE/DELETE example after the JOIN examples; with the orders table in
place, deleting Bob would break the enforced foreign key, so that example runs on the users
table alone (see docs/sql.md).
"""

from __future__ import annotations

import pytest

from sochdb import ConstraintError, Database

USERS = """
CREATE TABLE users (
id INTEGER PRIMARY KEY,
name TEXT NOT NULL,
email TEXT UNIQUE,
age INTEGER
)
"""


def create_users(db):
    created = db.execute_sql(USERS)
    first = db.execute_sql("""
INSERT INTO users (id, name, email, age)
VALUES (1, 'Alice', 'alice@example.com', 30)
""")
    db.execute_sql("""
INSERT INTO users (id, name, email, age)
VALUES (2, 'Bob', 'bob@example.com', 25)
""")
    return created, first


def create_orders(db):
    db.execute_sql("""
CREATE TABLE orders (
id INTEGER PRIMARY KEY,
user_id INTEGER,
product TEXT,
amount REAL,
FOREIGN KEY (user_id) REFERENCES users(id)
)
""")
    db.execute_sql("INSERT INTO orders VALUES (1, 1, 'Laptop', 999.99)")
    db.execute_sql("INSERT INTO orders VALUES (2, 1, 'Mouse', 25.00)")
    db.execute_sql("INSERT INTO orders VALUES (3, 2, 'Keyboard', 75.00)")


def test_create_table_and_insert(tmp_path):
    with Database.open(str(tmp_path / "sql_db")) as db:
        created, first = create_users(db)
        assert str(created) == "Table 'users' created"
        assert str(first) == "1 row inserted"
        two = db.execute_sql("INSERT INTO users VALUES (3, 'Carol', 'c@x', 40), "
                             "(4, 'Dan', 'd@x', 41)")
        assert str(two) == "2 rows inserted" and two.rowcount == 2


def test_select_queries(db, capsys):
    create_users(db)
    results = db.execute_sql("SELECT * FROM users")
    for row in results:
        print(row)
    results = db.execute_sql("SELECT name, age FROM users WHERE age > 26")
    for row in results:
        print(f"{row['name']}: {row['age']} years old")
    assert capsys.readouterr().out == (
        "{'id': 1, 'name': 'Alice', 'email': 'alice@example.com', 'age': 30}\n"
        "{'id': 2, 'name': 'Bob', 'email': 'bob@example.com', 'age': 25}\n"
        "Alice: 30 years old\n")


def test_join_query(db, capsys):
    create_users(db)
    create_orders(db)
    results = db.execute_sql("""
SELECT users.name, orders.product, orders.amount
FROM users
JOIN orders ON users.id = orders.user_id
WHERE orders.amount > 50
ORDER BY orders.amount DESC
""")
    for row in results:
        print(f"{row['name']} bought {row['product']} for ${row['amount']}")
    assert capsys.readouterr().out == ("Alice bought Laptop for $999.99\n"
                                       "Bob bought Keyboard for $75.0\n")


def test_aggregations(db, capsys):
    create_users(db)
    create_orders(db)
    results = db.execute_sql("""
SELECT users.name, COUNT(*) as order_count, SUM(orders.amount) as total
FROM users
JOIN orders ON users.id = orders.user_id
GROUP BY users.name
ORDER BY total DESC
""")
    for row in results:
        print(f"{row['name']}: {row['order_count']} orders, ${row['total']} total")
    assert capsys.readouterr().out == ("Alice: 2 orders, $1024.99 total\n"
                                       "Bob: 1 orders, $75.0 total\n")


def test_update_and_delete(db, capsys):
    create_users(db)
    db.execute_sql("UPDATE users SET age = 31 WHERE name = 'Alice'")
    db.execute_sql("DELETE FROM users WHERE age < 26")
    results = db.execute_sql("SELECT name, age FROM users")
    for row in results:
        print(row)
    assert capsys.readouterr().out == "{'name': 'Alice', 'age': 31}\n"


def test_delete_referenced_row_is_refused(db):
    create_users(db)
    create_orders(db)
    with pytest.raises(ConstraintError, match="FOREIGN KEY constraint orders_user_id_fkey"):
        db.execute_sql("DELETE FROM users WHERE age < 26")
    assert len(db.execute_sql("SELECT * FROM users")) == 2


def test_transaction_advanced_sql(db):
    db.execute_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    txn2 = db.transaction()
    txn2.execute("INSERT INTO users VALUES (1, 'Alice')")
    txn2.put(b"user:1:metadata", b'{"verified": true}')
    assert len(db.execute_sql("SELECT * FROM users")) == 0  # not visible before commit
    txn2.commit()
    assert db.execute_sql("SELECT name FROM users").fetchall() == [{"name": "Alice"}]
    assert db.get(b"user:1:metadata") == b'{"verified": true}'


def test_complete_example_multi_tenant(tmp_path, capsys, monkeypatch):
    import json
    monkeypatch.chdir(tmp_path)

    def main():
        with Database.open("./saas_db") as db:
            db.execute_sql("""
CREATE TABLE IF NOT EXISTS tenants (
id INTEGER PRIMARY KEY,
name TEXT,
created_at TEXT
)
""")
            db.execute_sql("INSERT INTO tenants VALUES (1, 'ACME Corp', '2026-01-01')")
            db.execute_sql("INSERT INTO tenants VALUES (2, 'Globex Inc', '2026-01-01')")
            db.put(b"tenants/1/users/alice", b'{"role":"admin","email":"alice@acme.com"}')
            db.put(b"tenants/1/users/bob", b'{"role":"user","email":"bob@acme.com"}')
            db.put(b"tenants/2/users/charlie", b'{"role":"admin","email":"charlie@globex.com"}')
            tenants = db.execute_sql("SELECT * FROM tenants ORDER BY name")
            for tenant in tenants:
                tenant_id = tenant['id']
                tenant_name = tenant['name']
                prefix = f"tenants/{tenant_id}/".encode()
                end = f"tenants/{tenant_id};".encode()
                users = list(db.scan(prefix, end))
                print(f"\n{tenant_name} ({len(users)} users):")
                for key, value in users:
                    user_data = json.loads(value.decode())
                    print(f" {key.decode()}: {user_data['email']} ({user_data['role']})")

    main()
    assert capsys.readouterr().out == (
        "\nACME Corp (2 users):\n"
        " tenants/1/users/alice: alice@acme.com (admin)\n"
        " tenants/1/users/bob: bob@acme.com (user)\n"
        "\nGlobex Inc (1 users):\n"
        " tenants/2/users/charlie: charlie@globex.com (admin)\n")


def test_complete_example_ecommerce(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Database.open("./ecommerce") as db:
        db.execute_sql("""
CREATE TABLE products (
id INTEGER PRIMARY KEY,
name TEXT,
price REAL,
category TEXT
)
""")
        db.execute_sql("""
CREATE TABLE orders (
id INTEGER PRIMARY KEY,
product_id INTEGER,
quantity INTEGER,
total REAL
)
""")
        db.execute_sql("INSERT INTO products VALUES (1, 'Laptop', 999.99, 'Electronics')")
        db.execute_sql("INSERT INTO products VALUES (2, 'Mouse', 25.00, 'Electronics')")
        db.execute_sql("INSERT INTO products VALUES (3, 'Desk', 299.99, 'Furniture')")
        db.execute_sql("INSERT INTO orders VALUES (1, 1, 2, 1999.98)")
        db.execute_sql("INSERT INTO orders VALUES (2, 2, 5, 125.00)")
        results = db.execute_sql("""
SELECT
products.category,
COUNT(orders.id) as order_count,
SUM(orders.total) as revenue
FROM products
JOIN orders ON products.id = orders.product_id
GROUP BY products.category
ORDER BY revenue DESC
""")
        print("Category Performance:")
        for row in results:
            print(f"{row['category']}: {row['order_count']} orders, ${row['revenue']:.2f}")
    assert capsys.readouterr().out == ("Category Performance:\n"
                                       "Electronics: 2 orders, $2124.98\n")


def test_rag_use_case_to_toon(db):
    db.execute_sql("CREATE TABLE documents (title TEXT, content TEXT, category TEXT)")
    db.execute_sql("INSERT INTO documents VALUES ('A', 'alpha', 'technical'), "
                   "('B', 'beta', 'other'), ('C', 'gamma', 'technical')")
    results = db.execute_sql("""
SELECT title, content
FROM documents
WHERE category = 'technical'
LIMIT 10
""")
    records = [dict(row) for row in results]
    toon_context = Database.to_toon("documents", records, ["title", "content"])
    assert toon_context == "documents[2]{title,content}:A,alpha;C,gamma"


def test_data_survives_reopen_and_checkpoint(db_path):
    with Database.open(db_path) as db:
        create_users(db)
        db.checkpoint()
        db.execute_sql("UPDATE users SET age = 99 WHERE id = 2")
    with Database.open(db_path) as db:
        rows = db.execute_sql("SELECT id, age FROM users ORDER BY id").fetchall()
        assert rows == [{"id": 1, "age": 30}, {"id": 2, "age": 99}]
        with pytest.raises(ConstraintError, match="PRIMARY KEY"):
            db.execute_sql("INSERT INTO users VALUES (1, 'X', 'x@x', 1)")


def test_sql_and_kv_are_atomic(db):
    db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(RuntimeError):
        with db.transaction() as txn:
            txn.execute("INSERT INTO t VALUES (1)")
            txn.put(b"k", b"v")
            raise RuntimeError("between SQL and commit")
    assert len(db.execute_sql("SELECT * FROM t")) == 0
    assert db.get(b"k") is None
    with db.transaction() as txn:
        txn.execute("INSERT INTO t VALUES (2)")
        txn.put(b"k", b"v2")
    assert db.execute_sql("SELECT id FROM t").scalar() == 2
    assert db.get(b"k") == b"v2"
