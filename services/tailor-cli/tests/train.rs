//! The model pipeline as a user runs it on a small shop: personas generate ratings into the log,
//! `tailor train` publishes version 1, `tailor eval` prints its table, and with `tailor serve`
//! running, a second `tailor train` (through the service, which owns the embedded log) publishes
//! version 2, which the service ranks with without a restart; `tailor models rollback` goes back.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;

const ADMIN_TOKEN: &str = "the admin token of this test";

fn tailor(data_dir: &Path) -> Command {
    let mut cmd = common::tailor(data_dir);
    cmd.env("TAILOR_SERVE__ADMIN_TOKEN", ADMIN_TOKEN);
    cmd
}

#[test]
fn train_evaluate_publish_and_swap_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write_shirts_and_watches(dir.path());
    let data = dir.path().join("data");
    common::run(tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv));
    common::run(tailor(&data).arg("embed"));
    let personas = dir.path().join("personas.toml");
    std::fs::write(&personas, common::SHIRTS_AND_WATCHES_PERSONAS).unwrap();

    let generated = common::run(
        tailor(&data)
            .args(["personas", "generate", "--users", "300", "--ratings-per-user", "8", "--file"])
            .arg(&personas),
    );
    assert!(generated.contains("office       150 users"), "{generated}");
    let trained = common::run(tailor(&data).arg("train"));
    assert!(trained.contains("published model version 1 (parent None)"), "{trained}");
    assert!(trained.contains("epoch  1: MSE"), "{trained}");
    assert!(trained.contains("retrieval"), "{trained}");
    assert!(trained.contains("served blend for free text alone, then 1-5 liked items"), "{trained}");
    assert!(common::run(tailor(&data).args(["models", "list"])).starts_with("* v1 parent None"));
    let evaluated = common::run(tailor(&data).arg("eval"));
    for line in ["new_users               1 two_tower", "new_users               1 popularity", "new_items_text_only"] {
        assert!(evaluated.contains(line), "{line} missing from\n{evaluated}");
    }
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("models/eval.json")).unwrap()).unwrap();
    assert_eq!(table["version"], 1);

    let (mut server, base) = common::start_server(tailor(&data));
    let ready = |base: &str| -> serde_json::Value {
        ureq::get(&format!("{base}/readyz")).call().unwrap().body_mut().read_json().unwrap()
    };
    assert_eq!(ready(&base)["model_version"], 1);

    let addr = base.trim_start_matches("http://");
    let retrained = common::run(tailor(&data).arg("train").env("TAILOR_SERVE__ADDR", addr));
    assert!(retrained.contains("the service published model version 2"), "{retrained}");
    let mut serving = serde_json::Value::Null;
    for _ in 0..50 {
        serving = ready(&base)["model_version"].clone();
        if serving == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(serving, 2, "the service swapped in version 2 without a restart");
    common::run(tailor(&data).args(["models", "rollback"]).env("TAILOR_SERVE__ADDR", addr));
    assert_eq!(ready(&base)["model_version"], 1);

    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    assert!(server.wait().unwrap().success());
}
