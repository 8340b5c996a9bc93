//! The HTTP API: bad requests get a JSON error and a 4xx, never a crash; the token guards every
//! route but `/healthz`; a non-loopback address without a token is refused.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use ttlive_service::{ConfigLoader, Override, Service, ServiceError};
use ttlive_source_mock::UserState;

async fn json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status} {ct}: {text}");
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_and_the_service_carries_on() {
    let fake = fake_with_rooms(
        &[("someone".to_owned(), UserState::Offline)],
        feed(1, 10, false),
    )
    .await;
    let mut cfg = config(&fake.base_url(), &["someone".to_owned()]);
    cfg.detect.lookup_interval = Duration::from_secs(60);
    cfg.detect.lookup_max_interval = Duration::from_secs(60);
    let service = Service::builder(cfg).start().await.unwrap();
    let api = format!("http://{}", service.local_addr());
    let http = http();
    let post = |body: &'static [u8]| {
        http.post(format!("{api}/api/rooms"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let cases: Vec<(reqwest::Response, u16, &str)> = vec![
        (post(b"not json").await.unwrap(), 400, "bad_json"),
        (post(b"{}").await.unwrap(), 400, "bad_json"),
        (post(b"{\"user\": 5}").await.unwrap(), 400, "bad_json"),
        (
            post(b"{\"user\": \"a\", \"x\": 1}").await.unwrap(),
            400,
            "bad_json",
        ),
        (post(b"\xff\xfe").await.unwrap(), 400, "bad_json"),
        (
            post(b"{\"user\": \"not a handle!\"}").await.unwrap(),
            400,
            "invalid_user",
        ),
        (
            post(b"{\"user\": \"7400000000000000001\"}").await.unwrap(),
            400,
            "invalid_user",
        ),
        (
            http.post(format!("{api}/api/rooms"))
                .body(vec![b'x'; 64 * 1024])
                .send()
                .await
                .unwrap(),
            413,
            "body_too_large",
        ),
        (
            http.delete(format!("{api}/api/rooms/nobody"))
                .send()
                .await
                .unwrap(),
            404,
            "not_followed",
        ),
        (
            http.delete(format!("{api}/api/rooms/bad%20name"))
                .send()
                .await
                .unwrap(),
            400,
            "invalid_user",
        ),
        (
            http.get(format!("{api}/api/rooms/nobody"))
                .send()
                .await
                .unwrap(),
            404,
            "not_followed",
        ),
        (
            http.get(format!("{api}/nope")).send().await.unwrap(),
            404,
            "not_found",
        ),
        (
            http.put(format!("{api}/api/rooms")).send().await.unwrap(),
            405,
            "method_not_allowed",
        ),
    ];
    for (resp, status, code) in cases {
        let (got, body) = json(resp).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Still serving, nothing changed.
    let (status, body) = json(http.get(format!("{api}/api/rooms")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["rooms"].as_array().unwrap().len(), 1);
    assert_eq!(body["rooms"][0]["user"], "someone");
    assert_eq!(body["rooms"][0]["state"], "waiting");
    let (status, body) = json(http.get(format!("{api}/healthz")).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    assert!(service.shutdown().await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_guards_every_route_but_healthz() {
    let fake = fake_with_rooms(
        &[("someone".to_owned(), UserState::Offline)],
        feed(1, 10, false),
    )
    .await;
    let mut cfg = config(&fake.base_url(), &[]);
    cfg.token = Some(ttlive_signer::Secret::new("t0ken-for-tests"));
    let service = Service::builder(cfg).start().await.unwrap();
    let api = format!("http://{}", service.local_addr());
    let http = http();
    for (path, auth) in [
        ("/api/rooms", None),
        ("/metrics", None),
        ("/api/rooms", Some("Bearer wrong")),
        ("/api/rooms", Some("t0ken-for-tests")),
        ("/api/rooms/someone", Some("Basic t0ken-for-tests")),
    ] {
        let mut req = http.get(format!("{api}{path}"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert!(r.headers().contains_key("www-authenticate"));
        let (status, body) = json(r).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{path} {auth:?}"
        );
    }
    let bearer = "Bearer t0ken-for-tests";
    let r = http
        .post(format!("{api}/api/rooms"))
        .header("authorization", bearer)
        .json(&serde_json::json!({"user": "someone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .get(format!("{api}/metrics"))
        .header("authorization", bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("ttlive_rooms{state=\"waiting\"} 1")
    );
    let r = http.get(format!("{api}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(service.shutdown().await.is_clean());
}

#[tokio::test]
async fn a_non_loopback_address_without_a_token_is_refused() {
    let err = ConfigLoader::new()
        .overrides([Override::flag("listen", "--listen", "0.0.0.0:0")])
        .load()
        .unwrap_err();
    assert_eq!(err.key(), Some("token"));
    // Built in code, the same check runs at start.
    let mut cfg = ttlive_service::ServiceConfig::default();
    cfg.listen = "0.0.0.0:0".parse().unwrap();
    let err = Service::builder(cfg).start().await.unwrap_err();
    assert!(matches!(err, ServiceError::Config(_)), "{err}");
    assert!(err.to_string().contains("token"), "{err}");
}
