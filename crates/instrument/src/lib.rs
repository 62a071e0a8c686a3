//! A client library with the semantics of Python's prometheus_client.
