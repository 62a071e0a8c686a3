//! The HTTP side of `promplay node`: `/metrics` (format negotiated by `Accept`), an index page
//! at `/`, graceful shutdown on SIGINT and SIGTERM.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::Node;

const INDEX: &str = "<html>
<head><title>promplay node</title></head>
<body>
<h1>promplay node</h1>
<p>This machine's metrics under node_exporter's names.</p>
<p><a href=\"/metrics\">Metrics</a></p>
</body>
</html>
";

async fn index() -> Html<&'static str> {
    Html(INDEX)
}

async fn metrics(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    node.handler.in_flight.fetch_add(1, Ordering::Relaxed);
    // The collectors read files and call statfs: keep that off the async workers.
    let worker = node.clone();
    let result = tokio::task::spawn_blocking(move || worker.scrape(accept.as_deref())).await;
    node.handler.in_flight.fetch_sub(1, Ordering::Relaxed);
    // Counted once answered, as promhttp counts: a scrape sees the scrapes before it.
    match result {
        Ok((content_type, body)) => {
            node.handler.answered[0].fetch_add(1, Ordering::Relaxed);
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(e) => {
            node.handler.answered[1].fetch_add(1, Ordering::Relaxed);
            node.handler
                .gathering_errors
                .fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("error gathering metrics: {e}\n"),
            )
                .into_response()
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Serves until SIGINT or SIGTERM; exit code 0 then.
pub fn serve(node: Node, listen_address: &str) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen_address)
            .await
            .map_err(|e| anyhow::anyhow!("listen on {listen_address}: {e}"))?;
        let addr = listener.local_addr()?;
        eprintln!("promplay node: listening on http://{addr}/metrics");
        let app = Router::new()
            .route("/", get(index))
            .route("/metrics", get(metrics))
            .with_state(Arc::new(node));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        eprintln!("promplay node: shut down");
        Ok(0)
    })
}
