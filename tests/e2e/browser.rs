//! `out/map.html` in a real headless browser: routes and incidents are drawn after the
//! page's script ran, and a screenshot is saved. Skipped (with a message) when no
//! Chromium is installed, so `cargo test` passes with only the toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

fn browser() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.exists() {
        return Some(fixed.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.exists())
}

fn headless(bin: &Path, profile: &Path, extra: &[&str], page: &str) -> std::process::Output {
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(page)
        .output()
        .expect("the browser starts")
}

#[test]
fn map_page_draws_routes_and_incidents_in_chromium() {
    let Some(bin) = browser() else {
        eprintln!(
            "SKIPPED: no chromium or google-chrome found; install `chromium` to run this test"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    crate::demo::run_small_demo(&out);
    let page = format!("file://{}", out.join("map.html").display());
    let profile = dir.path().join("profile");

    let dom = headless(&bin, &profile, &["--dump-dom"], &page);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    // The page's script builds the SVG: these attributes exist only after it ran
    // (the script's source spells them `class: "route"`).
    let routes = html
        .split("<polyline")
        .skip(1)
        .filter(|tag| {
            tag.split('>')
                .next()
                .is_some_and(|t| t.contains("class=\"route\""))
        })
        .count();
    assert!(
        routes > 0,
        "no polyline.route drawn:\n{}",
        &html[..html.len().min(2000)]
    );
    let incidents = html.matches("class=\"incident\"").count();
    assert!(incidents > 0, "no .incident marker drawn");
    eprintln!("map page: {routes} route polylines, {incidents} incident markers");

    let shot = std::env::var_os("SORTFLEET_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| out.join("map.png"));
    let s = headless(
        &bin,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,900",
        ],
        &page,
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(png.len() > 10_000, "screenshot suspiciously small");
    eprintln!("screenshot: {}", shot.display());
}
