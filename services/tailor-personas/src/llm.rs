//! The optional LLM rater of the product brief: a persona's rating of an item asked of a chat
//! model (Mistral behind a local vLLM or Ollama, or any OpenAI-compatible `/chat/completions`
//! endpoint). Its answer must be exactly a JSON object `{"rating": N}` (an optional `"reason"`
//! string is allowed); anything else is malformed and asked again. Transport errors, 429 and 5xx
//! answers are retried with exponential backoff; ratings outside 1-10 are clipped and counted. A
//! cache (an append-only JSON Lines file) means an item is rated once per persona, across runs.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tailor_core::{Attributes, RATING_MAX, RATING_MIN};

use crate::{Persona, PersonaError};

#[derive(Clone, Debug, PartialEq)]
pub struct LlmConfig {
    /// The API base, e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub endpoint: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Per request, connection to last byte.
    pub timeout: Duration,
    /// Tries per rating, the first included.
    pub attempts: u32,
    /// The wait before the first retry; it doubles each time.
    pub backoff: Duration,
}

/// What rating took: counts for the generation report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LlmCounts {
    pub requests: u64,
    pub cached: u64,
    pub retries: u64,
    pub malformed: u64,
    pub clipped: u64,
}

#[derive(Serialize, Deserialize)]
struct CachedRating {
    persona: String,
    item: String,
    rating: f32,
}

pub struct LlmRater {
    config: LlmConfig,
    agent: ureq::Agent,
    cache: HashMap<(String, String), f32>,
    cache_file: File,
    pub counts: LlmCounts,
}

/// The strict reading of the model's answer: a JSON object with a numeric `rating` and at most
/// a string `reason` besides.
pub fn parse_answer(content: &str) -> Result<f32, String> {
    let value: Value = serde_json::from_str(content.trim()).map_err(|e| format!("not JSON ({e}): {content:?}"))?;
    let object = value.as_object().ok_or_else(|| format!("not a JSON object: {content:?}"))?;
    if let Some(key) = object.keys().find(|k| *k != "rating" && *k != "reason") {
        return Err(format!("unexpected key {key:?} in {content:?}"));
    }
    if object.get("reason").is_some_and(|r| !r.is_string()) {
        return Err(format!("\"reason\" is not a string in {content:?}"));
    }
    let rating =
        object.get("rating").and_then(Value::as_f64).ok_or_else(|| format!("no numeric \"rating\" in {content:?}"))?;
    if !rating.is_finite() {
        return Err(format!("rating {rating} is not a number"));
    }
    Ok(rating as f32)
}

fn describe(attributes: &Attributes) -> String {
    let mut parts = Vec::new();
    if let Some(gender) = attributes.gender {
        parts.push(format!("for {gender}"));
    }
    for (name, value) in [
        ("type", &attributes.article_type),
        ("colour", &attributes.colour),
        ("usage", &attributes.usage),
        ("season", &attributes.season),
        ("brand", &attributes.brand),
    ] {
        if let Some(value) = value {
            parts.push(format!("{name} {value}"));
        }
    }
    if let Some(price) = attributes.price {
        parts.push(format!("price {:.2}", price.value()));
    }
    parts.join(", ")
}

impl LlmRater {
    pub fn new(config: LlmConfig, cache_path: &Path) -> Result<LlmRater, PersonaError> {
        let unusable = |e: std::io::Error| PersonaError::Llm(format!("rating cache {}: {e}", cache_path.display()));
        let mut cache = HashMap::new();
        if cache_path.exists() {
            for line in BufReader::new(File::open(cache_path).map_err(unusable)?).lines() {
                let line = line.map_err(unusable)?;
                // A line cut short by a crash is skipped: that rating is asked again.
                if let Ok(entry) = serde_json::from_str::<CachedRating>(&line) {
                    cache.insert((entry.persona, entry.item), entry.rating);
                }
            }
        }
        if let Some(parent) = cache_path.parent() {
            std::fs::create_dir_all(parent).map_err(unusable)?;
        }
        let cache_file = OpenOptions::new().create(true).append(true).open(cache_path).map_err(unusable)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(LlmRater { config, agent, cache, cache_file, counts: LlmCounts::default() })
    }

    /// The persona's rating of the item, 1 to 10: from the cache, or asked of the model.
    pub fn rate(
        &mut self,
        persona: &Persona,
        item_id: &str,
        title: &str,
        attributes: &Attributes,
    ) -> Result<f32, PersonaError> {
        let key = (persona.name.clone(), item_id.to_owned());
        if let Some(&rating) = self.cache.get(&key) {
            self.counts.cached += 1;
            return Ok(rating);
        }
        let raw = self.ask(persona, title, attributes)?;
        let rating = raw.round().clamp(RATING_MIN, RATING_MAX);
        self.counts.clipped += u64::from(rating != raw.round());
        let line = serde_json::to_string(&CachedRating { persona: key.0.clone(), item: key.1.clone(), rating })
            .expect("ratings serialise");
        writeln!(self.cache_file, "{line}").map_err(|e| PersonaError::Llm(format!("writing the rating cache: {e}")))?;
        self.cache.insert(key, rating);
        Ok(rating)
    }

    fn ask(&mut self, persona: &Persona, title: &str, attributes: &Attributes) -> Result<f32, PersonaError> {
        let url = format!("{}/chat/completions", self.config.endpoint.trim_end_matches('/'));
        let body = json!({
            "model": self.config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": "You rate fashion products for a shopper. Answer with only a JSON object {\"rating\": N}, N an integer from 1 (would never buy) to 10 (would buy at once)."},
                {"role": "user", "content": format!("Shopper: {}\nProduct: {title} ({})", persona.description, describe(attributes))},
            ],
        });
        let mut wait = self.config.backoff;
        let mut last_error = String::new();
        for attempt in 0..self.config.attempts {
            if attempt > 0 {
                self.counts.retries += 1;
                thread::sleep(wait);
                wait *= 2;
            }
            self.counts.requests += 1;
            let mut request = self.agent.post(&url);
            if let Some(key) = &self.config.api_key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            let mut response = match request.send_json(&body) {
                Ok(response) => response,
                Err(error) => {
                    last_error = format!("{url}: {error}");
                    continue;
                }
            };
            let status = response.status().as_u16();
            if status == 429 || status >= 500 {
                last_error = format!("{url} answered {status}");
                continue;
            }
            if status != 200 {
                return Err(PersonaError::Llm(format!("{url} answered {status}; not retried")));
            }
            let answer: Value = match response.body_mut().read_json() {
                Ok(answer) => answer,
                Err(error) => {
                    last_error = format!("{url}: unreadable answer: {error}");
                    continue;
                }
            };
            let content = answer.pointer("/choices/0/message/content").and_then(Value::as_str).unwrap_or("");
            match parse_answer(content) {
                Ok(rating) => return Ok(rating),
                Err(reason) => {
                    self.counts.malformed += 1;
                    last_error = format!("malformed answer: {reason}");
                }
            }
        }
        Err(PersonaError::Llm(format!("no rating after {} attempts; last: {last_error}", self.config.attempts)))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_answer;

    #[test]
    fn only_a_rating_object_is_accepted() {
        assert_eq!(parse_answer(r#"{"rating": 7}"#), Ok(7.0));
        assert_eq!(parse_answer(" {\"rating\": 8.5, \"reason\": \"fits\"}\n"), Ok(8.5));
        assert_eq!(parse_answer(r#"{"rating": 14}"#), Ok(14.0), "range is the caller's business: it clips");
        for bad in [
            "7",
            "I'd say 7",
            r#"{"score": 7}"#,
            r#"{"rating": "7"}"#,
            r#"{"rating": 7, "x": 1}"#,
            "```json\n{\"rating\": 7}\n```",
            r#"{"rating": 7, "reason": 3}"#,
        ] {
            assert!(parse_answer(bad).is_err(), "{bad}");
        }
    }
}
