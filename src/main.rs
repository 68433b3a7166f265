//! The `rollcall` binary: everything happens in the library's `cli` module.

fn main() -> std::process::ExitCode {
    rollcall::cli::main()
}
