fn main() {
    std::process::exit(refreshsim::app::main());
}
