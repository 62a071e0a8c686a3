//! The HTTP side of `promplay node`: `/metrics` (format negotiated by `Accept`), an index page
//! at `/`, graceful shutdown on SIGINT and SIGTERM.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
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

/// Decodes `%XX` escapes and `+` of a query component (a bad escape stays as it is).
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The values of `collect[]` in a query string.
pub fn collect_params(query: Option<&str>) -> Vec<String> {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k) == "collect[]").then(|| percent_decode(v))
        })
        .collect()
}

async fn metrics(State(node): State<Arc<Node>>, uri: Uri, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let only = collect_params(uri.query());
    if let Err(e) = super::check_collectors(&only) {
        return (
            StatusCode::BAD_REQUEST,
            format!("Couldn't create filtered metrics handler: couldn't create collector: {e}"),
        )
            .into_response();
    }
    node.handler.in_flight.fetch_add(1, Ordering::Relaxed);
    // The collectors read files and call statfs: keep that off the async workers.
    let worker = node.clone();
    let result = tokio::task::spawn_blocking(move || worker.scrape(accept.as_deref(), &only)).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_collect_params() {
        assert_eq!(
            collect_params(Some("collect%5B%5D=cpu&x=1&collect[]=mem%69nfo")),
            vec!["cpu".to_string(), "meminfo".to_string()]
        );
        assert!(collect_params(None).is_empty());
        assert_eq!(
            collect_params(Some("collect[]=%zz%4")),
            vec!["%zz%4".to_string()]
        );
        assert_eq!(collect_params(Some("collect[]")), vec![String::new()]);
        assert_eq!(
            collect_params(Some("collect[]=%C3%A9%é")),
            vec!["é%é".to_string()]
        );
    }
}
