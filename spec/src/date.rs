//! Calendar dates for changelogs (no clock is ever read: output must be reproducible).

/// Parses `YYYY-MM-DD` into seconds since the Unix epoch (midnight UTC).
pub fn parse_ymd(text: &str) -> Option<i64> {
    let text = text.trim();
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape_ok {
        return None;
    }
    let mut parts = text.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1970..=9999).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Formats epoch seconds as an RFC 2822 date in UTC, as Debian changelogs want it.
pub fn rfc2822(epoch: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[m as usize - 1],
        y,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Formats epoch seconds as the date of an RPM `%changelog` entry (`Tue Mar 4 2025`).
pub fn rpm_changelog(epoch: i64) -> String {
    let full = rfc2822(epoch);
    // "Tue, 04 Mar 2025 00:00:00 +0000" → "Tue Mar 4 2025"
    let parts: Vec<&str> = full.split(' ').collect();
    let day = parts[1].trim_start_matches('0');
    format!(
        "{} {} {day} {}",
        parts[0].trim_end_matches(','),
        parts[2],
        parts[3]
    )
}

/// Formats epoch seconds as an RFC 3339 time in UTC, as OCI image configs want it
/// (`1970-01-01T00:00:00Z`).
pub fn rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_changelog_dates_are_unpadded() {
        assert_eq!(rpm_changelog(1_741_046_400), "Tue Mar 4 2025");
        assert_eq!(rpm_changelog(1_671_321_600), "Sun Dec 18 2022");
    }

    #[test]
    fn round_trips_known_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            parse_ymd("2024-02-29").map(rfc2822).as_deref(),
            Some("Thu, 29 Feb 2024 00:00:00 +0000")
        );
        assert_eq!(rfc2822(1_764_288_000), "Fri, 28 Nov 2025 00:00:00 +0000");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_288_000 + 3_723), "2025-11-28T01:02:03Z");
        assert_eq!(parse_ymd("2023-02-29"), None);
        assert_eq!(parse_ymd("2023-13-01"), None);
        assert_eq!(parse_ymd("yesterday"), None);
        assert_eq!(parse_ymd("2024-1-5"), None);
    }
}
