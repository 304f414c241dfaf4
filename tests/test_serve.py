"""The HTTP service: routes, limits, errors, micro-batching, and that requests cannot choose the model."""
from __future__ import annotations

import argparse
import json
import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import quotestance
from quotestance import serve
from quotestance.serve import MAX_BODY_BYTES, MAX_ITEMS, MAX_TEXT_CHARS, create_app

ARTICLE = (
    "Coalition forces will stay in the province through the winter, officials said on Tuesday.\n\n"
    "\"We are not leaving until the job is done,\" said Gen. Mark Holloway, the coalition commander.\n\n"
    "Senator Ana Ruiz disagreed. \"Bring the brigades home by spring,\" Ruiz told reporters.\n"
)
FIELDS = {"stance", "stance_probs", "sentiment", "sentiment_probs", "truncated", "error"}


@pytest.fixture(scope="module")
def app(tiny_model_dir):
    return create_app(tiny_model_dir, backend="torch-fp32")


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


def _assert_scored(result: dict, labels: dict) -> None:
    assert result["error"] is None
    for task in ("stance", "sentiment"):
        probs = result[f"{task}_probs"]
        assert list(probs) == labels[task]
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6)
        assert result[task] == max(probs, key=probs.get)
    assert isinstance(result["truncated"], bool)


def test_predict_one_result_per_quote_in_order_with_ids(client, app, tiny_predictor):
    quotes = [
        {"text": "Bring the brigades home by spring.", "id": "a"},
        {"text": "Pulling out now would be a gift to the insurgents.", "id": 2, "target": "US troops in Iraq"},
        {"text": "The talks resume on Monday."},
    ]
    response = client.post("/v1/predict", json={"quotes": quotes})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["a", 2, None]
    expected = tiny_predictor.predict([q["text"] for q in quotes], [q.get("target") for q in quotes])
    for result, reference in zip(results, expected):
        assert set(result) == FIELDS | {"id"}
        _assert_scored(result, app.state.predictor.labels)
        for task in ("stance_probs", "sentiment_probs"):
            for label, p in reference[task].items():
                assert result[task][label] == pytest.approx(p, abs=1e-4)


def test_predict_blank_text_gets_an_error_not_a_422(client, app):
    response = client.post("/v1/predict", json={"quotes": [{"text": "Stay the course.", "id": 1},
                                                           {"text": "   ", "id": 2}]})
    assert response.status_code == 200, response.text
    good, blank = response.json()["results"]
    _assert_scored(good, app.state.predictor.labels)
    assert blank["id"] == 2
    assert "text" in blank["error"] and "row 2" in blank["error"]
    assert blank["stance"] is None and blank["sentiment_probs"] is None


def test_predict_empty_list(client):
    response = client.post("/v1/predict", json={"quotes": []})
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_too_many_quotes_is_413_naming_the_limit(client):
    response = client.post("/v1/predict", json={"quotes": [{"text": "hi there"}] * (MAX_ITEMS + 1)})
    assert response.status_code == 413
    assert "256" in response.json()["detail"]
    assert response.json()["limit"] == {"name": "max_quotes", "value": 256}
    # The limit takes precedence over a shape error elsewhere in the same body.
    body = {"quotes": [{"text": "hi there"}] * MAX_ITEMS + [{"id": 1}]}
    assert client.post("/v1/predict", json=body).status_code == 413
    assert client.post("/v1/extract", json={"articles": [{"id": "x", "text": ARTICLE}] * 257}).status_code == 413


def test_quote_over_5000_characters_is_413(client):
    response = client.post("/v1/predict", json={"quotes": [{"text": "ok"}, {"text": "a" * (MAX_TEXT_CHARS + 1)}]})
    assert response.status_code == 413
    assert "5000" in response.json()["detail"] and "quotes[1].text" in response.json()["detail"]
    at_limit = client.post("/v1/predict", json={"quotes": [{"text": "word " * (MAX_TEXT_CHARS // 5)}]})
    assert at_limit.status_code == 200
    assert at_limit.json()["results"][0]["truncated"] is True


def test_body_over_2_mb_is_413(client):
    body = json.dumps({"quotes": [{"text": "x" * 4000}] * 600}).encode()
    assert len(body) > MAX_BODY_BYTES
    response = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["detail"]
    assert response.json()["limit"]["name"] == "max_body_bytes"

    def chunks():  # no Content-Length: the bytes actually sent are counted
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    response = client.post("/v1/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_not_json_is_422(client):
    response = client.post("/v1/predict", content=b"{quotes: nope", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]
    response = client.post("/v1/predict", content=b"hello", headers={"content-type": "text/plain"})
    assert response.status_code == 422


@pytest.mark.parametrize("body, field", [
    ({"quotes": [{"text": "a b c"}] * 3 + [{"id": 4}]}, "quotes[3].text"),
    ({"quotes": [{"text": "a b c"}, {"text": 5}]}, "quotes[1].text"),
    ({"quotes": [{"text": None}]}, "quotes[0].text"),
    ({"quotes": [{"text": "a b c", "target": 7}]}, "quotes[0].target"),
    ({"quotes": [{"text": "a b c", "id": [1]}]}, "quotes[0].id"),
    ({"quotes": "a b c"}, "quotes"),
    ({"texts": ["a b c"]}, "quotes"),
    ([{"text": "a b c"}], "body"),
])
def test_malformed_body_is_422_naming_the_field(client, body, field):
    response = client.post("/v1/predict", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert field in payload["detail"]
    assert field in [error["field"] for error in payload["errors"]]


def test_extract_returns_attributed_scored_quotes(client, app):
    response = client.post("/v1/extract", json={"articles": [{"id": "a1", "text": ARTICLE},
                                                             {"id": "empty", "text": "No quotes here."},
                                                             {"id": "blank", "text": "  "}]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    quotes = [r for r in results if r["article_id"] == "a1"]
    assert [q["speaker"] for q in quotes] == ["Mark Holloway", "Ana Ruiz"]
    assert [q["quote_id"] for q in quotes] == ["a1:0", "a1:1"]
    for quote in quotes:
        assert ARTICLE[quote["start"]:quote["end"]] == quote["text"]
        assert isinstance(quote["paragraph"], int)
        _assert_scored(quote, app.state.predictor.labels)
    assert quotes[1]["text"].startswith("Bring the brigades home")
    assert not [r for r in results if r["article_id"] == "empty"]
    (blank,) = [r for r in results if r["article_id"] == "blank"]
    assert "text" in blank["error"] and blank["stance"] is None


def test_extract_per_sentence_and_default_ids(client):
    text = "\"We will stay. The mission is not over,\" said Gen. Mark Holloway, the coalition commander.\n"
    response = client.post("/v1/extract", json={"articles": [{"text": text}], "per_sentence": True})
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    assert [r["sentence_index"] for r in rows] == [0, 1]
    assert {r["article_id"] for r in rows} == {"0"}
    assert all(text[r["start"]:r["end"]] == r["text"] for r in rows)


def test_extract_malformed_is_422(client):
    response = client.post("/v1/extract", json={"articles": [{"id": "a"}]})
    assert response.status_code == 422
    assert "articles[0].text" in response.json()["detail"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_model_info(client, app, tiny_model_dir):
    info = client.get("/v1/model").json()
    assert info["labels"] == app.state.predictor.labels
    assert info["quotestance_version"] == quotestance.__version__
    assert info["model_name"] == Path(tiny_model_dir).name
    assert info["base_model"] == "tiny-random-bert"
    assert info["training_date"]
    assert info["backend"] == "torch-fp32"
    metrics = json.loads((Path(tiny_model_dir) / "metrics.json").read_text())
    for split in ("validation", "test"):
        for task in ("stance", "sentiment"):
            assert info["metrics"]["macro_f1"][split][task] == pytest.approx(metrics[split]["all"][task]["macro_f1"])
    assert info["metrics"]["calibration"] == serve._finite(metrics.get("calibration"))
    assert info["limits"]["max_quotes"] == 256
    assert str(tiny_model_dir) not in json.dumps(info)  # the folder's name, not the server's paths


@pytest.fixture(scope="module")
def copied_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A copy of the tiny model whose metrics.json has a calibration section."""
    copy = tmp_path_factory.mktemp("served") / "copied-model"
    shutil.copytree(tiny_model_dir, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["calibration"] = {"stance": {"temperature": 1.5, "ece_before": 0.12, "ece_after": float("nan")}}
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


def test_model_info_includes_calibration(copied_model_dir):
    with TestClient(create_app(copied_model_dir, backend="torch-fp32")) as client:
        info = client.get("/v1/model").json()
    assert info["model_name"] == "copied-model"
    assert info["metrics"]["calibration"] == {"stance": {"temperature": 1.5, "ece_before": 0.12, "ece_after": None}}


def test_openapi_lists_routes_and_predict_schema(client):
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "quotestance"
    assert document["info"]["version"] == quotestance.__version__
    paths = document["paths"]
    assert set(paths["/v1/predict"]) == {"post"} and set(paths["/v1/extract"]) == {"post"}
    assert "get" in paths["/healthz"] and "get" in paths["/v1/model"]
    for path, method in (("/v1/predict", "post"), ("/v1/extract", "post"), ("/healthz", "get"), ("/v1/model", "get")):
        assert paths[path][method]["summary"]
    predict = paths["/v1/predict"]["post"]
    ref = predict["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    request_schema = schemas[ref.rsplit("/", 1)[-1]]
    assert request_schema["required"] == ["quotes"]
    assert request_schema["properties"]["quotes"]["maxItems"] == MAX_ITEMS
    quote_schema = schemas[request_schema["properties"]["quotes"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert quote_schema["required"] == ["text"]
    assert quote_schema["properties"]["text"]["maxLength"] == MAX_TEXT_CHARS
    assert {"413", "422", "200"} <= set(predict["responses"])


def test_concurrent_requests_share_forward_passes(tiny_model_dir, tiny_predictor):
    app = create_app(tiny_model_dir, backend="torch-fp32", max_batch=64, max_wait_ms=250)
    n = 16
    barrier = threading.Barrier(n)
    responses: dict[int, object] = {}
    errors: list[BaseException] = []

    with TestClient(app) as client:
        def send(k: int) -> None:
            try:
                quotes = [{"text": f"Request {k} says the troops should {'stay' if j else 'leave'} now.",
                           "id": f"{k}-{j}"} for j in range(k % 3 + 1)]
                barrier.wait(timeout=30)
                responses[k] = (quotes, client.post("/v1/predict", json={"quotes": quotes}))
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=send, args=(k,)) for k in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors
    assert len(responses) == n
    for k, (quotes, response) in responses.items():
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["id"] for r in results] == [q["id"] for q in quotes]
        expected = tiny_predictor.predict([q["text"] for q in quotes])
        for result, reference in zip(results, expected):
            _assert_scored(result, app.state.predictor.labels)
            for label, p in reference["stance_probs"].items():
                assert result["stance_probs"][label] == pytest.approx(p, abs=1e-4)
    assert app.state.requests_scored == n
    assert 1 <= app.state.batches_run < n


class _EchoPredictor:
    """Stands in for StancePredictor in score_rows: the 'stance' of a quote is its text; counts calls."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def predict(self, texts, targets):
        self.calls.append(list(texts))
        return [{"stance": text} for text in texts]


def test_batcher_gathers_splits_at_max_batch_and_fails_pending_on_stop():
    import asyncio
    from types import SimpleNamespace

    async def scenario():
        predictor, state = _EchoPredictor(), SimpleNamespace()
        batcher = serve.MicroBatcher(predictor, max_batch=4, max_wait_ms=100, state=state)
        await batcher.start()
        jobs = [[{"text": f"{k}.{j}"} for j in range(size)] for k, size in enumerate((3, 2, 2, 1))]
        results = await asyncio.gather(*(batcher.score(rows) for rows in jobs))
        for rows, scored in zip(jobs, results):
            assert [r["stance"] for r in scored] == [r["text"] for r in rows]
        # 3 rows, then 2 + 2 would pass max_batch=4: the second job waits for the next batch.
        assert [len(call) for call in predictor.calls] == [3, 4, 1]
        assert state.batches_run == 3 and state.requests_scored == 4 and state.rows_scored == 8
        await batcher.stop()
        assert await batcher.score([{"text": "after stop"}]) == [{"text": "after stop", "stance": "after stop",
                                                                  "stance_probs": None, "sentiment": None,
                                                                  "sentiment_probs": None, "truncated": None,
                                                                  "error": None}]
        # Requests in flight or queued when the worker stops get ShuttingDown (HTTP 503), not a hang.
        release = threading.Event()
        slow = _EchoPredictor()
        slow.predict = lambda texts, targets: release.wait(10) and [{"stance": t} for t in texts]
        batcher = serve.MicroBatcher(slow, max_batch=1, max_wait_ms=0, state=state)
        await batcher.start()
        in_flight = asyncio.ensure_future(batcher.score([{"text": "first"}]))
        queued = asyncio.ensure_future(batcher.score([{"text": "second"}]))
        await asyncio.sleep(0.2)
        await batcher.stop()
        release.set()
        for future in (in_flight, queued):
            with pytest.raises(serve.ShuttingDown):
                await future

    asyncio.run(scenario())


def test_works_without_lifespan(tiny_model_dir):
    app = create_app(tiny_model_dir, backend="torch-fp32")
    client = TestClient(app)  # not entered: no background worker, each request scored on its own
    response = client.post("/v1/predict", json={"quotes": [{"text": "Bring them home.", "id": 1}]})
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == 1
    assert app.state.batches_run == 1


def test_request_cannot_choose_the_model(client, app, copied_model_dir, monkeypatch):
    served = app.state.model_dir
    predictor = app.state.predictor
    loads = []
    monkeypatch.setattr(serve.StancePredictor, "load", classmethod(lambda cls, *a, **k: loads.append((a, k))))
    quote = {"text": "Bring the brigades home by spring."}
    rejected = client.post("/v1/predict", json={"quotes": [quote], "model": str(copied_model_dir)})
    assert rejected.status_code == 422
    assert "model" in [error["field"] for error in rejected.json()["errors"]]
    rejected = client.post("/v1/extract", json={"articles": [{"id": "a", "text": ARTICLE}], "model_dir": "/"})
    assert rejected.status_code == 422
    # Extra fields inside a quote and query parameters are ignored.
    ignored = client.post("/v1/predict", params={"model": str(copied_model_dir)},
                          json={"quotes": [{**quote, "model": str(copied_model_dir)}]})
    assert ignored.status_code == 200
    assert client.get("/v1/model", params={"model": str(copied_model_dir)}).json()["model_name"] == served.name
    assert not loads
    assert app.state.model_dir == served and app.state.predictor is predictor
    for path in client.get("/openapi.json").json()["paths"].values():
        for operation in path.values():
            assert not operation.get("parameters")  # no query, path or header parameters at all


def test_scoring_failure_is_a_json_500(tiny_model_dir, monkeypatch):
    app = create_app(tiny_model_dir, backend="torch-fp32")

    def broken(texts, targets=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state.predictor, "predict", broken)
    with TestClient(app) as client:
        response = client.post("/v1/predict", json={"quotes": [{"text": "Bring them home."}]})
        assert response.status_code == 500
        assert "boom" not in response.text and response.json()["detail"]
        assert client.post("/v1/predict", json={"quotes": [{"text": " "}]}).status_code == 200  # still serving


def test_create_app_checks_its_arguments(tiny_model_dir, tmp_path):
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path)
    with pytest.raises(ValueError):
        create_app(tiny_model_dir, max_batch=0)
    with pytest.raises(ValueError):
        create_app(tiny_model_dir, backend="tensorflow")


def _serve_args(model, **overrides) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_serve_arguments(parser)
    args = parser.parse_args(["--model", str(model)])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_serve_command_one_worker_runs_the_app(tiny_model_dir):
    calls = []
    assert serve.run_serve(_serve_args(tiny_model_dir, port=8123, backend="torch-fp32"),
                           run=lambda app, **kw: calls.append((app, kw))) == 0
    (app, options), = calls
    assert app.state.model_dir == Path(tiny_model_dir).resolve()
    assert options == {"host": "127.0.0.1", "port": 8123, "log_level": "info"}


def test_serve_command_several_workers_use_the_factory(tiny_model_dir, monkeypatch):
    for name in (serve.ENV_MODEL, serve.ENV_BACKEND, serve.ENV_MAX_BATCH, serve.ENV_MAX_WAIT_MS, serve.ENV_THREADS):
        monkeypatch.delenv(name, raising=False)
    calls = []
    args = _serve_args(tiny_model_dir, workers=2, backend="torch-fp32", max_batch=32, threads=1)
    assert serve.run_serve(args, run=lambda target, **kw: calls.append((target, kw))) == 0
    (target, options), = calls
    assert target == "quotestance.serve:app_from_env"
    assert options["factory"] is True and options["workers"] == 2
    app = serve.app_from_env()
    assert app.state.model_dir == Path(tiny_model_dir).resolve()
    assert app.state.batcher.max_batch == 32
    assert app.state.predictor.backend_name == "torch-fp32"


def test_serve_command_errors(tmp_path, capsys):
    assert serve.main(["--model", str(tmp_path / "missing")]) == 2
    assert "no trained model" in capsys.readouterr().err
    assert serve.main(["--model", str(tmp_path), "--workers", "0"]) == 2
    with pytest.raises(SystemExit):
        serve.main([])  # --model is required
