# The driver matrix scenario (README.md) with asyncpg: every query is a named prepared statement
# from its statement cache; a pipelined Parse/Describe/Sync before each first use.
import asyncio
import os
import sys
import asyncpg

port = int(sys.argv[1])
extra = sys.argv[2] if len(sys.argv) > 2 else "SELECT 42 AS answer"
t = "items_asyncpg"


async def main():
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres",
                                 password=os.environ["PGPASSWORD"])
    print("ping", await conn.fetchval("SELECT 1"))
    await conn.execute(f"DROP TABLE IF EXISTS {t}")
    await conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, price numeric(6,2))")
    await conn.executemany(f"INSERT INTO {t} VALUES ($1, $2, $3)",
                           [(i, f"item-{i}", None if i == 4 else i * 1.25) for i in range(1, 7)])
    for i in range(1, 7):
        r = await conn.fetchrow(f"SELECT name, price FROM {t} WHERE id = $1", i)
        print("row", i, (r["name"], r["price"]))
    tx = conn.transaction()
    await tx.start()
    await conn.execute(f"UPDATE {t} SET name = 'changed' WHERE id = 1")
    await tx.rollback()
    print("after rollback", await conn.fetchval(f"SELECT name FROM {t} WHERE id = $1", 1))
    try:
        await conn.fetchval("SELECT 1/0")
    except asyncpg.PostgresError as e:
        print("error", e.sqlstate)
    try:
        print("extra", [tuple(r) for r in await conn.fetch(extra)])
    except asyncpg.PostgresError as e:
        print("extra failed", e.sqlstate)
        await conn.close()
        sys.exit(3)
    await conn.close()


asyncio.run(main())
