//! `cargo xtask setup`: installs the pinned tools that are missing.
//!
//! Each tool is probed first and skipped when the exact pinned version is
//! already there, so a warm machine re-runs this in well under a second.
//! Only the registries this project can reach are used: crates.io for the
//! Rust tools, npm for wasm-opt and axe-core, PyPI for schemathesis, Debian's
//! archive for the browser and nginx.

use crate::{
    AXE_CORE_VERSION, BINARYEN_VERSION, CHROMEDRIVER, CHROMIUM, Ctx, SCHEMATHESIS_VERSION,
    TRUNK_VERSION, WASM_BINDGEN_VERSION, WASM_TARGET, note,
};
use std::path::Path;

/// What the caller is about to do, and so what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Build and run: the wasm target, trunk, wasm-bindgen, wasm-opt.
    Build,
    /// Also lint and run the browser tests: rustfmt, clippy, Chromium, ChromeDriver.
    Test,
}

/// A tool installed with `cargo install`.
struct CargoTool {
    /// The binary, also what `--version` prints first.
    bin: &'static str,
    /// The crate that provides it.
    krate: &'static str,
    version: &'static str,
    /// `--locked`: wasm-bindgen-cli's own lockfile names a crate version the
    /// registry no longer has, so it installs unlocked.
    locked: bool,
    /// How long a fresh install takes here, so nobody thinks it hangs.
    takes: &'static str,
}

const TRUNK: CargoTool = CargoTool {
    bin: "trunk",
    krate: "trunk",
    version: TRUNK_VERSION,
    locked: true,
    takes: "~5 min on 2 cores",
};

const WASM_BINDGEN: CargoTool = CargoTool {
    bin: "wasm-bindgen",
    krate: "wasm-bindgen-cli",
    version: WASM_BINDGEN_VERSION,
    locked: false,
    takes: "~2 min on 2 cores",
};

/// Installs what `needs` requires and is not there yet.
pub(crate) fn setup(ctx: &Ctx, needs: Needs) -> Result<(), String> {
    wasm_target(ctx)?;
    if needs == Needs::Test {
        rust_components(ctx)?;
    }
    cargo_tool(ctx, &TRUNK)?;
    cargo_tool(ctx, &WASM_BINDGEN)?;
    wasm_opt(ctx)?;
    if needs == Needs::Test {
        browser(ctx)?;
        nginx(ctx)?;
        axe_core(ctx)?;
        schemathesis(ctx)?;
    }
    Ok(())
}

fn wasm_target(ctx: &Ctx) -> Result<(), String> {
    let installed = ctx
        .cmd("rustup")
        .args(["target", "list", "--installed"])
        .probe()
        .ok_or_else(|| {
            format!("`rustup target list --installed` failed: is rustup installed? The build needs the {WASM_TARGET} target")
        })?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        note(&format!("{WASM_TARGET} target: already installed"));
        return Ok(());
    }
    note(&format!(
        "installing the {WASM_TARGET} target (takes seconds)"
    ));
    ctx.cmd("rustup").args(["target", "add", WASM_TARGET]).run()
}

fn rust_components(ctx: &Ctx) -> Result<(), String> {
    let installed = ctx
        .cmd("rustup")
        .args(["component", "list", "--installed"])
        .probe()
        .unwrap_or_default();
    let missing: Vec<&str> = ["rustfmt", "clippy"]
        .into_iter()
        .filter(|name| {
            !installed
                .lines()
                .any(|line| line.starts_with(&format!("{name}-")))
        })
        .collect();
    if missing.is_empty() {
        note("rustfmt, clippy: already installed");
        return Ok(());
    }
    note(&format!(
        "installing {} (takes seconds)",
        missing.join(", ")
    ));
    ctx.cmd("rustup")
        .args(["component", "add"])
        .args(missing)
        .run()
}

fn cargo_tool(ctx: &Ctx, tool: &CargoTool) -> Result<(), String> {
    let wanted = format!("{} {}", tool.bin, tool.version);
    let found = ctx.cmd(tool.bin).arg("--version").probe();
    if found.as_deref() == Some(wanted.as_str()) {
        note(&format!("{wanted}: already installed"));
        return Ok(());
    }
    if let Some(other) = &found {
        note(&format!("found `{other}`, need {wanted}"));
    }
    note(&format!("installing {wanted} (takes {})", tool.takes));
    let mut install = ctx
        .cmd("cargo")
        .args(["install", tool.krate, "--version", tool.version]);
    if tool.locked {
        install = install.arg("--locked");
    }
    install.run()?;
    match ctx.cmd(tool.bin).arg("--version").probe() {
        Some(now) if now == wanted => Ok(()),
        now => Err(format!(
            "installed {wanted}, but `{} --version` now says {now:?}: is another {} earlier on PATH?",
            tool.bin, tool.bin
        )),
    }
}

/// binaryen from npm: wasm-opt compiled to wasm, run by node. Debian's
/// binaryen (v108) and the `wasm-opt` crate (v116) reject rustc 1.95's output.
fn wasm_opt(ctx: &Ctx) -> Result<(), String> {
    let wanted = format!("wasm-opt version {BINARYEN_VERSION} ");
    let probe = || {
        ctx.cmd(ctx.binaryen_bin().join("wasm-opt"))
            .arg("--version")
            .probe()
    };
    if let Some(found) = probe() {
        if found.starts_with(&wanted) {
            note(&format!("wasm-opt {BINARYEN_VERSION}: already installed"));
            return Ok(());
        }
        note(&format!(
            "found `{found}`, need wasm-opt {BINARYEN_VERSION}"
        ));
    }
    if ctx.cmd("npm").arg("--version").probe().is_none() {
        apt_install(ctx, &["nodejs", "npm"], "npm (to install wasm-opt)")?;
    }
    note(&format!(
        "installing wasm-opt {BINARYEN_VERSION} (npm binaryen, takes seconds)"
    ));
    ctx.cmd("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(ctx.binaryen_prefix())
        .arg(format!("binaryen@{BINARYEN_VERSION}.0.0"))
        .run()?;
    match probe() {
        Some(found) if found.starts_with(&wanted) => Ok(()),
        found => Err(format!(
            "installed binaryen@{BINARYEN_VERSION}.0.0, but `wasm-opt --version` says {found:?}"
        )),
    }
}

/// Debian's nginx: the deployment tests run the configs in `deploy/nginx/`
/// with it, as a static host and as a reverse proxy.
fn nginx(ctx: &Ctx) -> Result<(), String> {
    if Path::new(NGINX).exists() {
        note("nginx: already installed");
        return Ok(());
    }
    apt_install(ctx, &["nginx"], "nginx (takes seconds)")
}

/// Where Debian installs nginx (the tests read `NGINX_BIN`).
pub(crate) const NGINX: &str = "/usr/sbin/nginx";

/// axe-core from npm: the accessibility engine the browser suite injects
/// into every page (`AXE_CORE_JS`).
fn axe_core(ctx: &Ctx) -> Result<(), String> {
    let package = ctx.axe_core_js().with_file_name("package.json");
    let installed = std::fs::read_to_string(&package).ok().and_then(|json| {
        json.split("\"version\"")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1).map(str::to_owned))
    });
    if installed.as_deref() == Some(AXE_CORE_VERSION) && ctx.axe_core_js().is_file() {
        note(&format!("axe-core {AXE_CORE_VERSION}: already installed"));
        return Ok(());
    }
    if ctx.cmd("npm").arg("--version").probe().is_none() {
        apt_install(ctx, &["nodejs", "npm"], "npm (to install axe-core)")?;
    }
    note(&format!(
        "installing axe-core {AXE_CORE_VERSION} (npm, takes seconds)"
    ));
    ctx.cmd("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(ctx.root.join(AXE_CORE_PREFIX))
        .arg(format!("axe-core@{AXE_CORE_VERSION}"))
        .run()?;
    if ctx.axe_core_js().is_file() {
        Ok(())
    } else {
        Err(format!(
            "installed axe-core@{AXE_CORE_VERSION}, but {} is missing",
            ctx.axe_core_js().display()
        ))
    }
}

/// `npm install --prefix` target for axe-core.
pub(crate) const AXE_CORE_PREFIX: &str = "target/tools/axe-core";

/// Schemathesis from PyPI, in its own virtualenv: the API suite fuzzes the
/// running server against its OpenAPI document with it (`SCHEMATHESIS`).
fn schemathesis(ctx: &Ctx) -> Result<(), String> {
    let bin = ctx.schemathesis_bin();
    let wanted = format!("schemathesis, version {SCHEMATHESIS_VERSION}");
    if ctx.cmd(&bin).arg("--version").probe().as_deref() == Some(wanted.as_str()) {
        note(&format!(
            "schemathesis {SCHEMATHESIS_VERSION}: already installed"
        ));
        return Ok(());
    }
    let venv = ctx.root.join(SCHEMATHESIS_VENV);
    let python = || ctx.cmd("python3").arg("-m");
    if python().args(["venv", "--help"]).probe().is_none()
        || python().args(["ensurepip", "--version"]).probe().is_none()
    {
        apt_install(
            ctx,
            &["python3", "python3-venv"],
            "python3 + venv (to install schemathesis)",
        )?;
    }
    note(&format!(
        "installing schemathesis {SCHEMATHESIS_VERSION} (PyPI, into {SCHEMATHESIS_VENV}; takes ~30 s)"
    ));
    python().arg("venv").arg("--clear").arg(&venv).run()?;
    ctx.cmd(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}"))
        .run()?;
    match ctx.cmd(&bin).arg("--version").probe() {
        Some(found) if found == wanted => Ok(()),
        found => Err(format!(
            "installed schemathesis {SCHEMATHESIS_VERSION}, but `{} --version` says {found:?}",
            bin.display()
        )),
    }
}

/// The virtualenv schemathesis is installed into.
pub(crate) const SCHEMATHESIS_VENV: &str = "target/tools/schemathesis";

fn browser(ctx: &Ctx) -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        let version = ctx.cmd(CHROMEDRIVER).arg("--version").probe();
        let version = version
            .as_deref()
            .and_then(|v| v.split(" (").next())
            .unwrap_or("?");
        note(&format!(
            "chromium + chromedriver: already installed ({version})"
        ));
        return Ok(());
    }
    apt_install(
        ctx,
        &["chromium", "chromium-driver"],
        "chromium + chromedriver (takes ~1 min, 500 MB)",
    )
}

fn apt_install(ctx: &Ctx, packages: &[&str], what: &str) -> Result<(), String> {
    let by_hand = format!(
        "apt-get update && apt-get install -y {}",
        packages.join(" ")
    );
    if ctx.cmd("id").arg("-u").probe().as_deref() != Some("0") {
        return Err(format!("{what} is missing; as root, run: {by_hand}"));
    }
    note(&format!("installing {what}"));
    ctx.cmd("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    ctx.cmd("apt-get")
        .args(["install", "-y"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}
