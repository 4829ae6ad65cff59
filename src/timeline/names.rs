//! Interned identifiers. Records carry `Sym`s (4 bytes) instead of strings so the per-event
//! path never allocates; names are rendered only at output.

use std::collections::BTreeMap;

/// An interned name (instance id, activity id, image id, message text ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(u32);

impl Sym {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The name table. Lookup is ordered (`BTreeMap`), never hashed, so nothing here can leak
/// iteration order into output (D3).
#[derive(Debug, Clone, Default)]
pub struct Names {
    strings: Vec<Box<str>>,
    index: BTreeMap<Box<str>, Sym>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(sym) = self.index.get(text) {
            return *sym;
        }
        let sym = Sym(u32::try_from(self.strings.len()).expect("fewer than 2^32 names"));
        self.strings.push(text.into());
        self.index.insert(text.into(), sym);
        sym
    }

    pub fn lookup(&self, text: &str) -> Option<Sym> {
        self.index.get(text).copied()
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
    }
}
