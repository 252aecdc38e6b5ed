//! Time zones as people name them: an IANA name in any case, a city (every city of the IANA
//! database, spaces for underscores, plus a table of large cities that are not zone names), a
//! country, a common abbreviation ("CET", "EST") or a UTC offset ("UTC+2").
//!
//! Invariant: a name resolves to one zone or to none; nothing here guesses between several.
//! Abbreviations name the zone people mean, not a fixed offset: "EST" is America/New_York
//! (daylight saving included), as in "what time is it in EST".

use chrono_tz::{TZ_VARIANTS, Tz};

/// Abbreviations and other short names, lowercase.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("utc", "UTC"),
    ("gmt", "Etc/GMT"),
    ("z", "UTC"),
    ("zulu", "UTC"),
    ("cet", "Europe/Paris"),
    ("cest", "Europe/Paris"),
    ("met", "Europe/Paris"),
    ("eet", "Europe/Athens"),
    ("eest", "Europe/Athens"),
    ("wet", "Europe/Lisbon"),
    ("west", "Europe/Lisbon"),
    ("bst", "Europe/London"),
    ("msk", "Europe/Moscow"),
    ("est", "America/New_York"),
    ("edt", "America/New_York"),
    ("et", "America/New_York"),
    ("eastern", "America/New_York"),
    ("cst", "America/Chicago"),
    ("cdt", "America/Chicago"),
    ("ct", "America/Chicago"),
    ("central", "America/Chicago"),
    ("mst", "America/Denver"),
    ("mdt", "America/Denver"),
    ("mt", "America/Denver"),
    ("mountain", "America/Denver"),
    ("pst", "America/Los_Angeles"),
    ("pdt", "America/Los_Angeles"),
    ("pt", "America/Los_Angeles"),
    ("pacific", "America/Los_Angeles"),
    ("akst", "America/Anchorage"),
    ("hst", "Pacific/Honolulu"),
    ("ast", "America/Halifax"),
    ("nst", "America/St_Johns"),
    ("ist", "Asia/Kolkata"),
    ("pkt", "Asia/Karachi"),
    ("jst", "Asia/Tokyo"),
    ("kst", "Asia/Seoul"),
    ("hkt", "Asia/Hong_Kong"),
    ("sgt", "Asia/Singapore"),
    ("wib", "Asia/Jakarta"),
    ("aest", "Australia/Sydney"),
    ("aedt", "Australia/Sydney"),
    ("acst", "Australia/Adelaide"),
    ("awst", "Australia/Perth"),
    ("nzst", "Pacific/Auckland"),
    ("nzdt", "Pacific/Auckland"),
    ("sast", "Africa/Johannesburg"),
    ("cat", "Africa/Maputo"),
    ("eat", "Africa/Nairobi"),
    ("wat", "Africa/Lagos"),
    ("brt", "America/Sao_Paulo"),
    ("art", "America/Argentina/Buenos_Aires"),
];

/// Large cities that are not the last part of an IANA name, lowercase, with their zone.
const CITIES: &[(&str, &str)] = &[
    // North America
    ("new york city", "America/New_York"),
    ("nyc", "America/New_York"),
    ("washington", "America/New_York"),
    ("washington dc", "America/New_York"),
    ("boston", "America/New_York"),
    ("philadelphia", "America/New_York"),
    ("atlanta", "America/New_York"),
    ("miami", "America/New_York"),
    ("orlando", "America/New_York"),
    ("pittsburgh", "America/New_York"),
    ("baltimore", "America/New_York"),
    ("charlotte", "America/New_York"),
    ("cleveland", "America/New_York"),
    ("columbus", "America/New_York"),
    ("montreal", "America/Toronto"),
    ("ottawa", "America/Toronto"),
    ("quebec", "America/Toronto"),
    ("houston", "America/Chicago"),
    ("dallas", "America/Chicago"),
    ("austin", "America/Chicago"),
    ("san antonio", "America/Chicago"),
    ("new orleans", "America/Chicago"),
    ("minneapolis", "America/Chicago"),
    ("st louis", "America/Chicago"),
    ("saint louis", "America/Chicago"),
    ("kansas city", "America/Chicago"),
    ("nashville", "America/Chicago"),
    ("milwaukee", "America/Chicago"),
    ("salt lake city", "America/Denver"),
    ("albuquerque", "America/Denver"),
    ("calgary", "America/Edmonton"),
    ("san francisco", "America/Los_Angeles"),
    ("seattle", "America/Los_Angeles"),
    ("portland", "America/Los_Angeles"),
    ("san diego", "America/Los_Angeles"),
    ("san jose", "America/Los_Angeles"),
    ("las vegas", "America/Los_Angeles"),
    ("sacramento", "America/Los_Angeles"),
    ("silicon valley", "America/Los_Angeles"),
    ("la", "America/Los_Angeles"),
    ("honolulu", "Pacific/Honolulu"),
    ("hawaii", "Pacific/Honolulu"),
    ("alaska", "America/Anchorage"),
    ("guadalajara", "America/Mexico_City"),
    ("monterrey", "America/Monterrey"),
    ("havana", "America/Havana"),
    // South America
    ("rio de janeiro", "America/Sao_Paulo"),
    ("rio", "America/Sao_Paulo"),
    ("brasilia", "America/Sao_Paulo"),
    ("buenos aires", "America/Argentina/Buenos_Aires"),
    ("quito", "America/Guayaquil"),
    ("medellin", "America/Bogota"),
    // Europe
    ("geneva", "Europe/Zurich"),
    ("basel", "Europe/Zurich"),
    ("munich", "Europe/Berlin"),
    ("hamburg", "Europe/Berlin"),
    ("frankfurt", "Europe/Berlin"),
    ("cologne", "Europe/Berlin"),
    ("stuttgart", "Europe/Berlin"),
    ("dusseldorf", "Europe/Berlin"),
    ("milan", "Europe/Rome"),
    ("naples", "Europe/Rome"),
    ("florence", "Europe/Rome"),
    ("venice", "Europe/Rome"),
    ("turin", "Europe/Rome"),
    ("barcelona", "Europe/Madrid"),
    ("valencia", "Europe/Madrid"),
    ("seville", "Europe/Madrid"),
    ("porto", "Europe/Lisbon"),
    ("lyon", "Europe/Paris"),
    ("marseille", "Europe/Paris"),
    ("nice", "Europe/Paris"),
    ("toulouse", "Europe/Paris"),
    ("bordeaux", "Europe/Paris"),
    ("manchester", "Europe/London"),
    ("birmingham", "Europe/London"),
    ("liverpool", "Europe/London"),
    ("edinburgh", "Europe/London"),
    ("glasgow", "Europe/London"),
    ("cardiff", "Europe/London"),
    ("rotterdam", "Europe/Amsterdam"),
    ("the hague", "Europe/Amsterdam"),
    ("antwerp", "Europe/Brussels"),
    ("krakow", "Europe/Warsaw"),
    ("st petersburg", "Europe/Moscow"),
    ("saint petersburg", "Europe/Moscow"),
    ("gothenburg", "Europe/Stockholm"),
    ("salzburg", "Europe/Vienna"),
    ("kiev", "Europe/Kyiv"),
    // Asia
    ("beijing", "Asia/Shanghai"),
    ("peking", "Asia/Shanghai"),
    ("guangzhou", "Asia/Shanghai"),
    ("shenzhen", "Asia/Shanghai"),
    ("chengdu", "Asia/Shanghai"),
    ("wuhan", "Asia/Shanghai"),
    ("hangzhou", "Asia/Shanghai"),
    ("nanjing", "Asia/Shanghai"),
    ("tianjin", "Asia/Shanghai"),
    ("xian", "Asia/Shanghai"),
    ("chongqing", "Asia/Shanghai"),
    ("mumbai", "Asia/Kolkata"),
    ("bombay", "Asia/Kolkata"),
    ("delhi", "Asia/Kolkata"),
    ("new delhi", "Asia/Kolkata"),
    ("bangalore", "Asia/Kolkata"),
    ("bengaluru", "Asia/Kolkata"),
    ("chennai", "Asia/Kolkata"),
    ("madras", "Asia/Kolkata"),
    ("hyderabad", "Asia/Kolkata"),
    ("pune", "Asia/Kolkata"),
    ("ahmedabad", "Asia/Kolkata"),
    ("calcutta", "Asia/Kolkata"),
    ("lahore", "Asia/Karachi"),
    ("islamabad", "Asia/Karachi"),
    ("osaka", "Asia/Tokyo"),
    ("kyoto", "Asia/Tokyo"),
    ("yokohama", "Asia/Tokyo"),
    ("nagoya", "Asia/Tokyo"),
    ("sapporo", "Asia/Tokyo"),
    ("busan", "Asia/Seoul"),
    ("hanoi", "Asia/Bangkok"),
    ("saigon", "Asia/Ho_Chi_Minh"),
    ("ho chi minh city", "Asia/Ho_Chi_Minh"),
    ("abu dhabi", "Asia/Dubai"),
    ("doha", "Asia/Qatar"),
    ("abu dhabi city", "Asia/Dubai"),
    ("mecca", "Asia/Riyadh"),
    ("jeddah", "Asia/Riyadh"),
    ("tel aviv", "Asia/Jerusalem"),
    ("ankara", "Europe/Istanbul"),
    ("bali", "Asia/Makassar"),
    ("cebu", "Asia/Manila"),
    ("phnom penh", "Asia/Phnom_Penh"),
    ("kuala lumpur", "Asia/Kuala_Lumpur"),
    // Africa and Oceania
    ("cape town", "Africa/Johannesburg"),
    ("pretoria", "Africa/Johannesburg"),
    ("durban", "Africa/Johannesburg"),
    ("marrakesh", "Africa/Casablanca"),
    ("rabat", "Africa/Casablanca"),
    ("alexandria", "Africa/Cairo"),
    ("addis ababa", "Africa/Addis_Ababa"),
    ("dar es salaam", "Africa/Dar_es_Salaam"),
    ("abuja", "Africa/Lagos"),
    ("canberra", "Australia/Sydney"),
    ("gold coast", "Australia/Brisbane"),
    ("wellington", "Pacific/Auckland"),
    ("christchurch", "Pacific/Auckland"),
];

/// Countries (lowercase) with the zone of their capital or largest city.
const COUNTRIES: &[(&str, &str)] = &[
    ("usa", "America/New_York"),
    ("us", "America/New_York"),
    ("united states", "America/New_York"),
    ("america", "America/New_York"),
    ("canada", "America/Toronto"),
    ("mexico", "America/Mexico_City"),
    ("brazil", "America/Sao_Paulo"),
    ("argentina", "America/Argentina/Buenos_Aires"),
    ("chile", "America/Santiago"),
    ("colombia", "America/Bogota"),
    ("peru", "America/Lima"),
    ("venezuela", "America/Caracas"),
    ("uk", "Europe/London"),
    ("united kingdom", "Europe/London"),
    ("england", "Europe/London"),
    ("britain", "Europe/London"),
    ("great britain", "Europe/London"),
    ("scotland", "Europe/London"),
    ("wales", "Europe/London"),
    ("ireland", "Europe/Dublin"),
    ("france", "Europe/Paris"),
    ("germany", "Europe/Berlin"),
    ("spain", "Europe/Madrid"),
    ("portugal", "Europe/Lisbon"),
    ("italy", "Europe/Rome"),
    ("netherlands", "Europe/Amsterdam"),
    ("holland", "Europe/Amsterdam"),
    ("belgium", "Europe/Brussels"),
    ("switzerland", "Europe/Zurich"),
    ("austria", "Europe/Vienna"),
    ("poland", "Europe/Warsaw"),
    ("czechia", "Europe/Prague"),
    ("czech republic", "Europe/Prague"),
    ("hungary", "Europe/Budapest"),
    ("romania", "Europe/Bucharest"),
    ("greece", "Europe/Athens"),
    ("sweden", "Europe/Stockholm"),
    ("norway", "Europe/Oslo"),
    ("denmark", "Europe/Copenhagen"),
    ("finland", "Europe/Helsinki"),
    ("ukraine", "Europe/Kyiv"),
    ("russia", "Europe/Moscow"),
    ("turkey", "Europe/Istanbul"),
    ("israel", "Asia/Jerusalem"),
    ("egypt", "Africa/Cairo"),
    ("saudi arabia", "Asia/Riyadh"),
    ("uae", "Asia/Dubai"),
    ("united arab emirates", "Asia/Dubai"),
    ("iran", "Asia/Tehran"),
    ("pakistan", "Asia/Karachi"),
    ("india", "Asia/Kolkata"),
    ("bangladesh", "Asia/Dhaka"),
    ("nepal", "Asia/Kathmandu"),
    ("china", "Asia/Shanghai"),
    ("taiwan", "Asia/Taipei"),
    ("japan", "Asia/Tokyo"),
    ("korea", "Asia/Seoul"),
    ("south korea", "Asia/Seoul"),
    ("thailand", "Asia/Bangkok"),
    ("vietnam", "Asia/Ho_Chi_Minh"),
    ("philippines", "Asia/Manila"),
    ("indonesia", "Asia/Jakarta"),
    ("malaysia", "Asia/Kuala_Lumpur"),
    ("south africa", "Africa/Johannesburg"),
    ("nigeria", "Africa/Lagos"),
    ("kenya", "Africa/Nairobi"),
    ("morocco", "Africa/Casablanca"),
    ("ethiopia", "Africa/Addis_Ababa"),
    ("australia", "Australia/Sydney"),
    ("new zealand", "Pacific/Auckland"),
    ("iceland", "Atlantic/Reykjavik"),
];

/// The zone `name` means, if it means exactly one.
pub fn resolve(name: &str) -> Option<Tz> {
    let name = name.trim();
    let key = normalise(name);
    if key.is_empty() {
        return None;
    }
    // A name without a slash is looked up as people mean it before the database's legacy
    // names: "CET" and "EST" there are fixed offsets without daylight saving, "Japan" and
    // "Singapore" old aliases; the tables and the cities give the zone itself.
    let short = || {
        table(ABBREVIATIONS, &key)
            .or_else(|| offset(&key))
            .or_else(|| table(CITIES, &key))
            .or_else(|| city(&key))
            .or_else(|| table(COUNTRIES, &key))
    };
    let found = if name.contains('/') { None } else { short() };
    found
        .or_else(|| name.parse::<Tz>().ok())
        .or_else(|| {
            TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            // "Paris, France", "Tokyo (Japan)": the city alone.
            let first = key.split([',', '(']).next()?.trim();
            (first != key).then(|| resolve(first)).flatten()
        })
        .or_else(|| {
            // "Asia/London", "America/Berlin": a wrong region before a city that is right.
            let (_, last) = name.rsplit_once('/')?;
            let key = normalise(last);
            table(CITIES, &key).or_else(|| city(&key))
        })
}

/// Lowercase, without dots, "time" and "city" suffixes, with single spaces.
fn normalise(name: &str) -> String {
    let lower = name.to_lowercase().replace(['.', '_'], " ");
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut words = words.as_slice();
    while let [rest @ .., last] = words
        && matches!(
            *last,
            "time" | "timezone" | "zone" | "standard" | "daylight"
        )
        && !rest.is_empty()
    {
        words = rest;
    }
    words.join(" ")
}

fn table(entries: &[(&str, &str)], key: &str) -> Option<Tz> {
    let (_, zone) = entries.iter().find(|(name, _)| *name == key)?;
    zone.parse().ok()
}

/// A city that is the last part of an IANA name ("Tokyo", "New York", "los angeles"). Only
/// canonical-looking names count (`Area/City`), so "Japan" or "US/Pacific" never match here.
fn city(key: &str) -> Option<Tz> {
    let wanted = key.replace(' ', "_");
    TZ_VARIANTS.iter().copied().find(|tz| {
        let name = tz.name();
        name.contains('/')
            && !name.starts_with("Etc/")
            && name
                .rsplit('/')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(&wanted))
    })
}

/// "UTC+2", "GMT-05:30", "+9": a fixed offset in whole hours, as an `Etc/GMT` zone.
fn offset(key: &str) -> Option<Tz> {
    let rest = key
        .strip_prefix("utc")
        .or_else(|| key.strip_prefix("gmt"))
        .unwrap_or(key)
        .trim();
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits = digits.trim();
    let hours: i32 = digits.strip_suffix(":00").unwrap_or(digits).parse().ok()?;
    if !(0..=14).contains(&hours) {
        return None;
    }
    if hours == 0 {
        return Some(Tz::UTC);
    }
    // The Etc zones' signs are POSIX-inverted: Etc/GMT-9 is UTC+9.
    let name = format!("Etc/GMT{}{hours}", if sign > 0 { '-' } else { '+' });
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Option<&'static str> {
        resolve(name).map(|tz| tz.name())
    }

    #[test]
    fn iana_names_in_any_case() {
        assert_eq!(zone("Asia/Tokyo"), Some("Asia/Tokyo"));
        assert_eq!(zone("europe/paris"), Some("Europe/Paris"));
        assert_eq!(zone(" UTC "), Some("UTC"));
    }

    #[test]
    fn cities_of_the_zone_database() {
        assert_eq!(zone("Tokyo"), Some("Asia/Tokyo"));
        assert_eq!(zone("Paris"), Some("Europe/Paris"));
        assert_eq!(zone("london"), Some("Europe/London"));
        assert_eq!(zone("New York"), Some("America/New_York"));
        assert_eq!(zone("Los Angeles"), Some("America/Los_Angeles"));
        assert_eq!(zone("los_angeles"), Some("America/Los_Angeles"));
        assert_eq!(zone("Buenos Aires"), Some("America/Argentina/Buenos_Aires"));
        assert_eq!(zone("Sydney"), Some("Australia/Sydney"));
    }

    #[test]
    fn cities_that_are_not_zone_names() {
        assert_eq!(zone("San Francisco"), Some("America/Los_Angeles"));
        assert_eq!(zone("Beijing"), Some("Asia/Shanghai"));
        assert_eq!(zone("Mumbai"), Some("Asia/Kolkata"));
        assert_eq!(zone("Washington, D.C."), Some("America/New_York"));
        assert_eq!(zone("Paris, France"), Some("Europe/Paris"));
        assert_eq!(zone("Tokyo time"), Some("Asia/Tokyo"));
    }

    #[test]
    fn a_city_under_the_wrong_region() {
        assert_eq!(zone("Asia/London"), Some("Europe/London"));
        assert_eq!(zone("America/Berlin"), Some("Europe/Berlin"));
        assert_eq!(zone("Europe/San_Francisco"), Some("America/Los_Angeles"));
        assert_eq!(zone("Asia/Atlantis"), None);
    }

    #[test]
    fn abbreviations_countries_and_offsets() {
        assert_eq!(zone("CET"), Some("Europe/Paris"));
        assert_eq!(zone("EST"), Some("America/New_York"));
        assert_eq!(zone("pst"), Some("America/Los_Angeles"));
        assert_eq!(zone("Japan"), Some("Asia/Tokyo"));
        assert_eq!(zone("Germany"), Some("Europe/Berlin"));
        assert_eq!(zone("UTC+2"), Some("Etc/GMT-2"));
        assert_eq!(zone("GMT-5"), Some("Etc/GMT+5"));
        assert_eq!(zone("utc+0"), Some("UTC"));
    }

    #[test]
    fn unknown_names_resolve_to_nothing() {
        assert_eq!(zone("Mars/Olympus"), None);
        assert_eq!(zone("Atlantis"), None);
        assert_eq!(zone(""), None);
        assert_eq!(zone("UTC+99"), None);
    }

    #[test]
    fn every_table_entry_is_a_zone() {
        for (name, zone) in ABBREVIATIONS.iter().chain(CITIES).chain(COUNTRIES) {
            assert!(zone.parse::<Tz>().is_ok(), "{name} → {zone}");
            assert_eq!(normalise(name), *name, "table keys are normalised");
        }
    }
}
