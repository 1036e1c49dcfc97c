//! `vim-codegen`: imports vim25 WSDL sets and managed-object facts into the committed model.
//!
//! ```text
//! vim-codegen import --wsdl 4.1=DIR --wsdl 5.5=DIR --wsdl 8.0=DIR [--vmodl FILE] --out DIR
//! vim-codegen check  --wsdl 4.1=DIR --wsdl 5.5=DIR --wsdl 8.0=DIR [--vmodl FILE] --out DIR
//! vim-codegen stats  --out DIR
//! ```
//!
//! `--wsdl` sets are given oldest first; the last one is the release the model describes.
//! `import` writes the model into `--out`; `check` exits with status 1 and a summary of the
//! differences if the model in `--out` is not what a fresh import gives. `stats` reads the
//! model in `--out` and prints its counts and how long reading took.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use vim_codegen::{diff, import, text};

const USAGE: &str =
    "usage: vim-codegen (import|check) --wsdl RELEASE=DIR [--wsdl RELEASE=DIR ...] \
                     [--vmodl managed-objects.json] --out DIR\n\
                     \x20      vim-codegen stats --out DIR\n\
                     WSDL sets oldest first; the last is the release the model describes.";

struct Args {
    command: String,
    wsdl: Vec<(String, PathBuf)>,
    vmodl: Option<PathBuf>,
    out: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("missing command")?;
    if !["import", "check", "stats"].contains(&command.as_str()) {
        return Err(format!("unknown command `{command}`"));
    }
    let mut wsdl = Vec::new();
    let mut vmodl = None;
    let mut out = None;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        match flag.as_str() {
            "--wsdl" => {
                let (release, dir) = value
                    .split_once('=')
                    .ok_or_else(|| format!("`--wsdl {value}`: expected RELEASE=DIR"))?;
                wsdl.push((release.to_string(), PathBuf::from(dir)));
            }
            "--vmodl" => vmodl = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if wsdl.is_empty() && command != "stats" {
        return Err("at least one --wsdl RELEASE=DIR is needed".into());
    }
    Ok(Args {
        command,
        wsdl,
        vmodl,
        out: out.ok_or("--out DIR is needed")?,
    })
}

fn counts(model: &vim_codegen::model::Model) -> String {
    format!(
        "{} types, {} arrays, {} enums, {} operations, {} managed objects",
        model.types.len(),
        model.arrays.len(),
        model.enums.len(),
        model.operations.len(),
        model.managed_objects.len()
    )
}

fn stats(out: &std::path::Path) -> Result<bool, String> {
    let started = Instant::now();
    let model = text::read(out).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    println!(
        "release {} (compared {}): {}; read in {elapsed:.2?}",
        model.release,
        model.compared.join(" "),
        counts(&model)
    );
    Ok(true)
}

fn run(args: Args) -> Result<bool, String> {
    if args.command == "stats" {
        return stats(&args.out);
    }
    let started = Instant::now();
    let dirs: Vec<(&str, &std::path::Path)> = args
        .wsdl
        .iter()
        .map(|(r, d)| (r.as_str(), d.as_path()))
        .collect();
    let model =
        import::import_release_set(&dirs, args.vmodl.as_deref()).map_err(|e| e.to_string())?;
    eprintln!("imported {} in {:.2?}", counts(&model), started.elapsed());
    if args.command == "import" {
        text::write(&model, &args.out)
            .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
        eprintln!("wrote {}", args.out.display());
        return Ok(true);
    }
    let mut differences = Vec::new();
    match text::read(&args.out) {
        Ok(committed) => differences.extend(diff::summarize(&committed, &model)),
        Err(e) => differences.push(format!("cannot read the committed model: {e}")),
    }
    for (name, fresh) in text::render(&model) {
        let path = args.out.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(fresh.as_str()) {
            differences.push(format!("{} differs from a fresh import", path.display()));
        }
    }
    if differences.is_empty() {
        eprintln!("{} is up to date", args.out.display());
        return Ok(true);
    }
    eprintln!("{} is stale:", args.out.display());
    for d in &differences {
        eprintln!("  {d}");
    }
    eprintln!("regenerate it with `vim-codegen import` and the same arguments");
    Ok(false)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vim-codegen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("vim-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
