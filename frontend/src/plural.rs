//! Counts in words, for every count the page shows: `plural(1, "error")` is
//! "1 error", `plural(2, "query")` is "2 queries". One place knows the
//! English plural of the nouns the page counts, so no page spells out
//! "1 errors" or "2 error" by hand.
//!
//! Callers pass the singular noun; a noun whose plural the rules below do
//! not form is listed in [`IRREGULAR`].

/// Nouns the regular rules get wrong, with their plurals.
const IRREGULAR: &[(&str, &str)] = &[
    ("child", "children"),
    ("datum", "data"),
    ("person", "people"),
    ("index", "indices"),
];

/// `n` and the noun, singular when `n` is 1: "1 error", "0 errors".
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {}", noun_for(n, noun))
}

/// The noun alone, in the number `n` asks for: "line" or "lines".
pub fn noun_for(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        plural_of(noun)
    }
}

/// The plural of a singular noun.
fn plural_of(noun: &str) -> String {
    if let Some((_, many)) = IRREGULAR.iter().find(|(one, _)| *one == noun) {
        return (*many).to_string();
    }
    let ends_in_consonant_y = noun.ends_with('y')
        && noun
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| !"aeiou".contains(c));
    if ends_in_consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e))
    {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(2, "error"), "2 errors");
        assert_eq!(plural(0, "warning"), "0 warnings");
        assert_eq!(plural(1, "byte"), "1 byte");
        assert_eq!(plural(1500, "byte"), "1500 bytes");
    }

    #[test]
    fn regular_spellings() {
        assert_eq!(plural(3, "query"), "3 queries");
        assert_eq!(plural(2, "reply"), "2 replies");
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(2, "day"), "2 days", "a vowel before y keeps it");
        assert_eq!(plural(2, "box"), "2 boxes");
        assert_eq!(plural(2, "match"), "2 matches");
        assert_eq!(plural(2, "address"), "2 addresses");
        assert_eq!(plural(2, "message"), "2 messages");
    }

    #[test]
    fn irregular_nouns() {
        assert_eq!(plural(2, "child"), "2 children");
        assert_eq!(plural(1, "child"), "1 child");
        assert_eq!(noun_for(4, "index"), "indices");
    }
}
