//! ISBN-10 and ISBN-13 check digits.

/// Normalises an ISBN (hyphens and spaces removed) and checks its check
/// digit. Returns the normalised form, or `None` when it is not a valid
/// ISBN-10 or ISBN-13.
pub fn normalize_isbn(input: &str) -> Option<String> {
    let compact: String = input.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let valid = match compact.len() {
        10 => isbn10_valid(compact.as_bytes()),
        13 => isbn13_valid(compact.as_bytes()),
        _ => false,
    };
    valid.then_some(compact)
}

fn isbn10_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().enumerate() {
        let value = match d {
            b'0'..=b'9' => u32::from(d - b'0'),
            b'X' | b'x' if i == 9 => 10,
            _ => return false,
        };
        sum += value * (10 - i as u32);
    }
    sum.is_multiple_of(11)
}

fn isbn13_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().enumerate() {
        if !d.is_ascii_digit() {
            return false;
        }
        let weight = if i % 2 == 0 { 1 } else { 3 };
        sum += u32::from(d - b'0') * weight;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_isbns() {
        assert_eq!(
            normalize_isbn("0-306-40615-2").as_deref(),
            Some("0306406152")
        );
        assert_eq!(
            normalize_isbn("978-0-306-40615-7").as_deref(),
            Some("9780306406157")
        );
        assert_eq!(
            normalize_isbn("0-8044-2957-X").as_deref(),
            Some("080442957X")
        );
    }

    #[test]
    fn invalid_isbns() {
        for bad in [
            "0-306-40615-3",
            "978-0-306-40615-8",
            "12345",
            "X306406152",
            "97803064061A7",
            "",
            "０３０６４０６１５２",
        ] {
            assert_eq!(normalize_isbn(bad), None, "{bad}");
        }
    }
}
