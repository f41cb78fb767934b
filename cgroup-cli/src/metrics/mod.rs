//! Metrics for Prometheus (helper A's module; only the shared format here until merge).

pub mod format;
