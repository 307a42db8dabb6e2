//! A rollout's maintenance window: `"HH:MM-HH:MM"` in the domain's local time, optionally
//! preceded by the weekdays it opens on (`"Sat,Sun 22:00-02:00"`). A window whose end is not
//! after its start wraps midnight (it belongs to the day it opens on); equal ends mean the
//! whole day. Pure.

use sxfleet_schemas::EpochMillis;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A parsed maintenance window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Bit `d` set: the window opens on weekday `d` (0 = Monday).
    days: u8,
    /// Opening, minutes after local midnight.
    start_min: i64,
    /// Closing, minutes after local midnight (of the next day when not after `start_min`).
    end_min: i64,
}

/// Why a `maintenance_window` constraint cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("maintenance window {0:?} is not \"[Mon,Tue,.. ]HH:MM-HH:MM\"")]
pub struct WindowError(pub String);

impl Window {
    /// Parses `"HH:MM-HH:MM"` or `"Sat,Sun HH:MM-HH:MM"` (weekday names in English, any case,
    /// three letters or more).
    ///
    /// # Errors
    /// [`WindowError`] when the text is not of that form.
    pub fn parse(text: &str) -> Result<Window, WindowError> {
        let bad = || WindowError(text.to_owned());
        let text_trimmed = text.trim();
        let (days_text, range) = match text_trimmed.rsplit_once(' ') {
            Some((days, range)) => (Some(days.trim()), range),
            None => (None, text_trimmed),
        };
        let days = match days_text {
            None => 0x7f,
            Some(list) => {
                let mut bits = 0u8;
                for name in list.split(',') {
                    let name = name.trim().to_ascii_lowercase();
                    let day = WEEKDAYS
                        .iter()
                        .position(|d| name.len() >= 3 && d.starts_with(&name[..3]))
                        .ok_or_else(bad)?;
                    bits |= 1 << day;
                }
                bits
            }
        };
        let (start, end) = range.split_once('-').ok_or_else(bad)?;
        let clock = |hm: &str| -> Option<i64> {
            let (h, m) = hm.trim().split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
        };
        Ok(Window {
            days,
            start_min: clock(start).ok_or_else(bad)?,
            end_min: clock(end).ok_or_else(bad)?,
        })
    }

    fn opens_on(&self, day: i64) -> bool {
        // 1970-01-01 was a Thursday (weekday 3).
        let weekday = (day + 3).rem_euclid(7);
        self.days & (1 << weekday) != 0
    }

    fn span(&self, day: i64) -> (i64, i64) {
        let start = day * DAY_MS + self.start_min * MINUTE_MS;
        let length = (self.end_min - self.start_min).rem_euclid(24 * 60);
        let length = if length == 0 { 24 * 60 } else { length };
        (start, start + length * MINUTE_MS)
    }

    /// Whether the window is open at `at_ms`, in a domain `utc_offset_minutes` ahead of UTC.
    pub fn is_open(&self, at_ms: EpochMillis, utc_offset_minutes: i32) -> bool {
        let local = at_ms + i64::from(utc_offset_minutes) * MINUTE_MS;
        let today = local.div_euclid(DAY_MS);
        [today - 1, today].into_iter().any(|day| {
            let (start, end) = self.span(day);
            self.opens_on(day) && start <= local && local < end
        })
    }

    /// The first instant at or after `at_ms` at which the window is open.
    pub fn next_open(&self, at_ms: EpochMillis, utc_offset_minutes: i32) -> EpochMillis {
        if self.is_open(at_ms, utc_offset_minutes) {
            return at_ms;
        }
        let offset = i64::from(utc_offset_minutes) * MINUTE_MS;
        let local = at_ms + offset;
        let today = local.div_euclid(DAY_MS);
        (today..today + 8)
            .filter(|day| self.opens_on(*day))
            .map(|day| self.span(day).0)
            .find(|start| *start >= local)
            .map_or(at_ms + 7 * DAY_MS, |start| start - offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-02-27 was a Friday.
    const FRI: i64 = 1_772_150_400_000;
    const H: i64 = 3_600_000;

    #[test]
    fn windows_parse_or_say_why() {
        let w = Window::parse("22:00-02:30").unwrap();
        assert_eq!((w.days, w.start_min, w.end_min), (0x7f, 1320, 150));
        let w = Window::parse("Sat,sunday 01:00-03:00").unwrap();
        assert_eq!(w.days, 0b110_0000);
        for bad in ["", "22-23", "25:00-01:00", "Xyz 01:00-02:00", "01:00"] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_and_next_opening_in_domain_time() {
        // (window, at, utc offset, open?, next opening)
        let cases = [
            ("01:00-03:00", FRI + 2 * H, 0, true, FRI + 2 * H),
            ("01:00-03:00", FRI + 3 * H, 0, false, FRI + 25 * H),
            // Wrapping midnight: open late Friday and early Saturday.
            ("22:00-02:00", FRI + 23 * H, 0, true, FRI + 23 * H),
            ("22:00-02:00", FRI + 25 * H, 0, true, FRI + 25 * H),
            ("22:00-02:00", FRI + 12 * H, 0, false, FRI + 22 * H),
            // +02:00: local 01:00 is 23:00 UTC the day before.
            ("01:00-03:00", FRI + 23 * H, 120, true, FRI + 23 * H),
            ("01:00-03:00", FRI + 2 * H, 120, false, FRI + 23 * H),
            // -05:30: local 01:00 is 06:30 UTC.
            ("01:00-03:00", FRI + 6 * H, -330, false, FRI + 6 * H + H / 2),
            // Weekdays: Friday is not a weekend day; the next opening is Saturday 01:00.
            ("Sat,Sun 01:00-03:00", FRI + 2 * H, 0, false, FRI + 25 * H),
            ("Sat,Sun 01:00-03:00", FRI + 26 * H, 0, true, FRI + 26 * H),
            // A Saturday window wrapping into Sunday is open on Sunday morning...
            ("Sat 23:00-02:00", FRI + 48 * H + H, 0, true, FRI + 49 * H),
            // ...but a Sunday-only window is not open early Sunday from Saturday's night.
            ("Sun 23:00-02:00", FRI + 49 * H, 0, false, FRI + 71 * H),
            ("00:00-00:00", FRI + 5 * H, 0, true, FRI + 5 * H),
        ];
        for (text, at, offset, open, next) in cases {
            let w = Window::parse(text).unwrap();
            assert_eq!(w.is_open(at, offset), open, "{text} at {at} {offset}");
            assert_eq!(w.next_open(at, offset), next, "{text} at {at} {offset}");
        }
    }
}
