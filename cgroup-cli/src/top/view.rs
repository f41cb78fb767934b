//! What the screen shows of a [`Frame`]: the sort order, the collapsed subtrees, the
//! filter, the selected row and the pause, and the keys that change them. Pure state:
//! [`crate::top::ui`] draws it, [`crate::top::run`] feeds it keys and frames.

use super::{fmt, Frame, Order, TopRow};
use crate::sanitize::sanitize;
use std::cmp::Ordering;
use std::collections::HashSet;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// One column of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// CPU %.
    Cpu,
    /// Throttled %.
    Throttled,
    /// Working set.
    WorkingSet,
    /// memory.current.
    Memory,
    /// memory.max.
    Limit,
    /// OOM kills.
    Oom,
    /// Tasks.
    Tasks,
    /// Read/s.
    Read,
    /// Write/s.
    Write,
    /// cpu.pressure some.
    PsiCpu,
    /// memory.pressure some.
    PsiMem,
    /// io.pressure some.
    PsiIo,
}

impl Column {
    /// Every column, in the order shown.
    pub const ALL: [Column; 12] = [
        Column::Cpu,
        Column::Throttled,
        Column::WorkingSet,
        Column::Memory,
        Column::Limit,
        Column::Oom,
        Column::Tasks,
        Column::Read,
        Column::Write,
        Column::PsiCpu,
        Column::PsiMem,
        Column::PsiIo,
    ];

    /// The order in which columns are left out when the screen is too narrow (first
    /// left out first).
    const DROP: [Column; 11] = [
        Column::PsiIo,
        Column::PsiMem,
        Column::PsiCpu,
        Column::Oom,
        Column::Throttled,
        Column::Limit,
        Column::WorkingSet,
        Column::Write,
        Column::Read,
        Column::Tasks,
        Column::Memory,
    ];

    /// The header.
    pub fn header(self) -> &'static str {
        match self {
            Column::Cpu => "CPU%",
            Column::Throttled => "THR%",
            Column::WorkingSet => "WSET",
            Column::Memory => "MEM",
            Column::Limit => "LIMIT",
            Column::Oom => "OOM",
            Column::Tasks => "TASKS",
            Column::Read => "READ/s",
            Column::Write => "WRITE/s",
            Column::PsiCpu => "PSIcpu",
            Column::PsiMem => "PSImem",
            Column::PsiIo => "PSIio",
        }
    }

    /// Width in columns (right-aligned).
    pub fn width(self) -> usize {
        match self {
            Column::Cpu => 6,
            Column::Throttled => 5,
            Column::WorkingSet | Column::Memory | Column::Limit => 7,
            Column::Oom => 4,
            Column::Tasks => 6,
            Column::Read | Column::Write => 8,
            Column::PsiCpu | Column::PsiMem => 6,
            Column::PsiIo => 6,
        }
    }

    /// The cell of `row`.
    pub fn cell(self, row: &TopRow) -> String {
        let u = &row.usage;
        match self {
            Column::Cpu => fmt::percent(u.cpu_cores),
            Column::Throttled => fmt::percent(u.throttled_ratio),
            Column::WorkingSet => fmt::bytes(u.mem_working_set),
            Column::Memory => fmt::bytes(u.mem_current),
            Column::Limit => fmt::limit(u.mem_limit),
            Column::Oom => fmt::count(u.oom_kills),
            Column::Tasks => fmt::count(u.tasks),
            Column::Read => fmt::rate(u.io_read_bps),
            Column::Write => fmt::rate(u.io_write_bps),
            Column::PsiCpu => fmt::percent(u.psi_cpu_some),
            Column::PsiMem => fmt::percent(u.psi_mem_some),
            Column::PsiIo => fmt::percent(u.psi_io_some),
        }
    }

    /// The column an order sorts on.
    pub fn of(order: Order) -> Option<Column> {
        match order {
            Order::Cpu => Some(Column::Cpu),
            Order::Memory => Some(Column::Memory),
            Order::Io => Some(Column::Read),
            Order::Tasks => Some(Column::Tasks),
            Order::Path => None,
        }
    }
}

/// Space between columns.
pub const GAP: usize = 1;

/// The columns that fit in `width` with at least `min_name` columns left for the names
/// (`None`: all of them).
pub fn columns_for(width: Option<usize>, min_name: usize) -> Vec<Column> {
    let mut cols = Column::ALL.to_vec();
    let Some(width) = width else {
        return cols;
    };
    let used = |cols: &[Column]| cols.iter().map(|c| c.width() + GAP).sum::<usize>();
    for d in Column::DROP {
        if used(&cols) + min_name <= width {
            break;
        }
        cols.retain(|&c| c != d);
    }
    cols
}

/// The name cell of a row: the escaped name, then the escaped identity in brackets.
pub fn label(row: &TopRow) -> (String, Option<String>) {
    let name = sanitize(&row.name).into_owned();
    let ident = row
        .identity
        .as_deref()
        .map(|i| format!("[{}]", crate::sanitize::escape_controls(i.as_bytes())));
    (name, ident)
}

/// Columns `text` takes on a terminal (wide characters count two).
pub fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// The longest start of `text` that fits in `width` columns, and its width.
fn take_cols(text: &str, width: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            return (&text[..i], used);
        }
        used += w;
    }
    (text, used)
}

/// The longest end of `text` that fits in `width` columns.
fn take_cols_end(text: &str, width: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices().rev() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            return &text[i + c.len_utf8()..];
        }
        used += w;
    }
    text
}

/// Cuts `text` to `width` terminal columns, ending with `…` when cut.
pub fn cut(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let (head, _) = take_cols(text, width - 1);
    format!("{head}…")
}

/// Cuts `text` to `width` terminal columns by leaving out its middle
/// (`docker-8aea…ebca.scope`): a cgroup name's end (`.scope`, `.slice`) says what it is.
pub fn cut_middle(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_string();
    }
    if width < 8 {
        return cut(text, width);
    }
    let tail_w = (width - 1) / 3;
    let (head, used) = take_cols(text, width - 1 - tail_w);
    let tail = take_cols_end(text, width - 1 - used);
    format!("{head}…{tail}")
}

/// The name and the identity (with its leading space) of a row, fitted into `width`
/// columns: the identity keeps at least half of them when both do not fit; the name is
/// cut in the middle, the identity at its end.
pub fn fit(name: &str, ident: Option<&str>, width: usize) -> (String, String) {
    let name_len = width_of(name);
    let Some(ident) = ident else {
        return (cut_middle(name, width), String::new());
    };
    let ident = format!(" {ident}");
    let ident_len = width_of(&ident);
    if name_len + ident_len <= width {
        return (name.to_string(), ident);
    }
    let ident_w = ident_len.min(width.saturating_sub(name_len).max(width / 2));
    let name_w = width - ident_w;
    (cut_middle(name, name_w), cut(&ident, ident_w))
}

fn cmp_opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Ordering {
    // Highest first, unknown last.
    match (a, b) {
        (Some(a), Some(b)) => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// How two sibling rows compare under `order` (ties: by name).
pub fn compare(order: Order, a: &TopRow, b: &TopRow) -> Ordering {
    let (ua, ub) = (&a.usage, &b.usage);
    let by = match order {
        Order::Cpu => cmp_opt(ua.cpu_cores, ub.cpu_cores),
        Order::Memory => cmp_opt(ua.mem_current, ub.mem_current),
        Order::Io => cmp_opt(
            io_total(ua.io_read_bps, ua.io_write_bps),
            io_total(ub.io_read_bps, ub.io_write_bps),
        ),
        Order::Tasks => cmp_opt(ua.tasks, ub.tasks),
        Order::Path => Ordering::Equal,
    };
    by.then_with(|| a.name.cmp(&b.name))
}

fn io_total(r: Option<f64>, w: Option<f64>) -> Option<f64> {
    match (r, w) {
        (None, None) => None,
        (r, w) => Some(r.unwrap_or(0.0) + w.unwrap_or(0.0)),
    }
}

/// The rows of `frame` in display order: each row followed by its subtree, siblings
/// sorted by `order`. Indices into `frame.rows`.
pub fn sorted(frame: &Frame, order: Order) -> Vec<usize> {
    let n = frame.rows.len();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, r) in frame.rows.iter().enumerate() {
        match r.parent.filter(|&p| p < n && p != i) {
            Some(p) => kids[p].push(i),
            None => roots.push(i),
        }
    }
    let rows = &frame.rows;
    let sort = |v: &mut Vec<usize>| v.sort_by(|&a, &b| compare(order, &rows[a], &rows[b]));
    sort(&mut roots);
    for k in &mut kids {
        sort(k);
    }
    // Pre-order without recursion; `seen` guards against a parent cycle in bad input.
    let mut out = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(i);
        stack.extend(kids[i].iter().rev());
    }
    out
}

/// Whether the row's escaped name or identity contains `needle` (case-insensitive).
pub fn matches(row: &TopRow, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    let (name, ident) = label(row);
    name.to_lowercase().contains(&needle)
        || ident.is_some_and(|i| i.to_lowercase().contains(&needle))
}

/// Where keys go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Keys are commands.
    Normal,
    /// Keys are typed into the filter (`/`): Enter keeps it, Esc drops it.
    Filter,
}

/// A key, as the view understands it (mapped from crossterm's events in
/// [`crate::top::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Up.
    Up,
    /// Down.
    Down,
    /// Left.
    Left,
    /// Right.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Ctrl-C.
    CtrlC,
}

/// What a key asks of the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond redrawing.
    None,
    /// Quit.
    Quit,
}

/// The help line at the bottom of the screen.
pub const HELP_LINE: &str = "q quit  ? help  c/m/i/p/t sort  Enter/+/- expand/collapse  / filter  g/G top/bottom  Space/P pause";

/// The `?` screen: every key.
pub const HELP: &[(&str, &str)] = &[
    ("q, Esc, Ctrl-C", "quit (Esc first clears a filter)"),
    ("c", "order by CPU"),
    ("m", "order by memory (memory.current)"),
    ("i", "order by I/O (read + write per second)"),
    ("p", "order by path (name)"),
    ("t", "order by tasks"),
    ("Enter", "expand or collapse the selected subtree"),
    ("+, Right", "expand the selected subtree"),
    (
        "-, Left",
        "collapse the selected subtree (Left on a leaf: go to its parent)",
    ),
    ("/", "filter by name or identity (Enter keeps, Esc clears)"),
    ("Up, Down, k, j", "move"),
    ("PageUp, PageDown", "move a page"),
    ("g, Home / G, End", "first / last row"),
    ("Space, P", "pause / resume sampling"),
    ("?", "show / hide this help"),
];

/// The screen's state.
#[derive(Debug, Clone)]
pub struct View {
    /// Sibling order.
    pub order: Order,
    /// Paths of collapsed rows.
    pub collapsed: HashSet<Box<[u8]>>,
    /// The filter (empty: none).
    pub filter: String,
    /// Where keys go.
    pub input: Input,
    /// The selected row's path.
    pub selected: Option<Box<[u8]>>,
    /// First visible line (scroll).
    pub offset: usize,
    /// Rows that fit on the screen (set by the drawing).
    pub page: usize,
    /// Sampling paused.
    pub paused: bool,
    /// The help screen is shown.
    pub help: bool,
}

impl View {
    /// A view ordered by `order`, everything expanded.
    pub fn new(order: Order) -> Self {
        View {
            order,
            collapsed: HashSet::new(),
            filter: String::new(),
            input: Input::Normal,
            selected: None,
            offset: 0,
            page: 20,
            paused: false,
            help: false,
        }
    }

    /// The rows shown, in order (indices into `frame.rows`): sorted, with collapsed
    /// subtrees left out; with a filter, the matching rows and their ancestors only
    /// (collapsing does not hide a match).
    pub fn visible(&self, frame: &Frame) -> Vec<usize> {
        let order = sorted(frame, self.order);
        let rows = &frame.rows;
        if !self.filter.is_empty() {
            let mut keep = vec![false; rows.len()];
            for (i, r) in rows.iter().enumerate() {
                if matches(r, &self.filter) {
                    let mut cur = Some(i);
                    let mut steps = 0;
                    while let Some(c) = cur.filter(|&c| c < rows.len()) {
                        if keep[c] || steps > rows.len() {
                            break;
                        }
                        keep[c] = true;
                        cur = rows[c].parent;
                        steps += 1;
                    }
                }
            }
            return order.into_iter().filter(|&i| keep[i]).collect();
        }
        let mut out = Vec::with_capacity(order.len());
        // Depth of the collapsed row whose subtree is being skipped.
        let mut skip_below: Option<u32> = None;
        for i in order {
            let r = &rows[i];
            if let Some(d) = skip_below {
                if r.depth > d {
                    continue;
                }
                skip_below = None;
            }
            out.push(i);
            if r.has_children && self.collapsed.contains(&r.path) {
                skip_below = Some(r.depth);
            }
        }
        out
    }

    /// The selected line in `visible` (the first one when the selected row is gone).
    pub fn cursor(&self, frame: &Frame, visible: &[usize]) -> usize {
        self.selected
            .as_ref()
            .and_then(|p| visible.iter().position(|&i| frame.rows[i].path == *p))
            .unwrap_or(0)
    }

    fn select(&mut self, frame: &Frame, visible: &[usize], line: usize) {
        self.selected = visible
            .get(line.min(visible.len().saturating_sub(1)))
            .map(|&i| frame.rows[i].path.clone());
    }

    /// Keeps the selected line on the screen; returns the first line to draw.
    pub fn scroll(&mut self, cursor: usize, len: usize) -> usize {
        let page = self.page.max(1);
        if cursor < self.offset {
            self.offset = cursor;
        } else if cursor >= self.offset + page {
            self.offset = cursor + 1 - page;
        }
        self.offset = self.offset.min(len.saturating_sub(page));
        self.offset
    }

    /// Applies a key.
    pub fn key(&mut self, frame: &Frame, key: Key) -> Action {
        if key == Key::CtrlC {
            return Action::Quit;
        }
        if self.input == Input::Filter {
            match key {
                Key::Enter => self.input = Input::Normal,
                Key::Esc => {
                    self.filter.clear();
                    self.input = Input::Normal;
                }
                Key::Backspace => {
                    self.filter.pop();
                }
                // Printable characters only: the filter is drawn on the screen.
                Key::Char(c)
                    if !c.is_control()
                        && !crate::sanitize::must_escape(c)
                        && self.filter.chars().count() < 256 =>
                {
                    self.filter.push(c);
                }
                _ => {}
            }
            return Action::None;
        }
        if self.help {
            self.help = false;
            if matches!(key, Key::Char('?') | Key::Esc) {
                return Action::None;
            }
        }
        let visible = self.visible(frame);
        let cur = self.cursor(frame, &visible);
        let row = visible.get(cur).map(|&i| &frame.rows[i]);
        match key {
            Key::Char('q') => return Action::Quit,
            Key::Esc => {
                if self.filter.is_empty() {
                    return Action::Quit;
                }
                self.filter.clear();
            }
            Key::Char('c') => self.order = Order::Cpu,
            Key::Char('m') => self.order = Order::Memory,
            Key::Char('i') => self.order = Order::Io,
            Key::Char('p') => self.order = Order::Path,
            Key::Char('t') => self.order = Order::Tasks,
            Key::Char('/') => {
                self.input = Input::Filter;
            }
            Key::Char('?') => self.help = true,
            Key::Char(' ') | Key::Char('P') => self.paused = !self.paused,
            Key::Enter => {
                if let Some(r) = row.filter(|r| r.has_children) {
                    if !self.collapsed.remove(&r.path) {
                        self.collapsed.insert(r.path.clone());
                    }
                }
            }
            Key::Char('+') | Key::Right => {
                if let Some(r) = row {
                    self.collapsed.remove(&r.path);
                }
            }
            Key::Char('-') | Key::Left => {
                if let Some(r) = row {
                    if r.has_children && !self.collapsed.contains(&r.path) {
                        self.collapsed.insert(r.path.clone());
                    } else if key == Key::Left {
                        if let Some(p) = r.parent.and_then(|p| frame.rows.get(p)) {
                            self.selected = Some(p.path.clone());
                        }
                    }
                }
            }
            Key::Up | Key::Char('k') => self.select(frame, &visible, cur.saturating_sub(1)),
            Key::Down | Key::Char('j') => self.select(frame, &visible, cur + 1),
            Key::PageUp => self.select(frame, &visible, cur.saturating_sub(self.page.max(1))),
            Key::PageDown => self.select(frame, &visible, cur + self.page.max(1)),
            Key::Char('g') | Key::Home => self.select(frame, &visible, 0),
            Key::Char('G') | Key::End => self.select(frame, &visible, usize::MAX),
            _ => {}
        }
        Action::None
    }
}
