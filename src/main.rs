//! The `rollcall` binary: everything happens in the library's `cli` module.

/// mimalloc, built without transparent huge pages (`no_thp`, so that the console's resident memory stays
/// small): glibc's allocator took about a tenth of `verify`'s CPU on a million entries, where threads
/// allocate rows that other threads free. SQLite allocates through the system's `malloc` as before.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rollcall::cli::main()
}
