//! A stable sort that is small in the wasm: binary insertion (n log n
//! comparisons; the moves are memmoves). The standard library's sorts are
//! faster on long lists but cost some kilobytes per element type; the
//! engine sorts short lists (queries, mutations) of four types.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, keeping equal elements in their order.
pub(crate) fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let (sorted, rest) = v.split_at(i);
        let at = sorted.partition_point(|x| cmp(x, &rest[0]) != Ordering::Greater);
        if at < i {
            let item = v.remove(i);
            v.insert(at, item);
        }
    }
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
        let mut long: Vec<u32> = (0..500).map(|i| (i * 7919) % 500).collect();
        sort_by(&mut long, u32::cmp);
        assert!(long.windows(2).all(|w| w[0] <= w[1]) && long.len() == 500);
        let mut empty: Vec<u8> = vec![];
        sort_by(&mut empty, u8::cmp);
        assert!(empty.is_empty());
    }
}
