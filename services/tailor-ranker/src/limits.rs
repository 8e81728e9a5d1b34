//! What keeps one client, or a burst of many, from taking the service down: per-client rate
//! limits on creating sessions and posting events (429 with `Retry-After`), and on every route a
//! bound on requests in flight and on how long one may take (503 either way, so a client backs
//! off and tries again).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::Semaphore;

use tailor_config::RequestLimits;

use crate::ApiError;

/// The bound on requests in flight and their time, shared by every route.
#[derive(Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Admission {
    pub fn new(limits: &RequestLimits) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            timeout: Duration::from_millis(limits.timeout_ms),
        }
    }
}

pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Result<Response, ApiError> {
    let work = async {
        // The semaphore is never closed, so acquiring only waits.
        let _slot = admission.slots.acquire().await.ok();
        next.run(request).await
    };
    tokio::time::timeout(admission.timeout, work).await.map_err(|_| ApiError::TimedOut { after: admission.timeout })
}

/// A per-client rate limit, keyed by the peer's address.
#[derive(Clone)]
pub struct ClientRate {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl ClientRate {
    /// `None` when `per_second` is zero: no limit.
    pub fn new(per_second: u32, burst: u32) -> ClientRate {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
        });
        ClientRate { limiter }
    }

    /// Forgets clients whose allowance is full again, so the table stays small.
    pub fn forget_idle_clients(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
        }
    }
}

pub async fn limit_rate(State(rate): State<ClientRate>, request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(limiter) = &rate.limiter {
        // Requests that did not come through a socket (tests calling the router) share one key.
        let client = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        if let Err(not_until) = limiter.check_key(&client) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(ApiError::RateLimited { retry_after_s: wait.as_secs() + 1 });
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A route that takes 100 ms, behind the admission guard.
    fn slow_router(limits: &RequestLimits) -> Router {
        let slow = get(|| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "done"
        });
        Router::new().route("/slow", slow).layer(from_fn_with_state(Admission::new(limits), admit))
    }

    async fn status(router: Router) -> StatusCode {
        router.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_request_past_its_time_is_a_503() {
        let limits = RequestLimits { timeout_ms: 30, ..RequestLimits::default() };
        assert_eq!(status(slow_router(&limits)).await, StatusCode::SERVICE_UNAVAILABLE);
        let limits = RequestLimits { timeout_ms: 1_000, ..RequestLimits::default() };
        assert_eq!(status(slow_router(&limits)).await, StatusCode::OK);
    }

    #[tokio::test]
    async fn past_the_requests_in_flight_a_request_waits_for_a_slot_within_its_time() {
        let limits = RequestLimits { timeout_ms: 150, max_in_flight: 1, ..RequestLimits::default() };
        let router = slow_router(&limits);
        let (first, second) = tokio::join!(status(router.clone()), status(router.clone()));
        // One ran; the other waited 100 ms for the slot and then could not finish in 150 ms.
        let mut statuses = [first, second];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE]);
        let limits = RequestLimits { timeout_ms: 150, max_in_flight: 2, ..RequestLimits::default() };
        let router = slow_router(&limits);
        assert_eq!(tokio::join!(status(router.clone()), status(router)), (StatusCode::OK, StatusCode::OK));
    }
}
