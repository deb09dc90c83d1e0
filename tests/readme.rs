//! The README's usage example is the crate-level doctest: this keeps them
//! identical, so the README shows code that is compiled and run.

/// The first ```` ```rust ```` block of the README.
fn readme_example(readme: &str) -> Vec<String> {
    readme
        .lines()
        .skip_while(|line| *line != "```rust")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(str::to_owned)
        .collect()
}

/// The first code block of `src/lib.rs`'s crate docs, without the hidden
/// (`# `) lines.
fn crate_doctest(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .skip_while(|line| *line != "```")
        .skip(1)
        .take_while(|line| *line != "```")
        .filter(|line| !line.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_example_is_the_crate_doctest() {
    let readme = include_str!("../README.md");
    let lib = include_str!("../src/lib.rs");
    let example = readme_example(readme);
    assert!(example.len() > 5, "README has a usage example");
    assert_eq!(example, crate_doctest(lib));
}
