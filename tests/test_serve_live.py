"""The HTTP service over a real socket: `quotestance serve` in a subprocess (uvicorn), called with httpx.

test_serve.py checks the app in-process (TestClient); here the same routes, limits and micro-batching
go through uvicorn and TCP: results, every limit's status code, and 200 concurrent requests.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from quotestance.serve import MAX_BODY_BYTES, MAX_ITEMS, MAX_TEXT_CHARS

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
FIELDS = {"stance", "stance_probs", "sentiment", "sentiment_probs", "truncated", "error"}

ARTICLE = (
    "The last convoy of the season left the northern base on Friday, a day after the defence "
    "ministry confirmed the rotation.\n\n"
    "\"Our soldiers have done what was asked of them and they should come home,\" said Maria Lindqvist, "
    "the opposition's defence spokeswoman.\n\n"
    "Colonel Tomas Reyes, who commands the garrison, was more cautious. \"If we leave now, the "
    "militias will be back in the valley by summer,\" Reyes told reporters.\n\n"
    "The ministry did not say when the next rotation would arrive.\n"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def _start_server(model_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start the server on a free loopback port and wait (bounded) until /healthz answers."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    for _attempt in range(3):  # another process may take the free port before the server binds it
        port = _free_port()
        log = open(log_path, "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "quotestance.cli", "serve", "--model", str(model_dir),
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2.0).status_code == 200:
                    return process, base_url
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        _stop(process)
        if "address already in use" not in _log_tail(log_path).lower():
            break
    pytest.fail(f"the server did not answer /healthz within {START_TIMEOUT_S:.0f} s "
                f"(exit code {process.returncode}); its log ends:\n{_log_tail(log_path)}")


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory, request):
    log_path = tmp_path_factory.mktemp("serve_live") / "server.log"
    process, base_url = _start_server(Path(tiny_model_dir), log_path)
    request.addfinalizer(lambda: _stop(process))
    yield base_url
    assert process.poll() is None, f"the server died during the tests; its log ends:\n{_log_tail(log_path)}"


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
def labels(client) -> dict[str, list[str]]:
    response = client.get("/v1/model")
    assert response.status_code == 200, response.text
    labels = response.json()["labels"]
    assert set(labels) == {"stance", "sentiment"} and all(labels.values())
    return labels


def _assert_scored(result: dict, labels: dict) -> None:
    assert result["error"] is None, result
    for task in ("stance", "sentiment"):
        probs = result[f"{task}_probs"]
        assert list(probs) == labels[task]
        assert all(0.0 <= p <= 1.0 for p in probs.values())
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert result[task] in labels[task]
        assert result[task] == max(probs, key=probs.get)
    assert isinstance(result["truncated"], bool)


def _post_raw(server: str, body, headers: dict) -> httpx.Response:
    """A POST on its own connection (a 413 for the body size closes the connection)."""
    with httpx.Client(base_url=server, timeout=30.0) as fresh:
        return fresh.post("/v1/predict", content=body, headers=headers)


# ------------------------------------------------------------------------------------------- results

def test_healthz_and_model_over_socket(client, labels):
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/v1/model").json()
    assert info["base_model"] == "tiny-random-bert"
    assert info["limits"]["max_quotes"] == MAX_ITEMS
    assert client.get("/openapi.json").status_code == 200


def test_predict_one_result_per_quote_in_order_with_ids(client, labels):
    quotes = [
        {"text": "Bring the brigades home by spring.", "id": "first"},
        {"text": "Pulling out now would be a gift to the insurgents.", "id": 2, "target": "US troops in Iraq"},
        {"text": "The talks resume on Monday."},
        {"text": "We owe our allies patience, and we will stay until the bridges are rebuilt.", "id": "x-4"},
    ]
    response = client.post("/v1/predict", json={"quotes": quotes})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["first", 2, None, "x-4"]
    for result in results:
        assert set(result) == FIELDS | {"id"}
        _assert_scored(result, labels)
    # The same quote alone gets the same scores as in the batch.
    alone = client.post("/v1/predict", json={"quotes": [quotes[1]]}).json()["results"][0]
    for task in ("stance_probs", "sentiment_probs"):
        for label, p in alone[task].items():
            assert results[1][task][label] == pytest.approx(p, abs=1e-3)


def test_extract_over_socket(client, labels):
    response = client.post("/v1/extract", json={"articles": [{"id": "convoy", "text": ARTICLE},
                                                             {"id": "quiet", "text": "Nothing was said."}]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["article_id"] for r in results] == ["convoy", "convoy"]
    assert [r["quote_id"] for r in results] == ["convoy:0", "convoy:1"]
    assert [r["speaker"] for r in results] == ["Maria Lindqvist", "Tomas Reyes"]
    assert results[0]["text"].startswith("Our soldiers have done what was asked")
    assert results[1]["text"].startswith("If we leave now")
    for row in results:
        assert ARTICLE[row["start"]:row["end"]] == row["text"]
        assert isinstance(row["paragraph"], int)
        _assert_scored(row, labels)


# -------------------------------------------------------------------------------------------- limits

def test_257_quotes_is_413(client):
    response = client.post("/v1/predict", json={"quotes": [{"text": "Stay the course."}] * (MAX_ITEMS + 1)})
    assert response.status_code == 413, response.text
    assert response.json()["limit"] == {"name": "max_quotes", "value": MAX_ITEMS}
    assert str(MAX_ITEMS) in response.json()["detail"]
    at_limit = client.post("/v1/predict", json={"quotes": [{"text": "Stay the course."}] * MAX_ITEMS})
    assert at_limit.status_code == 200
    assert len(at_limit.json()["results"]) == MAX_ITEMS


def test_quote_over_5000_characters_is_413(client):
    quotes = [{"text": "Fine."}, {"text": "a" * (MAX_TEXT_CHARS + 1)}]
    response = client.post("/v1/predict", json={"quotes": quotes})
    assert response.status_code == 413, response.text
    assert response.json()["limit"] == {"name": "max_quote_chars", "value": MAX_TEXT_CHARS}
    assert "quotes[1].text" in response.json()["detail"]
    at_limit = client.post("/v1/predict", json={"quotes": [{"text": "word " * (MAX_TEXT_CHARS // 5)}]})
    assert at_limit.status_code == 200
    assert at_limit.json()["results"][0]["truncated"] is True


def test_body_over_2_mb_is_413(server, client):
    # Valid JSON within the item and text limits: only its size is over.
    body = json.dumps({"quotes": [{"text": "Stay.", "id": f"{i}-" + "x" * 10_000} for i in range(210)]}).encode()
    assert MAX_BODY_BYTES < len(body) < MAX_BODY_BYTES + 100_000
    headers = {"content-type": "application/json"}
    response = _post_raw(server, body, headers)
    assert response.status_code == 413, response.text
    assert response.json()["limit"] == {"name": "max_body_bytes", "value": MAX_BODY_BYTES}

    def chunks():  # chunked, no Content-Length: the bytes actually sent are counted
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    response = _post_raw(server, chunks(), headers)
    assert response.status_code == 413, response.text
    assert response.json()["limit"]["name"] == "max_body_bytes"
    assert client.get("/healthz").status_code == 200  # the server carries on


def test_not_json_is_422(client):
    response = client.post("/v1/predict", content=b"{quotes: [nope", headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "JSON" in response.json()["detail"]
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


def test_missing_text_is_422(client):
    response = client.post("/v1/predict", json={"quotes": [{"text": "Stay.", "id": 1}, {"id": 2}]})
    assert response.status_code == 422, response.text
    assert "quotes[1].text" in response.json()["detail"]
    assert "quotes[1].text" in [e["field"] for e in response.json()["errors"]]
    response = client.post("/v1/extract", json={"articles": [{"id": "a"}]})
    assert response.status_code == 422, response.text
    assert "articles[0].text" in response.json()["detail"]


# ----------------------------------------------------------------------------------------- concurrency

def test_200_concurrent_requests(server, client, labels):
    """200 requests, 32 at a time, each with its own quotes and ids: all answered, each with its own results."""
    n_requests, n_workers = 200, 32
    requests = []
    for r in range(n_requests):
        size = 1 + r % 3
        requests.append([{"id": f"r{r}-q{k}",
                          "text": f"Request {r}, quote {k}: the {r % 7 + 1} battalions should "
                                  f"{'leave the base' if (r + k) % 2 else 'stay until the vote'} by week {k + r % 11}."}
                         for k in range(size)])
    all_quotes = [q for quotes in requests for q in quotes]
    # Reference scores, one request at a time, sequentially (at most MAX_ITEMS quotes per request).
    reference = {}
    for start in range(0, len(all_quotes), MAX_ITEMS):
        response = client.post("/v1/predict", json={"quotes": all_quotes[start:start + MAX_ITEMS]})
        assert response.status_code == 200, response.text
        reference.update({r["id"]: r for r in response.json()["results"]})

    limits = httpx.Limits(max_connections=n_workers, max_keepalive_connections=n_workers)
    with httpx.Client(base_url=server, timeout=60.0, limits=limits) as shared:
        def send(quotes):
            response = shared.post("/v1/predict", json={"quotes": quotes})
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            answers = list(pool.map(send, requests))

    assert [status for status, _ in answers] == [200] * n_requests
    for quotes, (_, payload) in zip(requests, answers):
        results = payload["results"]
        assert [r["id"] for r in results] == [q["id"] for q in quotes]
        for result in results:
            _assert_scored(result, labels)
            expected = reference[result["id"]]
            for task in ("stance_probs", "sentiment_probs"):
                for label, p in expected[task].items():
                    assert result[task][label] == pytest.approx(p, abs=1e-3)
