//! Jupyter notebooks in the scan: each cell's source and outputs are matched as their own
//! texts, and the notebook's bytes as a whole too (metadata, anything the cells do not hold).
//!
//! Parsing is [`crate::source::notebook`]'s; this module matches and places, for a [`Worker`].
//! A secret found both in a cell and in the raw bytes of that cell is reported once, at the
//! cell (a pairing only the raw bytes show, a key id and its secret in two cells, is kept on
//! the cell's hit). A notebook that does not parse is scanned as plain bytes, with a warning.

use super::Worker;
use crate::finding::{self, Hit, LineIndex};
use crate::matcher::{Match, Span};
use crate::provenance::Provenance;
use crate::source::{
    Delta,
    notebook::{self, Part},
};

impl Worker<'_> {
    /// Scans a blob that is not an archive: a notebook through its cells, anything else as
    /// bytes.
    pub(super) fn scan_text(
        &mut self,
        data: &[u8],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        if !notebook::detect(data) {
            return self.scan_one(data, provenances, delta);
        }
        match notebook::parse(data) {
            Ok(Some(parts)) => self.notebook(data, &parts, provenances, delta),
            Ok(None) => self.scan_one(data, provenances, delta),
            Err(error) => {
                let parents = provenances();
                let name = parents.first().map_or_else(String::new, Provenance::display_path);
                let error = crate::source::error_chain(&error);
                log::warn!("{name}: {error}; scanned as plain text");
                let mut once = Some(parents);
                self.scan_one(data, &mut || once.take().unwrap_or_default(), delta);
            }
        }
    }

    /// Matches every part of a parsed notebook, then its raw bytes, and keeps each secret once.
    fn notebook(
        &mut self,
        data: &[u8],
        parts: &[Part],
        provenances: &mut dyn FnMut() -> Vec<Provenance>,
        delta: Option<&Delta>,
    ) {
        let matcher = self.matcher;
        let rules = matcher.rules();
        let mut matches = std::mem::take(&mut self.matches);
        let mut parents: Option<Vec<Provenance>> = None;
        // Parts come in file order, so one index counts forward through the file.
        let mut lines = LineIndex::default();
        let mut cell_hits: Vec<Hit> = Vec::new();
        for part in parts {
            matcher.scan(&part.text, &mut self.scratch, &mut matches);
            if let Some(delta) = delta {
                matches.retain(|m| {
                    let (start, end) = file_span(part, m.secret, data.len());
                    delta.added(data, start, end)
                });
            }
            let mut cell_provenances = || {
                parents
                    .get_or_insert_with(&mut *provenances)
                    .iter()
                    .map(|parent| Provenance::Notebook {
                        parent: Box::new(parent.clone()),
                        cell: part.cell,
                        output: part.output,
                        field: part.field.clone(),
                        file_start: (0, 0),
                        file_end: (0, 0),
                    })
                    .collect::<Vec<_>>()
            };
            let part_from = cell_hits.len();
            let mut cells = None;
            if !matches.is_empty() {
                for provenance in cells.insert(cell_provenances()).iter() {
                    let dropped = finding::hits_in_blob(
                        rules,
                        &part.text,
                        provenance,
                        &matches,
                        &mut cell_hits,
                    );
                    self.stats.suppressed_inline += dropped as u64;
                }
            }
            // What the cell's text encodes, matched with the cell's own matches and hits in
            // place (a decoded secret the cell shows raw is the raw one).
            std::mem::swap(&mut self.matches, &mut matches);
            std::mem::swap(&mut self.hits, &mut cell_hits);
            let mut cells = || cells.take().unwrap_or_else(&mut cell_provenances);
            let mut keep = |at: &std::ops::Range<usize>| {
                delta.is_none_or(|d| {
                    let (start, end) =
                        file_span(part, Span { start: at.start, end: at.end }, data.len());
                    d.added(data, start, end)
                })
            };
            self.scan_decoded(&part.text, &mut cells, part_from, &mut keep);
            std::mem::swap(&mut self.matches, &mut matches);
            std::mem::swap(&mut self.hits, &mut cell_hits);
            for hit in &mut cell_hits[part_from..] {
                place_in_file(hit, part, data, &mut lines);
            }
        }
        matcher.scan(data, &mut self.scratch, &mut matches);
        if let Some(delta) = delta {
            matches.retain(|m| delta.added(data, m.secret.start, m.secret.end));
        }
        if !matches.is_empty() {
            // Raw matches inside a cell's text are the cell's to report; the others (metadata,
            // attachments) are reported at the notebook's line and column.
            let (inside, outside): (Vec<Match>, Vec<Match>) = matches
                .iter()
                .partition(|m| parts.iter().any(|p| p.extent.contains(&m.secret.start)));
            let mut raw_hits = Vec::new();
            for parent in parents.get_or_insert_with(&mut *provenances).iter() {
                let dropped = finding::hits_in_blob(rules, data, parent, &outside, &mut self.hits);
                self.stats.suppressed_inline += dropped as u64;
                finding::hits_in_blob(rules, data, parent, &inside, &mut raw_hits);
            }
            for hit in raw_hits {
                if !merge_into_cell(&mut cell_hits, &hit) {
                    self.hits.push(hit);
                }
            }
        }
        self.hits.append(&mut cell_hits);
        matches.clear();
        self.matches = matches;
        self.count(data.len());
    }
}

/// Folds a raw hit into a cell hit of the same rule and secret in the same notebook, if there
/// is one, carrying over a pairing the cell did not see. False when no cell holds it.
fn merge_into_cell(cell_hits: &mut [Hit], raw: &Hit) -> bool {
    let same = cell_hits.iter_mut().find(|cell| {
        cell.rule == raw.rule
            && cell.secret == raw.secret
            && matches!(&cell.location.provenance,
                Provenance::Notebook { parent, .. } if **parent == raw.location.provenance)
    });
    let Some(cell) = same else { return false };
    // The raw hit's secret-key position is in the file, not the cell: only the values move.
    cell.adopt_pairing(raw);
    true
}

/// The notebook bytes a span of a part's text was read from.
fn file_span(part: &Part, span: Span, len: usize) -> (usize, usize) {
    let start = part.raw_offset(span.start).min(len);
    let end = part.raw_offset(span.end).clamp(start, len);
    (start, end)
}

/// Sets where a cell hit's secret is in the notebook file `data`.
fn place_in_file(hit: &mut Hit, part: &Part, data: &[u8], lines: &mut LineIndex) {
    let (start, end) = file_span(part, hit.location.span, data.len());
    let mut provenance = &mut hit.location.provenance;
    while let Provenance::Decoded { parent, .. } = provenance {
        provenance = parent;
    }
    if let Provenance::Notebook { file_start, file_end, .. } = provenance {
        let (start, end) = (lines.position(data, start), lines.position(data, end));
        *file_start = (start.line, start.column);
        *file_end = (end.line, end.column);
    }
}
