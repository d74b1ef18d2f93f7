//! Git repositories, read with `gix` straight from loose objects and packs (no `git` process).
//!
//! A scan has three phases:
//!
//! 1. **Commits**: every ref (branches, tags, remotes, notes, the stash and its reflog, a
//!    detached `HEAD`) is peeled to its commit (annotated tags' messages are kept for scanning),
//!    and all ancestors are read. In a shallow clone, parents the clone lacks are skipped.
//! 2. **Blobs**: commits are visited parents-first; each commit's tree is walked, skipping any
//!    (tree, path) pair already walked, so unchanged directories cost nothing. The first commit
//!    to show a blob at a path is the one that introduced it there. Each distinct blob is then
//!    listed once with every (commit, path) that introduced it.
//! 3. **Scan**: blobs are read and scanned in parallel (rayon, one repository handle per
//!    thread), each exactly once; provenance is built only for blobs with a match.
//!
//! Staged changes (`--staged`) and pull-request ranges (`--range`) report only what the change
//! added: see [`Delta`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::{CommitRef, TagRef, TreeRefIter};
use rayon::prelude::*;

use super::{
    BlobSink, Delta, InputError, OldContent, Skip, archive::ArchiveOptions, skip_as_binary,
    utf16_to_utf8,
};
use crate::provenance::{Commit, Provenance, rfc3339};

/// The error returned when a repository cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a repository, or unreadable.
    #[error("cannot open git repository {path}: {message}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A revision does not resolve.
    #[error("cannot resolve revision {spec:?}: {message}")]
    Revision {
        /// The revision as given.
        spec: String,
        /// Why.
        message: String,
    },
    /// The index cannot be read.
    #[error("cannot read the index of {path}: {message}")]
    Index {
        /// The repository.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// What to scan in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every blob reachable from every ref, plus commit and tag messages.
    History {
        /// Also scan objects no ref reaches.
        all_objects: bool,
    },
    /// Only commits not reachable from `rev` (for incremental sweeps).
    SinceRev(String),
    /// Only commits authored at or after this time (seconds since the epoch).
    SinceDate(i64),
    /// Staged changes: index entries that differ from `HEAD`, added lines only.
    Staged,
    /// Secrets added by the commits in `base..head`.
    Range {
        /// Excluded side.
        base: String,
        /// Included side.
        head: String,
    },
}

/// How to read blobs.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// Blobs larger than this are skipped.
    pub max_file_size: u64,
    /// Scan blobs that look binary.
    pub scan_binary: bool,
    /// How far archives found in blobs are opened.
    pub archives: ArchiveOptions,
    /// Objects an earlier run already scanned (blobs, and commits whose messages it scanned):
    /// not read again. A findings store fills this for incremental scans.
    pub skip_objects: Arc<HashSet<ObjectId>>,
}

/// Facts about the repository that enrichment needs after the scan.
#[derive(Debug, Default, Clone)]
pub struct RepoFacts {
    /// Blob ids in the tree of `HEAD` (to tell whether a secret is still there).
    pub head_blobs: HashSet<String>,
    /// Commits read.
    pub commits: usize,
    /// Distinct blobs listed for scanning (after `skip_objects`).
    pub blobs: usize,
    /// Distinct blobs not read because `skip_objects` named them.
    pub blobs_skipped: usize,
    /// Ids of the objects this scan read: the blobs listed and the commits whose messages it
    /// scanned (a store records them so that the next run skips them).
    pub scanned_objects: Vec<String>,
}

/// Distinct blobs in the order they were first seen (parents first, tree order), which keeps
/// reads close to pack order, with where each was introduced.
#[derive(Debug, Default)]
struct Inventory {
    index: HashMap<ObjectId, usize>,
    blobs: Vec<(ObjectId, Vec<Occurrence>)>,
}

impl Inventory {
    fn places(&mut self, id: ObjectId) -> &mut Vec<Occurrence> {
        let next = self.blobs.len();
        let slot = *self.index.entry(id).or_insert(next);
        if slot == next {
            self.blobs.push((id, Vec::new()));
        }
        &mut self.blobs[slot].1
    }

    fn contains(&self, id: &ObjectId) -> bool {
        self.index.contains_key(id)
    }

    fn len(&self) -> usize {
        self.blobs.len()
    }

    /// Drops the blobs `known` names; returns how many.
    fn drop_known(&mut self, known: &HashSet<ObjectId>) -> usize {
        if known.is_empty() {
            return 0;
        }
        let before = self.blobs.len();
        self.blobs.retain(|(id, _)| !known.contains(id));
        self.index = self.blobs.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
        before - self.blobs.len()
    }
}

/// One place a blob was introduced.
#[derive(Debug, Clone)]
struct Occurrence {
    commit: usize,
    path: Arc<str>,
}

/// Scans a repository, handing each blob to a sink made by `make_sink` (one per rayon job).
///
/// # Errors
/// Only when the repository cannot be opened or a revision named by `mode` does not resolve;
/// a broken object or ref is reported to a sink and the scan goes on.
pub fn scan<S: BlobSink>(
    path: &Path,
    mode: &Mode,
    options: &GitOptions,
    make_sink: impl Fn() -> S + Sync,
) -> Result<RepoFacts, Error> {
    let mut repo = gix::open(path)
        .map_err(|e| Error::Open { path: path.to_path_buf(), message: e.to_string() })?;
    repo.object_cache_size_if_unset(32 << 20);
    let mut sink = make_sink();
    let mut facts = RepoFacts::default();
    if *mode != Mode::Staged
        && let Ok(tree) = repo.head_tree_id()
    {
        let mut blobs = HashMap::new();
        tree_blobs(&repo, tree.detach(), &mut blobs, &mut sink);
        facts.head_blobs = blobs.into_values().map(|id| id.to_string()).collect();
    }
    match mode {
        Mode::Staged => {
            let (changes, removed) = staged_changes(&repo, path)?;
            facts.blobs = changes.len();
            let moved = moved_content(&repo, &removed, options, &mut sink);
            drop(sink);
            scan_changes(&repo, changes, &moved, options, &make_sink);
            return Ok(facts);
        }
        Mode::Range { base, head } => {
            let base_id = resolve(&repo, base)?;
            let head_id = resolve(&repo, head)?;
            let excluded: HashSet<ObjectId> =
                ancestors(&repo, &[base_id], &HashSet::new(), &mut sink)
                    .0
                    .iter()
                    .map(|c| c.id)
                    .collect();
            let (commits, _) = ancestors(&repo, &[head_id], &excluded, &mut sink);
            let mut base_paths = HashMap::new();
            if let Some(tree) = commit_tree(&repo, base_id) {
                tree_blobs(&repo, tree, &mut base_paths, &mut sink);
            }
            let mut head_paths = HashMap::new();
            if let Some(tree) = commit_tree(&repo, head_id) {
                tree_blobs(&repo, tree, &mut head_paths, &mut sink);
            }
            let removed = removed_blobs(&base_paths, |path| head_paths.contains_key(path));
            let inventory = inventory(&repo, &commits, |_| true, &mut sink);
            facts.commits = commits.len();
            facts.blobs = inventory.len();
            let changes = range_changes(&commits, inventory, &base_paths);
            scan_messages(&commits, &mut sink);
            let moved = moved_content(&repo, &removed, options, &mut sink);
            drop(sink);
            scan_changes(&repo, changes, &moved, options, &make_sink);
            return Ok(facts);
        }
        _ => {}
    }
    let (tips, tags) = tips(&repo, &mut sink);
    let excluded = match mode {
        Mode::SinceRev(rev) => {
            let id = resolve(&repo, rev)?;
            ancestors(&repo, &[id], &HashSet::new(), &mut sink).0.iter().map(|c| c.id).collect()
        }
        _ => HashSet::new(),
    };
    let (commits, _) = ancestors(&repo, &tips, &HashSet::new(), &mut sink);
    let keep = |c: &CommitNode| match mode {
        Mode::SinceRev(_) => !excluded.contains(&c.id),
        Mode::SinceDate(since) => c.info.timestamp >= *since,
        _ => true,
    };
    let mut inventory = inventory(&repo, &commits, keep, &mut sink);
    if let Mode::History { all_objects: true } = mode {
        unreachable_blobs(&repo, &mut inventory, &mut sink);
    }
    facts.blobs_skipped = inventory.drop_known(&options.skip_objects);
    facts.commits = commits.len();
    facts.blobs = inventory.len();
    let selected: Vec<&CommitNode> =
        commits.iter().filter(|c| keep(c) && !options.skip_objects.contains(&c.id)).collect();
    facts.scanned_objects = inventory
        .blobs
        .iter()
        .map(|(id, _)| id)
        .chain(selected.iter().map(|c| &c.id))
        .map(ToString::to_string)
        .collect();
    scan_messages(&selected, &mut sink);
    if !matches!(mode, Mode::SinceRev(_) | Mode::SinceDate(_)) {
        for tag in &tags {
            sink.blob(&tag.message, tag.provenance.clone());
        }
    }
    drop(sink);
    scan_inventory(&repo, &commits, inventory, options, &make_sink);
    Ok(facts)
}

/// A commit read from the object database.
#[derive(Debug)]
struct CommitNode {
    id: ObjectId,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    info: Arc<Commit>,
    message: Vec<u8>,
}

/// An annotated tag's message, to scan.
struct TagMessage {
    message: Vec<u8>,
    provenance: Provenance,
}

fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId, Error> {
    let revision = |message: String| Error::Revision { spec: spec.to_string(), message };
    let id = repo.rev_parse_single(spec).map_err(|e| revision(e.to_string()))?;
    let object = id.object().map_err(|e| revision(e.to_string()))?;
    let commit = object.peel_to_commit().map_err(|e| revision(e.to_string()))?;
    Ok(commit.id)
}

fn commit_tree(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    let object = repo.find_object(id).ok()?;
    CommitRef::from_bytes(&object.data, repo.object_hash()).ok().map(|c| c.tree())
}

/// Every ref's commit, plus annotated tags' messages. Broken refs are reported and skipped.
fn tips(repo: &gix::Repository, sink: &mut impl BlobSink) -> (Vec<ObjectId>, Vec<TagMessage>) {
    let mut tips = Vec::new();
    let mut tags = Vec::new();
    let refs = match repo.references() {
        Ok(platform) => platform,
        Err(e) => {
            sink.error(InputError { input: "refs".into(), message: e.to_string() });
            return (tips, tags);
        }
    };
    let iter = match refs.all() {
        Ok(iter) => iter,
        Err(e) => {
            sink.error(InputError { input: "refs".into(), message: e.to_string() });
            return (tips, tags);
        }
    };
    for reference in iter {
        let reference = match reference {
            Ok(r) => r,
            Err(e) => {
                sink.error(InputError { input: "ref".into(), message: e.to_string() });
                continue;
            }
        };
        let name = reference.name().as_bstr().to_string();
        let Some(target) = reference.target().try_id().map(ToOwned::to_owned) else { continue };
        peel(repo, &name, target, &mut tips, &mut tags, sink);
        if name == "refs/stash" {
            stash_reflog(&reference, &mut tips);
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    (tips, tags)
}

/// Older stashes live only in the reflog of `refs/stash`.
fn stash_reflog(reference: &gix::Reference<'_>, tips: &mut Vec<ObjectId>) {
    let mut platform = reference.log_iter();
    if let Ok(Some(lines)) = platform.all() {
        for line in lines.flatten() {
            if let Ok(id) = ObjectId::from_hex(line.new_oid) {
                tips.push(id);
            }
        }
    }
}

/// Follows tag objects to a commit, keeping each tag's message.
fn peel(
    repo: &gix::Repository,
    name: &str,
    mut id: ObjectId,
    tips: &mut Vec<ObjectId>,
    tags: &mut Vec<TagMessage>,
    sink: &mut impl BlobSink,
) {
    for _ in 0..32 {
        let object = match repo.find_object(id) {
            Ok(object) => object,
            Err(e) => {
                sink.error(InputError { input: format!("ref {name}"), message: e.to_string() });
                return;
            }
        };
        match object.kind {
            gix::object::Kind::Commit => {
                tips.push(id);
                return;
            }
            gix::object::Kind::Tag => {
                let Ok(tag) = TagRef::from_bytes(&object.data, repo.object_hash()) else {
                    sink.error(InputError {
                        input: format!("ref {name} (tag {id})"),
                        message: "malformed tag object".into(),
                    });
                    return;
                };
                let tagger = tag.tagger().ok().flatten();
                let info = Commit {
                    timestamp: tagger.as_ref().map_or(0, |t| t.seconds()),
                    id: id.to_string(),
                    author: tagger.as_ref().map_or_else(String::new, |t| t.name.to_string()),
                    email: tagger.as_ref().map_or_else(String::new, |t| t.email.to_string()),
                    date: rfc3339(tagger.as_ref().map_or(0, |t| t.seconds())),
                    repository: None,
                };
                tags.push(TagMessage {
                    message: tag.message.to_vec(),
                    provenance: Provenance::GitMessage {
                        commit: Arc::new(info),
                        tag: Some(tag.name.to_string()),
                    },
                });
                id = tag.target();
            }
            // A tag straight at a blob (git.git's `junio-gpg-pub`): reachable, so scanned, and
            // named by the ref since no commit carries it.
            gix::object::Kind::Blob => {
                let info = Commit {
                    timestamp: 0,
                    id: id.to_string(),
                    author: String::new(),
                    email: String::new(),
                    date: rfc3339(0),
                    repository: None,
                };
                tags.push(TagMessage {
                    message: object.data.to_vec(),
                    provenance: Provenance::GitMessage {
                        commit: Arc::new(info),
                        tag: Some(format!("{name} (tagged blob)")),
                    },
                });
                return;
            }
            // A ref straight to a tree is rarer still; not scanned.
            _ => return,
        }
    }
}

/// Reads every commit reachable from `tips` but not in `stop`, parents first.
/// Returns the commits and whether any parent was missing (shallow clone).
fn ancestors(
    repo: &gix::Repository,
    tips: &[ObjectId],
    stop: &HashSet<ObjectId>,
    sink: &mut impl BlobSink,
) -> (Vec<CommitNode>, bool) {
    let shallow: HashSet<ObjectId> = repo
        .shallow_commits()
        .ok()
        .flatten()
        .map(|commits| commits.iter().copied().collect())
        .unwrap_or_default();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut queue: VecDeque<ObjectId> =
        tips.iter().copied().filter(|t| !stop.contains(t)).collect();
    let mut nodes = Vec::new();
    let mut missing = false;
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id) {
            continue;
        }
        let object = match repo.find_object(id) {
            Ok(object) => object,
            Err(e) => {
                missing = true;
                sink.error(InputError { input: format!("commit {id}"), message: e.to_string() });
                continue;
            }
        };
        let Ok(commit) = CommitRef::from_bytes(&object.data, repo.object_hash()) else {
            sink.error(InputError {
                input: format!("commit {id}"),
                message: "malformed commit".into(),
            });
            continue;
        };
        let author = commit.author().ok();
        let timestamp = author.as_ref().map_or(0, |a| a.seconds());
        let node = CommitNode {
            id,
            tree: commit.tree(),
            parents: if shallow.contains(&id) { Vec::new() } else { commit.parents().collect() },
            info: Arc::new(Commit {
                timestamp,
                id: id.to_string(),
                author: author
                    .as_ref()
                    .map_or_else(String::new, |a| a.name.to_str_lossy().trim().to_string()),
                email: author
                    .as_ref()
                    .map_or_else(String::new, |a| a.email.to_str_lossy().trim().to_string()),
                date: rfc3339(timestamp),
                repository: None,
            }),
            message: commit.message.to_vec(),
        };
        for parent in &node.parents {
            if !stop.contains(parent) && !seen.contains(parent) {
                queue.push_back(*parent);
            }
        }
        nodes.push(node);
    }
    (parents_first(nodes), missing)
}

/// Orders commits so that every commit comes after its parents (ties: older first).
fn parents_first(nodes: Vec<CommitNode>) -> Vec<CommitNode> {
    let index: HashMap<ObjectId, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut depth = vec![usize::MAX; nodes.len()];
    for start in 0..nodes.len() {
        // Iterative post-order: a commit's depth is one more than its deepest parent's.
        let mut stack = vec![(start, false)];
        while let Some((i, expanded)) = stack.pop() {
            if depth[i] != usize::MAX {
                continue;
            }
            let parents: Vec<usize> =
                nodes[i].parents.iter().filter_map(|p| index.get(p).copied()).collect();
            if expanded {
                depth[i] = parents.iter().map(|&p| depth[p].saturating_add(1)).max().unwrap_or(0);
            } else {
                stack.push((i, true));
                stack.extend(
                    parents.into_iter().filter(|&p| depth[p] == usize::MAX).map(|p| (p, false)),
                );
            }
        }
    }
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by_key(|&i| (depth[i], nodes[i].info.timestamp));
    let mut slots: Vec<Option<CommitNode>> = nodes.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Every blob introduced by the commits `keep` accepts, with where it was introduced.
///
/// A commit that `keep` refuses (before `--since`) is walked only when it is a parent of one it
/// accepts: what an accepted commit shares with such a parent at the same path, it did not
/// introduce. Older refused commits are not walked at all, so a blob that one of them had and
/// an accepted commit brings back (a revert) counts as introduced again.
fn inventory(
    repo: &gix::Repository,
    commits: &[CommitNode],
    keep: impl Fn(&CommitNode) -> bool,
    sink: &mut impl BlobSink,
) -> Inventory {
    let mut blobs = Inventory::default();
    let mut walked: HashSet<(ObjectId, Arc<str>)> = HashSet::new();
    let boundary: HashSet<ObjectId> =
        commits.iter().filter(|c| keep(c)).flat_map(|c| c.parents.iter().copied()).collect();
    let mut inherited: HashSet<(ObjectId, Arc<str>)> = HashSet::new();
    for (index, commit) in commits.iter().enumerate() {
        let record = keep(commit);
        if !record && !boundary.contains(&commit.id) {
            continue;
        }
        let mut stack: Vec<(ObjectId, Arc<str>)> = vec![(commit.tree, Arc::from(""))];
        while let Some((tree, prefix)) = stack.pop() {
            if !walked.insert((tree, prefix.clone())) {
                continue;
            }
            let object = match repo.find_object(tree) {
                Ok(object) => object,
                Err(e) => {
                    sink.error(InputError {
                        input: format!(
                            "tree {tree} ({}) in commit {}",
                            display_prefix(&prefix),
                            commit.id
                        ),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            for entry in TreeRefIter::from_bytes(&object.data, repo.object_hash()) {
                let Ok(entry) = entry else {
                    sink.error(InputError {
                        input: format!("tree {tree} in commit {}", commit.id),
                        message: "malformed tree entry".into(),
                    });
                    break;
                };
                let path: Arc<str> = if prefix.is_empty() {
                    Arc::from(entry.filename.to_str_lossy().as_ref())
                } else {
                    Arc::from(format!("{prefix}/{}", entry.filename.to_str_lossy()))
                };
                if entry.mode.is_tree() {
                    stack.push((entry.oid.to_owned(), path));
                } else if entry.mode.is_blob() {
                    let id = entry.oid.to_owned();
                    if !record {
                        inherited.insert((id, path));
                    } else if inherited.is_empty() || !inherited.contains(&(id, path.clone())) {
                        let places = blobs.places(id);
                        if !places.iter().any(|o| o.path == path) {
                            places.push(Occurrence { commit: index, path });
                        }
                    }
                }
            }
        }
    }
    blobs
}

fn display_prefix(prefix: &str) -> &str {
    if prefix.is_empty() { "/" } else { prefix }
}

/// Path → blob id for every blob in a tree.
fn tree_blobs(
    repo: &gix::Repository,
    tree: ObjectId,
    out: &mut HashMap<String, ObjectId>,
    sink: &mut impl BlobSink,
) {
    tree_blobs_except(repo, tree, &HashSet::new(), out, sink);
}

/// Path → blob id for every blob in a tree, not descending into the directories `skip` names.
fn tree_blobs_except(
    repo: &gix::Repository,
    tree: ObjectId,
    skip: &HashSet<String>,
    out: &mut HashMap<String, ObjectId>,
    sink: &mut impl BlobSink,
) {
    let mut stack = vec![(tree, String::new())];
    while let Some((tree, prefix)) = stack.pop() {
        let object = match repo.find_object(tree) {
            Ok(object) => object,
            Err(e) => {
                sink.error(InputError { input: format!("tree {tree}"), message: e.to_string() });
                continue;
            }
        };
        for entry in TreeRefIter::from_bytes(&object.data, repo.object_hash()).flatten() {
            let path = if prefix.is_empty() {
                entry.filename.to_str_lossy().into_owned()
            } else {
                format!("{prefix}/{}", entry.filename.to_str_lossy())
            };
            if entry.mode.is_tree() {
                if !skip.contains(&path) {
                    stack.push((entry.oid.to_owned(), path));
                }
            } else if entry.mode.is_blob() {
                out.insert(path, entry.oid.to_owned());
            }
        }
    }
}

/// Adds blobs in the object database that no ref reaches.
fn unreachable_blobs(repo: &gix::Repository, inventory: &mut Inventory, sink: &mut impl BlobSink) {
    let iter = match repo.objects.iter() {
        Ok(iter) => iter,
        Err(e) => {
            sink.error(InputError { input: "object database".into(), message: e.to_string() });
            return;
        }
    };
    for id in iter {
        let Ok(id) = id else { continue };
        if inventory.contains(&id) {
            continue;
        }
        if let Ok(header) = repo.find_header(id)
            && header.kind() == gix::object::Kind::Blob
        {
            inventory.places(id);
        }
    }
}

fn scan_messages(commits: &[impl std::borrow::Borrow<CommitNode>], sink: &mut impl BlobSink) {
    for commit in commits {
        let commit = commit.borrow();
        sink.blob(
            &commit.message,
            Provenance::GitMessage { commit: commit.info.clone(), tag: None },
        );
    }
}

/// Reads one blob, applying the size limit and binary check. `None` when skipped or broken
/// (already reported to the sink).
fn read_blob(
    repo: &gix::Repository,
    id: ObjectId,
    options: &GitOptions,
    sink: &mut impl BlobSink,
) -> Option<Vec<u8>> {
    let what = || format!("blob {id}");
    match repo.find_header(id) {
        Ok(header) if header.size() > options.max_file_size => {
            sink.skipped(&what(), Skip::TooLarge);
            return None;
        }
        Ok(_) => {}
        Err(e) => {
            sink.error(InputError { input: what(), message: e.to_string() });
            return None;
        }
    }
    // gix reports corrupt data as errors; a panic deep in a decoder must still not end the scan.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        repo.find_object(id).map(|object| object.detach().data)
    }));
    let data = match read {
        Ok(Ok(data)) => data,
        Ok(Err(e)) => {
            sink.error(InputError { input: what(), message: e.to_string() });
            return None;
        }
        Err(_) => {
            sink.error(InputError { input: what(), message: "object could not be decoded".into() });
            return None;
        }
    };
    if let Some(utf8) = utf16_to_utf8(&data) {
        return Some(utf8);
    }
    if skip_as_binary(&data, options.scan_binary, &options.archives) {
        sink.skipped(&what(), Skip::Binary);
        return None;
    }
    Some(data)
}

/// Scans every listed blob once, in parallel.
fn scan_inventory<S: BlobSink>(
    repo: &gix::Repository,
    commits: &[CommitNode],
    inventory: Inventory,
    options: &GitOptions,
    make_sink: &(impl Fn() -> S + Sync),
) {
    let shared = repo.clone().into_sync();
    inventory.blobs.par_iter().for_each_init(
        || (shared.to_thread_local(), make_sink()),
        |(repo, sink), (id, places)| {
            let Some(data) = read_blob(repo, *id, options, sink) else { return };
            let mut provenances = || {
                if places.is_empty() {
                    return vec![Provenance::GitUnreachable { blob: id.to_string() }];
                }
                places
                    .iter()
                    .map(|o| Provenance::GitBlob {
                        commit: commits[o.commit].info.clone(),
                        path: o.path.to_string(),
                        blob: id.to_string(),
                    })
                    .collect()
            };
            match places.first() {
                Some(place) => sink.blob_named(&place.path, &data, &mut provenances, None),
                None => sink.blob_at(&data, &mut provenances, None),
            }
        },
    );
}

/// A changed blob to scan for what the change added.
struct Change {
    new: ObjectId,
    old: Option<ObjectId>,
    provenance: Provenance,
}

/// Index entries (stage 0) whose blob differs from `HEAD`'s at the same path, and the blobs of
/// `HEAD` paths the index no longer has (deleted or renamed away).
///
/// The index's cache-tree extension names directories whose staged content still equals a
/// tree object; where that tree is `HEAD`'s at the same path, nothing below it is staged, so
/// neither the index entries nor `HEAD`'s trees there are looked at. On 50,000 tracked files
/// with one staged, this keeps the hook's run near its start-up cost.
fn staged_changes(
    repo: &gix::Repository,
    path: &Path,
) -> Result<(Vec<Change>, Vec<ObjectId>), Error> {
    let index = repo
        .index_or_empty()
        .map_err(|e| Error::Index { path: path.to_path_buf(), message: e.to_string() })?;
    let head_tree = repo.head_tree_id().ok().map(|id| id.detach());
    let mut clean: HashSet<String> = HashSet::new();
    if let (Some(cache), Some(tree)) = (index.tree(), head_tree) {
        clean_dirs(repo, cache, tree, String::new(), &mut clean);
    }
    if clean.contains("") {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut head = HashMap::new();
    if let Some(tree) = head_tree {
        tree_blobs_except(repo, tree, &clean, &mut head, &mut NullSink);
    }
    let mut changes = Vec::new();
    let mut indexed: HashSet<String> = HashSet::new();
    for entry in index.entries() {
        if entry.stage_raw() != 0
            || !matches!(
                entry.mode,
                gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
            )
        {
            continue;
        }
        let entry_path = entry.path(&index).to_str_lossy().into_owned();
        if under_any(&entry_path, &clean) {
            continue;
        }
        indexed.insert(entry_path.clone());
        let old = head.get(&entry_path).copied();
        if old != Some(entry.id) {
            changes.push(Change {
                new: entry.id,
                old,
                provenance: Provenance::Staged { path: entry_path },
            });
        }
    }
    let removed = removed_blobs(&head, |path| indexed.contains(path));
    Ok((changes, removed))
}

/// Blobs of `before`'s paths that `still_there` says are gone: where a file renamed in the
/// change came from.
fn removed_blobs(
    before: &HashMap<String, ObjectId>,
    still_there: impl Fn(&str) -> bool,
) -> Vec<ObjectId> {
    let mut removed: Vec<ObjectId> =
        before.iter().filter(|(path, _)| !still_there(path)).map(|(_, id)| *id).collect();
    removed.sort();
    removed.dedup();
    removed
}

/// Most content of removed files compared against a new path; past it, a rename counts as new.
const MAX_MOVED_BYTES: usize = 16 << 20;

/// The content of the removed files, one after another: what a new path is compared with, so
/// that a file renamed (and perhaps edited) in the change does not report the secrets it
/// already held as added. A new path cannot tell which removed file it came from, so it is
/// compared with all of them.
fn moved_content(
    repo: &gix::Repository,
    removed: &[ObjectId],
    options: &GitOptions,
    sink: &mut impl BlobSink,
) -> OldContent {
    let mut moved = Vec::new();
    for &id in removed {
        let Some(data) = read_blob(repo, id, options, sink) else { continue };
        if moved.len() + data.len() > MAX_MOVED_BYTES {
            break;
        }
        moved.extend_from_slice(&data);
        moved.push(b'\n');
    }
    OldContent::new(moved)
}

/// Collects directories whose cache-tree entry is valid and equal to `HEAD`'s tree there.
fn clean_dirs(
    repo: &gix::Repository,
    cache: &gix::index::extension::Tree,
    head_tree: ObjectId,
    prefix: String,
    out: &mut HashSet<String>,
) {
    if cache.num_entries.is_some() && cache.id == head_tree {
        out.insert(prefix);
        return;
    }
    if cache.children.is_empty() {
        return;
    }
    let Ok(object) = repo.find_object(head_tree) else { return };
    let subtrees: HashMap<Vec<u8>, ObjectId> =
        TreeRefIter::from_bytes(&object.data, repo.object_hash())
            .flatten()
            .filter(|e| e.mode.is_tree())
            .map(|e| (e.filename.to_vec(), e.oid.to_owned()))
            .collect();
    drop(object);
    for child in &cache.children {
        if let Some(id) = subtrees.get(child.name.as_slice()) {
            let name = String::from_utf8_lossy(&child.name);
            let path =
                if prefix.is_empty() { name.into_owned() } else { format!("{prefix}/{name}") };
            clean_dirs(repo, child, *id, path, out);
        }
    }
}

/// True when `path` lies under one of `dirs`.
fn under_any(path: &str, dirs: &HashSet<String>) -> bool {
    !dirs.is_empty()
        && path.char_indices().filter(|&(_, c)| c == '/').any(|(i, _)| dirs.contains(&path[..i]))
}

/// Blobs introduced by the range's commits, each compared with the base's blob at its path.
fn range_changes(
    commits: &[CommitNode],
    inventory: Inventory,
    base_paths: &HashMap<String, ObjectId>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (id, places) in inventory.blobs {
        for place in places {
            let old = base_paths.get(place.path.as_ref()).copied();
            if old == Some(id) {
                continue;
            }
            changes.push(Change {
                new: id,
                old,
                provenance: Provenance::GitBlob {
                    commit: commits[place.commit].info.clone(),
                    path: place.path.to_string(),
                    blob: id.to_string(),
                },
            });
        }
    }
    changes
}

/// Scans each change for what it added; a new path is compared with `moved`, the content of
/// the files the change removed (its lines counted once for all of them).
fn scan_changes<S: BlobSink>(
    repo: &gix::Repository,
    changes: Vec<Change>,
    moved: &OldContent,
    options: &GitOptions,
    make_sink: &(impl Fn() -> S + Sync),
) {
    let shared = repo.clone().into_sync();
    changes.par_iter().for_each_init(
        || (shared.to_thread_local(), make_sink()),
        |(repo, sink), change| {
            let Some(data) = read_blob(repo, change.new, options, sink) else { return };
            let delta = match change.old {
                Some(old) => Delta::between(
                    repo.find_object(old).map(|o| o.detach().data).unwrap_or_default(),
                    &data,
                ),
                None => Delta::against(moved, &data),
            };
            let name = change.provenance.display_path();
            let mut once = Some(change.provenance.clone());
            sink.blob_named(&name, &data, &mut || once.take().into_iter().collect(), Some(&delta));
        },
    );
}

/// A sink for look-ups whose errors the caller does not report.
struct NullSink;

impl BlobSink for NullSink {
    fn blob_at(&mut self, _: &[u8], _: &mut dyn FnMut() -> Vec<Provenance>, _: Option<&Delta>) {}
    fn error(&mut self, _: InputError) {}
}
