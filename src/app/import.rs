//! `refreshsim import --group GROUPS.json --instances INSTANCES.json... --launch-configuration
//! LC.json [--hooks HOOKS.json] [--history DESCRIBE.json...] [--cvm-instances CVM.json]
//! [--group-id asg-...] --out SCENARIO.toml`: a scenario from a real group's responses (issue
//! 12, OQ-84); on bad input exit 2 and nothing written.

use super::{EXIT_OK, fail};
use crate::account::read_file;
use crate::fit::Input;
use crate::import::{ImportInputs, import};
use crate::output::write_atomically;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// DescribeAutoScalingGroups response (API 3.0 envelope, tccli output or the Python SDK's
    /// to_json_string()).
    #[arg(long)]
    group: PathBuf,
    /// DescribeAutoScalingInstances responses: every page (several files, or one JSONL).
    #[arg(long, required = true, num_args = 1..)]
    instances: Vec<PathBuf>,
    /// DescribeLaunchConfigurations response holding the group's launch configuration.
    #[arg(long = "launch-configuration")]
    launch_configuration: PathBuf,
    /// DescribeLifecycleHooks response (the group's hooks are taken from it).
    #[arg(long)]
    hooks: Option<PathBuf>,
    /// Past DescribeRefreshActivities responses: fitted into [timing] and [faults].
    #[arg(long, num_args = 1..)]
    history: Vec<PathBuf>,
    /// CVM DescribeInstances response: each instance's current ImageId.
    #[arg(long = "cvm-instances")]
    cvm_instances: Option<PathBuf>,
    /// The group to import when the groups file lists several.
    #[arg(long = "group-id")]
    group_id: Option<String>,
    /// The scenario file to write.
    #[arg(long)]
    out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

fn input(path: &Path) -> Result<Input, String> {
    Ok(Input {
        file: path.display().to_string(),
        text: read_file(path).map_err(|e| e.to_string())?,
    })
}

fn inputs(args: &ImportArgs) -> Result<ImportInputs, String> {
    Ok(ImportInputs {
        groups: Some(input(&args.group)?),
        instances: args
            .instances
            .iter()
            .map(|p| input(p))
            .collect::<Result<_, _>>()?,
        launch_configuration: Some(input(&args.launch_configuration)?),
        hooks: args.hooks.as_deref().map(input).transpose()?,
        history: args
            .history
            .iter()
            .map(|p| input(p))
            .collect::<Result<_, _>>()?,
        cvm_instances: args.cvm_instances.as_deref().map(input).transpose()?,
        group_id: args.group_id.clone(),
    })
}

pub fn import_main(args: ImportArgs) -> i32 {
    let imported = match inputs(&args).and_then(|i| import(&i).map_err(|e| e.to_string())) {
        Ok(imported) => imported,
        Err(e) => return fail(&e),
    };
    let (dir, name) = match (args.out.parent(), args.out.file_name()) {
        (Some(dir), Some(name)) => (dir, name.to_string_lossy().into_owned()),
        _ => {
            return fail(&format!(
                "--out {}: expected a file path",
                args.out.display()
            ));
        }
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Err(e) = write_atomically(dir, &vec![(name, imported.toml.into_bytes())]) {
        return fail(&format!("cannot write {}: {e}", args.out.display()));
    }
    if !args.quiet {
        println!(
            "imported group {}: {} instances, {} lifecycle hooks, {} unmapped input fields listed; wrote {}",
            imported.group_id,
            imported.instances,
            imported.hooks,
            imported.unmapped.len(),
            args.out.display()
        );
    }
    EXIT_OK
}
