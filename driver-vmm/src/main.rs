//! OpenNebula driver front-end. Not implemented yet: it refuses every action.

fn main() {
    eprintln!(
        "ERROR MESSAGE --8<------\nthis driver is not implemented yet\nERROR MESSAGE ------>8--"
    );
    std::process::exit(1);
}
