//! The `keysweep` binary: parse arguments, run, turn the outcome into an exit code.
#![deny(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    cli::install_panic_hook();
    let args = cli::args::Cli::parse();
    // A panic (a bug; the hook has printed where) exits 2 like any failed run, not Rust's 101:
    // hooks and CI read keysweep's 0/1/2 contract. Worker panics reach here through rayon.
    let Ok(result) = std::panic::catch_unwind(|| cli::run(args)) else {
        return ExitCode::from(2);
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(0),
        Err(err) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("keysweep: error: {err:#}");
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
