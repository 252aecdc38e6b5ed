//! The `time` built-in: the current time in an IANA time zone, and conversion of a wall-clock
//! time between two zones (chrono-tz's database, compiled in; no network).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, Offset, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `current_time`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CurrentTimeArgs {
    /// IANA time zone name such as "Europe/Paris" or "Asia/Tokyo" (a city name also works); UTC
    /// when left out.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Arguments of `convert_time`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ConvertTimeArgs {
    /// Wall-clock time in the source zone, 24-hour "HH:MM", taken on today's date there.
    pub time: String,
    /// IANA time zone of `time`, such as "America/New_York".
    pub source_timezone: String,
    /// IANA time zone to convert to, such as "Asia/Tokyo".
    pub target_timezone: String,
}

/// The `time` MCP server.
#[derive(Debug, Clone)]
pub struct TimeServer {
    tool_router: ToolRouter<Self>,
}

impl Default for TimeServer {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router]
impl TimeServer {
    /// A server with its tools registered.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "The current date and time in an IANA time zone (default UTC), as ISO 8601 with the UTC offset, plus the weekday."
    )]
    fn current_time(&self, Parameters(args): Parameters<CurrentTimeArgs>) -> CallToolResult {
        let zone = args.timezone.as_deref().unwrap_or("UTC");
        super::outcome(parse_zone(zone).map(|tz| describe_now(Utc::now(), tz)))
    }

    #[tool(
        description = "Convert a 24-hour wall-clock time (\"HH:MM\", today in the source zone) from one IANA time zone to another."
    )]
    fn convert_time(&self, Parameters(args): Parameters<ConvertTimeArgs>) -> CallToolResult {
        let today = |tz: Tz| Utc::now().with_timezone(&tz).date_naive();
        let result = parse_zone(&args.source_timezone).and_then(|source| {
            let target = parse_zone(&args.target_timezone)?;
            convert(&args.time, today(source), source, target)
        });
        super::outcome(result)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TimeServer {
    fn get_info(&self) -> ServerConfig {
        super::info(
            "time",
            "Current time and time-zone conversion. Zones are IANA names such as \"Asia/Tokyo\".",
        )
    }
}

/// The zone `name` means: an IANA name, a city, a country, an abbreviation or a UTC offset
/// (see `zones`); or a message saying how to write one. The reply names the zone it used.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    super::zones::resolve(name).ok_or_else(|| {
        format!(
            "unknown time zone {name:?}; use an IANA name such as \"Asia/Tokyo\", \"Europe/London\", \"America/New_York\" or \"UTC\", or a large city"
        )
    })
}

/// `now` in `tz`: text and structured content.
pub fn describe_now(now: DateTime<Utc>, tz: Tz) -> (String, Value) {
    let local = now.with_timezone(&tz);
    let iso = local.to_rfc3339_opts(SecondsFormat::Secs, false);
    let weekday = local.format("%A").to_string();
    // Plain words first: small models answer from a sentence more readily than from a
    // timestamp they feel they must convert.
    let text = format!(
        "In {} it is now {} on {weekday}, {} (UTC{}; {iso}).",
        tz.name(),
        local.format("%H:%M"),
        local.format("%-d %B %Y"),
        local.format("%:z"),
    );
    let structured = json!({
        "timezone": tz.name(),
        "datetime": iso,
        "weekday": weekday,
        "utc_offset": local.format("%:z").to_string(),
    });
    (text, structured)
}

/// The wall-clock time in `text`: "HH:MM" as the schema asks, or what a model writes instead
/// ("10:00 London time", "4pm", "9:30 am", "16:00:00", "noon"): the first clock time in it.
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let lower = text.trim().to_ascii_lowercase();
    match lower.as_str() {
        "noon" | "midday" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let bytes = lower.as_bytes();
    let start = bytes.iter().position(u8::is_ascii_digit)?;
    let rest = &lower[start..];
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let hour_len = digits(rest);
    let mut hour: u32 = rest[..hour_len].parse().ok()?;
    let mut after = &rest[hour_len..];
    let mut minute = 0;
    let colon = after.starts_with(':');
    if let Some(m) = after.strip_prefix(':') {
        let n = digits(m);
        if n != 2 {
            return None;
        }
        minute = m[..2].parse().ok()?;
        after = &m[2..];
        // Seconds are dropped.
        if let Some(sec) = after.strip_prefix(':') {
            after = &sec[digits(sec)..];
        }
    } else if hour_len > 2 {
        return None;
    }
    match after.trim_start().get(..2) {
        Some("pm") if (1..=12).contains(&hour) => hour = hour % 12 + 12,
        Some("am") if (1..=12).contains(&hour) => hour %= 12,
        Some("am" | "pm") => return None,
        // A bare number is not a time ("4" could be anything); "4pm" and "16:00" are.
        _ if !colon => return None,
        _ => {}
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// `time` ("HH:MM") on `date` in `source`, converted to `target`.
pub fn convert(
    time: &str,
    date: NaiveDate,
    source: Tz,
    target: Tz,
) -> Result<(String, Value), String> {
    let clock = parse_clock(time).ok_or_else(|| {
        format!("invalid time {time:?}; write it as 24-hour \"HH:MM\", e.g. \"14:30\"")
    })?;
    let from = match source.from_local_datetime(&date.and_time(clock)) {
        LocalResult::Single(t) => t,
        // A time repeated by a daylight-saving change: take the first occurrence.
        LocalResult::Ambiguous(first, _) => first,
        LocalResult::None => {
            return Err(format!(
                "{time} does not exist in {} on {date} (skipped by a daylight-saving change)",
                source.name()
            ));
        }
    };
    let to = from.with_timezone(&target);
    let offset = |t: &DateTime<Tz>| i64::from(t.offset().fix().local_minus_utc());
    let diff_hours = (offset(&to) - offset(&from)) as f64 / 3600.0;
    let day = match to
        .date_naive()
        .signed_duration_since(from.date_naive())
        .num_days()
    {
        0 => "",
        1 => ", next day",
        -1 => ", previous day",
        _ => ", another day",
    };
    let text = format!(
        "{} {} ({}) is {} {} ({}{day}); difference {:+}h",
        from.format("%H:%M"),
        source.name(),
        from.format("%a"),
        to.format("%H:%M"),
        target.name(),
        to.format("%a"),
        diff_hours
    );
    let side = |t: &DateTime<Tz>, tz: Tz| {
        json!({
            "timezone": tz.name(),
            "datetime": t.to_rfc3339_opts(SecondsFormat::Secs, false),
            "weekday": t.format("%A").to_string(),
        })
    };
    let structured = json!({
        "source": side(&from, source),
        "target": side(&to, target),
        "time_difference_hours": diff_hours,
    });
    Ok((text, structured))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn now_in_tokyo_has_its_offset_and_weekday() {
        let now = Utc.with_ymd_and_hms(2025, 1, 6, 3, 0, 0).unwrap();
        let (text, value) = describe_now(now, parse_zone("Asia/Tokyo").unwrap());
        assert_eq!(
            text,
            "In Asia/Tokyo it is now 12:00 on Monday, 6 January 2025 (UTC+09:00; 2025-01-06T12:00:00+09:00)."
        );
        assert_eq!(value["utc_offset"], "+09:00");
        assert_eq!(value["weekday"], "Monday");
    }

    #[test]
    fn unknown_zone_says_how_to_write_one() {
        let err = parse_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("Asia/Tokyo"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn converts_across_the_date_line() {
        let ny = parse_zone("America/New_York").unwrap();
        let tokyo = parse_zone("Asia/Tokyo").unwrap();
        let (text, value) = convert("20:30", date(2025, 1, 6), ny, tokyo).unwrap();
        assert_eq!(
            text,
            "20:30 America/New_York (Mon) is 10:30 Asia/Tokyo (Tue, next day); difference +14h"
        );
        assert_eq!(value["target"]["datetime"], "2025-01-07T10:30:00+09:00");
        assert_eq!(value["time_difference_hours"], 14.0);
    }

    #[test]
    fn bad_times_and_dst_gaps_are_errors() {
        let utc = parse_zone("UTC").unwrap();
        assert!(convert("25:00", date(2025, 1, 6), utc, utc).is_err());
        assert!(convert("teatime", date(2025, 1, 6), utc, utc).is_err());
        let paris = parse_zone("Europe/Paris").unwrap();
        let gap = convert("02:30", date(2025, 3, 30), paris, utc).unwrap_err();
        assert!(gap.contains("does not exist"), "{gap}");
    }

    #[test]
    fn clock_times_are_read_as_models_write_them() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        for (text, want) in [
            ("14:30", t(14, 30)),
            ("9:05", t(9, 5)),
            ("10:00 London time", t(10, 0)),
            ("4pm", t(16, 0)),
            ("4 PM", t(16, 0)),
            ("9:30 am", t(9, 30)),
            ("12am", t(0, 0)),
            ("12pm", t(12, 0)),
            ("16:00:00", t(16, 0)),
            ("noon", t(12, 0)),
            ("at 7:45", t(7, 45)),
        ] {
            assert_eq!(parse_clock(text), want, "{text}");
        }
        for text in ["", "4", "25:00", "13pm", "0am", "10:5", "1430", "later"] {
            assert_eq!(parse_clock(text), None, "{text}");
        }
    }
}
