//! Swift spelling: identifiers, reserved words and string literals. A name from the model
//! (a parameter, an input) becomes a property or a comment, so it must never break the
//! generated source.

/// Swift's reserved words (declarations, statements, expressions and types), which need
/// backticks as property names.
const KEYWORDS: &[&str] = &[
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout", "internal", "let",
    "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static", "struct", "subscript",
    "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard",
    "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self",
    "Self", "super", "throws", "true", "try",
];

/// An ASCII Swift identifier (letters, digits, `_`, not starting with a digit). Core ML looks
/// the class up by this name, so a class name must be one as is.
pub fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A property name for a model name: invalid characters become `_`, a leading digit gets a
/// `_` prefix, a reserved word gets backticks.
pub fn property(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        format!("`{s}`")
    } else {
        s
    }
}

/// A Swift string literal's body (without quotes).
pub fn string_literal(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_control() => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// Text for one line of a comment: line breaks become spaces (a name with a newline must
/// not end the comment).
pub fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_valid_swift() {
        assert!(is_identifier("CustomTopK") && is_identifier("_x1"));
        assert!(!is_identifier("1x") && !is_identifier("a.b") && !is_identifier(""));
        assert_eq!(property("k"), "k");
        assert_eq!(property("default"), "`default`");
        assert_eq!(property("3d-size"), "_3d_size");
        assert_eq!(string_literal("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(comment("a\nb"), "a b");
    }
}
