//! Tests of the top view.
