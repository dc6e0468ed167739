//! The `transit` binary (everything is in the `transit_cli` library).

/// mimalloc instead of glibc malloc: exports allocate and free per-file
/// compression state on several threads, which fragments glibc's arenas
/// until resident memory grows with the size of the server.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    transit_cli::main()
}
