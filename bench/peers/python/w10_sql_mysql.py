#!/usr/bin/python3
"""W10 MariaDB peer: aiomysql on uvloop, the same workload as bench/w10_sql's MariaDB half.

T tasks share an aiomysql pool of P connections; each task takes a connection per
query (async with pool.acquire()) and runs SELECT %s + 1 until N have been answered;
then R rows go into a fresh table as multi-row INSERTs of 100 rows (executemany,
which aiomysql folds into one statement), the batches shared out among the tasks.
Prints {"my_select_qps": ..., "my_insert_rows_s": ...}.
"""
import argparse
import asyncio
import json
import time

import aiomysql
import uvloop

BATCH = 100


async def main(a):
    pool = await aiomysql.create_pool(host="127.0.0.1", port=a.port, user=a.user,
                                      password=a.password, db=a.db, minsize=a.pool,
                                      maxsize=a.pool, autocommit=True)
    counter = {"next": 0, "row": 0}

    async def selector():
        while counter["next"] < a.selects:
            i = counter["next"]
            counter["next"] += 1
            async with pool.acquire() as conn:
                async with conn.cursor() as cur:
                    await cur.execute("SELECT %s + 1", (i,))
                    (v,) = await cur.fetchone()
                    if v != i + 1:
                        raise SystemExit("wrong answer")

    t0 = time.perf_counter()
    await asyncio.gather(*(selector() for _ in range(a.tasks)))
    select_qps = a.selects / (time.perf_counter() - t0)

    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute("DROP TABLE IF EXISTS w10_items")
            await cur.execute(
                "CREATE TABLE w10_items (id INT PRIMARY KEY, name TEXT)")

    async def inserter():
        while counter["row"] < a.rows:
            first = counter["row"]
            n = min(BATCH, a.rows - first)
            counter["row"] += n
            rows = [(i, f"item-{i}") for i in range(first, first + n)]
            async with pool.acquire() as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO w10_items (id, name) VALUES (%s, %s)", rows)

    t2 = time.perf_counter()
    await asyncio.gather(*(inserter() for _ in range(a.tasks)))
    insert_rows_s = a.rows / (time.perf_counter() - t2)
    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM w10_items")
            (count,) = await cur.fetchone()
            if count != a.rows:
                raise SystemExit("rows missing")
    pool.close()
    await pool.wait_closed()
    print(json.dumps({"my_select_qps": round(select_qps, 1),
                      "my_insert_rows_s": round(insert_rows_s, 1)}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--my-port", dest="port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--pool", type=int, default=10)
    p.add_argument("--selects", type=int, default=100000)
    p.add_argument("--rows", type=int, default=10000)
    uvloop.install()
    asyncio.run(main(p.parse_args()))
