//! The event queue (D2): a min-heap keyed by `(time, seq)`. `seq` is assigned when an event is
//! scheduled, so events due at the same time run in the order they were scheduled (FIFO), and
//! inserting an event never reorders the others.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug)]
struct Entry<T> {
    time: SimTime,
    seq: u64,
    payload: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    /// Reversed so `BinaryHeap` (a max-heap) pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

#[derive(Debug)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    pub fn new() -> EventQueue<T> {
        EventQueue::default()
    }

    pub fn push(&mut self, time: SimTime, payload: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, payload });
    }

    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        self.heap.pop().map(|e| (e.time, e.payload))
    }

    /// The next entry, without removing it.
    pub fn peek(&self) -> Option<(SimTime, &T)> {
        self.heap.peek().map(|e| (e.time, &e.payload))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut EventQueue<&'static str>) -> Vec<(u64, &'static str)> {
        std::iter::from_fn(|| q.pop().map(|(t, p)| (t.as_ms(), p))).collect()
    }

    #[test]
    fn d2_equal_times_are_fifo() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "a");
        q.push(SimTime(1), "b");
        q.push(SimTime(5), "c");
        q.push(SimTime(5), "d");
        assert_eq!(drain(&mut q), vec![(1, "b"), (5, "a"), (5, "c"), (5, "d")]);
    }

    #[test]
    fn d2_inserting_a_noop_event_does_not_reorder_the_others() {
        let schedule = [(3, "x"), (1, "y"), (3, "z"), (2, "w"), (3, "v")];
        let mut plain = EventQueue::new();
        for (t, p) in schedule {
            plain.push(SimTime(t), p);
        }
        let mut with_noop = EventQueue::new();
        for (i, (t, p)) in schedule.into_iter().enumerate() {
            with_noop.push(SimTime(t), p);
            if i == 2 {
                with_noop.push(SimTime(3), "noop");
            }
        }
        let without: Vec<_> = drain(&mut with_noop)
            .into_iter()
            .filter(|(_, p)| *p != "noop")
            .collect();
        assert_eq!(without, drain(&mut plain));
    }
}
