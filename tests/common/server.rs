//! A real `zkinfer serve` process on a loopback port, and a small HTTP/1.1 client that can
//! also send what a well-behaved client never would (a lying Content-Length, raw bytes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A directory holding one set-up model, `example` (the bundled MLP), shared by every test
/// of the binary (the server only reads it).
pub fn models_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = tempfile::tempdir().unwrap().keep();
        let src = root.join("src");
        std::fs::create_dir_all(&src).unwrap();
        let onnx = src.join("example.onnx");
        let input = src.join("input.json");
        std::fs::write(&onnx, zkinfer::example::model_bytes()).unwrap();
        std::fs::write(&input, zkinfer::example::input_json()).unwrap();
        let models = root.join("models");
        let dir = models.join("example");
        super::cli::ok(
            &["compile", super::cli::s(&onnx), "--calibration"]
                .into_iter()
                .chain([super::cli::s(&input), "--out", super::cli::s(&dir)])
                .collect::<Vec<_>>(),
        );
        super::cli::ok(&["setup", super::cli::s(&dir), "--insecure-test-srs"]);
        // A directory that is not a set-up model is not listed.
        std::fs::create_dir_all(models.join("half-done")).unwrap();
        models
    })
}

/// The bundled example's input sample, as the JSON a job takes.
pub fn example_input() -> Value {
    serde_json::from_str(&zkinfer::example::input_json()).unwrap()
}

/// A running server.
pub struct Server {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Its data directory (job database, proofs, stderr log).
    pub data: PathBuf,
}

/// An HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a JSON error with `status` and `code`; returns its message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        let v = self.json();
        assert_eq!(self.status, status, "{v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        assert_eq!(v["error"]["status"], status, "{v}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        v["error"]["message"].as_str().unwrap().to_string()
    }
}

impl Server {
    /// Starts `zkinfer serve --models DIR --data DATA --addr 127.0.0.1:0 EXTRA...` and waits
    /// until it listens.
    pub fn start(models: &Path, data: &Path, extra: &[&str]) -> Server {
        std::fs::create_dir_all(data).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("stderr.log"))
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(["serve", "--models"])
            .arg(models)
            .arg("--data")
            .arg(data)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let log = std::fs::read_to_string(data.join("stderr.log")).unwrap_or_default();
                panic!("no address line from zkinfer serve: {line:?}; stderr: {log}")
            })
            .to_string();
        Server {
            child,
            addr,
            data: data.to_path_buf(),
        }
    }

    /// Sends raw request bytes; reads the whole response.
    pub fn raw(&self, request: &[u8]) -> Reply {
        send_raw(&self.addr, request)
    }

    /// `METHOD path` with `headers` and `body` (Content-Length set from it).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.raw(&bytes)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// Submits a job of the example model; returns its id (the job must be accepted).
    pub fn submit_example(&self) -> String {
        let r = self.post(
            "/jobs",
            &serde_json::json!({"model": "example", "input": example_input()}),
        );
        assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// Waits (long polling, `?wait=10`) until job `id` is done or failed, or `timeout`
    /// passes; returns it.
    pub fn wait_job(&self, id: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let job = self.get(&format!("/jobs/{id}?wait=10")).json();
            if job["status"] == "done" || job["status"] == "failed" {
                return job;
            }
            assert!(
                start.elapsed() < timeout,
                "job {id} not finished after {timeout:?}: {job}"
            );
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: the process dies at once, mid-job or not.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the process to exit.
    pub fn terminate(mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "zkinfer serve did not exit within {timeout:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` to `addr` and reads the response until the server closes.
pub fn send_raw(addr: &str, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // The server may answer (413, say) and close before it has read the whole body. The
    // write side stays open: hyper takes a half-closed connection for a gone client.
    let _ = stream.write_all(request);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Reply {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP header in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &bytes[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        unchunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn unchunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return body;
        };
        let size_text = std::str::from_utf8(&rest[..eol]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
        rest = &rest[eol + 2 + size + 2..];
    }
}
