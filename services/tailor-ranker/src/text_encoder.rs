//! Free text over HTTP, both ends: the route an embedder process serves its encoder on (`tailor
//! text-encoder`, which links libtorch), and the client a serving replica (which does not) asks
//! through the `TextQuery` seam, with a timeout, so an encoder that is away costs a request
//! a clear 503 and never a hung worker.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tailor_core::{Embedding, TextQuery, TextQueryError};

/// The embedder's route: `POST` a [`TextRequest`], get a [`TextVector`].
pub const TEXT_VECTOR_ROUTE: &str = "/v1/text-vectors";

#[derive(Debug, Serialize, Deserialize)]
pub struct TextRequest {
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TextVector {
    pub vector: Vec<f32>,
}

/// The embedder process's router over its encoder: 200 with the vector, 400 when the text cannot
/// be embedded, 503 when the encoder fails; `/healthz` for probes.
pub fn text_encoder_router(encoder: Arc<dyn TextQuery>) -> Router {
    Router::new()
        .route(TEXT_VECTOR_ROUTE, post(embed_text))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(encoder)
}

/// Serves `encoder` on `listener` until `shutdown` completes.
pub async fn serve_text_encoder(
    encoder: Arc<dyn TextQuery>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, text_encoder_router(encoder)).with_graceful_shutdown(shutdown).await
}

async fn embed_text(
    State(encoder): State<Arc<dyn TextQuery>>,
    body: Result<Json<TextRequest>, JsonRejection>,
) -> Response {
    let refused = |status: StatusCode, code: &str, message: String| {
        (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
    };
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return refused(StatusCode::BAD_REQUEST, "invalid_body", rejection.body_text()),
    };
    // libtorch runs for a few milliseconds: off the async workers.
    match tokio::task::spawn_blocking(move || encoder.embed(&request.text)).await {
        Ok(Ok(vector)) => Json(TextVector { vector: vector.into() }).into_response(),
        Ok(Err(TextQueryError::Refused(reason))) => refused(StatusCode::BAD_REQUEST, "invalid_text", reason),
        Ok(Err(TextQueryError::Unavailable(reason))) => {
            refused(StatusCode::SERVICE_UNAVAILABLE, "text_encoder_unavailable", reason)
        }
        Err(panicked) => refused(StatusCode::SERVICE_UNAVAILABLE, "text_encoder_unavailable", panicked.to_string()),
    }
}

/// A serving replica's way to the embedder process at `base_url`.
pub struct RemoteTextEncoder {
    url: String,
    agent: ureq::Agent,
    timeout: Duration,
}

impl RemoteTextEncoder {
    pub fn new(base_url: &str, timeout: Duration) -> RemoteTextEncoder {
        let agent =
            ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().new_agent();
        RemoteTextEncoder { url: format!("{}{TEXT_VECTOR_ROUTE}", base_url.trim_end_matches('/')), agent, timeout }
    }
}

impl TextQuery for RemoteTextEncoder {
    fn embed(&self, text: &str) -> Result<Embedding, TextQueryError> {
        let away = |reason: String| TextQueryError::Unavailable(format!("{}: {reason}", self.url));
        let mut response =
            self.agent.post(&self.url).send_json(TextRequest { text: text.to_owned() }).map_err(|e| match e {
                ureq::Error::Timeout(_) => away(format!("no answer within {:?}", self.timeout)),
                other => away(other.to_string()),
            })?;
        let status = response.status();
        if status == StatusCode::BAD_REQUEST {
            let body: serde_json::Value = response.body_mut().read_json().map_err(|e| away(e.to_string()))?;
            let reason = body["error"]["message"].as_str().unwrap_or("refused by the text encoder");
            return Err(TextQueryError::Refused(reason.to_owned()));
        }
        if !status.is_success() {
            return Err(away(format!("answered {status}")));
        }
        let answer: TextVector = response.body_mut().read_json().map_err(|e| away(e.to_string()))?;
        let dim = answer.vector.len();
        Embedding::new(answer.vector, dim).map_err(|e| away(format!("sent an unusable vector: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Embeds a text as its length, refuses "bad", fails on "down": enough to see each answer travel.
    struct Letters;

    impl TextQuery for Letters {
        fn embed(&self, text: &str) -> Result<Embedding, TextQueryError> {
            match text {
                "bad" => Err(TextQueryError::Refused("bad is not a description".to_owned())),
                "down" => Err(TextQueryError::Unavailable("out of memory".to_owned())),
                _ => Ok(Embedding::new(vec![text.len() as f32, 1.0], 2).expect("finite")),
            }
        }
    }

    async fn encoder_at() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, text_encoder_router(Arc::new(Letters))).into_future());
        format!("http://{addr}/")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn vectors_refusals_and_failures_cross_the_wire_as_they_were() {
        let url = encoder_at().await;
        let answers = tokio::task::spawn_blocking(move || {
            let remote = RemoteTextEncoder::new(&url, Duration::from_secs(2));
            ["abc", "bad", "down"].map(|text| remote.embed(text))
        })
        .await
        .unwrap();
        let [vector, refused, failed] = answers;
        let expected = Embedding::new(vec![3.0, 1.0], 2).unwrap();
        assert!(vector.unwrap().cosine(&expected).unwrap() > 0.999_999);
        assert!(matches!(refused, Err(TextQueryError::Refused(r)) if r.contains("not a description")));
        assert!(matches!(failed, Err(TextQueryError::Unavailable(r)) if r.contains("503")));
    }

    #[test]
    fn an_encoder_that_is_away_is_unavailable_within_the_timeout() {
        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let remote = RemoteTextEncoder::new(&format!("http://127.0.0.1:{port}"), Duration::from_millis(500));
        let started = std::time::Instant::now();
        assert!(matches!(remote.embed("a red dress"), Err(TextQueryError::Unavailable(_))));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn an_encoder_that_hangs_is_unavailable_after_the_timeout() {
        // Accepts connections and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let remote = RemoteTextEncoder::new(&url, Duration::from_millis(300));
        let answer = remote.embed("a red dress");
        assert!(
            matches!(answer, Err(TextQueryError::Unavailable(ref r)) if r.contains("no answer within")),
            "{answer:?}"
        );
        drop(listener);
    }
}
