//! What a Redis 7.0 configuration parameter is (its type, bounds and flags,
//! as `standardConfig` in Redis's src/config.c) and how CONFIG SET checks a
//! value for it, with Redis's own error texts (issue 26). The parameters
//! themselves are in `config_table.rs`, generated from config.c.

use super::strings::parse_i64;

/// CONFIG SET refuses it: "can't set immutable config".
pub const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses it while `enable-protected-configs` is `no`, its
/// default (and the only value percore has): "can't set protected config".
pub const PROTECTED: u8 = 2;
/// CONFIG GET shows it only when asked by its exact name.
pub const HIDDEN: u8 = 4;
/// Its value is several words, split at each space.
pub const MULTI_ARG: u8 = 8;

/// One configuration parameter.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// Redis's older name (`slaveof` for `replicaof`), listed by CONFIG GET
    /// beside the name and taken by CONFIG SET alike.
    pub alias: Option<&'static str>,
    pub flags: u8,
    /// The value CONFIG GET shows before any CONFIG SET, as Redis shows it.
    pub default: &'static str,
    pub kind: Kind,
}

/// What values a parameter takes.
#[derive(Debug)]
pub enum Kind {
    /// `yes` or `no`.
    Bool,
    /// Any string.
    Text,
    /// One of the names, any case; each with the name Redis shows for it.
    Enum(&'static [(&'static str, &'static str)]),
    /// Several of the names at once (`shutdown-on-sigint`), the first one
    /// meaning none.
    Flags(&'static [(&'static str, &'static str)]),
    /// A number within bounds, checked as unsigned where Redis does.
    Number {
        min: i128,
        max: i128,
        unit: Unit,
        unsigned: bool,
    },
    /// A parameter with its own syntax.
    Special(Special),
}

/// How a number is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Integer,
    /// Bytes, or with Redis's units (1k, 1kb, 1m, 1mb, 1g, 1gb).
    Memory,
    /// Bytes, or a percentage (`maxmemory-clients 10%`).
    MemoryOrPercent,
    Octal,
}

/// The parameters Redis reads with a function of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    Percentiles,
}

impl Param {
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// `value` as CONFIG GET will show it once set, or why Redis refuses it
    /// (the text after "CONFIG SET failed ... - "); `current` is its value
    /// now, which `client-output-buffer-limit` changes only in part.
    pub fn check(&self, value: &[u8], current: &str) -> Result<String, String> {
        let text = String::from_utf8_lossy(value);
        match &self.kind {
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Text => Ok(text.into_owned()),
            Kind::Enum(names) => names
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&text))
                .map(|(_, shown)| shown.to_string())
                .ok_or_else(|| one_of(names)),
            Kind::Flags(names) => flags(names, &text),
            Kind::Number {
                min,
                max,
                unit,
                unsigned,
            } => number(&text, *min, *max, *unit, *unsigned),
            Kind::Special(Special::ClientOutputBufferLimit) => output_buffer_limit(current, &text),
            Kind::Special(special) => special_value(*special, &text),
        }
    }
}

fn one_of(names: &[(&str, &str)]) -> String {
    let all: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
    format!(
        "argument(s) must be one of the following: {}",
        all.join(", ")
    )
}

/// configEnumGetValue with bit flags, then configEnumGetName: the names set,
/// in the table's order, or the first (none) when no other is.
fn flags(names: &[(&str, &str)], text: &str) -> Result<String, String> {
    let mut set = vec![false; names.len()];
    if text.is_empty() {
        return Err(one_of(names));
    }
    for word in text.split(' ') {
        let at = names
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case(word))
            .ok_or_else(|| one_of(names))?;
        set[at] = true;
    }
    let on = |name: &str| names.iter().zip(&set).any(|((n, _), s)| *s && *n == name);
    if on("save") && on("nosave") {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    let shown: Vec<&str> = names
        .iter()
        .zip(&set)
        .skip(1)
        .filter(|(_, s)| **s)
        .map(|((_, shown), _)| *shown)
        .collect();
    Ok(if shown.is_empty() {
        names[0].1.to_string()
    } else {
        shown.join(" ")
    })
}

/// Redis's memtoull: digits then an optional unit; no sign. Like Redis, no
/// digits at all reads as 0 and an overflow is not caught.
pub fn memtoull(text: &str) -> Option<u64> {
    if text.starts_with('-') {
        return None;
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let n = if digits.is_empty() {
        0
    } else {
        digits.parse::<u64>().unwrap_or(u64::MAX)
    };
    Some(n.wrapping_mul(multiplier))
}

/// numericParseString, numericBoundaryCheck and numericConfigGet.
fn number(text: &str, min: i128, max: i128, unit: Unit, unsigned: bool) -> Result<String, String> {
    let memory = matches!(unit, Unit::Memory | Unit::MemoryOrPercent);
    let percent = || {
        let digits = text.strip_suffix('%').filter(|_| text.len() > 1)?;
        parse_i64(digits.as_bytes()).filter(|n| *n >= 0).map(|n| -n)
    };
    let parsed = if memory {
        memtoull(text)
            .map(|n| n as i64)
            .or_else(|| percent().filter(|_| unit == Unit::MemoryOrPercent))
    } else if unit == Unit::Octal {
        i64::from_str_radix(text.trim_start(), 8).ok()
    } else {
        parse_i64(text.as_bytes())
    };
    let Some(n) = parsed else {
        return Err(match unit {
            Unit::MemoryOrPercent => "argument must be a memory or percent value",
            Unit::Memory => "argument must be a memory value",
            Unit::Octal => "argument couldn't be parsed as an octal number",
            Unit::Integer => "argument couldn't be parsed into an integer",
        }
        .into());
    };
    if unsigned {
        let (low, high, value) = (min as u64, max as u64, n as u64);
        if value < low || value > high {
            return Err(if unit == Unit::Octal {
                format!("argument must be between {low:o} and {high:o} inclusive")
            } else {
                format!("argument must be between {low} and {high} inclusive")
            });
        }
    } else if unit == Unit::MemoryOrPercent && n < 0 {
        if i128::from(n) < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ));
        }
    } else if i128::from(n) < min || i128::from(n) > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(match unit {
        Unit::MemoryOrPercent if n < 0 => format!("{}%", -i128::from(n)),
        Unit::Memory | Unit::MemoryOrPercent => (n as u64).to_string(),
        Unit::Octal => format!("{n:o}"),
        Unit::Integer => n.to_string(),
    })
}

/// C's strtoll over the whole word, as Redis's special parameters read
/// numbers: leading blanks and a sign allowed, and an empty word is 0.
fn strtoll_whole(word: &str) -> Option<i64> {
    if word.is_empty() {
        return Some(0);
    }
    let trimmed = word.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        trimmed
            .parse::<i64>()
            .unwrap_or(if trimmed.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }),
    )
}

/// The words of a MULTI_ARG value, split at each space as Redis's
/// sdssplitlen does; one empty value is none.
fn words(text: &str) -> Vec<&str> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(' ').collect()
    }
}

fn special_value(special: Special, text: &str) -> Result<String, String> {
    let words = words(text);
    match special {
        // dir and replicaof are refused before they are read (PROTECTED,
        // IMMUTABLE); bind is kept as given.
        Special::Dir | Special::ReplicaOf | Special::Bind => {
            if special == Special::Bind && words.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(words.join(" "))
        }
        Special::Save => {
            let numbers: Option<Vec<i64>> = words.iter().map(|w| strtoll_whole(w)).collect();
            match numbers {
                Some(numbers)
                    if numbers.len() % 2 == 0
                        && numbers.chunks(2).all(|pair| pair[0] >= 1 && pair[1] >= 0) =>
                {
                    let shown: Vec<String> = numbers
                        .chunks(2)
                        .map(|pair| format!("{} {}", pair[0], pair[1] as i32))
                        .collect();
                    Ok(shown.join(" "))
                }
                _ => Err("Invalid save parameters".into()),
            }
        }
        Special::OomScoreAdjValues => {
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let values: Option<Vec<i64>> = words
                .iter()
                .map(|w| strtoll_whole(w).filter(|v| (-2000..=2000).contains(v)))
                .collect();
            let values = values
                .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
            Ok(values
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" "))
        }
        Special::Percentiles => {
            let mut shown = Vec::new();
            for word in &words {
                let p: f64 = word
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite())
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .into(),
                    );
                }
                let fixed = format!("{p:.6}");
                shown.push(
                    fixed
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string(),
                );
            }
            Ok(shown.join(" "))
        }
        // Checked by notify.rs, which the caller asks.
        Special::NotifyKeyspaceEvents | Special::ClientOutputBufferLimit => Ok(text.to_string()),
    }
}

/// updateClientOutputBufferLimit: `class hard soft seconds`, repeated,
/// changing the classes named in `current` (normal, replica, pubsub).
pub fn output_buffer_limit(current: &str, text: &str) -> Result<String, String> {
    let words = words(text);
    if words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut classes: Vec<Vec<String>> = current
        .split(' ')
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().map(|w| w.to_string()).collect())
        .collect();
    for limit in words.chunks(4) {
        let class = match limit[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = memtoull(limit[1]);
        let soft = memtoull(limit[2]);
        let seconds = strtoll_whole(limit[3]).filter(|s| *s as i32 >= 0);
        let (Some(hard), Some(soft), Some(seconds)) = (hard, soft, seconds) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        if let Some(entry) = classes.get_mut(class) {
            *entry = vec![
                entry.first().cloned().unwrap_or_default(),
                hard.to_string(),
                soft.to_string(),
                (seconds as i32).to_string(),
            ];
        }
    }
    Ok(classes
        .iter()
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(" "))
}
