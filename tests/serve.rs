//! `zkinfer serve` as a real process on a loopback port: concurrent clients, a full queue,
//! kill -9 mid-job and SIGTERM, malformed requests, the bearer token and the OpenAPI file.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::cli::{fails, ok, s};
use common::server::{example_input, models_dir, Server};
use serde_json::{json, Value};

/// Generous: CI machines are slow and proofs share two cores.
const JOB_TIMEOUT: Duration = Duration::from_secs(300);

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Polls until some job of `ids` is running; returns it.
fn wait_running(server: &Server, ids: &[String]) -> String {
    let start = Instant::now();
    loop {
        for id in ids {
            if server.get(&format!("/jobs/{id}")).json()["status"] == "running" {
                return id.clone();
            }
        }
        assert!(start.elapsed() < JOB_TIMEOUT, "no job started running");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Checks a finished job's proof with the CLI's offline verifier and returns the document.
fn fetch_and_verify_offline(server: &Server, id: &str, dir: &std::path::Path) -> Value {
    let r = server.get(&format!("/jobs/{id}/proof"));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let doc = r.json();
    let path = dir.join(format!("{id}.json"));
    std::fs::write(&path, doc["proof"].to_string()).unwrap();
    let vk = models_dir().join("example").join("vk.bin");
    assert!(ok(&["verify", s(&vk), s(&path)]).contains("verified"));
    doc
}

#[test]
fn many_concurrent_clients_get_proofs_that_verify() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &["--workers", "2"]);
    let models = server.get("/models").json();
    let listed: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["example"],
        "a directory without keys is not a model"
    );
    assert_eq!(models["models"][0]["input_len"], 16);
    assert_eq!(models["models"][0]["inputs"][0]["shape"], json!([1, 16]));
    assert_eq!(models["models"][0]["visibility"]["output"], "public");

    let clients = 8;
    let per_client = 2;
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    let mine: Vec<String> =
                        (0..per_client).map(|_| server.submit_example()).collect();
                    for id in &mine {
                        let job = server.wait_job(id, JOB_TIMEOUT);
                        assert_eq!(job["status"], "done", "{job}");
                        assert_eq!(job["progress"], 1.0);
                        assert_eq!(job["proof_url"], format!("/jobs/{id}/proof"));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        clients * per_client
    );

    // Every proof claims the output `zkinfer run` computes; one is checked by the CLI.
    let proofs = data_dir();
    let first = fetch_and_verify_offline(&server, &ids[0], proofs.path());
    let models = models_dir().join("example");
    let input = proofs.path().join("input.json");
    std::fs::write(&input, example_input().to_string()).unwrap();
    let ran = ok(&["run", s(&models), "--input", s(&input)]);
    let ints = first["output"]["ints"].as_array().unwrap();
    assert_eq!(ints.len(), 4);
    for id in &ids {
        let doc = server.get(&format!("/jobs/{id}/proof")).json();
        assert_eq!(doc["output"], first["output"], "same input, same output");
        assert_eq!(doc["proof"]["instances"], first["proof"]["instances"]);
    }
    assert!(
        ran.contains(&format!("{}", ints[0])),
        "run printed {ran}, the proof says {ints:?}"
    );

    // The server's own verifier: the proof passes, a changed output claim does not.
    let ok_reply = server.post(
        "/verify",
        &json!({"model": "example", "proof": first["proof"]}),
    );
    assert_eq!(
        ok_reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&ok_reply.body)
    );
    assert_eq!(ok_reply.json()["output"], first["proof"]["output"]);
    let mut forged = first["proof"].clone();
    let instances = forged["instances"].as_array_mut().unwrap();
    let last = instances.last_mut().unwrap();
    let bumped = {
        let text = last.as_str().unwrap();
        let mut bytes = hex_digits(text);
        *bytes.last_mut().unwrap() ^= 1;
        format!(
            "0x{}",
            bytes.iter().map(|d| format!("{d:x}")).collect::<String>()
        )
    };
    *last = Value::String(bumped);
    let rejected = server.post("/verify", &json!({"model": "example", "proof": forged}));
    rejected.assert_error(422, "rejected");
    for model in ["nope", "../models/example", "half-done"] {
        server
            .post("/verify", &json!({"model": model, "proof": first["proof"]}))
            .assert_error(404, "unknown_model");
    }
    let mut other_version = first["proof"].clone();
    other_version["version"] = json!(999);
    server
        .post(
            "/verify",
            &json!({"model": "example", "proof": other_version}),
        )
        .assert_error(400, "bad_proof");
    let evm = server.post(
        "/verify",
        &json!({"model": "example", "proof": first["proof"], "evm": true}),
    );
    assert_eq!(evm.status, 200, "{}", String::from_utf8_lossy(&evm.body));
    assert!(evm.json()["gas"].as_u64().unwrap() > 100_000);

    let health = server.get("/health").json();
    assert_eq!(health["jobs"]["done"], clients * per_client);
    assert_eq!(health["jobs"]["failed"], 0);
    assert_eq!(health["workers"], 2);
}

fn hex_digits(text: &str) -> Vec<u8> {
    text.trim_start_matches("0x")
        .chars()
        .map(|c| c.to_digit(16).unwrap() as u8)
        .collect()
}

#[test]
fn a_status_request_with_wait_answers_when_the_job_ends() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &["--workers", "1"]);
    let id = server.submit_example();
    // One request, answered once the job is done (long before 60 s on any machine).
    let start = Instant::now();
    let job = server.get(&format!("/jobs/{id}?wait=60")).json();
    assert_eq!(job["status"], "done", "{job}");
    assert!(
        start.elapsed() < Duration::from_secs(55),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(job["eta_ms"], 0);
    // A finished job answers at once, whatever the wait.
    let again = server.get(&format!("/jobs/{id}?wait=60")).json();
    assert_eq!(again["finished_ms"], job["finished_ms"]);
    // A job that cannot end in time: the answer comes at the deadline, still queued or running.
    let ids: Vec<String> = (0..3).map(|_| server.submit_example()).collect();
    let last = server.get(&format!("/jobs/{}?wait=0", ids[2])).json();
    if last["status"] == "queued" {
        assert_eq!(last["progress"], 0.0);
        assert!(last["queued_ahead"].as_i64().unwrap() <= 2, "{last}");
    } else {
        assert_eq!(last["status"], "running", "{last}");
    }
    for id in &ids {
        assert_eq!(server.wait_job(id, JOB_TIMEOUT)["status"], "done");
    }
}

#[test]
fn a_full_queue_answers_429_and_every_accepted_job_finishes() {
    let data = data_dir();
    let server = Server::start(
        models_dir(),
        data.path(),
        &["--workers", "1", "--queue-limit", "2"],
    );
    let body = json!({"model": "example", "input": example_input()});
    let replies: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|_| scope.spawn(|| server.post("/jobs", &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut accepted = Vec::new();
    let mut refused = 0;
    for r in &replies {
        match r.status {
            202 => accepted.push(r.json()["id"].as_str().unwrap().to_string()),
            429 => {
                let message = r.assert_error(429, "queue_full");
                assert!(message.contains("2 jobs"), "{message}");
                assert_eq!(r.header("retry-after"), Some("1"));
                refused += 1;
            }
            other => panic!(
                "unexpected status {other}: {}",
                String::from_utf8_lossy(&r.body)
            ),
        }
    }
    assert!(accepted.len() >= 2, "{replies:?}");
    assert!(
        refused >= 1,
        "10 submissions at once, a queue of 2: some must wait"
    );
    for id in &accepted {
        assert_eq!(server.wait_job(id, JOB_TIMEOUT)["status"], "done");
    }
    // With room again, a submission is accepted.
    server.submit_example();
}

/// Submits 4 jobs to a 1-worker server, kills it with SIGKILL while one runs, restarts it;
/// returns the server, the jobs and the one that was running, when it was still running at
/// the kill (it may finish in the moment between the poll and the kill: then `None`).
fn kill_mid_job(data: &std::path::Path) -> (Server, Vec<String>, Option<String>) {
    let server = Server::start(models_dir(), data, &["--workers", "1"]);
    let ids: Vec<String> = (0..4).map(|_| server.submit_example()).collect();
    let running = wait_running(&server, &ids);
    server.kill9();
    let server = Server::start(models_dir(), data, &["--workers", "1"]);
    for id in &ids {
        let job = server.wait_job(id, JOB_TIMEOUT);
        assert_eq!(job["status"], "done", "{job}");
    }
    let job = server.get(&format!("/jobs/{running}")).json();
    let interrupted = job["attempts"] == 2;
    if !interrupted {
        assert_eq!(job["attempts"], 1, "{job}");
    }
    (server, ids, interrupted.then_some(running))
}

#[test]
fn kill_9_mid_job_loses_no_job() {
    let mut dirs = Vec::new();
    let (server, ids, running) = loop {
        dirs.push(data_dir());
        let (server, ids, running) = kill_mid_job(dirs.last().unwrap().path());
        if running.is_some() || dirs.len() == 3 {
            break (server, ids, running);
        }
    };
    let running = running.expect("in 3 tries, the kill never caught a job mid-proof");
    assert!(
        server.log().contains("1 interrupted job(s) requeued"),
        "{}",
        server.log()
    );
    let job = server.get(&format!("/jobs/{running}")).json();
    assert_eq!(
        (job["status"].as_str(), job["attempts"].as_i64()),
        (Some("done"), Some(2))
    );
    // The proofs written around the kill are whole files that verify.
    let proofs = data_dir();
    for id in &ids {
        fetch_and_verify_offline(&server, id, proofs.path());
    }
}

#[test]
fn sigterm_finishes_the_running_job_and_keeps_the_queued_ones() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &["--workers", "1"]);
    let ids: Vec<String> = (0..4).map(|_| server.submit_example()).collect();
    let running = wait_running(&server, &ids);
    // A client long-polling a queued job is answered at the shutdown, not at its deadline.
    let addr = server.addr.clone();
    let last = ids[3].clone();
    let poller = std::thread::spawn(move || {
        let start = Instant::now();
        let r = common::server::send_raw(
            &addr,
            format!("GET /jobs/{last}?wait=60 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        );
        (r, start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let status = server.terminate(JOB_TIMEOUT);
    assert!(status.success(), "exit status {status:?}");
    let (reply, waited) = poller.join().unwrap();
    assert_eq!(reply.json()["id"], ids[3].as_str());
    assert!(waited < Duration::from_secs(30), "{waited:?}");

    let server = Server::start(models_dir(), data.path(), &["--workers", "1"]);
    // The running job was let finish: it was not started again.
    let job = server.get(&format!("/jobs/{running}")).json();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(!server.log().contains("requeued"), "{}", server.log());
    for id in &ids {
        assert_eq!(server.wait_job(id, JOB_TIMEOUT)["status"], "done");
    }
}

#[test]
fn malformed_requests_get_json_errors_and_the_server_stays_up() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &["--max-body", "4096"]);
    let json_ct = [("content-type", "application/json")];
    let post = |path: &str, body: &str| server.request("POST", path, &json_ct, body.as_bytes());
    let input = example_input();

    post("/jobs", "{").assert_error(400, "bad_json");
    post("/jobs", "").assert_error(400, "bad_json");
    post("/jobs", "[1, 2]").assert_error(400, "bad_json");
    server
        .request("POST", "/jobs", &json_ct, b"\xff\xfe{}")
        .assert_error(400, "bad_json");
    let m = post("/jobs", r#"{"model": "example"}"#).assert_error(400, "bad_json");
    assert!(m.contains("input"), "{m}");
    let m = post(
        "/jobs",
        &json!({"model": "example", "input": input, "priority": 1}).to_string(),
    )
    .assert_error(400, "bad_json");
    assert!(m.contains("priority"), "{m}");
    server
        .request("POST", "/jobs", &[("content-type", "text/plain")], b"{}")
        .assert_error(415, "not_json");

    for model in [
        "nope",
        "../models/example",
        "half-done",
        ".zkinfer-serve",
        "",
    ] {
        let m = post(
            "/jobs",
            &json!({"model": model, "input": input}).to_string(),
        )
        .assert_error(404, "unknown_model");
        assert!(m.contains("GET /models"), "{m}");
    }
    let m = post(
        "/jobs",
        &json!({"model": "example", "input": {"input_data": [[0.5, 0.25]]}}).to_string(),
    )
    .assert_error(422, "bad_input");
    assert!(m.contains("2 values") && m.contains("needs 16"), "{m}");
    let m = post(
        "/jobs",
        &json!({"model": "example", "input": input, "row": 3}).to_string(),
    )
    .assert_error(422, "bad_input");
    assert!(m.contains("sample 3"), "{m}");
    post(
        "/jobs",
        &json!({"model": "example", "input": {"input_data": "x"}}).to_string(),
    )
    .assert_error(422, "bad_input");
    // Far outside the range the model was compiled for: refused now, not failed later.
    let m = post(
        "/jobs",
        &json!({"model": "example", "input": {"input_data": [vec![1e9; 16]]}}).to_string(),
    )
    .assert_error(422, "bad_input");
    assert!(m.contains("input"), "{m}");

    // Over --max-body: announced by Content-Length, or streamed in chunks with none.
    let big = json!({"model": "example", "input": {"input_data": [vec![0.5; 2000]]}}).to_string();
    post("/jobs", &big).assert_error(413, "too_large");
    let chunked = format!(
        "POST /jobs HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    server
        .raw(chunked.as_bytes())
        .assert_error(413, "too_large");

    server.get("/jobs/0123").assert_error(404, "unknown_job");
    server
        .get("/jobs/0123?wait=1")
        .assert_error(404, "unknown_job");
    for query in ["wait=61", "wait=soon", "wait=-1", "hold=1"] {
        server
            .get(&format!("/jobs/0123?{query}"))
            .assert_error(400, "bad_query");
    }
    server
        .get("/jobs/0123/proof")
        .assert_error(404, "unknown_job");
    server.get("/nowhere").assert_error(404, "no_route");
    server
        .request("DELETE", "/jobs", &[], b"")
        .assert_error(405, "method_not_allowed");
    post("/verify", r#"{"model": "example", "proof": {}}"#).assert_error(400, "bad_proof");
    post("/verify", r#"{"model": "example", "proof": 3}"#).assert_error(400, "bad_proof");
    post("/verify", r#"{"model": "nope", "proof": {}}"#).assert_error(404, "unknown_model");
    post("/verify", r#"{"proof": {}}"#).assert_error(400, "bad_json");
    server
        .request("POST", "/verify", &[("content-type", "text/plain")], b"{}")
        .assert_error(415, "not_json");
    // A job id that is not UTF-8 once decoded.
    server.get("/jobs/%FF").assert_error(400, "bad_path");
    server.get("/jobs/%FF/proof").assert_error(400, "bad_path");

    // Not HTTP at all: the connection is answered or closed, and the server lives on.
    let _ = std::panic::catch_unwind(|| server.raw(b"\x00\x01garbage\r\n\r\n"));
    let health = server.get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["jobs"]["queued"],
        0,
        "no bad request queued a job"
    );
}

#[test]
fn a_bearer_token_guards_every_endpoint_but_health_and_openapi() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &["--token", "s3cret"]);
    assert_eq!(server.get("/health").status, 200);
    assert_eq!(server.get("/openapi.json").status, 200);
    for (method, path) in [
        ("GET", "/models"),
        ("POST", "/jobs"),
        ("GET", "/jobs/abc"),
        ("GET", "/jobs/abc/proof"),
        ("POST", "/verify"),
    ] {
        let none = server.request(method, path, &[], b"{}");
        none.assert_error(401, "unauthorized");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        server
            .request(method, path, &[("authorization", "Bearer s3cre")], b"{}")
            .assert_error(401, "unauthorized");
        server
            .request(method, path, &[("authorization", "s3cret")], b"{}")
            .assert_error(401, "unauthorized");
    }
    let r = server.request("GET", "/models", &[("authorization", "Bearer s3cret")], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["models"][0]["id"], "example");
    // The scheme is case-insensitive (RFC 9110).
    let r = server.request("GET", "/models", &[("authorization", "bearer s3cret")], b"");
    assert_eq!(r.status, 200);

    // An empty token is refused rather than silently serving without one.
    let err = fails(&[
        "serve",
        "--models",
        s(models_dir()),
        "--data",
        s(&data.path().join("other")),
        "--token",
        "",
    ]);
    assert!(err.contains("--token") && err.contains("empty"), "{err}");
}

#[test]
fn openapi_lists_every_route_method_and_error_code() {
    let data = data_dir();
    let server = Server::start(models_dir(), data.path(), &[]);
    let r = server.get("/openapi.json");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let spec = r.json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method, statuses) in [
        ("/health", "get", &["200"][..]),
        ("/openapi.json", "get", &["200"]),
        ("/models", "get", &["200", "401"]),
        (
            "/jobs",
            "post",
            &["202", "400", "401", "404", "413", "415", "422", "429"],
        ),
        ("/jobs/{id}", "get", &["200", "400", "401", "404"]),
        (
            "/jobs/{id}/proof",
            "get",
            &["200", "400", "401", "404", "409"],
        ),
        (
            "/verify",
            "post",
            &["200", "400", "401", "404", "413", "415", "422"],
        ),
    ] {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing from /openapi.json");
        for status in statuses {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} does not describe {status}"
            );
        }
    }
    let codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
        ["description"]
        .as_str()
        .unwrap();
    for code in [
        "bad_json",
        "not_json",
        "too_large",
        "unauthorized",
        "unknown_model",
        "bad_input",
        "queue_full",
        "bad_path",
        "bad_query",
        "unknown_job",
        "not_ready",
        "job_failed",
        "bad_proof",
        "rejected",
        "no_route",
        "method_not_allowed",
        "internal",
    ] {
        assert!(codes.contains(code), "error code {code} undocumented");
    }
}

#[test]
fn serve_refuses_a_missing_models_directory_and_a_busy_port() {
    let data = data_dir();
    let missing = data.path().join("missing");
    let err = fails(&["serve", "--models", s(&missing), "--addr", "127.0.0.1:0"]);
    assert!(
        err.contains("--models") && err.contains("not a directory"),
        "{err}"
    );
    assert!(!missing.exists(), "nothing is created for a bad --models");

    let server = Server::start(models_dir(), data.path(), &[]);
    let err = fails(&[
        "serve",
        "--models",
        s(models_dir()),
        "--data",
        s(&data.path().join("other")),
        "--addr",
        &server.addr,
    ]);
    assert!(err.contains("cannot listen on"), "{err}");

    // A second server on the same job database is refused before it touches a job.
    let id = server.submit_example();
    let err = fails(&[
        "serve",
        "--models",
        s(models_dir()),
        "--data",
        s(data.path()),
        "--addr",
        "127.0.0.1:0",
    ]);
    assert!(err.contains("another zkinfer serve"), "{err}");
    assert_eq!(server.wait_job(&id, JOB_TIMEOUT)["attempts"], 1);
    assert!(!server.log().contains("requeued"), "{}", server.log());
}
