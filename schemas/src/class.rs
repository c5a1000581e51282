//! Class names as schools write them, to one code, so that rosters and reports meet
//! (REPORTING.md "Values, cells and rows"): `七年级(1)班`, `初一1班`, `7年级1班`, `7-1`, and `1班`
//! or `(1)班` beside a grade of 7 are all class `7-1`. Anything else is kept as sent (`701`,
//! `A班`, `火箭班`): a code a school uses for itself is not ours to reinterpret.

/// The grade words before a class number: `七年级`, `7年级`, `初一`, `高三`, `一年级`.
fn grade_prefix(t: &str) -> Option<(u32, &str)> {
    if let Some(at) = t.find("年级") {
        let g = number(&t[..at])?;
        return (1..=12)
            .contains(&g)
            .then_some((g, &t[at + "年级".len()..]));
    }
    for (stage, offset) in [("初", 6), ("高", 9)] {
        if let Some(rest) = t.strip_prefix(stage) {
            // `初一`, `初1`, `高三`: one numeral, then the class.
            let mut chars = rest.char_indices();
            let (_, c) = chars.next()?;
            let end = chars.next().map_or(rest.len(), |(i, _)| i);
            let g = number(&c.to_string())?;
            return (1..=3).contains(&g).then_some((g + offset, &rest[end..]));
        }
    }
    None
}

/// A number written in digits or in Chinese numerals up to 99 (`12`, `十二`, `二十一`).
fn number(t: &str) -> Option<u32> {
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 3 {
        return t.parse().ok();
    }
    const DIGITS: &str = "一二三四五六七八九";
    let digit = |c: char| DIGITS.chars().position(|d| d == c).map(|i| i as u32 + 1);
    let chars: Vec<char> = t.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', c] => Some(10 + digit(*c)?),
        [a, '十'] => Some(digit(*a)? * 10),
        [a, '十', c] => Some(digit(*a)? * 10 + digit(*c)?),
        _ => None,
    }
}

/// The class number of `1班`, `(1)班`, `（1）班`, `01班`, `一班`, or a bare `1`.
fn class_number(t: &str) -> Option<u32> {
    let t = t.trim();
    let t = t.strip_suffix('班').unwrap_or(t);
    let t = t
        .strip_prefix(['(', '（'])
        .and_then(|x| x.strip_suffix([')', '）']))
        .unwrap_or(t);
    let n = number(t.trim())?;
    (1..=99).contains(&n).then_some(n)
}

/// The class code a written class name stands for, given the row's grade when it has one.
/// Returns the text as sent (trimmed) when it does not name a grade and a class.
pub fn normalise(text: &str, grade: Option<u32>) -> String {
    let t = text.trim();
    // A code of letters and digits alone (`701`, `A1`) names no grade word, dash or 班: kept.
    if t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return t.to_string();
    }
    if let Some((g, rest)) = grade_prefix(t) {
        if let Some(n) = class_number(rest) {
            return format!("{g}-{n}");
        }
    }
    // `7-1`, `7－1`: grade and class with a dash.
    if let Some((g, c)) = t.split_once(['-', '－']) {
        if let (Some(g), Some(n)) = (number(g.trim()), class_number(c)) {
            if (1..=12).contains(&g) {
                return format!("{g}-{n}");
            }
        }
    }
    // `1班`, `(1)班` beside a grade column. A bare number is a class number only when it is
    // written as one (with 班), so codes like `701` stay as they are.
    if let Some(g) = grade.filter(|g| (1..=12).contains(g)) {
        if t.ends_with('班') {
            if let Some(n) = class_number(t) {
                return format!("{g}-{n}");
            }
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn the_ways_schools_write_a_class_meet() {
        for written in [
            "七年级(1)班",
            "七年级（1）班",
            "七年级1班",
            "7年级1班",
            "7年级(01)班",
            "初一1班",
            "初一(1)班",
            "初1(1)班",
            "七年级一班",
            "7-1",
            " 7－1 ",
        ] {
            assert_eq!(normalise(written, None), "7-1", "{written}");
        }
        assert_eq!(normalise("1班", Some(7)), "7-1");
        assert_eq!(normalise("(1)班", Some(7)), "7-1");
        assert_eq!(normalise("高三(12)班", None), "12-12");
        assert_eq!(normalise("一年级二班", None), "1-2");
        assert_eq!(normalise("十二年级3班", None), "12-3");
        // Codes a school uses for itself are kept.
        for kept in ["701", "A班", "火箭班", "1班", "13-1", "初四1班"] {
            assert_eq!(normalise(kept, None), kept, "{kept}");
        }
        assert_eq!(normalise("701", Some(7)), "701");
    }
}
