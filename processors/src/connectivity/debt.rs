//! The refresh instants of a silent node's sync debt: every `last_sync + k * refresh`
//! (k = 1, 2, ...). Plain arithmetic over event times; the machine in the parent module decides
//! when a node's debt is refreshed at all (not LIVE, with a last sync).

use sxfleet_schemas::EpochMillis;

/// The first refresh instant strictly after `now_ms`; `None` when `refresh_ms` is not positive.
pub fn next_refresh(
    last_sync_ms: EpochMillis,
    now_ms: EpochMillis,
    refresh_ms: i64,
) -> Option<EpochMillis> {
    if refresh_ms <= 0 {
        return None;
    }
    let periods = now_ms.saturating_sub(last_sync_ms).max(0) / refresh_ms + 1;
    Some(last_sync_ms.saturating_add(periods.saturating_mul(refresh_ms)))
}

/// The latest refresh instant at or before `t_ms`; `None` before the first one (or when
/// `refresh_ms` is not positive).
pub fn last_refresh(
    last_sync_ms: EpochMillis,
    t_ms: EpochMillis,
    refresh_ms: i64,
) -> Option<EpochMillis> {
    if refresh_ms <= 0 {
        return None;
    }
    let periods = t_ms.saturating_sub(last_sync_ms) / refresh_ms;
    (periods >= 1).then(|| last_sync_ms.saturating_add(periods.saturating_mul(refresh_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn refresh_instants_are_last_sync_plus_whole_periods() {
        // (last_sync, now or t, refresh, next after now, latest at or before t)
        type Case = (i64, i64, i64, Option<i64>, Option<i64>);
        let cases: &[Case] = &[
            (0, 0, 15 * MIN, Some(15 * MIN), None),
            (0, 15 * MIN - 1, 15 * MIN, Some(15 * MIN), None),
            (0, 15 * MIN, 15 * MIN, Some(30 * MIN), Some(15 * MIN)),
            (0, 44 * MIN, 15 * MIN, Some(45 * MIN), Some(30 * MIN)),
            // 17 h of silence: the 68th refresh is 61 200 s after the last sync.
            (
                1_000,
                1_000 + 1_020 * MIN,
                15 * MIN,
                Some(1_000 + 1_035 * MIN),
                Some(1_000 + 1_020 * MIN),
            ),
            // A time before the last sync (a late tick) still points at the first period.
            (60 * MIN, 0, 15 * MIN, Some(75 * MIN), None),
            (0, 10 * MIN, 0, None, None),
            (0, 10 * MIN, -5, None, None),
        ];
        for &(last_sync, t, refresh, next, last) in cases {
            assert_eq!(next_refresh(last_sync, t, refresh), next, "next {t}");
            assert_eq!(last_refresh(last_sync, t, refresh), last, "last {t}");
        }
        assert_eq!((1_020 * MIN) / 1_000, 61_200);
    }
}
