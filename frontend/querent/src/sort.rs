//! A stable sort that is small in the wasm: a bottom-up merge sort of
//! indices (n log n comparisons, no element moved until the order is
//! known), then one pass that puts the elements in that order. The
//! standard library's sorts cost some kilobytes of code per element type;
//! the engine sorts lists of four types (query keys and summaries, the
//! persisted queries, restored mutations), some of them thousands long.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, keeping equal elements in their order.
pub(crate) fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = merge_order(v.len(), &|a, b| cmp(&v[a], &v[b]));
    let mut items: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| items[i].take()));
}

/// The indices `0..n` in sorted order by `cmp` of two indices: one copy of
/// the merging for every element type.
fn merge_order(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut merged = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut k) = (start, mid, start);
            while i < mid && j < end {
                // The left run wins ties: stable.
                if cmp(order[j], order[i]) == Ordering::Less {
                    merged[k] = order[j];
                    j += 1;
                } else {
                    merged[k] = order[i];
                    i += 1;
                }
                k += 1;
            }
            merged[k..k + (mid - i)].copy_from_slice(&order[i..mid]);
            k += mid - i;
            merged[k..end].copy_from_slice(&order[j..end]);
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::sort_by;

    #[test]
    fn sorts_stably() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e'), (0, 'f')];
        sort_by(&mut v, |a, b| a.0.cmp(&b.0));
        assert_eq!(
            v,
            [(0, 'f'), (1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]
        );
        for n in [2, 3, 500, 1023, 1025] {
            let mut long: Vec<(u32, usize)> = (0..n).map(|i| ((i as u32 * 7919) % 97, i)).collect();
            let mut expected = long.clone();
            expected.sort_by_key(|x| x.0);
            sort_by(&mut long, |a, b| a.0.cmp(&b.0));
            assert_eq!(long, expected, "n = {n}: sorted, ties in their order");
        }
        let mut empty: Vec<u8> = vec![];
        sort_by(&mut empty, u8::cmp);
        assert!(empty.is_empty());
    }
}
