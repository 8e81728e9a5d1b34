//! A Confluent Schema Registry client over its REST API, for the Confluent wire format.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tailor_events::SchemaRegistry;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

pub struct HttpSchemaRegistry {
    base_url: String,
    agent: ureq::Agent,
}

#[derive(Serialize)]
struct SchemaBody<'a> {
    schema: &'a str,
}

#[derive(Deserialize)]
struct Registered {
    id: u32,
}

#[derive(Deserialize)]
struct Fetched {
    schema: String,
}

impl HttpSchemaRegistry {
    /// `base_url` is the registry's root, e.g. `http://registry:8081`.
    pub fn new(base_url: &str) -> HttpSchemaRegistry {
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
        HttpSchemaRegistry { base_url: base_url.trim_end_matches('/').to_owned(), agent }
    }
}

impl SchemaRegistry for HttpSchemaRegistry {
    fn register(&self, subject: &str, schema: &str) -> Result<u32, String> {
        let url = format!("{}/subjects/{subject}/versions", self.base_url);
        let registered: Registered = self
            .agent
            .post(&url)
            .header("Content-Type", CONTENT_TYPE)
            .send_json(SchemaBody { schema })
            .and_then(|mut response| response.body_mut().read_json())
            .map_err(|e| format!("registering {subject} at {url}: {e}"))?;
        Ok(registered.id)
    }

    fn schema(&self, id: u32) -> Result<Option<String>, String> {
        let url = format!("{}/schemas/ids/{id}", self.base_url);
        match self.agent.get(&url).header("Accept", CONTENT_TYPE).call() {
            Ok(mut response) => {
                let fetched: Fetched = response.body_mut().read_json().map_err(|e| format!("reading {url}: {e}"))?;
                Ok(Some(fetched.schema))
            }
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(e) => Err(format!("fetching {url}: {e}")),
        }
    }
}
