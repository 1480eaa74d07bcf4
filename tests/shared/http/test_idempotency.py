"""`Idempotency-Key`: a write retried with the same key is done once and answered the same way."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import httpx
import psycopg

from tests.support.ports import free_port, wait_port
from tests.support.servers import ROOT, start_api, stop


def comment(world: dict[str, Any], text: str = "Lovely sofa") -> dict[str, str]:
    return {"entity_id": world["models"][0], "entity_source": "models", "text": text}


async def test_same_key_same_request_is_done_once_and_replayed(client, designer, world, sql):
    headers = {**designer.auth, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/comments", json=comment(world, "once"), headers=headers)
    again = await client.post("/api/comments", json=comment(world, "once"), headers=headers)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert sql("SELECT count(*) AS n FROM comments WHERE text = 'once'")[0]["n"] == 1


async def test_same_key_with_another_request_is_422(client, designer, world):
    headers = {**designer.auth, "Idempotency-Key": str(uuid.uuid4())}
    assert (await client.post("/api/comments", json=comment(world, "a"), headers=headers)).status_code == 201
    r = await client.post("/api/comments", json=comment(world, "b"), headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_keys_belong_to_their_caller(client, make_user, world, sql):
    one, other = await make_user(), await make_user()
    key = str(uuid.uuid4())
    for user in (one, other):
        r = await client.post("/api/comments", json=comment(world, "per caller"),
                              headers={**user.auth, "Idempotency-Key": key})
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert sql("SELECT count(*) AS n FROM comments WHERE text = 'per caller'")[0]["n"] == 2


async def test_a_key_still_running_or_committed_without_answer_is_409(client, designer, world, sql):
    from shared.http.middleware.idempotency import _caller, _hashed_body  # the record the API would write

    body = comment(world, "pending")
    for committed, reason in ((False, "idempotency_key_in_progress"), (True, "idempotency_key_committed")):
        key = str(uuid.uuid4())
        headers = {**designer.auth, "Idempotency-Key": key}
        request = client.build_request("POST", "/api/comments", json=body, headers=headers)
        scope = {"method": "POST", "path": "/api/comments", "query_string": b"",
                 "headers": [(k.encode(), v.encode()) for k, v in request.headers.items()]}
        async def receive(content: bytes = request.content) -> dict[str, Any]:
            return {"type": "http.request", "body": content, "more_body": False}

        _, digest = await _hashed_body(scope, receive)
        sql("INSERT INTO idempotency_keys (scope, key, request_hash, committed) VALUES (%s, %s, %s, %s)",
            (_caller(scope), key, digest, committed))
        r = await client.send(request)
        assert r.status_code == 409 and r.json()["message"] and r.headers["Retry-After"] == "1", r.text
        assert reason in r.text or r.json()["reason"] == "conflict"
    assert sql("SELECT count(*) AS n FROM comments WHERE text = 'pending'")[0]["n"] == 0


SLOW_ANSWER = """
CREATE OR REPLACE FUNCTION test_slow_answer() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(4); RETURN NEW; END $$;
CREATE TRIGGER test_slow_answer BEFORE UPDATE ON idempotency_keys FOR EACH ROW
    WHEN (OLD.status IS NULL AND NEW.status IS NOT NULL) EXECUTE FUNCTION test_slow_answer();
"""


def test_router_replay_after_the_worker_died_between_commit_and_answer_makes_one_comment(
    database, designer, world, sql
):
    """The answer's write is held back in PostgreSQL (a trigger sleeps), so the worker can be killed
    after its work committed and before it answered; the router replays the POST on the other worker."""
    sql(SLOW_ANSWER)
    ports = [free_port(), free_port()]
    workers = {f"worker-{i}": start_api(port, database, PGAPPNAME=f"worker-{i}") for i, port in enumerate(ports)}
    router_port = free_port()
    router = subprocess.Popen(
        [sys.executable, "-m", "router", "--listen", f"127.0.0.1:{router_port}",
         *[arg for port in ports for arg in ("--upstream", f"http://127.0.0.1:{port}")]],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(router_port)
        answer: dict[str, Any] = {}

        def post() -> None:
            answer["r"] = httpx.post(
                f"http://127.0.0.1:{router_port}/api/comments", json=comment(world, "through the router"),
                headers={**designer.auth, "Idempotency-Key": str(uuid.uuid4())}, timeout=30,
            )

        thread = threading.Thread(target=post)
        thread.start()
        deadline, victim = time.monotonic() + 20, None
        while victim is None and time.monotonic() < deadline:
            rows = sql("""SELECT application_name FROM pg_stat_activity
                           WHERE query LIKE '%%UPDATE idempotency_keys SET status%%' AND state = 'active'
                             AND pid <> pg_backend_pid()""")
            victim = rows[0]["application_name"] if rows else None
            time.sleep(0.02)
        assert victim in workers, "the answer's write never started"
        assert sql("SELECT count(*) AS n FROM comments WHERE text = 'through the router'")[0]["n"] == 1
        workers[victim].send_signal(signal.SIGKILL)  # committed, not yet answered
        thread.join(40)
        r = answer["r"]
        assert r.status_code == 201, r.text
        assert r.json()["data"]["comment"]["text"] == "through the router"
    finally:
        router.kill()
        stop(*workers.values())
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("DROP TRIGGER IF EXISTS test_slow_answer ON idempotency_keys")
    assert sql("SELECT count(*) AS n FROM comments WHERE text = 'through the router'")[0]["n"] == 1
