//! Where each scanned content occurs, known only once every layer was read: a content is
//! scanned once, at its first place, and its hits are then copied to every other place
//! (same bytes, so the same lines and columns), each marked with the layer that removed it.
//! A hit in an archive member (`app.jar!/a.properties`) is copied the same way, by the content
//! of the file at its root: the same jar in two layers gives two locations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::layer::{Listing, normalize};
use crate::finding::Hit;
use crate::provenance::{ImageInfo, Provenance};

/// One layer of one image.
#[derive(Debug)]
pub struct LayerSlot {
    /// The listing (index into [`ImageFacts`]' listings).
    pub job: usize,
    /// The layer's digest.
    pub digest: String,
    /// Its `created_by` in this image.
    pub created_by: Option<String>,
}

/// What the layers held: for each image, its layers in order, and for each distinct layer,
/// its files and whiteouts.
#[derive(Debug, Default)]
pub struct ImageFacts {
    images: Vec<(Arc<ImageInfo>, Vec<LayerSlot>)>,
    listings: Vec<Listing>,
}

impl ImageFacts {
    pub(super) fn new(
        images: Vec<(Arc<ImageInfo>, Vec<LayerSlot>)>,
        listings: Vec<Listing>,
    ) -> ImageFacts {
        ImageFacts { images, listings }
    }

    /// Distinct files listed across layers (for the log).
    pub fn files(&self) -> usize {
        self.listings.iter().map(|l| l.files.len()).sum()
    }

    /// Replaces each hit in an image file by one hit per place its content occurs, in every
    /// layer of every image scanned, with `removed_in` set where a later layer of that image
    /// deletes or replaces the file. A hit inside an archive in a layer is placed the same
    /// way, by its top-level file. Other hits pass through.
    pub fn expand(&self, hits: Vec<Hit>) -> Vec<Hit> {
        let wanted: HashSet<[u8; 32]> =
            hits.iter().filter_map(|h| root_blob(&h.location.provenance)).collect();
        if wanted.is_empty() {
            return hits;
        }
        let places = self.places(&wanted);
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let found = root_blob(&hit.location.provenance)
                .and_then(|b| places.get(&b))
                .filter(|p| !p.is_empty());
            match found {
                Some(places) => {
                    for place in places {
                        let mut copy = hit.clone();
                        copy.location.provenance = rebase(&hit.location.provenance, place);
                        out.push(copy);
                    }
                }
                None => out.push(hit),
            }
        }
        out
    }

    /// Every place of each wanted content.
    fn places(&self, wanted: &HashSet<[u8; 32]>) -> HashMap<[u8; 32], Vec<Provenance>> {
        let mut places: HashMap<[u8; 32], Vec<Provenance>> = HashMap::new();
        for (image, layers) in &self.images {
            for (index, slot) in layers.iter().enumerate() {
                let Some(listing) = self.listings.get(slot.job) else { continue };
                for (path, hash) in &listing.files {
                    if !wanted.contains(hash) {
                        continue;
                    }
                    places.entry(*hash).or_default().push(Provenance::ImageFile {
                        image: image.clone(),
                        layer_index: index,
                        layer_digest: slot.digest.clone(),
                        path: path.to_string(),
                        blob: format!("sha256:{}", super::store::hex(hash)),
                        created_by: slot.created_by.clone(),
                        removed_in: self.removed_in(layers, index, path),
                    });
                }
            }
        }
        places
    }

    /// The first layer above `index` that hides `path`.
    fn removed_in(&self, layers: &[LayerSlot], index: usize, path: &str) -> Option<usize> {
        let path = normalize(path);
        (index + 1..layers.len()).find(|&upper| {
            self.listings.get(layers[upper].job).is_some_and(|listing| listing.hides(&path))
        })
    }
}

/// The content hash of the layer file at the root of `provenance`.
fn root_blob(provenance: &Provenance) -> Option<[u8; 32]> {
    match provenance.root() {
        Provenance::ImageFile { blob, .. } => parse_blob(blob),
        _ => None,
    }
}

/// `provenance` with its root (the layer file) replaced by `root`; archive members kept.
fn rebase(provenance: &Provenance, root: &Provenance) -> Provenance {
    let mut rebased = provenance.clone();
    let mut at = &mut rebased;
    while let Provenance::Nested { parent, .. }
    | Provenance::Notebook { parent, .. }
    | Provenance::Decoded { parent, .. } = at
    {
        at = parent;
    }
    *at = root.clone();
    rebased
}

fn parse_blob(blob: &str) -> Option<[u8; 32]> {
    let hex = blob.strip_prefix("sha256:")?.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_round_trip() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        let text = format!("sha256:{}", super::super::store::hex(&bytes));
        assert_eq!(parse_blob(&text), Some(bytes));
        assert_eq!(parse_blob("sha256:zz"), None);
    }

    #[test]
    fn rebasing_keeps_the_archive_members() {
        let image = Arc::new(ImageInfo {
            reference: "oci:img".into(),
            digest: "sha256:abc".into(),
            platform: None,
        });
        let file = |layer_index| Provenance::ImageFile {
            image: image.clone(),
            layer_index,
            layer_digest: format!("sha256:{layer_index}"),
            path: "app.jar".into(),
            blob: "sha256:00".into(),
            created_by: None,
            removed_in: None,
        };
        let member = |root| Provenance::Nested {
            parent: Box::new(Provenance::Nested {
                parent: Box::new(root),
                member: "lib/inner.jar".into(),
            }),
            member: "a.properties".into(),
        };
        assert_eq!(rebase(&member(file(0)), &file(3)), member(file(3)));
        assert_eq!(rebase(&file(0), &file(3)), file(3));
        assert_eq!(
            member(file(3)).display_path(),
            "oci:img@sha256:abc/layer 3/app.jar!/lib/inner.jar!/a.properties"
        );
    }
}
