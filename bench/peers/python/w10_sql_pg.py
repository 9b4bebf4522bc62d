#!/usr/bin/python3
"""W10 PostgreSQL: asyncpg on uvloop, the same workload as bench/w10_sql --pg-port.

T tasks share an asyncpg pool of P connections: S point queries `SELECT $1::int + 1`
(pool.fetchval, each awaited), then R rows inserted into a fresh table, one
pool.execute per row. Prints {"pg_select_qps": ..., "pg_insert_rows_s": ...}.
"""
import argparse
import asyncio
import json
import time

import asyncpg
import uvloop


async def main(a):
    pool = await asyncpg.create_pool(host="127.0.0.1", port=a.port, user=a.user,
                                     password=a.password, database=a.db,
                                     min_size=a.pool, max_size=a.pool)
    per = a.selects // a.tasks

    async def selects():
        for i in range(per):
            if await pool.fetchval("SELECT $1::int + 1", i) != i + 1:
                raise SystemExit("wrong answer")

    t0 = time.perf_counter()
    await asyncio.gather(*(selects() for _ in range(a.tasks)))
    qps = per * a.tasks / (time.perf_counter() - t0)

    await pool.execute("DROP TABLE IF EXISTS w10_asyncpg")
    await pool.execute("CREATE TABLE w10_asyncpg (id int, name text)")
    rows_per = a.rows // a.tasks

    async def inserts(first):
        for i in range(first, first + rows_per):
            await pool.execute("INSERT INTO w10_asyncpg VALUES ($1, $2)", i, "row")

    t0 = time.perf_counter()
    await asyncio.gather(*(inserts(t * rows_per) for t in range(a.tasks)))
    rows_s = rows_per * a.tasks / (time.perf_counter() - t0)
    await pool.close()
    print(json.dumps({"pg_select_qps": round(qps, 1), "pg_insert_rows_s": round(rows_s, 1)}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--pg-port", dest="port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--pool", type=int, default=10)
    p.add_argument("--selects", type=int, default=100000)
    p.add_argument("--rows", type=int, default=10000)
    uvloop.install()
    asyncio.run(main(p.parse_args()))
