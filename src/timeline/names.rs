//! Interned identifiers. Records carry `Sym`s (4 bytes) instead of strings so the per-event
//! path never allocates; names are rendered only at output.
//!
//! Lookup goes through a hash index keyed by `stable_hash` (FNV-1a) of the text. The index is
//! only ever probed, never iterated, so it cannot leak an order into output (D3); symbols are
//! numbered in interning order.

use crate::hash::stable_hash;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// An interned name (instance id, activity id, image id, message text ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(u32);

impl Sym {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The keys are already well-mixed hashes: pass them through.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Index = HashMap<u64, Sym, BuildHasherDefault<IdentityHasher>>;

/// The name table. Strings are shared (`Arc<str>`), so cloning a table (one per run of a sweep)
/// allocates no string.
#[derive(Debug, Clone, Default)]
pub struct Names {
    strings: Vec<Arc<str>>,
    index: Index,
    /// Texts whose hash slot is taken by a different text (hash collisions; practically empty).
    collisions: BTreeMap<Arc<str>, Sym>,
    /// Bytes the table holds (`kept_bytes`), counted as names are added.
    bytes: u64,
}

/// What one name costs besides its text: the `Arc` header and pointer, and its index entry
/// (hashbrown: key, value and control byte, at its load factor).
const NAME_OVERHEAD_BYTES: u64 = 16 + 16 + 24;

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    pub fn with_capacity(n: usize) -> Names {
        Names {
            strings: Vec::with_capacity(n),
            index: Index::with_capacity_and_hasher(n, Default::default()),
            collisions: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn intern(&mut self, text: &str) -> Sym {
        let h = stable_hash(text.as_bytes());
        match self.index.get(&h) {
            Some(sym) if &*self.strings[sym.index()] == text => *sym,
            Some(_) => {
                if let Some(sym) = self.collisions.get(text) {
                    return *sym;
                }
                let sym = self.push(text);
                self.collisions
                    .insert(self.strings[sym.index()].clone(), sym);
                sym
            }
            None => {
                let sym = self.push(text);
                self.index.insert(h, sym);
                sym
            }
        }
    }

    fn push(&mut self, text: &str) -> Sym {
        let sym = Sym(u32::try_from(self.strings.len()).expect("fewer than 2^32 names"));
        self.strings.push(Arc::from(text));
        self.bytes += text.len() as u64 + NAME_OVERHEAD_BYTES;
        sym
    }

    /// The bytes the table holds: every name's text and its overhead (D12: a run that interns
    /// a new name at every call, such as its request ids, is bounded by what they cost).
    pub fn kept_bytes(&self) -> u64 {
        self.bytes
    }

    pub fn lookup(&self, text: &str) -> Option<Sym> {
        let sym = *self.index.get(&stable_hash(text.as_bytes()))?;
        if &*self.strings[sym.index()] == text {
            Some(sym)
        } else {
            self.collisions.get(text).copied()
        }
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.strings[sym.index()]
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent() {
        let mut names = Names::new();
        let a = names.intern("ins-a");
        let b = names.intern("ins-b");
        assert_ne!(a, b);
        assert_eq!(names.intern("ins-a"), a);
        assert_eq!(names.get(b), "ins-b");
        assert_eq!(names.lookup("ins-c"), None);
        assert_eq!(names.lookup("ins-b"), Some(b));
    }

    #[test]
    fn symbols_follow_interning_order() {
        let mut names = Names::new();
        let syms: Vec<Sym> = ["z", "a", "m"].iter().map(|t| names.intern(t)).collect();
        assert_eq!(
            syms.iter().map(|s| s.index()).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn a_hash_collision_still_keeps_texts_apart() {
        let mut names = Names::new();
        let a = names.intern("first");
        // Force a collision: put "second" under the hash slot of "first".
        let h = stable_hash(b"second");
        names.index.insert(h, a);
        let b = names.intern("second");
        assert_ne!(a, b);
        assert_eq!(names.lookup("second"), Some(b));
        assert_eq!(names.lookup("first"), Some(a));
        assert_eq!(names.intern("second"), b);
    }
}
