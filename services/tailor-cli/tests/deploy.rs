//! The deployment files agree with the code: they parse; every `TAILOR_*` variable they set is a
//! configuration key `tailor` accepts (it refuses unknown keys); ports match the addresses they
//! configure; images are pinned; topics are the configured ones; the dashboard queries metrics
//! the code exports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde::Deserialize;
use serde_yaml::Value;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(file)
}

fn yaml_documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy(file)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = Value::deserialize(document).unwrap_or_else(|e| panic!("{file}: {e}"));
            value.apply_merge().unwrap_or_else(|e| panic!("{file}: {e}"));
            value
        })
        .collect()
}

/// The configuration `tailor` derives from these variables (as `tailor config` prints it);
/// fails the test, naming the variable set, if it refuses them.
fn effective_config(variables: &BTreeMap<String, String>) -> toml::Table {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("tailor")
        .unwrap()
        .env_clear()
        .envs(variables)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("config")
        .output()
        .unwrap();
    assert!(output.status.success(), "{variables:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().parse().unwrap()
}

fn port_of(address: &str) -> u16 {
    address.rsplit(':').next().unwrap().parse().unwrap()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `${NAME:?message}` as compose would substitute it, with a stand-in value.
fn substituted(value: &str) -> String {
    if value.starts_with("${") { "a stand-in value of sufficient length".to_owned() } else { value.to_owned() }
}

/// A compose service's environment, with stand-ins for the required variables.
fn environment(service: &Value) -> BTreeMap<String, String> {
    service["environment"].as_mapping().unwrap().iter().map(|(k, v)| (text(k), substituted(&text(v)))).collect()
}

#[test]
fn compose_file_agrees_with_the_code() {
    let compose = yaml_documents("compose.yaml").remove(0);
    let services = compose["services"].as_mapping().unwrap();
    for name in [
        "kafka-1",
        "kafka-2",
        "kafka-3",
        "topics",
        "ranker-1",
        "ranker-2",
        "text-encoder",
        "embedder",
        "consumer",
        "trainer",
        "prometheus",
        "grafana",
    ] {
        assert!(services.contains_key(name), "service {name} is missing");
    }
    let prometheus = std::fs::read_to_string(deploy("prometheus/prometheus.yml")).unwrap();
    let mut tailor_services = 0;
    for (name, service) in services {
        let (name, image) = (text(name), text(&service["image"]));
        assert!(image.contains(':') && !image.ends_with(":latest"), "{name}: image {image} is not pinned");
        if !(image.starts_with("tailor:") || image.starts_with("tailor-replica:")) || name == "prepare" {
            continue;
        }
        tailor_services += 1;
        if name.starts_with("ranker") {
            // The replica image's entry point is `tailor-serve`, which takes no subcommand.
            assert!(image.starts_with("tailor-replica:"), "{name} runs {image}, which links libtorch");
            assert_eq!(service["command"].as_sequence().map(Vec::len), Some(0), "{name}");
        }
        let config = effective_config(&environment(service));
        assert!(config["events"]["log"].as_str().is_some_and(|url| url.starts_with("kafka://")), "{name}");
        if let Some(url) = config["serve"].get("text_encoder_url") {
            let encoder = effective_config(&environment(&services[&Value::from("text-encoder")]));
            let addr = encoder["embed"]["text_encoder_addr"].as_str().unwrap();
            assert_eq!(url.as_str(), Some(format!("http://text-encoder:{}", port_of(addr)).as_str()), "{name}");
        }
        if let Some(ports) = service["ports"].as_sequence() {
            let container_port: u16 = text(&ports[0]).rsplit(':').next().unwrap().parse().unwrap();
            assert_eq!(port_of(config["serve"]["addr"].as_str().unwrap()), container_port, "{name}");
            assert!(prometheus.contains(&format!("{name}:{container_port}")), "prometheus does not scrape {name}");
        }
        if let Some(metrics) = config["stream"].get("metrics_addr") {
            assert!(prometheus.contains(&format!("{name}:{}", port_of(metrics.as_str().unwrap()))), "{name}");
        }
        if name == "trainer" {
            assert!(service["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"][0] == "gpu");
        }
        let topics = text(&services[&Value::from("topics")]["command"][0]);
        for topic in ["interactions", "dead_letters", "models", "items", "item_vectors"] {
            let configured = &config["events"][topic];
            let spec = format!("{}:{}", configured["name"].as_str().unwrap(), configured["partitions"]);
            assert!(topics.contains(&spec), "the topics service does not create {spec}");
        }
    }
    assert_eq!(
        tailor_services, 6,
        "two ranking replicas, the text encoder, the embedder, the consumer and the trainer"
    );
}

#[test]
fn kubernetes_manifests_agree_with_the_code() {
    let documents = yaml_documents("k8s/tailor.yaml");
    let kinds: Vec<String> = documents.iter().map(|d| text(&d["kind"])).collect();
    for kind in ["ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "CronJob"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind}");
    }
    let config_map: BTreeMap<String, String> = documents.iter().find(|d| d["kind"] == "ConfigMap").unwrap()["data"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (text(k), text(v)))
        .collect();
    let compose = yaml_documents("compose.yaml").remove(0);
    let replica_image = text(&compose["services"]["ranker-1"]["image"]);
    let tailor_image = text(&compose["services"]["consumer"]["image"]);
    for document in &documents {
        let spec = match text(&document["kind"]).as_str() {
            "Deployment" => &document["spec"]["template"]["spec"],
            "CronJob" => &document["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        let container = &spec["containers"][0];
        let image = text(&container["image"]);
        let role = container["args"][0].as_str().map(str::to_owned);
        match role.as_deref() {
            None => assert_eq!(image, replica_image, "the ranking replicas run tailor-serve"),
            Some(_) => assert_eq!(image, tailor_image),
        }
        let mut variables = config_map.clone();
        for variable in container["env"].as_sequence().into_iter().flatten() {
            let value = variable.get("value").map_or("a stand-in value of sufficient length".to_owned(), text);
            variables.insert(text(&variable["name"]), value);
        }
        let config = effective_config(&variables);
        if let Some(port) = container["ports"][0]["containerPort"].as_u64() {
            let name = text(&container["ports"][0]["name"]);
            let configured = match name.as_str() {
                "http" if role.as_deref() == Some("text-encoder") => {
                    config["embed"]["text_encoder_addr"].as_str().unwrap()
                }
                "http" => config["serve"]["addr"].as_str().unwrap(),
                "metrics" => config["stream"]["metrics_addr"].as_str().unwrap(),
                other => panic!("unexpected port {other}"),
            };
            assert_eq!(u64::from(port_of(configured)), port, "{}", text(&document["metadata"]["name"]));
        }
    }
    let service = documents.iter().find(|d| d["kind"] == "Service").unwrap();
    assert_eq!(service["spec"]["ports"][0]["targetPort"].as_u64(), Some(8080));
}

#[test]
fn the_dashboard_queries_metrics_the_code_exports() {
    let dashboard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(deploy("grafana/dashboards/tailor.json")).unwrap()).unwrap();
    let sources: String =
        ["../tailor-ranker/src/metrics.rs", "../tailor-engine/src/metrics.rs", "../tailor-stream/src/metrics.rs"]
            .iter()
            .map(|p| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap())
            .collect();
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expression = target["expr"].as_str().unwrap();
            for word in expression.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if let Some(metric) = word.strip_prefix("tailor_") {
                    let name = format!("tailor_{}", metric.trim_end_matches("_bucket"));
                    assert!(
                        sources.contains(&format!("\"{name}\"")),
                        "the dashboard queries {name}, which no code exports"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 8, "{checked} metrics checked");
}
