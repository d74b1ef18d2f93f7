//! Where output goes: report destination, colour choice, progress on stderr, the logger.
#![allow(clippy::print_stderr)]

use std::{
    fs::File,
    io::{self, IsTerminal, Write},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keysweep::{
    report::{self, Format, Report},
    scan::Progress,
};

use super::args::ColorArg;

/// Opens the report destination: a file, or standard output.
pub fn destination(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    match path {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot write report to {}", path.display()))?;
            Ok(Box::new(io::BufWriter::new(file)))
        }
        None => Ok(Box::new(io::BufWriter::new(io::stdout().lock()))),
    }
}

/// Writes one `--report FORMAT=FILE` (text uncoloured).
///
/// # Errors
/// The file cannot be created or written; the message names it.
pub fn write_report_file(report: &Report<'_>, format: Format, path: &Path) -> anyhow::Result<()> {
    let mut dest = destination(Some(path))?;
    report::write(report, format, false, &mut dest)
        .and_then(|()| dest.flush())
        .with_context(|| format!("cannot write report to {}", path.display()))
}

/// Whether text output gets colour.
pub fn use_color(choice: ColorArg, to_file: bool) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            !to_file && std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal()
        }
    }
}

/// Prints one diagnostic line on stderr.
pub fn warn(message: &str) {
    eprintln!("keysweep: {message}");
}

/// A spinner on stderr showing scanned blobs and bytes; drawn only on a terminal and only once
/// the scan has run for a moment, so quick scans (a pre-commit hook) print nothing.
pub struct Spinner {
    done: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Spinner {
    /// Starts the spinner thread if `enabled` and stderr is a terminal.
    pub fn start(enabled: bool, progress: Arc<Progress>) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled || !io::stderr().is_terminal() {
            return Spinner { done, handle: None };
        }
        let flag = done.clone();
        let handle = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            if flag.load(Ordering::Relaxed) {
                return;
            }
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} scanning: {msg} ({elapsed})")
                    .expect("a constant, valid template"),
            );
            while !flag.load(Ordering::Relaxed) {
                let blobs = progress.blobs.load(Ordering::Relaxed);
                let mib = progress.bytes.load(Ordering::Relaxed) as f64 / (1 << 20) as f64;
                bar.set_message(format!("{blobs} files, {mib:.1} MiB"));
                bar.tick();
                thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Spinner { done, handle: Some(handle) }
    }

    /// Stops and erases the spinner.
    pub fn stop(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// A minimal stderr logger for `-v`/`-vv` and `KEYSWEEP_LOG`. Callers never log secrets.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && metadata.target().starts_with("keysweep")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("keysweep[{}]: {}", record.level().as_str().to_lowercase(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger at a level from `KEYSWEEP_LOG` (error..trace), else `RUST_LOG`, else
/// the `-v` count. Only keysweep's own records are printed, whatever the level: a dependency's
/// trace log (an HTTP client's headers) could hold a credential.
pub fn init_logging(verbose: u8) {
    static LOGGER: StderrLogger = StderrLogger;
    let from_env = std::env::var("KEYSWEEP_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| std::env::var("RUST_LOG").ok().and_then(|v| rust_log_level(&v)));
    let level = from_env.unwrap_or(match verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    });
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// keysweep's level in an env_logger-style `RUST_LOG`: a bare level (`trace`) or a
/// `keysweep=LEVEL` directive, the last one winning; other crates' directives are ignored.
fn rust_log_level(spec: &str) -> Option<log::LevelFilter> {
    spec.rsplit(',').find_map(|directive| match directive.trim().split_once('=') {
        None => directive.trim().parse().ok(),
        Some((target, level)) if target.trim() == "keysweep" => level.trim().parse().ok(),
        Some(_) => None,
    })
}

/// Replaces the default panic message, which quotes the panic's payload: a payload can hold
/// scanned bytes (a failed `str` slice prints the string), so only the location is printed.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| eprintln!("{}", panic_line(info.location()))));
}

fn panic_line(location: Option<&std::panic::Location<'_>>) -> String {
    let at = location.map_or_else(|| "an unknown place".to_string(), |l| l.to_string());
    format!(
        "keysweep: internal error at {at} (a bug: please report it; the panic message is not \
         shown because it may quote scanned data)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_sets_keysweeps_level_only() {
        use log::LevelFilter::{Debug, Info, Trace};
        assert_eq!(rust_log_level("trace"), Some(Trace));
        assert_eq!(rust_log_level("keysweep=debug"), Some(Debug));
        assert_eq!(rust_log_level("gix=trace,keysweep=info"), Some(Info));
        assert_eq!(rust_log_level("gix=trace"), None);
        assert_eq!(rust_log_level("loud"), None);
    }

    #[test]
    fn panic_line_names_the_location_only() {
        let here = std::panic::Location::caller();
        assert_eq!(
            panic_line(Some(here)),
            format!(
                "keysweep: internal error at src/cli/output.rs:{}:{} (a bug: please report it; \
                 the panic message is not shown because it may quote scanned data)",
                here.line(),
                here.column()
            )
        );
    }
}
