fn main() {
    std::process::exit(refreshsim::cli::main());
}
