//! The sharding examples in `examples/` (a Kubernetes Indexed Job, a GitHub Actions matrix):
//! they parse as YAML (PyYAML, from `tests/requirements.txt`), their shard counts agree, and
//! their shell commands, run by `sh`/`bash` against a stub `keysweep` that records its
//! arguments, call keysweep exactly as intended for every shard.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::{Value, json};

use crate::util::TestDir;

/// Every document of a YAML file, as JSON.
fn yaml(rel: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)",
        ])
        .arg(&path)
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{rel} does not load as YAML (PyYAML comes from tests/requirements.txt, installed by \
         scripts/test.sh):\n{stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("JSON from python3")
}

/// A directory with a stub `keysweep` that appends its arguments (one a line, then `--`) to
/// `calls.txt` and exits with `$STUB_EXIT_<subcommand>` (default 0).
struct Stub {
    dir: TestDir,
}

impl Stub {
    fn new() -> Stub {
        let dir = TestDir::new();
        let script = dir.create(
            "bin/keysweep",
            "#!/bin/sh\n{ printf '%s\\n' \"$@\"; echo --; } >> \"$STUB_LOG\"\n\
             eval \"code=\\${STUB_EXIT_$1:-0}\"\nexit \"$code\"\n",
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::create_dir(dir.join("work")).expect("work dir");
        Stub { dir }
    }

    /// The working directory the scripts run in.
    fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// Runs `program args...` in the work directory with the stub first on `PATH`; returns
    /// the exit code and every call the stub saw.
    fn run(&self, program: &[&str], env: &[(&str, &str)]) -> (i32, Vec<Vec<String>>) {
        let log = self.dir.join("calls.txt");
        let _ = std::fs::remove_file(&log);
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let status = Command::new(program[0])
            .args(&program[1..])
            .current_dir(self.work())
            .env("PATH", path)
            .env("STUB_LOG", &log)
            .envs(env.iter().copied())
            .status()
            .unwrap_or_else(|e| panic!("run {}: {e}", program[0]));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut calls = Vec::new();
        let mut call = Vec::new();
        for line in text.lines() {
            if line == "--" {
                calls.push(std::mem::take(&mut call));
            } else {
                call.push(line.to_string());
            }
        }
        (status.code().unwrap_or(-1), calls)
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind} in {docs:#?}"))
}

fn env_value<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// The container's `command` and `args` as one command line.
fn command_line(container: &Value) -> Vec<String> {
    ["command", "args"]
        .iter()
        .flat_map(|key| container[key].as_array().expect(key).iter())
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn kubernetes_indexed_job_runs_each_shard_once() {
    let docs = yaml("examples/k8s/sweep-indexed-job.yaml");
    let job = kind(&docs, "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!((&job["spec"]["completions"], &job["spec"]["parallelism"]), (&json!(4), &json!(4)));
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(env_value(container, "SHARDS")["value"], "4", "SHARDS equals completions");
    assert_eq!(
        env_value(container, "KEYSWEEP_TOKEN")["valueFrom"],
        json!({"secretKeyRef": {"name": "keysweep-token", "key": "token"}})
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "10Gi"},
               "limits": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "20Gi"}})
    );
    let mounts: Vec<(&str, &str)> = container["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| (m["name"].as_str().expect("name"), m["mountPath"].as_str().expect("path")))
        .collect();
    assert_eq!(mounts, [("repos", "/config"), ("out", "/out"), ("scratch", "/tmp")]);
    assert_eq!(
        pod["volumes"],
        json!([{"name": "repos", "configMap": {"name": "keysweep-repos"}},
               {"name": "out", "persistentVolumeClaim": {"claimName": "keysweep-out"}},
               {"name": "scratch", "emptyDir": {"sizeLimit": "20Gi"}}])
    );
    let repos = kind(&docs, "ConfigMap")["data"]["repos.txt"].as_str().expect("repos.txt");
    assert_eq!(repos.lines().count(), 4);
    assert_eq!(
        kind(&docs, "PersistentVolumeClaim")["spec"]["accessModes"],
        json!(["ReadWriteMany"])
    );

    let command = command_line(container);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let stub = Stub::new();
    for index in 0..4 {
        let index_text = index.to_string();
        let env = [("JOB_COMPLETION_INDEX", index_text.as_str()), ("SHARDS", "4")];
        let (code, calls) = stub.run(&command, &env);
        let shard = format!("{}/4", index + 1);
        let store = format!("/out/shard-{index}");
        assert_eq!(
            calls,
            [strings(&[
                "sweep",
                "--repos",
                "/config/repos.txt",
                "--shard",
                &shard,
                "--datastore",
                &store
            ])]
        );
        assert_eq!(code, 0);
    }
    let env = [("JOB_COMPLETION_INDEX", "0"), ("SHARDS", "4")];
    let code_when = |exit: &str| stub.run(&command, &[env[0], env[1], ("STUB_EXIT_sweep", exit)]).0;
    assert_eq!(code_when("1"), 0, "findings: the index succeeds");
    assert_ne!(code_when("2"), 0, "a failed input fails the pod");
}

#[test]
fn kubernetes_merge_job_merges_every_shard_then_reports() {
    let docs = yaml("examples/k8s/merge-job.yaml");
    let container = &kind(&docs, "Job")["spec"]["template"]["spec"]["containers"][0];
    let stub = Stub::new();
    let out = stub.work();
    for index in 0..4 {
        std::fs::create_dir(out.join(format!("shard-{index}"))).expect("shard dir");
    }
    // The job reads /out; the test points it at a temporary directory.
    let out = out.display().to_string();
    let command: Vec<String> = command_line(container)
        .iter()
        .map(|part| part.replace("/out/", &format!("{out}/")))
        .collect();
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let (code, calls) = stub.run(&command, &[("STUB_EXIT_report", "1")]);
    let at = |rel: &str| format!("{out}/{rel}");
    let mut merge = strings(&["merge", "--datastore", &at("merged")]);
    merge.extend((0..4).map(|i| at(&format!("shard-{i}"))));
    let report = strings(&[
        "report",
        "--datastore",
        &at("merged"),
        "--format",
        "sarif",
        "--output",
        &at("sweep.sarif"),
    ]);
    assert_eq!(calls, [merge.clone(), report]);
    assert_eq!(code, 0, "a report with findings is the job's success");
    let (code, calls) = stub.run(&command, &[("STUB_EXIT_merge", "2")]);
    assert_eq!((code != 0, calls), (true, vec![merge]), "a failed merge stops before the report");
}

/// The `run` script of the step called `name` in `job`.
fn step<'a>(workflow: &'a Value, job: &str, name: &str) -> &'a Value {
    workflow["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name:?} in job {job}"))
}

fn uses<'a>(workflow: &'a Value, job: &str, action: &str) -> Vec<&'a Value> {
    workflow["jobs"][job]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["uses"] == action)
        .map(|s| &s["with"])
        .collect()
}

/// Runs a step's script the way a GitHub runner does (`bash --noprofile --norc -eo pipefail`).
fn run_step(stub: &Stub, script: &str, env: &[(&str, &str)]) -> (i32, Vec<Vec<String>>) {
    assert!(!script.contains("${{"), "an expression left in {script}");
    stub.run(&["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env)
}

#[test]
fn github_matrix_sweeps_every_shard_then_merges_and_reports() {
    let workflow = &yaml("examples/github/sweep-matrix.yml")[0];
    assert_eq!(workflow["env"]["SHARDS"], 4);
    assert_eq!(workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"], json!([1, 2, 3, 4]));
    assert_eq!(workflow["jobs"]["shard"]["needs"], "build");
    assert_eq!(workflow["jobs"]["merge"]["needs"], "shard");
    assert_eq!(
        uses(workflow, "shard", "actions/upload-artifact@v4")[0],
        &json!({"name": "shard-${{ matrix.shard }}", "path": "shard-${{ matrix.shard }}",
                "retention-days": 7, "if-no-files-found": "error"})
    );
    assert_eq!(
        uses(workflow, "merge", "actions/download-artifact@v4")[1],
        &json!({"pattern": "shard-*"})
    );
    assert_eq!(
        uses(workflow, "merge", "actions/upload-artifact@v4")[0],
        &json!({"name": "sweep-sarif", "path": "sweep.sarif", "if-no-files-found": "error"})
    );

    let stub = Stub::new();
    let sweep = step(workflow, "shard", "Sweep shard ${{ matrix.shard }} of ${{ env.SHARDS }}");
    assert_eq!(sweep["env"]["SWEEP_TOKEN"], "${{ secrets.SWEEP_TOKEN }}");
    let sweep = sweep["run"].as_str().expect("run");
    for shard in 1..=4 {
        let script = sweep.replace("${{ matrix.shard }}", &shard.to_string());
        let (code, calls) = run_step(&stub, &script, &[("SHARDS", "4")]);
        let (range, store) = (format!("{shard}/4"), format!("shard-{shard}"));
        let expected =
            strings(&["sweep", "--repos", "repos.txt", "--shard", &range, "--datastore", &store]);
        assert_eq!((code, calls), (0, vec![expected]));
    }
    let script = sweep.replace("${{ matrix.shard }}", "1");
    let code_when =
        |exit| run_step(&stub, &script, &[("SHARDS", "4"), ("STUB_EXIT_sweep", exit)]).0;
    assert_eq!(code_when("1"), 0, "findings: the shard succeeds");
    assert_ne!(code_when("2"), 0, "a failed input fails the shard");

    for shard in 1..=4 {
        std::fs::create_dir(stub.work().join(format!("shard-{shard}"))).expect("shard dir");
    }
    let merge = step(workflow, "merge", "Merge the shard stores")["run"].as_str().expect("run");
    let (code, calls) = run_step(&stub, merge, &[("STUB_EXIT_merge", "1")]);
    let mut expected = strings(&["merge", "--datastore", "merged"]);
    expected.extend((1..=4).map(|i| format!("shard-{i}")));
    assert_eq!((code, calls), (0, vec![expected]));
    let report = step(workflow, "merge", "Report")["run"].as_str().expect("run");
    let (code, calls) = run_step(&stub, report, &[("STUB_EXIT_report", "1")]);
    let expected = strings(&[
        "report",
        "--datastore",
        "merged",
        "--format",
        "sarif",
        "--output",
        "sweep.sarif",
    ]);
    assert_eq!((code, calls), (0, vec![expected]));
    assert_ne!(run_step(&stub, report, &[("STUB_EXIT_report", "2")]).0, 0);
}
