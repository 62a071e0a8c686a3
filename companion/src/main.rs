//! `promplay`: the native companion. See `promplay --help`.

fn main() {
    eprintln!("promplay: no verbs yet");
    std::process::exit(2);
}
