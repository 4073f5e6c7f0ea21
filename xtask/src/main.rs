//! `cargo xtask <command>`: the one entry point to set up, build, run and
//! test the project (the alias lives in `.cargo/config.toml`).
//!
//! Std only, so it compiles in seconds on a fresh machine and then installs
//! everything else itself, pinned. `.ci/run` is `cargo xtask test`.

mod cmd;
mod setup;

use cmd::Cmd;
use setup::Needs;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `cargo install trunk --locked`; 0.22 needs a newer rustc than we pin.
const TRUNK_VERSION: &str = "0.21.14";
/// Must equal the `wasm-bindgen` pinned in the workspace and `[tools]` in Trunk.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// npm `binaryen@{this}.0.0`; Trunk.toml pins `wasm_opt = "version_{this}"`.
const BINARYEN_VERSION: &str = "132";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// npm `axe-core@{this}`: the accessibility checks of the browser suite.
const AXE_CORE_VERSION: &str = "4.14.1";
/// PyPI `schemathesis=={this}`: fuzzes the API against its OpenAPI document.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Crates that only build for the browser: excluded from the native clippy
/// and test runs, linted for [`WASM_TARGET`] instead.
const WASM_CRATES: &[&str] = &["frontend"];
/// Crates built for both targets: tested natively, and also linted for
/// [`WASM_TARGET`], where the app uses them.
const DUAL_TARGET_CRATES: &[&str] = &["querent"];
/// Debian's paths; the browser tests read them from the environment.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The crate whose `wasm-bindgen-test`s run in headless Chromium, and the
/// features they need (its `webdriver.json` names [`CHROMIUM`]).
const BROWSER_TEST_CRATE: &str = "querent";
const BROWSER_TEST_FEATURES: &[&str] = &["web", "yew"];
/// Seconds wasm-bindgen-test-runner waits for one test binary (default 20;
/// a loaded 2-core machine needs slack).
const BROWSER_TEST_TIMEOUT_S: &str = "120";

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup [--test]       install the pinned tools that are missing
                       (--test: also rustfmt, clippy, chromium, chromedriver,
                       nginx, axe-core, schemathesis)
  build [--api-base URL] [--devtools]
                       build the SPA into dist/ (trunk build --release), with
                       404.html for static hosts; --api-base: the API's origin
                       for a copy served apart from the backend; --devtools:
                       include the query devtools panel (the test build does)
  run [-- ARGS...]     setup, build, then run the backend serving dist/;
                       ARGS go to the backend (try `-- --help`)
  test                 what CI runs: setup, fmt, clippy (native and wasm32),
                       build, cargo test, browser unit tests (wasm32)
  torture [SECONDS]    the crash storms (SIGKILL under continuous writes) on
                       SQLite, PostgreSQL and two PostgreSQL instances (one
                       killed at a time) against the release backend, each
                       SECONDS long (default 60); prints a row per engine
                       (docs/reliability.md). CI runs a 6 s storm in `test`.
";

/// `cargo xtask torture [SECONDS]`: the API suite's crash storms, longer,
/// against the release build.
fn torture(ctx: &Ctx, args: &[String]) -> Result<(), String> {
    let seconds = match args {
        [] => "60".to_owned(),
        [s] if s.parse::<u32>().is_ok_and(|s| s > 0) => s.clone(),
        _ => return Err(format!("torture takes a number of seconds\n\n{USAGE}")),
    };
    note("building the backend (release)");
    ctx.cargo("build")
        .args(["--release", "-p", "backend"])
        .run()?;
    note(&format!("crash storms, {seconds} s each"));
    ctx.cargo("test")
        .args(["-p", "backend", "--test", "api", "crash::", "--"])
        .args(["--nocapture", "--test-threads", "1"])
        .env("TORTURE_SECS", &seconds)
        .env("TORTURE_BACKEND", ctx.root.join("target/release/backend"))
        .run()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ctx = match Ctx::new() {
        Ok(ctx) => ctx,
        Err(e) => return fail(&e),
    };
    let result = match args.first().map(String::as_str) {
        Some("setup") => match &args[1..] {
            [] => setup::setup(&ctx, Needs::Build).map(|()| ExitCode::SUCCESS),
            [flag] if flag == "--test" => {
                setup::setup(&ctx, Needs::Test).map(|()| ExitCode::SUCCESS)
            }
            _ => Err(format!(
                "unexpected arguments to setup: {:?}\n\n{USAGE}",
                &args[1..]
            )),
        },
        Some("build") => BuildOptions::parse(&args[1..])
            .and_then(|o| build(&ctx, &o).map(|()| ExitCode::SUCCESS)),
        Some("run") => run(&ctx, &args[1..]),
        Some("test") if args.len() == 1 => test(&ctx).map(|()| ExitCode::SUCCESS),
        Some("torture") => torture(&ctx, &args[1..]).map(|()| ExitCode::SUCCESS),
        Some("help" | "-h" | "--help") => {
            eprint!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("unknown command {args:?}\n\n{USAGE}")),
    };
    result.unwrap_or_else(|e| fail(&e))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// A progress line.
fn note(message: &str) {
    eprintln!("==> {message}");
}

/// Where things are, and the `PATH` every command runs with.
struct Ctx {
    root: PathBuf,
    /// `PATH` with the wasm-opt and cargo-install directories in front, so the
    /// pinned tools win over whatever else is installed.
    path: OsString,
    /// Set by CI (`CI=true`): then a stale Cargo.lock is an error.
    ci: bool,
}

impl Ctx {
    fn new() -> Result<Self, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("xtask must live one level below the workspace root")?
            .to_path_buf();
        // Every command runs from the root, where Cargo.toml and Trunk.toml are.
        std::env::set_current_dir(&root)
            .map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
        let mut dirs = vec![root.join(BINARYEN_BIN)];
        dirs.extend(cargo_bin_dir());
        dirs.extend(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths),
        );
        let path = std::env::join_paths(dirs).map_err(|e| format!("bad PATH: {e}"))?;
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        Ok(Self { root, path, ci })
    }

    /// A command that finds its program on our `PATH`.
    fn cmd(&self, program: impl Into<OsString>) -> Cmd {
        Cmd::new(program).search_path(self.path.clone())
    }

    fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// `npm install --prefix` target for binaryen.
    fn binaryen_prefix(&self) -> PathBuf {
        self.root.join(BINARYEN_PREFIX)
    }

    fn binaryen_bin(&self) -> PathBuf {
        self.root.join(BINARYEN_BIN)
    }

    /// The axe-core script the browser suite injects.
    fn axe_core_js(&self) -> PathBuf {
        self.root
            .join(setup::AXE_CORE_PREFIX)
            .join("node_modules/axe-core/axe.min.js")
    }

    /// The schemathesis command the API suite runs.
    fn schemathesis_bin(&self) -> PathBuf {
        self.root
            .join(setup::SCHEMATHESIS_VENV)
            .join("bin/schemathesis")
    }

    /// `cargo` with `--locked` under CI: only after the subcommand.
    fn cargo(&self, subcommand: &str) -> Cmd {
        let cmd = self.cmd("cargo").arg(subcommand);
        if self.ci { cmd.arg("--locked") } else { cmd }
    }
}

const BINARYEN_PREFIX: &str = "target/tools/binaryen";
const BINARYEN_BIN: &str = "target/tools/binaryen/node_modules/.bin";

/// Where `cargo install` puts binaries.
fn cargo_bin_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CARGO_INSTALL_ROOT")
        .or_else(|| var("CARGO_HOME"))
        .or_else(|| var("HOME").map(|home| home.join(".cargo")))
        .map(|dir| dir.join("bin"))
}

/// The flags of `cargo xtask build`.
#[derive(Debug, Default)]
struct BuildOptions {
    api_base: Option<String>,
    devtools: bool,
}

impl BuildOptions {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--api-base" => {
                    let url = args.next().ok_or("--api-base needs a URL")?;
                    options.api_base = Some(url.clone());
                }
                "--devtools" => options.devtools = true,
                other => {
                    return Err(format!(
                        "unexpected argument to build: {other:?}\n\n{USAGE}"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// `cargo xtask build [--api-base URL] [--devtools]`: the SPA into `dist/`.
fn build(ctx: &Ctx, options: &BuildOptions) -> Result<(), String> {
    setup::setup(ctx, Needs::Build)?;
    trunk_build(ctx, options.devtools)?;
    if let Some(url) = &options.api_base {
        set_api_base(&ctx.dist(), url)?;
    }
    Ok(())
}

/// Writes the API's origin into `dist/index.html` (and its 404.html copy).
fn set_api_base(dist: &Path, url: &str) -> Result<(), String> {
    let url = url.trim().trim_end_matches('/');
    let valid = (url.starts_with("http://") || url.starts_with("https://"))
        && !url.contains(['"', '<', '>', ' ']);
    if !valid {
        return Err(format!(
            "--api-base wants an origin such as https://api.example.com, not {url:?}"
        ));
    }
    for name in ["index.html", "404.html"] {
        let path = dist.join(name);
        let html = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let empty = r#"<meta name="api-base" content="" />"#;
        if !html.contains(empty) {
            return Err(format!("{} has no empty api-base meta", path.display()));
        }
        let html = html.replace(
            empty,
            &format!(r#"<meta name="api-base" content="{url}" />"#),
        );
        std::fs::write(&path, html).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    note(&format!("the app in dist/ calls the API at {url}"));
    Ok(())
}

/// `trunk build --release`; `devtools` adds the app's `devtools` feature.
fn trunk_build(ctx: &Ctx, devtools: bool) -> Result<(), String> {
    // Trunk runs cargo with --offline (Trunk.toml), so fetch first.
    ctx.cmd("cargo").args(["fetch", "--locked"]).run()?;
    let trunk = ctx.cmd("trunk").args(["build", "--release"]);
    let trunk = if devtools {
        trunk.args(["--features", "devtools"])
    } else {
        trunk
    };
    trunk
        // Trunk's update check ignores `offline`; with RUST_LOG set, its -v breaks.
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env_remove("RUST_LOG")
        .run()?;
    let index = ctx.dist().join("index.html");
    if !index.is_file() {
        return Err(format!(
            "trunk succeeded but {} is missing",
            index.display()
        ));
    }
    // Static hosts answer unknown paths (deep links) with 404.html: the app
    // itself, which routes them.
    std::fs::copy(&index, ctx.dist().join("404.html"))
        .map_err(|e| format!("writing 404.html: {e}"))?;
    note(&format!("built {}", ctx.dist().display()));
    Ok(())
}

/// `cargo xtask run [-- ARGS]`: build, then become the backend.
fn run(ctx: &Ctx, extra: &[String]) -> Result<ExitCode, String> {
    let extra = extra.strip_prefix(&["--".to_owned()]).unwrap_or(extra);
    setup::setup(ctx, Needs::Build)?;
    trunk_build(ctx, false)?;
    ctx.cmd("cargo")
        .args(["run", "--release", "-p", "backend", "--", "--dist"])
        .arg(ctx.dist())
        .args(extra)
        .exec()
}

/// One step of `cargo xtask test`.
enum Step {
    Run(Cmd),
    TrunkBuild,
}

/// `cargo xtask test`: everything CI checks, fastest first, stopping at the
/// first failure.
fn test(ctx: &Ctx) -> Result<(), String> {
    setup::setup(ctx, Needs::Test)?;
    let started = Instant::now();
    let exclude_wasm = || WASM_CRATES.iter().flat_map(|krate| ["--exclude", krate]);
    let steps = [
        (
            "fmt",
            Step::Run(ctx.cmd("cargo").args(["fmt", "--all", "--check"])),
        ),
        (
            "clippy (native)",
            Step::Run(
                ctx.cargo("clippy")
                    .args(["--workspace", "--all-targets"])
                    .args(exclude_wasm())
                    .args(["--", "-D", "warnings"]),
            ),
        ),
        (
            "clippy (wasm32)",
            Step::Run(
                ctx.cargo("clippy")
                    .args(
                        WASM_CRATES
                            .iter()
                            .chain(DUAL_TARGET_CRATES)
                            .flat_map(|krate| ["-p", krate]),
                    )
                    // The browser layer and its tests are behind features,
                    // and so is the app's devtools panel.
                    .arg("--features")
                    .arg(
                        BROWSER_TEST_FEATURES
                            .iter()
                            .map(|feature| format!("{BROWSER_TEST_CRATE}/{feature}"))
                            .chain(["frontend/devtools".to_owned()])
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                    .args([
                        "--target",
                        WASM_TARGET,
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ]),
            ),
        ),
        ("build", Step::TrunkBuild),
        (
            "test",
            Step::Run(
                ctx.cargo("test")
                    .arg("--workspace")
                    .args(exclude_wasm())
                    .env("DIST_DIR", ctx.dist())
                    .env("AXE_CORE_JS", ctx.axe_core_js())
                    .env("SCHEMATHESIS", ctx.schemathesis_bin())
                    .env("NGINX_BIN", setup::NGINX)
                    .env("CHROMEDRIVER", CHROMEDRIVER)
                    .env("CHROMIUM", CHROMIUM),
            ),
        ),
        (
            "browser unit tests (wasm32)",
            // `.cargo/config.toml` makes wasm-bindgen-test-runner (from
            // wasm-bindgen-cli) the runner; it reads the crate's
            // webdriver.json (Chromium's path and flags) and starts
            // $CHROMEDRIVER. No `-q`: cargo would hand it to the runner.
            Step::Run(
                ctx.cargo("test")
                    .args(["-p", BROWSER_TEST_CRATE, "--features"])
                    .arg(BROWSER_TEST_FEATURES.join(","))
                    .args(["--target", WASM_TARGET])
                    .env("CHROMEDRIVER", CHROMEDRIVER)
                    .env("WASM_BINDGEN_TEST_TIMEOUT", BROWSER_TEST_TIMEOUT_S),
            ),
        ),
    ];
    let total = steps.len();
    for (n, (name, step)) in steps.iter().enumerate() {
        note(&format!("step {}/{total}: {name}", n + 1));
        let step_started = Instant::now();
        match step {
            Step::Run(cmd) => cmd.run(),
            // The browser suite opens the devtools panel.
            Step::TrunkBuild => trunk_build(ctx, true),
        }
        .map_err(|e| format!("step `{name}` failed: {e}"))?;
        note(&format!(
            "{name}: ok ({:.1} s)",
            step_started.elapsed().as_secs_f64()
        ));
    }
    note(&format!(
        "all {total} steps passed ({:.0} s)",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
