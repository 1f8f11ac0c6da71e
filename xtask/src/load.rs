//! `cargo xtask load [--students N] [--seconds S] [--seed N]`: a class at
//! once. Runs the ignored test `class_at_once` of `relay/tests/class_load.rs`
//! in release mode, which starts a `wirelab` process and has N simulated
//! students (300 by default) do the course's flows through `/ws` for S
//! seconds (60), then prints count, failures, p50, p99 and max per step, the
//! sessions open at once and the relay's memory. It fails if any flow
//! failed. The options reach the test as `WIRELAB_LOAD_*` variables.

use anyhow::{Context, Result, bail};

/// The options, each with its environment variable.
const OPTIONS: [(&str, &str); 3] = [
    ("--students", "WIRELAB_LOAD_STUDENTS"),
    ("--seconds", "WIRELAB_LOAD_SECONDS"),
    ("--seed", "WIRELAB_LOAD_SEED"),
];

/// `cargo xtask load`.
pub fn load(args: &[String]) -> Result<()> {
    let mut cmd = super::cargo();
    cmd.args([
        "test",
        "--release",
        "--package",
        "wirelab-relay",
        "--test",
        "class_load",
        "class_at_once",
        "--",
        "--ignored",
        "--nocapture",
    ]);
    for (variable, value) in environment(args)? {
        cmd.env(variable, value);
    }
    super::run_checked(&mut cmd, "a class at once: simulated students through /ws")
}

/// The `WIRELAB_LOAD_*` variables for `args`: students a whole number from
/// 1, seconds a positive number, the seed any whole number.
fn environment(args: &[String]) -> Result<Vec<(&'static str, String)>> {
    let mut vars = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (option, inline) = match arg.split_once('=') {
            Some((option, value)) => (option, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let Some((_, variable)) = OPTIONS.iter().find(|(name, _)| *name == option) else {
            bail!("unknown option {arg:?} (load takes --students N, --seconds S, --seed N)");
        };
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .cloned()
                .with_context(|| format!("{option} needs a value"))?,
        };
        let valid = match option {
            "--seconds" => value.parse::<f64>().is_ok_and(|v| v.is_finite() && v > 0.0),
            "--students" => value.parse::<u32>().is_ok_and(|v| v > 0),
            _ => value.parse::<u64>().is_ok(),
        };
        if !valid {
            bail!("{option} {value:?} is not a number of {}", &option[2..]);
        }
        vars.push((*variable, value));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options_become_variables() {
        let vars = environment(&strings(&["--students", "20", "--seconds=5"])).unwrap();
        assert_eq!(
            vars,
            [
                ("WIRELAB_LOAD_STUDENTS", "20".to_string()),
                ("WIRELAB_LOAD_SECONDS", "5".to_string())
            ]
        );
        assert!(environment(&[]).unwrap().is_empty());
        assert!(environment(&strings(&["--students"])).is_err());
        assert!(environment(&strings(&["--students", "many"])).is_err());
        assert!(environment(&strings(&["--seconds", "0"])).is_err());
        assert!(environment(&strings(&["--students", "2.5"])).is_err());
        assert!(environment(&strings(&["--seconds", "2.5", "--seed", "0"])).is_ok());
        assert!(environment(&strings(&["--teachers", "2"])).is_err());
    }
}
