//! The full-screen view, drawn with ratatui from a [`Frame`] and a [`View`].
//!
//! Every untrusted string (names, identities, paths, errors, the typed filter) is escaped
//! with [`crate::sanitize::sanitize`] before it reaches a ratatui cell: ratatui writes a
//! cell's symbols as they are, so an ESC in a name would otherwise reach the terminal.

use super::view::{
    columns_for, cut, fit, label, width_of, Column, Input, View, GAP, HELP, HELP_LINE,
};
use super::Frame;
use crate::sanitize::sanitize;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Fewest columns kept for the names before number columns are left out.
pub const MIN_NAME: usize = 40;

/// Styles, all plain when colours are off (`--color never`, NO_COLOR, TERM=dumb).
#[derive(Debug, Clone, Copy)]
pub struct Styles {
    color: bool,
}

impl Styles {
    /// Colours on or off.
    pub fn new(color: bool) -> Self {
        Styles { color }
    }
    fn pick(self, s: Style) -> Style {
        if self.color {
            s
        } else {
            Style::default()
        }
    }
    fn bold(self) -> Style {
        self.pick(Style::default().add_modifier(Modifier::BOLD))
    }
    fn ident(self) -> Style {
        self.pick(Style::default().fg(ratatui::style::Color::Cyan))
    }
    fn dim(self) -> Style {
        self.pick(Style::default().add_modifier(Modifier::DIM))
    }
    fn error(self) -> Style {
        self.pick(Style::default().fg(ratatui::style::Color::Red))
    }
    fn selected(self) -> Style {
        // Reverse video is the one mark of the selected line, so it stays even without
        // colours.
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// `2026-12-01 03:16:07 UTC`.
pub fn utc(t: std::time::SystemTime) -> String {
    // The library's RFC 3339 date (`2026-12-01T03:19:31.123456Z`), cut to the second.
    let s = cgroup_core::watch::rfc3339(t);
    match (s.get(..10), s.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => s,
    }
}

/// The header line: what, when, the interval, the order, pause and filter.
pub fn header(frame: &Frame, view: &View) -> String {
    let start = frame
        .rows
        .first()
        .map(|r| sanitize(&r.path).into_owned())
        .unwrap_or_default();
    let mut s = format!("cgtree top {start}  {}", utc(frame.time));
    if let Some(i) = frame.interval {
        s.push_str(&format!("  interval {:.1}s", i.as_secs_f64()));
    }
    s.push_str(&format!("  order: {}", view.order.label()));
    if view.paused {
        s.push_str("  PAUSED");
    }
    if !view.filter.is_empty() && view.input == Input::Normal {
        s.push_str(&format!("  filter: {}", sanitize(view.filter.as_bytes())));
    }
    s
}

/// The name cell: indentation, a subtree mark (`▾` expanded, `▸` collapsed), the name,
/// the identity, the first error; cut to `width`.
fn name_spans(
    frame: &Frame,
    i: usize,
    view: &View,
    width: usize,
    st: Styles,
) -> Vec<Span<'static>> {
    let r = &frame.rows[i];
    let indent = (2 * r.depth as usize).min(width / 2);
    let mark = if !r.has_children {
        "  "
    } else if view.collapsed.contains(&r.path) && view.filter.is_empty() {
        "▸ "
    } else {
        "▾ "
    };
    let (name, ident) = label(r);
    let room = width.saturating_sub(indent + 2);
    let (name, ident) = fit(&name, ident.as_deref(), room);
    let left = room.saturating_sub(width_of(&name) + width_of(&ident));
    let mut spans = vec![
        Span::raw(" ".repeat(indent)),
        Span::raw(mark),
        Span::styled(name, st.bold()),
    ];
    if !ident.is_empty() {
        spans.push(Span::styled(ident, st.ident()));
    }
    if let Some(e) = r.errors.first() {
        if left > 3 {
            let text = format!(" (! {})", crate::sanitize::escape_controls(e.as_bytes()));
            spans.push(Span::styled(cut(&text, left), st.error()));
        }
    }
    spans
}

/// Draws the whole screen into `f`, and records the page height in `view`.
pub fn draw(f: &mut ratatui::Frame<'_>, frame: &Frame, view: &mut View, st: Styles) {
    let area = f.area();
    let [head, table, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(Line::styled(
            cut(&header(frame, view), usize::from(head.width)),
            st.bold(),
        )),
        head,
    );

    let width = usize::from(table.width);
    let cols = columns_for(Some(width), MIN_NAME);
    let nums: usize = cols.iter().map(|c| c.width() + GAP).sum();
    let name_w = width.saturating_sub(nums).max(1);
    let visible = view.visible(frame);
    let cursor = view.cursor(frame, &visible);
    view.page = usize::from(table.height).saturating_sub(1).max(1);
    let offset = view.scroll(cursor, visible.len());

    let mut lines = Vec::with_capacity(usize::from(table.height));
    let sort_col = Column::of(view.order);
    let mut head_spans = vec![Span::raw(format!(
        "{:<name_w$}",
        if sort_col.is_none() {
            "CGROUP▲"
        } else {
            "CGROUP"
        }
    ))];
    for c in &cols {
        let h = if Some(*c) == sort_col {
            format!("{}▼", c.header())
        } else {
            c.header().to_string()
        };
        head_spans.push(Span::raw(format!(" {h:>w$}", w = c.width())));
    }
    lines.push(Line::from(head_spans).style(st.bold()));
    for (line, &i) in visible.iter().enumerate().skip(offset).take(view.page) {
        let mut spans = name_spans(frame, i, view, name_w, st);
        let used: usize = spans.iter().map(|s| s.width()).sum();
        spans.push(Span::raw(" ".repeat(name_w.saturating_sub(used))));
        for c in &cols {
            let cell = c.cell(&frame.rows[i]);
            let style = if cell == "-" {
                st.dim()
            } else {
                Style::default()
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(
                format!("{:>w$}", cut(&cell, c.width()), w = c.width()),
                style,
            ));
        }
        let mut l = Line::from(spans);
        if line == cursor {
            l = l.style(st.selected());
        }
        lines.push(l);
    }
    if visible.is_empty() {
        lines.push(Line::styled("(no cgroup matches the filter)", st.dim()));
    }
    f.render_widget(Paragraph::new(lines), table);

    let foot_text = match view.input {
        Input::Filter => format!("/{}_", sanitize(view.filter.as_bytes())),
        Input::Normal => HELP_LINE.to_string(),
    };
    f.render_widget(
        Paragraph::new(Line::styled(
            cut(&foot_text, usize::from(foot.width)),
            st.dim(),
        )),
        foot,
    );

    if view.help {
        draw_help(f, area, st);
    }
}

fn draw_help(f: &mut ratatui::Frame<'_>, area: Rect, st: Styles) {
    let key_w = HELP.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text_w = HELP.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
    let w = (key_w + text_w + 4).min(usize::from(area.width)) as u16;
    let h = (HELP.len() + 2).min(usize::from(area.height)) as u16;
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(k, t)| {
            Line::from(vec![
                Span::styled(format!("{k:<key_w$} "), st.bold()),
                Span::raw(*t),
            ])
        })
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" keys ")),
        r,
    );
}
