//! `sortfleet serve --http`: the live map page and its polling endpoint over plain HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the live map");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn serve_http_serves_the_map_page_and_live_incidents() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sortfleet.toml"),
        "[[tokens]]\ntoken = \"disp\"\nrole = \"dispatcher\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sortfleet"))
        .arg("serve")
        .arg("--db")
        .arg(dir.path().join("sortfleet.db"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(dir.path().join("sortfleet.toml"))
        .args(["--synthetic-city", "6"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sortfleet serve starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let _srv = Kill(child);
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on "), "{first:?}");
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    let addr = second
        .trim()
        .strip_prefix("live map on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no live map address in {second:?}"))
        .to_owned();

    let page = get(&addr, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page:.200}");
    assert!(page.contains("id=\"sortfleet-data\""));
    assert!(page.contains("\"live_url\":\"/api/live\""));
    // The synthetic city's roads are drawn.
    assert!(!page.contains("\"roads\":[]"));

    let live = get(&addr, "/api/live");
    assert!(live.starts_with("HTTP/1.1 200"), "{live:.200}");
    assert!(live.contains("\"incidents\":[]"), "{live}");
}
