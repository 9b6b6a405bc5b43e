//! The `perfaudit` binary: parse arguments, run the library, map the result to an exit code.

use clap::Parser;

// Analysis allocates many small strings and vectors per module; mimalloc is markedly faster
// than the system allocator for that pattern, as ruff found too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match perfaudit::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                perfaudit::cli::EXIT_ERROR
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(perfaudit::cli::run(cli));
}
