//! Loading: the command line, then the TOML file's settings for whatever
//! the command line and the environment left unset.

use std::ffi::OsString;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser};

use super::Cli;
#[cfg(test)]
use super::{Command, DatabaseUrl, Settings, redact_url};

impl Cli {
    /// Parses the command line, filling unset settings from the TOML file.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(std::env::args_os())
    }

    pub fn load_from<I, T>(args: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let first = match Self::try_parse_from(&args) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        };
        let Some(path) = first.settings.config.clone() else {
            first.settings.validate()?;
            return Ok(first);
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let file_args = toml_to_args(&text, |env| std::env::var_os(env).is_some())
            .with_context(|| format!("in config file {}", path.display()))?;
        let recovery = recovery_actions(&text)
            .with_context(|| format!("in config file {}", path.display()))?;
        // File values go first so that flags given on the command line win.
        let mut merged = Vec::with_capacity(args.len() + file_args.len());
        merged.push(args.first().cloned().unwrap_or_else(|| "leitstand".into()));
        merged.extend(file_args.into_iter().map(OsString::from));
        merged.extend(args.into_iter().skip(1));
        let matches = match Self::command().try_get_matches_from(merged) {
            Ok(m) => m,
            Err(e) => e.exit(),
        };
        let mut cli =
            Self::from_arg_matches(&matches).map_err(|e| anyhow::anyhow!(e.to_string()))?;
        cli.settings.recovery = recovery;
        cli.settings.validate()?;
        Ok(cli)
    }
}

/// The `[[recovery]]` tables of a config file.
fn recovery_actions(text: &str) -> anyhow::Result<Vec<crate::jobs::recovery::RecoveryConfig>> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        recovery: Vec<crate::jobs::recovery::RecoveryConfig>,
    }
    let file: File = toml::from_str(text).context("[[recovery]]")?;
    Ok(file.recovery)
}

/// Turns a TOML table into `--flag=value` arguments for the global settings,
/// skipping those whose environment variable is set (environment beats file).
fn toml_to_args(text: &str, env_is_set: impl Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let table: toml::Table = text.parse().context("not valid TOML")?;
    let command = Cli::command();
    let mut out = Vec::new();
    for (key, value) in table {
        if key == "recovery" {
            continue; // read by `recovery_actions`
        }
        let flag = key.replace('_', "-");
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(flag.as_str()) && a.is_global_set())
        else {
            bail!("unknown setting `{key}`");
        };
        if flag == "config" {
            bail!("`config` cannot be set inside a config file");
        }
        if let Some(env) = arg.get_env()
            && env_is_set(&env.to_string_lossy())
        {
            continue;
        }
        // A switch (`trust_proxy = true`) is the bare flag; false is its absence.
        if !arg.get_action().takes_values() {
            match value {
                toml::Value::Boolean(true) => out.push(format!("--{flag}")),
                toml::Value::Boolean(false) => {}
                other => bail!("setting `{key}` is a switch: true or false, not {other}"),
            }
            continue;
        }
        let rendered = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => bail!("setting `{key}` has an unsupported value {other}"),
        };
        out.push(format!("--{flag}={rendered}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use secrecy::SecretString;

    use super::*;

    #[test]
    fn password_in_database_url_is_hidden() {
        assert_eq!(
            redact_url("postgres://leitstand:s3cret@db:5432/leitstand"),
            "postgres://leitstand:***@db:5432/leitstand"
        );
        assert_eq!(
            redact_url("postgres://db/leitstand"),
            "postgres://db/leitstand"
        );
    }

    #[test]
    fn defaults_need_no_environment() {
        let cli = Cli::try_parse_from(["leitstand", "serve"]).expect("parses");
        assert_eq!(cli.settings.http.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.settings.database.data_dir, PathBuf::from("./data"));
        assert!(matches!(cli.command, Command::Serve));
    }

    #[test]
    fn file_settings_become_flags_unless_the_environment_has_them() {
        let args = toml_to_args(
            "listen = \"0.0.0.0:8080\"\ndata_dir = \"/var/lib/leitstand\"\nreadiness_weights = [0.2, 0.5, 0.3]\n",
            |env| env == "LEITSTAND_DATA_DIR",
        )
        .expect("valid");
        assert!(args.contains(&"--listen=0.0.0.0:8080".to_owned()));
        assert!(args.contains(&"--readiness-weights=0.2,0.5,0.3".to_owned()));
        assert!(!args.iter().any(|a| a.starts_with("--data-dir")));
    }

    #[test]
    fn switches_in_the_file_are_flags_when_true_and_absent_when_false() {
        let on = toml_to_args("trust_proxy = true", |_| false).expect("valid");
        assert_eq!(on, vec!["--trust-proxy".to_owned()]);
        assert!(
            toml_to_args("trust_proxy = false", |_| false)
                .expect("valid")
                .is_empty()
        );
        assert!(toml_to_args("trust_proxy = \"yes\"", |_| false).is_err());
    }

    #[test]
    fn unknown_file_setting_is_an_error() {
        let err = toml_to_args("lisen = \"x\"", |_| false).expect_err("typo must fail");
        assert!(err.to_string().contains("lisen"));
    }

    #[test]
    fn the_example_config_parses_and_shows_exactly_the_defaults() {
        let text = include_str!("../../../docs/leitstand.example.toml");
        let mut argv = vec!["leitstand".to_owned()];
        argv.extend(toml_to_args(text, |_| false).expect("valid settings"));
        argv.push("serve".into());
        let matches = Cli::command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from(argv)
            .expect("parses");
        let settings = Cli::from_arg_matches(&matches).expect("parses").settings;
        settings.validate().expect("valid");
        assert_eq!(
            format!("{settings:?}"),
            format!("{:?}", Settings::defaults()),
            "docs/leitstand.example.toml documents the built-in defaults"
        );
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut s = Settings::defaults();
        s.database.database_url = Some(DatabaseUrl(SecretString::from(
            "postgres://app:hunter2@db/leitstand".to_owned(),
        )));
        let shown = format!("{s:?}");
        assert!(shown.contains("postgres://app:***@db/leitstand"), "{shown}");
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn readiness_weights_must_add_up_to_one() {
        let cli = Cli::try_parse_from(["leitstand", "--readiness-weights", "0.5,0.5,0.5", "serve"])
            .expect("parses");
        assert!(cli.settings.validate().is_err());
    }
}

/// Property tests (`make fuzz` runs them longer): any config file text is
/// read into settings or refused with a message, never a panic; the
/// settings it yields pass the same checks as the command line's.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        let known: Vec<String> = Cli::command()
            .get_arguments()
            .filter(|a| a.is_global_set())
            .filter_map(|a| a.get_long().map(|l| l.replace('-', "_")))
            .collect();
        prop_oneof![
            8 => prop::sample::select(known),
            1 => Just("no_such_setting".to_owned()),
            1 => Just("config".to_owned()),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("\"127.0.0.1:0\"".to_owned()),
            Just("\"10.0.0.0/8\"".to_owned()),
            Just("[\"10.0.0.0/8\", \"::1\"]".to_owned()),
            Just("[]".to_owned()),
            Just("\"de\"".to_owned()),
            Just("\"postgres://db/leitstand\"".to_owned()),
            Just("{ a = 1 }".to_owned()),
            Just("1979-05-27T07:32:00Z".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:?}")),
            "\"[ -~]{0,20}\"".prop_map(|s| s.replace('\\', "")),
        ]
    }

    fn recovery() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just(
                "\n[[recovery]]\nservice = \"shop\"\nurl = \"http://127.0.0.1:9/restart\"\n"
                    .to_owned()
            ),
            Just("\n[[recovery]]\nservice = 3\n".to_owned()),
            Just("\n[recovery]\n".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
            )),
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_config_text_is_read_or_refused_never_a_panic(
            lines in prop::collection::vec((key(), value()), 0..8),
            tail in recovery(),
            garbage in prop::option::of("[ -~\n]{0,40}"),
        ) {
            let mut text: String = lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            text.push_str(&tail);
            if let Some(g) = garbage {
                text.push_str(&g);
            }
            let _ = recovery_actions(&text);
            if let Ok(args) = toml_to_args(&text, |_| false) {
                let mut all = vec!["leitstand".to_owned()];
                all.extend(args);
                all.push("serve".to_owned());
                if let Ok(cli) = Cli::try_parse_from(&all) {
                    let _ = cli.settings.validate();
                }
            }
        }
    }
}
