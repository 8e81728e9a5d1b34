//! `[serve]`: the ranking service's settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How long a session token is good for unless configured otherwise: 30 days.
pub const DEFAULT_SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Where `tailor serve` listens.
    pub addr: SocketAddr,
    /// Signs session tokens; several replicas must share it [default: generated once, kept in
    /// DATA_DIR/session.key].
    pub session_secret: Option<String>,
    /// How long a session token is good for; then the app starts a new session.
    pub session_ttl_ms: i64,
    /// Bearer token for the admin routes (retrain, models, activate, rollback) and for reads of
    /// recommendations by user id; without one they answer 401 to everyone.
    pub admin_token: Option<String>,
    /// The built web app (`npm run build` in frontend/), served at `/` when it is there.
    pub app_dir: PathBuf,
    /// Exact top-K up to a catalogue size, an approximate (HNSW) index above it.
    pub search: tailor_engine::SearchConfig,
    /// The photo preference, duplicate and reason thresholds of ranking.
    pub ranking: tailor_engine::RankingConfig,
    /// Business rules every request gets; a request's own come on top.
    pub rules: tailor_engine::Rules,
    /// How far from the service's clock a posted event's timestamp may be.
    pub timestamps: TimestampWindow,
    /// Per-client rate limits, requests in flight and their time.
    pub limits: RequestLimits,
    /// The embedder process that answers free-text queries (`tailor text-encoder`), e.g.
    /// `http://127.0.0.1:8090`, for `tailor-serve`; `tailor serve` runs the encoder in process.
    pub text_encoder_url: Option<String>,
    /// How long a free-text query waits for that process before answering 503.
    pub text_encoder_timeout_ms: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            session_secret: None,
            session_ttl_ms: DEFAULT_SESSION_TTL_MS,
            admin_token: None,
            app_dir: PathBuf::from("frontend/dist"),
            search: tailor_engine::SearchConfig::default(),
            ranking: tailor_engine::RankingConfig::default(),
            rules: tailor_engine::Rules::default(),
            timestamps: TimestampWindow::default(),
            limits: RequestLimits::default(),
            text_encoder_url: None,
            text_encoder_timeout_ms: 2_000,
        }
    }
}

/// How far from the service's clock a posted event's own timestamp may be. Events older than
/// the topic's retention, or from a clock far ahead, would only skew the decay of the visitor's
/// other events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimestampWindow {
    pub max_past_ms: u64,
    pub max_future_ms: u64,
}

impl Default for TimestampWindow {
    fn default() -> Self {
        TimestampWindow { max_past_ms: 30 * 24 * 3600 * 1000, max_future_ms: 5 * 60 * 1000 }
    }
}

impl TimestampWindow {
    /// The earliest and latest timestamps accepted at `now_ms`.
    pub fn bounds(&self, now_ms: i64) -> (i64, i64) {
        let offset = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
        (now_ms.saturating_sub(offset(self.max_past_ms)), now_ms.saturating_add(offset(self.max_future_ms)))
    }
}

/// `serve.limits`: zero turns a rate limit off.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLimits {
    /// Longest a request may take, waiting for a slot included.
    pub timeout_ms: u64,
    /// Requests handled at once; more wait for a slot until their timeout.
    pub max_in_flight: usize,
    /// `POST /v1/sessions` per client address, sustained, and the burst allowed above it.
    pub sessions_per_second: u32,
    pub sessions_burst: u32,
    /// `POST /v1/events` requests per client address, sustained, and the burst above it.
    pub event_posts_per_second: u32,
    pub event_posts_burst: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            timeout_ms: 10_000,
            max_in_flight: 512,
            sessions_per_second: 20,
            sessions_burst: 200,
            event_posts_per_second: 100,
            event_posts_burst: 300,
        }
    }
}
