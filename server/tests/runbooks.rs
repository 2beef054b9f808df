//! Every `leitstand …` command in the runbooks exists as written: its
//! subcommand answers `--help`, and every flag it uses is one the
//! subcommand takes.

use std::process::Command;

/// The `leitstand` command lines in the shell blocks of a Markdown file
/// (environment assignments before it are dropped).
fn commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_shell = false;
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_shell = !in_shell && trimmed.trim_start_matches('`').starts_with("sh");
            continue;
        }
        if !in_shell {
            continue;
        }
        let words: Vec<&str> = trimmed
            .split_whitespace()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'))
            .collect();
        if words.first() == Some(&"leitstand") {
            out.push(words.join(" "));
        }
    }
    out
}

/// `leitstand <subcommands…>` and the flags a command line uses.
fn split(line: &str) -> (Vec<String>, Vec<String>) {
    let mut path = Vec::new();
    let mut flags = Vec::new();
    let mut in_path = true;
    for w in line.split_whitespace().skip(1) {
        if let Some(flag) = w.strip_prefix("--") {
            in_path = false;
            flags.push(format!("--{}", flag.split('=').next().unwrap_or(flag)));
        } else if w.starts_with('-')
            || w.starts_with('<')
            || w.starts_with('"')
            || w.starts_with('>')
        {
            in_path = false;
        } else if in_path && w.chars().all(|c| c.is_ascii_lowercase()) {
            path.push(w.to_owned());
        } else {
            in_path = false;
        }
    }
    (path, flags)
}

#[test]
fn every_runbook_command_exists_with_its_flags() {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs");
    let mut checked = 0;
    for file in ["runbooks.md", "operations.md", "upgrading.md"] {
        let path = format!("{docs}/{file}");
        let Ok(text) = std::fs::read_to_string(&path) else {
            assert_ne!(file, "runbooks.md", "{path} is missing");
            continue;
        };
        for line in commands(&text) {
            let (mut path, flags) = split(&line);
            // Positional arguments written as plain words (a backup's name,
            // a slug) are not subcommands: keep the longest prefix that is.
            let help = loop {
                let out = Command::new(env!("CARGO_BIN_EXE_leitstand"))
                    .args(&path)
                    .arg("--help")
                    .output()
                    .expect("leitstand runs");
                if out.status.success() || path.is_empty() {
                    break out;
                }
                path.pop();
            };
            assert!(help.status.success(), "{file}: `{line}`: --help fails");
            let text = String::from_utf8_lossy(&help.stdout);
            assert!(
                !path.is_empty()
                    || line == "leitstand"
                    || (!flags.is_empty() && flags.iter().all(|f| f == "--version")),
                "{file}: `{line}` names no subcommand"
            );
            for flag in flags {
                assert!(
                    text.contains(&format!("{flag} "))
                        || text.contains(&format!("{flag}\n"))
                        || text.contains(&format!("{flag}[")),
                    "{file}: `{line}`: `leitstand {}` has no flag {flag}",
                    path.join(" ")
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} commands found in the runbooks"
    );
}

#[test]
fn the_extraction_finds_commands_behind_environment_variables() {
    let md = "```sh\nDATABASE_URL=x leitstand backup restore --file f --yes\nleitstand status\n```\n```\nleitstand not-shell\n```\n";
    assert_eq!(
        commands(md),
        vec![
            "leitstand backup restore --file f --yes",
            "leitstand status"
        ]
    );
    assert_eq!(
        split("leitstand backup restore --file f --yes"),
        (
            vec!["backup".to_owned(), "restore".to_owned()],
            vec!["--file".to_owned(), "--yes".to_owned()]
        )
    );
}
