//! `cgtree metrics`: the usage of named cgroups for Prometheus (families and labels:
//! [`cgroup_core::metrics`], docs/metrics.md), encoded by well-kept crates: the
//! Prometheus text format 0.0.4 by `prometheus` (tikv rust-prometheus, its
//! `TextEncoder` over `proto::MetricFamily` values built per scrape) and OpenMetrics
//! 1.0.0 by `prometheus-client` (a `Collector` of `ConstCounter`, `ConstGauge` and info
//! series). Both escape label values as their format requires.
//!
//! An [`Exporter`] reads the tree through `cgtree top`'s [`TreeSource`]: the cgroups are
//! walked at each collection, and the tree is read again with its processes and
//! identified only when the set of cgroups changed.

pub mod format;
pub mod textfile;

use crate::top::{Frame, Sampler, TreeSource};
use cgroup_core::metrics::{self as model, MetricType, Metrics, Options, Selection};
use cgroup_core::sample::{self, SampleOptions};
use cgroup_core::Tree;
use format::Format;
use std::sync::Arc;
use std::time::Instant;

/// What an [`Exporter`] exports (from [`crate::cli::ExportArgs`] and the start path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The cgroup to start at, relative to the cgroup2 mount.
    pub start: String,
    /// Selection and cap.
    pub options: Options,
}

impl ExportOptions {
    /// From the shared flags: `cgroups` is `named` or `all`.
    ///
    /// # Errors
    /// Another `cgroups` value, or a cap of 0.
    pub fn from_args(start: &str, args: &crate::cli::ExportArgs) -> anyhow::Result<Self> {
        let selection = match args.cgroups.as_str() {
            "named" => Selection::Named,
            "all" => Selection::All,
            other => anyhow::bail!("--cgroups: {other:?} is not named or all"),
        };
        anyhow::ensure!(args.max_cgroups > 0, "--max-cgroups must be at least 1");
        Ok(ExportOptions {
            start: start.to_string(),
            options: Options {
                selection,
                max_cgroups: args.max_cgroups,
            },
        })
    }
}

/// What one collection read: the families (shared by the requests that encode them)
/// and what could not be read.
#[derive(Debug, Clone)]
pub struct Scrape {
    metrics: Arc<Metrics>,
    errors: Vec<String>,
}

impl Scrape {
    /// What could not be read (one message per file, paths escaped), for stderr.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The exposition in `format`.
    pub fn encode(&self, format: Format) -> Vec<u8> {
        match format {
            Format::Text => encode_text(&self.metrics),
            Format::OpenMetrics => encode_openmetrics(&self.metrics),
        }
    }
}

/// The [`Sampler`] of [`TreeSource`] for metrics: samples the tree and builds the
/// families of the selected cgroups.
struct MetricsSampler {
    /// The cgroup whose subtree gets series (a normal path: `/`, `/a/b`).
    start: Vec<u8>,
    sampler: Option<sample::Sampler>,
    options: Options,
    last: Option<(Metrics, Vec<String>)>,
    /// Whether `memory_localevents` was said on stderr (once per process).
    localevents_said: bool,
}

impl Sampler for MetricsSampler {
    fn fill(&mut self, tree: &Tree, frame: &mut Frame) -> anyhow::Result<()> {
        let s = match &mut self.sampler {
            Some(s) => s,
            None => {
                // As `cgtree top`: a kept directory descriptor per cgroup where the limit
                // allows (raised to the hard limit first), so that a scrape of a large
                // tree reopens nothing it could keep.
                crate::top::live::raise_nofile();
                self.sampler.insert(sample::Sampler::new(
                    tree,
                    SampleOptions {
                        max_open_dirs: usize::MAX,
                        ..SampleOptions::default()
                    },
                )?)
            }
        };
        let sample = s.sample(tree);
        let top = if self.start == b"/" {
            0
        } else {
            match sample.find(&self.start) {
                Some(top) => top,
                None => anyhow::bail!(
                    "no cgroup {} below the cgroup2 mount (or it holds no processes; \
                     --cgroups all shows empty ones)",
                    crate::sanitize::sanitize(&self.start)
                ),
            }
        };
        let metrics = model::collect_under(tree, &sample, &self.options, top);
        if !self.localevents_said && model::has_memory_localevents(tree) {
            self.localevents_said = true;
            crate::term::Diag::default().error(
                "note: cgroup2 is mounted with memory_localevents: \
                 cgtree_container_oom_events_total counts each cgroup's own OOM kills only \
                 (a pod's leaves out its containers'); cgtree_cgroup2_memory_localevents is 1",
            );
        }
        // The tree's own read errors (every cgroup), then the exported cgroups' files.
        let mut errors: Vec<String> = frame
            .rows
            .iter()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .map(|e| format!("{}: {e}", crate::sanitize::sanitize(&r.path)))
            })
            .collect();
        errors.extend(
            metrics
                .errors
                .iter()
                .map(|e| format!("{}: {}", crate::sanitize::path(&e.path), e.kind)),
        );
        self.last = Some((metrics, errors));
        Ok(())
    }
}

/// Reads the host's cgroups into [`Scrape`]s, keeping the identified tree between
/// collections (see the module docs). `Send`: `cgtree serve` collects from a thread of
/// its own.
pub struct Exporter {
    source: TreeSource<MetricsSampler>,
}

impl Exporter {
    /// An exporter for the host of `cfg` (`--root`, or the live one).
    ///
    /// # Errors
    /// None yet (the tree is first read by [`Exporter::collect`]); kept fallible for
    /// the contract shared with `cgtree serve`.
    pub fn new(cfg: &crate::config::Config, opts: ExportOptions) -> anyhow::Result<Exporter> {
        let all = opts.options.selection == Selection::All;
        // The whole hierarchy is read and identified, whatever the start: a cgroup's
        // labels must not depend on where the export starts (a subtree's identities need
        // what lies outside it: the node container above, the runtimes' processes beside
        // it). The start only chooses which cgroups get series.
        let start = normal_start(&opts.start)?;
        let source = TreeSource::new(
            crate::host(cfg).root(),
            "/",
            None,
            all,
            MetricsSampler {
                start,
                sampler: None,
                options: opts.options,
                last: None,
                localevents_said: false,
            },
        );
        Ok(Exporter { source })
    }

    /// Reads the cgroups now.
    ///
    /// # Errors
    /// When nothing could be read: no cgroup2 mount, the start cgroup is gone.
    pub fn collect(&mut self) -> anyhow::Result<Scrape> {
        use crate::top::Source;
        let t0 = Instant::now();
        self.source.next_frame()?;
        let Some((mut metrics, errors)) = self.source.sampler_mut().last.take() else {
            anyhow::bail!("no sample");
        };
        model::add_self_metrics(
            &mut metrics,
            t0.elapsed(),
            errors.len(),
            env!("CARGO_PKG_VERSION"),
        );
        Ok(Scrape {
            metrics: Arc::new(metrics),
            errors,
        })
    }

    /// How many times the tree was read with its processes and identified.
    pub fn identifications(&self) -> u64 {
        self.source.identifications()
    }
}

/// `start` as the tree writes paths: `/` or `/a/b` (no empty, `.` components; `..`
/// refused).
///
/// # Errors
/// A `..` component.
fn normal_start(start: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for c in start.split('/').filter(|c| !c.is_empty() && *c != ".") {
        anyhow::ensure!(c != "..", "CGROUP_PATH {start:?}: `..` is not allowed");
        out.push(b'/');
        out.extend_from_slice(c.as_bytes());
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// The labels of one series: its cgroup's, then its own.
fn series_labels<'a>(
    m: &'a Metrics,
    s: &'a model::Series,
) -> impl Iterator<Item = &'a (&'static str, String)> {
    s.cgroup
        .and_then(|c| m.cgroups.get(c))
        .map(|c| &c.labels[..])
        .unwrap_or_default()
        .iter()
        .chain(s.extra.iter())
}

/// The Prometheus text format 0.0.4, by `prometheus`'s `TextEncoder` (info families as
/// gauges of value 1: the format has no info type).
pub fn encode_text(m: &Metrics) -> Vec<u8> {
    use prometheus::proto;
    let families: Vec<proto::MetricFamily> = m
        .families
        .iter()
        .map(|f| {
            let mut mf = proto::MetricFamily::default();
            mf.set_name(f.name.to_string());
            mf.set_help(f.help.to_string());
            let counter = f.kind == MetricType::Counter;
            mf.set_field_type(if counter {
                proto::MetricType::COUNTER
            } else {
                proto::MetricType::GAUGE
            });
            let metrics = f
                .series
                .iter()
                .map(|s| {
                    let labels = series_labels(m, s)
                        .map(|(k, v)| {
                            let mut l = proto::LabelPair::default();
                            l.set_name(k.to_string());
                            l.set_value(v.clone());
                            l
                        })
                        .collect();
                    let mut pm = proto::Metric::from_label(labels);
                    if counter {
                        let mut c = proto::Counter::default();
                        c.set_value(s.value);
                        pm.set_counter(c);
                    } else {
                        let mut g = proto::Gauge::default();
                        g.set_value(s.value);
                        pm.set_gauge(g);
                    }
                    pm
                })
                .collect();
            mf.set_metric(metrics);
            mf
        })
        .collect();
    let mut out = String::new();
    // Fails only on a family without series or name, which the model never makes.
    if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&families, &mut out) {
        out.push_str(&format!("# cgtree: encoding failed: {e}\n"));
    }
    out.into_bytes()
}

/// The families of one scrape, for `prometheus-client`'s encoder.
#[derive(Debug)]
struct Collected(Arc<Metrics>);

impl prometheus_client::collector::Collector for Collected {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        use prometheus_client::metrics::MetricType as T;
        use prometheus_client::registry::Unit as U;
        let m = &*self.0;
        for f in &m.families {
            let unit = f.unit.map(|u| match u {
                model::Unit::Seconds => U::Seconds,
                model::Unit::Bytes => U::Bytes,
                // (`Unit` is `#[non_exhaustive]`.)
                other => U::Other(other.as_str().into()),
            });
            // The encoder appends `_UNIT` (and `_total`, `_info` to the samples).
            let base = f.base_name();
            let name = match f.unit {
                Some(u) => base
                    .strip_suffix(u.as_str())
                    .and_then(|b| b.strip_suffix('_'))
                    .unwrap_or(base),
                None => base,
            };
            let kind = match f.kind {
                MetricType::Counter => T::Counter,
                MetricType::Gauge => T::Gauge,
                MetricType::Info => T::Info,
                // (`MetricType` is `#[non_exhaustive]`: a new type is unknown here.)
                _ => T::Unknown,
            };
            let mut me = encoder.encode_descriptor(name, f.help, unit.as_ref(), kind)?;
            for s in &f.series {
                let labels: Vec<(&str, &str)> =
                    series_labels(m, s).map(|(k, v)| (*k, v.as_str())).collect();
                match f.kind {
                    MetricType::Counter => {
                        ConstCounter::new(s.value).encode(me.encode_family(&labels)?)?
                    }
                    MetricType::Info => me.encode_info(&labels)?,
                    // Gauge, and a type this encoder does not know (declared unknown
                    // above: its samples are written as a gauge's).
                    _ => ConstGauge::new(s.value).encode(me.encode_family(&labels)?)?,
                }
            }
        }
        Ok(())
    }
}

/// OpenMetrics 1.0.0 text, by `prometheus-client` (counter families named without
/// `_total`, info families without `_info`, as the format wants; ends with `# EOF`).
pub fn encode_openmetrics(m: &Arc<Metrics>) -> Vec<u8> {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(Collected(Arc::clone(m))));
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
        out = format!("# cgtree: encoding failed: {e}\n# EOF\n");
    }
    out.into_bytes()
}

/// `cgtree metrics`: stdout, or the textfile (see [`textfile`]). Status 0, 1 when some
/// files could not be read (still written), 2 when nothing could be read.
///
/// # Errors
/// Bad flags, signal handlers that cannot be installed.
pub fn run(
    cfg: &crate::config::Config,
    args: &crate::cli::MetricsArgs,
    diag: &mut crate::term::Diag,
) -> anyhow::Result<u8> {
    use std::io::Write;
    let format = match args.format.as_str() {
        "openmetrics" => Format::OpenMetrics,
        _ => Format::Text,
    };
    let opts = ExportOptions::from_args(&cfg.start, &args.export)?;
    let mut exporter = Exporter::new(cfg, opts)?;
    let stats = |e: &Exporter, diag: &mut crate::term::Diag| {
        if std::env::var_os("CGTREE_STATS").is_some_and(|v| v == "1") {
            diag.error(format_args!(
                "stats: metrics identified the tree {} times",
                e.identifications()
            ));
        }
    };
    if let Some(dir) = &args.textfile {
        let r = textfile::run(&mut exporter, dir, format, args.interval, diag);
        stats(&exporter, diag);
        return r;
    }
    let scrape = match exporter.collect() {
        Ok(s) => s,
        Err(e) => {
            diag.error(format_args!("{e:#}"));
            return Ok(crate::FATAL);
        }
    };
    let mut out = crate::term::stdout(false);
    let written = out
        .write_all(&scrape.encode(format))
        .and_then(|()| out.flush());
    let code = if crate::report(scrape.errors(), diag) {
        crate::PARTIAL
    } else {
        crate::OK
    };
    Ok(crate::finish(written, code, diag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}

    /// `cgtree serve` collects on a thread of its own and shares one scrape between
    /// requests.
    #[test]
    fn exporter_is_send_and_scrapes_are_shared() {
        assert_send::<Exporter>();
        assert_send::<Scrape>();
        assert_sync::<Scrape>();
    }
}
